//! The change bus: `NOTIFY` on one channel, naming the workspace and conversation that changed,
//! so every TUI on the database reloads what it shows. Sent inside the writing transaction, so
//! PostgreSQL delivers it only when (and if) that transaction commits.

use sqlx::PgConnection;
use uuid::Uuid;

use super::StoreError;
use crate::domain::WorkspaceId;

/// The channel every change is announced on.
pub const CHANNEL: &str = "treeex_changes";

/// What a notification says: `{"workspace_id": …, "conversation_id": …}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    pub workspace_id: Uuid,
    pub conversation_id: Option<Uuid>,
}

/// Announces changes, one notification each, in one round trip.
pub async fn notify(
    conn: &mut PgConnection,
    changes: &[(WorkspaceId, Uuid)],
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let payloads: Vec<String> = changes
        .iter()
        .map(|(workspace, conversation)| {
            serde_json::json!({"workspace_id": workspace.0, "conversation_id": conversation})
                .to_string()
        })
        .collect();
    sqlx::query("SELECT pg_notify($1, p) FROM UNNEST($2::text[]) AS p")
        .bind(CHANNEL)
        .bind(&payloads)
        .execute(conn)
        .await?;
    Ok(())
}
