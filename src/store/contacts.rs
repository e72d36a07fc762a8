//! Contacts: a workspace's customers, with consent, tags and custom fields.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use super::{Db, StoreError, violated_constraint};
use crate::domain::{Tag, WaId, WorkspaceId};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Contact {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub wa_id: Option<String>,
    pub name: Option<String>,
    pub opted_in: bool,
    pub tags: Vec<String>,
    pub custom_fields: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, workspace_id, wa_id, name, opted_in, tags, custom_fields, created_at, updated_at";

/// A contact as given by a person or a file: already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct NewContact {
    pub wa_id: WaId,
    pub name: Option<String>,
    pub tags: Vec<Tag>,
    /// None: not said; a new contact starts opted out, an existing one keeps its consent.
    pub opted_in: Option<bool>,
    pub custom_fields: Map<String, Value>,
}

pub async fn add(db: &Db, workspace: WorkspaceId, new: &NewContact) -> Result<Contact, StoreError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO contacts (id, workspace_id, wa_id, name, opted_in, opted_in_at, tags, custom_fields) \
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 THEN now() END, $6, $7) RETURNING {COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(workspace.0)
    .bind(new.wa_id.as_str())
    .bind(new.name.as_deref())
    .bind(new.opted_in.unwrap_or(false))
    .bind(tag_strings(&new.tags))
    .bind(Value::Object(new.custom_fields.clone()))
    .fetch_one(db.pool())
    .await
    .map_err(|e| match violated_constraint(&e) {
        Some("contacts_workspace_id_wa_id_key") => StoreError::Conflict(format!(
            "contact {} already exists in this workspace",
            new.wa_id
        )),
        _ => e.into(),
    })
}

/// One page of a workspace's contacts in wa_id order, after `after` (keyset paging), optionally
/// only those carrying every tag in `tags`.
pub async fn page(
    db: &Db,
    workspace: WorkspaceId,
    tags: &[String],
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Contact>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM contacts \
         WHERE workspace_id = $1 AND tags @> $2 AND ($3::text IS NULL OR wa_id > $3) \
         ORDER BY wa_id LIMIT $4"
    )))
    .bind(workspace.0)
    .bind(tags)
    .bind(after)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// Whether an upserted contact was new or already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Upserted {
    Imported,
    Updated,
}

/// Inserts or updates many contacts in one statement. An existing contact (same wa_id) takes
/// the given name when one is given, the union of its tags and the given ones, the given
/// consent when one is given, and the given custom fields over its own. (The proposed row's
/// `opted_in_at`/`opted_out_at` carry whether consent was given either way.) Returns each wa_id with what happened,
/// in no particular order. The wa_ids must be distinct.
pub async fn upsert_many(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    contacts: &[NewContact],
) -> Result<Vec<(String, Upserted)>, StoreError> {
    if contacts.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = contacts.iter().map(|_| Uuid::now_v7()).collect();
    let wa_ids: Vec<&str> = contacts.iter().map(|c| c.wa_id.as_str()).collect();
    let names: Vec<Option<&str>> = contacts.iter().map(|c| c.name.as_deref()).collect();
    let opted_in: Vec<Option<bool>> = contacts.iter().map(|c| c.opted_in).collect();
    // PostgreSQL has no arrays of arrays of varying length: tags travel as JSON arrays.
    let tags: Vec<Value> = contacts
        .iter()
        .map(|c| Value::from(tag_strings(&c.tags)))
        .collect();
    let fields: Vec<Value> = contacts
        .iter()
        .map(|c| Value::Object(c.custom_fields.clone()))
        .collect();
    let rows: Vec<(String, bool)> = sqlx::query_as(
        "INSERT INTO contacts AS c \
             (id, workspace_id, wa_id, name, opted_in, opted_in_at, opted_out_at, tags, custom_fields) \
         SELECT i.id, $1, i.wa_id, i.name, COALESCE(i.opted_in, false), \
                CASE WHEN i.opted_in THEN now() END, CASE WHEN NOT i.opted_in THEN now() END, \
                ARRAY(SELECT jsonb_array_elements_text(i.tags)), i.fields \
         FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::bool[], $6::jsonb[], $7::jsonb[]) \
              AS i (id, wa_id, name, opted_in, tags, fields) \
         ON CONFLICT (workspace_id, wa_id) DO UPDATE SET \
             name = COALESCE(EXCLUDED.name, c.name), \
             opted_in = CASE WHEN EXCLUDED.opted_in_at IS NOT NULL THEN true \
                             WHEN EXCLUDED.opted_out_at IS NOT NULL THEN false \
                             ELSE c.opted_in END, \
             opted_in_at = CASE WHEN EXCLUDED.opted_in_at IS NOT NULL AND NOT c.opted_in \
                                THEN now() ELSE c.opted_in_at END, \
             opted_out_at = CASE WHEN EXCLUDED.opted_out_at IS NOT NULL AND c.opted_in \
                                 THEN now() ELSE c.opted_out_at END, \
             tags = ARRAY(SELECT DISTINCT t FROM unnest(c.tags || EXCLUDED.tags) AS t ORDER BY t), \
             custom_fields = c.custom_fields || EXCLUDED.custom_fields, \
             updated_at = now() \
         RETURNING c.wa_id, (c.xmax = 0) AS inserted",
    )
    .bind(workspace.0)
    .bind(&ids)
    .bind(&wa_ids)
    .bind(&names)
    .bind(&opted_in)
    .bind(&tags)
    .bind(&fields)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(wa_id, inserted)| {
            let outcome = if inserted {
                Upserted::Imported
            } else {
                Upserted::Updated
            };
            (wa_id, outcome)
        })
        .collect())
}

fn tag_strings(tags: &[Tag]) -> Vec<String> {
    tags.iter().map(|t| t.as_str().to_string()).collect()
}

/// The contact a webhook names, made on first contact: by wa_id when Meta gives one, else by its
/// business-scoped user id. The WhatsApp profile name is refreshed; the business's own name for
/// the contact is left alone.
pub async fn upsert_from_webhook(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    wa_id: Option<&str>,
    user_id: Option<&str>,
    profile_name: Option<&str>,
) -> Result<Uuid, StoreError> {
    let (conflict, wa_id, user_id) = match (wa_id, user_id) {
        (Some(wa_id), _) => ("(workspace_id, wa_id)", Some(wa_id), None),
        (None, Some(user_id)) => ("(workspace_id, user_id)", None, Some(user_id)),
        (None, None) => {
            return Err(StoreError::Invalid(
                "a contact needs a wa_id or a user id".into(),
            ));
        }
    };
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "INSERT INTO contacts AS c (id, workspace_id, wa_id, user_id, profile_name) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT {conflict} DO UPDATE SET \
             profile_name = COALESCE(EXCLUDED.profile_name, c.profile_name), \
             updated_at = CASE WHEN EXCLUDED.profile_name IS DISTINCT FROM c.profile_name \
                                    AND EXCLUDED.profile_name IS NOT NULL \
                               THEN now() ELSE c.updated_at END \
         RETURNING id"
    )))
    .bind(Uuid::now_v7())
    .bind(workspace.0)
    .bind(wa_id)
    .bind(user_id)
    .bind(profile_name)
    .fetch_one(conn)
    .await?)
}

/// Records a consent change caused by a message (a stop or start keyword, an opt-out button).
/// A redelivered message records it once, and an older change never overrides a newer one.
/// Meta's times are whole seconds, so a change recorded here within the same second (an import,
/// an agent's toggle) counts as no newer than the customer's message: the customer's word wins.
pub async fn record_consent(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    contact: Uuid,
    opted_in: bool,
    source: &str,
    wa_message_id: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let recorded = sqlx::query(
        "INSERT INTO consent_events (id, workspace_id, contact_id, opted_in, source, wa_message_id, occurred_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (contact_id, wa_message_id) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(workspace.0)
    .bind(contact)
    .bind(opted_in)
    .bind(source)
    .bind(wa_message_id)
    .bind(at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if recorded == 0 {
        return Ok(());
    }
    sqlx::query(
        "UPDATE contacts SET opted_in = $3, \
             opted_in_at = CASE WHEN $3 THEN $4 ELSE opted_in_at END, \
             opted_out_at = CASE WHEN NOT $3 THEN $4 ELSE opted_out_at END, \
             updated_at = now() \
         WHERE workspace_id = $1 AND id = $2 \
           AND (GREATEST(opted_in_at, opted_out_at) IS NULL \
                OR date_trunc('second', GREATEST(opted_in_at, opted_out_at)) <= $4)",
    )
    .bind(workspace.0)
    .bind(contact)
    .bind(opted_in)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The customer changed their number: the contact moves to the new wa_id, unless a contact with
/// that wa_id already exists (then both stay, and the system message in the thread tells why).
pub async fn change_wa_id(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    contact: Uuid,
    new_wa_id: &str,
) -> Result<bool, StoreError> {
    let moved = sqlx::query(
        "UPDATE contacts SET wa_id = $3, updated_at = now() \
         WHERE workspace_id = $1 AND id = $2 \
           AND NOT EXISTS (SELECT 1 FROM contacts WHERE workspace_id = $1 AND wa_id = $3)",
    )
    .bind(workspace.0)
    .bind(contact)
    .bind(new_wa_id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(moved == 1)
}
