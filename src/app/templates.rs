//! Templates: pulling a workspace's templates from the Graph API into PostgreSQL (so the rules
//! before sending, the template picker and rendering work from the database), and submitting
//! new ones for Meta's review.

use secrecy::SecretString;

use crate::cloud_api::graph::{GraphClient, GraphError, NewTemplate};
use crate::domain::WorkspaceId;
use crate::store::templates::{self, Synced};
use crate::store::{Db, StoreError, phones};

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the Graph API refused the templates request for WABA {waba_id}")]
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

/// Submits a new template to Meta for review on the WABA of one of the workspace's numbers, and
/// stores it with the status Meta gave (PENDING); the review's verdict arrives later as a
/// `message_template_status_update` webhook, which the listener applies.
pub async fn create(
    db: &Db,
    graph: &GraphClient,
    workspace: WorkspaceId,
    phone_number_id: &str,
    template: &NewTemplate,
) -> Result<templates::Template, SyncError> {
    let mut conn = db.pool().acquire().await.map_err(StoreError::from)?;
    let number = phones::sender(&mut conn, workspace, phone_number_id).await?;
    let token = SecretString::from(number.access_token.clone());
    let created = graph
        .create_template(&token, &number.waba_id, template)
        .await
        .map_err(|source| SyncError::Graph {
            waba_id: number.waba_id.clone(),
            source,
        })?;
    let synced = Synced {
        wa_template_id: created.id,
        name: template.name.clone(),
        language: template.language.clone(),
        category: created
            .category
            .unwrap_or_else(|| template.category.clone()),
        status: created.status,
        components: template.components.clone(),
    };
    templates::upsert_synced(&mut conn, workspace, &number.waba_id, &[synced]).await?;
    templates::find(
        &mut conn,
        workspace,
        &number.waba_id,
        &template.name,
        &template.language,
    )
    .await?
    .ok_or_else(|| {
        SyncError::Store(StoreError::NotFound(format!(
            "template `{}` vanished after it was stored",
            template.name
        )))
    })
}
