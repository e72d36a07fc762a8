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

/// Sets a template's status in every workspace that has a number of its WABA (and only those);
/// returns how many template rows changed.
pub async fn set_status(
    conn: &mut PgConnection,
    key: TemplateKey<'_>,
    event: &str,
    reason: Option<&str>,
) -> Result<u64, StoreError> {
    let event = event.to_ascii_uppercase();
    let status = if STATUSES.contains(&event.as_str()) {
        event.as_str()
    } else {
        "UNKNOWN"
    };
    let reason = reason.filter(|r| !r.eq_ignore_ascii_case("NONE"));
    Ok(sqlx::query(
        "UPDATE templates t SET status = $5::template_status, \
             rejected_reason = CASE WHEN $5 = 'REJECTED' THEN $6 ELSE t.rejected_reason END, \
             wa_template_id = COALESCE(t.wa_template_id, $2), updated_at = now() \
         WHERE t.waba_id = $1 \
           AND t.workspace_id IN (SELECT workspace_id FROM phone_numbers WHERE waba_id = $1) \
           AND (t.wa_template_id = $2 \
                OR (t.wa_template_id IS NULL AND t.name = $3 AND t.language = $4))",
    )
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
    let category = category.to_ascii_uppercase();
    if !CATEGORIES.contains(&category.as_str()) {
        return Err(StoreError::Invalid(format!(
            "`{category}` is not a template category"
        )));
    }
    Ok(sqlx::query(
        "UPDATE templates t SET category = $5::template_category, \
             wa_template_id = COALESCE(t.wa_template_id, $2), updated_at = now() \
         WHERE t.waba_id = $1 \
           AND t.workspace_id IN (SELECT workspace_id FROM phone_numbers WHERE waba_id = $1) \
           AND (t.wa_template_id = $2 \
                OR (t.wa_template_id IS NULL AND t.name = $3 AND t.language = $4))",
    )
    .bind(key.waba_id)
    .bind(key.wa_template_id)
    .bind(key.name)
    .bind(key.language)
    .bind(category.as_str())
    .execute(conn)
    .await?
    .rows_affected())
}
