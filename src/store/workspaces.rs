//! Workspaces: the tenants. Creating one also makes its owner (when one is named) a member, in
//! one transaction.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use sqlx::FromRow;
use uuid::Uuid;

use super::{Db, StoreError, members, violated_constraint};
use crate::domain::{Email, Role, Slug, WorkspaceId};

/// A workspace as listed: no credentials.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, serde::Serialize)]
pub struct Workspace {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl Workspace {
    pub fn workspace_id(&self) -> WorkspaceId {
        WorkspaceId(self.id)
    }
}

/// A workspace just created, with the api key it was given (shown once, at creation).
#[derive(Debug)]
pub struct CreatedWorkspace {
    pub workspace: Workspace,
    pub api_key: SecretString,
    pub owner: Option<members::Member>,
}

pub struct NewWorkspace<'a> {
    pub slug: &'a Slug,
    pub name: &'a str,
    /// The owner's email and name; None makes a workspace without members yet.
    pub owner: Option<(&'a Email, Option<&'a str>)>,
}

pub async fn create(db: &Db, new: NewWorkspace<'_>) -> Result<CreatedWorkspace, StoreError> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid(
            "a workspace needs a name (--name)".into(),
        ));
    }
    let api_key = format!("tx_{}", random_hex(24));
    let mut tx = db.pool().begin().await?;
    let workspace: Workspace = sqlx::query_as(
        "INSERT INTO workspaces (id, slug, name, api_key, webhook_secret) \
         VALUES ($1, $2, $3, $4, $5) \
         RETURNING id, slug, name, created_at",
    )
    .bind(Uuid::now_v7())
    .bind(new.slug.as_str())
    .bind(name)
    .bind(&api_key)
    .bind(random_hex(32))
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match violated_constraint(&e) {
        Some("workspaces_slug_key") => {
            StoreError::Conflict(format!("workspace `{}` already exists", new.slug))
        }
        _ => e.into(),
    })?;
    let owner = match new.owner {
        Some((email, name)) => Some(
            members::add_in(&mut tx, workspace.workspace_id(), email, name, Role::Owner).await?,
        ),
        None => None,
    };
    tx.commit().await?;
    Ok(CreatedWorkspace {
        workspace,
        api_key: SecretString::from(api_key),
        owner,
    })
}

pub async fn list(db: &Db) -> Result<Vec<Workspace>, StoreError> {
    Ok(
        sqlx::query_as("SELECT id, slug, name, created_at FROM workspaces ORDER BY slug")
            .fetch_all(db.pool())
            .await?,
    )
}

pub async fn by_slug(db: &Db, slug: &Slug) -> Result<Workspace, StoreError> {
    sqlx::query_as("SELECT id, slug, name, created_at FROM workspaces WHERE slug = $1")
        .bind(slug.as_str())
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| {
            StoreError::NotFound(format!(
                "workspace `{slug}` not found; `treeex workspace list` shows the workspaces"
            ))
        })
}

/// A random credential of `bytes` bytes, as hex.
fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::fill(&mut buf[..]);
    hex::encode(buf)
}
