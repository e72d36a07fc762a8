//! The schema and the repository layer against real PostgreSQL: every table and column the
//! product relies on, the constraints that protect its rules, and the workspace scoping.

mod common;

use common::TestDb;
use secrecy::SecretString;
use sqlx::PgPool;
use treeex::domain::{Email, Role, Slug, Tag, WaId, WorkspaceId};
use treeex::store::contacts::{self, NewContact, Upserted};
use treeex::store::phones::{self, NewPhoneNumber};
use treeex::store::{Db, StoreError, members, workspaces};
use uuid::Uuid;

async fn workspace(db: &Db, slug: &str) -> WorkspaceId {
    workspaces::create(
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
    .workspace_id()
}

async fn phone(db: &Db, ws: WorkspaceId, phone_number_id: &str) -> Uuid {
    phones::add(
        db,
        ws,
        NewPhoneNumber {
            phone_number_id,
            display_phone_number: "+1 555 0100",
            waba_id: "200000000000001",
            access_token: &SecretString::from("token"),
            mps: 80,
        },
    )
    .await
    .unwrap()
    .id
}

fn new_contact(wa_id: &str) -> NewContact {
    NewContact {
        wa_id: WaId::parse(wa_id).unwrap(),
        name: None,
        tags: Vec::new(),
        opted_in: None,
        custom_fields: Default::default(),
    }
}

async fn contact(db: &Db, ws: WorkspaceId, wa_id: &str) -> Uuid {
    contacts::add(db, ws, &new_contact(wa_id)).await.unwrap().id
}

async fn conversation(pool: &PgPool, ws: WorkspaceId, phone: Uuid, contact: Uuid) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO conversations (id, workspace_id, phone_number_id, contact_id) \
         VALUES (gen_random_uuid(), $1, $2, $3) RETURNING id",
    )
    .bind(ws.0)
    .bind(phone)
    .bind(contact)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn inbound(
    pool: &PgPool,
    ws: WorkspaceId,
    conversation: Uuid,
    phone: Uuid,
    wamid: &str,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO messages (id, workspace_id, conversation_id, phone_number_id, wa_message_id, \
                               direction, type, content, status) \
         VALUES (gen_random_uuid(), $1, $2, $3, $4, 'INBOUND', 'text', '{\"body\":\"hi\"}', 'received') \
         RETURNING id",
    )
    .bind(ws.0)
    .bind(conversation)
    .bind(phone)
    .bind(wamid)
    .fetch_one(pool)
    .await
}

fn constraint(error: &sqlx::Error) -> String {
    error
        .as_database_error()
        .and_then(|e| e.constraint())
        .unwrap_or_else(|| panic!("not a constraint violation: {error}"))
        .to_string()
}

#[tokio::test]
async fn every_table_and_column_of_the_schema_exists() {
    let db = TestDb::new().await;
    let expected: &[(&str, &[&str])] = &[
        ("users", &["id", "email", "name", "created_at"]),
        (
            "workspaces",
            &[
                "id",
                "slug",
                "name",
                "api_key",
                "webhook_secret",
                "settings",
                "created_at",
            ],
        ),
        (
            "workspace_members",
            &["workspace_id", "user_id", "role", "created_at"],
        ),
        (
            "phone_numbers",
            &[
                "id",
                "workspace_id",
                "phone_number_id",
                "access_token",
                "display_phone_number",
                "waba_id",
                "mps",
            ],
        ),
        (
            "contacts",
            &[
                "id",
                "workspace_id",
                "wa_id",
                "name",
                "opted_in",
                "tags",
                "custom_fields",
                "opted_in_at",
                "opted_out_at",
            ],
        ),
        (
            "conversations",
            &[
                "id",
                "workspace_id",
                "phone_number_id",
                "contact_id",
                "status",
                "window_expires_at",
                "last_message_at",
                "unread_count",
                "assignee_id",
                "last_message_preview",
            ],
        ),
        (
            "messages",
            &[
                "id",
                "workspace_id",
                "conversation_id",
                "phone_number_id",
                "wa_message_id",
                "direction",
                "type",
                "content",
                "status",
                "error_code",
                "error_title",
                "error_details",
                "sent_at",
                "delivered_at",
                "read_at",
                "failed_at",
                "context_wa_message_id",
            ],
        ),
        (
            "media_files",
            &[
                "id",
                "workspace_id",
                "message_id",
                "storage_url",
                "mime_type",
                "wa_media_id",
            ],
        ),
        (
            "templates",
            &[
                "id",
                "workspace_id",
                "name",
                "language",
                "category",
                "status",
                "components",
            ],
        ),
        (
            "campaigns",
            &[
                "id",
                "workspace_id",
                "name",
                "status",
                "total_contacts",
                "sent_count",
                "delivered_count",
                "read_count",
                "failed_count",
                "template_id",
                "phone_number_id",
                "scheduled_at",
                "lease_owner",
                "lease_expires_at",
            ],
        ),
        (
            "campaign_messages",
            &[
                "id",
                "workspace_id",
                "campaign_id",
                "contact_id",
                "message_id",
                "status",
            ],
        ),
    ];
    for (table, columns) in expected {
        let present: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1",
        )
        .bind(table)
        .fetch_all(db.pool())
        .await
        .unwrap();
        for column in *columns {
            assert!(
                present.iter().any(|c| c == column),
                "{table}.{column} is missing (has {present:?})"
            );
        }
    }
}

#[tokio::test]
async fn enum_values_are_spelled_as_the_product_says() {
    let db = TestDb::new().await;
    let values = |name: &'static str| {
        let pool = db.pool().clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT e.enumlabel::text FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid \
                 WHERE t.typname = $1 ORDER BY e.enumsortorder",
            )
            .bind(name)
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(values("member_role").await, ["OWNER", "ADMIN", "MEMBER"]);
    assert_eq!(
        values("conversation_status").await,
        ["OPEN", "CLOSED", "EXPIRED"]
    );
    assert_eq!(values("message_direction").await, ["INBOUND", "OUTBOUND"]);
    let status = values("message_status").await;
    for expected in ["pending", "sent", "delivered", "read", "failed"] {
        assert!(
            status.iter().any(|s| s == expected),
            "message_status lacks {expected}"
        );
    }
    assert_eq!(
        values("template_category").await,
        ["MARKETING", "UTILITY", "AUTHENTICATION"]
    );
    let template_status = values("template_status").await;
    for expected in ["APPROVED", "REJECTED", "PENDING", "PAUSED", "DISABLED"] {
        assert!(template_status.iter().any(|s| s == expected));
    }
    let campaign = values("campaign_status").await;
    for expected in [
        "DRAFT",
        "SCHEDULED",
        "RUNNING",
        "COMPLETED",
        "PAUSED",
        "CANCELLED",
    ] {
        assert!(
            campaign.iter().any(|s| s == expected),
            "campaign_status lacks {expected}"
        );
    }
}

#[tokio::test]
async fn every_time_is_timestamptz_and_every_scoped_table_has_workspace_id() {
    let db = TestDb::new().await;
    let naive: Vec<String> = sqlx::query_scalar(
        "SELECT table_name || '.' || column_name FROM information_schema.columns \
         WHERE table_schema = 'public' AND data_type = 'timestamp without time zone' \
           AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert!(naive.is_empty(), "timestamps without time zone: {naive:?}");
    let unscoped: Vec<String> = sqlx::query_scalar(
        "SELECT t.table_name::text FROM information_schema.tables t \
         WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE' \
           AND t.table_name NOT IN ('users', 'workspaces', 'webhook_archive', '_sqlx_migrations') \
           AND NOT EXISTS (SELECT 1 FROM information_schema.columns c \
                           WHERE c.table_name = t.table_name AND c.column_name = 'workspace_id')",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert!(
        unscoped.is_empty(),
        "tables without workspace_id: {unscoped:?}"
    );
}

#[tokio::test]
async fn the_inbox_and_thread_queries_use_their_indexes() {
    let db = TestDb::new().await;
    let mut tx = db.pool().begin().await.unwrap();
    // A tiny table would be scanned whatever the indexes; ask the planner about the index path.
    sqlx::query("SET LOCAL enable_seqscan = off")
        .execute(&mut *tx)
        .await
        .unwrap();
    let inbox: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT id FROM conversations WHERE workspace_id = gen_random_uuid() \
         ORDER BY last_message_at DESC NULLS LAST, id DESC LIMIT 50",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert!(
        inbox.join("\n").contains("conversations_inbox_idx"),
        "{inbox:#?}"
    );
    let thread: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT id FROM messages WHERE conversation_id = gen_random_uuid() \
         ORDER BY created_at DESC, id DESC LIMIT 50",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    assert!(
        thread.join("\n").contains("messages_thread_idx"),
        "{thread:#?}"
    );
}

#[tokio::test]
async fn a_wamid_is_unique_per_phone_number() {
    let db = TestDb::new().await;
    let ws = workspace(&db.db, "acme").await;
    let first = phone(&db.db, ws, "100000000000001").await;
    let second = phone(&db.db, ws, "100000000000002").await;
    let customer = contact(&db.db, ws, "14155550123").await;
    let conv_first = conversation(db.pool(), ws, first, customer).await;
    let conv_second = conversation(db.pool(), ws, second, customer).await;
    inbound(db.pool(), ws, conv_first, first, "wamid.SAME")
        .await
        .unwrap();
    // The same wamid on another number is another message.
    inbound(db.pool(), ws, conv_second, second, "wamid.SAME")
        .await
        .unwrap();
    let duplicate = inbound(db.pool(), ws, conv_first, first, "wamid.SAME")
        .await
        .unwrap_err();
    assert_eq!(
        constraint(&duplicate),
        "messages_phone_number_id_wa_message_id_key"
    );
}

#[tokio::test]
async fn a_wa_id_is_unique_per_workspace() {
    let db = TestDb::new().await;
    let acme = workspace(&db.db, "acme").await;
    let other = workspace(&db.db, "other").await;
    contact(&db.db, acme, "14155550123").await;
    contact(&db.db, other, "14155550123").await;
    let duplicate = contacts::add(&db.db, acme, &new_contact("14155550123"))
        .await
        .unwrap_err();
    assert!(
        matches!(&duplicate, StoreError::Conflict(m) if m == "contact 14155550123 already exists in this workspace"),
        "{duplicate:?}"
    );
}

#[tokio::test]
async fn one_conversation_per_contact_and_number() {
    let db = TestDb::new().await;
    let ws = workspace(&db.db, "acme").await;
    let number = phone(&db.db, ws, "100000000000001").await;
    let other_number = phone(&db.db, ws, "100000000000002").await;
    let customer = contact(&db.db, ws, "14155550123").await;
    conversation(db.pool(), ws, number, customer).await;
    let second = sqlx::query(
        "INSERT INTO conversations (id, workspace_id, phone_number_id, contact_id, status) \
         VALUES (gen_random_uuid(), $1, $2, $3, 'CLOSED')",
    )
    .bind(ws.0)
    .bind(number)
    .bind(customer)
    .execute(db.pool())
    .await
    .unwrap_err();
    assert_eq!(
        constraint(&second),
        "conversations_phone_number_contact_key"
    );
    // The same customer writing to another of the business's numbers is another conversation.
    conversation(db.pool(), ws, other_number, customer).await;
}

async fn template(pool: &PgPool, ws: WorkspaceId) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO templates (id, workspace_id, waba_id, name, language, category, status, components) \
         VALUES (gen_random_uuid(), $1, '200000000000001', 'order_update', 'en_US', 'UTILITY', 'APPROVED', \
                 '[{\"type\":\"BODY\",\"text\":\"Hi {{1}}\"}]') RETURNING id",
    )
    .bind(ws.0)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn campaign(pool: &PgPool, ws: WorkspaceId, phone: Uuid, template: Uuid) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO campaigns (id, workspace_id, phone_number_id, template_id, name) \
         VALUES (gen_random_uuid(), $1, $2, $3, 'spring') RETURNING id",
    )
    .bind(ws.0)
    .bind(phone)
    .bind(template)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_campaign_has_one_row_per_contact() {
    let db = TestDb::new().await;
    let ws = workspace(&db.db, "acme").await;
    let number = phone(&db.db, ws, "100000000000001").await;
    let customer = contact(&db.db, ws, "14155550123").await;
    let tpl = template(db.pool(), ws).await;
    let campaign = campaign(db.pool(), ws, number, tpl).await;
    let add = || {
        sqlx::query(
            "INSERT INTO campaign_messages (id, workspace_id, campaign_id, contact_id) \
             VALUES (gen_random_uuid(), $1, $2, $3)",
        )
        .bind(ws.0)
        .bind(campaign)
        .bind(customer)
        .execute(db.pool())
    };
    add().await.unwrap();
    let twice = add().await.unwrap_err();
    assert_eq!(
        constraint(&twice),
        "campaign_messages_campaign_id_contact_id_key"
    );
}

#[tokio::test]
async fn rows_never_join_two_workspaces() {
    let db = TestDb::new().await;
    let acme = workspace(&db.db, "acme").await;
    let other = workspace(&db.db, "other").await;
    let acme_number = phone(&db.db, acme, "100000000000001").await;
    let other_customer = contact(&db.db, other, "14155550123").await;
    let crossed = sqlx::query(
        "INSERT INTO conversations (id, workspace_id, phone_number_id, contact_id) \
         VALUES (gen_random_uuid(), $1, $2, $3)",
    )
    .bind(acme.0)
    .bind(acme_number)
    .bind(other_customer)
    .execute(db.pool())
    .await
    .unwrap_err();
    assert_eq!(constraint(&crossed), "conversations_contact_fkey");

    let acme_customer = contact(&db.db, acme, "14155550123").await;
    let conv = conversation(db.pool(), acme, acme_number, acme_customer).await;
    let other_number = phone(&db.db, other, "100000000000002").await;
    let crossed = inbound(db.pool(), acme, conv, other_number, "wamid.X")
        .await
        .unwrap_err();
    assert_eq!(constraint(&crossed), "messages_phone_number_fkey");
}

#[tokio::test]
async fn deletes_do_what_each_reference_says() {
    let db = TestDb::new().await;
    let ws = workspace(&db.db, "acme").await;
    let number = phone(&db.db, ws, "100000000000001").await;
    let customer = contact(&db.db, ws, "14155550123").await;
    let conv = conversation(db.pool(), ws, number, customer).await;
    let message = inbound(db.pool(), ws, conv, number, "wamid.A")
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO media_files (id, workspace_id, message_id, wa_media_id, mime_type) \
         VALUES (gen_random_uuid(), $1, $2, '1037543291543636', 'image/jpeg')",
    )
    .bind(ws.0)
    .bind(message)
    .execute(db.pool())
    .await
    .unwrap();
    let agent = members::add(
        &db.db,
        ws,
        &Email::parse("agent@example.com").unwrap(),
        None,
        Role::Member,
    )
    .await
    .unwrap();
    sqlx::query("UPDATE conversations SET assignee_id = $1 WHERE id = $2")
        .bind(agent.user_id)
        .bind(conv)
        .execute(db.pool())
        .await
        .unwrap();

    // Removing a user unassigns their conversations and ends their memberships.
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(agent.user_id)
        .execute(db.pool())
        .await
        .unwrap();
    let assignee: Option<Uuid> =
        sqlx::query_scalar("SELECT assignee_id FROM conversations WHERE id = $1")
            .bind(conv)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(assignee, None);

    // Deleting a message keeps its media row for the store's clean-up.
    sqlx::query("DELETE FROM messages WHERE id = $1")
        .bind(message)
        .execute(db.pool())
        .await
        .unwrap();
    let media: (i64, Option<Uuid>) =
        sqlx::query_as("SELECT count(*), max(message_id::text)::uuid FROM media_files")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(media, (1, None));

    // A template or number in use by a campaign cannot be deleted under it.
    let tpl = template(db.pool(), ws).await;
    campaign(db.pool(), ws, number, tpl).await;
    let refused = sqlx::query("DELETE FROM templates WHERE id = $1")
        .bind(tpl)
        .execute(db.pool())
        .await
        .unwrap_err();
    assert_eq!(constraint(&refused), "campaigns_template_fkey");

    // Deleting the workspace takes everything of it along.
    sqlx::query("DELETE FROM workspaces WHERE id = $1")
        .bind(ws.0)
        .execute(db.pool())
        .await
        .unwrap();
    for table in [
        "workspace_members",
        "phone_numbers",
        "contacts",
        "conversations",
        "messages",
        "media_files",
        "templates",
        "campaigns",
        "campaign_messages",
    ] {
        let left: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert_eq!(left, 0, "{table} kept rows of a deleted workspace");
    }
}

#[tokio::test]
async fn message_rows_keep_direction_and_status_consistent() {
    let db = TestDb::new().await;
    let ws = workspace(&db.db, "acme").await;
    let number = phone(&db.db, ws, "100000000000001").await;
    let customer = contact(&db.db, ws, "14155550123").await;
    let conv = conversation(db.pool(), ws, number, customer).await;
    let insert = |direction: &'static str, status: &'static str, wamid: Option<&'static str>| {
        sqlx::query(
            "INSERT INTO messages (id, workspace_id, conversation_id, phone_number_id, wa_message_id, \
                                   direction, type, status) \
             VALUES (gen_random_uuid(), $1, $2, $3, $4, $5::message_direction, 'text', $6::message_status)",
        )
        .bind(ws.0)
        .bind(conv)
        .bind(number)
        .bind(wamid)
        .bind(direction)
        .bind(status)
        .execute(db.pool())
    };
    // An outbound message waits in the outbox without a wamid.
    insert("OUTBOUND", "pending", None).await.unwrap();
    insert("OUTBOUND", "pending", None).await.unwrap();
    let sent_without_id = insert("OUTBOUND", "sent", None).await.unwrap_err();
    assert_eq!(constraint(&sent_without_id), "messages_sent_has_wamid");
    let inbound_sent = insert("INBOUND", "sent", Some("wamid.B"))
        .await
        .unwrap_err();
    assert_eq!(constraint(&inbound_sent), "messages_direction_status");
}

#[tokio::test]
async fn duplicate_workspaces_members_and_numbers_are_domain_errors() {
    let db = TestDb::new().await;
    let ws = workspace(&db.db, "acme").await;
    let again = workspaces::create(
        &db.db,
        workspaces::NewWorkspace {
            slug: &Slug::parse("acme").unwrap(),
            name: "Acme",
            owner: Some((&Email::parse("x@example.com").unwrap(), None)),
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(&again, StoreError::Conflict(m) if m == "workspace `acme` already exists"));
    // The failed create left no user or membership behind.
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE email = 'x@example.com'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(users, 0);

    let owner = Email::parse("owner@example.com").unwrap();
    let twice = members::add(&db.db, ws, &owner, None, Role::Admin)
        .await
        .unwrap_err();
    assert!(matches!(twice, StoreError::Conflict(_)), "{twice:?}");

    phone(&db.db, ws, "100000000000001").await;
    let number = phones::add(
        &db.db,
        ws,
        NewPhoneNumber {
            phone_number_id: "100000000000001",
            display_phone_number: "+1",
            waba_id: "1",
            access_token: &SecretString::from("t"),
            mps: 80,
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(number, StoreError::Conflict(_)), "{number:?}");
}

#[tokio::test]
async fn reads_are_scoped_to_their_workspace() {
    let db = TestDb::new().await;
    let acme = workspace(&db.db, "acme").await;
    let other = workspace(&db.db, "other").await;
    members::add(
        &db.db,
        other,
        &Email::parse("only-other@example.com").unwrap(),
        None,
        Role::Member,
    )
    .await
    .unwrap();
    phone(&db.db, other, "100000000000009").await;
    contact(&db.db, other, "14155550999").await;
    contact(&db.db, acme, "14155550100").await;

    let acme_members = members::list(&db.db, acme).await.unwrap();
    assert_eq!(acme_members.len(), 1);
    assert_eq!(acme_members[0].email, "owner@example.com");
    assert!(phones::list(&db.db, acme).await.unwrap().is_empty());
    let acme_contacts = contacts::page(&db.db, acme, &[], None, 100).await.unwrap();
    let wa_ids: Vec<_> = acme_contacts
        .iter()
        .map(|c| c.wa_id.clone().unwrap())
        .collect();
    assert_eq!(wa_ids, ["14155550100"]);
}

#[tokio::test]
async fn upserting_contacts_reports_new_and_existing_and_merges() {
    let db = TestDb::new().await;
    let ws = workspace(&db.db, "acme").await;
    let mut existing = new_contact("14155550100");
    existing.tags = vec![Tag::parse("old").unwrap()];
    existing.opted_in = Some(true);
    contacts::add(&db.db, ws, &existing).await.unwrap();

    let mut update = new_contact("14155550100");
    update.tags = vec![Tag::parse("new").unwrap()];
    update.opted_in = Some(false);
    let mut fresh = new_contact("14155550101");
    fresh.name = Some("Ana".into());
    let mut conn = db.pool().acquire().await.unwrap();
    let mut outcomes = contacts::upsert_many(&mut conn, ws, &[update, fresh])
        .await
        .unwrap();
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            ("14155550100".to_string(), Upserted::Updated),
            ("14155550101".to_string(), Upserted::Imported)
        ]
    );
    let (tags, opted_in, opted_out_at): (Vec<String>, bool, Option<chrono::DateTime<chrono::Utc>>) =
        sqlx::query_as(
            "SELECT tags, opted_in, opted_out_at FROM contacts WHERE wa_id = '14155550100'",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(tags, ["new", "old"]);
    assert!(!opted_in);
    assert!(opted_out_at.is_some(), "withdrawing consent records when");
}
