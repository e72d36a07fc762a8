//! The outbox table: outbound messages waiting for Meta, claimed by workers with
//! `FOR UPDATE SKIP LOCKED` under a lease, so any number of workers in any number of processes
//! share it without sending a message twice (see `migrations/0006_outbox.sql` for the states).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use super::{Db, StoreError};
use crate::domain::WorkspaceId;

/// Puts a pending message in the outbox (in the transaction that wrote the message).
pub async fn queue(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    phone_number: Uuid,
    message: Uuid,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (message_id, workspace_id, phone_number_id) VALUES ($1, $2, $3)",
    )
    .bind(message)
    .bind(workspace.0)
    .bind(phone_number)
    .execute(conn)
    .await?;
    Ok(())
}

/// A claimed message, with what a worker needs to send it.
#[derive(Debug, Clone, FromRow)]
pub struct Claimed {
    pub message_id: Uuid,
    pub workspace_id: Uuid,
    pub phone_number: Uuid,
    pub attempts: i32,
    /// Meta's id of the business number.
    pub phone_number_id: String,
    pub access_token: String,
    pub mps: i32,
    pub to_wa_id: Option<String>,
    /// The send body (without `to`), as enqueued.
    pub content: Value,
    pub context_wa_message_id: Option<String>,
}

/// Claims up to `limit` due messages (all due ones, or only `only` when given) for `worker`
/// until `lease_seconds` from now, leaving those of numbers another worker sends for
/// ([`phones::reserve_slots`](super::phones::reserve_slots)).
pub async fn claim(
    db: &Db,
    worker: &str,
    limit: i64,
    lease_seconds: f64,
    only: Option<Uuid>,
) -> Result<Vec<Claimed>, StoreError> {
    Ok(sqlx::query_as(
        "WITH due AS ( \
             SELECT message_id FROM outbox \
             WHERE state = 'queued' AND next_attempt_at <= now() \
               AND ($4::uuid IS NULL OR message_id = $4) \
               AND NOT EXISTS (SELECT 1 FROM phone_numbers p \
                   WHERE p.id = outbox.phone_number_id AND p.sending_worker <> $1 \
                     AND p.sending_until > clock_timestamp()) \
             ORDER BY next_attempt_at LIMIT $2 FOR UPDATE OF outbox SKIP LOCKED), \
         claimed AS ( \
             UPDATE outbox o SET state = 'claimed', claimed_by = $1, \
                 claim_expires_at = now() + make_interval(secs => $3) \
             FROM due WHERE o.message_id = due.message_id \
             RETURNING o.message_id, o.workspace_id, o.phone_number_id, o.attempts) \
         SELECT c.message_id, c.workspace_id, c.phone_number_id AS phone_number, c.attempts, \
                p.phone_number_id, p.access_token, p.mps, k.wa_id AS to_wa_id, m.content, \
                m.context_wa_message_id \
         FROM claimed c \
         JOIN messages m ON m.id = c.message_id \
         JOIN phone_numbers p ON p.id = c.phone_number_id \
         JOIN conversations v ON v.id = m.conversation_id \
         JOIN contacts k ON k.id = v.contact_id \
         ORDER BY m.created_at",
    )
    .bind(worker)
    .bind(limit)
    .bind(lease_seconds)
    .bind(only)
    .fetch_all(db.pool())
    .await?)
}

/// Marks a claimed message as leaving, just before its request is sent. False when the claim
/// was lost (it expired and another worker has it): then it must not be sent.
pub async fn mark_sending(db: &Db, worker: &str, message: Uuid) -> Result<bool, StoreError> {
    let marked = sqlx::query(
        "UPDATE outbox SET state = 'sending', attempts = attempts + 1 \
         WHERE message_id = $1 AND claimed_by = $2 AND state = 'claimed' \
           AND claim_expires_at > now()",
    )
    .bind(message)
    .bind(worker)
    .execute(db.pool())
    .await?
    .rows_affected();
    Ok(marked == 1)
}

/// One send Meta accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub message_id: Uuid,
    pub wa_message_id: String,
    pub at: DateTime<Utc>,
}

/// A message recorded as sent, with what the caller needs to apply its parked statuses.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recorded {
    pub message_id: Uuid,
    pub workspace_id: Uuid,
    pub phone_number_id: Uuid,
    pub conversation_id: Uuid,
    pub wa_message_id: String,
    /// Statuses for its wamid arrived before Meta's answer and wait in `parked_statuses`.
    pub parked: bool,
}

/// What a group of accepted sends came to.
#[derive(Debug, Default)]
pub struct RecordedGroup {
    pub recorded: Vec<Recorded>,
    /// Sends whose message another transaction holds (a status webhook settling it): not
    /// recorded now, to be tried again in a later group.
    pub held: Vec<Uuid>,
}

/// Meta accepted them: each message gets its wamid and `sent` and leaves the outbox, in one
/// statement for the whole group. A message a status webhook settled first is left as it is
/// (the webhook took it out of the outbox). A message another transaction holds is skipped
/// rather than waited for: a status webhook settling it may be waiting in turn for a message
/// this group holds, and waiting both ways is a deadlock.
pub async fn record_sent(
    conn: &mut PgConnection,
    accepted: &[Accepted],
) -> Result<RecordedGroup, StoreError> {
    if accepted.is_empty() {
        return Ok(RecordedGroup::default());
    }
    let ids: Vec<Uuid> = accepted.iter().map(|a| a.message_id).collect();
    let wamids: Vec<&str> = accepted.iter().map(|a| a.wa_message_id.as_str()).collect();
    let times: Vec<DateTime<Utc>> = accepted.iter().map(|a| a.at).collect();
    let recorded: Vec<Recorded> = sqlx::query_as(
        "WITH a AS ( \
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::timestamptz[]) AS a (id, wamid, at)), \
         locked AS ( \
             SELECT m.id, a.wamid, a.at FROM messages m JOIN a ON a.id = m.id \
             WHERE m.status = 'pending' AND m.wa_message_id IS NULL \
             ORDER BY m.id FOR UPDATE OF m SKIP LOCKED), \
         sent AS ( \
             UPDATE messages m SET wa_message_id = l.wamid, status = 'sent', \
                 sent_at = LEAST(m.sent_at, l.at), updated_at = now() \
             FROM locked l WHERE m.id = l.id \
             RETURNING m.id, m.workspace_id, m.phone_number_id, m.conversation_id, \
                       m.wa_message_id) \
         SELECT s.id AS message_id, s.workspace_id, s.phone_number_id, s.conversation_id, \
                s.wa_message_id, EXISTS ( \
                    SELECT 1 FROM parked_statuses p \
                    WHERE p.phone_number_id = s.phone_number_id \
                      AND p.wa_message_id = s.wa_message_id) AS parked \
         FROM sent s",
    )
    .bind(&ids)
    .bind(&wamids)
    .bind(&times)
    .fetch_all(&mut *conn)
    .await?;
    let done: Vec<Uuid> = recorded.iter().map(|r| r.message_id).collect();
    sqlx::query(
        "DELETE FROM outbox o USING ( \
             SELECT message_id FROM outbox WHERE message_id = ANY($1) \
             ORDER BY message_id FOR UPDATE) l \
         WHERE o.message_id = l.message_id",
    )
    .bind(&done)
    .execute(&mut *conn)
    .await?;
    // Not recorded and, as far as this transaction sees, still waiting for its answer: held by
    // another transaction.
    let held = if done.len() == ids.len() {
        Vec::new()
    } else {
        sqlx::query_scalar(
            "SELECT id FROM messages \
             WHERE id = ANY($1) AND NOT id = ANY($2) \
               AND status = 'pending' AND wa_message_id IS NULL",
        )
        .bind(&ids)
        .bind(&done)
        .fetch_all(conn)
        .await?
    };
    Ok(RecordedGroup { recorded, held })
}

/// It will not be sent: the message fails with Meta's (or treeex's) reason.
pub async fn record_failed(
    conn: &mut PgConnection,
    message: Uuid,
    code: Option<i32>,
    title: &str,
    details: Option<&str>,
) -> Result<Option<(WorkspaceId, Uuid)>, StoreError> {
    // The message before its outbox row, the order every writer locks them in.
    let row: Option<(Uuid, Uuid)> = sqlx::query_as(
        "UPDATE messages SET status = 'failed', failed_at = now(), error_code = $2, \
             error_title = $3, error_details = $4, updated_at = now() \
         WHERE id = $1 AND status = 'pending' RETURNING workspace_id, conversation_id",
    )
    .bind(message)
    .bind(code)
    .bind(title)
    .bind(details)
    .fetch_optional(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM outbox WHERE message_id = $1")
        .bind(message)
        .execute(conn)
        .await?;
    Ok(row.map(|(w, c)| (WorkspaceId(w), c)))
}

/// A failure worth another try: back in the queue from `next_attempt_at`.
pub async fn retry_at(
    db: &Db,
    message: Uuid,
    next_attempt_at: DateTime<Utc>,
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET state = 'queued', claimed_by = NULL, claim_expires_at = NULL, \
             next_attempt_at = $2, last_error = $3 WHERE message_id = $1",
    )
    .bind(message)
    .bind(next_attempt_at)
    .bind(error)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The request left and no answer came: it may have been sent, so it is never resent on its own.
pub async fn mark_ambiguous(db: &Db, message: Uuid, error: &str) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET state = 'ambiguous', claim_expires_at = NULL, last_error = $2 \
         WHERE message_id = $1",
    )
    .bind(message)
    .bind(error)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Expired claims: those never sent go back to the queue; those that were leaving become
/// ambiguous. Returns (requeued, ambiguous).
pub async fn sweep(db: &Db) -> Result<(u64, u64), StoreError> {
    let requeued = sqlx::query(
        "UPDATE outbox SET state = 'queued', claimed_by = NULL, claim_expires_at = NULL \
         WHERE state = 'claimed' AND claim_expires_at < now()",
    )
    .execute(db.pool())
    .await?
    .rows_affected();
    let ambiguous = sqlx::query(
        "UPDATE outbox SET state = 'ambiguous', claim_expires_at = NULL, \
             last_error = 'the worker stopped while the request was leaving' \
         WHERE state = 'sending' AND claim_expires_at < now()",
    )
    .execute(db.pool())
    .await?
    .rows_affected();
    Ok((requeued, ambiguous))
}

/// Where a message stands: its status, and its outbox state while it is in the outbox.
pub async fn progress(
    db: &Db,
    message: Uuid,
) -> Result<Option<(String, Option<String>)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT m.status::text, o.state::text FROM messages m \
         LEFT JOIN outbox o ON o.message_id = m.id WHERE m.id = $1",
    )
    .bind(message)
    .fetch_optional(db.pool())
    .await?)
}

/// Queued messages, for the outbox depth gauge.
pub async fn depth(db: &Db) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE state IN ('queued', 'claimed')")
            .fetch_one(db.pool())
            .await?,
    )
}

/// A workspace's messages waiting in the outbox (queued, or claimed and not yet sent), for the
/// TUI's status bar.
pub async fn workspace_depth(
    db: &Db,
    workspace: crate::domain::WorkspaceId,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE workspace_id = $1 AND state IN ('queued', 'claimed')",
    )
    .bind(workspace.0)
    .fetch_one(db.pool())
    .await?)
}

/// Gives claimed messages back to the queue unsent (their worker is stopping, or another
/// worker sends for their number).
pub async fn release(db: &Db, worker: &str, messages: &[Uuid]) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET state = 'queued', claimed_by = NULL, claim_expires_at = NULL \
         WHERE message_id = ANY($1) AND claimed_by = $2 AND state = 'claimed'",
    )
    .bind(messages)
    .bind(worker)
    .execute(db.pool())
    .await?;
    Ok(())
}
