//! The webhook archive (every signed body, verbatim) and the webhook failures (parts of bodies
//! that could not be applied, kept for replay).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use super::{Db, StoreError};
use crate::domain::WorkspaceId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, sqlx::Type)]
#[sqlx(type_name = "webhook_outcome", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Applied,
    Partial,
    Unapplied,
    Invalid,
}

/// Archives a body as it arrived; the outcome is set once the body has been applied.
pub async fn archive(
    conn: &mut PgConnection,
    body: &[u8],
    received_at: DateTime<Utc>,
    outcome: Outcome,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO webhook_archive (id, received_at, body, outcome) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(received_at)
    .bind(body)
    .bind(outcome)
    .execute(conn)
    .await?;
    Ok(id)
}

pub async fn set_outcome(
    conn: &mut PgConnection,
    archive_id: Uuid,
    outcome: Outcome,
    events: usize,
    failures: usize,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE webhook_archive SET outcome = $2, events = $3, failures = $4 WHERE id = $1",
    )
    .bind(archive_id)
    .bind(outcome)
    .bind(i32::try_from(events).unwrap_or(i32::MAX))
    .bind(i32::try_from(failures).unwrap_or(i32::MAX))
    .execute(conn)
    .await?;
    Ok(())
}

/// A part of a body to keep as a failure.
#[derive(Debug, Clone)]
pub struct NewFailure {
    pub workspace: Option<WorkspaceId>,
    pub phone_number_id: Option<String>,
    pub field: String,
    pub reason: String,
    pub payload: Value,
}

pub async fn record_failure(
    conn: &mut PgConnection,
    archive_id: Option<Uuid>,
    received_at: DateTime<Utc>,
    failure: &NewFailure,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO webhook_failures \
             (id, archive_id, workspace_id, phone_number_id, field, reason, payload, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7::json, $8)",
    )
    .bind(id)
    .bind(archive_id)
    .bind(failure.workspace.map(|w| w.0))
    .bind(failure.phone_number_id.as_deref())
    .bind(&failure.field)
    .bind(&failure.reason)
    // As text: a `\u0000` that jsonb would refuse is kept as it came.
    .bind(failure.payload.to_string())
    .bind(received_at)
    .execute(conn)
    .await?;
    Ok(id)
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Failure {
    pub id: Uuid,
    pub archive_id: Option<Uuid>,
    pub workspace_id: Option<Uuid>,
    pub phone_number_id: Option<String>,
    pub field: String,
    pub reason: String,
    pub payload: Value,
    pub received_at: DateTime<Utc>,
    pub replayed_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
}

const FAILURE_COLUMNS: &str = "id, archive_id, workspace_id, phone_number_id, field, reason, \
                               payload, received_at, replayed_at, resolved_at";

/// The failures not yet resolved, newest first: of one workspace, or (None) every failure,
/// including those of numbers no workspace has.
pub async fn open_failures(
    db: &Db,
    workspace: Option<WorkspaceId>,
    limit: i64,
) -> Result<Vec<Failure>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {FAILURE_COLUMNS} FROM webhook_failures \
         WHERE resolved_at IS NULL AND ($1::uuid IS NULL OR workspace_id = $1) \
         ORDER BY received_at DESC, id DESC LIMIT $2"
    )))
    .bind(workspace.map(|w| w.0))
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// One failure, locked for a replay.
pub async fn failure_for_replay(conn: &mut PgConnection, id: Uuid) -> Result<Failure, StoreError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {FAILURE_COLUMNS} FROM webhook_failures WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| {
        StoreError::NotFound(format!(
            "webhook failure {id} not found; `treeex webhook failures` lists them"
        ))
    })
}

/// Records a replay: resolved when it applied, else the new reason.
pub async fn replayed(
    conn: &mut PgConnection,
    id: Uuid,
    resolved: bool,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE webhook_failures SET replayed_at = now(), \
             resolved_at = CASE WHEN $2 THEN now() END, reason = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(resolved)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes archived bodies older than `days` days; failures keep their own copy of their part.
pub async fn prune_archive(db: &Db, days: u32) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "DELETE FROM webhook_archive WHERE received_at < now() - make_interval(days => $1)",
    )
    .bind(i32::try_from(days).unwrap_or(i32::MAX))
    .execute(db.pool())
    .await?
    .rows_affected())
}
