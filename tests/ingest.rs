//! Ingest against real PostgreSQL: every inbound message type and status of the spec, from the
//! project's own samples, lands once, in the right workspace, and statuses only move forward
//! whatever order and duplication they arrive in.

mod common;

use chrono::{DateTime, TimeZone, Utc};
use common::TestDb;
use proptest::prelude::*;
use secrecy::SecretString;
use serde_json::{Value, json};
use treeex::app::ingest::{self, IngestSettings, Receipt};
use treeex::domain::{Email, Slug, WorkspaceId};
use treeex::store::phones::{self, NewPhoneNumber};
use treeex::store::webhooks::Outcome;
use treeex::store::{Db, workspaces};
use uuid::Uuid;

const NUMBER: &str = "100200300400500";
const WABA: &str = "109876543210987";
const CUSTOMER: &str = "14155550123";

fn settings() -> IngestSettings {
    IngestSettings::from_config(&treeex::config::Config::default().ingest)
}

struct Fixture {
    db: TestDb,
    workspace: WorkspaceId,
    phone: Uuid,
}

impl Fixture {
    async fn new() -> Self {
        let db = TestDb::new().await;
        let (workspace, phone) = connect(&db.db, "acme", NUMBER, WABA).await;
        Fixture {
            db,
            workspace,
            phone,
        }
    }

    fn pool(&self) -> &sqlx::PgPool {
        self.db.pool()
    }

    async fn receive(&self, body: &Value) -> Receipt {
        ingest::receive(&self.db.db, &settings(), body.to_string().as_bytes())
            .await
            .unwrap()
    }

    /// Receives one inbound message item from CUSTOMER and returns its stored row.
    async fn inbound(&self, item: Value) -> StoredMessage {
        let id = item["id"].as_str().unwrap().to_string();
        let receipt = self.receive(&messages_body(NUMBER, vec![item])).await;
        assert_eq!(receipt.outcome, Outcome::Applied, "{receipt:?}");
        self.message(&id).await.expect("the message is stored")
    }

    async fn message(&self, wamid: &str) -> Option<StoredMessage> {
        sqlx::query_as(
            "SELECT type, content, status::text, context_wa_message_id, edited_at, revoked_at, \
                    error_code, error_title, error_details, workspace_id \
             FROM messages WHERE wa_message_id = $1",
        )
        .bind(wamid)
        .fetch_optional(self.pool())
        .await
        .unwrap()
    }

    async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.pool())
            .await
            .unwrap()
    }

    /// An outbound message already accepted by Meta, as the outbox leaves it.
    async fn outbound(&self, wamid: &str) -> Uuid {
        let contact: Uuid = sqlx::query_scalar(
            "INSERT INTO contacts (id, workspace_id, wa_id) VALUES (gen_random_uuid(), $1, $2) \
             ON CONFLICT (workspace_id, wa_id) DO UPDATE SET wa_id = EXCLUDED.wa_id RETURNING id",
        )
        .bind(self.workspace.0)
        .bind(CUSTOMER)
        .fetch_one(self.pool())
        .await
        .unwrap();
        let conversation: Uuid = sqlx::query_scalar(
            "INSERT INTO conversations (id, workspace_id, phone_number_id, contact_id) \
             VALUES (gen_random_uuid(), $1, $2, $3) \
             ON CONFLICT (phone_number_id, contact_id) DO UPDATE SET updated_at = now() RETURNING id",
        )
        .bind(self.workspace.0)
        .bind(self.phone)
        .bind(contact)
        .fetch_one(self.pool())
        .await
        .unwrap();
        sqlx::query_scalar(
            "INSERT INTO messages (id, workspace_id, conversation_id, phone_number_id, wa_message_id, \
                                   direction, type, content, status, sent_at) \
             VALUES (gen_random_uuid(), $1, $2, $3, $4, 'OUTBOUND', 'text', '{}', 'sent', to_timestamp(5)) RETURNING id",
        )
        .bind(self.workspace.0)
        .bind(conversation)
        .bind(self.phone)
        .bind(wamid)
        .fetch_one(self.pool())
        .await
        .unwrap()
    }
}

#[derive(Debug, sqlx::FromRow)]
struct StoredMessage {
    r#type: String,
    content: Value,
    status: String,
    context_wa_message_id: Option<String>,
    edited_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    error_code: Option<i32>,
    error_title: Option<String>,
    error_details: Option<String>,
    workspace_id: Uuid,
}

async fn connect(db: &Db, slug: &str, number: &str, waba: &str) -> (WorkspaceId, Uuid) {
    let workspace = workspaces::create(
        db,
        workspaces::NewWorkspace {
            slug: &Slug::parse(slug).unwrap(),
            name: slug,
            owner: Some((&Email::parse("owner@example.com").unwrap(), None)),
        },
    )
    .await
    .unwrap()
    .workspace
    .workspace_id();
    let phone = phones::add(
        db,
        workspace,
        NewPhoneNumber {
            phone_number_id: number,
            display_phone_number: "+1 555 000 1111",
            waba_id: waba,
            access_token: &SecretString::from("token"),
            mps: 80,
        },
    )
    .await
    .unwrap()
    .id;
    (workspace, phone)
}

fn envelope(field: &str, value: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": WABA, "changes": [{ "field": field, "value": value }] }]
    })
}

fn messages_body(number: &str, messages: Vec<Value>) -> Value {
    envelope(
        "messages",
        json!({
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550001111", "phone_number_id": number },
            "contacts": [{ "profile": { "name": "Ana Souza" }, "wa_id": CUSTOMER }],
            "messages": messages,
        }),
    )
}

fn statuses_body(statuses: Vec<Value>) -> Value {
    envelope(
        "messages",
        json!({
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550001111", "phone_number_id": NUMBER },
            "statuses": statuses,
        }),
    )
}

fn item(id: &str, seconds: i64, kind: &str, object: Value) -> Value {
    let mut item =
        json!({ "from": CUSTOMER, "id": id, "timestamp": seconds.to_string(), "type": kind });
    item[kind] = object;
    item
}

fn status(id: &str, status: &str, seconds: i64) -> Value {
    json!({ "id": id, "status": status, "timestamp": seconds.to_string(), "recipient_id": CUSTOMER })
}

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).unwrap()
}

#[tokio::test]
async fn a_text_opens_the_conversation_and_its_window() {
    let f = Fixture::new().await;
    let stored = f
        .inbound(item(
            "wamid.T1",
            1_750_090_702,
            "text",
            json!({ "body": "Does it come in blue?" }),
        ))
        .await;
    assert_eq!(stored.r#type, "text");
    assert_eq!(stored.status, "received");
    assert_eq!(stored.content["text"]["body"], "Does it come in blue?");
    assert_eq!(stored.workspace_id, f.workspace.0);
    let (profile_name, unread, window, preview, status): (
        String,
        i32,
        DateTime<Utc>,
        String,
        String,
    ) = sqlx::query_as(
        "SELECT c.profile_name, v.unread_count, v.window_expires_at, v.last_message_preview, \
                    v.status::text \
             FROM conversations v JOIN contacts c ON c.id = v.contact_id",
    )
    .fetch_one(f.pool())
    .await
    .unwrap();
    assert_eq!(profile_name, "Ana Souza");
    assert_eq!(unread, 1);
    assert_eq!(window, at(1_750_090_702 + 24 * 3600));
    assert_eq!(preview, "Does it come in blue?");
    assert_eq!(status, "OPEN");
}

#[tokio::test]
async fn media_messages_of_every_kind_are_kept_with_their_media_ids() {
    let f = Fixture::new().await;
    let samples = [
        (
            "image",
            json!({ "caption": "Broken lid", "mime_type": "image/jpeg", "sha256": "SfInY0g=", "id": "1003383421387256" }),
        ),
        (
            "audio",
            json!({ "mime_type": "audio/ogg; codecs=opus", "sha256": "wvqX=", "id": "1908647269898587", "voice": true }),
        ),
        (
            "video",
            json!({ "caption": "Unboxing", "mime_type": "video/mp4", "sha256": "vdGU=", "id": "731675419373506" }),
        ),
        (
            "document",
            json!({ "caption": "my receipt", "filename": "receipt.pdf", "mime_type": "application/pdf", "sha256": "V5OP=", "id": "622684793477189" }),
        ),
        (
            "sticker",
            json!({ "mime_type": "image/webp", "sha256": "OmT4=", "id": "1908647269898000", "animated": false }),
        ),
    ];
    for (n, (kind, object)) in samples.into_iter().enumerate() {
        let id = format!("wamid.M{n}");
        let media_id = object["id"].clone();
        let stored = f
            .inbound(item(&id, 1_750_090_710 + n as i64, kind, object))
            .await;
        assert_eq!(stored.r#type, kind);
        assert_eq!(stored.content[kind]["id"], media_id, "{kind}");
    }
    assert_eq!(f.count("SELECT count(*) FROM messages").await, 5);
    assert_eq!(f.count("SELECT count(*) FROM conversations").await, 1);
}

#[tokio::test]
async fn locations_contacts_orders_and_interactive_replies_are_kept() {
    let f = Fixture::new().await;
    let location = f
        .inbound(item("wamid.L", 1_750_090_760, "location", json!({ "latitude": 37.44221496582, "longitude": -122.16165924072, "name": "Philz Coffee" })))
        .await;
    assert_eq!(location.content["location"]["latitude"], 37.44221496582);
    let card = f
        .inbound(item("wamid.C", 1_750_090_770, "contacts", json!([{ "name": { "formatted_name": "Bruno Lima" }, "phones": [{ "phone": "+1 (415) 555-0199", "wa_id": "14155550199" }] }])))
        .await;
    assert_eq!(
        card.content["contacts"][0]["name"]["formatted_name"],
        "Bruno Lima"
    );
    let order = f
        .inbound(item("wamid.O", 1_750_090_775, "order", json!({ "catalog_id": "1", "product_items": [{ "product_retailer_id": "sku", "quantity": 2, "item_price": 9.5, "currency": "USD" }] })))
        .await;
    assert_eq!(order.content["order"]["product_items"][0]["quantity"], 2);
    for (id, reply) in [
        (
            "wamid.I1",
            json!({ "type": "button_reply", "button_reply": { "id": "reschedule", "title": "Change" } }),
        ),
        (
            "wamid.I2",
            json!({ "type": "list_reply", "list_reply": { "id": "ship_express", "title": "Express", "description": "1-2 days" } }),
        ),
        (
            "wamid.I3",
            json!({ "type": "nfm_reply", "nfm_reply": { "response_json": "{\"flow_token\":\"x\"}", "body": "Sent", "name": "flow" } }),
        ),
    ] {
        let mut message = item(id, 1_750_090_780, "interactive", reply.clone());
        message["context"] = json!({ "from": "15550001111", "id": "wamid.OUT1" });
        let stored = f.inbound(message).await;
        assert_eq!(stored.r#type, "interactive");
        assert_eq!(stored.content["interactive"], reply);
        assert_eq!(stored.context_wa_message_id.as_deref(), Some("wamid.OUT1"));
    }
    let mut button = item(
        "wamid.B",
        1_750_090_800,
        "button",
        json!({ "payload": "TRACK", "text": "Track" }),
    );
    button["context"] = json!({ "from": "15550001111", "id": "wamid.OUT3" });
    let stored = f.inbound(button).await;
    assert_eq!(stored.content["button"]["payload"], "TRACK");
    assert_eq!(stored.context_wa_message_id.as_deref(), Some("wamid.OUT3"));
}

#[tokio::test]
async fn unsupported_and_unknown_types_are_kept_whole() {
    let f = Fixture::new().await;
    let mut unsupported = item(
        "wamid.U1",
        1_750_090_830,
        "unsupported",
        json!({ "type": "edit" }),
    );
    unsupported["errors"] = json!([{ "code": 131051, "title": "Message type unknown" }]);
    let stored = f.inbound(unsupported.clone()).await;
    assert_eq!(stored.r#type, "unsupported");
    assert_eq!(stored.content, unsupported);
    let future = item("wamid.U2", 1_750_090_831, "hologram", json!({ "depth": 3 }));
    let stored = f.inbound(future.clone()).await;
    assert_eq!(stored.r#type, "hologram");
    assert_eq!(stored.content, future);
    // An interactive message with no interactive object (a real Meta payload) is kept too.
    let empty = json!({ "from": CUSTOMER, "id": "wamid.U3", "timestamp": "1750090832", "type": "interactive" });
    assert_eq!(f.inbound(empty).await.r#type, "interactive");
}

#[tokio::test]
async fn a_reaction_attaches_to_its_target_and_an_empty_emoji_removes_it() {
    let f = Fixture::new().await;
    f.outbound("wamid.OUT1").await;
    let react = |id: &str, seconds: i64, emoji: Option<&str>| {
        let mut reaction = json!({ "message_id": "wamid.OUT1" });
        if let Some(emoji) = emoji {
            reaction["emoji"] = json!(emoji);
        }
        item(id, seconds, "reaction", reaction)
    };
    let reaction = || async {
        sqlx::query_scalar::<_, Option<String>>(
            "SELECT emoji FROM message_reactions WHERE target_wa_message_id = 'wamid.OUT1'",
        )
        .fetch_one(f.pool())
        .await
        .unwrap()
    };
    f.receive(&messages_body(
        NUMBER,
        vec![react("wamid.R1", 100, Some("\u{1f62e}"))],
    ))
    .await;
    assert_eq!(reaction().await.as_deref(), Some("\u{1f62e}"));
    // The un-react, then a late copy of the older reaction: the removal stands.
    f.receive(&messages_body(
        NUMBER,
        vec![react("wamid.R2", 200, Some(""))],
    ))
    .await;
    f.receive(&messages_body(
        NUMBER,
        vec![react("wamid.R1", 100, Some("\u{1f62e}"))],
    ))
    .await;
    assert_eq!(reaction().await, None);
    // A reaction is not a row of the thread.
    assert_eq!(
        f.count("SELECT count(*) FROM messages WHERE direction = 'INBOUND'")
            .await,
        0
    );
}

#[tokio::test]
async fn edits_and_revokes_change_their_original() {
    let f = Fixture::new().await;
    f.inbound(item("wamid.E0", 100, "text", json!({ "body": "Helo" })))
        .await;
    f.receive(&messages_body(
        NUMBER,
        vec![item("wamid.E1", 160, "edit", json!({ "original_message_id": "wamid.E0", "message": { "type": "text", "text": { "body": "Hello" } } }))],
    ))
    .await;
    let edited = f.message("wamid.E0").await.unwrap();
    assert_eq!(edited.edited_at, Some(at(160)));
    assert_eq!(edited.content["edited_message"]["text"]["body"], "Hello");
    f.receive(&messages_body(
        NUMBER,
        vec![item(
            "wamid.E2",
            170,
            "revoke",
            json!({ "original_message_id": "wamid.E0" }),
        )],
    ))
    .await;
    assert_eq!(
        f.message("wamid.E0").await.unwrap().revoked_at,
        Some(at(170))
    );
    // An edit of a message treeex never saw is kept as a row of its own.
    f.receive(&messages_body(
        NUMBER,
        vec![item("wamid.E3", 180, "edit", json!({ "original_message_id": "wamid.NEVER", "message": { "type": "text", "text": { "body": "?" } } }))],
    ))
    .await;
    assert_eq!(f.message("wamid.E3").await.unwrap().r#type, "edit");
}

#[tokio::test]
async fn a_changed_number_moves_the_contact() {
    let f = Fixture::new().await;
    f.inbound(item("wamid.S0", 100, "text", json!({ "body": "hi" })))
        .await;
    let system = json!({ "from": CUSTOMER, "id": "wamid.S1", "timestamp": "200", "type": "system",
        "system": { "body": "User Ana changed from 14155550123 to 14155550777", "wa_id": "14155550777", "type": "user_changed_number" } });
    let body = envelope(
        "messages",
        json!({ "messaging_product": "whatsapp",
                "metadata": { "display_phone_number": "15550001111", "phone_number_id": NUMBER },
                "messages": [system] }),
    );
    f.receive(&body).await;
    let wa_ids: Vec<String> = sqlx::query_scalar("SELECT wa_id FROM contacts")
        .fetch_all(f.pool())
        .await
        .unwrap();
    assert_eq!(wa_ids, ["14155550777"]);
    assert_eq!(f.message("wamid.S1").await.unwrap().r#type, "system");
}

#[tokio::test]
async fn a_redelivered_message_is_one_row_and_counts_once() {
    let f = Fixture::new().await;
    let message = item("wamid.D1", 100, "text", json!({ "body": "once" }));
    f.receive(&messages_body(NUMBER, vec![message.clone()]))
        .await;
    f.receive(&messages_body(NUMBER, vec![message.clone(), message]))
        .await;
    assert_eq!(f.count("SELECT count(*) FROM messages").await, 1);
    assert_eq!(
        f.count("SELECT sum(unread_count)::bigint FROM conversations")
            .await,
        1
    );
}

#[tokio::test]
async fn the_window_never_moves_backwards_and_a_closed_conversation_reopens() {
    let f = Fixture::new().await;
    f.inbound(item("wamid.W2", 2_000, "text", json!({ "body": "later" })))
        .await;
    sqlx::query("UPDATE conversations SET status = 'CLOSED', closed_at = now()")
        .execute(f.pool())
        .await
        .unwrap();
    // An older message arriving late: the window and the preview keep the later one.
    f.inbound(item(
        "wamid.W1",
        1_000,
        "text",
        json!({ "body": "earlier" }),
    ))
    .await;
    let (window, preview, status, unread): (DateTime<Utc>, String, String, i32) = sqlx::query_as(
        "SELECT window_expires_at, last_message_preview, status::text, unread_count FROM conversations",
    )
    .fetch_one(f.pool())
    .await
    .unwrap();
    assert_eq!(window, at(2_000 + 24 * 3600));
    assert_eq!(preview, "later");
    assert_eq!(status, "OPEN");
    assert_eq!(unread, 2);
}

#[tokio::test]
async fn every_item_of_every_entry_and_change_is_applied() {
    let f = Fixture::new().await;
    let value = |ids: [&str; 2]| {
        json!({ "messaging_product": "whatsapp",
                "metadata": { "display_phone_number": "15550001111", "phone_number_id": NUMBER },
                "messages": ids.iter().map(|id| item(id, 100, "text", json!({ "body": id }))).collect::<Vec<_>>() })
    };
    let body = json!({ "object": "whatsapp_business_account", "entry": [
        { "id": WABA, "changes": [ { "field": "messages", "value": value(["wamid.A", "wamid.B"]) },
                                   { "field": "messages", "value": value(["wamid.C", "wamid.D"]) } ] },
        { "id": WABA, "changes": [ { "field": "messages", "value": value(["wamid.E", "wamid.F"]) } ] } ] });
    let receipt = f.receive(&body).await;
    assert_eq!(receipt.events, 6);
    assert_eq!(f.count("SELECT count(*) FROM messages").await, 6);
}

#[tokio::test]
async fn each_number_routes_to_its_own_workspace_only() {
    let f = Fixture::new().await;
    let (other, _) = connect(&f.db.db, "other", "999888777666555", "111222333444555").await;
    f.receive(&messages_body(
        NUMBER,
        vec![item("wamid.X1", 100, "text", json!({ "body": "acme" }))],
    ))
    .await;
    f.receive(&messages_body(
        "999888777666555",
        vec![item("wamid.X2", 100, "text", json!({ "body": "other" }))],
    ))
    .await;
    assert_eq!(
        f.message("wamid.X1").await.unwrap().workspace_id,
        f.workspace.0
    );
    assert_eq!(f.message("wamid.X2").await.unwrap().workspace_id, other.0);
    let contacts: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT workspace_id, wa_id FROM contacts ORDER BY workspace_id")
            .fetch_all(f.pool())
            .await
            .unwrap();
    assert_eq!(contacts.len(), 2, "one contact per workspace: {contacts:?}");
}

#[tokio::test]
async fn an_unknown_number_is_kept_as_a_failure_not_dropped() {
    let f = Fixture::new().await;
    let body = messages_body(
        "555000111222333",
        vec![item("wamid.N1", 100, "text", json!({ "body": "lost?" }))],
    );
    let receipt = f.receive(&body).await;
    assert_eq!(receipt.outcome, Outcome::Unapplied);
    let (reason, payload): (String, Value) =
        sqlx::query_as("SELECT reason, payload FROM webhook_failures")
            .fetch_one(f.pool())
            .await
            .unwrap();
    assert_eq!(reason, "no workspace has phone number id 555000111222333");
    assert_eq!(payload, body, "the part is kept verbatim");
    assert_eq!(f.count("SELECT count(*) FROM messages").await, 0);
}

#[tokio::test]
async fn statuses_move_forward_only_and_failures_carry_their_reason() {
    let f = Fixture::new().await;
    f.outbound("wamid.OUT1").await;
    f.outbound("wamid.OUT2").await;
    f.receive(&statuses_body(vec![status("wamid.OUT1", "read", 300)]))
        .await;
    f.receive(&statuses_body(vec![
        status("wamid.OUT1", "delivered", 200),
        status("wamid.OUT1", "sent", 100),
    ]))
    .await;
    assert_eq!(f.message("wamid.OUT1").await.unwrap().status, "read");
    let (delivered, read): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = sqlx::query_as(
        "SELECT delivered_at, read_at FROM messages WHERE wa_message_id = 'wamid.OUT1'",
    )
    .fetch_one(f.pool())
    .await
    .unwrap();
    assert_eq!((delivered, read), (Some(at(200)), Some(at(300))));
    // A failure after delivery changes nothing.
    f.receive(&statuses_body(vec![status("wamid.OUT1", "failed", 400)]))
        .await;
    assert_eq!(f.message("wamid.OUT1").await.unwrap().status, "read");

    let mut failed = status("wamid.OUT2", "failed", 500);
    failed["errors"] = json!([{ "code": 131047, "title": "Re-engagement message",
        "error_data": { "details": "more than 24 hours have passed since the customer last replied" } }]);
    f.receive(&statuses_body(vec![failed])).await;
    let stored = f.message("wamid.OUT2").await.unwrap();
    assert_eq!(stored.status, "failed");
    assert_eq!(stored.error_code, Some(131047));
    assert_eq!(stored.error_title.as_deref(), Some("Re-engagement message"));
    assert!(stored.error_details.unwrap().contains("24 hours"));
}

#[tokio::test]
async fn a_status_before_its_message_is_parked_then_applied() {
    let f = Fixture::new().await;
    let receipt = f
        .receive(&statuses_body(vec![status(
            "wamid.EARLY",
            "delivered",
            200,
        )]))
        .await;
    assert_eq!(receipt.outcome, Outcome::Applied);
    assert_eq!(f.count("SELECT count(*) FROM parked_statuses").await, 1);
    // The send's response arrives: the outbox records the wamid, then applies what was parked.
    f.outbound("wamid.EARLY").await;
    let mut conn = f.pool().acquire().await.unwrap();
    let moved =
        treeex::store::messages::apply_parked(&mut conn, f.workspace, f.phone, "wamid.EARLY")
            .await
            .unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(f.message("wamid.EARLY").await.unwrap().status, "delivered");
    assert_eq!(f.count("SELECT count(*) FROM parked_statuses").await, 0);
}

#[tokio::test]
async fn campaign_counters_follow_their_recipients_exactly() {
    let f = Fixture::new().await;
    let template: Uuid = sqlx::query_scalar(
        "INSERT INTO templates (id, workspace_id, waba_id, name, language, category, status) \
         VALUES (gen_random_uuid(), $1, $2, 'spring_sale', 'en_US', 'MARKETING', 'APPROVED') RETURNING id",
    )
    .bind(f.workspace.0)
    .bind(WABA)
    .fetch_one(f.pool())
    .await
    .unwrap();
    let campaign: Uuid = sqlx::query_scalar(
        "INSERT INTO campaigns (id, workspace_id, phone_number_id, template_id, name, status, total_contacts) \
         VALUES (gen_random_uuid(), $1, $2, $3, 'spring', 'RUNNING', 3) RETURNING id",
    )
    .bind(f.workspace.0)
    .bind(f.phone)
    .bind(template)
    .fetch_one(f.pool())
    .await
    .unwrap();
    for (n, wamid) in ["wamid.C1", "wamid.C2", "wamid.C3"].iter().enumerate() {
        let message = f.outbound(wamid).await;
        let contact: Uuid = sqlx::query_scalar(
            "INSERT INTO contacts (id, workspace_id, wa_id) VALUES (gen_random_uuid(), $1, $2) RETURNING id",
        )
        .bind(f.workspace.0)
        .bind(format!("1415555090{n}"))
        .fetch_one(f.pool())
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO campaign_messages (id, workspace_id, campaign_id, contact_id, message_id, status) \
             VALUES (gen_random_uuid(), $1, $2, $3, $4, 'sent')",
        )
        .bind(f.workspace.0)
        .bind(campaign)
        .bind(contact)
        .bind(message)
        .execute(f.pool())
        .await
        .unwrap();
    }
    sqlx::query("UPDATE campaigns SET sent_count = 3 WHERE id = $1")
        .bind(campaign)
        .execute(f.pool())
        .await
        .unwrap();
    // Out of order, duplicated, one failing.
    f.receive(&statuses_body(vec![
        status("wamid.C1", "read", 300),
        status("wamid.C2", "delivered", 200),
        status("wamid.C1", "delivered", 200),
        status("wamid.C3", "failed", 250),
    ]))
    .await;
    f.receive(&statuses_body(vec![
        status("wamid.C2", "delivered", 200),
        status("wamid.C1", "read", 300),
    ]))
    .await;
    let counters: (i32, i32, i32, i32) = sqlx::query_as(
        "SELECT sent_count, delivered_count, read_count, failed_count FROM campaigns WHERE id = $1",
    )
    .bind(campaign)
    .fetch_one(f.pool())
    .await
    .unwrap();
    assert_eq!(
        counters,
        (2, 2, 1, 1),
        "sent ⊇ delivered ⊇ read; failed apart"
    );
    let recipients: Vec<String> = sqlx::query_scalar(
        "SELECT cm.status::text FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id \
         ORDER BY m.wa_message_id",
    )
    .fetch_all(f.pool())
    .await
    .unwrap();
    assert_eq!(recipients, ["read", "delivered", "failed"]);
}

#[tokio::test]
async fn stop_and_start_words_set_consent_once_and_are_recorded() {
    let f = Fixture::new().await;
    sqlx::query("INSERT INTO contacts (id, workspace_id, wa_id, opted_in, opted_in_at) VALUES (gen_random_uuid(), $1, $2, true, to_timestamp(10))")
        .bind(f.workspace.0)
        .bind(CUSTOMER)
        .execute(f.pool())
        .await
        .unwrap();
    let opted_in = || async {
        sqlx::query_scalar::<_, bool>("SELECT opted_in FROM contacts")
            .fetch_one(f.pool())
            .await
            .unwrap()
    };
    f.inbound(item("wamid.K1", 100, "text", json!({ "body": " stop " })))
        .await;
    assert!(!opted_in().await);
    f.inbound(item("wamid.K2", 200, "text", json!({ "body": "Start" })))
        .await;
    assert!(opted_in().await);
    // The STOP delivered again later changes nothing: it was recorded once, and it is older.
    f.receive(&messages_body(
        NUMBER,
        vec![item("wamid.K1", 100, "text", json!({ "body": " stop " }))],
    ))
    .await;
    assert!(opted_in().await);
    f.inbound(item(
        "wamid.K3",
        300,
        "button",
        json!({ "payload": "x", "text": "Unsubscribe" }),
    ))
    .await;
    assert!(!opted_in().await);
    let events: Vec<(bool, String)> =
        sqlx::query_as("SELECT opted_in, source FROM consent_events ORDER BY occurred_at")
            .fetch_all(f.pool())
            .await
            .unwrap();
    assert_eq!(
        events,
        [
            (false, "stop keyword".to_string()),
            (true, "start keyword".to_string()),
            (false, "opt-out button".to_string())
        ]
    );
}

#[tokio::test]
async fn a_stop_in_the_same_second_as_an_opt_in_opts_out() {
    let f = Fixture::new().await;
    // Opted in at 100.4 s (an import); Meta stamps the STOP with the whole second, 100.
    sqlx::query("INSERT INTO contacts (id, workspace_id, wa_id, opted_in, opted_in_at) VALUES (gen_random_uuid(), $1, $2, true, to_timestamp(100.4))")
        .bind(f.workspace.0)
        .bind(CUSTOMER)
        .execute(f.pool())
        .await
        .unwrap();
    f.inbound(item("wamid.S1", 100, "text", json!({ "body": "STOP" })))
        .await;
    let opted_in: bool = sqlx::query_scalar("SELECT opted_in FROM contacts")
        .fetch_one(f.pool())
        .await
        .unwrap();
    assert!(
        !opted_in,
        "a STOP in the second of the opt-in must opt the contact out"
    );
    // A STOP from a second before the opt-in stays older, and changes nothing.
    sqlx::query("UPDATE contacts SET opted_in = true, opted_in_at = to_timestamp(200.4)")
        .execute(f.pool())
        .await
        .unwrap();
    f.inbound(item("wamid.S2", 199, "text", json!({ "body": "STOP" })))
        .await;
    let opted_in: bool = sqlx::query_scalar("SELECT opted_in FROM contacts")
        .fetch_one(f.pool())
        .await
        .unwrap();
    assert!(opted_in, "an older STOP must not override a newer opt-in");
}

#[tokio::test]
async fn value_errors_are_recorded_against_the_number() {
    let f = Fixture::new().await;
    let body = envelope(
        "messages",
        json!({ "messaging_product": "whatsapp",
                "metadata": { "display_phone_number": "15550001111", "phone_number_id": NUMBER },
                "errors": [{ "code": 130429, "title": "Rate limit hit", "message": "Rate limit hit",
                             "error_data": { "details": "too many messages" } }] }),
    );
    f.receive(&body).await;
    let (code, details): (i32, String) =
        sqlx::query_as("SELECT code, details FROM phone_number_errors WHERE phone_number_id = $1")
            .bind(f.phone)
            .fetch_one(f.pool())
            .await
            .unwrap();
    assert_eq!((code, details.as_str()), (130429, "too many messages"));
}

#[tokio::test]
async fn template_events_update_their_template_in_its_workspace_only() {
    let f = Fixture::new().await;
    let (other, _) = connect(&f.db.db, "other", "999888777666555", "111222333444555").await;
    for (workspace, waba) in [(f.workspace, WABA), (other, "111222333444555")] {
        sqlx::query(
            "INSERT INTO templates (id, workspace_id, waba_id, wa_template_id, name, language, category, status) \
             VALUES (gen_random_uuid(), $1, $2, '1689556908129835', 'abandoned_cart', 'en', 'MARKETING', 'PENDING')",
        )
        .bind(workspace.0)
        .bind(waba)
        .execute(f.pool())
        .await
        .unwrap();
    }
    let event = json!({ "object": "whatsapp_business_account", "entry": [{ "id": WABA, "time": 1751247548,
        "changes": [{ "field": "message_template_status_update", "value": {
            "event": "REJECTED", "message_template_id": 1689556908129835_i64,
            "message_template_name": "abandoned_cart", "message_template_language": "en",
            "reason": "INVALID_FORMAT", "message_template_category": "MARKETING" } }] }] });
    assert_eq!(f.receive(&event).await.outcome, Outcome::Applied);
    let recategorised = json!({ "object": "whatsapp_business_account", "entry": [{ "id": WABA, "time": 1751247600,
        "changes": [{ "field": "template_category_update", "value": {
            "message_template_id": 1689556908129835_i64, "message_template_name": "abandoned_cart",
            "message_template_language": "en", "previous_category": "MARKETING", "new_category": "UTILITY" } }] }] });
    assert_eq!(f.receive(&recategorised).await.outcome, Outcome::Applied);
    let rows: Vec<(Uuid, String, String, Option<String>)> = sqlx::query_as(
        "SELECT workspace_id, status::text, category::text, rejected_reason FROM templates",
    )
    .fetch_all(f.pool())
    .await
    .unwrap();
    for (workspace, status, category, reason) in rows {
        if workspace == f.workspace.0 {
            assert_eq!(
                (status.as_str(), category.as_str()),
                ("REJECTED", "UTILITY")
            );
            assert_eq!(reason.as_deref(), Some("INVALID_FORMAT"));
        } else {
            assert_eq!(
                (status.as_str(), category.as_str()),
                ("PENDING", "MARKETING"),
                "never across workspaces"
            );
        }
    }
}

#[tokio::test]
async fn a_change_treeex_does_not_know_is_kept_and_answered() {
    let f = Fixture::new().await;
    let body = envelope(
        "account_update",
        json!({ "phone_number": "15550001111", "event": "VERIFIED_ACCOUNT" }),
    );
    let receipt = f.receive(&body).await;
    assert_eq!(receipt.outcome, Outcome::Unapplied);
    let (reason, workspace): (String, Option<Uuid>) =
        sqlx::query_as("SELECT reason, workspace_id FROM webhook_failures")
            .fetch_one(f.pool())
            .await
            .unwrap();
    assert_eq!(reason, "treeex does not handle `account_update` webhooks");
    assert_eq!(
        workspace,
        Some(f.workspace.0),
        "kept with the workspace of its WABA"
    );
}

#[tokio::test]
async fn a_commit_announces_the_changed_conversation() {
    let f = Fixture::new().await;
    let mut listener = sqlx::postgres::PgListener::connect_with(f.pool())
        .await
        .unwrap();
    listener
        .listen(treeex::store::events::CHANNEL)
        .await
        .unwrap();
    f.inbound(item("wamid.N", 100, "text", json!({ "body": "ping" })))
        .await;
    let notification = tokio::time::timeout(std::time::Duration::from_secs(5), listener.recv())
        .await
        .expect("a notification within 5 s")
        .unwrap();
    let change: treeex::store::events::Change =
        serde_json::from_str(notification.payload()).unwrap();
    let conversation: Uuid = sqlx::query_scalar("SELECT id FROM conversations")
        .fetch_one(f.pool())
        .await
        .unwrap();
    assert_eq!(change.workspace_id, f.workspace.0);
    assert_eq!(change.conversation_id, Some(conversation));
}

/// The statuses of one delivery run: each message goes through some of sent, delivered, read
/// (read without delivered happens), or fails.
fn deliveries() -> impl Strategy<Value = Vec<(usize, &'static str, i64)>> {
    let one = (0..4usize).prop_flat_map(|message| {
        prop_oneof![
            Just(vec![
                (message, "sent", 10),
                (message, "delivered", 20),
                (message, "read", 30)
            ]),
            Just(vec![(message, "sent", 10), (message, "read", 30)]),
            Just(vec![(message, "sent", 10), (message, "failed", 15)]),
            Just(vec![(message, "sent", 10), (message, "delivered", 20)]),
        ]
    });
    proptest::collection::vec(one, 1..4).prop_map(|runs| runs.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    /// Any order and any duplication of a set of deliveries ends in the same state as in-order
    /// delivery, in the database.
    #[test]
    fn shuffled_and_duplicated_statuses_end_as_in_order(
        statuses in deliveries(),
        order in proptest::collection::vec(any::<proptest::sample::Index>(), 0..24),
        batch in 1usize..4,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let f = Fixture::new().await;
            let state = |prefix: &'static str| {
                let pool = f.pool().clone();
                async move {
                    sqlx::query_as::<_, (String, String, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<i32>)>(
                        "SELECT substr(wa_message_id, 8), status::text, sent_at, delivered_at, read_at, error_code \
                         FROM messages WHERE wa_message_id LIKE $1 ORDER BY wa_message_id",
                    )
                    .bind(format!("wamid.{prefix}%"))
                    .fetch_all(&pool)
                    .await
                    .unwrap()
                }
            };
            let item = |prefix: &str, (message, word, seconds): (usize, &str, i64)| {
                let mut s = status(&format!("wamid.{prefix}{message}"), word, seconds);
                if word == "failed" {
                    s["errors"] = json!([{ "code": 131026, "title": "Message undeliverable" }]);
                }
                s
            };
            for message in 0..4 {
                f.outbound(&format!("wamid.I{message}")).await;
                f.outbound(&format!("wamid.S{message}")).await;
            }
            for s in &statuses {
                f.receive(&statuses_body(vec![item("I", *s)])).await;
            }
            // Shuffled (picks with repetition: duplicates), then everything once more so that
            // every status arrives at least once, in batches of several per body.
            let mut shuffled: Vec<_> = order.iter().map(|i| statuses[i.index(statuses.len())]).collect();
            shuffled.extend(statuses.iter().rev().copied());
            for chunk in shuffled.chunks(batch) {
                f.receive(&statuses_body(chunk.iter().map(|s| item("S", *s)).collect())).await;
            }
            prop_assert_eq!(state("I").await, state("S").await);
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn the_archive_keeps_bodies_for_archive_days_and_failures_outlive_it() {
    let f = Fixture::new().await;
    let body = messages_body(
        "555000111222333",
        vec![item("wamid.P1", 100, "text", json!({ "body": "x" }))],
    );
    let receipt = f.receive(&body).await;
    let stored: Vec<u8> = sqlx::query_scalar("SELECT body FROM webhook_archive WHERE id = $1")
        .bind(receipt.archive_id)
        .fetch_one(f.pool())
        .await
        .unwrap();
    assert_eq!(
        stored,
        body.to_string().into_bytes(),
        "the raw bytes, as they came"
    );
    f.receive(&messages_body(
        NUMBER,
        vec![item("wamid.P2", 100, "text", json!({ "body": "y" }))],
    ))
    .await;
    sqlx::query(
        "UPDATE webhook_archive SET received_at = now() - interval '31 days' WHERE id = $1",
    )
    .bind(receipt.archive_id)
    .execute(f.pool())
    .await
    .unwrap();
    let pruned = treeex::store::webhooks::prune_archive(&f.db.db, 30)
        .await
        .unwrap();
    assert_eq!(pruned, 1);
    assert_eq!(
        f.count("SELECT count(*) FROM webhook_archive").await,
        1,
        "the recent body stays"
    );
    let archive: Option<Uuid> = sqlx::query_scalar("SELECT archive_id FROM webhook_failures")
        .fetch_one(f.pool())
        .await
        .unwrap();
    assert_eq!(archive, None, "the failure keeps its own copy");
}

#[tokio::test]
async fn a_part_the_database_refuses_is_kept_and_the_rest_is_applied() {
    let f = Fixture::new().await;
    // PostgreSQL's jsonb cannot hold a \u0000; Meta's JSON can.
    let refused = item(
        "wamid.Z1",
        100,
        "text",
        json!({ "body": "nul \u{0000} inside" }),
    );
    let fine = item("wamid.Z2", 101, "text", json!({ "body": "fine" }));
    let value = |messages: Vec<Value>| {
        json!({ "messaging_product": "whatsapp",
                "metadata": { "display_phone_number": "15550001111", "phone_number_id": NUMBER },
                "messages": messages })
    };
    let body = json!({ "object": "whatsapp_business_account", "entry": [{ "id": WABA, "changes": [
        { "field": "messages", "value": value(vec![refused]) },
        { "field": "messages", "value": value(vec![fine]) } ] }] });
    let receipt = f.receive(&body).await;
    assert_eq!(receipt.outcome, Outcome::Partial, "{receipt:?}");
    assert!(f.message("wamid.Z2").await.is_some());
    assert!(f.message("wamid.Z1").await.is_none());
    let (reason, payload): (String, String) =
        sqlx::query_as("SELECT reason, payload::text FROM webhook_failures")
            .fetch_one(f.pool())
            .await
            .unwrap();
    assert!(reason.starts_with("the database refused it"), "{reason}");
    assert!(payload.contains("\\u0000"), "kept as it came: {payload}");
}
