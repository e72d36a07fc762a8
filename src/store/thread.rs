//! A conversation's thread as the agent reads it: its messages (with what they quote, their
//! reactions and their file) and the agents' notes, merged newest first and loaded backwards a
//! page at a time; and the header above it (the conversation, the number it is on, the contact's
//! card).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::FromRow;
use uuid::Uuid;

use super::{Db, StoreError};
use crate::domain::{MessageStatus, WorkspaceId};

/// One line of a thread.
// Most entries of a thread are messages: boxing them would add an allocation to nearly every
// entry to save space on the few notes.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Message(ThreadMessage),
    Note(Note),
}

impl Entry {
    pub fn created_at(&self) -> DateTime<Utc> {
        match self {
            Entry::Message(message) => message.created_at,
            Entry::Note(note) => note.created_at,
        }
    }

    pub fn id(&self) -> Uuid {
        match self {
            Entry::Message(message) => message.id,
            Entry::Note(note) => note.id,
        }
    }

    /// The thread order of this entry: the cursor to ask for what came before it.
    pub fn key(&self) -> ThreadCursor {
        ThreadCursor {
            created_at: self.created_at(),
            id: self.id(),
        }
    }
}

/// A place in a thread: entries are ordered by (created_at, id).
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadCursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ThreadMessage {
    pub id: Uuid,
    pub wa_message_id: Option<String>,
    /// INBOUND or OUTBOUND.
    pub direction: String,
    /// Meta's message type (`messages.type`).
    pub kind: String,
    /// Meta's item (inbound) or the body sent to Meta (outbound): the type's object is under
    /// `content[kind]`.
    pub content: Value,
    pub rendered_text: Option<String>,
    pub status: MessageStatus,
    pub error_code: Option<i32>,
    pub error_title: Option<String>,
    pub error_details: Option<String>,
    /// The wamid this message replies to.
    pub context_wa_message_id: Option<String>,
    /// The message it replies to, when that is in this conversation.
    pub quoted: Option<Quoted>,
    /// The reactions standing on it (taken-back ones are left out), oldest first.
    pub reactions: Vec<ReactionMark>,
    /// Its file, when it is a media message.
    pub media: Option<MediaInfo>,
    /// The agent who wrote it: name, else email.
    pub sent_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub wa_timestamp: Option<DateTime<Utc>>,
    pub edited_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The message a reply quotes.
#[derive(Debug, Clone, PartialEq)]
pub struct Quoted {
    pub direction: String,
    pub kind: String,
    pub content: Value,
    pub rendered_text: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReactionMark {
    pub emoji: String,
    /// INBOUND: the customer's; OUTBOUND: the business's.
    pub direction: String,
}

/// The file of a media message.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    pub mime_type: Option<String>,
    /// Bytes; known once the file is stored.
    pub size: Option<i64>,
    pub filename: Option<String>,
    /// Where the bytes are in the media store; None until they are fetched.
    pub storage_url: Option<String>,
    pub caption: Option<String>,
}

/// An agent's note on the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub id: Uuid,
    /// The author's name, else email; None when the author was removed.
    pub author_name: Option<String>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct MessageRow {
    id: Uuid,
    wa_message_id: Option<String>,
    direction: String,
    kind: String,
    content: Value,
    rendered_text: Option<String>,
    status: MessageStatus,
    error_code: Option<i32>,
    error_title: Option<String>,
    error_details: Option<String>,
    context_wa_message_id: Option<String>,
    quoted_direction: Option<String>,
    quoted_kind: Option<String>,
    quoted_content: Option<Value>,
    quoted_rendered_text: Option<String>,
    /// `[[emoji, direction], ...]`.
    reactions: Value,
    has_media: bool,
    media_mime_type: Option<String>,
    media_size: Option<i64>,
    media_filename: Option<String>,
    media_storage_url: Option<String>,
    caption: Option<String>,
    sent_by_name: Option<String>,
    created_at: DateTime<Utc>,
    wa_timestamp: Option<DateTime<Utc>>,
    edited_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<MessageRow> for ThreadMessage {
    fn from(row: MessageRow) -> Self {
        let quoted = match (row.quoted_direction, row.quoted_kind) {
            (Some(direction), Some(kind)) => Some(Quoted {
                direction,
                kind,
                content: row.quoted_content.unwrap_or(Value::Null),
                rendered_text: row.quoted_rendered_text,
            }),
            _ => None,
        };
        let reactions = serde_json::from_value::<Vec<(String, String)>>(row.reactions)
            .unwrap_or_default()
            .into_iter()
            .map(|(emoji, direction)| ReactionMark { emoji, direction })
            .collect();
        let media = row.has_media.then_some(MediaInfo {
            mime_type: row.media_mime_type,
            size: row.media_size,
            filename: row.media_filename,
            storage_url: row.media_storage_url,
            caption: row.caption,
        });
        ThreadMessage {
            id: row.id,
            wa_message_id: row.wa_message_id,
            direction: row.direction,
            kind: row.kind,
            content: row.content,
            rendered_text: row.rendered_text,
            status: row.status,
            error_code: row.error_code,
            error_title: row.error_title,
            error_details: row.error_details,
            context_wa_message_id: row.context_wa_message_id,
            quoted,
            reactions,
            media,
            sent_by_name: row.sent_by_name,
            created_at: row.created_at,
            wa_timestamp: row.wa_timestamp,
            edited_at: row.edited_at,
            revoked_at: row.revoked_at,
        }
    }
}

/// A page of messages: a range of `messages_thread_idx`, and per message one probe each of the
/// quoted message (by wamid, `messages_phone_number_id_wa_message_id_key`), the reactions
/// (`message_reactions`' key), the file and the author.
const MESSAGES: &str = "\
    SELECT m.id, m.wa_message_id, m.direction::text AS direction, m.type AS kind, m.content, \
           m.rendered_text, m.status, m.error_code, m.error_title, m.error_details, \
           m.context_wa_message_id, \
           q.direction::text AS quoted_direction, q.type AS quoted_kind, \
           q.content AS quoted_content, q.rendered_text AS quoted_rendered_text, \
           COALESCE((SELECT jsonb_agg(jsonb_build_array(r.emoji, \
                                          CASE WHEN r.reactor = 'business' THEN 'OUTBOUND' \
                                               ELSE 'INBOUND' END) \
                                      ORDER BY r.reacted_at, r.reactor) \
                     FROM message_reactions r \
                     WHERE r.phone_number_id = m.phone_number_id \
                       AND r.target_wa_message_id = m.wa_message_id \
                       AND r.workspace_id = m.workspace_id AND r.emoji IS NOT NULL), \
                    '[]'::jsonb) AS reactions, \
           f.id IS NOT NULL AS has_media, f.mime_type AS media_mime_type, \
           f.size_bytes AS media_size, f.filename AS media_filename, \
           f.storage_url AS media_storage_url, m.content -> m.type ->> 'caption' AS caption, \
           COALESCE(u.name, u.email) AS sent_by_name, m.created_at, m.wa_timestamp, \
           m.edited_at, m.revoked_at \
    FROM messages m \
    LEFT JOIN LATERAL ( \
        SELECT q.direction, q.type, q.content, q.rendered_text FROM messages q \
        WHERE q.phone_number_id = m.phone_number_id AND q.wa_message_id = m.context_wa_message_id \
          AND q.workspace_id = m.workspace_id AND q.conversation_id = m.conversation_id \
        LIMIT 1) q ON true \
    LEFT JOIN LATERAL ( \
        SELECT f.id, f.mime_type, f.size_bytes, f.filename, f.storage_url FROM media_files f \
        WHERE f.workspace_id = m.workspace_id AND f.message_id = m.id \
        ORDER BY f.created_at, f.id LIMIT 1) f ON true \
    LEFT JOIN users u ON u.id = m.sent_by \
    WHERE m.workspace_id = $1 AND m.conversation_id = $2";

/// A page of notes: a range of `conversation_notes_thread_idx`.
const NOTES: &str = "\
    SELECT n.id, COALESCE(u.name, u.email) AS author_name, n.body, n.created_at \
    FROM conversation_notes n LEFT JOIN users u ON u.id = n.author_id \
    WHERE n.workspace_id = $1 AND n.conversation_id = $2";

#[derive(FromRow)]
struct NoteRow {
    id: Uuid,
    author_name: Option<String>,
    body: String,
    created_at: DateTime<Utc>,
}

/// Up to `limit` entries of a thread strictly before `before` (None: the newest), newest first:
/// messages and notes merged by (created_at, id). Each kind is read from its own index with the
/// same LIMIT, so a page never reads more than twice its length. An unknown conversation has
/// no entries.
pub async fn page(
    db: &Db,
    workspace: WorkspaceId,
    conversation: Uuid,
    before: Option<&ThreadCursor>,
    limit: i64,
) -> Result<Vec<Entry>, StoreError> {
    // The cursor is a row comparison the index can range over; left out for the first page.
    let (messages_before, notes_before) = if before.is_some() {
        (
            " AND (m.created_at, m.id) < ($3, $4)",
            " AND (n.created_at, n.id) < ($3, $4)",
        )
    } else {
        ("", "")
    };
    let messages: Vec<MessageRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{MESSAGES}{messages_before} ORDER BY m.created_at DESC, m.id DESC LIMIT $5"
    )))
    .bind(workspace.0)
    .bind(conversation)
    .bind(before.map(|b| b.created_at))
    .bind(before.map(|b| b.id))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let notes: Vec<NoteRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{NOTES}{notes_before} ORDER BY n.created_at DESC, n.id DESC LIMIT $5"
    )))
    .bind(workspace.0)
    .bind(conversation)
    .bind(before.map(|b| b.created_at))
    .bind(before.map(|b| b.id))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;

    let mut messages = messages.into_iter().map(ThreadMessage::from).peekable();
    let mut notes = notes
        .into_iter()
        .map(|n| Note {
            id: n.id,
            author_name: n.author_name,
            body: n.body,
            created_at: n.created_at,
        })
        .peekable();
    let limit = usize::try_from(limit).unwrap_or(0);
    let mut entries = Vec::with_capacity(limit);
    while entries.len() < limit {
        let message_first = match (messages.peek(), notes.peek()) {
            (Some(m), Some(n)) => (m.created_at, m.id) > (n.created_at, n.id),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let entry = if message_first {
            messages.next().map(Entry::Message)
        } else {
            notes.next().map(Entry::Note)
        };
        entries.extend(entry);
    }
    Ok(entries)
}

/// What the thread shows above the messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub conversation_id: Uuid,
    /// OPEN, CLOSED or EXPIRED.
    pub status: String,
    pub window_expires_at: Option<DateTime<Utc>>,
    pub last_inbound_at: Option<DateTime<Utc>>,
    pub unread_count: i32,
    pub assignee_id: Option<Uuid>,
    /// The assignee's name, else email.
    pub assignee_name: Option<String>,
    /// Meta's id of the business number (`phone_numbers.phone_number_id`).
    pub phone_number_id: String,
    pub display_phone_number: String,
    pub waba_id: String,
    pub contact: ContactCard,
}

/// The contact, as the side of the thread shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactCard {
    pub id: Uuid,
    pub name: Option<String>,
    pub profile_name: Option<String>,
    pub wa_id: Option<String>,
    pub opted_in: bool,
    pub opted_out_at: Option<DateTime<Utc>>,
    pub tags: Vec<String>,
    pub custom_fields: Value,
    /// The last campaigns (up to 5) the contact was a recipient of, newest first.
    pub recent_campaigns: Vec<CampaignMark>,
}

/// A campaign that reached (or was to reach) the contact.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct CampaignMark {
    pub name: String,
    /// The recipient row's status (queued, pending, sent, delivered, read, failed, skipped).
    pub status: String,
    /// When its message went out (or was written, while it waits); None before it is written.
    pub at: Option<DateTime<Utc>>,
}

#[derive(FromRow)]
struct HeaderRow {
    conversation_id: Uuid,
    status: String,
    window_expires_at: Option<DateTime<Utc>>,
    last_inbound_at: Option<DateTime<Utc>>,
    unread_count: i32,
    assignee_id: Option<Uuid>,
    assignee_name: Option<String>,
    phone_number_id: String,
    display_phone_number: String,
    waba_id: String,
    contact_id: Uuid,
    name: Option<String>,
    profile_name: Option<String>,
    wa_id: Option<String>,
    opted_in: bool,
    opted_out_at: Option<DateTime<Utc>>,
    tags: Vec<String>,
    custom_fields: Value,
}

/// How many campaigns the contact card lists.
const RECENT_CAMPAIGNS: i64 = 5;

pub async fn header(
    db: &Db,
    workspace: WorkspaceId,
    conversation: Uuid,
) -> Result<Header, StoreError> {
    let row: HeaderRow = sqlx::query_as(
        "SELECT v.id AS conversation_id, v.status::text AS status, v.window_expires_at, \
                v.last_inbound_at, v.unread_count, v.assignee_id, \
                COALESCE(u.name, u.email) AS assignee_name, p.phone_number_id, \
                p.display_phone_number, p.waba_id, c.id AS contact_id, c.name, c.profile_name, \
                c.wa_id, c.opted_in, c.opted_out_at, c.tags, c.custom_fields \
         FROM conversations v \
         JOIN phone_numbers p ON p.workspace_id = v.workspace_id AND p.id = v.phone_number_id \
         JOIN contacts c ON c.workspace_id = v.workspace_id AND c.id = v.contact_id \
         LEFT JOIN users u ON u.id = v.assignee_id \
         WHERE v.workspace_id = $1 AND v.id = $2",
    )
    .bind(workspace.0)
    .bind(conversation)
    .fetch_optional(db.pool())
    .await?
    .ok_or_else(|| {
        StoreError::NotFound(format!(
            "conversation {conversation} is not in this workspace (it may have been deleted)"
        ))
    })?;
    let recent_campaigns: Vec<CampaignMark> = sqlx::query_as(
        "SELECT k.name, cm.status::text AS status, COALESCE(m.sent_at, m.created_at) AS at \
         FROM campaign_messages cm \
         JOIN campaigns k ON k.workspace_id = cm.workspace_id AND k.id = cm.campaign_id \
         LEFT JOIN messages m ON m.workspace_id = cm.workspace_id AND m.id = cm.message_id \
         WHERE cm.workspace_id = $1 AND cm.contact_id = $2 \
         ORDER BY cm.created_at DESC, cm.id DESC LIMIT $3",
    )
    .bind(workspace.0)
    .bind(row.contact_id)
    .bind(RECENT_CAMPAIGNS)
    .fetch_all(db.pool())
    .await?;
    Ok(Header {
        conversation_id: row.conversation_id,
        status: row.status,
        window_expires_at: row.window_expires_at,
        last_inbound_at: row.last_inbound_at,
        unread_count: row.unread_count,
        assignee_id: row.assignee_id,
        assignee_name: row.assignee_name,
        phone_number_id: row.phone_number_id,
        display_phone_number: row.display_phone_number,
        waba_id: row.waba_id,
        contact: ContactCard {
            id: row.contact_id,
            name: row.name,
            profile_name: row.profile_name,
            wa_id: row.wa_id,
            opted_in: row.opted_in,
            opted_out_at: row.opted_out_at,
            tags: row.tags,
            custom_fields: row.custom_fields,
            recent_campaigns,
        },
    })
}
