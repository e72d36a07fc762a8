//! Media files (`media_files`): the file of a media message, received or sent.
//!
//! An inbound file is recorded at ingest with Meta's media id; the media fetcher claims the rows
//! not stored yet (`FOR UPDATE SKIP LOCKED`, like the outbox), and records where it stored the
//! bytes, or backs off, or gives up (see `migrations/0007_media.sql`). An outbound file is
//! recorded with its place in the media store when its message is queued, and gets Meta's media id
//! when the outbox worker uploads it. The claim is the one query across workspaces (a queue that
//! serves them all, as the outbox's); every other query takes the workspace id.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use super::{Db, StoreError};
use crate::domain::WorkspaceId;

/// A media file row.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, serde::Serialize)]
pub struct MediaFile {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub message_id: Option<Uuid>,
    pub wa_media_id: Option<String>,
    pub storage_url: Option<String>,
    pub mime_type: String,
    pub sha256: Option<String>,
    pub size_bytes: Option<i64>,
    pub filename: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub given_up_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, workspace_id, message_id, wa_media_id, storage_url, mime_type, sha256, \
                       size_bytes, filename, attempts, next_attempt_at, last_error, given_up_at, \
                       created_at";

/// The file of an inbound media message, as the webhook describes it.
#[derive(Debug, Clone)]
pub struct NewInbound<'a> {
    pub wa_media_id: &'a str,
    pub mime_type: &'a str,
    /// As Meta sent it (base64 in webhooks); kept until the fetcher stores the bytes.
    pub sha256: Option<&'a str>,
    /// Documents only.
    pub filename: Option<&'a str>,
}

/// Records the file of an inbound message, in the transaction that inserted the message. A media
/// id already recorded in the workspace is left as it is.
pub async fn insert_inbound(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    message: Uuid,
    file: &NewInbound<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO media_files (id, workspace_id, message_id, wa_media_id, mime_type, sha256, \
                                  filename) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (workspace_id, wa_media_id) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(workspace.0)
    .bind(message)
    .bind(file.wa_media_id)
    .bind(file.mime_type)
    .bind(file.sha256)
    .bind(file.filename)
    .execute(conn)
    .await?;
    Ok(())
}

/// The file of an outbound message, already in the media store.
#[derive(Debug, Clone)]
pub struct NewOutbound<'a> {
    pub id: Uuid,
    pub storage_url: &'a str,
    pub mime_type: &'a str,
    /// Hex of the stored bytes.
    pub sha256: &'a str,
    pub size_bytes: i64,
    pub filename: Option<&'a str>,
}

/// Records the file of an outbound message, in the transaction that queued the message.
pub async fn insert_outbound(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    message: Uuid,
    file: &NewOutbound<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO media_files (id, workspace_id, message_id, storage_url, mime_type, sha256, \
                                  size_bytes, filename) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(file.id)
    .bind(workspace.0)
    .bind(message)
    .bind(file.storage_url)
    .bind(file.mime_type)
    .bind(file.sha256)
    .bind(file.size_bytes)
    .bind(file.filename)
    .execute(conn)
    .await?;
    Ok(())
}

/// The files of a message, oldest first.
pub async fn for_message(
    db: &Db,
    workspace: WorkspaceId,
    message: Uuid,
) -> Result<Vec<MediaFile>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM media_files WHERE workspace_id = $1 AND message_id = $2 \
         ORDER BY created_at, id"
    )))
    .bind(workspace.0)
    .bind(message)
    .fetch_all(db.pool())
    .await?)
}

/// A download claimed by a fetcher, with what it needs to fetch it: the number the message
/// came to and its token (none when the message or its number is gone).
#[derive(Debug, Clone, FromRow)]
pub struct Fetch {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub message_id: Option<Uuid>,
    pub wa_media_id: String,
    pub mime_type: String,
    pub sha256: Option<String>,
    pub filename: Option<String>,
    /// Counting this one.
    pub attempts: i32,
    pub conversation_id: Option<Uuid>,
    /// Meta's id of the business number.
    pub phone_number_id: Option<String>,
    pub access_token: Option<String>,
}

/// Claims up to `limit` due downloads: each one's attempt is counted, and it is not due again
/// until `lease_seconds` from now (so a fetcher that dies holding it leaves it to another).
pub async fn claim_fetches(
    db: &Db,
    limit: i64,
    lease_seconds: f64,
) -> Result<Vec<Fetch>, StoreError> {
    Ok(sqlx::query_as(
        "WITH due AS ( \
             SELECT id FROM media_files \
             WHERE storage_url IS NULL AND wa_media_id IS NOT NULL AND given_up_at IS NULL \
               AND next_attempt_at <= now() \
             ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED), \
         claimed AS ( \
             UPDATE media_files f SET attempts = f.attempts + 1, \
                 next_attempt_at = now() + make_interval(secs => $2), updated_at = now() \
             FROM due WHERE f.id = due.id \
             RETURNING f.id, f.workspace_id, f.message_id, f.wa_media_id, f.mime_type, \
                       f.sha256, f.filename, f.attempts) \
         SELECT c.id, c.workspace_id, c.message_id, c.wa_media_id, c.mime_type, c.sha256, \
                c.filename, c.attempts, m.conversation_id, p.phone_number_id, p.access_token \
         FROM claimed c \
         LEFT JOIN messages m ON m.workspace_id = c.workspace_id AND m.id = c.message_id \
         LEFT JOIN phone_numbers p ON p.workspace_id = m.workspace_id AND p.id = m.phone_number_id \
         ORDER BY c.id",
    )
    .bind(limit)
    .bind(lease_seconds)
    .fetch_all(db.pool())
    .await?)
}

/// What a fetcher stored.
#[derive(Debug, Clone)]
pub struct Stored<'a> {
    pub storage_url: &'a str,
    pub size_bytes: i64,
    /// Hex of the stored bytes.
    pub sha256: &'a str,
    pub mime_type: &'a str,
}

/// Records a fetched file. False when it was stored already (by another fetcher whose claim had
/// run out).
pub async fn record_fetched(
    db: &Db,
    workspace: WorkspaceId,
    id: Uuid,
    stored: &Stored<'_>,
) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "UPDATE media_files SET storage_url = $3, size_bytes = $4, sha256 = $5, mime_type = $6, \
             last_error = NULL, updated_at = now() \
         WHERE workspace_id = $1 AND id = $2 AND storage_url IS NULL",
    )
    .bind(workspace.0)
    .bind(id)
    .bind(stored.storage_url)
    .bind(stored.size_bytes)
    .bind(stored.sha256)
    .bind(stored.mime_type)
    .execute(db.pool())
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// A download failed and will be tried again from `next_attempt_at`.
pub async fn retry_fetch(
    db: &Db,
    workspace: WorkspaceId,
    id: Uuid,
    next_attempt_at: DateTime<Utc>,
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE media_files SET next_attempt_at = $3, last_error = $4, updated_at = now() \
         WHERE workspace_id = $1 AND id = $2 AND storage_url IS NULL",
    )
    .bind(workspace.0)
    .bind(id)
    .bind(next_attempt_at)
    .bind(error)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// A download will not be tried again.
pub async fn give_up_fetch(
    db: &Db,
    workspace: WorkspaceId,
    id: Uuid,
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE media_files SET given_up_at = now(), last_error = $3, updated_at = now() \
         WHERE workspace_id = $1 AND id = $2 AND storage_url IS NULL",
    )
    .bind(workspace.0)
    .bind(id)
    .bind(error)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records Meta's media id of an uploaded outbound file, and puts it in its message's send body
/// (`content.<type>.id`), in one transaction, so a retried send does not upload it again. When
/// another worker recorded one first, that one is kept; either way the id to send is returned.
pub async fn record_upload(
    db: &Db,
    workspace: WorkspaceId,
    id: Uuid,
    message: Uuid,
    wa_media_id: &str,
) -> Result<String, StoreError> {
    let mut tx = db.pool().begin().await?;
    let recorded: String = sqlx::query_scalar(
        "UPDATE media_files SET wa_media_id = COALESCE(wa_media_id, $3), last_error = NULL, \
             updated_at = now() \
         WHERE workspace_id = $1 AND id = $2 RETURNING wa_media_id",
    )
    .bind(workspace.0)
    .bind(id)
    .bind(wa_media_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("media file {id} is gone")))?;
    sqlx::query(
        "UPDATE messages SET content = jsonb_set(content, ARRAY[type, 'id'], to_jsonb($3::text)), \
             updated_at = now() \
         WHERE workspace_id = $1 AND id = $2 AND jsonb_typeof(content -> type) = 'object'",
    )
    .bind(workspace.0)
    .bind(message)
    .bind(&recorded)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(recorded)
}

/// An upload of an outbound file failed: counted, with its reason. Returns the uploads tried.
pub async fn record_upload_failure(
    db: &Db,
    workspace: WorkspaceId,
    id: Uuid,
    error: &str,
) -> Result<i32, StoreError> {
    Ok(sqlx::query_scalar(
        "UPDATE media_files SET attempts = attempts + 1, last_error = $3, updated_at = now() \
         WHERE workspace_id = $1 AND id = $2 RETURNING attempts",
    )
    .bind(workspace.0)
    .bind(id)
    .bind(error)
    .fetch_optional(db.pool())
    .await?
    .unwrap_or(1))
}
