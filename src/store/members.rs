//! Users and their memberships of workspaces.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use super::{Db, StoreError, violated_constraint};
use crate::domain::{Email, Role, WorkspaceId};

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct Member {
    pub workspace_id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// Adds a user (made on first use, by email) to a workspace with a role.
pub async fn add(
    db: &Db,
    workspace: WorkspaceId,
    email: &Email,
    name: Option<&str>,
    role: Role,
) -> Result<Member, StoreError> {
    let mut tx = db.pool().begin().await?;
    let member = add_in(&mut tx, workspace, email, name, role).await?;
    tx.commit().await?;
    Ok(member)
}

pub(crate) async fn add_in(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    email: &Email,
    name: Option<&str>,
    role: Role,
) -> Result<Member, StoreError> {
    // The user is made on first use; a name given later fills in a missing one, never
    // overwrites one the user already has.
    let user_id: Uuid = sqlx::query_scalar(
        "INSERT INTO users (id, email, name) VALUES ($1, $2, $3) \
         ON CONFLICT (email) DO UPDATE SET name = COALESCE(users.name, EXCLUDED.name), \
             updated_at = CASE WHEN users.name IS NULL AND EXCLUDED.name IS NOT NULL \
                               THEN now() ELSE users.updated_at END \
         RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(email.as_str())
    .bind(name.map(str::trim).filter(|n| !n.is_empty()))
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query_as(
        "WITH added AS ( \
             INSERT INTO workspace_members (workspace_id, user_id, role) VALUES ($1, $2, $3) \
             RETURNING workspace_id, user_id, role, created_at) \
         SELECT added.workspace_id, added.user_id, users.email, users.name, added.role, added.created_at \
         FROM added JOIN users ON users.id = added.user_id",
    )
    .bind(workspace.0)
    .bind(user_id)
    .bind(role)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match violated_constraint(&e) {
        Some("workspace_members_pkey") => {
            StoreError::Conflict(format!("{email} is already a member of this workspace"))
        }
        _ => e.into(),
    })
}

pub async fn list(db: &Db, workspace: WorkspaceId) -> Result<Vec<Member>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT m.workspace_id, m.user_id, u.email, u.name, m.role, m.created_at \
         FROM workspace_members m JOIN users u ON u.id = m.user_id \
         WHERE m.workspace_id = $1 \
         ORDER BY m.role, u.email",
    )
    .bind(workspace.0)
    .fetch_all(db.pool())
    .await?)
}
