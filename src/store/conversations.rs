//! Conversations: one per contact and business number, with what the inbox list shows of it
//! (last message, unread count, the customer's 24-hour window).

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::StoreError;
use crate::domain::WorkspaceId;

/// The conversation of a contact with a business number, opened on first contact. Locks it for
/// the rest of the transaction, so concurrent webhooks for one contact take turns. An existing
/// conversation is locked, not rewritten; a new one is inserted, and when another transaction
/// inserted it first, that one is found and locked.
pub async fn open_for_contact(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    phone_number: Uuid,
    contact: Uuid,
) -> Result<Uuid, StoreError> {
    loop {
        let existing: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM conversations \
             WHERE workspace_id = $1 AND phone_number_id = $2 AND contact_id = $3 FOR UPDATE",
        )
        .bind(workspace.0)
        .bind(phone_number)
        .bind(contact)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(id) = existing {
            return Ok(id);
        }
        let inserted: Option<Uuid> = sqlx::query_scalar(
            "INSERT INTO conversations (id, workspace_id, phone_number_id, contact_id) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (phone_number_id, contact_id) DO NOTHING \
             RETURNING id",
        )
        .bind(Uuid::now_v7())
        .bind(workspace.0)
        .bind(phone_number)
        .bind(contact)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(id) = inserted {
            return Ok(id);
        }
    }
}

/// Records a new message from the customer at `at`: reopens the conversation, moves its window
/// to `at` + 24 h (never backwards), and makes it the last message unless a later one is known.
/// `awaits_reply`: the message waits for an agent's reply (not a reaction, an edit or a notice),
/// unless an agent replied after it already (`store::team`).
pub async fn record_inbound(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    conversation: Uuid,
    at: DateTime<Utc>,
    preview: &str,
    unread: bool,
    awaits_reply: bool,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE conversations SET \
             status = 'OPEN', closed_at = NULL, \
             window_expires_at = GREATEST(window_expires_at, $3), \
             last_inbound_at = GREATEST(last_inbound_at, $4), \
             last_message_preview = CASE WHEN last_message_at IS NULL OR $4 >= last_message_at \
                                         THEN $5 ELSE last_message_preview END, \
             last_message_at = GREATEST(last_message_at, $4), \
             unread_count = unread_count + $6, \
             awaiting_reply_since = CASE WHEN $7 AND (last_reply_at IS NULL OR $4 > last_reply_at) \
                                         THEN LEAST(awaiting_reply_since, $4) \
                                         ELSE awaiting_reply_since END, \
             updated_at = now() \
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace.0)
    .bind(conversation)
    .bind(at + Duration::hours(24))
    .bind(at)
    .bind(preview)
    .bind(i32::from(unread))
    .bind(awaits_reply)
    .execute(conn)
    .await?;
    Ok(())
}

/// What the rules before sending need to know of a conversation and its contact.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SendContext {
    pub window_expires_at: Option<DateTime<Utc>>,
    pub opted_in: bool,
    pub opted_out_at: Option<DateTime<Utc>>,
}

pub async fn send_context(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    conversation: Uuid,
) -> Result<SendContext, StoreError> {
    Ok(sqlx::query_as(
        "SELECT v.window_expires_at, c.opted_in, c.opted_out_at \
         FROM conversations v JOIN contacts c ON c.id = v.contact_id \
         WHERE v.workspace_id = $1 AND v.id = $2",
    )
    .bind(workspace.0)
    .bind(conversation)
    .fetch_one(conn)
    .await?)
}

/// Records a message the business wrote: it becomes the last message; the window does not move
/// (only the customer opens it). `agent_reply`: an agent wrote it, so the customer no longer
/// waits (`store::team`).
pub async fn record_outbound(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    conversation: Uuid,
    preview: &str,
    agent_reply: bool,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE conversations SET last_message_at = now(), last_message_preview = $3, \
             last_reply_at = CASE WHEN $4 THEN now() ELSE last_reply_at END, \
             awaiting_reply_since = CASE WHEN $4 THEN NULL ELSE awaiting_reply_since END, \
             updated_at = now() \
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace.0)
    .bind(conversation)
    .bind(preview)
    .bind(agent_reply)
    .execute(conn)
    .await?;
    Ok(())
}
