//! Campaigns: the recipient rows and the funnel counters, kept exact by moving them in the same
//! transaction as the message statuses they count.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use super::messages::Transition;
use super::{Db, StoreError};
use crate::domain::{CampaignStatus, MessageStatus, WorkspaceId};

/// A campaign as the CLI and the dashboards show it; fields carry the schema's column names.
/// `queued` counts recipients whose message is not written yet, `in_flight` those whose message
/// is written and not yet answered by Meta (`unknown` of them: a send a crash left ambiguous,
/// waiting for its status webhook).
#[derive(Debug, Clone, PartialEq, FromRow, serde::Serialize)]
pub struct Campaign {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub status: CampaignStatus,
    /// Meta's id of the number it sends from.
    pub phone_number_id: String,
    pub display_phone_number: String,
    pub template_name: String,
    pub template_language: String,
    pub template_category: String,
    pub parameters: Value,
    pub audience: Value,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub total_contacts: i32,
    pub sent_count: i32,
    pub delivered_count: i32,
    pub read_count: i32,
    pub replied_count: i32,
    pub failed_count: i32,
    pub skipped_count: i32,
    /// The number's send cap (messages per second).
    pub mps: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The campaign columns joined with its number and template, for `get` and `list` (a macro so
/// that `concat!` makes each query one static string).
macro_rules! select_campaign {
    () => {
        "SELECT c.id, c.workspace_id, c.name, c.status, \
        p.phone_number_id, p.display_phone_number, t.name AS template_name, \
        t.language AS template_language, t.category::text AS template_category, c.parameters, \
        c.audience, c.scheduled_at, c.started_at, c.completed_at, c.total_contacts, \
        c.sent_count, c.delivered_count, c.read_count, c.replied_count, c.failed_count, \
        c.skipped_count, p.mps, c.created_at, c.updated_at \
    FROM campaigns c \
    JOIN phone_numbers p ON p.workspace_id = c.workspace_id AND p.id = c.phone_number_id \
    JOIN templates t ON t.workspace_id = c.workspace_id AND t.id = c.template_id "
    };
}

/// One campaign of the workspace.
pub async fn get(db: &Db, workspace: WorkspaceId, id: Uuid) -> Result<Campaign, StoreError> {
    sqlx::query_as(concat!(
        select_campaign!(),
        "WHERE c.workspace_id = $1 AND c.id = $2"
    ))
    .bind(workspace.0)
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("there is no campaign {id}")))
}

/// The workspace's campaigns, newest first (at most `limit`).
pub async fn list(
    db: &Db,
    workspace: WorkspaceId,
    limit: i64,
) -> Result<Vec<Campaign>, StoreError> {
    Ok(sqlx::query_as(concat!(
        select_campaign!(),
        "WHERE c.workspace_id = $1 ORDER BY c.created_at DESC, c.id DESC LIMIT $2"
    ))
    .bind(workspace.0)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// The workspace a campaign belongs to: how a command given only a campaign id finds its
/// workspace (a campaign id is unique across workspaces).
pub async fn workspace_of(db: &Db, id: Uuid) -> Result<WorkspaceId, StoreError> {
    sqlx::query_scalar("SELECT workspace_id FROM campaigns WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .map(WorkspaceId)
        .ok_or_else(|| StoreError::NotFound(format!("there is no campaign {id}")))
}

/// A failure reason and how many recipients it stopped.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, serde::Serialize)]
pub struct FailureReason {
    pub error_code: Option<i32>,
    /// One of the recipients' details for this code (they are usually alike).
    pub error_details: Option<String>,
    pub count: i64,
}

/// The campaign's failures grouped by code, the most frequent first (at most `limit`).
pub async fn failure_reasons(
    db: &Db,
    workspace: WorkspaceId,
    campaign: Uuid,
    limit: i64,
) -> Result<Vec<FailureReason>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT error_code, min(error_details) AS error_details, count(*) AS count \
         FROM campaign_messages \
         WHERE workspace_id = $1 AND campaign_id = $2 AND status = 'failed' \
         GROUP BY error_code ORDER BY count(*) DESC, error_code NULLS LAST LIMIT $3",
    )
    .bind(workspace.0)
    .bind(campaign)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// Carries message status changes to their campaign recipients and the campaign counters: a
/// counter counts the recipients whose message is at that stage or beyond (sent ⊇ delivered ⊇
/// read), or failed; a transition adds to the counters it enters and takes from those it leaves.
pub async fn apply_transitions(
    conn: &mut PgConnection,
    transitions: &[Transition],
) -> Result<(), StoreError> {
    if transitions.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = transitions.iter().map(|t| t.message_id).collect();
    let from: Vec<MessageStatus> = transitions.iter().map(|t| t.from).collect();
    let to: Vec<MessageStatus> = transitions.iter().map(|t| t.to).collect();
    sqlx::query(
        "WITH t AS ( \
             SELECT * FROM UNNEST($1::uuid[], $2::message_status[], $3::message_status[]) \
                 AS t (message_id, old, new)), \
         recipients AS ( \
             UPDATE campaign_messages cm SET \
                 status = (CASE WHEN t.new = 'played' THEN 'read' ELSE t.new::text END)::campaign_message_status, \
                 error_code = CASE WHEN t.new = 'failed' THEN m.error_code END, \
                 error_details = CASE WHEN t.new = 'failed' THEN m.error_details END, \
                 updated_at = now() \
             FROM t JOIN messages m ON m.id = t.message_id \
             WHERE cm.message_id = t.message_id \
             RETURNING cm.campaign_id, t.old, t.new), \
         deltas AS ( \
             SELECT campaign_id, \
                    sum((new IN ('sent', 'delivered', 'read', 'played'))::int \
                        - (old IN ('sent', 'delivered', 'read', 'played'))::int) AS sent, \
                    sum((new IN ('delivered', 'read', 'played'))::int \
                        - (old IN ('delivered', 'read', 'played'))::int) AS delivered, \
                    sum((new IN ('read', 'played'))::int - (old IN ('read', 'played'))::int) AS read, \
                    sum((new = 'failed')::int - (old = 'failed')::int) AS failed \
             FROM recipients GROUP BY campaign_id) \
         UPDATE campaigns c SET \
             sent_count = c.sent_count + d.sent, \
             delivered_count = c.delivered_count + d.delivered, \
             read_count = c.read_count + d.read, \
             failed_count = c.failed_count + d.failed, \
             updated_at = now() \
         FROM deltas d WHERE c.id = d.campaign_id",
    )
    .bind(&ids)
    .bind(&from)
    .bind(&to)
    .execute(conn)
    .await?;
    Ok(())
}
