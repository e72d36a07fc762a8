//! The change bus: `NOTIFY` on one channel, naming the workspace and conversation that changed,
//! so every TUI on the database reloads what it shows.
//!
//! Notifications are sent after the writing transaction has committed, in a transaction of their
//! own that does not wait for its commit to reach disk: PostgreSQL lets only one transaction that
//! notifies commit at a time, so notifying inside the writing transactions would queue all their
//! disk flushes one behind the other. A crash between the two loses a notification, never data;
//! listeners also reload when they (re)connect.

use uuid::Uuid;

use super::{Db, StoreError};
use crate::domain::WorkspaceId;

/// The channel every change is announced on.
pub const CHANNEL: &str = "treeex_changes";
/// The channel that wakes outbox workers.
pub const OUTBOX_CHANNEL: &str = "treeex_outbox";

/// What a notification says: `{"workspace_id": …, "conversation_id": …}`, or for a campaign
/// that moved (its status, or a batch of its recipients enqueued) `{"workspace_id": …,
/// "conversation_id": null, "campaign_id": …}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    pub workspace_id: Uuid,
    pub conversation_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<Uuid>,
}

/// Announces committed changes, one notification each, in one round trip. What counts is
/// committed: a notification that cannot be sent only delays a refresh (listeners reload when
/// they reconnect), so the failure is logged, never returned to fail a write that happened.
pub async fn announce(db: &Db, changes: &[(WorkspaceId, Uuid)]) {
    if let Err(error) = notify_changes(db, changes).await {
        tracing::warn!(%error, "could not announce committed changes");
    }
}

async fn notify_changes(db: &Db, changes: &[(WorkspaceId, Uuid)]) -> Result<(), StoreError> {
    let payloads: Vec<String> = changes
        .iter()
        .map(|(workspace, conversation)| {
            serde_json::to_string(&Change {
                workspace_id: workspace.0,
                conversation_id: Some(*conversation),
                campaign_id: None,
            })
            .unwrap_or_default()
        })
        .collect();
    notify(db, CHANNEL, &payloads).await
}

/// Announces that a campaign moved (committed), like [`announce`].
pub async fn announce_campaign(db: &Db, workspace: WorkspaceId, campaign: Uuid) {
    let payload = serde_json::to_string(&Change {
        workspace_id: workspace.0,
        conversation_id: None,
        campaign_id: Some(campaign),
    })
    .unwrap_or_default();
    if let Err(error) = notify(db, CHANNEL, &[payload]).await {
        tracing::warn!(%error, "could not announce a campaign's change");
    }
}

/// Wakes the outbox workers (after a message was queued).
pub async fn wake_outbox(db: &Db) -> Result<(), StoreError> {
    notify(db, OUTBOX_CHANNEL, &[String::new()]).await
}

async fn notify(db: &Db, channel: &str, payloads: &[String]) -> Result<(), StoreError> {
    if payloads.is_empty() {
        return Ok(());
    }
    // One simple-protocol round trip; `SET LOCAL` needs the explicit transaction. The payloads
    // are JSON of ids, quoted as SQL literals.
    let calls: Vec<String> = payloads
        .iter()
        .map(|p| format!("pg_notify({}, {})", literal(channel), literal(p)))
        .collect();
    let sql = format!(
        "BEGIN; SET LOCAL synchronous_commit = off; SELECT {}; COMMIT;",
        calls.join(", ")
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(db.pool())
        .await?;
    Ok(())
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
