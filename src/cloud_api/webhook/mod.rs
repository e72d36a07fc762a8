//! Webhook bodies: the envelope Meta POSTs (`object`, `entry[]`, `changes[]`) and the typed events
//! inside it (spec §2 and §8).
//!
//! Parsing is layered so that one odd item never sinks its neighbours: [`Notification::parse`]
//! reads only the envelope and keeps each change's `value` raw; [`Change::parse`] reads one
//! change; [`parse_message`] and [`parse_status`] read one item each. Unknown fields and message
//! types are kept (as [`ChangeKind::Other`], [`MessageContent::Unsupported`] and the `raw` copies),
//! never refused. This module does no IO.

mod lenient;
mod message;
mod status;
mod template;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use lenient::{de_list, de_text, de_unix_seconds, items, non_empty, number};

pub use message::{
    Context, InboundMessage, MediaKind, MessageContent, parse_content, parse_message,
};
pub use status::{DeliveryStatus, StatusUpdate, parse_status};
pub use template::{TemplateCategoryUpdate, TemplateStatusUpdate};

/// The field name of changes that carry inbound messages, statuses and async errors.
pub const FIELD_MESSAGES: &str = "messages";
/// The field name of template review events.
pub const FIELD_TEMPLATE_STATUS: &str = "message_template_status_update";
/// The field name of template re-categorisation events.
pub const FIELD_TEMPLATE_CATEGORY: &str = "template_category_update";

/// One webhook body. `object` is `"whatsapp_business_account"` for WhatsApp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    #[serde(default, deserialize_with = "de_text")]
    pub object: String,
    #[serde(default, deserialize_with = "de_list")]
    pub entry: Vec<Entry>,
}

impl Notification {
    /// Reads the envelope of a webhook body. Fails only when the body is not a JSON object of
    /// that shape; what the changes hold is read later, one at a time, by [`Change::parse`].
    pub fn parse(body: &[u8]) -> Result<Notification, serde_json::Error> {
        // serde would also read a struct from an array; a body that is not an object is refused.
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|&b| b != b'{') {
            return Err(serde::de::Error::custom(
                "a webhook body must be a JSON object",
            ));
        }
        serde_json::from_slice(body)
    }

    /// Every change of every entry, in order.
    pub fn changes(&self) -> impl Iterator<Item = &Change> {
        self.entry.iter().flat_map(|entry| entry.changes.iter())
    }
}

/// One entry: `id` is the WhatsApp Business Account id (not the phone number id; route by
/// [`Metadata::phone_number_id`]). `time` is set on template and account events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(default, deserialize_with = "de_text")]
    pub id: String,
    #[serde(default, deserialize_with = "de_unix_seconds")]
    pub time: Option<i64>,
    #[serde(default, deserialize_with = "de_list")]
    pub changes: Vec<Change>,
}

/// One change: which subscribed `field` it is, and its `value` kept raw until [`Change::parse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    #[serde(default, deserialize_with = "de_text")]
    pub field: String,
    #[serde(default)]
    pub value: Value,
}

/// What a change is, once read.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    /// `field: "messages"`: inbound messages, statuses of what we sent, async errors.
    Messages(MessagesValue),
    /// `field: "message_template_status_update"`.
    TemplateStatus(TemplateStatusUpdate),
    /// `field: "template_category_update"`.
    TemplateCategory(TemplateCategoryUpdate),
    /// Any other field (calls, account updates, echoes, preferences...): the caller keeps the
    /// change verbatim as not understood.
    Other,
}

impl Change {
    /// Reads this change by its `field`. Errs only when a known field lacks what identifies it
    /// (a `messages` change with no `metadata.phone_number_id`, a template event with no id).
    pub fn parse(&self) -> Result<ChangeKind, ParseError> {
        match self.field.as_str() {
            FIELD_MESSAGES => MessagesValue::from_json(&self.value).map(ChangeKind::Messages),
            FIELD_TEMPLATE_STATUS => {
                TemplateStatusUpdate::from_json(&self.value).map(ChangeKind::TemplateStatus)
            }
            FIELD_TEMPLATE_CATEGORY => {
                TemplateCategoryUpdate::from_json(&self.value).map(ChangeKind::TemplateCategory)
            }
            _ => Ok(ChangeKind::Other),
        }
    }
}

/// The `value` of a `messages` change. Every array is optional. Messages and statuses stay raw
/// here: read each with [`parse_message`] / [`parse_status`], so a bad item is skipped alone.
#[derive(Debug, Clone, PartialEq)]
pub struct MessagesValue {
    pub metadata: Metadata,
    pub contacts: Vec<Profile>,
    pub messages: Vec<Value>,
    pub statuses: Vec<Value>,
    pub errors: Vec<GraphError>,
}

impl MessagesValue {
    pub fn from_json(value: &Value) -> Result<MessagesValue, ParseError> {
        const WHAT: &str = "a `messages` change";
        if !value.is_object() {
            return Err(ParseError::NotAnObject { what: WHAT });
        }
        let metadata = value.get("metadata").unwrap_or(&Value::Null);
        let phone_number_id =
            non_empty(metadata, "phone_number_id").ok_or(ParseError::Missing {
                what: WHAT,
                field: "metadata.phone_number_id",
            })?;
        Ok(MessagesValue {
            metadata: Metadata {
                display_phone_number: non_empty(metadata, "display_phone_number"),
                phone_number_id,
            },
            contacts: items(value, "contacts")
                .iter()
                .filter(|c| c.is_object())
                .map(Profile::from_json)
                .collect(),
            messages: items(value, "messages"),
            statuses: items(value, "statuses"),
            errors: GraphError::list(value, "errors"),
        })
    }

    /// The `contacts[]` profile of the customer who sent `message`: matched by `wa_id`, or by
    /// `user_id` for customers known only by their username.
    pub fn profile_of(&self, message: &InboundMessage) -> Option<&Profile> {
        let by_wa_id = message.from.as_deref().and_then(|from| {
            self.contacts
                .iter()
                .find(|p| p.wa_id.as_deref() == Some(from))
        });
        by_wa_id.or_else(|| {
            let user_id = message.from_user_id.as_deref()?;
            self.contacts
                .iter()
                .find(|p| p.user_id.as_deref() == Some(user_id))
        })
    }
}

/// The business phone number a `messages` change is about. Route by `phone_number_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub display_phone_number: Option<String>,
    pub phone_number_id: String,
}

/// A `contacts[]` item: who the customer is. `wa_id` is empty (here `None`) for customers who
/// enabled usernames; `user_id` is then their stable id (BSUID).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Profile {
    pub wa_id: Option<String>,
    pub user_id: Option<String>,
    /// `profile.name`: the display name the customer chose.
    pub name: Option<String>,
    /// `profile.username`.
    pub username: Option<String>,
}

impl Profile {
    pub fn from_json(v: &Value) -> Profile {
        let profile = v.get("profile").unwrap_or(&Value::Null);
        Profile {
            wa_id: non_empty(v, "wa_id"),
            user_id: non_empty(v, "user_id"),
            name: non_empty(profile, "name"),
            username: non_empty(profile, "username"),
        }
    }
}

/// A Graph API error as it appears in webhooks (`value.errors[]`, `messages[].errors[]`,
/// `statuses[].errors[]`). `title` and `message` are usually the same text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphError {
    pub code: i64,
    pub title: Option<String>,
    pub message: Option<String>,
    /// `error_data.details`: the sentence that says what happened.
    pub details: Option<String>,
}

impl GraphError {
    /// Reads one error object. A missing or unreadable `code` reads as 0, so the error's text is
    /// still kept.
    pub fn from_json(v: &Value) -> GraphError {
        GraphError {
            code: number(v, "code").map_or(0, |c| c as i64),
            title: non_empty(v, "title"),
            message: non_empty(v, "message"),
            details: v
                .get("error_data")
                .and_then(|data| non_empty(data, "details")),
        }
    }

    /// The errors listed under `obj[key]`; non-objects are skipped.
    pub(crate) fn list(obj: &Value, key: &str) -> Vec<GraphError> {
        items(obj, key)
            .iter()
            .filter(|e| e.is_object())
            .map(GraphError::from_json)
            .collect()
    }

    /// One line for logs and the inbox: `131047 Re-engagement message: <details>`.
    pub fn summary(&self) -> String {
        let mut line = self.code.to_string();
        if let Some(title) = self.title.as_deref().or(self.message.as_deref()) {
            line.push(' ');
            line.push_str(title);
        }
        if let Some(details) = &self.details {
            line.push_str(": ");
            line.push_str(details);
        }
        line
    }
}

/// Why a change or an item could not be read: what it was and which field was missing or wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("{what} is not a JSON object")]
    NotAnObject { what: &'static str },
    #[error("{what} has no `{field}`")]
    Missing {
        what: &'static str,
        field: &'static str,
    },
    #[error("{what} has a `{field}` that is not {expected}: {found}")]
    Invalid {
        what: &'static str,
        field: &'static str,
        expected: &'static str,
        found: String,
    },
}

/// `obj[key]` as a required non-empty text (string or number).
pub(crate) fn required_text(
    obj: &Value,
    what: &'static str,
    field: &'static str,
) -> Result<String, ParseError> {
    non_empty(obj, field).ok_or(ParseError::Missing { what, field })
}

/// `obj.timestamp` as a required instant (unix seconds, string or integer).
pub(crate) fn required_timestamp(
    obj: &Value,
    what: &'static str,
) -> Result<chrono::DateTime<chrono::Utc>, ParseError> {
    const FIELD: &str = "timestamp";
    match obj.get(FIELD) {
        None | Some(Value::Null) => Err(ParseError::Missing { what, field: FIELD }),
        Some(raw) => lenient::instant(raw).ok_or_else(|| ParseError::Invalid {
            what,
            field: FIELD,
            expected: "unix seconds",
            found: lenient::describe(raw),
        }),
    }
}
