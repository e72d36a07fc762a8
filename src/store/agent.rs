//! What an agent does to a conversation and its contact from the inbox: assign, close and reopen,
//! mark read or unread, leave a note, tag, change consent; and the workspace's canned replies.
//!
//! Every write that changes what a TUI shows of a conversation announces it (`events::announce`)
//! after its commit, like the rest of the store; a change of a contact announces each of the
//! contact's conversations. A lost notification only delays a refresh, so announcing never fails
//! a write that has committed.

use sqlx::PgConnection;
use uuid::Uuid;

use super::{Db, StoreError, events, team, violated_constraint};
use crate::domain::{Tag, WorkspaceId};

fn conversation_not_found(conversation: Uuid) -> StoreError {
    StoreError::NotFound(format!(
        "conversation {conversation} is not in this workspace (it may have been deleted)"
    ))
}

fn contact_not_found(contact: Uuid) -> StoreError {
    StoreError::NotFound(format!(
        "contact {contact} is not in this workspace (it may have been deleted)"
    ))
}

/// Gives the conversation to `assignee` (None: to nobody). The assignee must be a member of the
/// workspace; their membership is locked until the commit, so it cannot vanish in between.
pub async fn assign(
    db: &Db,
    workspace: WorkspaceId,
    conversation: Uuid,
    assignee: Option<Uuid>,
) -> Result<(), StoreError> {
    let mut tx = db.pool().begin().await?;
    if let Some(user) = assignee {
        let member: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM workspace_members WHERE workspace_id = $1 AND user_id = $2 \
             FOR KEY SHARE",
        )
        .bind(workspace.0)
        .bind(user)
        .fetch_optional(&mut *tx)
        .await?;
        if member.is_none() {
            return Err(StoreError::Invalid(format!(
                "user {user} is not a member of this workspace, so the conversation cannot be \
                 assigned to them; `treeex member list` shows the members"
            )));
        }
    }
    let updated = sqlx::query(
        "UPDATE conversations SET assignee_id = $3, updated_at = now() \
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace.0)
    .bind(conversation)
    .bind(assignee)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(conversation_not_found(conversation));
    }
    tx.commit().await?;
    events::announce(db, &[(workspace, conversation)]).await;
    Ok(())
}

/// Resolves the conversation: CLOSED, since when (a conversation already closed keeps its time),
/// and nobody waits for a reply any more; its episode of the team view ends (`team`), resolved
/// by `closed_by` (the agent; None from outside the inbox). The customer's next message reopens
/// it.
pub async fn close(
    db: &Db,
    workspace: WorkspaceId,
    conversation: Uuid,
    closed_by: Option<Uuid>,
) -> Result<(), StoreError> {
    let mut tx = db.pool().begin().await?;
    let updated = sqlx::query(
        "UPDATE conversations SET status = 'CLOSED', closed_at = COALESCE(closed_at, now()), \
             awaiting_reply_since = NULL, updated_at = now() \
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace.0)
    .bind(conversation)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(conversation_not_found(conversation));
    }
    team::record_close(&mut tx, workspace, conversation, closed_by).await?;
    tx.commit().await?;
    events::announce(db, &[(workspace, conversation)]).await;
    Ok(())
}

/// Opens the conversation again. When it was not open, a new episode of the team view begins
/// (`team`).
pub async fn reopen(db: &Db, workspace: WorkspaceId, conversation: Uuid) -> Result<(), StoreError> {
    let mut tx = db.pool().begin().await?;
    // The status before, read under the row's lock the update takes anyway.
    let was_open: bool = sqlx::query_scalar(
        "UPDATE conversations v SET status = 'OPEN', closed_at = NULL, updated_at = now() \
         FROM (SELECT id, status FROM conversations WHERE workspace_id = $1 AND id = $2 \
               FOR UPDATE) prior \
         WHERE v.id = prior.id RETURNING prior.status = 'OPEN'",
    )
    .bind(workspace.0)
    .bind(conversation)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| conversation_not_found(conversation))?;
    if !was_open {
        team::record_reopen(&mut tx, workspace, conversation).await?;
    }
    tx.commit().await?;
    events::announce(db, &[(workspace, conversation)]).await;
    Ok(())
}

/// Puts the unread mark back (an agent wants to come back to it).
pub async fn mark_unread(
    db: &Db,
    workspace: WorkspaceId,
    conversation: Uuid,
) -> Result<(), StoreError> {
    update_conversation(
        db,
        workspace,
        conversation,
        "unread_count = GREATEST(unread_count, 1)",
    )
    .await
}

/// One UPDATE of a conversation; `set` is one of the fixed assignments above, never user text.
async fn update_conversation(
    db: &Db,
    workspace: WorkspaceId,
    conversation: Uuid,
    set: &'static str,
) -> Result<(), StoreError> {
    let updated = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE conversations SET {set}, updated_at = now() WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(workspace.0)
    .bind(conversation)
    .execute(db.pool())
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(conversation_not_found(conversation));
    }
    events::announce(db, &[(workspace, conversation)]).await;
    Ok(())
}

/// What sending Meta a read receipt needs: the number (Meta's id and its token) and the wamid of
/// the newest message read (Meta marks it and every earlier one read).
#[derive(Clone, PartialEq, Eq)]
pub struct ReadReceipt {
    /// Meta's id of the business number.
    pub phone_number_id: String,
    pub access_token: String,
    pub wa_message_id: String,
}

impl std::fmt::Debug for ReadReceipt {
    // The token stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadReceipt")
            .field("phone_number_id", &self.phone_number_id)
            .field("access_token", &"[redacted]")
            .field("wa_message_id", &self.wa_message_id)
            .finish()
    }
}

/// The agent has read the conversation: no unread messages left. Returns the read receipt to
/// send Meta for the newest inbound message, or None when there was nothing unread (already
/// marked, so already sent) or no inbound message to mark.
pub async fn mark_read(
    db: &Db,
    workspace: WorkspaceId,
    conversation: Uuid,
) -> Result<Option<ReadReceipt>, StoreError> {
    let mut tx = db.pool().begin().await?;
    // Locked, so two agents opening it at once send one receipt.
    let unread: i32 = sqlx::query_scalar(
        "SELECT unread_count FROM conversations WHERE workspace_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(workspace.0)
    .bind(conversation)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| conversation_not_found(conversation))?;
    if unread == 0 {
        return Ok(None);
    }
    sqlx::query(
        "UPDATE conversations SET unread_count = 0, updated_at = now() \
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace.0)
    .bind(conversation)
    .execute(&mut *tx)
    .await?;
    // The thread index, newest first, up to the first inbound message.
    let receipt: Option<(String, String, String)> = sqlx::query_as(
        "SELECT p.phone_number_id, p.access_token, m.wa_message_id \
         FROM messages m \
         JOIN phone_numbers p ON p.workspace_id = m.workspace_id AND p.id = m.phone_number_id \
         WHERE m.workspace_id = $1 AND m.conversation_id = $2 AND m.direction = 'INBOUND' \
           AND m.wa_message_id IS NOT NULL \
         ORDER BY m.created_at DESC, m.id DESC LIMIT 1",
    )
    .bind(workspace.0)
    .bind(conversation)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    events::announce(db, &[(workspace, conversation)]).await;
    Ok(receipt.map(
        |(phone_number_id, access_token, wa_message_id)| ReadReceipt {
            phone_number_id,
            access_token,
            wa_message_id,
        },
    ))
}

/// Leaves a private note on the conversation (never sent to the customer); returns its id.
/// `author` None: written by no one in particular (a script).
pub async fn add_note(
    db: &Db,
    workspace: WorkspaceId,
    conversation: Uuid,
    author: Option<Uuid>,
    body: &str,
) -> Result<Uuid, StoreError> {
    let body = body.trim();
    if body.is_empty() {
        return Err(StoreError::Invalid("a note cannot be empty".into()));
    }
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO conversation_notes (id, workspace_id, conversation_id, author_id, body) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(workspace.0)
    .bind(conversation)
    .bind(author)
    .bind(body)
    .fetch_one(db.pool())
    .await
    .map_err(|e| match violated_constraint(&e) {
        Some("conversation_notes_conversation_fkey") => conversation_not_found(conversation),
        Some("conversation_notes_author_id_fkey") => StoreError::Invalid(format!(
            "user {} does not exist, so cannot author a note",
            author.unwrap_or_default()
        )),
        _ => e.into(),
    })?;
    events::announce(db, &[(workspace, conversation)]).await;
    Ok(id)
}

/// Sets the contact's tags to exactly these (validated as `domain::Tag`, so trimmed and
/// lower-cased; duplicates dropped; sorted).
pub async fn set_tags(
    db: &Db,
    workspace: WorkspaceId,
    contact: Uuid,
    tags: &[String],
) -> Result<(), StoreError> {
    let mut parsed: Vec<String> = tags
        .iter()
        .map(|raw| {
            Tag::parse(raw)
                .map(Tag::into_string)
                .map_err(|e| StoreError::Invalid(e.0))
        })
        .collect::<Result<_, _>>()?;
    parsed.sort();
    parsed.dedup();
    let mut tx = db.pool().begin().await?;
    let updated = sqlx::query(
        "UPDATE contacts SET tags = $3, updated_at = now() WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace.0)
    .bind(contact)
    .bind(&parsed)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(contact_not_found(contact));
    }
    let changed = conversations_of(&mut tx, workspace, contact).await?;
    tx.commit().await?;
    events::announce(db, &changed).await;
    Ok(())
}

/// An agent gives or withdraws the contact's marketing consent. A change is recorded in
/// `consent_events` (source `agent`) with the contact, in one transaction; setting what is
/// already set records nothing.
///
/// Not `contacts::record_consent`: that one is keyed by the wamid of the message that caused the
/// change (so a redelivered webhook counts once), and an agent's change has no message.
pub async fn set_opted_in(
    db: &Db,
    workspace: WorkspaceId,
    contact: Uuid,
    opted_in: bool,
) -> Result<(), StoreError> {
    let mut tx = db.pool().begin().await?;
    let current: bool = sqlx::query_scalar(
        "SELECT opted_in FROM contacts WHERE workspace_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(workspace.0)
    .bind(contact)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| contact_not_found(contact))?;
    if current == opted_in {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO consent_events (id, workspace_id, contact_id, opted_in, source, occurred_at) \
         VALUES ($1, $2, $3, $4, 'agent', now())",
    )
    .bind(Uuid::now_v7())
    .bind(workspace.0)
    .bind(contact)
    .bind(opted_in)
    .execute(&mut *tx)
    .await?;
    // The agent's word is the newest: it applies whatever time the last keyword carried, as
    // `record_consent` would for a change made now.
    sqlx::query(
        "UPDATE contacts SET opted_in = $3, \
             opted_in_at = CASE WHEN $3 THEN now() ELSE opted_in_at END, \
             opted_out_at = CASE WHEN NOT $3 THEN now() ELSE opted_out_at END, \
             updated_at = now() \
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace.0)
    .bind(contact)
    .bind(opted_in)
    .execute(&mut *tx)
    .await?;
    let changed = conversations_of(&mut tx, workspace, contact).await?;
    tx.commit().await?;
    events::announce(db, &changed).await;
    Ok(())
}

/// The contact's conversations, to announce a change of the contact (`conversations_contact_idx`).
async fn conversations_of(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    contact: Uuid,
) -> Result<Vec<(WorkspaceId, Uuid)>, StoreError> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM conversations WHERE workspace_id = $1 AND contact_id = $2",
    )
    .bind(workspace.0)
    .bind(contact)
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(|id| (workspace, id)).collect())
}

/// A canned reply: a body an agent pastes into the composer by its code.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Canned {
    pub code: String,
    pub body: String,
}

/// The workspace's canned replies, by code.
pub async fn canned_replies(db: &Db, workspace: WorkspaceId) -> Result<Vec<Canned>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT code, body FROM canned_replies WHERE workspace_id = $1 ORDER BY code",
    )
    .bind(workspace.0)
    .fetch_all(db.pool())
    .await?)
}

/// Saves a canned reply under `code`, replacing the body of one already there.
pub async fn save_canned_reply(
    db: &Db,
    workspace: WorkspaceId,
    code: &str,
    body: &str,
) -> Result<(), StoreError> {
    let code = canned_code(code)?;
    if body.trim().is_empty() {
        return Err(StoreError::Invalid(format!(
            "canned reply `{code}` needs a body"
        )));
    }
    sqlx::query(
        "INSERT INTO canned_replies (workspace_id, code, body) VALUES ($1, $2, $3) \
         ON CONFLICT (workspace_id, code) DO UPDATE SET body = EXCLUDED.body, updated_at = now()",
    )
    .bind(workspace.0)
    .bind(code)
    .bind(body)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Deletes a canned reply; false when there was none with that code.
pub async fn delete_canned_reply(
    db: &Db,
    workspace: WorkspaceId,
    code: &str,
) -> Result<bool, StoreError> {
    let deleted = sqlx::query("DELETE FROM canned_replies WHERE workspace_id = $1 AND code = $2")
        .bind(workspace.0)
        .bind(code.trim())
        .execute(db.pool())
        .await?
        .rows_affected();
    Ok(deleted > 0)
}

/// A canned reply's code, checked against the rule of `canned_replies_code_format`.
fn canned_code(raw: &str) -> Result<&str, StoreError> {
    let code = raw.trim();
    let mut chars = code.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if first_ok && rest_ok && code.len() <= 32 {
        Ok(code)
    } else {
        Err(StoreError::Invalid(format!(
            "`{raw}` is not a canned reply code: use 1 to 32 lower-case letters, digits, `_` or \
             `-`, starting with a letter or digit"
        )))
    }
}
