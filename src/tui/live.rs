//! The change feed: one `LISTEN` connection that turns every committed change of the open
//! workspace, made by any process, into an action, and tells when the database is lost and
//! found again. No polling: the TUI loads only what a notification names.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::action::Action;
use crate::domain::WorkspaceId;
use crate::store::Db;
use crate::store::events::{CHANNEL, Change, OUTBOX_CHANNEL};

/// How long to wait before trying the database again.
const RETRY: Duration = Duration::from_secs(1);

/// Forwards notifications until `stop`; `workspace` says which workspace is shown.
pub async fn run(
    db: Db,
    workspace: watch::Receiver<Option<WorkspaceId>>,
    actions: mpsc::UnboundedSender<Action>,
    stop: CancellationToken,
) {
    // Whether the database was reachable at the last look; the loss is reported once.
    let mut up = true;
    loop {
        let listener = tokio::select! {
            () = stop.cancelled() => return,
            listener = connect(&db) => listener,
        };
        let mut listener = match listener {
            Ok(listener) => listener,
            Err(error) => {
                if up {
                    tracing::warn!(%error, "the change feed lost the database");
                    up = false;
                    let _ = actions.send(Action::Database(false));
                }
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(RETRY) => continue,
                }
            }
        };
        if !up {
            tracing::info!("the change feed is back");
            let _ = actions.send(Action::Database(true));
        }
        loop {
            let notification = tokio::select! {
                () = stop.cancelled() => return,
                received = listener.try_recv() => received,
            };
            match notification {
                Ok(Some(notification)) => {
                    if let Some(action) = interpret(
                        notification.channel(),
                        notification.payload(),
                        *workspace.borrow(),
                    ) && actions.send(action).is_err()
                    {
                        return;
                    }
                }
                Ok(None) | Err(_) => {
                    tracing::warn!("the change feed lost the database");
                    up = false;
                    let _ = actions.send(Action::Database(false));
                    break;
                }
            }
        }
    }
}

async fn connect(db: &Db) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(db.pool()).await?;
    listener.listen_all([CHANNEL, OUTBOX_CHANNEL]).await?;
    Ok(listener)
}

/// The action a notification calls for in the shown workspace, if any.
pub fn interpret(channel: &str, payload: &str, shown: Option<WorkspaceId>) -> Option<Action> {
    if channel == OUTBOX_CHANNEL {
        return Some(Action::OutboxChanged);
    }
    let change: Change = serde_json::from_str(payload).ok()?;
    if Some(WorkspaceId(change.workspace_id)) != shown {
        return None;
    }
    Some(match (change.campaign_id, change.conversation_id) {
        (Some(campaign), None) => Action::CampaignChanged(campaign),
        (_, conversation) => Action::Changed(conversation),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn only_changes_of_the_shown_workspace_count() {
        let shown = Uuid::now_v7();
        let conversation = Uuid::now_v7();
        let payload = format!(r#"{{"workspace_id":"{shown}","conversation_id":"{conversation}"}}"#);
        assert!(matches!(
            interpret(CHANNEL, &payload, Some(WorkspaceId(shown))),
            Some(Action::Changed(Some(c))) if c == conversation
        ));
        assert!(interpret(CHANNEL, &payload, Some(WorkspaceId(Uuid::now_v7()))).is_none());
        assert!(interpret(CHANNEL, "not json", Some(WorkspaceId(shown))).is_none());
        assert!(matches!(
            interpret(OUTBOX_CHANNEL, "", None),
            Some(Action::OutboxChanged)
        ));
    }

    #[test]
    fn a_campaign_that_moved_is_named() {
        let shown = Uuid::now_v7();
        let campaign = Uuid::now_v7();
        let payload = format!(
            r#"{{"workspace_id":"{shown}","conversation_id":null,"campaign_id":"{campaign}"}}"#
        );
        assert!(matches!(
            interpret(CHANNEL, &payload, Some(WorkspaceId(shown))),
            Some(Action::CampaignChanged(c)) if c == campaign
        ));
        assert!(interpret(CHANNEL, &payload, Some(WorkspaceId(Uuid::now_v7()))).is_none());
    }
}
