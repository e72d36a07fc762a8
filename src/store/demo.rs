//! The demo's history: conversations, messages, notes, episodes and a campaign's past sends,
//! written set-based in one transaction with the times they happened at. Everything the write
//! paths keep beside the rows (a conversation's last message, preview, window, unread count and
//! waiting time; the team's episodes and reply days; a campaign's counters and sends per
//! second) is written here too, from the same rows, so every view reads the history as if it
//! had happened live.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::StoreError;
use crate::domain::WorkspaceId;

/// A conversation with what the write paths would have kept on it.
#[derive(Debug, Clone, Serialize)]
pub struct PastConversation {
    pub id: Uuid,
    pub contact_id: Uuid,
    /// `OPEN` or `CLOSED`.
    pub status: &'static str,
    pub assignee_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub last_message_at: DateTime<Utc>,
    pub last_message_preview: String,
    pub last_inbound_at: Option<DateTime<Utc>>,
    pub window_expires_at: Option<DateTime<Utc>>,
    pub unread_count: i32,
    pub last_reply_at: Option<DateTime<Utc>>,
    pub awaiting_reply_since: Option<DateTime<Utc>>,
}

/// A message as it stands after its statuses arrived.
#[derive(Debug, Clone, Serialize)]
pub struct PastMessage {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub wa_message_id: Option<String>,
    /// `INBOUND` or `OUTBOUND`.
    pub direction: &'static str,
    #[serde(rename = "type")]
    pub kind: String,
    pub content: Value,
    pub rendered_text: Option<String>,
    /// A `message_status` value.
    pub status: &'static str,
    pub sent_by: Option<Uuid>,
    pub error_code: Option<i32>,
    pub error_title: Option<String>,
    pub error_details: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
}

/// A private note between the messages.
#[derive(Debug, Clone, Serialize)]
pub struct PastNote {
    pub conversation_id: Uuid,
    pub author_id: Uuid,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// One stretch of a conversation from a customer's message to its resolution.
#[derive(Debug, Clone, Serialize)]
pub struct PastEpisode {
    pub conversation_id: Uuid,
    pub opened_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub responded_by: Option<Uuid>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<Uuid>,
}

/// The history of a workspace's inbox.
#[derive(Debug, Clone, Default, Serialize)]
pub struct History {
    pub conversations: Vec<PastConversation>,
    pub messages: Vec<PastMessage>,
    pub notes: Vec<PastNote>,
    pub episodes: Vec<PastEpisode>,
}

/// Writes the history of the inbox of one number; every agent's replies also count in their
/// days (`agent_reply_days`).
pub async fn write_history(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    phone_number: Uuid,
    history: &History,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO conversations (id, workspace_id, phone_number_id, contact_id, status, \
             assignee_id, created_at, closed_at, last_message_at, last_message_preview, \
             last_inbound_at, window_expires_at, unread_count, last_reply_at, \
             awaiting_reply_since, updated_at) \
         SELECT r.id, $1, $2, r.contact_id, r.status::conversation_status, r.assignee_id, \
                r.created_at, r.closed_at, r.last_message_at, r.last_message_preview, \
                r.last_inbound_at, r.window_expires_at, r.unread_count, r.last_reply_at, \
                r.awaiting_reply_since, r.last_message_at \
         FROM jsonb_to_recordset($3) AS r (id uuid, contact_id uuid, status text, \
             assignee_id uuid, created_at timestamptz, closed_at timestamptz, \
             last_message_at timestamptz, last_message_preview text, last_inbound_at timestamptz, \
             window_expires_at timestamptz, unread_count integer, last_reply_at timestamptz, \
             awaiting_reply_since timestamptz)",
    )
    .bind(workspace.0)
    .bind(phone_number)
    .bind(rows(&history.conversations))
    .execute(&mut *conn)
    .await?;
    insert_messages(conn, workspace, phone_number, &history.messages).await?;
    sqlx::query(
        "INSERT INTO conversation_notes (id, workspace_id, conversation_id, author_id, body, \
                                         created_at) \
         SELECT gen_random_uuid(), $1, r.conversation_id, r.author_id, r.body, r.created_at \
         FROM jsonb_to_recordset($2) AS r (conversation_id uuid, author_id uuid, body text, \
                                           created_at timestamptz)",
    )
    .bind(workspace.0)
    .bind(rows(&history.notes))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO conversation_episodes (id, workspace_id, conversation_id, opened_at, \
             first_inbound_at, first_response_at, responded_by, closed_at, closed_by) \
         SELECT gen_random_uuid(), $1, r.conversation_id, r.opened_at, r.opened_at, \
                r.first_response_at, r.responded_by, r.closed_at, r.closed_by \
         FROM jsonb_to_recordset($2) AS r (conversation_id uuid, opened_at timestamptz, \
             first_response_at timestamptz, responded_by uuid, closed_at timestamptz, \
             closed_by uuid)",
    )
    .bind(workspace.0)
    .bind(rows(&history.episodes))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO agent_reply_days (workspace_id, user_id, day, replies) \
         SELECT $1, sent_by, date_trunc('day', created_at, 'UTC'), count(*) FROM messages \
         WHERE workspace_id = $1 AND sent_by IS NOT NULL GROUP BY 2, 3 \
         ON CONFLICT (workspace_id, user_id, day) \
             DO UPDATE SET replies = agent_reply_days.replies + EXCLUDED.replies",
    )
    .bind(workspace.0)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_messages(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    phone_number: Uuid,
    messages: &[PastMessage],
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO messages (id, workspace_id, conversation_id, phone_number_id, \
             wa_message_id, direction, type, content, rendered_text, status, sent_by, \
             error_code, error_title, error_details, wa_timestamp, created_at, sent_at, \
             delivered_at, read_at, failed_at, updated_at) \
         SELECT r.id, $1, r.conversation_id, $2, r.wa_message_id, \
                r.direction::message_direction, r.type, r.content, r.rendered_text, \
                r.status::message_status, r.sent_by, r.error_code, r.error_title, \
                r.error_details, CASE WHEN r.direction = 'INBOUND' THEN r.created_at END, \
                r.created_at, r.sent_at, r.delivered_at, r.read_at, r.failed_at, \
                COALESCE(r.failed_at, r.read_at, r.delivered_at, r.sent_at, r.created_at) \
         FROM jsonb_to_recordset($3) AS r (id uuid, conversation_id uuid, wa_message_id text, \
             direction text, type text, content jsonb, rendered_text text, status text, \
             sent_by uuid, error_code integer, error_title text, error_details text, \
             created_at timestamptz, sent_at timestamptz, delivered_at timestamptz, \
             read_at timestamptz, failed_at timestamptz)",
    )
    .bind(workspace.0)
    .bind(phone_number)
    .bind(rows(messages))
    .execute(conn)
    .await?;
    Ok(())
}

/// The campaign's recipients still queued, first to last, with their contacts' fields.
pub async fn queued_recipients(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    campaign: Uuid,
    limit: i64,
) -> Result<Vec<super::campaigns::Recipient>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT cm.id, cm.contact_id, k.wa_id, COALESCE(k.name, k.profile_name) AS name, \
                k.custom_fields, k.opted_in \
         FROM campaign_messages cm \
         JOIN contacts k ON k.workspace_id = cm.workspace_id AND k.id = cm.contact_id \
         WHERE cm.workspace_id = $1 AND cm.campaign_id = $2 AND cm.status = 'queued' \
         ORDER BY cm.id LIMIT $3",
    )
    .bind(workspace.0)
    .bind(campaign)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// A recipient's message that already went out.
#[derive(Debug, Clone)]
pub struct PastSend {
    pub recipient: Uuid,
    pub contact: Uuid,
    pub message: PastMessage,
}

/// Writes the sends a campaign made before now: each recipient's conversation (opened when
/// new, its last message moved when the send is newer), its message, the recipient row, the
/// campaign's counters and sends per second, and its start (and completion) time.
pub async fn write_campaign_past(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    campaign: Uuid,
    phone_number: Uuid,
    sends: &[PastSend],
    started_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    let contacts: Vec<Uuid> = sends.iter().map(|s| s.contact).collect();
    let messages: Vec<Uuid> = sends.iter().map(|s| s.message.id).collect();
    let times: Vec<DateTime<Utc>> = sends.iter().map(|s| s.message.created_at).collect();
    let previews: Vec<Option<String>> = sends
        .iter()
        .map(|s| s.message.rendered_text.clone())
        .collect();
    // Each message's conversation, opened with the send when the contact had none.
    let conversations: Vec<Uuid> = sqlx::query_scalar(
        "WITH t AS (SELECT * FROM UNNEST($3::uuid[], $4::timestamptz[], $5::text[]) \
                        WITH ORDINALITY AS t (contact, at, preview, n)), \
         opened AS ( \
             INSERT INTO conversations (id, workspace_id, phone_number_id, contact_id, \
                 created_at, last_message_at, last_message_preview, updated_at) \
             SELECT gen_random_uuid(), $1, $2, contact, at, at, preview, at FROM t \
             ON CONFLICT (phone_number_id, contact_id) DO UPDATE SET \
                 last_message_at = GREATEST(conversations.last_message_at, EXCLUDED.last_message_at), \
                 last_message_preview = CASE \
                     WHEN conversations.last_message_at IS NULL \
                       OR EXCLUDED.last_message_at > conversations.last_message_at \
                     THEN EXCLUDED.last_message_preview \
                     ELSE conversations.last_message_preview END \
             RETURNING id, contact_id) \
         SELECT o.id FROM t JOIN opened o ON o.contact_id = t.contact ORDER BY t.n",
    )
    .bind(workspace.0)
    .bind(phone_number)
    .bind(&contacts)
    .bind(&times)
    .bind(&previews)
    .fetch_all(&mut *conn)
    .await?;
    let rows: Vec<PastMessage> = sends
        .iter()
        .zip(&conversations)
        .map(|(send, conversation)| PastMessage {
            conversation_id: *conversation,
            ..send.message.clone()
        })
        .collect();
    insert_messages(conn, workspace, phone_number, &rows).await?;
    let recipients: Vec<Uuid> = sends.iter().map(|s| s.recipient).collect();
    sqlx::query(
        "UPDATE campaign_messages cm SET message_id = m.id, \
             status = (CASE WHEN m.status = 'played' THEN 'read' ELSE m.status::text END)::campaign_message_status, \
             error_code = m.error_code, \
             error_details = CASE WHEN m.status = 'failed' \
                 THEN COALESCE(m.error_details, m.error_title) END, \
             updated_at = m.updated_at \
         FROM UNNEST($2::uuid[], $3::uuid[]) AS t (recipient, message) \
         JOIN messages m ON m.id = t.message \
         WHERE cm.workspace_id = $1 AND cm.id = t.recipient",
    )
    .bind(workspace.0)
    .bind(&recipients)
    .bind(&messages)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO campaign_send_seconds (workspace_id, campaign_id, second, sent) \
         SELECT $1, $2, date_trunc('second', m.sent_at), count(*) \
         FROM messages m WHERE m.id = ANY($3) AND m.sent_at IS NOT NULL GROUP BY 3",
    )
    .bind(workspace.0)
    .bind(campaign)
    .bind(&messages)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE campaigns c SET \
             sent_count = r.sent, delivered_count = r.delivered, read_count = r.read, \
             failed_count = r.failed, started_at = $3, \
             status = CASE WHEN $4::timestamptz IS NULL THEN c.status ELSE 'COMPLETED' END, \
             completed_at = $4, updated_at = now() \
         FROM (SELECT count(*) FILTER (WHERE status IN ('sent', 'delivered', 'read')) AS sent, \
                      count(*) FILTER (WHERE status IN ('delivered', 'read')) AS delivered, \
                      count(*) FILTER (WHERE status = 'read') AS read, \
                      count(*) FILTER (WHERE status = 'failed') AS failed \
               FROM campaign_messages WHERE workspace_id = $1 AND campaign_id = $2) r \
         WHERE c.workspace_id = $1 AND c.id = $2",
    )
    .bind(workspace.0)
    .bind(campaign)
    .bind(started_at)
    .bind(completed_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Rows as the JSON array `jsonb_to_recordset` reads.
fn rows<T: Serialize>(rows: &[T]) -> Value {
    serde_json::to_value(rows).unwrap_or_default()
}

/// The ids of the contacts with these wa_ids, in the same order.
pub async fn contact_ids(
    db: &super::Db,
    workspace: WorkspaceId,
    wa_ids: &[&str],
) -> Result<Vec<Uuid>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT k.id FROM UNNEST($2::text[]) WITH ORDINALITY AS t (wa_id, n) \
         JOIN contacts k ON k.workspace_id = $1 AND k.wa_id = t.wa_id ORDER BY t.n",
    )
    .bind(workspace.0)
    .bind(wa_ids)
    .fetch_all(db.pool())
    .await?)
}

/// Marks the demo workspace as completely written; an interrupted seed leaves it unmarked.
pub async fn mark_seeded(db: &super::Db, workspace: WorkspaceId) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE workspaces SET settings = settings || jsonb_build_object('demo_seeded_at', now()) \
         WHERE id = $1",
    )
    .bind(workspace.0)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The workspace `slug` when it was marked completely written.
pub async fn seeded(db: &super::Db, slug: &str) -> Result<Option<WorkspaceId>, StoreError> {
    let id: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM workspaces WHERE slug = $1 AND settings ? 'demo_seeded_at'",
    )
    .bind(slug)
    .fetch_optional(db.pool())
    .await?;
    Ok(id.map(WorkspaceId))
}
