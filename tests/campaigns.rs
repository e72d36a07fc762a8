//! Campaigns in one process, against real PostgreSQL and the Cloud API simulator: who is in an
//! audience (tags any-of, all-of, none-of, and consent by the template's category and the
//! workspace's setting), what each contact's parameters render to, a thousand contacts run to
//! COMPLETED with exact counters, pause and resume, cancel, sending the failed recipients again,
//! and who may move a campaign (and which moves its status allows).
//!
//! Waits are bounded polls that fail with what they last saw; the checks that something does
//! *not* happen (a paused campaign sends no more) watch for a set time and fail at once if it
//! does.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::{Duration, Instant};

use common::TestDb;
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::Row;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use treeex::app::campaigns::{
    self, CampaignError, CampaignRunner, Created, Definition, RunnerSettings,
};
use treeex::app::outbox::{OutboxWorker, WorkerSettings};
use treeex::cloud_api::graph::{GraphClient, NewTemplate};
use treeex::domain::campaign::Audience;
use treeex::domain::{CampaignStatus, Email, Move, Role, WorkspaceId};
use treeex::simulator::{BusinessNumber, Faults, RetryPolicy, Simulator, SimulatorConfig};
use treeex::store::Db;
use treeex::store::campaigns::Campaign;
use uuid::Uuid;

const NUMBER: &str = "106540352242922";
const WABA: &str = "102290129340398";
const SECRET: &str = "campaign-test-secret";
const TOKEN: &str = "campaign-token";
/// How long any one wait may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(45);

// ---- the world: a workspace, its number, the listener and the simulator ------------------------

struct World {
    db: TestDb,
    workspace: WorkspaceId,
    sim: Simulator,
    graph: GraphClient,
    /// Where simulators post their webhooks (the listener).
    webhook_url: String,
    http: reqwest::Client,
    stop: CancellationToken,
}

/// The simulator as these tests want it: no throughput limit of its own (treeex's pacing is
/// what holds the number's cap), quick statuses batched into few POSTs, quick retries.
fn sim_config(webhook_url: &str, configure: impl FnOnce(&mut SimulatorConfig)) -> SimulatorConfig {
    let mut config = SimulatorConfig {
        webhook_url: Some(webhook_url.to_string()),
        app_secret: SECRET.into(),
        mps: 0,
        delays: (Duration::from_millis(1), Duration::from_millis(5)),
        numbers: vec![BusinessNumber {
            phone_number_id: NUMBER.into(),
            display_phone_number: "15550100000".into(),
            waba_id: WABA.into(),
        }],
        faults: Faults {
            batch: 50,
            ..Faults::default()
        },
        retry: RetryPolicy {
            first_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
            give_up_after: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        },
        template_review: Duration::from_millis(20),
        ..SimulatorConfig::default()
    };
    configure(&mut config);
    config
}

fn graph_for(sim: &Simulator) -> GraphClient {
    GraphClient::new(&sim.base_url(), "v23.0", Duration::from_secs(10)).unwrap()
}

impl World {
    /// A workspace with one number (`mps` its send cap), the listener, and the simulator
    /// posting its webhooks to the listener; the simulator's templates synced.
    async fn start(mps: i32, configure: impl FnOnce(&mut SimulatorConfig)) -> World {
        treeex::install_tls_provider();
        let db = TestDb::new().await;
        let workspace = common::workspace_with_number(
            &db.db,
            common::Tenant {
                name: "Acme",
                owner: "owner@example.com",
                owner_name: None,
                number: NUMBER,
                waba: WABA,
                token: TOKEN,
                mps,
            },
        )
        .await;
        let stop = CancellationToken::new();
        let webhook_url = common::start_listener(&db.db, SECRET, &stop).await;
        let sim = Simulator::start(sim_config(&webhook_url, configure))
            .await
            .unwrap();
        let graph = graph_for(&sim);
        let world = World {
            db,
            workspace,
            sim,
            graph,
            webhook_url,
            http: reqwest::Client::new(),
            stop,
        };
        let synced = treeex::app::templates::sync(world.db(), &world.graph, workspace, None)
            .await
            .unwrap();
        assert_eq!(synced[0].waba_id, WABA);
        world
    }

    fn db(&self) -> &Db {
        &self.db.db
    }

    /// The campaign runner, until the test ends.
    fn run_runner(&self) {
        let runner = CampaignRunner::new(
            self.db().clone(),
            RunnerSettings {
                tick: Duration::from_millis(50),
                ..RunnerSettings::default()
            },
        );
        tokio::spawn(runner.run(self.stop.clone()));
    }

    /// An outbox worker sending through `graph` until `stop`.
    fn run_worker(&self, graph: &GraphClient, stop: &CancellationToken) -> JoinHandle<()> {
        self.run_worker_claiming(graph, stop, WorkerSettings::default().batch)
    }

    /// An outbox worker that claims `batch` messages at a time.
    fn run_worker_claiming(
        &self,
        graph: &GraphClient,
        stop: &CancellationToken,
        batch: i64,
    ) -> JoinHandle<()> {
        let worker = OutboxWorker::new(
            self.db().clone(),
            graph.clone(),
            WorkerSettings {
                retry_unit: Duration::from_millis(20),
                batch,
                ..WorkerSettings::default()
            },
        );
        tokio::spawn(worker.run(stop.clone()))
    }

    /// The runner and a worker sending to the world's simulator, until the test ends.
    fn run_campaigns(&self) {
        self.run_runner();
        self.run_worker(&self.graph, &self.stop);
    }

    /// Imports contacts from CSV text (`contact import`); every row must be taken.
    async fn import(&self, csv: &str) {
        let report = treeex::app::contact_import::import(self.db(), self.workspace, csv.as_bytes())
            .await
            .unwrap();
        assert_eq!(report.rejected, 0, "{report:?}");
    }

    async fn create(
        &self,
        name: &str,
        template: &str,
        params: &[&str],
        audience: Audience,
    ) -> Result<Created, CampaignError> {
        campaigns::create(
            self.db(),
            &Definition {
                workspace: self.workspace,
                name: name.into(),
                phone_number_id: NUMBER.into(),
                template: template.into(),
                language: "en_US".into(),
                audience,
                parameters: params.iter().map(|p| p.to_string()).collect(),
                at: None,
                created_by: None,
            },
        )
        .await
    }

    async fn control(
        &self,
        id: Uuid,
        actor: Role,
        attempted: Move,
    ) -> Result<Campaign, CampaignError> {
        campaigns::control(self.db(), self.workspace, id, Some(actor), attempted).await
    }

    /// Creates a campaign to every contact and starts it as the OWNER.
    async fn start_campaign(&self, name: &str, template: &str, params: &[&str]) -> Campaign {
        let created = self
            .create(name, template, params, Audience::default())
            .await
            .unwrap();
        let started = self
            .control(created.campaign.id, Role::Owner, Move::Start)
            .await
            .unwrap();
        assert_eq!(started.status, CampaignStatus::Running);
        started
    }

    async fn campaign(&self, id: Uuid) -> Campaign {
        treeex::store::campaigns::get(self.db(), self.workspace, id)
            .await
            .unwrap()
    }

    async fn wait_for_status(&self, id: Uuid, wanted: CampaignStatus) -> Campaign {
        eventually(
            &format!("campaign {id} to be {wanted}"),
            move || async move {
                let campaign = self.campaign(id).await;
                if campaign.status == wanted {
                    Ok(campaign)
                } else {
                    Err(describe(&campaign))
                }
            },
        )
        .await
    }

    /// Every recipient of the campaign, by the contact's wa_id.
    async fn recipients(&self, id: Uuid) -> BTreeMap<String, Recipient> {
        let rows: Vec<RecipientRow> = sqlx::query_as(
            "SELECT k.wa_id, cm.status::text AS status, cm.message_id, cm.error_code, \
                    cm.error_details \
             FROM campaign_messages cm JOIN contacts k ON k.id = cm.contact_id \
             WHERE cm.campaign_id = $1",
        )
        .bind(id)
        .fetch_all(self.db.pool())
        .await
        .unwrap();
        rows.into_iter()
            .map(|row| (row.wa_id, row.recipient))
            .collect()
    }

    /// The campaign's counters and the same numbers counted from its recipient rows, read in
    /// one statement (one snapshot, even while statuses stream in).
    async fn funnel(&self, id: Uuid) -> (Funnel, Funnel) {
        let row = sqlx::query(
            "SELECT c.total_contacts::int8, c.sent_count::int8, c.delivered_count::int8, \
                    c.read_count::int8, c.replied_count::int8, c.failed_count::int8, \
                    c.skipped_count::int8, \
                    count(cm.id), \
                    count(cm.id) FILTER (WHERE cm.status IN ('sent', 'delivered', 'read')), \
                    count(cm.id) FILTER (WHERE cm.status IN ('delivered', 'read')), \
                    count(cm.id) FILTER (WHERE cm.status = 'read'), \
                    count(cm.id) FILTER (WHERE cm.replied_at IS NOT NULL), \
                    count(cm.id) FILTER (WHERE cm.status = 'failed'), \
                    count(cm.id) FILTER (WHERE cm.status = 'skipped') \
             FROM campaigns c LEFT JOIN campaign_messages cm ON cm.campaign_id = c.id \
             WHERE c.id = $1 GROUP BY c.id",
        )
        .bind(id)
        .fetch_one(self.db.pool())
        .await
        .unwrap();
        let at = |first: usize| Funnel {
            total: row.get(first),
            sent: row.get(first + 1),
            delivered: row.get(first + 2),
            read: row.get(first + 3),
            replied: row.get(first + 4),
            failed: row.get(first + 5),
            skipped: row.get(first + 6),
        };
        (at(0), at(7))
    }

    /// The counters equal the recipient rows; returns them.
    async fn counters_match_rows(&self, id: Uuid) -> Funnel {
        let (counters, rows) = self.funnel(id).await;
        assert_eq!(
            counters, rows,
            "the campaign's counters (left) differ from its recipient rows (right)"
        );
        counters
    }

    /// The campaign's rows in the outbox (any state) and its recipients whose message is
    /// written and not answered yet.
    async fn in_flight(&self, id: Uuid) -> (i64, i64) {
        sqlx::query_as(
            "SELECT (SELECT count(*) FROM outbox WHERE campaign_id = $1), \
                    (SELECT count(*) FROM campaign_messages \
                     WHERE campaign_id = $1 AND status = 'pending')",
        )
        .bind(id)
        .fetch_one(self.db.pool())
        .await
        .unwrap()
    }

    async fn sim_json(&self, sim: &Simulator, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", sim.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Every message the simulator accepted, in order.
    async fn sim_messages(&self, sim: &Simulator) -> Vec<Value> {
        let all = self.sim_json(sim, "/_sim/messages").await;
        all.as_array().expect("/_sim/messages is an array").clone()
    }

    async fn sim_count(&self) -> usize {
        self.sim_messages(&self.sim).await.len()
    }

    /// Waits until the contact's consent is `opted_in`.
    async fn wait_consent(&self, wa_id: &str, opted_in: bool) {
        eventually(
            &format!("{wa_id} to be opted_in = {opted_in}"),
            move || async move {
                let now: bool =
                    sqlx::query_scalar("SELECT opted_in FROM contacts WHERE wa_id = $1")
                        .bind(wa_id)
                        .fetch_one(self.db.pool())
                        .await
                        .unwrap();
                if now == opted_in {
                    Ok(())
                } else {
                    Err(format!("opted_in = {now}"))
                }
            },
        )
        .await;
    }

    /// Creates a template at the simulator (through treeex) and waits for its approval.
    async fn create_template(&self, name: &str, category: &str, body: &str, example: &[&str]) {
        let new = NewTemplate {
            name: name.into(),
            language: "en_US".into(),
            category: category.into(),
            components: json!([{ "type": "BODY", "text": body, "example": { "body_text": [example] } }]),
            parameter_format: None,
        };
        treeex::app::templates::create(self.db(), &self.graph, self.workspace, NUMBER, &new)
            .await
            .unwrap();
        eventually(
            &format!("template {name} to be APPROVED"),
            move || async move {
                let (status, text): (String, String) = sqlx::query_as(
                    "SELECT status::text, components -> 0 ->> 'text' FROM templates \
                     WHERE name = $1 AND language = 'en_US'",
                )
                .bind(name)
                .fetch_one(self.db.pool())
                .await
                .unwrap();
                if status == "APPROVED" && text == body {
                    Ok(())
                } else {
                    Err(format!("{status}: {text}"))
                }
            },
        )
        .await;
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
struct Recipient {
    status: String,
    message_id: Option<Uuid>,
    error_code: Option<i32>,
    error_details: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RecipientRow {
    wa_id: String,
    #[sqlx(flatten)]
    recipient: Recipient,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Funnel {
    total: i64,
    sent: i64,
    delivered: i64,
    read: i64,
    replied: i64,
    failed: i64,
    skipped: i64,
}

fn describe(campaign: &Campaign) -> String {
    format!(
        "{} (of {}: sent {}, delivered {}, read {}, failed {}, skipped {})",
        campaign.status,
        campaign.total_contacts,
        campaign.sent_count,
        campaign.delivered_count,
        campaign.read_count,
        campaign.failed_count,
        campaign.skipped_count
    )
}

/// Polls `probe` until it answers `Ok`, failing with its last `Err` after [`PATIENCE`].
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        match probe().await {
            Ok(done) => return done,
            Err(seen) => assert!(
                Instant::now() < deadline,
                "timed out after {PATIENCE:?} waiting for {what}; last seen: {seen}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// How many messages the simulator accepted for each recipient.
fn per_recipient(messages: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for message in messages {
        let to = message["to"]
            .as_str()
            .expect("a message has `to`")
            .to_string();
        *counts.entry(to).or_insert(0) += 1;
    }
    counts
}

/// The recipients messaged more than once (none, in every test).
fn twice(counts: &BTreeMap<String, usize>) -> Vec<(&String, &usize)> {
    counts.iter().filter(|(_, n)| **n > 1).collect()
}

fn audience(any: &[&str], all: &[&str], none: &[&str]) -> Audience {
    let names = |tags: &[&str]| tags.iter().map(|t| t.to_string()).collect();
    Audience {
        any: names(any),
        all: names(all),
        none: names(none),
    }
}

/// A contact of the audience tests.
struct Person {
    wa_id: &'static str,
    name: &'static str,
    tags: &'static [&'static str],
    opted_in: bool,
}

impl Person {
    /// Whether the audience holds this person: any of `any` (everyone when empty), all of
    /// `all`, none of `none`, and opted in when consent is needed.
    fn is_in(&self, audience: &Audience, opt_in: bool) -> bool {
        let has = |tag: &String| self.tags.contains(&tag.as_str());
        (audience.any.is_empty() || audience.any.iter().any(has))
            && audience.all.iter().all(has)
            && !audience.none.iter().any(has)
            && (!opt_in || self.opted_in)
    }
}

const PEOPLE: &[Person] = &[
    Person {
        wa_id: "351910000001",
        name: "Ana",
        tags: &["vip"],
        opted_in: true,
    },
    Person {
        wa_id: "351910000002",
        name: "Bruno",
        tags: &["promo"],
        opted_in: true,
    },
    Person {
        wa_id: "351910000003",
        name: "Carla",
        tags: &["vip", "promo"],
        opted_in: true,
    },
    Person {
        wa_id: "351910000004",
        name: "Duarte",
        tags: &["vip", "promo", "churned"],
        opted_in: true,
    },
    Person {
        wa_id: "351910000005",
        name: "Eva",
        tags: &["vip"],
        opted_in: false,
    },
    Person {
        wa_id: "351910000006",
        name: "Filipe",
        tags: &["promo", "churned"],
        opted_in: true,
    },
    Person {
        wa_id: "351910000007",
        name: "Gil",
        tags: &[],
        opted_in: true,
    },
    Person {
        wa_id: "351910000008",
        name: "Helena",
        tags: &["vip", "promo"],
        opted_in: false,
    },
    Person {
        wa_id: "351910000009",
        name: "Ines",
        tags: &["churned"],
        opted_in: false,
    },
    Person {
        wa_id: "351910000010",
        name: "Joao",
        tags: &["lead"],
        opted_in: false,
    },
];

fn people_csv(people: &[Person]) -> String {
    let mut csv = String::from("phone,name,tags,opted_in\n");
    for p in people {
        csv.push_str(&format!(
            "{},{},{},{}\n",
            p.wa_id,
            p.name,
            p.tags.join(";"),
            if p.opted_in { "yes" } else { "no" }
        ));
    }
    csv
}

/// `count` opted-in contacts named after their number; their wa_ids.
fn numbered_contacts(prefix: &str, count: usize) -> (String, Vec<String>) {
    let mut csv = String::from("phone,name,opted_in\n");
    let mut wa_ids = Vec::with_capacity(count);
    for n in 0..count {
        let wa_id = format!("{prefix}{n:05}");
        csv.push_str(&format!("{wa_id},Customer {n},yes\n"));
        wa_ids.push(wa_id);
    }
    (csv, wa_ids)
}

// ---- audience ----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audience_is_tags_any_all_and_none_of_and_never_an_opted_out_contact() {
    let world = World::start(80, |_| {}).await;
    world.import(&people_csv(PEOPLE)).await;

    let cases = [
        ("tagged vip or promo", audience(&["vip", "promo"], &[], &[])),
        (
            "tagged vip and promo",
            audience(&[], &["vip", "promo"], &[]),
        ),
        ("not churned", audience(&[], &[], &["churned"])),
        (
            "vip or promo, promo, not churned",
            audience(&["vip", "promo"], &["promo"], &["churned"]),
        ),
    ];
    let mut selections: Vec<BTreeSet<&str>> = Vec::new();
    let mut started = Vec::new();
    for (name, audience) in &cases {
        let expected: BTreeSet<&str> = PEOPLE
            .iter()
            .filter(|p| p.is_in(audience, true))
            .map(|p| p.wa_id)
            .collect();
        // The fixtures make every case a real choice: someone is in, someone with the right
        // tags is out only for want of consent, and someone is out by tags alone.
        assert!(!expected.is_empty(), "{name}");
        assert!(
            PEOPLE
                .iter()
                .any(|p| p.is_in(audience, false) && !p.opted_in),
            "{name}: no opted-out contact has the tags"
        );
        assert!(
            PEOPLE
                .iter()
                .any(|p| p.opted_in && !p.is_in(audience, false)),
            "{name}: the tags leave no one out"
        );

        let created = world
            .create(name, "spring_sale", &["{name}"], audience.clone())
            .await
            .unwrap();
        assert_eq!(created.campaign.status, CampaignStatus::Draft);
        assert!(created.opt_in_required, "spring_sale is MARKETING");
        assert_eq!(
            created.audience_size,
            expected.len() as i64,
            "{name}: audience size"
        );
        let id = created.campaign.id;
        let running = world.control(id, Role::Owner, Move::Start).await.unwrap();
        assert_eq!(
            i64::from(running.total_contacts),
            created.audience_size,
            "{name}: the snapshot holds the audience"
        );
        let snapshot = world.recipients(id).await;
        let snapshot: BTreeSet<&str> = snapshot.keys().map(String::as_str).collect();
        assert_eq!(snapshot, expected, "{name}: the recipients");
        assert!(
            !selections.contains(&expected),
            "{name}: selects the same contacts as an earlier case"
        );
        selections.push(expected);
        started.push(id);
    }

    // A recipient who opts out after the start is skipped when their turn comes, not sent to.
    // (The consent on file dates from before the test: Meta's timestamps are whole seconds, and
    // a STOP stamped within the second of the import would count as the older event.)
    sqlx::query(
        "UPDATE contacts SET opted_in_at = opted_in_at - interval '1 minute', \
             opted_out_at = opted_out_at - interval '1 minute'",
    )
    .execute(world.db.pool())
    .await
    .unwrap();
    let first = started[0];
    let leaver = PEOPLE
        .iter()
        .find(|p| p.opted_in && p.is_in(&cases[0].1, true))
        .unwrap();
    world
        .sim
        .inbound(NUMBER, leaver.wa_id, leaver.name, "STOP")
        .await
        .unwrap();
    world.wait_consent(leaver.wa_id, false).await;
    for other in &started[1..] {
        world
            .control(*other, Role::Owner, Move::Cancel)
            .await
            .unwrap();
    }
    world.run_campaigns();
    let done = world
        .wait_for_status(first, CampaignStatus::Completed)
        .await;
    assert_eq!(done.skipped_count, 1, "{}", describe(&done));
    let recipients = world.recipients(first).await;
    let left = &recipients[leaver.wa_id];
    assert_eq!(left.status, "skipped");
    assert_eq!(left.message_id, None);
    assert!(
        left.error_details
            .as_deref()
            .is_some_and(|why| why.contains("has not opted in")),
        "{left:?}"
    );
    let sent = per_recipient(&world.sim_messages(&world.sim).await);
    let expected: BTreeSet<&str> = selections[0]
        .iter()
        .copied()
        .filter(|w| *w != leaver.wa_id)
        .collect();
    assert_eq!(
        sent.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        expected,
        "messaged: the audience but the one who left"
    );
    assert!(twice(&sent).is_empty(), "{sent:?}");
    world.counters_match_rows(first).await;
}

// ---- consent for UTILITY templates -------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_utility_campaign_needs_consent_unless_the_workspace_says_only_marketing_does() {
    let world = World::start(80, |_| {}).await;
    world.import(&people_csv(PEOPLE)).await;
    let everyone: BTreeSet<&str> = PEOPLE.iter().map(|p| p.wa_id).collect();
    let opted_in: BTreeSet<&str> = PEOPLE
        .iter()
        .filter(|p| p.opted_in)
        .map(|p| p.wa_id)
        .collect();
    assert!(opted_in.len() < everyone.len());

    // By default a UTILITY template goes only to those who opted in.
    let by_default = world
        .create(
            "utility, default",
            "order_update",
            &["{name}", "#42"],
            Audience::default(),
        )
        .await
        .unwrap();
    assert!(by_default.opt_in_required);
    assert_eq!(by_default.audience_size, opted_in.len() as i64);
    let id = by_default.campaign.id;
    let running = world.control(id, Role::Owner, Move::Start).await.unwrap();
    assert_eq!(running.total_contacts as usize, opted_in.len());
    let recipients = world.recipients(id).await;
    assert_eq!(
        recipients
            .keys()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        opted_in
    );
    world.control(id, Role::Owner, Move::Cancel).await.unwrap();

    // The workspace says only marketing needs consent: a UTILITY template goes to everyone...
    let mut conn = world.db.pool().acquire().await.unwrap();
    assert_eq!(
        treeex::store::campaigns::opt_in_setting(&mut conn, world.workspace)
            .await
            .unwrap(),
        None
    );
    sqlx::query(
        "UPDATE workspaces SET settings = settings || '{\"campaign_opt_in\": \"marketing\"}' \
         WHERE id = $1",
    )
    .bind(world.workspace.0)
    .execute(world.db.pool())
    .await
    .unwrap();
    assert_eq!(
        treeex::store::campaigns::opt_in_setting(&mut conn, world.workspace)
            .await
            .unwrap()
            .as_deref(),
        Some("marketing")
    );
    drop(conn);
    let utility = world
        .create(
            "utility, marketing only",
            "order_update",
            &["{name}", "#42"],
            Audience::default(),
        )
        .await
        .unwrap();
    assert!(!utility.opt_in_required);
    assert_eq!(utility.audience_size, everyone.len() as i64);

    // ...and a MARKETING one still only to those who opted in.
    let marketing = world
        .create("marketing", "spring_sale", &["{name}"], Audience::default())
        .await
        .unwrap();
    assert!(marketing.opt_in_required);
    assert_eq!(marketing.audience_size, opted_in.len() as i64);
    let marketing = world
        .control(marketing.campaign.id, Role::Owner, Move::Start)
        .await
        .unwrap();
    assert_eq!(marketing.total_contacts as usize, opted_in.len());
    let recipients = world.recipients(marketing.id).await;
    assert_eq!(
        recipients
            .keys()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        opted_in
    );
    world
        .control(marketing.id, Role::Owner, Move::Cancel)
        .await
        .unwrap();

    // The UTILITY campaign runs and reaches the opted-out contacts too: none is skipped.
    let id = utility.campaign.id;
    let running = world.control(id, Role::Owner, Move::Start).await.unwrap();
    assert_eq!(running.total_contacts as usize, everyone.len());
    world.run_campaigns();
    let done = world.wait_for_status(id, CampaignStatus::Completed).await;
    assert_eq!(done.skipped_count, 0, "{}", describe(&done));
    let sent = per_recipient(&world.sim_messages(&world.sim).await);
    assert_eq!(
        sent.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        everyone
    );
    assert!(twice(&sent).is_empty(), "{sent:?}");
    world.counters_match_rows(id).await;
}

// ---- parameters --------------------------------------------------------------------------------

const FIELDS_BODY: &str =
    "Hello {{1}}, your code is {{2}}. We have you as {{3}} in {{4}}; see you soon, {{5}}!";

/// A contact of the parameter test; `city` and `nickname` are custom fields.
struct Customer {
    wa_id: &'static str,
    name: &'static str,
    city: &'static str,
    nickname: &'static str,
}

const CUSTOMERS: &[Customer] = &[
    Customer {
        wa_id: "351920000001",
        name: "Ana",
        city: "Lisboa",
        nickname: "Aninhas",
    },
    Customer {
        wa_id: "351920000002",
        name: "Bruno",
        city: "Porto",
        nickname: "",
    },
    Customer {
        wa_id: "351920000003",
        name: "Carla",
        city: "",
        nickname: "Cá",
    },
    Customer {
        wa_id: "351920000004",
        name: "Duarte",
        city: "Braga",
        nickname: "",
    },
];

const FIELDS_PARAMS: [&str; 5] = [
    "{name}",
    "SPRING25",
    "{wa_id}",
    "{city}",
    "{nickname|friend}",
];

impl Customer {
    /// What each parameter of [`FIELDS_PARAMS`] is for this customer; None when the customer
    /// has no city (that parameter has no fallback).
    fn values(&self) -> Option<Vec<String>> {
        if self.city.is_empty() {
            return None;
        }
        let nickname = if self.nickname.is_empty() {
            "friend"
        } else {
            self.nickname
        };
        Some(
            [self.name, "SPRING25", self.wa_id, self.city, nickname]
                .map(String::from)
                .to_vec(),
        )
    }

    fn text(&self) -> Option<String> {
        let values = self.values()?;
        let mut text = FIELDS_BODY.to_string();
        for (i, value) in values.iter().enumerate() {
            text = text.replace(&format!("{{{{{}}}}}", i + 1), value);
        }
        Some(text)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameters_carry_each_contacts_values_and_a_wrong_count_is_refused() {
    let world = World::start(80, |_| {}).await;
    world
        .create_template(
            "campaign_fields",
            "UTILITY",
            FIELDS_BODY,
            &["Ana", "SPRING25", "351920000001", "Lisboa", "Aninhas"],
        )
        .await;
    let mut csv = String::from("phone,name,opted_in,city,nickname\n");
    for c in CUSTOMERS {
        csv.push_str(&format!(
            "{},{},yes,{},{}\n",
            c.wa_id, c.name, c.city, c.nickname
        ));
    }
    world.import(&csv).await;

    // The wrong number of parameters is refused, naming both counts; nothing is written.
    let too_many: Vec<&str> = FIELDS_PARAMS.iter().copied().chain(["extra"]).collect();
    for given in [&FIELDS_PARAMS[..4], &too_many[..]] {
        let refused = world
            .create("wrong count", "campaign_fields", given, Audience::default())
            .await
            .unwrap_err();
        let CampaignError::Refused(text) = &refused else {
            panic!("expected a refusal, got {refused:?}");
        };
        assert_eq!(
            text,
            &format!(
                "template `campaign_fields` takes 5 parameters and {} were given",
                given.len()
            )
        );
    }
    assert!(
        treeex::store::campaigns::list(world.db(), world.workspace, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let created = world
        .create(
            "fields",
            "campaign_fields",
            &FIELDS_PARAMS,
            Audience::default(),
        )
        .await
        .unwrap();
    // The preview is one contact's message, as that contact would get it.
    let preview = created.preview.as_ref().expect("a preview");
    let previewed = CUSTOMERS
        .iter()
        .find(|c| c.wa_id == preview.wa_id)
        .expect("the preview is for one of the contacts");
    assert_eq!(
        preview.text.as_ref().ok(),
        previewed.text().as_ref(),
        "{preview:?}"
    );
    let id = created.campaign.id;
    world.control(id, Role::Owner, Move::Start).await.unwrap();
    world.run_campaigns();
    let done = world.wait_for_status(id, CampaignStatus::Completed).await;

    // What reached Meta: each contact's own values, in the template's order.
    let messages = world.sim_messages(&world.sim).await;
    let sent: BTreeMap<&str, Vec<String>> = messages
        .iter()
        .map(|m| {
            assert_eq!(m["body"]["template"]["name"], "campaign_fields", "{m}");
            let params = m["body"]["template"]["components"][0]["parameters"]
                .as_array()
                .unwrap_or_else(|| panic!("no body parameters: {m}"))
                .iter()
                .map(|p| p["text"].as_str().unwrap().to_string())
                .collect();
            (m["to"].as_str().unwrap(), params)
        })
        .collect();
    assert_eq!(sent.len(), messages.len(), "one message per contact");
    let expected: BTreeMap<&str, Vec<String>> = CUSTOMERS
        .iter()
        .filter_map(|c| Some((c.wa_id, c.values()?)))
        .collect();
    assert_eq!(sent, expected);

    // What the threads show: the rendered text, per contact.
    let stored: Vec<(String, String)> = sqlx::query_as(
        "SELECT k.wa_id, m.rendered_text FROM campaign_messages cm \
         JOIN contacts k ON k.id = cm.contact_id JOIN messages m ON m.id = cm.message_id \
         WHERE cm.campaign_id = $1",
    )
    .bind(id)
    .fetch_all(world.db.pool())
    .await
    .unwrap();
    let stored: BTreeMap<String, String> = stored.into_iter().collect();
    let texts: BTreeMap<String, String> = CUSTOMERS
        .iter()
        .filter_map(|c| Some((c.wa_id.to_string(), c.text()?)))
        .collect();
    assert_eq!(stored, texts);

    // The contact without a city (and no fallback for it) is skipped with the reason.
    let skipped: Vec<&Customer> = CUSTOMERS.iter().filter(|c| c.values().is_none()).collect();
    assert_eq!(
        done.skipped_count as usize,
        skipped.len(),
        "{}",
        describe(&done)
    );
    let recipients = world.recipients(id).await;
    for c in skipped {
        let r = &recipients[c.wa_id];
        assert_eq!(r.status, "skipped");
        assert_eq!(
            r.error_details.as_deref(),
            Some("the contact has no `city` for the template")
        );
    }
    world.counters_match_rows(id).await;

    // The template changes at Meta to four variables: a campaign defined for five cannot start.
    let later = world
        .create(
            "fields, later",
            "campaign_fields",
            &FIELDS_PARAMS,
            Audience::default(),
        )
        .await
        .unwrap();
    world
        .graph
        .delete_template(&SecretString::from(TOKEN), WABA, "campaign_fields", None)
        .await
        .unwrap();
    world
        .create_template(
            "campaign_fields",
            "UTILITY",
            "Hello {{1}}, your code is {{2}} for {{3}} in {{4}}.",
            &["Ana", "SPRING25", "351920000001", "Lisboa"],
        )
        .await;
    let refused = world
        .control(later.campaign.id, Role::Owner, Move::Start)
        .await
        .unwrap_err();
    let CampaignError::Refused(text) = &refused else {
        panic!("expected a refusal, got {refused:?}");
    };
    assert_eq!(
        text,
        "template `campaign_fields` takes 4 parameters and 5 were given"
    );
    let unchanged = world.campaign(later.campaign.id).await;
    assert_eq!(unchanged.status, CampaignStatus::Draft);
    assert_eq!(unchanged.started_at, None);
    assert_eq!(unchanged.total_contacts, 0);
    assert!(world.recipients(later.campaign.id).await.is_empty());
}

// ---- a thousand contacts -----------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_contacts_complete_with_exact_counters_and_one_message_each() {
    const CONTACTS: usize = 1000;
    let world = World::start(1000, |_| {}).await;
    let (csv, wa_ids) = numbered_contacts("3519300", CONTACTS);
    world.import(&csv).await;
    let campaign = world
        .start_campaign("thousand", "order_update", &["{name}", "#A-100"])
        .await;
    assert_eq!(campaign.total_contacts as usize, CONTACTS);
    world.run_campaigns();

    // While it runs, the counters always equal the recipient rows.
    let id = campaign.id;
    let w = &world;
    eventually("the campaign to complete", move || async move {
        w.counters_match_rows(id).await;
        let campaign = w.campaign(id).await;
        match campaign.status {
            CampaignStatus::Completed => Ok(()),
            _ => Err(describe(&campaign)),
        }
    })
    .await;
    // Every status webhook applied: each recipient read.
    let done = eventually("every recipient to be read", move || async move {
        let funnel = w.counters_match_rows(id).await;
        if funnel.read == CONTACTS as i64 {
            Ok(funnel)
        } else {
            Err(format!("{funnel:?}"))
        }
    })
    .await;
    assert_eq!(
        done,
        Funnel {
            total: CONTACTS as i64,
            sent: CONTACTS as i64,
            delivered: CONTACTS as i64,
            read: CONTACTS as i64,
            replied: 0,
            failed: 0,
            skipped: 0,
        }
    );

    let messages = world.sim_messages(&world.sim).await;
    assert_eq!(messages.len(), CONTACTS, "one message per contact");
    let sent = per_recipient(&messages);
    assert!(
        twice(&sent).is_empty(),
        "messaged twice: {:?}",
        twice(&sent)
    );
    let expected: BTreeSet<&str> = wa_ids.iter().map(String::as_str).collect();
    assert_eq!(
        sent.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        expected
    );
}

// ---- pause, resume, cancel ---------------------------------------------------------------------

/// Starts a campaign of `contacts` and lets it send `before` messages. The worker claims a few
/// messages at a time, so that most of what the runner keeps ahead waits unclaimed in the
/// outbox, where a pause or a cancel can take it back.
async fn campaign_under_way(world: &World, contacts: usize, before: usize) -> (Uuid, Vec<String>) {
    let (csv, wa_ids) = numbered_contacts("3519500", contacts);
    world.import(&csv).await;
    let campaign = world
        .start_campaign("paced", "order_update", &["{name}", "#P-1"])
        .await;
    world.run_runner();
    world.run_worker_claiming(&world.graph, &world.stop, 4);
    eventually(&format!("{before} sends"), move || async move {
        let sent = world.sim_count().await;
        if sent >= before {
            Ok(())
        } else {
            Err(format!("{sent} sent"))
        }
    })
    .await;
    (campaign.id, wa_ids)
}

/// Right after a stopping move returned: the campaign's messages a worker holds, and what the
/// simulator has. Nothing of the campaign waits unclaimed in the outbox any more: the move took
/// it back.
async fn right_after(world: &World, id: Uuid) -> (i64, usize) {
    let (queued, held): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE state = 'queued'), count(*) FILTER (WHERE state <> 'queued') \
         FROM outbox WHERE campaign_id = $1",
    )
    .bind(id)
    .fetch_one(world.db.pool())
    .await
    .unwrap();
    assert_eq!(queued, 0, "unclaimed sends were left in the outbox");
    (held, world.sim_count().await)
}

/// Waits until a stopping move has taken effect: nothing of the campaign left in the outbox
/// and no recipient waiting for Meta's answer. Returns how many messages the simulator has.
async fn until_stopped(world: &World, id: Uuid) -> usize {
    eventually("the campaign's sends to stop", move || async move {
        match world.in_flight(id).await {
            (0, 0) => Ok(()),
            (outbox, pending) => Err(format!("{outbox} in the outbox, {pending} pending")),
        }
    })
    .await;
    world.sim_count().await
}

/// For `watch`, the simulator's count stays `stopped`, the status `status` and the outbox
/// empty of the campaign; fails at the first change.
async fn stays_stopped(
    world: &World,
    id: Uuid,
    status: CampaignStatus,
    stopped: usize,
    watch: Duration,
) {
    let until = Instant::now() + watch;
    while Instant::now() < until {
        let count = world.sim_count().await;
        assert_eq!(
            count,
            stopped,
            "the simulator got {} more message(s) after the campaign was {status}",
            count.saturating_sub(stopped)
        );
        let campaign = world.campaign(id).await;
        assert_eq!(campaign.status, status);
        assert_eq!(world.in_flight(id).await, (0, 0), "enqueued while {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of `treeex_campaign_recipients` for one campaign and stage in a /metrics text.
fn campaign_gauge(metrics: &str, id: Uuid, stage: &str) -> Option<f64> {
    let campaign = format!("campaign=\"{id}\"");
    let stage = format!("stage=\"{stage}\"");
    metrics
        .lines()
        .filter(|l| l.starts_with("treeex_campaign_recipients{"))
        .find(|l| l.contains(&campaign) && l.contains(&stage))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_a_paused_campaigns_progress_from_its_counters() {
    const CONTACTS: usize = 60;
    let world = World::start(20, |_| {}).await;
    let (id, _) = campaign_under_way(&world, CONTACTS, 10).await;
    world.control(id, Role::Admin, Move::Pause).await.unwrap();
    until_stopped(&world, id).await;
    let campaign = world.campaign(id).await;
    let metrics_url = world.webhook_url.replace("/webhook", "/metrics");
    let text = world
        .http
        .get(&metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        campaign_gauge(&text, id, "total"),
        Some(CONTACTS as f64),
        "{text}"
    );
    assert_eq!(
        campaign_gauge(&text, id, "sent"),
        Some(f64::from(campaign.sent_count)),
        "{text}"
    );
    assert!(campaign.sent_count >= 10 && (campaign.sent_count as usize) < CONTACTS);
    let delivered = campaign_gauge(&text, id, "delivered").expect("a delivered gauge");
    assert!(delivered <= f64::from(campaign.sent_count));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pausing_stops_the_sends_and_resuming_finishes_each_contact_once() {
    const CONTACTS: usize = 120;
    let world = World::start(40, |_| {}).await;
    let (id, wa_ids) = campaign_under_way(&world, CONTACTS, 20).await;

    let paused = world.control(id, Role::Admin, Move::Pause).await.unwrap();
    assert_eq!(paused.status, CampaignStatus::Paused);
    let (handed_over, at_pause) = right_after(&world, id).await;
    let stopped = until_stopped(&world, id).await;
    // Only what a worker already held may still leave after the pause.
    assert!(
        stopped - at_pause <= handed_over as usize,
        "{} sent after the pause, a worker held {handed_over}",
        stopped - at_pause
    );
    assert!(stopped < CONTACTS, "the pause came too late to test");
    let recipients = world.recipients(id).await;
    let messaged = recipients
        .values()
        .filter(|r| r.message_id.is_some())
        .count();
    let queued: Vec<&String> = recipients
        .iter()
        .filter(|(_, r)| r.status == "queued" && r.message_id.is_none())
        .map(|(wa_id, _)| wa_id)
        .collect();
    assert_eq!(messaged, stopped, "every written message left");
    assert_eq!(queued.len(), CONTACTS - stopped, "the rest wait, unsent");
    let sent = per_recipient(&world.sim_messages(&world.sim).await);
    assert!(queued.iter().all(|w| !sent.contains_key(*w)));
    // 1.5 s at 40 a second: a campaign still sending would show it.
    stays_stopped(
        &world,
        id,
        CampaignStatus::Paused,
        stopped,
        Duration::from_millis(1500),
    )
    .await;

    let resumed = world.control(id, Role::Owner, Move::Resume).await.unwrap();
    assert_eq!(resumed.status, CampaignStatus::Running);
    world.wait_for_status(id, CampaignStatus::Completed).await;
    let messages = world.sim_messages(&world.sim).await;
    let sent = per_recipient(&messages);
    assert!(
        twice(&sent).is_empty(),
        "messaged twice: {:?}",
        twice(&sent)
    );
    assert_eq!(messages.len(), CONTACTS);
    assert_eq!(
        sent.keys().collect::<BTreeSet<_>>(),
        wa_ids.iter().collect::<BTreeSet<_>>()
    );
    let funnel = world.counters_match_rows(id).await;
    assert_eq!(funnel.sent, CONTACTS as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_campaign_sends_nothing_more() {
    const CONTACTS: usize = 120;
    let world = World::start(40, |_| {}).await;
    let (id, _) = campaign_under_way(&world, CONTACTS, 20).await;

    let cancelled = world.control(id, Role::Owner, Move::Cancel).await.unwrap();
    assert_eq!(cancelled.status, CampaignStatus::Cancelled);
    assert!(cancelled.completed_at.is_some());
    let (handed_over, at_cancel) = right_after(&world, id).await;
    let stopped = until_stopped(&world, id).await;
    assert!(
        stopped - at_cancel <= handed_over as usize,
        "{} sent after the cancel, a worker held {handed_over}",
        stopped - at_cancel
    );
    assert!(stopped < CONTACTS, "the cancel came too late to test");
    stays_stopped(
        &world,
        id,
        CampaignStatus::Cancelled,
        stopped,
        Duration::from_millis(1500),
    )
    .await;

    // The recipients not sent to are never sent to: queued, without a message, not at Meta.
    let recipients = world.recipients(id).await;
    let sent = per_recipient(&world.sim_messages(&world.sim).await);
    assert!(
        twice(&sent).is_empty(),
        "messaged twice: {:?}",
        twice(&sent)
    );
    let unsent: Vec<(&String, &Recipient)> = recipients
        .iter()
        .filter(|(wa_id, _)| !sent.contains_key(*wa_id))
        .collect();
    assert_eq!(unsent.len(), CONTACTS - stopped);
    for (wa_id, r) in &unsent {
        assert_eq!(
            (r.status.as_str(), r.message_id),
            ("queued", None),
            "{wa_id}"
        );
    }
    // And nothing brings it back.
    for attempted in [Move::Resume, Move::Start, Move::RetryFailed] {
        let refused = world.control(id, Role::Owner, attempted).await.unwrap_err();
        assert!(matches!(refused, CampaignError::Illegal(_)), "{refused:?}");
    }
    stays_stopped(
        &world,
        id,
        CampaignStatus::Cancelled,
        stopped,
        Duration::from_millis(300),
    )
    .await;
    world.counters_match_rows(id).await;
}

// ---- retry failed ------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_failed_sends_the_failed_recipients_again_and_only_them() {
    const CONTACTS: usize = 30;
    let (csv, wa_ids) = numbered_contacts("3519600", CONTACTS);
    // Meta refuses every third recipient (131030: not in the test number's allowed list).
    let allowed: Vec<String> = wa_ids
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 != 0)
        .map(|(_, w)| w.clone())
        .collect();
    let refused: BTreeSet<&String> = wa_ids.iter().filter(|w| !allowed.contains(w)).collect();
    let world = {
        let allowed = allowed.clone();
        World::start(200, move |sim| sim.allowed_recipients = Some(allowed)).await
    };
    world.import(&csv).await;
    let id = world
        .start_campaign("retry", "order_update", &["{name}", "#R-1"])
        .await
        .id;
    world.run_runner();
    let first_worker = CancellationToken::new();
    let first = world.run_worker(&world.graph, &first_worker);
    let done = world.wait_for_status(id, CampaignStatus::Completed).await;
    assert_eq!(
        done.failed_count as usize,
        refused.len(),
        "{}",
        describe(&done)
    );
    let recipients = world.recipients(id).await;
    let failed: BTreeSet<&String> = recipients
        .iter()
        .filter(|(_, r)| r.status == "failed")
        .map(|(wa_id, _)| wa_id)
        .collect();
    assert_eq!(failed, refused);
    assert!(
        recipients
            .iter()
            .filter(|(_, r)| r.status == "failed")
            .all(|(_, r)| r.error_code == Some(131030))
    );
    let reasons = treeex::store::campaigns::failure_reasons(world.db(), world.workspace, id, 10)
        .await
        .unwrap();
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert_eq!(
        (reasons[0].error_code, reasons[0].count),
        (Some(131030), refused.len() as i64)
    );
    let first_messages = world.sim_messages(&world.sim).await;
    assert_eq!(first_messages.len(), allowed.len());

    // Meta now takes everyone (another simulator, without the allowed list).
    first_worker.cancel();
    first.await.unwrap();
    let open_sim = Simulator::start(sim_config(&world.webhook_url, |_| {}))
        .await
        .unwrap();
    world.run_worker(&graph_for(&open_sim), &world.stop);

    let again = world
        .control(id, Role::Admin, Move::RetryFailed)
        .await
        .unwrap();
    assert_eq!(again.status, CampaignStatus::Running);
    assert_eq!(again.failed_count, 0);
    assert!(again.completed_at.is_none());
    let done = world.wait_for_status(id, CampaignStatus::Completed).await;
    assert_eq!(done.failed_count, 0, "{}", describe(&done));

    // Exactly the failed recipients were sent again, each once; the others not again.
    let retried = per_recipient(&world.sim_messages(&open_sim).await);
    assert!(twice(&retried).is_empty(), "{retried:?}");
    assert_eq!(retried.keys().collect::<BTreeSet<_>>(), refused);
    assert_eq!(world.sim_count().await, allowed.len());
    let recipients = world.recipients(id).await;
    for (wa_id, r) in &recipients {
        assert!(
            ["sent", "delivered", "read"].contains(&r.status.as_str()),
            "{wa_id}: {r:?}"
        );
    }
    // The failed first attempts stay in the threads.
    let failed_messages: i64 =
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE status = 'failed'")
            .fetch_one(world.db.pool())
            .await
            .unwrap();
    assert_eq!(failed_messages as usize, refused.len());
    let funnel = world.counters_match_rows(id).await;
    assert_eq!((funnel.sent, funnel.failed), (CONTACTS as i64, 0));

    // Nothing failed any more: nothing to retry.
    let nothing = world
        .control(id, Role::Owner, Move::RetryFailed)
        .await
        .unwrap_err();
    assert_eq!(
        nothing.to_string(),
        "the campaign has no failed recipients to send again"
    );
    assert_eq!(world.campaign(id).await.status, CampaignStatus::Completed);
    open_sim.shutdown().await;
}

// ---- roles and illegal moves -------------------------------------------------------------------

/// What a refused move must leave as it was.
async fn snapshot(world: &World, id: Uuid) -> (Campaign, BTreeMap<String, Recipient>) {
    (world.campaign(id).await, world.recipients(id).await)
}

/// A MEMBER's move is refused with the sentence, and changes nothing.
async fn member_refused(world: &World, id: Uuid, attempted: Move) {
    let before = snapshot(world, id).await;
    let refused = world
        .control(id, Role::Member, attempted)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, CampaignError::NotAllowed(_, Role::Member)),
        "{refused:?}"
    );
    assert_eq!(
        refused.to_string(),
        format!(
            "only an OWNER or ADMIN may {} a campaign; a MEMBER may not",
            attempted.verb()
        )
    );
    assert_eq!(
        snapshot(world, id).await,
        before,
        "a refused move changed it"
    );
}

/// A move the status does not allow is refused naming both states, and changes nothing.
async fn illegal(world: &World, id: Uuid, attempted: Move, expected: &str) {
    let before = snapshot(world, id).await;
    let refused = world.control(id, Role::Owner, attempted).await.unwrap_err();
    assert!(matches!(refused, CampaignError::Illegal(_)), "{refused:?}");
    assert_eq!(refused.to_string(), expected);
    assert_eq!(
        snapshot(world, id).await,
        before,
        "a refused move changed it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_owners_and_admins_control_campaigns_and_only_as_the_status_allows() {
    // One of the three contacts is refused by Meta, so that there is a failure to retry.
    let (csv, wa_ids) = numbered_contacts("3519700", 3);
    let allowed = wa_ids[1..].to_vec();
    let world = World::start(80, move |sim| sim.allowed_recipients = Some(allowed)).await;
    world.import(&csv).await;

    // The supervisor moves, each by an OWNER and by an ADMIN, each refused to a MEMBER first.
    for boss in [Role::Owner, Role::Admin] {
        let id = world
            .create(
                &format!("by {boss}"),
                "order_update",
                &["{name}", "#1"],
                Audience::default(),
            )
            .await
            .unwrap()
            .campaign
            .id;
        illegal(
            &world,
            id,
            Move::Pause,
            "cannot pause a DRAFT campaign: only a RUNNING campaign can become PAUSED",
        )
        .await;
        illegal(
            &world,
            id,
            Move::RetryFailed,
            "cannot retry the failed recipients of a DRAFT campaign: only a RUNNING, PAUSED or COMPLETED campaign has failed recipients to send again",
        )
        .await;
        member_refused(&world, id, Move::Start).await;
        assert_eq!(world.campaign(id).await.status, CampaignStatus::Draft);
        assert!(world.recipients(id).await.is_empty(), "no audience taken");
        let running = world.control(id, boss, Move::Start).await.unwrap();
        assert_eq!(running.status, CampaignStatus::Running);
        assert_eq!(running.total_contacts, 3);
        illegal(
            &world,
            id,
            Move::Start,
            "cannot start a RUNNING campaign: only a DRAFT or SCHEDULED campaign can become RUNNING",
        )
        .await;
        illegal(
            &world,
            id,
            Move::Resume,
            "cannot resume a RUNNING campaign: only a PAUSED campaign can become RUNNING",
        )
        .await;

        member_refused(&world, id, Move::Pause).await;
        let paused = world.control(id, boss, Move::Pause).await.unwrap();
        assert_eq!(paused.status, CampaignStatus::Paused);
        illegal(
            &world,
            id,
            Move::Pause,
            "cannot pause a PAUSED campaign: only a RUNNING campaign can become PAUSED",
        )
        .await;

        member_refused(&world, id, Move::Resume).await;
        let resumed = world.control(id, boss, Move::Resume).await.unwrap();
        assert_eq!(resumed.status, CampaignStatus::Running);

        member_refused(&world, id, Move::Cancel).await;
        let cancelled = world.control(id, boss, Move::Cancel).await.unwrap();
        assert_eq!(cancelled.status, CampaignStatus::Cancelled);
        illegal(
            &world,
            id,
            Move::Cancel,
            "cannot cancel a CANCELLED campaign: only a DRAFT, SCHEDULED, RUNNING or PAUSED campaign can become CANCELLED",
        )
        .await;
        illegal(
            &world,
            id,
            Move::Resume,
            "cannot resume a CANCELLED campaign: only a PAUSED campaign can become RUNNING",
        )
        .await;
    }

    // Retrying the failed recipients: refused to a MEMBER, done by an OWNER and by an ADMIN.
    let id = world
        .start_campaign("with a failure", "order_update", &["{name}", "#2"])
        .await
        .id;
    world.run_campaigns();
    let settled = |status: CampaignStatus| {
        let world = &world;
        eventually(
            "the campaign to finish with its failure",
            move || async move {
                let c = world.campaign(id).await;
                // Wait for the statuses too, so that nothing moves while a refusal is checked.
                if c.status == status && c.failed_count == 1 && c.read_count == 2 {
                    Ok(c)
                } else {
                    Err(describe(&c))
                }
            },
        )
    };
    settled(CampaignStatus::Completed).await;
    illegal(
        &world,
        id,
        Move::Pause,
        "cannot pause a COMPLETED campaign: only a RUNNING campaign can become PAUSED",
    )
    .await;
    member_refused(&world, id, Move::RetryFailed).await;
    assert_eq!(world.recipients(id).await[&wa_ids[0]].status, "failed");

    // The same refusal through the command line, for a configured user who is a MEMBER.
    treeex::store::members::add(
        world.db(),
        world.workspace,
        &Email::parse("mia@example.com").unwrap(),
        Some("Mia"),
        Role::Member,
    )
    .await
    .unwrap();
    let home = common::empty_home();
    let config = home.path().join("treeex.toml");
    std::fs::write(&config, "[user]\nemail = \"mia@example.com\"\n").unwrap();
    let before = snapshot(&world, id).await;
    let cli = common::run(
        world
            .db
            .treeex(home.path())
            .arg("--config")
            .arg(&config)
            .args(["campaign", "retry-failed", &id.to_string()]),
    );
    assert_eq!(cli.code, 1, "{cli:?}");
    assert!(
        cli.stderr.contains(
            "only an OWNER or ADMIN may retry the failed recipients of a campaign; a MEMBER may not"
        ),
        "{cli:?}"
    );
    assert_eq!(snapshot(&world, id).await, before);

    for boss in [Role::Owner, Role::Admin] {
        let again = world.control(id, boss, Move::RetryFailed).await.unwrap();
        assert_eq!(
            (again.status, again.failed_count),
            (CampaignStatus::Running, 0)
        );
        // Meta refuses that recipient again: the campaign completes with its failure again.
        settled(CampaignStatus::Completed).await;
    }
    let tries = per_recipient(&world.sim_messages(&world.sim).await);
    assert_eq!(
        tries.values().copied().collect::<Vec<_>>(),
        vec![1, 1],
        "the allowed recipients got one message each, never again: {tries:?}"
    );
    let failed_sends: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages m JOIN conversations v ON v.id = m.conversation_id \
         JOIN contacts k ON k.id = v.contact_id WHERE k.wa_id = $1 AND m.status = 'failed'",
    )
    .bind(&wa_ids[0])
    .fetch_one(world.db.pool())
    .await
    .unwrap();
    assert_eq!(failed_sends, 3, "the first try and one per retry");
    world.counters_match_rows(id).await;
}
