//! Templates: pulling a workspace's templates from the Graph API into PostgreSQL, so the rules
//! before sending, the template picker and rendering work from the database.

use secrecy::SecretString;

use crate::cloud_api::graph::{GraphClient, GraphError};
use crate::domain::WorkspaceId;
use crate::store::templates::{self, Synced};
use crate::store::{Db, StoreError, phones};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the Graph API refused to list the templates of WABA {waba_id}")]
    Graph {
        waba_id: String,
        #[source]
        source: GraphError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a sync found, per WABA.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Synchronised {
    pub waba_id: String,
    pub templates: usize,
}

/// Pulls every template of the WABAs of the workspace's numbers (or of one number), following
/// Meta's paging, and stores them.
pub async fn sync(
    db: &Db,
    graph: &GraphClient,
    workspace: WorkspaceId,
    phone_number_id: Option<&str>,
) -> Result<Vec<Synchronised>, SyncError> {
    let numbers = phones::senders(db, workspace, phone_number_id).await?;
    let mut done: Vec<Synchronised> = Vec::new();
    for number in numbers {
        if done.iter().any(|d| d.waba_id == number.waba_id) {
            continue;
        }
        let token = SecretString::from(number.access_token.clone());
        let listed = graph
            .list_templates(&token, &number.waba_id)
            .await
            .map_err(|source| SyncError::Graph {
                waba_id: number.waba_id.clone(),
                source,
            })?;
        let synced: Vec<Synced> = listed
            .into_iter()
            .map(|t| Synced {
                wa_template_id: t.id,
                name: t.name,
                language: t.language,
                category: t.category,
                status: t.status,
                components: t.components,
            })
            .collect();
        let mut conn = db.pool().acquire().await.map_err(StoreError::from)?;
        templates::upsert_synced(&mut conn, workspace, &number.waba_id, &synced).await?;
        done.push(Synchronised {
            waba_id: number.waba_id,
            templates: synced.len(),
        });
    }
    Ok(done)
}
