//! Campaigns: the recipient rows and the funnel counters, kept exact by moving them in the same
//! transaction as the message statuses they count.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use super::messages::Transition;
use super::{Db, StoreError};
use crate::domain::campaign::Audience;
use crate::domain::{CampaignStatus, MessageStatus, WorkspaceId};

/// A campaign as the CLI and the dashboards show it; fields carry the schema's column names.
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

impl Campaign {
    /// The counters by stage, down the funnel: what the dashboards, `campaign show` and
    /// `/metrics` list.
    pub fn funnel(&self) -> [(&'static str, i32); 6] {
        [
            ("sent", self.sent_count),
            ("delivered", self.delivered_count),
            ("read", self.read_count),
            ("replied", self.replied_count),
            ("failed", self.failed_count),
            ("skipped", self.skipped_count),
        ]
    }
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
/// Every campaign now running or paused, in any workspace (their counters, for `/metrics`).
pub async fn progress(db: &Db) -> Result<Vec<Campaign>, StoreError> {
    Ok(sqlx::query_as(concat!(
        select_campaign!(),
        "WHERE c.status IN ('RUNNING', 'PAUSED') ORDER BY c.id"
    ))
    .fetch_all(db.pool())
    .await?)
}

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
           AND error_details IS NOT NULL \
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
/// A message leaving for Meta also counts in its second of `campaign_send_seconds`.
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
                 error_details = CASE WHEN t.new = 'failed' \
                     THEN COALESCE(m.error_details, m.error_title, 'the message failed') END, \
                 updated_at = now() \
             FROM t JOIN messages m ON m.id = t.message_id \
             WHERE cm.message_id = t.message_id \
             RETURNING cm.workspace_id, cm.campaign_id, t.old, t.new), \
         deltas AS ( \
             SELECT campaign_id, \
                    sum((new IN ('sent', 'delivered', 'read', 'played'))::int \
                        - (old IN ('sent', 'delivered', 'read', 'played'))::int) AS sent, \
                    sum((new IN ('delivered', 'read', 'played'))::int \
                        - (old IN ('delivered', 'read', 'played'))::int) AS delivered, \
                    sum((new IN ('read', 'played'))::int - (old IN ('read', 'played'))::int) AS read, \
                    sum((new = 'failed')::int - (old = 'failed')::int) AS failed \
             FROM recipients GROUP BY campaign_id), \
         seconds AS ( \
             INSERT INTO campaign_send_seconds (workspace_id, campaign_id, second, sent) \
             SELECT workspace_id, campaign_id, date_trunc('second', now()), count(*) \
             FROM recipients \
             WHERE old IN ('pending', 'failed') AND new IN ('sent', 'delivered', 'read', 'played') \
             GROUP BY workspace_id, campaign_id \
             ON CONFLICT (campaign_id, second) \
                 DO UPDATE SET sent = campaign_send_seconds.sent + EXCLUDED.sent) \
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

/// A campaign to create.
#[derive(Debug, Clone)]
pub struct NewCampaign<'a> {
    pub workspace: WorkspaceId,
    pub name: &'a str,
    pub phone_number: Uuid,
    pub template: Uuid,
    /// Each parameter as written (`{name}`, a literal).
    pub parameters: &'a [String],
    pub audience: &'a Audience,
    /// SCHEDULED for this time when given, else DRAFT.
    pub scheduled_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
}

/// Writes a new DRAFT or SCHEDULED campaign and returns its id.
pub async fn insert(conn: &mut PgConnection, new: &NewCampaign<'_>) -> Result<Uuid, StoreError> {
    let status = if new.scheduled_at.is_some() {
        CampaignStatus::Scheduled
    } else {
        CampaignStatus::Draft
    };
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO campaigns (id, workspace_id, phone_number_id, template_id, name, status, \
                                parameters, audience, scheduled_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(new.workspace.0)
    .bind(new.phone_number)
    .bind(new.template)
    .bind(new.name)
    .bind(status)
    .bind(serde_json::to_value(new.parameters).unwrap_or_default())
    .bind(serde_json::to_value(new.audience).unwrap_or_default())
    .bind(new.scheduled_at)
    .bind(new.created_by)
    .execute(conn)
    .await?;
    Ok(id)
}

/// The audience condition over `contacts k`: $1 workspace, $2 any of, $3 all of, $4 none of,
/// $5 only opted in. Contacts without a wa_id cannot be messaged and are never in it.
macro_rules! audience_condition {
    () => {
        "k.workspace_id = $1 AND k.wa_id IS NOT NULL \
         AND (cardinality($2::text[]) = 0 OR k.tags && $2::text[]) \
         AND k.tags @> $3::text[] AND NOT (k.tags && $4::text[]) \
         AND (NOT $5 OR k.opted_in)"
    };
}

/// How many contacts the audience holds now (only those opted in when `opt_in` says so).
pub async fn audience_size(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    audience: &Audience,
    opt_in: bool,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(concat!(
        "SELECT count(*) FROM contacts k WHERE ",
        audience_condition!()
    ))
    .bind(workspace.0)
    .bind(&audience.any)
    .bind(&audience.all)
    .bind(&audience.none)
    .bind(opt_in)
    .fetch_one(conn)
    .await?)
}

/// What a control move needs of a campaign, read under its row lock.
#[derive(Debug, Clone, FromRow)]
pub struct Locked {
    pub status: CampaignStatus,
    pub phone_number: Uuid,
    pub template: Uuid,
    pub parameters: Value,
    pub audience: Value,
    pub started_at: Option<DateTime<Utc>>,
    /// The workspace's `campaign_opt_in` setting.
    pub opt_in_setting: Option<String>,
}

/// Locks the campaign for a status change: a runner enqueueing for it waits, and sees the new
/// status after (see [`claim_recipients`]).
pub async fn lock(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    id: Uuid,
) -> Result<Locked, StoreError> {
    sqlx::query_as(
        "SELECT c.status, c.phone_number_id AS phone_number, c.template_id AS template, \
                c.parameters, c.audience, c.started_at, \
                w.settings ->> 'campaign_opt_in' AS opt_in_setting \
         FROM campaigns c JOIN workspaces w ON w.id = c.workspace_id \
         WHERE c.workspace_id = $1 AND c.id = $2 FOR UPDATE OF c",
    )
    .bind(workspace.0)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("there is no campaign {id}")))
}

/// Snapshots the audience into the recipient rows (once: the unique (campaign, contact) key
/// makes a second start add no one) and sets `total_contacts`. Returns the total.
pub async fn snapshot(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    id: Uuid,
    audience: &Audience,
    opt_in: bool,
) -> Result<i32, StoreError> {
    sqlx::query(concat!(
        "INSERT INTO campaign_messages (id, workspace_id, campaign_id, contact_id) \
         SELECT gen_random_uuid(), $1, $6, k.id FROM contacts k WHERE ",
        audience_condition!(),
        " ON CONFLICT (campaign_id, contact_id) DO NOTHING"
    ))
    .bind(workspace.0)
    .bind(&audience.any)
    .bind(&audience.all)
    .bind(&audience.none)
    .bind(opt_in)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query_scalar(
        "UPDATE campaigns SET total_contacts = \
             (SELECT count(*) FROM campaign_messages WHERE campaign_id = $2), \
             started_at = COALESCE(started_at, now()), updated_at = now() \
         WHERE workspace_id = $1 AND id = $2 RETURNING total_contacts",
    )
    .bind(workspace.0)
    .bind(id)
    .fetch_one(conn)
    .await?)
}

/// Sets the status (the caller checked the move under [`lock`]); a finished campaign gets its
/// `completed_at`, one that runs again loses it.
pub async fn set_status(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    id: Uuid,
    status: CampaignStatus,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE campaigns SET status = $3, \
             completed_at = CASE WHEN $3 IN ('COMPLETED', 'CANCELLED') THEN now() END, \
             updated_at = now() \
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace.0)
    .bind(id)
    .bind(status)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes back the campaign's messages still waiting in the outbox (not claimed by a worker):
/// their recipients are queued again and the unsent messages disappear. Returns how many.
pub async fn recall(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    id: Uuid,
) -> Result<u64, StoreError> {
    let recalled: Vec<Uuid> = sqlx::query_scalar(
        "DELETE FROM outbox WHERE workspace_id = $1 AND campaign_id = $2 AND state = 'queued' \
         RETURNING message_id",
    )
    .bind(workspace.0)
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    if recalled.is_empty() {
        return Ok(0);
    }
    sqlx::query(
        "UPDATE campaign_messages SET message_id = NULL, status = 'queued', updated_at = now() \
         WHERE workspace_id = $1 AND campaign_id = $2 AND message_id = ANY($3)",
    )
    .bind(workspace.0)
    .bind(id)
    .bind(&recalled)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM messages WHERE workspace_id = $1 AND id = ANY($2)")
        .bind(workspace.0)
        .bind(&recalled)
        .execute(&mut *conn)
        .await?;
    Ok(recalled.len() as u64)
}

/// Queues the failed recipients again (their failed messages stay in the threads) and takes
/// them off the failed count. Returns how many.
pub async fn requeue_failed(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    id: Uuid,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "WITH requeued AS ( \
             UPDATE campaign_messages SET status = 'queued', message_id = NULL, \
                 error_code = NULL, error_details = NULL, updated_at = now() \
             WHERE workspace_id = $1 AND campaign_id = $2 AND status = 'failed' RETURNING 1), \
         counted AS (SELECT count(*) AS n FROM requeued) \
         UPDATE campaigns SET failed_count = failed_count - counted.n, updated_at = now() \
         FROM counted WHERE workspace_id = $1 AND id = $2 RETURNING counted.n",
    )
    .bind(workspace.0)
    .bind(id)
    .fetch_one(conn)
    .await?)
}

/// A campaign the runner may drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct Held {
    pub workspace_id: Uuid,
    pub id: Uuid,
    pub mps: i32,
}

/// Takes or renews the lease of every RUNNING campaign whose lease is free, lapsed or already
/// `owner`'s, until `seconds` from now. Returns the campaigns `owner` holds.
pub async fn hold_running(db: &Db, owner: &str, seconds: f64) -> Result<Vec<Held>, StoreError> {
    Ok(sqlx::query_as(
        "UPDATE campaigns c SET lease_owner = $1, \
             lease_expires_at = now() + make_interval(secs => $2) \
         FROM phone_numbers p \
         WHERE c.status = 'RUNNING' AND p.id = c.phone_number_id \
           AND (c.lease_owner IS NULL OR c.lease_owner = $1 OR c.lease_expires_at < now()) \
         RETURNING c.workspace_id, c.id, p.mps",
    )
    .bind(owner)
    .bind(seconds)
    .fetch_all(db.pool())
    .await?)
}

/// Gives up `owner`'s leases (a runner stopping), so another process takes over at once.
pub async fn release(db: &Db, owner: &str) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE campaigns SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1",
    )
    .bind(owner)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// SCHEDULED campaigns whose time has come.
pub async fn due(db: &Db) -> Result<Vec<(WorkspaceId, Uuid)>, StoreError> {
    let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT workspace_id, id FROM campaigns \
         WHERE status = 'SCHEDULED' AND scheduled_at <= now() ORDER BY scheduled_at LIMIT 100",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(workspace, id)| (WorkspaceId(workspace), id))
        .collect())
}

/// The campaign's messages in the outbox that have not left yet: how far ahead of the sends
/// the runner is.
pub async fn in_outbox(db: &Db, workspace: WorkspaceId, id: Uuid) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM outbox \
         WHERE workspace_id = $1 AND campaign_id = $2 AND state IN ('queued', 'claimed')",
    )
    .bind(workspace.0)
    .bind(id)
    .fetch_one(db.pool())
    .await?)
}

/// What the runner sends with, read with the recipients it claims.
#[derive(Debug, Clone, FromRow)]
pub struct Sending {
    pub status: CampaignStatus,
    pub lease_owner: Option<String>,
    pub phone_number: Uuid,
    pub template: Uuid,
    pub parameters: Value,
    pub opt_in_setting: Option<String>,
}

/// A recipient claimed for enqueueing, with the contact's fields for its parameters.
#[derive(Debug, Clone, FromRow)]
pub struct Recipient {
    pub id: Uuid,
    pub contact_id: Uuid,
    pub wa_id: Option<String>,
    pub name: Option<String>,
    pub custom_fields: Value,
    pub opted_in: bool,
}

/// In the runner's transaction: the campaign (share-locked so that no status change happens
/// until the transaction ends; counter updates are not held up) and, when it is RUNNING and
/// `owner` holds it, up to `limit` queued recipients, locked (`SKIP LOCKED`: never two runners
/// on one recipient).
pub async fn claim_recipients(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    id: Uuid,
    owner: &str,
    limit: i64,
) -> Result<Option<(Sending, Vec<Recipient>)>, StoreError> {
    let sending: Option<Sending> = sqlx::query_as(
        "SELECT c.status, c.lease_owner, c.phone_number_id AS phone_number, \
                c.template_id AS template, c.parameters, \
                w.settings ->> 'campaign_opt_in' AS opt_in_setting \
         FROM campaigns c JOIN workspaces w ON w.id = c.workspace_id \
         WHERE c.workspace_id = $1 AND c.id = $2 FOR KEY SHARE OF c",
    )
    .bind(workspace.0)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(sending) = sending
        .filter(|s| s.status == CampaignStatus::Running && s.lease_owner.as_deref() == Some(owner))
    else {
        return Ok(None);
    };
    let recipients = sqlx::query_as(
        "SELECT cm.id, cm.contact_id, k.wa_id, COALESCE(k.name, k.profile_name) AS name, \
                k.custom_fields, k.opted_in \
         FROM campaign_messages cm \
         JOIN contacts k ON k.workspace_id = cm.workspace_id AND k.id = cm.contact_id \
         WHERE cm.campaign_id = $2 AND cm.workspace_id = $1 AND cm.message_id IS NULL \
           AND cm.status = 'queued' \
         ORDER BY cm.id LIMIT $3 FOR UPDATE OF cm SKIP LOCKED",
    )
    .bind(workspace.0)
    .bind(id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some((sending, recipients)))
}

/// One recipient's message, rendered.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub recipient: Uuid,
    pub contact: Uuid,
    pub content: Value,
    pub rendered_text: String,
}

/// Writes the rendered messages of claimed recipients set-based: their conversations (opened
/// when new), the `pending` messages, the outbox rows (tagged with the campaign) and the
/// recipient rows; and the skipped recipients with their reason.
pub async fn write_batch(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    id: Uuid,
    phone_number: Uuid,
    rendered: &[Rendered],
    skipped: &[(Uuid, String)],
) -> Result<(), StoreError> {
    if !rendered.is_empty() {
        let contacts: Vec<Uuid> = rendered.iter().map(|r| r.contact).collect();
        sqlx::query(
            "INSERT INTO conversations (id, workspace_id, phone_number_id, contact_id) \
             SELECT gen_random_uuid(), $1, $2, contact FROM UNNEST($3::uuid[]) AS t (contact) \
             ON CONFLICT (phone_number_id, contact_id) DO NOTHING",
        )
        .bind(workspace.0)
        .bind(phone_number)
        .bind(&contacts)
        .execute(&mut *conn)
        .await?;
        let messages: Vec<Uuid> = rendered.iter().map(|_| Uuid::now_v7()).collect();
        let recipients: Vec<Uuid> = rendered.iter().map(|r| r.recipient).collect();
        let contents: Vec<Value> = rendered.iter().map(|r| r.content.clone()).collect();
        let texts: Vec<String> = rendered.iter().map(|r| r.rendered_text.clone()).collect();
        sqlx::query(
            "WITH t AS ( \
                 SELECT * FROM UNNEST($3::uuid[], $4::uuid[], $5::uuid[], $6::jsonb[], $7::text[]) \
                     AS t (message, recipient, contact, content, rendered)), \
             c AS ( \
                 SELECT t.*, v.id AS conversation FROM t JOIN conversations v \
                     ON v.workspace_id = $1 AND v.phone_number_id = $2 \
                    AND v.contact_id = t.contact), \
             m AS ( \
                 INSERT INTO messages (id, workspace_id, conversation_id, phone_number_id, \
                                       direction, type, content, rendered_text, status) \
                 SELECT message, $1, conversation, $2, 'OUTBOUND', 'template', content, \
                        rendered, 'pending' FROM c), \
             o AS ( \
                 INSERT INTO outbox (message_id, workspace_id, phone_number_id, campaign_id) \
                 SELECT message, $1, $2, $8 FROM c), \
             r AS ( \
                 UPDATE campaign_messages cm SET message_id = c.message, status = 'pending', \
                     updated_at = now() \
                 FROM c WHERE cm.id = c.recipient) \
             UPDATE conversations v SET last_message_at = now(), \
                 last_message_preview = c.rendered, updated_at = now() \
             FROM c WHERE v.id = c.conversation",
        )
        .bind(workspace.0)
        .bind(phone_number)
        .bind(&messages)
        .bind(&recipients)
        .bind(&contacts)
        .bind(&contents)
        .bind(&texts)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    if !skipped.is_empty() {
        let recipients: Vec<Uuid> = skipped.iter().map(|(r, _)| *r).collect();
        let reasons: Vec<String> = skipped.iter().map(|(_, why)| why.clone()).collect();
        sqlx::query(
            "WITH s AS ( \
                 UPDATE campaign_messages cm SET status = 'skipped', error_details = t.reason, \
                     updated_at = now() \
                 FROM UNNEST($3::uuid[], $4::text[]) AS t (recipient, reason) \
                 WHERE cm.workspace_id = $1 AND cm.id = t.recipient RETURNING 1) \
             UPDATE campaigns SET skipped_count = skipped_count + (SELECT count(*) FROM s), \
                 updated_at = now() \
             WHERE workspace_id = $1 AND id = $2",
        )
        .bind(workspace.0)
        .bind(id)
        .bind(&recipients)
        .bind(&reasons)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Sets COMPLETED when the campaign is RUNNING and every recipient is final: none queued, and
/// nothing of it in the outbox but sends a crash left ambiguous (shown as unknown until their
/// status webhooks settle them). True when it completed.
pub async fn complete_if_done(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    id: Uuid,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE campaigns c SET status = 'COMPLETED', completed_at = now(), updated_at = now(), \
             lease_owner = NULL, lease_expires_at = NULL \
         WHERE c.workspace_id = $1 AND c.id = $2 AND c.status = 'RUNNING' \
           AND NOT EXISTS (SELECT 1 FROM campaign_messages cm \
                           WHERE cm.campaign_id = c.id AND cm.message_id IS NULL \
                             AND cm.status = 'queued') \
           AND NOT EXISTS (SELECT 1 FROM outbox o \
                           WHERE o.campaign_id = c.id AND o.state <> 'ambiguous')",
    )
    .bind(workspace.0)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Counts the replies: a contact who writes to a number after a campaign message from it was
/// sent has replied to that campaign (once per recipient). `writes` are (contact, when).
pub async fn record_replies(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    phone_number: Uuid,
    writes: &[(Uuid, DateTime<Utc>)],
) -> Result<(), StoreError> {
    if writes.is_empty() {
        return Ok(());
    }
    let contacts: Vec<Uuid> = writes.iter().map(|(c, _)| *c).collect();
    let times: Vec<DateTime<Utc>> = writes.iter().map(|(_, at)| *at).collect();
    sqlx::query(
        "WITH t AS ( \
             SELECT contact, max(at) AS at FROM UNNEST($3::uuid[], $4::timestamptz[]) \
                 AS t (contact, at) GROUP BY contact), \
         replied AS ( \
             UPDATE campaign_messages cm SET replied_at = t.at, updated_at = now() \
             FROM t, messages m \
             WHERE cm.workspace_id = $1 AND cm.contact_id = t.contact AND cm.replied_at IS NULL \
               AND cm.status IN ('sent', 'delivered', 'read') \
               AND m.id = cm.message_id AND m.phone_number_id = $2 AND m.sent_at < t.at \
             RETURNING cm.campaign_id) \
         UPDATE campaigns c SET replied_count = c.replied_count + d.n, updated_at = now() \
         FROM (SELECT campaign_id, count(*) AS n FROM replied GROUP BY campaign_id) d \
         WHERE c.id = d.campaign_id",
    )
    .bind(workspace.0)
    .bind(phone_number)
    .bind(&contacts)
    .bind(&times)
    .execute(conn)
    .await?;
    Ok(())
}

/// The workspace's `campaign_opt_in` setting (`marketing`: only MARKETING templates need
/// consent; anything else or none: every campaign does).
pub async fn opt_in_setting(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT settings ->> 'campaign_opt_in' FROM workspaces WHERE id = $1")
            .bind(workspace.0)
            .fetch_optional(conn)
            .await?
            .flatten(),
    )
}

/// One contact of the audience, for a preview (the one added first).
pub async fn sample_contact(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    audience: &Audience,
    opt_in: bool,
) -> Result<Option<Recipient>, StoreError> {
    Ok(sqlx::query_as(concat!(
        "SELECT k.id, k.id AS contact_id, k.wa_id, COALESCE(k.name, k.profile_name) AS name, \
                k.custom_fields, k.opted_in \
         FROM contacts k WHERE ",
        audience_condition!(),
        " ORDER BY k.created_at, k.id LIMIT 1"
    ))
    .bind(workspace.0)
    .bind(&audience.any)
    .bind(&audience.all)
    .bind(&audience.none)
    .bind(opt_in)
    .fetch_optional(conn)
    .await?)
}
