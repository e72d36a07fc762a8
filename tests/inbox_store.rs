//! The store behind the agent's inbox against real PostgreSQL: the inbox list (order, keyset
//! pages, filters, search, counters), the thread (messages and notes merged, what a message
//! quotes, its reactions and file), the header and contact card, what an agent does to a
//! conversation, canned replies, users, and that a page of the inbox stays an index scan.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::TestDb;
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use treeex::domain::{Email, MessageStatus, Role, Slug, WorkspaceId};
use treeex::store::inbox::{self, InboxCursor, InboxFilter, InboxQuery, InboxRow};
use treeex::store::phones::{self, NewPhoneNumber};
use treeex::store::thread::{self, Entry, ThreadCursor};
use treeex::store::{Db, StoreError, agent, events, media, members, messages, users, workspaces};
use uuid::Uuid;

const NUMBER: &str = "100000000000001";
const WABA: &str = "200000000000001";

/// Minutes after a fixed start: message times that order as written.
fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
}

/// A workspace `acme` with its owner (Olga), an agent (Ana) and one number.
struct Fx {
    db: TestDb,
    ws: WorkspaceId,
    phone: Uuid,
    owner: Uuid,
    ana: Uuid,
}

/// A conversation to insert; unset fields are an OPEN conversation without messages.
#[derive(Default)]
struct Conv {
    status: Option<&'static str>,
    unread: i32,
    last_at: Option<DateTime<Utc>>,
    window: Option<DateTime<Utc>>,
    preview: Option<&'static str>,
    assignee: Option<Uuid>,
}

/// A message to insert.
struct Msg {
    direction: &'static str,
    kind: &'static str,
    content: Value,
    status: &'static str,
    wamid: Option<&'static str>,
    at: DateTime<Utc>,
    context: Option<&'static str>,
    error_code: Option<i32>,
    rendered: Option<&'static str>,
    sent_by: Option<Uuid>,
}

fn inbound_text(wamid: &'static str, body: &str, at: DateTime<Utc>) -> Msg {
    Msg {
        direction: "INBOUND",
        kind: "text",
        content: json!({"from": "14155550123", "id": wamid, "type": "text", "text": {"body": body}}),
        status: "received",
        wamid: Some(wamid),
        at,
        context: None,
        error_code: None,
        rendered: None,
        sent_by: None,
    }
}

fn outbound_text(
    wamid: Option<&'static str>,
    body: &str,
    status: &'static str,
    at: DateTime<Utc>,
) -> Msg {
    Msg {
        direction: "OUTBOUND",
        kind: "text",
        content: json!({"messaging_product": "whatsapp", "to": "14155550123", "type": "text", "text": {"body": body}}),
        status,
        wamid,
        at,
        context: None,
        error_code: None,
        rendered: None,
        sent_by: None,
    }
}

async fn workspace(db: &Db, slug: &str, owner: &str, owner_name: &str) -> (WorkspaceId, Uuid) {
    let created = workspaces::create(
        db,
        workspaces::NewWorkspace {
            slug: &Slug::parse(slug).unwrap(),
            name: slug,
            owner: Some((&Email::parse(owner).unwrap(), Some(owner_name))),
        },
    )
    .await
    .unwrap();
    (
        created.workspace.workspace_id(),
        created.owner.unwrap().user_id,
    )
}

async fn phone(db: &Db, ws: WorkspaceId, phone_number_id: &str) -> Uuid {
    phones::add(
        db,
        ws,
        NewPhoneNumber {
            phone_number_id,
            display_phone_number: "+1 555 0100",
            waba_id: WABA,
            access_token: &SecretString::from("token"),
            mps: 80,
        },
    )
    .await
    .unwrap()
    .id
}

impl Fx {
    async fn new() -> Self {
        let db = TestDb::new().await;
        let (ws, owner) = workspace(&db.db, "acme", "olga@example.com", "Olga").await;
        let ana = members::add(
            &db.db,
            ws,
            &Email::parse("ana@example.com").unwrap(),
            Some("Ana"),
            Role::Member,
        )
        .await
        .unwrap()
        .user_id;
        let phone = phone(&db.db, ws, NUMBER).await;
        Fx {
            db,
            ws,
            phone,
            owner,
            ana,
        }
    }

    fn db(&self) -> &Db {
        &self.db.db
    }

    fn pool(&self) -> &PgPool {
        self.db.pool()
    }

    async fn contact(
        &self,
        ws: WorkspaceId,
        wa_id: &str,
        name: Option<&str>,
        profile: Option<&str>,
        tags: &[&str],
    ) -> Uuid {
        sqlx::query_scalar(
            "INSERT INTO contacts (id, workspace_id, wa_id, name, profile_name, tags) \
             VALUES (gen_random_uuid(), $1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(ws.0)
        .bind(wa_id)
        .bind(name)
        .bind(profile)
        .bind(tags)
        .fetch_one(self.pool())
        .await
        .unwrap()
    }

    async fn conversation_on(&self, ws: WorkspaceId, phone: Uuid, contact: Uuid, c: Conv) -> Uuid {
        sqlx::query_scalar(
            "INSERT INTO conversations (id, workspace_id, phone_number_id, contact_id, status, \
                 unread_count, last_message_at, window_expires_at, last_message_preview, assignee_id) \
             VALUES (gen_random_uuid(), $1, $2, $3, $4::conversation_status, $5, $6, $7, $8, $9) \
             RETURNING id",
        )
        .bind(ws.0)
        .bind(phone)
        .bind(contact)
        .bind(c.status.unwrap_or("OPEN"))
        .bind(c.unread)
        .bind(c.last_at)
        .bind(c.window)
        .bind(c.preview)
        .bind(c.assignee)
        .fetch_one(self.pool())
        .await
        .unwrap()
    }

    /// A new contact (by wa_id) and its conversation on the workspace's number.
    async fn conversation(&self, wa_id: &str, c: Conv) -> Uuid {
        let contact = self.contact(self.ws, wa_id, None, None, &[]).await;
        self.conversation_on(self.ws, self.phone, contact, c).await
    }

    async fn message(&self, conversation: Uuid, m: Msg) -> Uuid {
        sqlx::query_scalar(
            "INSERT INTO messages (id, workspace_id, conversation_id, phone_number_id, \
                 wa_message_id, direction, type, content, status, context_wa_message_id, \
                 error_code, error_title, rendered_text, sent_by, created_at, wa_timestamp) \
             VALUES ($1, $2, $3, $4, $5, $6::message_direction, $7, $8, $9::message_status, $10, \
                     $11, CASE WHEN $11 IS NOT NULL THEN 'failed' END, $12, $13, $14, \
                     CASE WHEN $6 = 'INBOUND' THEN $14 END) \
             RETURNING id",
        )
        .bind(Uuid::now_v7())
        .bind(self.ws.0)
        .bind(conversation)
        .bind(self.phone)
        .bind(m.wamid)
        .bind(m.direction)
        .bind(m.kind)
        .bind(&m.content)
        .bind(m.status)
        .bind(m.context)
        .bind(m.error_code)
        .bind(m.rendered)
        .bind(m.sent_by)
        .bind(m.at)
        .fetch_one(self.pool())
        .await
        .unwrap()
    }

    async fn page(&self, filter: InboxFilter, search: Option<&str>) -> Vec<InboxRow> {
        let query = InboxQuery {
            filter,
            search: search.map(str::to_string),
        };
        inbox::page(self.db(), self.ws, &query, None, 1000)
            .await
            .unwrap()
    }

    async fn unread(&self, conversation: Uuid) -> i32 {
        sqlx::query_scalar("SELECT unread_count FROM conversations WHERE id = $1")
            .bind(conversation)
            .fetch_one(self.pool())
            .await
            .unwrap()
    }
}

fn ids(rows: &[InboxRow]) -> Vec<Uuid> {
    rows.iter().map(|r| r.id).collect()
}

fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}

#[tokio::test]
async fn the_inbox_lists_unread_first_then_recent_and_keyset_pages_return_every_row_once() {
    let fx = Fx::new().await;
    // 250 conversations: some unread, many sharing a time (so the id decides), some without any
    // message yet (last); and another workspace's, which never show.
    sqlx::query(
        "WITH c AS ( \
             INSERT INTO contacts (id, workspace_id, wa_id) \
             SELECT gen_random_uuid(), $1, '1415555' || lpad(i::text, 4, '0') \
             FROM generate_series(1, 250) i RETURNING id, wa_id) \
         INSERT INTO conversations (id, workspace_id, phone_number_id, contact_id, unread_count, \
                                    last_message_at) \
         SELECT gen_random_uuid(), $1, $2, c.id, \
                CASE WHEN i % 4 = 0 THEN i % 3 + 1 ELSE 0 END, \
                CASE WHEN i % 9 = 0 THEN NULL \
                     ELSE $3::timestamptz + (i % 60) * interval '1 minute' END \
         FROM c, LATERAL (SELECT right(c.wa_id, 4)::int AS i) n",
    )
    .bind(fx.ws.0)
    .bind(fx.phone)
    .bind(t(0))
    .execute(fx.pool())
    .await
    .unwrap();
    let (other, _) = workspace(fx.db(), "other", "olga@example.com", "Olga").await;
    let other_phone = phone(fx.db(), other, "100000000000009").await;
    for i in 0..5 {
        let contact = fx
            .contact(other, &format!("4930000000{i}"), None, None, &[])
            .await;
        fx.conversation_on(
            other,
            other_phone,
            contact,
            Conv {
                unread: 1,
                last_at: Some(t(1000)),
                ..Conv::default()
            },
        )
        .await;
    }

    let mut expected: Vec<(i32, Option<DateTime<Utc>>, Uuid)> = sqlx::query_as(
        "SELECT unread_count, last_message_at, id FROM conversations WHERE workspace_id = $1",
    )
    .bind(fx.ws.0)
    .fetch_all(fx.pool())
    .await
    .unwrap();
    // Unread first; then newest first, no time last; then id, highest first.
    expected.sort_by(|a, b| {
        (b.0 > 0)
            .cmp(&(a.0 > 0))
            .then_with(|| match (a.1, b.1) {
                (Some(x), Some(y)) => y.cmp(&x),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| b.2.cmp(&a.2))
    });
    let expected: Vec<Uuid> = expected.into_iter().map(|e| e.2).collect();
    assert_eq!(expected.len(), 250);

    let query = InboxQuery::default();
    let mut seen = Vec::new();
    let mut cursor: Option<InboxCursor> = None;
    let mut pages = 0;
    loop {
        let page = inbox::page(fx.db(), fx.ws, &query, cursor.as_ref(), 40)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 40);
        pages += 1;
        cursor = Some(page.last().unwrap().cursor());
        seen.extend(ids(&page));
    }
    assert_eq!(pages, 7, "250 rows in pages of 40");
    let unique: HashSet<Uuid> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no row twice");
    assert_eq!(seen, expected, "every row once, in inbox order");
}

#[tokio::test]
async fn each_filter_selects_its_conversations() {
    let fx = Fx::new().await;
    let later = Utc::now() + chrono::Duration::hours(5);
    let earlier = Utc::now() - chrono::Duration::hours(1);
    let vip = fx.contact(fx.ws, "14155550001", None, None, &["vip"]).await;
    let mine_open = fx
        .conversation_on(
            fx.ws,
            fx.phone,
            vip,
            Conv {
                unread: 2,
                window: Some(later),
                assignee: Some(fx.ana),
                last_at: Some(t(5)),
                ..Conv::default()
            },
        )
        .await;
    let window_closed = fx
        .conversation(
            "14155550002",
            Conv {
                window: Some(earlier),
                last_at: Some(t(4)),
                ..Conv::default()
            },
        )
        .await;
    let never_opened = fx.conversation("14155550003", Conv::default()).await;
    let mine_closed = fx
        .conversation(
            "14155550004",
            Conv {
                status: Some("CLOSED"),
                assignee: Some(fx.ana),
                last_at: Some(t(3)),
                ..Conv::default()
            },
        )
        .await;
    let tagged = fx
        .contact(fx.ws, "14155550005", None, None, &["lead", "vip"])
        .await;
    let expired = fx
        .conversation_on(
            fx.ws,
            fx.phone,
            tagged,
            Conv {
                status: Some("EXPIRED"),
                last_at: Some(t(2)),
                ..Conv::default()
            },
        )
        .await;
    let owners = fx
        .conversation(
            "14155550006",
            Conv {
                window: Some(later),
                assignee: Some(fx.owner),
                last_at: Some(t(1)),
                ..Conv::default()
            },
        )
        .await;

    let cases = [
        (
            InboxFilter::All,
            vec![
                mine_open,
                window_closed,
                never_opened,
                mine_closed,
                expired,
                owners,
            ],
        ),
        (InboxFilter::Mine(fx.ana), vec![mine_open, mine_closed]),
        (
            InboxFilter::Unassigned,
            vec![window_closed, never_opened, expired],
        ),
        (
            InboxFilter::Open,
            vec![mine_open, window_closed, never_opened, owners],
        ),
        (InboxFilter::Closed, vec![mine_closed]),
        (
            InboxFilter::Expired,
            vec![window_closed, never_opened, expired],
        ),
        (InboxFilter::Tag("VIP ".into()), vec![mine_open, expired]),
        (InboxFilter::Tag("lead".into()), vec![expired]),
        (InboxFilter::Tag("nobody".into()), vec![]),
    ];
    for (filter, want) in cases {
        let got = ids(&fx.page(filter.clone(), None).await);
        assert_eq!(sorted(got), sorted(want), "{filter:?}");
    }
    let refused = inbox::page(
        fx.db(),
        fx.ws,
        &InboxQuery {
            filter: InboxFilter::Tag("a,b".into()),
            search: None,
        },
        None,
        10,
    )
    .await;
    assert!(
        matches!(refused, Err(StoreError::Invalid(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn search_finds_names_numbers_and_message_text() {
    let fx = Fx::new().await;
    let ana_lima = fx
        .contact(fx.ws, "351912345678", Some("Ana Lima"), Some("ana"), &[])
        .await;
    let by_name = fx
        .conversation_on(fx.ws, fx.phone, ana_lima, Conv::default())
        .await;
    let bruno = fx
        .contact(fx.ws, "5511987654321", None, Some("Bruno"), &[])
        .await;
    let by_profile = fx
        .conversation_on(fx.ws, fx.phone, bruno, Conv::default())
        .await;
    let by_number = fx.conversation("14155550123", Conv::default()).await;
    // No previews: the text must be found in the messages themselves.
    let by_text = fx.conversation("14155550124", Conv::default()).await;
    fx.message(
        by_text,
        inbound_text("wamid.t1", "Where is my ORDER 4711?", t(1)),
    )
    .await;
    fx.message(
        by_text,
        outbound_text(Some("wamid.t2"), "On its way", "sent", t(2)),
    )
    .await;
    let by_caption = fx.conversation("14155550125", Conv::default()).await;
    fx.message(
        by_caption,
        Msg {
            kind: "image",
            content: json!({"type": "image", "image": {"id": "m1", "mime_type": "image/jpeg", "caption": "Broken screen"}}),
            ..inbound_text("wamid.c1", "", t(1))
        },
    )
    .await;
    let by_template = fx.conversation("14155550126", Conv::default()).await;
    fx.message(
        by_template,
        Msg {
            kind: "template",
            content: json!({"type": "template", "template": {"name": "otp"}}),
            rendered: Some("Your code is 9981"),
            ..outbound_text(Some("wamid.o1"), "", "delivered", t(1))
        },
    )
    .await;
    let by_preview = fx
        .conversation(
            "14155550127",
            Conv {
                preview: Some("Reacted 👍 to: refund please"),
                ..Conv::default()
            },
        )
        .await;

    let cases: [(&str, Vec<Uuid>); 9] = [
        ("ana li", vec![by_name]),
        ("BRUNO", vec![by_profile]),
        ("+1 (415) 555-0123", vec![by_number]),
        ("87654", vec![by_profile]),
        ("order 4711", vec![by_text]),
        ("on its WAY", vec![by_text]),
        ("screen", vec![by_caption]),
        ("code is 99", vec![by_template]),
        ("refund", vec![by_preview]),
    ];
    for (search, want) in cases {
        let got = ids(&fx.page(InboxFilter::All, Some(search)).await);
        assert_eq!(sorted(got), sorted(want), "search {search:?}");
    }
    // A search of words is not a number: `ana 2` does not match every number with a 2.
    assert!(fx.page(InboxFilter::All, Some("ana 2")).await.is_empty());
    // A blank search is no search.
    assert_eq!(fx.page(InboxFilter::All, Some("  ")).await.len(), 7);
    // Search and filter together.
    assert!(
        fx.page(InboxFilter::Closed, Some("order 4711"))
            .await
            .is_empty()
    );
    // Another workspace's messages are not searched.
    let (other, _) = workspace(fx.db(), "other", "olga@example.com", "Olga").await;
    assert!(
        inbox::page(
            fx.db(),
            other,
            &InboxQuery {
                filter: InboxFilter::All,
                search: Some("order".into())
            },
            None,
            10
        )
        .await
        .unwrap()
        .is_empty()
    );
}

#[tokio::test]
async fn search_matches_like_wildcards_literally() {
    let fx = Fx::new().await;
    let percent = fx.conversation("14155550001", Conv::default()).await;
    fx.message(
        percent,
        inbound_text("wamid.p1", "Is the 50% discount real?", t(1)),
    )
    .await;
    let fifty = fx.conversation("14155550002", Conv::default()).await;
    fx.message(fifty, inbound_text("wamid.p2", "I want 50 pairs", t(1)))
        .await;
    let underscore = fx.conversation("14155550003", Conv::default()).await;
    fx.message(underscore, inbound_text("wamid.p3", "my user is a_b", t(1)))
        .await;
    let axb = fx.conversation("14155550004", Conv::default()).await;
    fx.message(axb, inbound_text("wamid.p4", "my user is axb", t(1)))
        .await;
    let backslash = fx.conversation("14155550005", Conv::default()).await;
    fx.message(backslash, inbound_text("wamid.p5", r"path C:\temp", t(1)))
        .await;

    assert_eq!(
        ids(&fx.page(InboxFilter::All, Some("50%")).await),
        [percent]
    );
    assert_eq!(
        ids(&fx.page(InboxFilter::All, Some("a_b")).await),
        [underscore]
    );
    assert_eq!(
        ids(&fx.page(InboxFilter::All, Some(r"C:\temp")).await),
        [backslash]
    );
    assert_eq!(fx.page(InboxFilter::All, Some("%")).await.len(), 1);
}

#[tokio::test]
async fn the_newest_message_gives_the_rows_direction_status_and_error() {
    let fx = Fx::new().await;
    let failed = fx
        .conversation(
            "14155550001",
            Conv {
                last_at: Some(t(3)),
                ..Conv::default()
            },
        )
        .await;
    // Written newest first: the thread's order decides, not the order of insertion.
    fx.message(
        failed,
        Msg {
            error_code: Some(131047),
            ..outbound_text(None, "Are you there?", "failed", t(3))
        },
    )
    .await;
    fx.message(failed, inbound_text("wamid.f1", "hello", t(1)))
        .await;
    let answered = fx
        .conversation(
            "14155550002",
            Conv {
                last_at: Some(t(2)),
                unread: 1,
                ..Conv::default()
            },
        )
        .await;
    fx.message(
        answered,
        outbound_text(Some("wamid.a1"), "hi", "read", t(0)),
    )
    .await;
    fx.message(answered, inbound_text("wamid.a2", "thanks", t(2)))
        .await;
    let empty = fx.conversation("14155550003", Conv::default()).await;

    let rows = fx.page(InboxFilter::All, None).await;
    let find = |id: Uuid| rows.iter().find(|r| r.id == id).unwrap().clone();
    let row = find(failed);
    assert_eq!(row.last_direction.as_deref(), Some("OUTBOUND"));
    assert_eq!(row.last_status, Some(MessageStatus::Failed));
    assert_eq!(row.last_error_code, Some(131047));
    let row = find(answered);
    assert_eq!(row.last_direction.as_deref(), Some("INBOUND"));
    assert_eq!(row.last_status, Some(MessageStatus::Received));
    assert_eq!(row.last_error_code, None);
    let row = find(empty);
    assert_eq!(row.last_direction, None);
    assert_eq!(row.last_status, None);
    assert_eq!(ids(&rows), [answered, failed, empty], "unread first");
}

#[tokio::test]
async fn row_refreshes_one_conversation_and_is_scoped_to_the_workspace() {
    let fx = Fx::new().await;
    let contact = fx
        .contact(
            fx.ws,
            "14155550001",
            Some("Ana Lima"),
            Some("ana"),
            &["vip"],
        )
        .await;
    let conversation = fx
        .conversation_on(
            fx.ws,
            fx.phone,
            contact,
            Conv {
                unread: 3,
                last_at: Some(t(9)),
                window: Some(t(24 * 60)),
                preview: Some("hello"),
                assignee: Some(fx.ana),
                ..Conv::default()
            },
        )
        .await;
    fx.message(conversation, inbound_text("wamid.r1", "hello", t(9)))
        .await;
    let row = inbox::row(fx.db(), fx.ws, conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row,
        InboxRow {
            id: conversation,
            contact_id: contact,
            contact_name: Some("Ana Lima".into()),
            wa_id: Some("14155550001".into()),
            status: "OPEN".into(),
            window_expires_at: Some(t(24 * 60)),
            last_message_at: Some(t(9)),
            last_message_preview: Some("hello".into()),
            last_direction: Some("INBOUND".into()),
            last_status: Some(MessageStatus::Received),
            last_error_code: None,
            unread_count: 3,
            assignee_id: Some(fx.ana),
            assignee_name: Some("Ana".into()),
            tags: vec!["vip".into()],
        }
    );
    assert_eq!(
        fx.page(InboxFilter::All, None).await,
        std::slice::from_ref(&row)
    );
    assert_eq!(
        row.cursor(),
        InboxCursor {
            unread: true,
            last_message_at: Some(t(9)),
            id: conversation
        }
    );
    // The profile name stands in for a missing name; the email for a missing user name.
    let nameless = fx
        .contact(fx.ws, "14155550002", None, Some("Bruno"), &[])
        .await;
    let other = fx
        .conversation_on(
            fx.ws,
            fx.phone,
            nameless,
            Conv {
                assignee: Some(fx.owner),
                ..Conv::default()
            },
        )
        .await;
    sqlx::query("UPDATE users SET name = NULL WHERE id = $1")
        .bind(fx.owner)
        .execute(fx.pool())
        .await
        .unwrap();
    let row = inbox::row(fx.db(), fx.ws, other).await.unwrap().unwrap();
    assert_eq!(row.contact_name.as_deref(), Some("Bruno"));
    assert_eq!(row.assignee_name.as_deref(), Some("olga@example.com"));

    let (elsewhere, _) = workspace(fx.db(), "other", "olga@example.com", "Olga").await;
    assert_eq!(
        inbox::row(fx.db(), elsewhere, conversation).await.unwrap(),
        None
    );
    assert_eq!(
        inbox::row(fx.db(), fx.ws, Uuid::now_v7()).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn counts_mine_unassigned_open_and_unread() {
    let fx = Fx::new().await;
    let conv = |wa_id: &'static str, c: Conv| fx.conversation(wa_id, c);
    conv(
        "14155550001",
        Conv {
            assignee: Some(fx.ana),
            unread: 1,
            ..Conv::default()
        },
    )
    .await;
    conv(
        "14155550002",
        Conv {
            assignee: Some(fx.ana),
            ..Conv::default()
        },
    )
    .await;
    conv(
        "14155550003",
        Conv {
            assignee: Some(fx.ana),
            status: Some("CLOSED"),
            unread: 2,
            ..Conv::default()
        },
    )
    .await;
    conv("14155550004", Conv::default()).await;
    conv(
        "14155550005",
        Conv {
            status: Some("EXPIRED"),
            ..Conv::default()
        },
    )
    .await;
    conv(
        "14155550006",
        Conv {
            assignee: Some(fx.owner),
            unread: 4,
            ..Conv::default()
        },
    )
    .await;
    let (other, _) = workspace(fx.db(), "other", "olga@example.com", "Olga").await;
    let other_phone = phone(fx.db(), other, "100000000000009").await;
    let stranger = fx.contact(other, "14155550001", None, None, &[]).await;
    fx.conversation_on(
        other,
        other_phone,
        stranger,
        Conv {
            assignee: Some(fx.ana),
            unread: 1,
            ..Conv::default()
        },
    )
    .await;

    let counts = inbox::counts(fx.db(), fx.ws, fx.ana).await.unwrap();
    assert_eq!(
        counts,
        inbox::InboxCounts {
            mine: 2,
            unassigned: 1,
            open: 4,
            unread: 3,
        }
    );
    let owner = inbox::counts(fx.db(), fx.ws, fx.owner).await.unwrap();
    assert_eq!(owner.mine, 1);
}

#[tokio::test]
async fn a_thread_page_is_newest_first_with_notes_merged_and_cursor_paging() {
    let fx = Fx::new().await;
    let conversation = fx.conversation("14155550001", Conv::default()).await;
    let mut messages = Vec::new();
    for (i, minute) in [0, 2, 4, 6, 8].into_iter().enumerate() {
        let wamid: &'static str = Box::leak(format!("wamid.m{i}").into_boxed_str());
        let msg = if i % 2 == 0 {
            inbound_text(wamid, &format!("message {i}"), t(minute))
        } else {
            outbound_text(Some(wamid), &format!("message {i}"), "delivered", t(minute))
        };
        messages.push((t(minute), fx.message(conversation, msg).await));
    }
    let mut notes = Vec::new();
    // The note at minute 4 shares its time with a message: the id decides.
    for (minute, body) in [(1, "called them"), (4, "same time"), (5, "refund approved")] {
        let id = agent::add_note(fx.db(), fx.ws, conversation, Some(fx.ana), body)
            .await
            .unwrap();
        sqlx::query("UPDATE conversation_notes SET created_at = $2 WHERE id = $1")
            .bind(id)
            .bind(t(minute))
            .execute(fx.pool())
            .await
            .unwrap();
        notes.push((t(minute), id));
    }
    // Another conversation's entries stay out.
    let other = fx.conversation("14155550002", Conv::default()).await;
    fx.message(other, inbound_text("wamid.x", "elsewhere", t(7)))
        .await;
    agent::add_note(fx.db(), fx.ws, other, None, "elsewhere")
        .await
        .unwrap();

    let mut expected: Vec<(DateTime<Utc>, Uuid)> =
        messages.iter().chain(notes.iter()).copied().collect();
    expected.sort_by(|a, b| b.cmp(a));

    let first = thread::page(fx.db(), fx.ws, conversation, None, 3)
        .await
        .unwrap();
    assert_eq!(first.len(), 3);
    assert!(matches!(&first[0], Entry::Message(m) if m.created_at == t(8)));
    assert!(matches!(&first[1], Entry::Message(m) if m.created_at == t(6)));
    assert!(
        matches!(&first[2], Entry::Note(n) if n.created_at == t(5) && n.body == "refund approved" && n.author_name.as_deref() == Some("Ana"))
    );

    let mut seen = Vec::new();
    let mut cursor: Option<ThreadCursor> = None;
    loop {
        let page = thread::page(fx.db(), fx.ws, conversation, cursor.as_ref(), 3)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 3);
        cursor = Some(page.last().unwrap().key());
        seen.extend(page.iter().map(|e| (e.created_at(), e.key().id)));
    }
    assert_eq!(seen, expected, "every entry once, newest first");
    assert_eq!(seen.len(), 8);
    // Scoped: the workspace must be the conversation's.
    let (elsewhere, _) = workspace(fx.db(), "other", "olga@example.com", "Olga").await;
    assert!(
        thread::page(fx.db(), elsewhere, conversation, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn thread_messages_carry_quoted_reactions_media_and_author() {
    let fx = Fx::new().await;
    let conversation = fx.conversation("14155550123", Conv::default()).await;
    let question = fx
        .message(
            conversation,
            inbound_text("wamid.q1", "Is it in stock?", t(0)),
        )
        .await;
    let reply = fx
        .message(
            conversation,
            Msg {
                context: Some("wamid.q1"),
                sent_by: Some(fx.ana),
                ..outbound_text(Some("wamid.r2"), "Yes, 3 left", "delivered", t(1))
            },
        )
        .await;
    let orphan = fx
        .message(
            conversation,
            Msg {
                context: Some("wamid.unknown"),
                ..inbound_text("wamid.o3", "about that one", t(2))
            },
        )
        .await;
    let image = fx
        .message(
            conversation,
            Msg {
                kind: "image",
                content: json!({"type": "image", "image": {"id": "media-1", "mime_type": "image/jpeg", "caption": "Broken screen"}}),
                ..inbound_text("wamid.i4", "", t(3))
            },
        )
        .await;
    let document = fx
        .message(
            conversation,
            Msg {
                kind: "document",
                content: json!({"type": "document", "document": {"id": "media-2", "mime_type": "application/pdf", "filename": "invoice.pdf"}}),
                ..inbound_text("wamid.d5", "", t(4))
            },
        )
        .await;
    let mut conn = fx.pool().acquire().await.unwrap();
    for (message, media_id, mime, filename) in [
        (image, "media-1", "image/jpeg", None),
        (document, "media-2", "application/pdf", Some("invoice.pdf")),
    ] {
        media::insert_inbound(
            &mut conn,
            fx.ws,
            message,
            &media::NewInbound {
                wa_media_id: media_id,
                mime_type: mime,
                sha256: None,
                filename,
            },
        )
        .await
        .unwrap();
    }
    let image_file = media::for_message(fx.db(), fx.ws, image).await.unwrap()[0].id;
    assert!(
        media::record_fetched(
            fx.db(),
            fx.ws,
            image_file,
            &media::Stored {
                storage_url: "s3://media/acme/1.jpg",
                size_bytes: 2048,
                sha256: "ab",
                mime_type: "image/jpeg",
            },
        )
        .await
        .unwrap()
    );
    let react = |target: &'static str,
                 reactor: &'static str,
                 emoji: Option<&'static str>,
                 at: DateTime<Utc>,
                 wamid: &'static str| {
        messages::Reaction {
            workspace: fx.ws,
            phone_number: fx.phone,
            target,
            reactor,
            emoji,
            at,
            wa_message_id: wamid,
        }
    };
    for reaction in [
        react("wamid.r2", "14155550123", Some("👍"), t(5), "wamid.re1"),
        react("wamid.q1", "business", Some("❤️"), t(5), "wamid.re2"),
        // The customer reacted to the question, then took it back.
        react("wamid.q1", "14155550123", Some("😮"), t(5), "wamid.re3"),
        react("wamid.q1", "14155550123", None, t(6), "wamid.re4"),
    ] {
        messages::record_reaction(&mut conn, &reaction)
            .await
            .unwrap();
    }
    drop(conn);

    let page = thread::page(fx.db(), fx.ws, conversation, None, 50)
        .await
        .unwrap();
    let message = |id: Uuid| {
        page.iter()
            .find_map(|e| match e {
                Entry::Message(m) if m.id == id => Some(m.clone()),
                _ => None,
            })
            .unwrap()
    };

    let m = message(reply);
    let quoted = m.quoted.clone().expect("the reply quotes the question");
    assert_eq!(quoted.direction, "INBOUND");
    assert_eq!(quoted.kind, "text");
    assert_eq!(quoted.content["text"]["body"], "Is it in stock?");
    assert_eq!(m.context_wa_message_id.as_deref(), Some("wamid.q1"));
    assert_eq!(m.sent_by_name.as_deref(), Some("Ana"));
    assert_eq!(m.status, MessageStatus::Delivered);
    assert_eq!(m.direction, "OUTBOUND");
    assert_eq!(
        m.reactions,
        [thread::ReactionMark {
            emoji: "👍".into(),
            direction: "INBOUND".into()
        }]
    );
    assert_eq!(m.media, None);

    let m = message(question);
    assert_eq!(
        m.reactions,
        [thread::ReactionMark {
            emoji: "❤️".into(),
            direction: "OUTBOUND".into()
        }],
        "the taken-back reaction is left out"
    );
    assert_eq!(m.quoted, None);
    assert_eq!(m.wa_timestamp, Some(t(0)));

    let m = message(orphan);
    assert_eq!(m.context_wa_message_id.as_deref(), Some("wamid.unknown"));
    assert_eq!(m.quoted, None);

    let m = message(image);
    assert_eq!(m.kind, "image");
    assert_eq!(
        m.media,
        Some(thread::MediaInfo {
            mime_type: Some("image/jpeg".into()),
            size: Some(2048),
            filename: None,
            storage_url: Some("s3://media/acme/1.jpg".into()),
            caption: Some("Broken screen".into()),
        })
    );
    let m = message(document);
    assert_eq!(
        m.media,
        Some(thread::MediaInfo {
            mime_type: Some("application/pdf".into()),
            size: None,
            filename: Some("invoice.pdf".into()),
            storage_url: None,
            caption: None,
        }),
        "not fetched yet"
    );
}

async fn template(pool: &PgPool, ws: WorkspaceId) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO templates (id, workspace_id, waba_id, name, language, category, status, components) \
         VALUES (gen_random_uuid(), $1, $2, 'promo', 'en_US', 'MARKETING', 'APPROVED', '[]') RETURNING id",
    )
    .bind(ws.0)
    .bind(WABA)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn recipient(
    fx: &Fx,
    template: Uuid,
    name: &str,
    contact: Uuid,
    status: &str,
    message: Option<Uuid>,
    at: DateTime<Utc>,
) {
    let campaign: Uuid = sqlx::query_scalar(
        "INSERT INTO campaigns (id, workspace_id, phone_number_id, template_id, name, status) \
         VALUES (gen_random_uuid(), $1, $2, $3, $4, 'COMPLETED') RETURNING id",
    )
    .bind(fx.ws.0)
    .bind(fx.phone)
    .bind(template)
    .bind(name)
    .fetch_one(fx.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO campaign_messages (id, workspace_id, campaign_id, contact_id, message_id, \
                                        status, created_at) \
         VALUES (gen_random_uuid(), $1, $2, $3, $4, $5::campaign_message_status, $6)",
    )
    .bind(fx.ws.0)
    .bind(campaign)
    .bind(contact)
    .bind(message)
    .bind(status)
    .bind(at)
    .execute(fx.pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn the_header_shows_the_number_the_contact_and_the_last_five_campaigns() {
    let fx = Fx::new().await;
    let contact: Uuid = sqlx::query_scalar(
        "INSERT INTO contacts (id, workspace_id, wa_id, name, profile_name, opted_in, tags, \
                               custom_fields) \
         VALUES (gen_random_uuid(), $1, '14155550123', 'Ana Lima', 'ana', true, '{lead,vip}', \
                 '{\"city\": \"Lisbon\"}') RETURNING id",
    )
    .bind(fx.ws.0)
    .fetch_one(fx.pool())
    .await
    .unwrap();
    let conversation = fx
        .conversation_on(
            fx.ws,
            fx.phone,
            contact,
            Conv {
                unread: 2,
                window: Some(t(24 * 60)),
                assignee: Some(fx.ana),
                ..Conv::default()
            },
        )
        .await;
    sqlx::query("UPDATE conversations SET last_inbound_at = $2 WHERE id = $1")
        .bind(conversation)
        .bind(t(0))
        .execute(fx.pool())
        .await
        .unwrap();
    let template = template(fx.pool(), fx.ws).await;
    for i in 0..5 {
        recipient(
            &fx,
            template,
            &format!("spring-{i}"),
            contact,
            "delivered",
            None,
            t(i),
        )
        .await;
    }
    let sent = fx
        .message(
            conversation,
            outbound_text(Some("wamid.c1"), "Sale!", "read", t(50)),
        )
        .await;
    sqlx::query("UPDATE messages SET sent_at = $2 WHERE id = $1")
        .bind(sent)
        .bind(t(51))
        .execute(fx.pool())
        .await
        .unwrap();
    recipient(&fx, template, "summer", contact, "read", Some(sent), t(50)).await;
    let someone_else = fx.contact(fx.ws, "14155550999", None, None, &[]).await;
    recipient(&fx, template, "autumn", someone_else, "sent", None, t(60)).await;

    let header = thread::header(fx.db(), fx.ws, conversation).await.unwrap();
    assert_eq!(header.conversation_id, conversation);
    assert_eq!(header.status, "OPEN");
    assert_eq!(header.window_expires_at, Some(t(24 * 60)));
    assert_eq!(header.last_inbound_at, Some(t(0)));
    assert_eq!(header.unread_count, 2);
    assert_eq!(header.assignee_id, Some(fx.ana));
    assert_eq!(header.assignee_name.as_deref(), Some("Ana"));
    assert_eq!(header.phone_number_id, NUMBER);
    assert_eq!(header.display_phone_number, "+1 555 0100");
    assert_eq!(header.waba_id, WABA);
    let card = &header.contact;
    assert_eq!(card.id, contact);
    assert_eq!(card.name.as_deref(), Some("Ana Lima"));
    assert_eq!(card.profile_name.as_deref(), Some("ana"));
    assert_eq!(card.wa_id.as_deref(), Some("14155550123"));
    assert!(card.opted_in);
    assert_eq!(card.opted_out_at, None);
    assert_eq!(card.tags, ["lead", "vip"]);
    assert_eq!(card.custom_fields, json!({"city": "Lisbon"}));
    let campaigns: Vec<(&str, &str, Option<DateTime<Utc>>)> = card
        .recent_campaigns
        .iter()
        .map(|c| (c.name.as_str(), c.status.as_str(), c.at))
        .collect();
    assert_eq!(
        campaigns,
        [
            ("summer", "read", Some(t(51))),
            ("spring-4", "delivered", None),
            ("spring-3", "delivered", None),
            ("spring-2", "delivered", None),
            ("spring-1", "delivered", None),
        ]
    );

    let missing = Uuid::now_v7();
    match thread::header(fx.db(), fx.ws, missing).await {
        Err(StoreError::NotFound(message)) => {
            assert!(message.contains(&missing.to_string()), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let (elsewhere, _) = workspace(fx.db(), "other", "olga@example.com", "Olga").await;
    assert!(matches!(
        thread::header(fx.db(), elsewhere, conversation).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn assigning_to_a_non_member_is_refused() {
    let fx = Fx::new().await;
    let conversation = fx.conversation("14155550001", Conv::default()).await;
    // Bob is a user (of another workspace), not a member of this one.
    let (_, bob) = workspace(fx.db(), "bobs", "bob@example.com", "Bob").await;
    for stranger in [bob, Uuid::now_v7()] {
        match agent::assign(fx.db(), fx.ws, conversation, Some(stranger)).await {
            Err(StoreError::Invalid(message)) => {
                assert!(message.contains("not a member"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
    let row = inbox::row(fx.db(), fx.ws, conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.assignee_id, None,
        "a refused assignment changes nothing"
    );

    agent::assign(fx.db(), fx.ws, conversation, Some(fx.ana))
        .await
        .unwrap();
    let row = inbox::row(fx.db(), fx.ws, conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.assignee_id, Some(fx.ana));
    assert_eq!(row.assignee_name.as_deref(), Some("Ana"));
    agent::assign(fx.db(), fx.ws, conversation, None)
        .await
        .unwrap();
    let row = inbox::row(fx.db(), fx.ws, conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.assignee_id, None);

    assert!(matches!(
        agent::assign(fx.db(), fx.ws, Uuid::now_v7(), Some(fx.ana)).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn agent_writes_announce_the_changed_conversations() {
    let fx = Fx::new().await;
    let second_phone = phone(fx.db(), fx.ws, "100000000000002").await;
    let contact = fx.contact(fx.ws, "14155550001", None, None, &[]).await;
    let first = fx
        .conversation_on(fx.ws, fx.phone, contact, Conv::default())
        .await;
    let second = fx
        .conversation_on(fx.ws, second_phone, contact, Conv::default())
        .await;
    let mut listener = PgListener::connect_with(fx.pool()).await.unwrap();
    listener.listen(events::CHANNEL).await.unwrap();
    let mut next = async || -> events::Change {
        let notification = tokio::time::timeout(Duration::from_secs(5), listener.recv())
            .await
            .expect("a notification within 5 s")
            .unwrap();
        serde_json::from_str(notification.payload()).unwrap()
    };
    let change = |conversation| events::Change {
        workspace_id: fx.ws.0,
        conversation_id: Some(conversation),
        campaign_id: None,
    };

    agent::close(fx.db(), fx.ws, first, None).await.unwrap();
    assert_eq!(next().await, change(first));
    agent::add_note(fx.db(), fx.ws, second, None, "VIP, be nice")
        .await
        .unwrap();
    assert_eq!(next().await, change(second));
    // A change of the contact announces each of its conversations.
    agent::set_tags(fx.db(), fx.ws, contact, &["vip".into()])
        .await
        .unwrap();
    let both: HashSet<Uuid> = [next().await, next().await]
        .into_iter()
        .filter_map(|c| c.conversation_id)
        .collect();
    assert_eq!(both, HashSet::from([first, second]));
}

#[tokio::test]
async fn close_and_reopen_set_the_status_and_closed_at() {
    let fx = Fx::new().await;
    let conversation = fx.conversation("14155550001", Conv::default()).await;
    let state = || async {
        sqlx::query_as::<_, (String, Option<DateTime<Utc>>)>(
            "SELECT status::text, closed_at FROM conversations WHERE id = $1",
        )
        .bind(conversation)
        .fetch_one(fx.pool())
        .await
        .unwrap()
    };
    agent::close(fx.db(), fx.ws, conversation, None)
        .await
        .unwrap();
    let (status, closed_at) = state().await;
    assert_eq!(status, "CLOSED");
    let closed_at = closed_at.expect("closed_at is set");
    // Closing again keeps the time it was closed.
    agent::close(fx.db(), fx.ws, conversation, None)
        .await
        .unwrap();
    assert_eq!(state().await, ("CLOSED".into(), Some(closed_at)));
    assert_eq!(
        ids(&fx.page(InboxFilter::Closed, None).await),
        [conversation]
    );

    agent::reopen(fx.db(), fx.ws, conversation).await.unwrap();
    assert_eq!(state().await, ("OPEN".into(), None));
    assert_eq!(ids(&fx.page(InboxFilter::Open, None).await), [conversation]);

    let (elsewhere, _) = workspace(fx.db(), "other", "olga@example.com", "Olga").await;
    assert!(matches!(
        agent::close(fx.db(), elsewhere, conversation, None).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        agent::reopen(fx.db(), fx.ws, Uuid::now_v7()).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn mark_read_returns_the_newest_inbound_wamid_then_none() {
    let fx = Fx::new().await;
    let conversation = fx
        .conversation(
            "14155550001",
            Conv {
                unread: 2,
                ..Conv::default()
            },
        )
        .await;
    fx.message(conversation, inbound_text("wamid.in1", "hi", t(0)))
        .await;
    fx.message(conversation, inbound_text("wamid.in2", "anyone?", t(1)))
        .await;
    // The newest message is the business's: the receipt is for the customer's newest.
    fx.message(
        conversation,
        outbound_text(Some("wamid.out"), "yes", "sent", t(2)),
    )
    .await;

    let receipt = agent::mark_read(fx.db(), fx.ws, conversation)
        .await
        .unwrap()
        .expect("a receipt to send");
    assert_eq!(
        receipt,
        agent::ReadReceipt {
            phone_number_id: NUMBER.into(),
            access_token: "token".into(),
            wa_message_id: "wamid.in2".into(),
        }
    );
    assert!(!format!("{receipt:?}").contains("token\""), "{receipt:?}");
    assert_eq!(fx.unread(conversation).await, 0);
    assert_eq!(
        agent::mark_read(fx.db(), fx.ws, conversation)
            .await
            .unwrap(),
        None,
        "already read: nothing to send"
    );

    // Unread, but nothing inbound to mark (a test put it there): cleared, no receipt.
    let silent = fx
        .conversation(
            "14155550002",
            Conv {
                unread: 1,
                ..Conv::default()
            },
        )
        .await;
    assert_eq!(
        agent::mark_read(fx.db(), fx.ws, silent).await.unwrap(),
        None
    );
    assert_eq!(fx.unread(silent).await, 0);
    assert!(matches!(
        agent::mark_read(fx.db(), fx.ws, Uuid::now_v7()).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn mark_unread_puts_back_at_least_one_unread() {
    let fx = Fx::new().await;
    let read = fx.conversation("14155550001", Conv::default()).await;
    let unread = fx
        .conversation(
            "14155550002",
            Conv {
                unread: 3,
                ..Conv::default()
            },
        )
        .await;
    agent::mark_unread(fx.db(), fx.ws, read).await.unwrap();
    agent::mark_unread(fx.db(), fx.ws, unread).await.unwrap();
    assert_eq!(fx.unread(read).await, 1);
    assert_eq!(fx.unread(unread).await, 3, "never lowers a count");
    assert!(matches!(
        agent::mark_unread(fx.db(), fx.ws, Uuid::now_v7()).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn notes_are_kept_with_their_author_and_refuse_empty_bodies() {
    let fx = Fx::new().await;
    let conversation = fx.conversation("14155550001", Conv::default()).await;
    let id = agent::add_note(
        fx.db(),
        fx.ws,
        conversation,
        Some(fx.ana),
        "  Called, no answer \n",
    )
    .await
    .unwrap();
    let anonymous = agent::add_note(fx.db(), fx.ws, conversation, None, "from a script")
        .await
        .unwrap();
    for empty in ["", "   \n\t"] {
        assert!(matches!(
            agent::add_note(fx.db(), fx.ws, conversation, Some(fx.ana), empty).await,
            Err(StoreError::Invalid(_))
        ));
    }
    let (elsewhere, _) = workspace(fx.db(), "other", "olga@example.com", "Olga").await;
    assert!(matches!(
        agent::add_note(fx.db(), elsewhere, conversation, None, "sneaky").await,
        Err(StoreError::NotFound(_))
    ));

    let entries = thread::page(fx.db(), fx.ws, conversation, None, 10)
        .await
        .unwrap();
    let notes: Vec<(Uuid, Option<String>, String)> = entries
        .into_iter()
        .map(|e| match e {
            Entry::Note(n) => (n.id, n.author_name, n.body),
            Entry::Message(m) => panic!("no messages here: {m:?}"),
        })
        .collect();
    assert_eq!(
        sorted(notes.iter().map(|n| n.0).collect()),
        sorted(vec![id, anonymous])
    );
    let ana = notes.iter().find(|n| n.0 == id).unwrap();
    assert_eq!(ana.1.as_deref(), Some("Ana"));
    assert_eq!(ana.2, "Called, no answer");
    // Removing the author keeps the note, nameless.
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(fx.ana)
        .execute(fx.pool())
        .await
        .unwrap();
    let entries = thread::page(fx.db(), fx.ws, conversation, None, 10)
        .await
        .unwrap();
    assert!(
        entries
            .iter()
            .all(|e| matches!(e, Entry::Note(n) if n.author_name.is_none()))
    );
}

#[tokio::test]
async fn set_tags_deduplicates_and_validates() {
    let fx = Fx::new().await;
    let contact = fx.contact(fx.ws, "14155550001", None, None, &["old"]).await;
    let conversation = fx
        .conversation_on(fx.ws, fx.phone, contact, Conv::default())
        .await;
    agent::set_tags(
        fx.db(),
        fx.ws,
        contact,
        &["VIP".into(), "lead".into(), "vip".into(), " Lead ".into()],
    )
    .await
    .unwrap();
    let row = inbox::row(fx.db(), fx.ws, conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.tags, ["lead", "vip"]);
    assert_eq!(
        ids(&fx.page(InboxFilter::Tag("vip".into()), None).await),
        [conversation]
    );

    match agent::set_tags(fx.db(), fx.ws, contact, &["ok".into(), "a,b".into()]).await {
        Err(StoreError::Invalid(message)) => assert!(message.contains("a,b"), "{message}"),
        other => panic!("{other:?}"),
    }
    let row = inbox::row(fx.db(), fx.ws, conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.tags, ["lead", "vip"], "a refused list changes nothing");

    agent::set_tags(fx.db(), fx.ws, contact, &[]).await.unwrap();
    let row = inbox::row(fx.db(), fx.ws, conversation)
        .await
        .unwrap()
        .unwrap();
    assert!(row.tags.is_empty());
    assert!(matches!(
        agent::set_tags(fx.db(), fx.ws, Uuid::now_v7(), &[]).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn toggling_opt_in_records_consent_events() {
    let fx = Fx::new().await;
    let contact = fx.contact(fx.ws, "14155550001", None, None, &[]).await;
    let conversation = fx
        .conversation_on(fx.ws, fx.phone, contact, Conv::default())
        .await;
    let events = || async {
        sqlx::query_as::<_, (bool, String, Option<String>)>(
            "SELECT opted_in, source, wa_message_id FROM consent_events \
             WHERE contact_id = $1 ORDER BY occurred_at, id",
        )
        .bind(contact)
        .fetch_all(fx.pool())
        .await
        .unwrap()
    };

    agent::set_opted_in(fx.db(), fx.ws, contact, true)
        .await
        .unwrap();
    let card = thread::header(fx.db(), fx.ws, conversation)
        .await
        .unwrap()
        .contact;
    assert!(card.opted_in);
    assert_eq!(events().await, [(true, "agent".into(), None)]);

    // Setting what is set records nothing.
    agent::set_opted_in(fx.db(), fx.ws, contact, true)
        .await
        .unwrap();
    assert_eq!(events().await.len(), 1);

    agent::set_opted_in(fx.db(), fx.ws, contact, false)
        .await
        .unwrap();
    let card = thread::header(fx.db(), fx.ws, conversation)
        .await
        .unwrap()
        .contact;
    assert!(!card.opted_in);
    assert!(card.opted_out_at.is_some());
    assert_eq!(
        events().await,
        [(true, "agent".into(), None), (false, "agent".into(), None)]
    );
    assert!(matches!(
        agent::set_opted_in(fx.db(), fx.ws, Uuid::now_v7(), true).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn canned_replies_upsert_list_delete_and_refuse_bad_codes() {
    let fx = Fx::new().await;
    let (other, _) = workspace(fx.db(), "other", "olga@example.com", "Olga").await;
    agent::save_canned_reply(fx.db(), fx.ws, "hours", "We open at 9.")
        .await
        .unwrap();
    agent::save_canned_reply(fx.db(), fx.ws, "greet", "Hello! How can we help?")
        .await
        .unwrap();
    agent::save_canned_reply(fx.db(), other, "hours", "Never.")
        .await
        .unwrap();
    let canned = |code: &str, body: &str| agent::Canned {
        code: code.into(),
        body: body.into(),
    };
    assert_eq!(
        agent::canned_replies(fx.db(), fx.ws).await.unwrap(),
        [
            canned("greet", "Hello! How can we help?"),
            canned("hours", "We open at 9.")
        ]
    );
    // Saving a code again replaces its body.
    agent::save_canned_reply(fx.db(), fx.ws, "hours", "We open at 8.")
        .await
        .unwrap();
    assert_eq!(
        agent::canned_replies(fx.db(), fx.ws).await.unwrap(),
        [
            canned("greet", "Hello! How can we help?"),
            canned("hours", "We open at 8.")
        ]
    );
    for bad in ["Hours", "-x", "a b", "", &"x".repeat(33)] {
        match agent::save_canned_reply(fx.db(), fx.ws, bad, "body").await {
            Err(StoreError::Invalid(message)) => {
                assert!(message.contains("lower-case letters, digits"), "{message}")
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    assert!(matches!(
        agent::save_canned_reply(fx.db(), fx.ws, "empty", "  ").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(
        agent::delete_canned_reply(fx.db(), fx.ws, "greet")
            .await
            .unwrap()
    );
    assert!(
        !agent::delete_canned_reply(fx.db(), fx.ws, "greet")
            .await
            .unwrap()
    );
    assert_eq!(
        agent::canned_replies(fx.db(), fx.ws).await.unwrap(),
        [canned("hours", "We open at 8.")]
    );
    assert_eq!(
        agent::canned_replies(fx.db(), other).await.unwrap(),
        [canned("hours", "Never.")],
        "each workspace has its own"
    );
}

#[tokio::test]
async fn users_are_found_by_email_with_their_workspaces_by_slug() {
    let fx = Fx::new().await;
    let (zeta, _) = workspace(fx.db(), "zeta", "zed@example.com", "Zed").await;
    members::add(
        fx.db(),
        zeta,
        &Email::parse("ana@example.com").unwrap(),
        None,
        Role::Admin,
    )
    .await
    .unwrap();
    let user = users::by_email(fx.db(), &Email::parse("Ana@Example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        user,
        users::User {
            id: fx.ana,
            email: "ana@example.com".into(),
            name: Some("Ana".into()),
        }
    );
    assert_eq!(
        users::by_email(fx.db(), &Email::parse("nobody@example.com").unwrap())
            .await
            .unwrap(),
        None
    );
    let memberships: Vec<(String, Role)> = users::memberships(fx.db(), fx.ana)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.workspace.slug, m.role))
        .collect();
    assert_eq!(
        memberships,
        [("acme".into(), Role::Member), ("zeta".into(), Role::Admin)]
    );
    assert!(
        users::memberships(fx.db(), Uuid::now_v7())
            .await
            .unwrap()
            .is_empty()
    );
}

/// Every node of a JSON plan that scans `relation`, with whether a Sort is above it.
fn scans<'a>(
    node: &'a Value,
    relation: &str,
    sorted_above: bool,
    out: &mut Vec<(&'a Value, bool)>,
) {
    if node["Relation Name"] == relation {
        out.push((node, sorted_above));
    }
    let sorted_here =
        sorted_above || node["Node Type"] == "Sort" || node["Node Type"] == "Incremental Sort";
    if let Some(children) = node["Plans"].as_array() {
        for child in children {
            scans(child, relation, sorted_here, out);
        }
    }
}

#[tokio::test]
async fn the_unfiltered_page_is_an_index_scan_without_a_sort() {
    let fx = Fx::new().await;
    let (other, _) = workspace(fx.db(), "other", "olga@example.com", "Olga").await;
    let other_phone = phone(fx.db(), other, "100000000000009").await;
    // Enough rows, in this workspace and another one, and as many messages a conversation as a
    // busy inbox has (1M for 100k), that the planner's choice is the one it makes in production.
    for (ws, phone) in [(fx.ws, fx.phone), (other, other_phone)] {
        sqlx::query(
            "WITH c AS ( \
                 INSERT INTO contacts (id, workspace_id, wa_id) \
                 SELECT gen_random_uuid(), $1, (14150000000 + i)::text \
                 FROM generate_series(1, 2000) i RETURNING id), \
             v AS ( \
                 INSERT INTO conversations (id, workspace_id, phone_number_id, contact_id, \
                                            unread_count, last_message_at) \
                 SELECT gen_random_uuid(), $1, $2, c.id, (random() < 0.1)::int, \
                        now() - random() * interval '30 days' \
                 FROM c RETURNING id, last_message_at) \
             INSERT INTO messages (id, workspace_id, conversation_id, phone_number_id, direction, \
                                   type, content, status, created_at) \
             SELECT gen_random_uuid(), $1, v.id, $2, 'OUTBOUND', 'text', '{}', 'pending', \
                    v.last_message_at - k * interval '1 minute' \
             FROM v, generate_series(0, 9) k",
        )
        .bind(ws.0)
        .bind(phone)
        .execute(fx.pool())
        .await
        .unwrap();
    }
    sqlx::query("ANALYZE conversations, contacts, messages, users")
        .execute(fx.pool())
        .await
        .unwrap();

    let mut conn = fx.pool().acquire().await.unwrap();
    let query = InboxQuery::default();
    let first = inbox::page(fx.db(), fx.ws, &query, None, 40).await.unwrap();
    let cursor = first.last().unwrap().cursor();
    for after in [None, Some(&cursor)] {
        let plan = inbox::explain_page(&mut conn, fx.ws, &query, after, 40)
            .await
            .unwrap();
        let root = &plan[0]["Plan"];
        let mut found = Vec::new();
        scans(root, "conversations", false, &mut found);
        assert_eq!(found.len(), 1, "{plan:#}");
        let (scan, sorted_above) = found[0];
        assert_eq!(
            scan["Index Name"], "conversations_inbox_order_idx",
            "{plan:#}"
        );
        assert_eq!(scan["Scan Direction"], "Backward", "{plan:#}");
        assert!(
            !sorted_above,
            "no Sort above the conversations scan: {plan:#}"
        );
        if after.is_some() {
            // The cursor is a range of the index, not a filter of what it reads.
            let condition = scan["Index Cond"].as_str().unwrap_or_default();
            assert!(condition.contains("ROW("), "{plan:#}");
        }
        // The newest message of each row is one probe of the thread index.
        let mut messages = Vec::new();
        scans(root, "messages", false, &mut messages);
        assert_eq!(messages.len(), 1, "{plan:#}");
        assert_eq!(
            messages[0].0["Index Name"], "messages_thread_idx",
            "{plan:#}"
        );
    }
}
