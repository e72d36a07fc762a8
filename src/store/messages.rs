//! Messages: inbound ones recorded once per wamid, outbound ones moved along the status lattice
//! (`domain::MessageStatus`), statuses for unknown wamids parked until their message appears,
//! edits, revokes and reactions.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::StoreError;
use crate::domain::{MessageStatus, WorkspaceId};

/// An inbound message to record.
#[derive(Debug, Clone)]
pub struct NewInbound<'a> {
    pub workspace: WorkspaceId,
    pub conversation: Uuid,
    pub phone_number: Uuid,
    pub wa_message_id: &'a str,
    pub message_type: &'a str,
    pub content: &'a Value,
    pub context_wa_message_id: Option<&'a str>,
    pub at: DateTime<Utc>,
}

/// Inserts an inbound message unless its wamid is already recorded for this number; returns
/// the new row's id, or None for a redelivery.
pub async fn insert_inbound(
    conn: &mut PgConnection,
    message: &NewInbound<'_>,
) -> Result<Option<Uuid>, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO messages (id, workspace_id, conversation_id, phone_number_id, wa_message_id, \
                               direction, type, content, status, context_wa_message_id, \
                               wa_timestamp, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'INBOUND', $6, $7, 'received', $8, $9, $9) \
         ON CONFLICT (phone_number_id, wa_message_id) DO NOTHING RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(message.workspace.0)
    .bind(message.conversation)
    .bind(message.phone_number)
    .bind(message.wa_message_id)
    .bind(message.message_type)
    .bind(message.content)
    .bind(message.context_wa_message_id)
    .bind(message.at)
    .fetch_optional(conn)
    .await?)
}

/// The customer edited a message: its new version is kept beside the original. False when the
/// original is not recorded.
pub async fn record_edit(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    phone_number: Uuid,
    original: &str,
    edited: &Value,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let found: Option<Uuid> = sqlx::query_scalar(
        "UPDATE messages SET \
             content = CASE WHEN edited_at IS NULL OR edited_at <= $4 \
                            THEN jsonb_set(content, '{edited_message}', $3) ELSE content END, \
             edited_at = GREATEST(edited_at, $4), updated_at = now() \
         WHERE phone_number_id = $1 AND wa_message_id = $2 AND workspace_id = $5 RETURNING id",
    )
    .bind(phone_number)
    .bind(original)
    .bind(edited)
    .bind(at)
    .bind(workspace.0)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// The customer deleted a message. False when the original is not recorded.
pub async fn record_revoke(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    phone_number: Uuid,
    original: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let found: Option<Uuid> = sqlx::query_scalar(
        "UPDATE messages SET revoked_at = LEAST(revoked_at, $3), updated_at = now() \
         WHERE phone_number_id = $1 AND wa_message_id = $2 AND workspace_id = $4 RETURNING id",
    )
    .bind(phone_number)
    .bind(original)
    .bind(at)
    .bind(workspace.0)
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// A reaction to a message, by wamid; `emoji` None is its removal.
#[derive(Debug, Clone)]
pub struct Reaction<'a> {
    pub workspace: WorkspaceId,
    pub phone_number: Uuid,
    pub target: &'a str,
    /// The customer's wa_id, or `business`.
    pub reactor: &'a str,
    pub emoji: Option<&'a str>,
    pub at: DateTime<Utc>,
    pub wa_message_id: &'a str,
}

/// Records a reaction; only a newer reaction replaces an older one.
pub async fn record_reaction(
    conn: &mut PgConnection,
    reaction: &Reaction<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO message_reactions AS r \
             (workspace_id, phone_number_id, target_wa_message_id, reactor, emoji, reacted_at, wa_message_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (phone_number_id, target_wa_message_id, reactor) DO UPDATE SET \
             emoji = EXCLUDED.emoji, reacted_at = EXCLUDED.reacted_at, wa_message_id = EXCLUDED.wa_message_id \
         WHERE r.reacted_at <= EXCLUDED.reacted_at",
    )
    .bind(reaction.workspace.0)
    .bind(reaction.phone_number)
    .bind(reaction.target)
    .bind(reaction.reactor)
    .bind(reaction.emoji)
    .bind(reaction.at)
    .bind(reaction.wa_message_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// One status report for an outbound message.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    pub wa_message_id: String,
    pub status: MessageStatus,
    pub at: DateTime<Utc>,
    pub error_code: Option<i32>,
    pub error_title: Option<String>,
    pub error_details: Option<String>,
    /// `biz_opaque_callback_data`: the outbox sends each message's id there, so a status can
    /// find a message whose send never got its answer (and so has no wamid yet).
    pub message_id: Option<Uuid>,
}

/// A message whose status moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub message_id: Uuid,
    pub conversation_id: Uuid,
    pub from: MessageStatus,
    pub to: MessageStatus,
}

/// Everything reported about one wamid in one batch, folded into one row.
#[derive(Debug, Default)]
struct Folded {
    status: Option<MessageStatus>,
    times: [Option<DateTime<Utc>>; 5],
    error: (Option<i32>, Option<String>, Option<String>),
}

fn time_slot(status: MessageStatus) -> Option<usize> {
    match status {
        MessageStatus::Sent => Some(0),
        MessageStatus::Delivered => Some(1),
        MessageStatus::Read => Some(2),
        MessageStatus::Played => Some(3),
        MessageStatus::Failed => Some(4),
        MessageStatus::Pending | MessageStatus::Received => None,
    }
}

/// Applies status reports to the outbound messages of one number in one statement: each message
/// moves to the highest status it has been told of, and keeps the earliest time of each status.
/// Rows are locked in id order, so concurrent batches cannot deadlock over them. Reports for
/// wamids not recorded yet are parked. Returns the messages that moved.
pub async fn apply_statuses(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    phone_number: Uuid,
    reports: &[StatusReport],
) -> Result<Vec<Transition>, StoreError> {
    if reports.is_empty() {
        return Ok(Vec::new());
    }
    settle_ambiguous(conn, workspace, phone_number, reports).await?;
    let mut folded: HashMap<&str, Folded> = HashMap::new();
    for report in reports {
        let entry = folded.entry(report.wa_message_id.as_str()).or_default();
        entry.status = Some(match entry.status {
            Some(current) => current.join(report.status),
            None => report.status,
        });
        if let Some(slot) = time_slot(report.status) {
            let time = &mut entry.times[slot];
            *time = Some(time.map_or(report.at, |t| t.min(report.at)));
        }
        if report.status == MessageStatus::Failed && entry.error.0.is_none() {
            entry.error = (
                report.error_code,
                report.error_title.clone(),
                report.error_details.clone(),
            );
        }
    }
    let mut wamids = Vec::with_capacity(folded.len());
    let mut statuses = Vec::with_capacity(folded.len());
    let mut times: [Vec<Option<DateTime<Utc>>>; 5] = Default::default();
    let mut codes = Vec::with_capacity(folded.len());
    let mut titles = Vec::with_capacity(folded.len());
    let mut details = Vec::with_capacity(folded.len());
    for (wamid, f) in &folded {
        wamids.push(*wamid);
        statuses.push(f.status.unwrap_or(MessageStatus::Sent));
        for (slot, column) in times.iter_mut().enumerate() {
            column.push(f.times[slot]);
        }
        codes.push(f.error.0);
        titles.push(f.error.1.as_deref());
        details.push(f.error.2.as_deref());
    }
    let rows: Vec<(Uuid, Uuid, String, MessageStatus, MessageStatus)> = sqlx::query_as(
        "WITH input AS ( \
             SELECT * FROM UNNEST($3::text[], $4::message_status[], $5::timestamptz[], \
                                  $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], \
                                  $9::timestamptz[], $10::int[], $11::text[], $12::text[]) \
                 AS i (wamid, status, sent_at, delivered_at, read_at, played_at, failed_at, \
                       error_code, error_title, error_details)), \
         current AS ( \
             SELECT m.id, m.status AS old_status, i.*, \
                    CASE WHEN message_status_rank(i.status) > message_status_rank(m.status) \
                         THEN i.status ELSE m.status END AS new_status \
             FROM messages m JOIN input i ON m.wa_message_id = i.wamid \
             WHERE m.workspace_id = $1 AND m.phone_number_id = $2 AND m.direction = 'OUTBOUND' \
             ORDER BY m.id FOR UPDATE OF m) \
         UPDATE messages m SET \
             status = c.new_status, \
             sent_at = LEAST(m.sent_at, c.sent_at), \
             delivered_at = LEAST(m.delivered_at, c.delivered_at), \
             read_at = LEAST(m.read_at, c.read_at), \
             played_at = LEAST(m.played_at, c.played_at), \
             failed_at = CASE WHEN c.new_status = 'failed' THEN LEAST(m.failed_at, c.failed_at) END, \
             error_code = CASE WHEN c.new_status = 'failed' THEN COALESCE(m.error_code, c.error_code) END, \
             error_title = CASE WHEN c.new_status = 'failed' THEN COALESCE(m.error_title, c.error_title) END, \
             error_details = CASE WHEN c.new_status = 'failed' THEN COALESCE(m.error_details, c.error_details) END, \
             updated_at = now() \
         FROM current c WHERE m.id = c.id \
         RETURNING m.id, m.conversation_id, c.wamid, c.old_status, c.new_status",
    )
    .bind(workspace.0)
    .bind(phone_number)
    .bind(&wamids)
    .bind(&statuses)
    .bind(&times[0])
    .bind(&times[1])
    .bind(&times[2])
    .bind(&times[3])
    .bind(&times[4])
    .bind(&codes)
    .bind(&titles)
    .bind(&details)
    .fetch_all(&mut *conn)
    .await?;

    let found: std::collections::HashSet<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    let unknown: Vec<&StatusReport> = reports
        .iter()
        .filter(|r| !found.contains(r.wa_message_id.as_str()))
        .collect();
    park(conn, workspace, phone_number, &unknown).await?;
    Ok(rows
        .into_iter()
        .filter(|r| r.3 != r.4)
        .map(|(message_id, conversation_id, _, from, to)| Transition {
            message_id,
            conversation_id,
            from,
            to,
        })
        .collect())
}

/// Gives their wamid to outbound messages whose send left without an answer, when a status
/// names them by id, and takes them out of the outbox: Meta has them. The messages are locked
/// in id order, as the outbox's recording of sends locks them, so the two cannot deadlock.
async fn settle_ambiguous(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    phone_number: Uuid,
    reports: &[StatusReport],
) -> Result<(), StoreError> {
    let (ids, wamids): (Vec<Uuid>, Vec<&str>) = reports
        .iter()
        .filter_map(|r| Some((r.message_id?, r.wa_message_id.as_str())))
        .unzip();
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "WITH i AS ( \
             SELECT DISTINCT ON (id) * FROM UNNEST($3::uuid[], $4::text[]) AS i (id, wamid)), \
         locked AS ( \
             SELECT m.id, i.wamid FROM messages m JOIN i ON i.id = m.id \
             WHERE m.workspace_id = $1 AND m.phone_number_id = $2 \
               AND m.direction = 'OUTBOUND' AND m.wa_message_id IS NULL \
             ORDER BY m.id FOR UPDATE OF m), \
         settled AS ( \
             UPDATE messages m SET wa_message_id = l.wamid, updated_at = now() \
             FROM locked l WHERE m.id = l.id AND m.wa_message_id IS NULL \
             RETURNING m.id) \
         DELETE FROM outbox o USING settled WHERE o.message_id = settled.id",
    )
    .bind(workspace.0)
    .bind(phone_number)
    .bind(&ids)
    .bind(&wamids)
    .execute(conn)
    .await?;
    Ok(())
}

async fn park(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    phone_number: Uuid,
    reports: &[&StatusReport],
) -> Result<(), StoreError> {
    if reports.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = reports.iter().map(|_| Uuid::now_v7()).collect();
    let wamids: Vec<&str> = reports.iter().map(|r| r.wa_message_id.as_str()).collect();
    let statuses: Vec<MessageStatus> = reports.iter().map(|r| r.status).collect();
    let times: Vec<DateTime<Utc>> = reports.iter().map(|r| r.at).collect();
    let codes: Vec<Option<i32>> = reports.iter().map(|r| r.error_code).collect();
    let titles: Vec<Option<&str>> = reports.iter().map(|r| r.error_title.as_deref()).collect();
    let details: Vec<Option<&str>> = reports.iter().map(|r| r.error_details.as_deref()).collect();
    sqlx::query(
        "INSERT INTO parked_statuses (id, workspace_id, phone_number_id, wa_message_id, status, \
                                      status_at, error_code, error_title, error_details) \
         SELECT i.id, $1, $2, i.wamid, i.status, i.at, i.code, i.title, i.details \
         FROM UNNEST($3::uuid[], $4::text[], $5::message_status[], $6::timestamptz[], \
                     $7::int[], $8::text[], $9::text[]) \
              AS i (id, wamid, status, at, code, title, details)",
    )
    .bind(workspace.0)
    .bind(phone_number)
    .bind(&ids)
    .bind(&wamids)
    .bind(&statuses)
    .bind(&times)
    .bind(&codes)
    .bind(&titles)
    .bind(&details)
    .execute(conn)
    .await?;
    Ok(())
}

/// Applies the statuses parked for a wamid that has just been recorded (the send's response
/// came after its first status webhook), and forgets them.
pub async fn apply_parked(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    phone_number: Uuid,
    wa_message_id: &str,
) -> Result<Vec<Transition>, StoreError> {
    type Parked = (
        MessageStatus,
        DateTime<Utc>,
        Option<i32>,
        Option<String>,
        Option<String>,
    );
    let parked: Vec<Parked> = sqlx::query_as(
        "DELETE FROM parked_statuses \
             WHERE workspace_id = $1 AND phone_number_id = $2 AND wa_message_id = $3 \
             RETURNING status, status_at, error_code, error_title, error_details",
    )
    .bind(workspace.0)
    .bind(phone_number)
    .bind(wa_message_id)
    .fetch_all(&mut *conn)
    .await?;
    let reports: Vec<StatusReport> = parked
        .into_iter()
        .map(
            |(status, at, error_code, error_title, error_details)| StatusReport {
                wa_message_id: wa_message_id.to_string(),
                status,
                at,
                error_code,
                error_title,
                error_details,
                message_id: None,
            },
        )
        .collect();
    apply_statuses(conn, workspace, phone_number, &reports).await
}

/// An outbound message to put in the outbox.
#[derive(Debug, Clone)]
pub struct NewOutbound<'a> {
    pub workspace: WorkspaceId,
    pub conversation: Uuid,
    pub phone_number: Uuid,
    pub message_type: &'a str,
    /// The exact body the worker will send to Meta.
    pub content: &'a Value,
    pub rendered_text: Option<&'a str>,
    pub context_wa_message_id: Option<&'a str>,
    pub sent_by: Option<Uuid>,
}

/// Writes an outbound message as `pending`; the caller queues it in the same transaction.
pub async fn insert_outbound(
    conn: &mut PgConnection,
    message: &NewOutbound<'_>,
) -> Result<Uuid, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO messages (id, workspace_id, conversation_id, phone_number_id, direction, type, \
                               content, rendered_text, status, context_wa_message_id, sent_by) \
         VALUES ($1, $2, $3, $4, 'OUTBOUND', $5, $6, $7, 'pending', $8, $9) RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(message.workspace.0)
    .bind(message.conversation)
    .bind(message.phone_number)
    .bind(message.message_type)
    .bind(message.content)
    .bind(message.rendered_text)
    .bind(message.context_wa_message_id)
    .bind(message.sent_by)
    .fetch_one(conn)
    .await?)
}

/// What Meta said of a message: its wamid, or why it failed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Outcome {
    pub wa_message_id: Option<String>,
    pub error_code: Option<i32>,
    pub error_title: Option<String>,
    pub error_details: Option<String>,
}

pub async fn outcome(db: &super::Db, message: Uuid) -> Result<Outcome, StoreError> {
    Ok(sqlx::query_as(
        "SELECT wa_message_id, error_code, error_title, error_details FROM messages WHERE id = $1",
    )
    .bind(message)
    .fetch_one(db.pool())
    .await?)
}
