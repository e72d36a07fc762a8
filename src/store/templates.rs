//! Message templates as synced from Meta, and the status and category changes Meta announces.

use sqlx::PgConnection;

use super::StoreError;

/// The statuses `template_status` knows; anything else Meta sends is stored as UNKNOWN.
const STATUSES: [&str; 14] = [
    "APPROVED",
    "REJECTED",
    "PENDING",
    "PAUSED",
    "DISABLED",
    "IN_APPEAL",
    "PENDING_DELETION",
    "DELETED",
    "FLAGGED",
    "REINSTATED",
    "LIMIT_EXCEEDED",
    "ARCHIVED",
    "UNARCHIVED",
    "LOCKED",
];
const CATEGORIES: [&str; 3] = ["MARKETING", "UTILITY", "AUTHENTICATION"];

/// How a template webhook names its template: Meta's id, and (name, language) as a fallback for
/// templates synced before their id was known. Always within one WABA.
#[derive(Debug, Clone, Copy)]
pub struct TemplateKey<'a> {
    pub waba_id: &'a str,
    pub wa_template_id: &'a str,
    pub name: Option<&'a str>,
    pub language: Option<&'a str>,
}

/// Whether any workspace has a number of this WABA (template webhooks name only the WABA).
pub async fn waba_is_known(conn: &mut PgConnection, waba_id: &str) -> Result<bool, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM phone_numbers WHERE waba_id = $1)")
            .bind(waba_id)
            .fetch_one(conn)
            .await?,
    )
}

/// The templates a webhook's key names: in the WABA's workspaces only, by Meta's id, or by name
/// and language for one synced before its id was known. `$1`-`$4` are the key's fields.
const KEYED: &str = "WHERE t.waba_id = $1 \
       AND t.workspace_id IN (SELECT workspace_id FROM phone_numbers WHERE waba_id = $1) \
       AND (t.wa_template_id = $2 \
            OR (t.wa_template_id IS NULL AND t.name = $3 AND t.language = $4))";

/// Sets a template's status in every workspace that has a number of its WABA (and only those);
/// returns how many template rows changed.
pub async fn set_status(
    conn: &mut PgConnection,
    key: TemplateKey<'_>,
    event: &str,
    reason: Option<&str>,
) -> Result<u64, StoreError> {
    let status = status_label(event);
    let reason = reason.filter(|r| !r.eq_ignore_ascii_case("NONE"));
    Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE templates t SET status = $5::template_status, \
             rejected_reason = CASE WHEN $5 = 'REJECTED' THEN $6 ELSE t.rejected_reason END, \
             wa_template_id = COALESCE(t.wa_template_id, $2), updated_at = now() {KEYED}"
    )))
    .bind(key.waba_id)
    .bind(key.wa_template_id)
    .bind(key.name)
    .bind(key.language)
    .bind(status)
    .bind(reason)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Sets a template's category after Meta re-categorised it; returns how many rows changed.
pub async fn set_category(
    conn: &mut PgConnection,
    key: TemplateKey<'_>,
    category: &str,
) -> Result<u64, StoreError> {
    let category = category_label(category)
        .ok_or_else(|| StoreError::Invalid(format!("`{category}` is not a template category")))?;
    Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE templates t SET category = $5::template_category, \
             wa_template_id = COALESCE(t.wa_template_id, $2), updated_at = now() {KEYED}"
    )))
    .bind(key.waba_id)
    .bind(key.wa_template_id)
    .bind(key.name)
    .bind(key.language)
    .bind(category)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Meta's status word as `template_status` spells it; UNKNOWN for one it adds later.
fn status_label(status: &str) -> &'static str {
    STATUSES
        .iter()
        .find(|s| s.eq_ignore_ascii_case(status))
        .copied()
        .unwrap_or("UNKNOWN")
}

/// Meta's category word as `template_category` spells it (Meta's own samples send lowercase).
fn category_label(category: &str) -> Option<&'static str> {
    CATEGORIES
        .iter()
        .find(|c| c.eq_ignore_ascii_case(category))
        .copied()
}

/// A template as stored.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Template {
    pub id: uuid::Uuid,
    pub workspace_id: uuid::Uuid,
    pub waba_id: String,
    pub wa_template_id: Option<String>,
    pub name: String,
    pub language: String,
    pub category: String,
    pub status: String,
    pub components: serde_json::Value,
    pub rejected_reason: Option<String>,
    pub synced_at: Option<chrono::DateTime<chrono::Utc>>,
}

const TEMPLATE_COLUMNS: &str = "id, workspace_id, waba_id, wa_template_id, name, language, \
     category::text AS category, status::text AS status, components, rejected_reason, synced_at";

/// A template as Meta lists it, to store.
#[derive(Debug, Clone)]
pub struct Synced {
    pub wa_template_id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    pub status: String,
    pub components: serde_json::Value,
}

/// Stores the templates Meta listed for a WABA, in one statement: new ones are added, known ones
/// (by name and language) take Meta's current state. Returns how many were written.
pub async fn upsert_synced(
    conn: &mut PgConnection,
    workspace: crate::domain::WorkspaceId,
    waba_id: &str,
    templates: &[Synced],
) -> Result<u64, StoreError> {
    if templates.is_empty() {
        return Ok(0);
    }
    let ids: Vec<uuid::Uuid> = templates.iter().map(|_| uuid::Uuid::now_v7()).collect();
    let wa_ids: Vec<&str> = templates
        .iter()
        .map(|t| t.wa_template_id.as_str())
        .collect();
    let names: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
    let languages: Vec<&str> = templates.iter().map(|t| t.language.as_str()).collect();
    // A category Meta adds later is stored as UTILITY, the one without marketing rules.
    let categories: Vec<&str> = templates
        .iter()
        .map(|t| category_label(&t.category).unwrap_or("UTILITY"))
        .collect();
    let statuses: Vec<&str> = templates.iter().map(|t| status_label(&t.status)).collect();
    let components: Vec<&serde_json::Value> = templates.iter().map(|t| &t.components).collect();
    Ok(sqlx::query(
        "INSERT INTO templates AS t (id, workspace_id, waba_id, wa_template_id, name, language, \
                                     category, status, components, synced_at) \
         SELECT i.id, $1, $2, i.wa_id, i.name, i.language, i.category::template_category, \
                i.status::template_status, i.components, now() \
         FROM UNNEST($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[]) \
              AS i (id, wa_id, name, language, category, status, components) \
         ON CONFLICT (workspace_id, waba_id, name, language) DO UPDATE SET \
             wa_template_id = EXCLUDED.wa_template_id, category = EXCLUDED.category, \
             status = EXCLUDED.status, components = EXCLUDED.components, \
             synced_at = now(), updated_at = now()",
    )
    .bind(workspace.0)
    .bind(waba_id)
    .bind(&ids)
    .bind(&wa_ids)
    .bind(&names)
    .bind(&languages)
    .bind(&categories)
    .bind(&statuses)
    .bind(&components)
    .execute(conn)
    .await?
    .rows_affected())
}

/// A workspace's templates, by name and language.
pub async fn list(
    db: &super::Db,
    workspace: crate::domain::WorkspaceId,
) -> Result<Vec<Template>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE workspace_id = $1 ORDER BY name, language"
    )))
    .bind(workspace.0)
    .fetch_all(db.pool())
    .await?)
}

/// One template of a WABA by name and language.
pub async fn find(
    conn: &mut PgConnection,
    workspace: crate::domain::WorkspaceId,
    waba_id: &str,
    name: &str,
    language: &str,
) -> Result<Option<Template>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TEMPLATE_COLUMNS} FROM templates \
         WHERE workspace_id = $1 AND waba_id = $2 AND name = $3 AND language = $4"
    )))
    .bind(workspace.0)
    .bind(waba_id)
    .bind(name)
    .bind(language)
    .fetch_optional(conn)
    .await?)
}

/// One template of the workspace by its id.
pub async fn by_id(
    conn: &mut PgConnection,
    workspace: crate::domain::WorkspaceId,
    id: uuid::Uuid,
) -> Result<Template, StoreError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(workspace.0)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("there is no template {id}")))
}
