//! Users as the TUI starts with them: who `[user] email` is, and the workspaces they may work in.
//! (`members` adds people to workspaces; `users` is not workspace-scoped: a user spans
//! workspaces.)

use sqlx::FromRow;
use uuid::Uuid;

use super::workspaces::Workspace;
use super::{Db, StoreError};
use crate::domain::{Email, Role};

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: Option<String>,
}

/// The user with this email, if treeex knows them (emails are stored lower-cased, as `Email`
/// spells them).
pub async fn by_email(db: &Db, email: &Email) -> Result<Option<User>, StoreError> {
    Ok(
        sqlx::query_as("SELECT id, email, name FROM users WHERE email = $1")
            .bind(email.as_str())
            .fetch_optional(db.pool())
            .await?,
    )
}

/// A workspace a user is a member of, with their role there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub workspace: Workspace,
    pub role: Role,
}

#[derive(FromRow)]
struct MembershipRow {
    #[sqlx(flatten)]
    workspace: Workspace,
    role: Role,
}

/// The user's workspaces, by slug (`workspace_members_user_idx`).
pub async fn memberships(db: &Db, user: Uuid) -> Result<Vec<Membership>, StoreError> {
    let rows: Vec<MembershipRow> = sqlx::query_as(
        "SELECT w.id, w.slug, w.name, w.created_at, m.role \
         FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id \
         WHERE m.user_id = $1 ORDER BY w.slug",
    )
    .bind(user)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Membership {
            workspace: row.workspace,
            role: row.role,
        })
        .collect())
}
