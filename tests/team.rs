//! The supervisor's team view against real PostgreSQL: the counters and each agent's load follow
//! what customers and agents do (messages through the real ingest, replies through the real
//! outbox, assignment, close and reopen), the episode rows the writes keep are the ones the
//! definitions of `store::team` say, and the medians of each period come out exactly for a
//! constructed timeline.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::TestDb;
use secrecy::SecretString;
use serde_json::{Value, json};
use treeex::app::ingest::{self, IngestSettings};
use treeex::app::outbox::{self, Content, Outgoing};
use treeex::domain::{Email, Role, Slug, WaId, WorkspaceId};
use treeex::store::phones::{self, NewPhoneNumber};
use treeex::store::team::{self, PeriodTimes, TeamSnapshot};
use treeex::store::webhooks::Outcome;
use treeex::store::{Db, agent, members, workspaces};
use uuid::Uuid;

const NUMBER: &str = "100000000000001";
const WABA: &str = "200000000000001";
const OTHER_NUMBER: &str = "100000000000002";

fn settings() -> IngestSettings {
    IngestSettings::from_config(&treeex::config::Config::default().ingest)
}

/// A workspace with its owner (Olga), two agents (Ana, Ben) and one number.
struct Fx {
    db: TestDb,
    ws: WorkspaceId,
    olga: Uuid,
    ana: Uuid,
    ben: Uuid,
}

/// One episode row as the writes leave it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct Episode {
    opened_at: DateTime<Utc>,
    first_inbound_at: Option<DateTime<Utc>>,
    first_response_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
}

fn secs(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).unwrap()
}

/// A second after the current time: later than anything written so far.
fn soon() -> i64 {
    Utc::now().timestamp() + 1
}

/// Whole seconds before the current time: Meta's timestamps have no fraction, and a reply is
/// only allowed inside the customer's 24-hour window.
fn ago(seconds: i64) -> i64 {
    Utc::now().timestamp() - seconds
}

fn messages_body(number: &str, wa_id: &str, items: Vec<Value>) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": WABA, "changes": [{ "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550001111", "phone_number_id": number },
            "contacts": [{ "profile": { "name": "Customer" }, "wa_id": wa_id }],
            "messages": items,
        } }] }]
    })
}

fn text(wa_id: &str, wamid: &str, at: i64) -> Value {
    json!({ "from": wa_id, "id": wamid, "timestamp": at.to_string(), "type": "text",
            "text": { "body": "hello" } })
}

impl Fx {
    async fn new() -> Self {
        let db = TestDb::new().await;
        let ws = common::workspace_with_number(
            &db.db,
            common::Tenant {
                name: "Acme",
                owner: "olga@example.com",
                owner_name: Some("Olga"),
                number: NUMBER,
                waba: WABA,
                token: "token",
                mps: 80,
            },
        )
        .await;
        let olga: Uuid = sqlx::query_scalar(
            "SELECT user_id FROM workspace_members WHERE workspace_id = $1 AND role = 'OWNER'",
        )
        .bind(ws.0)
        .fetch_one(db.pool())
        .await
        .unwrap();
        let ana = member(&db.db, ws, "ana@example.com", Some("Ana")).await;
        let ben = member(&db.db, ws, "ben@example.com", None).await;
        Fx {
            db,
            ws,
            olga,
            ana,
            ben,
        }
    }

    fn db(&self) -> &Db {
        &self.db.db
    }

    async fn receive(&self, number: &str, wa_id: &str, items: Vec<Value>) {
        let body = messages_body(number, wa_id, items).to_string();
        let receipt = ingest::receive(self.db(), &settings(), body.as_bytes())
            .await
            .unwrap();
        assert_eq!(receipt.outcome, Outcome::Applied, "{receipt:?}");
    }

    /// The customer `wa_id` writes a text at `at` (seconds since the epoch).
    async fn writes(&self, wa_id: &str, wamid: &str, at: i64) {
        self.receive(NUMBER, wa_id, vec![text(wa_id, wamid, at)])
            .await;
    }

    /// A text to `wa_id` through the outbox, written by `agent` (None: the command line).
    async fn send(&self, wa_id: &str, agent: Option<Uuid>) {
        outbox::enqueue(
            self.db(),
            &Outgoing {
                workspace: self.ws,
                phone_number_id: NUMBER.into(),
                to: WaId::parse(wa_id).unwrap(),
                content: Content::Text {
                    body: "on it".into(),
                    preview_url: false,
                },
                reply_to: None,
                sent_by: agent,
            },
        )
        .await
        .unwrap();
    }

    async fn conversation(&self, wa_id: &str) -> Uuid {
        sqlx::query_scalar(
            "SELECT v.id FROM conversations v JOIN contacts c ON c.id = v.contact_id \
             WHERE v.workspace_id = $1 AND c.wa_id = $2",
        )
        .bind(self.ws.0)
        .bind(wa_id)
        .fetch_one(self.db.pool())
        .await
        .unwrap()
    }

    async fn episodes(&self, conversation: Uuid) -> Vec<Episode> {
        sqlx::query_as(
            "SELECT opened_at, first_inbound_at, first_response_at, closed_at \
             FROM conversation_episodes WHERE workspace_id = $1 AND conversation_id = $2 \
             ORDER BY opened_at, id",
        )
        .bind(self.ws.0)
        .bind(conversation)
        .fetch_all(self.db.pool())
        .await
        .unwrap()
    }

    async fn snapshot(&self) -> TeamSnapshot {
        team::snapshot(self.db(), self.ws, Utc::now())
            .await
            .unwrap()
    }

    /// (open, unattended) of one member in the snapshot.
    fn load(snapshot: &TeamSnapshot, user: Uuid) -> (i64, i64) {
        let agent = snapshot
            .agents
            .iter()
            .find(|a| a.user_id == user)
            .unwrap_or_else(|| panic!("{user} is not in {snapshot:#?}"));
        (agent.open, agent.unattended)
    }
}

async fn member(db: &Db, ws: WorkspaceId, email: &str, name: Option<&str>) -> Uuid {
    members::add(db, ws, &Email::parse(email).unwrap(), name, Role::Member)
        .await
        .unwrap()
        .user_id
}

/// (open, unassigned, unattended) of the workspace.
fn totals(snapshot: &TeamSnapshot) -> (i64, i64, i64) {
    (snapshot.open, snapshot.unassigned, snapshot.unattended)
}

#[tokio::test]
async fn an_empty_workspace_lists_its_members_and_measures_nothing() {
    let fx = Fx::new().await;
    let snapshot = fx.snapshot().await;
    assert_eq!(totals(&snapshot), (0, 0, 0));
    let mut names: Vec<(&str, Role, i64, i64)> = snapshot
        .agents
        .iter()
        .map(|a| (a.name.as_str(), a.role, a.open, a.unattended))
        .collect();
    names.sort_by_key(|n| n.0);
    // A member without a name goes by their email.
    assert_eq!(
        names,
        [
            ("Ana", Role::Member, 0, 0),
            ("Olga", Role::Owner, 0, 0),
            ("ben@example.com", Role::Member, 0, 0),
        ]
    );
    for period in [
        snapshot.today,
        snapshot.yesterday,
        snapshot.last_7_days,
        snapshot.previous_7_days,
    ] {
        assert_eq!(period, PeriodTimes::default());
    }
}

#[tokio::test]
async fn counts_follow_messages_replies_assignment_and_closing() {
    let fx = Fx::new().await;
    let (amy, bob, cat) = ("14155550001", "14155550002", "14155550003");
    fx.writes(amy, "wamid.A1", ago(600)).await;
    fx.writes(bob, "wamid.B1", ago(500)).await;
    let a = fx.conversation(amy).await;
    let b = fx.conversation(bob).await;
    assert_eq!(totals(&fx.snapshot().await), (2, 2, 2));

    agent::assign(fx.db(), fx.ws, a, Some(fx.ana))
        .await
        .unwrap();
    let s = fx.snapshot().await;
    assert_eq!(totals(&s), (2, 1, 2));
    assert_eq!(Fx::load(&s, fx.ana), (1, 1));
    assert_eq!(s.agents[0].user_id, fx.ana, "most loaded first");

    // Ana answers Amy: Amy no longer waits.
    fx.send(amy, Some(fx.ana)).await;
    let s = fx.snapshot().await;
    assert_eq!(totals(&s), (2, 1, 1));
    assert_eq!(Fx::load(&s, fx.ana), (1, 0));

    // A message from the command line is not an agent's reply: Bob still waits.
    fx.send(bob, None).await;
    assert_eq!(totals(&fx.snapshot().await), (2, 1, 1));

    // Amy reacts to her message: nothing to answer.
    fx.receive(
        NUMBER,
        amy,
        vec![
            json!({ "from": amy, "id": "wamid.A2", "timestamp": ago(400).to_string(),
                     "type": "reaction", "reaction": { "message_id": "wamid.A1", "emoji": "👍" } }),
        ],
    )
    .await;
    assert_eq!(totals(&fx.snapshot().await), (2, 1, 1));

    // Amy writes again: she waits again, on Ana.
    fx.writes(amy, "wamid.A3", soon()).await;
    let s = fx.snapshot().await;
    assert_eq!(totals(&s), (2, 1, 2));
    assert_eq!(Fx::load(&s, fx.ana), (1, 1));

    // A message older than Ana's reply arrives late: it was answered.
    agent::assign(fx.db(), fx.ws, b, Some(fx.ben))
        .await
        .unwrap();
    fx.send(bob, Some(fx.ben)).await;
    fx.writes(bob, "wamid.B0", ago(550)).await;
    let s = fx.snapshot().await;
    assert_eq!(totals(&s), (2, 0, 1));
    assert_eq!(Fx::load(&s, fx.ben), (1, 0));

    // Ana resolves Amy's conversation.
    agent::close(fx.db(), fx.ws, a, None).await.unwrap();
    let s = fx.snapshot().await;
    assert_eq!(totals(&s), (1, 0, 0));
    assert_eq!(Fx::load(&s, fx.ana), (0, 0));
    assert_eq!(s.agents[0].user_id, fx.ben);

    // Reopened by an agent, it is open again, and nobody waits for a reply.
    agent::reopen(fx.db(), fx.ws, a).await.unwrap();
    let s = fx.snapshot().await;
    assert_eq!(totals(&s), (2, 0, 0));
    assert_eq!(Fx::load(&s, fx.ana), (1, 0));

    // A new customer, taken by Olga, then handed to nobody.
    fx.writes(cat, "wamid.C1", ago(100)).await;
    let c = fx.conversation(cat).await;
    agent::assign(fx.db(), fx.ws, c, Some(fx.olga))
        .await
        .unwrap();
    assert_eq!(Fx::load(&fx.snapshot().await, fx.olga), (1, 1));
    agent::assign(fx.db(), fx.ws, c, None).await.unwrap();
    let s = fx.snapshot().await;
    assert_eq!(totals(&s), (3, 1, 1));
    assert_eq!(Fx::load(&s, fx.olga), (0, 0));
    let loads: i64 = s.agents.iter().map(|a| a.open).sum();
    assert_eq!(loads + s.unassigned, s.open);

    // The closed conversation the customer writes to again is open and waiting.
    agent::close(fx.db(), fx.ws, b, None).await.unwrap();
    assert_eq!(totals(&fx.snapshot().await), (2, 1, 1));
    fx.writes(bob, "wamid.B2", soon()).await;
    let s = fx.snapshot().await;
    assert_eq!(totals(&s), (3, 1, 2));
    assert_eq!(Fx::load(&s, fx.ben), (1, 1));
}

#[tokio::test]
async fn another_workspace_counts_nothing_here() {
    let fx = Fx::new().await;
    let other = workspaces::create(
        fx.db(),
        workspaces::NewWorkspace {
            slug: &Slug::parse("globex").unwrap(),
            name: "Globex",
            owner: Some((&Email::parse("gus@example.com").unwrap(), Some("Gus"))),
        },
    )
    .await
    .unwrap()
    .workspace
    .workspace_id();
    phones::add(
        fx.db(),
        other,
        NewPhoneNumber {
            phone_number_id: OTHER_NUMBER,
            display_phone_number: "+1 555 0200",
            waba_id: WABA,
            access_token: &SecretString::from("token"),
            mps: 80,
        },
    )
    .await
    .unwrap();
    let customer = "14155550009";
    fx.receive(
        OTHER_NUMBER,
        customer,
        vec![text(customer, "wamid.G1", ago(60))],
    )
    .await;
    let theirs = team::snapshot(fx.db(), other, Utc::now()).await.unwrap();
    assert_eq!(totals(&theirs), (1, 1, 1));
    assert_eq!(theirs.today.conversations, 1);
    assert_eq!(theirs.agents.len(), 1);
    let ours = fx.snapshot().await;
    assert_eq!(totals(&ours), (0, 0, 0));
    assert_eq!(ours.today, PeriodTimes::default());
    assert_eq!(ours.agents.len(), 3);
}

#[tokio::test]
async fn the_writes_keep_one_episode_row_per_opening() {
    let fx = Fx::new().await;
    let amy = "14155550001";
    let first = ago(900);
    fx.writes(amy, "wamid.A1", first).await;
    let a = fx.conversation(amy).await;
    let waiting = Episode {
        opened_at: secs(first),
        first_inbound_at: Some(secs(first)),
        first_response_at: None,
        closed_at: None,
    };
    assert_eq!(fx.episodes(a).await, std::slice::from_ref(&waiting));

    // A second message joins the episode; one older than the first, arriving late, starts it.
    fx.writes(amy, "wamid.A2", first + 60).await;
    assert_eq!(fx.episodes(a).await, [waiting]);
    fx.writes(amy, "wamid.A0", first - 60).await;
    let waiting = Episode {
        opened_at: secs(first - 60),
        first_inbound_at: Some(secs(first - 60)),
        first_response_at: None,
        closed_at: None,
    };
    assert_eq!(fx.episodes(a).await, std::slice::from_ref(&waiting));
    // The same webhook again changes nothing.
    fx.writes(amy, "wamid.A0", first - 60).await;
    assert_eq!(fx.episodes(a).await, std::slice::from_ref(&waiting));

    // The command line's message is no response.
    fx.send(amy, None).await;
    assert_eq!(fx.episodes(a).await, std::slice::from_ref(&waiting));

    // The first agent reply is the response; the next one changes nothing.
    let before = Utc::now();
    fx.send(amy, Some(fx.ana)).await;
    let after = Utc::now();
    let episodes = fx.episodes(a).await;
    let responded = episodes[0].first_response_at.expect("a first response");
    assert!(before <= responded && responded <= after, "{responded}");
    assert_eq!(
        episodes,
        [Episode {
            first_response_at: Some(responded),
            ..waiting.clone()
        }]
    );
    fx.send(amy, Some(fx.ben)).await;
    assert_eq!(fx.episodes(a).await, episodes);

    // The close ends it, once.
    let before = Utc::now();
    agent::close(fx.db(), fx.ws, a, None).await.unwrap();
    let after = Utc::now();
    let episodes = fx.episodes(a).await;
    let closed = episodes[0].closed_at.expect("closed");
    assert!(before <= closed && closed <= after, "{closed}");
    agent::close(fx.db(), fx.ws, a, None).await.unwrap();
    assert_eq!(fx.episodes(a).await, episodes);

    // The customer writes again: a second episode.
    let again = ago(120);
    fx.writes(amy, "wamid.A3", again).await;
    let episodes = fx.episodes(a).await;
    assert_eq!(episodes.len(), 2);
    assert_eq!(
        episodes[1],
        Episode {
            opened_at: secs(again),
            first_inbound_at: Some(secs(again)),
            first_response_at: None,
            closed_at: None,
        }
    );
    // Reopening an open conversation begins nothing.
    agent::reopen(fx.db(), fx.ws, a).await.unwrap();
    assert_eq!(fx.episodes(a).await.len(), 2);
    agent::close(fx.db(), fx.ws, a, None).await.unwrap();
    assert!(fx.episodes(a).await[1].closed_at.is_some());

    // An agent reopens it: a third episode, from the reopen, waiting for the customer. A reply
    // before the customer writes is no response to anything.
    let before = Utc::now();
    agent::reopen(fx.db(), fx.ws, a).await.unwrap();
    let after = Utc::now();
    let episodes = fx.episodes(a).await;
    assert_eq!(episodes.len(), 3);
    let reopened = &episodes[2];
    assert!(before <= reopened.opened_at && reopened.opened_at <= after);
    assert_eq!(
        (
            reopened.first_inbound_at,
            reopened.first_response_at,
            reopened.closed_at
        ),
        (None, None, None)
    );
    fx.send(amy, Some(fx.ana)).await;
    assert_eq!(fx.episodes(a).await[2].first_response_at, None);
    let later = soon();
    fx.writes(amy, "wamid.A4", later).await;
    assert_eq!(fx.episodes(a).await[2].first_inbound_at, Some(secs(later)));
    // The reply may come within the second of Meta's timestamp; the clock only cares it is set.
    fx.send(amy, Some(fx.ana)).await;
    assert!(fx.episodes(a).await[2].first_response_at.is_some());

    // A reaction or a WhatsApp notice to a closed conversation begins no episode.
    agent::close(fx.db(), fx.ws, a, None).await.unwrap();
    fx.receive(
        NUMBER,
        amy,
        vec![
            json!({ "from": amy, "id": "wamid.A5", "timestamp": ago(5).to_string(),
                     "type": "system", "system": { "body": "User identity changed",
                                                   "type": "customer_identity_changed" } }),
        ],
    )
    .await;
    fx.receive(
        NUMBER,
        amy,
        vec![
            json!({ "from": amy, "id": "wamid.A6", "timestamp": ago(4).to_string(),
                     "type": "reaction", "reaction": { "message_id": "wamid.A4", "emoji": "🙏" } }),
        ],
    )
    .await;
    let episodes = fx.episodes(a).await;
    assert_eq!(episodes.len(), 3);
    assert!(episodes.iter().all(|e| e.closed_at.is_some()));
    // (The conversation itself opens again, as it always did; nobody waits on it.)
    assert_eq!(totals(&fx.snapshot().await), (1, 1, 0));
}

/// The UTC instant `d` March 2025 at `h:m:s`.
fn march(d: u32, h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, d, h, m, s).unwrap()
}

#[tokio::test]
async fn each_period_has_the_medians_of_its_responses_and_closes() {
    let fx = Fx::new().await;
    // Episodes made by the real writes (a customer message, an agent reply, maybe a close), then
    // moved to the timeline below: (opened, responded, closed).
    type Timeline = (DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let timeline: [Timeline; 9] = [
        // E1: answered in 60 s, resolved in 3600 s, today.
        (
            march(10, 8, 0, 0),
            Some(march(10, 8, 1, 0)),
            Some(march(10, 9, 0, 0)),
        ),
        // E2: answered in 180 s today, still open.
        (march(10, 10, 0, 0), Some(march(10, 10, 3, 0)), None),
        // E3: opened yesterday, answered (600 s) at midnight: today's; resolved in 1800 s today.
        (
            march(9, 23, 50, 0),
            Some(march(10, 0, 0, 0)),
            Some(march(10, 0, 20, 0)),
        ),
        // E4: yesterday, 120 s and 43 199 s.
        (
            march(9, 12, 0, 0),
            Some(march(9, 12, 2, 0)),
            Some(march(9, 23, 59, 59)),
        ),
        // E5: five days ago, 600 s and 3600 s.
        (
            march(5, 9, 0, 0),
            Some(march(5, 9, 10, 0)),
            Some(march(5, 10, 0, 0)),
        ),
        // E6: opened before the last 7 days began, answered (3600 s) exactly as they began,
        // resolved in 7200 s within them.
        (
            march(3, 14, 0, 0),
            Some(march(3, 15, 0, 0)),
            Some(march(3, 16, 0, 0)),
        ),
        // E7: the previous 7 days, 300 s and 86 400 s.
        (
            march(1, 10, 0, 0),
            Some(march(1, 10, 5, 0)),
            Some(march(2, 10, 0, 0)),
        ),
        // E8: after `now`: in no period.
        (march(10, 16, 0, 0), Some(march(10, 16, 1, 0)), None),
        // E9: before the previous 7 days.
        (
            march(1, 10, 0, 0) - Duration::days(10),
            Some(march(1, 10, 0, 0) - Duration::days(10) + Duration::seconds(30)),
            Some(march(1, 10, 0, 0) - Duration::days(9)),
        ),
    ];
    let now = march(10, 15, 0, 0);
    for (i, (opened, responded, closed)) in timeline.iter().enumerate() {
        let customer = format!("1415555{:04}", 100 + i);
        fx.writes(&customer, &format!("wamid.T{i}"), ago(60)).await;
        let conversation = fx.conversation(&customer).await;
        if responded.is_some() {
            fx.send(&customer, Some(fx.ana)).await;
        }
        if closed.is_some() {
            agent::close(fx.db(), fx.ws, conversation, None)
                .await
                .unwrap();
        }
        let episode = fx.episodes(conversation).await;
        assert_eq!(episode.len(), 1);
        assert_eq!(episode[0].first_response_at.is_some(), responded.is_some());
        assert_eq!(episode[0].closed_at.is_some(), closed.is_some());
        sqlx::query(
            "UPDATE conversation_episodes SET opened_at = $2, first_inbound_at = $2, \
                 first_response_at = $3, closed_at = $4 \
             WHERE conversation_id = $1",
        )
        .bind(conversation)
        .bind(opened)
        .bind(responded)
        .bind(closed)
        .execute(fx.db.pool())
        .await
        .unwrap();
    }

    let s = team::snapshot(fx.db(), fx.ws, now).await.unwrap();
    let period = |first_response: f64, resolution: f64, conversations: i64| PeriodTimes {
        first_response_secs: Some(first_response),
        resolution_secs: Some(resolution),
        conversations,
    };
    // Responses 60, 180, 600; closes 3600, 1800; opened E1, E2.
    assert_eq!(s.today, period(180.0, 2700.0, 2));
    // Response 120; close 43 199; opened E3, E4.
    assert_eq!(s.yesterday, period(120.0, 43_199.0, 2));
    // Responses 60, 120, 180, 600, 600, 3600; closes 1800, 3600, 3600, 7200, 43 199; opened
    // E1 to E5.
    assert_eq!(s.last_7_days, period(390.0, 3600.0, 5));
    // Response 300; close 86 400; opened E6, E7.
    assert_eq!(s.previous_7_days, period(300.0, 86_400.0, 2));

    // A day with nothing to measure says so.
    let quiet = team::snapshot(fx.db(), fx.ws, march(10, 15, 0, 0) + Duration::days(30))
        .await
        .unwrap();
    assert_eq!(quiet.today, PeriodTimes::default());
    assert_eq!(quiet.last_7_days, PeriodTimes::default());
    // Open work does not depend on the periods: E2 and E8 are open.
    assert_eq!(quiet.open, 2);
}

#[tokio::test]
async fn the_team_view_reads_its_indexes() {
    let fx = Fx::new().await;
    let mut tx = fx.db.pool().begin().await.unwrap();
    // Tiny tables would be scanned whatever the indexes; ask the planner about the index path.
    sqlx::query("SET LOCAL enable_seqscan = off")
        .execute(&mut *tx)
        .await
        .unwrap();
    let mut plans = Vec::new();
    for sql in [
        "SELECT assignee_id, count(*), count(awaiting_reply_since) FROM conversations \
         WHERE workspace_id = gen_random_uuid() AND status = 'OPEN' GROUP BY assignee_id",
        "SELECT count(*) FROM conversation_episodes WHERE workspace_id = gen_random_uuid() \
         AND first_response_at >= now() - interval '7 days' AND first_response_at < now()",
        "SELECT count(*) FROM conversation_episodes WHERE workspace_id = gen_random_uuid() \
         AND closed_at >= now() - interval '7 days' AND closed_at < now()",
        "SELECT count(*) FROM conversation_episodes WHERE workspace_id = gen_random_uuid() \
         AND opened_at >= now() - interval '7 days' AND opened_at < now()",
    ] {
        let lines: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")))
            .fetch_all(&mut *tx)
            .await
            .unwrap();
        plans.push(lines.join("\n"));
    }
    for (plan, index) in plans.iter().zip([
        "conversations_team_idx",
        "conversation_episodes_response_idx",
        "conversation_episodes_closed_idx",
        "conversation_episodes_opened_idx",
    ]) {
        assert!(plan.contains(index), "{index}:\n{plan}");
    }
}

#[tokio::test]
async fn each_members_day_counts_their_replies_first_responses_and_resolutions() {
    let fx = Fx::new().await;
    let (amy, bob) = ("15550100001", "15550100002");
    fx.writes(amy, "wamid.D1", ago(600)).await;
    fx.writes(bob, "wamid.D2", ago(300)).await;
    let a = fx.conversation(amy).await;

    // Ana answers Amy twice: two replies, one first response (about 600 s after Amy wrote).
    fx.send(amy, Some(fx.ana)).await;
    fx.send(amy, Some(fx.ana)).await;
    // Ben answers Bob; the command line's message to Bob counts for nobody.
    fx.send(bob, None).await;
    fx.send(bob, Some(fx.ben)).await;
    // Ana resolves Amy's conversation; an outside close counts for nobody.
    agent::close(fx.db(), fx.ws, a, Some(fx.ana)).await.unwrap();
    let b = fx.conversation(bob).await;
    agent::close(fx.db(), fx.ws, b, None).await.unwrap();

    let s = fx.snapshot().await;
    let day = |user: Uuid| {
        let agent = s.agents.iter().find(|a| a.user_id == user).unwrap();
        (
            agent.replied_today,
            agent.first_response_today_secs,
            agent.resolved_today,
        )
    };
    let (replies, first, resolved) = day(fx.ana);
    assert_eq!((replies, resolved), (2, 1));
    let first = first.expect("Ana's first response");
    assert!((600.0..660.0).contains(&first), "{first}");
    let (replies, first, resolved) = day(fx.ben);
    assert_eq!((replies, resolved), (1, 0));
    let first = first.expect("Ben's first response");
    assert!((300.0..360.0).contains(&first), "{first}");
    assert_eq!(day(fx.olga), (0, None, 0));
}
