//! The inbox list: a workspace's conversations as an agent works them (unread first, then the
//! most recent), filtered and searched, a keyset page at a time, and the counters beside it.
//!
//! A page without a search is one backward range scan of `conversations_inbox_order_idx` (see
//! `migrations/0008_inbox.sql`) plus, per row of the page, one probe each of the contact, the
//! assignee and the newest message (`messages_thread_idx`). A search also reads the messages of
//! the conversations it passes on the way, so it costs more, but it stops at the page's LIMIT.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::error::BoxDynError;
use sqlx::postgres::PgArguments;
use sqlx::{Arguments, FromRow, PgConnection};
use uuid::Uuid;

use super::{Db, StoreError};
use crate::domain::{MessageStatus, Tag, WorkspaceId};

/// Which conversations the list shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum InboxFilter {
    #[default]
    All,
    /// Assigned to this user, whatever their status.
    Mine(Uuid),
    /// Assigned to nobody, whatever their status.
    Unassigned,
    Open,
    Closed,
    /// EXPIRED, or OPEN with the customer's window closed (only a template can be sent).
    Expired,
    /// The contact carries this tag.
    Tag(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InboxQuery {
    pub filter: InboxFilter,
    /// Text to look for, case-insensitively and literally: in the contact's names and number, the
    /// preview, and the text of every message of the conversation.
    pub search: Option<String>,
}

/// Where a page ends: the inbox order of its last row.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxCursor {
    pub unread: bool,
    pub last_message_at: Option<DateTime<Utc>>,
    pub id: Uuid,
}

/// One line of the inbox list.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct InboxRow {
    pub id: Uuid,
    pub contact_id: Uuid,
    /// The business's name for the contact, else the WhatsApp profile name.
    pub contact_name: Option<String>,
    pub wa_id: Option<String>,
    /// OPEN, CLOSED or EXPIRED.
    pub status: String,
    pub window_expires_at: Option<DateTime<Utc>>,
    pub last_message_at: Option<DateTime<Utc>>,
    pub last_message_preview: Option<String>,
    /// INBOUND or OUTBOUND: who wrote the newest message.
    pub last_direction: Option<String>,
    pub last_status: Option<MessageStatus>,
    pub last_error_code: Option<i32>,
    pub unread_count: i32,
    pub assignee_id: Option<Uuid>,
    /// The assignee's name, else their email.
    pub assignee_name: Option<String>,
    /// The contact's tags.
    pub tags: Vec<String>,
}

impl InboxRow {
    /// The cursor to ask for the page after this row.
    pub fn cursor(&self) -> InboxCursor {
        InboxCursor {
            unread: self.unread_count > 0,
            last_message_at: self.last_message_at,
            id: self.id,
        }
    }
}

/// What the inbox list draws of a conversation. `lm` is the newest message, read through
/// `messages_thread_idx` (one probe of the index per row).
const SELECT: &str = "\
    SELECT v.id, v.contact_id, COALESCE(c.name, c.profile_name) AS contact_name, c.wa_id, \
           v.status::text AS status, v.window_expires_at, v.last_message_at, \
           v.last_message_preview, lm.direction::text AS last_direction, \
           lm.status AS last_status, lm.error_code AS last_error_code, v.unread_count, \
           v.assignee_id, COALESCE(u.name, u.email) AS assignee_name, c.tags \
    FROM conversations v \
    JOIN contacts c ON c.workspace_id = v.workspace_id AND c.id = v.contact_id \
    LEFT JOIN users u ON u.id = v.assignee_id \
    LEFT JOIN LATERAL ( \
        SELECT m.direction, m.status, m.error_code FROM messages m \
        WHERE m.conversation_id = v.id AND m.workspace_id = v.workspace_id \
        ORDER BY m.created_at DESC, m.id DESC LIMIT 1) lm ON true";

/// The inbox order: the expressions of `conversations_inbox_order_idx`, scanned backwards.
const ORDER: &str = "(v.unread_count > 0) DESC, \
                     COALESCE(v.last_message_at, '-infinity'::timestamptz) DESC, v.id DESC";

/// The text of a message that a search looks in: a text's body, a media caption, a button or a
/// list answer, and the rendered text of a template.
const MESSAGE_MATCHES: &str = "\
    (m.content #>> '{text,body}' ILIKE $8 \
     OR m.content -> m.type ->> 'caption' ILIKE $8 \
     OR m.content #>> '{button,text}' ILIKE $8 \
     OR m.content #>> '{interactive,button_reply,title}' ILIKE $8 \
     OR m.content #>> '{interactive,list_reply,title}' ILIKE $8 \
     OR m.rendered_text ILIKE $8)";

/// One page of the inbox list, strictly after `after` (None: the first page).
pub async fn page(
    db: &Db,
    workspace: WorkspaceId,
    query: &InboxQuery,
    after: Option<&InboxCursor>,
    limit: i64,
) -> Result<Vec<InboxRow>, StoreError> {
    let (sql, arguments) = page_statement(workspace, query, after, limit)?;
    Ok(sqlx::query_as_with(sqlx::AssertSqlSafe(sql), arguments)
        .fetch_all(db.pool())
        .await?)
}

/// The plan PostgreSQL makes for `page` with these arguments (`EXPLAIN (FORMAT JSON)`), on
/// `conn` so that its session settings apply: for checking that a page stays an index scan.
pub async fn explain_page(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    query: &InboxQuery,
    after: Option<&InboxCursor>,
    limit: i64,
) -> Result<Value, StoreError> {
    let (sql, arguments) = page_statement(workspace, query, after, limit)?;
    Ok(sqlx::query_scalar_with(
        sqlx::AssertSqlSafe(format!("EXPLAIN (FORMAT JSON) {sql}")),
        arguments,
    )
    .fetch_one(conn)
    .await?)
}

/// The SQL of a page and its arguments. The SQL is put together from fixed pieces only; every
/// value, the search text included, is an argument, each at a fixed place ($1 to $9), given
/// whether or not its piece is used.
fn page_statement(
    workspace: WorkspaceId,
    query: &InboxQuery,
    after: Option<&InboxCursor>,
    limit: i64,
) -> Result<(String, PgArguments), StoreError> {
    let mut conditions = vec!["v.workspace_id = $1".to_string()];
    if after.is_some() {
        // A row comparison on the index's expressions: an index condition, not a filter.
        conditions.push(
            "((v.unread_count > 0), COALESCE(v.last_message_at, '-infinity'::timestamptz), v.id) \
             < ($3, COALESCE($4, '-infinity'::timestamptz), $5)"
                .into(),
        );
    }
    let mut user = None;
    let mut tag = None;
    conditions.push(
        match &query.filter {
            InboxFilter::All => "true",
            InboxFilter::Mine(me) => {
                user = Some(*me);
                "v.assignee_id = $6"
            }
            InboxFilter::Unassigned => "v.assignee_id IS NULL",
            InboxFilter::Open => "v.status = 'OPEN'",
            InboxFilter::Closed => "v.status = 'CLOSED'",
            InboxFilter::Expired => {
                "(v.status = 'EXPIRED' OR (v.status = 'OPEN' \
                  AND (v.window_expires_at IS NULL OR v.window_expires_at <= now())))"
            }
            InboxFilter::Tag(raw) => {
                // Tags are stored as `domain::Tag` spells them (trimmed, lower-case).
                let parsed = Tag::parse(raw).map_err(|e| StoreError::Invalid(e.0))?;
                tag = Some(parsed.into_string());
                "c.tags @> ARRAY[$7::text]"
            }
        }
        .into(),
    );
    let search = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let mut pattern = None;
    let mut digits = None;
    if let Some(search) = search {
        pattern = Some(format!("%{}%", escape_like(search)));
        digits = phone_digits(search).map(|d| format!("%{d}%"));
        conditions.push(format!(
            "(c.name ILIKE $8 OR c.profile_name ILIKE $8 OR v.last_message_preview ILIKE $8 \
              {} \
              OR EXISTS (SELECT 1 FROM messages m \
                         WHERE m.conversation_id = v.id AND m.workspace_id = v.workspace_id \
                           AND {MESSAGE_MATCHES}))",
            if digits.is_some() {
                "OR c.wa_id LIKE $9"
            } else {
                ""
            }
        ));
    }
    let sql = format!(
        "{SELECT} WHERE {} ORDER BY {ORDER} LIMIT $2",
        conditions.join(" AND ")
    );
    let arguments = (|| -> Result<PgArguments, BoxDynError> {
        let mut arguments = PgArguments::default();
        arguments.add(workspace.0)?;
        arguments.add(limit)?;
        arguments.add(after.map(|a| a.unread))?;
        arguments.add(after.and_then(|a| a.last_message_at))?;
        arguments.add(after.map(|a| a.id))?;
        arguments.add(user)?;
        arguments.add(tag)?;
        arguments.add(pattern)?;
        arguments.add(digits)?;
        Ok(arguments)
    })()
    .map_err(|e| StoreError::Database(sqlx::Error::Encode(e)))?;
    Ok((sql, arguments))
}

/// One conversation as the inbox list draws it (to refresh a row after a change was announced);
/// None when it is not in the workspace.
pub async fn row(
    db: &Db,
    workspace: WorkspaceId,
    conversation: Uuid,
) -> Result<Option<InboxRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE v.workspace_id = $1 AND v.id = $2"
    )))
    .bind(workspace.0)
    .bind(conversation)
    .fetch_optional(db.pool())
    .await?)
}

/// The counters beside the inbox's filters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromRow)]
pub struct InboxCounts {
    /// Open conversations assigned to me.
    pub mine: i64,
    /// Open conversations assigned to nobody.
    pub unassigned: i64,
    pub open: i64,
    /// Conversations (of any status) with unread messages.
    pub unread: i64,
}

pub async fn counts(db: &Db, workspace: WorkspaceId, me: Uuid) -> Result<InboxCounts, StoreError> {
    Ok(sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'OPEN' AND assignee_id = $2) AS mine, \
                count(*) FILTER (WHERE status = 'OPEN' AND assignee_id IS NULL) AS unassigned, \
                count(*) FILTER (WHERE status = 'OPEN') AS open, \
                count(*) FILTER (WHERE unread_count > 0) AS unread \
         FROM conversations WHERE workspace_id = $1",
    )
    .bind(workspace.0)
    .bind(me)
    .fetch_one(db.pool())
    .await?)
}

/// The search text as a LIKE pattern's middle: its wildcards and the escape character match
/// themselves.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The digits of a search that looks like (part of) a phone number: digits, maybe written with
/// `+`, spaces, dashes, dots or parentheses. A search of words is not matched against numbers,
/// so `Ana 2` does not find every number with a 2 in it.
fn phone_digits(search: &str) -> Option<String> {
    let phone_like = search
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'));
    let digits: String = search.chars().filter(char::is_ascii_digit).collect();
    (phone_like && !digits.is_empty()).then_some(digits)
}
