//! Connected WhatsApp business numbers. The access token is kept out of every listing.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use sqlx::FromRow;
use uuid::Uuid;

use super::{Db, StoreError, violated_constraint};
use crate::domain::WorkspaceId;

/// A phone number as listed: everything but its access token.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct PhoneNumber {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub phone_number_id: String,
    pub display_phone_number: String,
    pub waba_id: String,
    pub mps: i32,
    pub created_at: DateTime<Utc>,
}

pub struct NewPhoneNumber<'a> {
    pub phone_number_id: &'a str,
    pub display_phone_number: &'a str,
    pub waba_id: &'a str,
    pub access_token: &'a SecretString,
    pub mps: i32,
}

const COLUMNS: &str =
    "id, workspace_id, phone_number_id, display_phone_number, waba_id, mps, created_at";

pub async fn add(
    db: &Db,
    workspace: WorkspaceId,
    new: NewPhoneNumber<'_>,
) -> Result<PhoneNumber, StoreError> {
    let digits = |value: &str| !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    if !digits(new.phone_number_id) {
        return Err(StoreError::Invalid(format!(
            "`{}` is not a phone number id: Meta's ids are digits only",
            new.phone_number_id
        )));
    }
    if !digits(new.waba_id) {
        return Err(StoreError::Invalid(format!(
            "`{}` is not a WhatsApp Business Account id: Meta's ids are digits only",
            new.waba_id
        )));
    }
    if new.access_token.expose_secret().trim().is_empty() {
        return Err(StoreError::Invalid("the access token is empty".into()));
    }
    if !(1..=1000).contains(&new.mps) {
        return Err(StoreError::Invalid(format!(
            "--mps {} is out of range: a number sends 1 to 1000 messages a second",
            new.mps
        )));
    }
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO phone_numbers \
             (id, workspace_id, phone_number_id, display_phone_number, waba_id, access_token, mps) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(workspace.0)
    .bind(new.phone_number_id)
    .bind(new.display_phone_number.trim())
    .bind(new.waba_id)
    .bind(new.access_token.expose_secret())
    .bind(new.mps)
    .fetch_one(db.pool())
    .await
    .map_err(|e| match violated_constraint(&e) {
        Some("phone_numbers_phone_number_id_key") => StoreError::Conflict(format!(
            "phone number id {} is already connected (to this or another workspace)",
            new.phone_number_id
        )),
        _ => e.into(),
    })
}

pub async fn list(db: &Db, workspace: WorkspaceId) -> Result<Vec<PhoneNumber>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM phone_numbers WHERE workspace_id = $1 ORDER BY display_phone_number"
    )))
    .bind(workspace.0)
    .fetch_all(db.pool())
    .await?)
}

/// Where a webhook for Meta's `phone_number_id` belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub phone_number: Uuid,
    pub workspace: WorkspaceId,
}

pub async fn route(
    conn: &mut sqlx::PgConnection,
    phone_number_id: &str,
) -> Result<Option<Route>, StoreError> {
    let row: Option<(Uuid, Uuid)> =
        sqlx::query_as("SELECT id, workspace_id FROM phone_numbers WHERE phone_number_id = $1")
            .bind(phone_number_id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(phone_number, workspace)| Route {
        phone_number,
        workspace: WorkspaceId(workspace),
    }))
}

/// An error Meta reported against the number, not tied to one message.
#[derive(Debug, Clone)]
pub struct NumberError<'a> {
    pub code: i32,
    pub title: Option<&'a str>,
    pub message: Option<&'a str>,
    pub details: Option<&'a str>,
    pub occurred_at: DateTime<Utc>,
}

pub async fn record_error(
    conn: &mut sqlx::PgConnection,
    route: Route,
    error: &NumberError<'_>,
    archive_id: Option<Uuid>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO phone_number_errors \
             (id, workspace_id, phone_number_id, code, title, message, details, occurred_at, archive_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(Uuid::now_v7())
    .bind(route.workspace.0)
    .bind(route.phone_number)
    .bind(error.code)
    .bind(error.title)
    .bind(error.message)
    .bind(error.details)
    .bind(error.occurred_at)
    .bind(archive_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The workspace a webhook part belongs to when it names a connected number, or else a WABA
/// that exactly one workspace has numbers of; None when neither tells.
pub async fn workspace_for(
    conn: &mut sqlx::PgConnection,
    phone_number_id: Option<&str>,
    waba_id: Option<&str>,
) -> Result<Option<WorkspaceId>, StoreError> {
    let workspaces: Vec<Uuid> = sqlx::query_scalar(
        "SELECT DISTINCT workspace_id FROM phone_numbers \
         WHERE phone_number_id = $1 OR ($1 IS NULL AND waba_id = $2)",
    )
    .bind(phone_number_id)
    .bind(waba_id)
    .fetch_all(conn)
    .await?;
    Ok(match workspaces.as_slice() {
        [one] => Some(WorkspaceId(*one)),
        _ => None,
    })
}

/// A connected number with what sending needs: its WABA, token and rate.
#[derive(Debug, Clone, FromRow)]
pub struct Sender {
    pub id: Uuid,
    pub phone_number_id: String,
    pub waba_id: String,
    pub access_token: String,
    pub mps: i32,
}

/// A workspace's number by Meta's phone number id.
pub async fn sender(
    conn: &mut sqlx::PgConnection,
    workspace: WorkspaceId,
    phone_number_id: &str,
) -> Result<Sender, StoreError> {
    sqlx::query_as(
        "SELECT id, phone_number_id, waba_id, access_token, mps FROM phone_numbers \
         WHERE workspace_id = $1 AND phone_number_id = $2",
    )
    .bind(workspace.0)
    .bind(phone_number_id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| {
        StoreError::NotFound(format!(
            "phone number id {phone_number_id} is not connected to this workspace; `treeex phone list` shows its numbers"
        ))
    })
}

/// The workspace's numbers with what sending needs (all of them, or the one named).
pub async fn senders(
    db: &Db,
    workspace: WorkspaceId,
    phone_number_id: Option<&str>,
) -> Result<Vec<Sender>, StoreError> {
    let senders: Vec<Sender> = sqlx::query_as(
        "SELECT id, phone_number_id, waba_id, access_token, mps FROM phone_numbers \
         WHERE workspace_id = $1 AND ($2::text IS NULL OR phone_number_id = $2) \
         ORDER BY phone_number_id",
    )
    .bind(workspace.0)
    .bind(phone_number_id)
    .fetch_all(db.pool())
    .await?;
    if let (Some(id), true) = (phone_number_id, senders.is_empty()) {
        return Err(StoreError::NotFound(format!(
            "phone number id {id} is not connected to this workspace; `treeex phone list` shows its numbers"
        )));
    }
    Ok(senders)
}

/// Reserves `count` consecutive send slots of the number for `worker`, `1 / per_second` apart,
/// after every slot reserved before (by any worker), and makes `worker` the one worker sending
/// for the number until `tail` after the last of them. Returns how long until the first slot
/// (zero when it is now), the caller sending its i-th message `i / per_second` after that; or
/// None while another worker sends for the number: then this one must not send for it.
pub async fn reserve_slots(
    db: &Db,
    phone_number: Uuid,
    worker: &str,
    count: usize,
    per_second: f64,
    tail: std::time::Duration,
) -> Result<Option<std::time::Duration>, StoreError> {
    let span = count as f64 / per_second;
    let wait: Option<f64> = sqlx::query_scalar(
        "UPDATE phone_numbers \
         SET send_slot_at = GREATEST(send_slot_at, clock_timestamp()) + make_interval(secs => $3), \
             sending_worker = $2, \
             sending_until = GREATEST(send_slot_at, clock_timestamp()) + make_interval(secs => $3 + $4) \
         WHERE id = $1 AND (sending_worker IS NULL OR sending_worker = $2 OR sending_until <= clock_timestamp()) \
         RETURNING EXTRACT(EPOCH FROM send_slot_at - clock_timestamp())::float8 - $3",
    )
    .bind(phone_number)
    .bind(worker)
    .bind(span)
    .bind(tail.as_secs_f64())
    .fetch_optional(db.pool())
    .await?;
    Ok(wait.map(|wait| std::time::Duration::from_secs_f64(wait.max(0.0))))
}

/// Gives back every number `worker` sends for, for another worker to take at once, with the
/// slots it reserved and will not use (it has nothing leaving any more): the next worker's first
/// send comes a period of the cap after now at the latest.
pub async fn give_back_sending(db: &Db, worker: &str) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE phone_numbers SET sending_worker = NULL, sending_until = NULL, \
             send_slot_at = LEAST(send_slot_at, clock_timestamp() + make_interval(secs => 1.0 / mps)) \
         WHERE sending_worker = $1",
    )
    .bind(worker)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// A connected number of any workspace with its access token: what `treeex doctor` asks the
/// Graph API about.
#[derive(Debug, Clone)]
pub struct Credential {
    pub workspace_slug: String,
    pub phone_number_id: String,
    pub display_phone_number: String,
    pub access_token: SecretString,
}

/// Every connected number of every workspace with its token, by workspace slug then number.
/// The one read across workspaces: the operator's check of the tokens, and the operator holds
/// the whole database anyway. Reads only.
pub async fn credentials(conn: &mut sqlx::PgConnection) -> Result<Vec<Credential>, StoreError> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT w.slug, p.phone_number_id, p.display_phone_number, p.access_token \
         FROM phone_numbers p JOIN workspaces w ON w.id = p.workspace_id \
         ORDER BY w.slug, p.phone_number_id",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(workspace_slug, phone_number_id, display_phone_number, token)| Credential {
                workspace_slug,
                phone_number_id,
                display_phone_number,
                access_token: SecretString::from(token),
            },
        )
        .collect())
}
