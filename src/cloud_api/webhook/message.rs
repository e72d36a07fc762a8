//! Inbound messages: one `value.messages[]` item read into [`InboundMessage`] (spec §2.4).
//!
//! Every item that has an `id` and a `timestamp` becomes a message: a type we do not know, or a
//! known type whose object is missing or malformed, becomes [`MessageContent::Unsupported`] and
//! keeps its `raw` JSON, because a customer's message must never be dropped.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lenient::{flag, items, non_empty, number, text};
use super::{GraphError, ParseError, required_text, required_timestamp};

/// One inbound message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// The wamid.
    pub id: String,
    /// The customer's number; `None` for customers known only by username.
    pub from: Option<String>,
    /// The customer's BSUID (`US.1349...`), when Meta sends one.
    pub from_user_id: Option<String>,
    pub timestamp: DateTime<Utc>,
    /// Meta's `type` as sent (`"text"`, `"unsupported"`, a type added after this was written);
    /// `""` when the item has none.
    pub type_name: String,
    pub context: Option<Context>,
    pub content: MessageContent,
    /// `messages[].errors`: why Meta could not deliver the content (e.g. 131051 unsupported).
    pub errors: Vec<GraphError>,
    /// The whole item, verbatim.
    pub raw: Value,
}

impl InboundMessage {
    /// The short-lived download URL Meta adds to media since late 2025 (the media id is the
    /// stable handle; this URL expires in minutes).
    pub fn media_url(&self) -> Option<String> {
        self.raw
            .get(self.type_name.as_str())
            .and_then(|media| non_empty(media, "url"))
    }

    /// The Click-to-WhatsApp ad the customer came from, as sent.
    pub fn referral(&self) -> Option<&Value> {
        self.raw.get("referral").filter(|r| r.is_object())
    }
}

/// `context`: what this message replies to, or that it was forwarded. Forwards carry no `id`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Context {
    /// The wamid replied to.
    pub id: Option<String>,
    /// Who sent the message replied to (our business number, for replies to us).
    pub from: Option<String>,
    pub forwarded: bool,
    pub frequently_forwarded: bool,
}

impl Context {
    pub fn from_json(v: &Value) -> Context {
        Context {
            id: non_empty(v, "id"),
            from: non_empty(v, "from"),
            forwarded: flag(v, "forwarded"),
            frequently_forwarded: flag(v, "frequently_forwarded"),
        }
    }
}

/// The kinds of media a message can carry; `type` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Audio,
    Video,
    Document,
    Sticker,
}

impl MediaKind {
    /// Meta's `type` for it.
    pub fn as_str(&self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }

    /// The media kind a message `type` names, if it names one.
    pub fn from_type(type_name: &str) -> Option<MediaKind> {
        Some(match type_name {
            "image" => MediaKind::Image,
            "audio" => MediaKind::Audio,
            "video" => MediaKind::Video,
            "document" => MediaKind::Document,
            "sticker" => MediaKind::Sticker,
            _ => return None,
        })
    }
}

impl std::fmt::Display for MediaKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a message says, by type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MessageContent {
    Text {
        body: String,
    },
    Media {
        kind: MediaKind,
        media_id: String,
        mime_type: Option<String>,
        /// Base64 in webhooks; opaque.
        sha256: Option<String>,
        caption: Option<String>,
        filename: Option<String>,
        /// An audio recorded as a voice note.
        voice: bool,
        /// An animated sticker.
        animated: bool,
    },
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
        url: Option<String>,
    },
    /// Shared contact cards, as sent (an array of vCard-like objects).
    Contacts {
        contacts: Value,
    },
    /// `interactive.button_reply`: the customer tapped a reply button.
    ButtonReply {
        id: String,
        title: String,
    },
    /// `interactive.list_reply`: the customer picked a list row.
    ListReply {
        id: String,
        title: String,
        description: Option<String>,
    },
    /// `interactive.nfm_reply`: the customer completed a flow.
    FlowReply {
        response_json: String,
        body: Option<String>,
        name: Option<String>,
    },
    /// `type: "button"`: a quick-reply button on a template.
    Button {
        payload: Option<String>,
        text: String,
    },
    /// `emoji: None` takes a reaction back.
    Reaction {
        message_id: String,
        emoji: Option<String>,
    },
    Order {
        order: Value,
    },
    /// `kind` is `system.type` (`user_changed_number`, `customer_identity_changed`...); on a
    /// number change `new_wa_id` is the customer's new id.
    System {
        kind: String,
        body: Option<String>,
        new_wa_id: Option<String>,
    },
    /// The customer edited an earlier message; `message` is its new content, as sent (read it
    /// with [`parse_content`]).
    Edit {
        original_id: String,
        message: Value,
    },
    /// The customer deleted an earlier message.
    Revoke {
        original_id: String,
    },
    /// Anything else, kept: `kind` names the real type when known (`unsupported.type`, the
    /// interactive sub-type, or the unknown `type` itself).
    Unsupported {
        kind: Option<String>,
    },
}

/// Reads one `messages[]` item. Errs only when the item is not an object or lacks what identifies
/// it (`id`, or a usable `timestamp`); its content always reads as some [`MessageContent`].
pub fn parse_message(raw: &Value) -> Result<InboundMessage, ParseError> {
    const WHAT: &str = "a message";
    if !raw.is_object() {
        return Err(ParseError::NotAnObject { what: WHAT });
    }
    let id = required_text(raw, WHAT, "id")?;
    let timestamp = required_timestamp(raw, WHAT)?;
    Ok(InboundMessage {
        id,
        from: non_empty(raw, "from"),
        from_user_id: non_empty(raw, "from_user_id"),
        timestamp,
        type_name: text(raw, "type").unwrap_or_default(),
        context: raw
            .get("context")
            .filter(|c| c.is_object())
            .map(Context::from_json),
        content: parse_content(raw),
        errors: GraphError::list(raw, "errors"),
        raw: raw.clone(),
    })
}

/// Reads the content of anything message-shaped: a `type` and the object named after it. Used for
/// `messages[]` items and for the new content inside an `edit`. Never fails.
pub fn parse_content(item: &Value) -> MessageContent {
    let type_name = non_empty(item, "type");
    let Some(type_name) = type_name else {
        return MessageContent::Unsupported { kind: None };
    };
    let unsupported = || MessageContent::Unsupported {
        kind: Some(type_name.clone()),
    };
    if matches!(type_name.as_str(), "unsupported" | "unknown") {
        let kind = item.get("unsupported").and_then(|u| non_empty(u, "type"));
        return MessageContent::Unsupported { kind };
    }
    if type_name == "contacts" {
        let cards = items(item, "contacts");
        return if cards.is_empty() {
            unsupported()
        } else {
            MessageContent::Contacts {
                contacts: Value::Array(cards),
            }
        };
    }
    let Some(object) = item.get(type_name.as_str()) else {
        return unsupported();
    };
    if let Value::String(body) = object
        && type_name == "text"
    {
        return MessageContent::Text { body: body.clone() };
    }
    if !object.is_object() {
        return unsupported();
    }
    let content = match type_name.as_str() {
        "text" => text(object, "body").map(|body| MessageContent::Text { body }),
        "image" | "audio" | "video" | "document" | "sticker" => {
            MediaKind::from_type(&type_name).and_then(|kind| media(kind, object))
        }
        "location" => location(object),
        "interactive" => return interactive(object),
        "button" => button(object),
        "reaction" => non_empty(object, "message_id").map(|message_id| MessageContent::Reaction {
            message_id,
            emoji: non_empty(object, "emoji"),
        }),
        "order" => Some(MessageContent::Order {
            order: object.clone(),
        }),
        "system" => Some(MessageContent::System {
            kind: text(object, "type").unwrap_or_default(),
            body: non_empty(object, "body"),
            // `wa_id` in current payloads, `new_wa_id` in older ones.
            new_wa_id: non_empty(object, "wa_id").or_else(|| non_empty(object, "new_wa_id")),
        }),
        "edit" => {
            non_empty(object, "original_message_id").map(|original_id| MessageContent::Edit {
                original_id,
                message: object.get("message").cloned().unwrap_or(Value::Null),
            })
        }
        "revoke" => non_empty(object, "original_message_id")
            .map(|original_id| MessageContent::Revoke { original_id }),
        _ => None,
    };
    content.unwrap_or_else(unsupported)
}

fn media(kind: MediaKind, object: &Value) -> Option<MessageContent> {
    Some(MessageContent::Media {
        kind,
        media_id: non_empty(object, "id")?,
        mime_type: non_empty(object, "mime_type"),
        sha256: non_empty(object, "sha256"),
        caption: non_empty(object, "caption"),
        filename: non_empty(object, "filename"),
        voice: flag(object, "voice"),
        animated: flag(object, "animated"),
    })
}

fn location(object: &Value) -> Option<MessageContent> {
    Some(MessageContent::Location {
        latitude: number(object, "latitude")?,
        longitude: number(object, "longitude")?,
        name: non_empty(object, "name"),
        address: non_empty(object, "address"),
        url: non_empty(object, "url"),
    })
}

fn button(object: &Value) -> Option<MessageContent> {
    let payload = non_empty(object, "payload");
    let text = text(object, "text").or_else(|| payload.clone())?;
    Some(MessageContent::Button { payload, text })
}

/// `interactive`: a reply to buttons, a list or a flow. Other sub-types (call permission replies
/// and whatever comes next) are kept as unsupported, named by their sub-type.
fn interactive(object: &Value) -> MessageContent {
    let sub_type = non_empty(object, "type");
    let reply = sub_type
        .as_deref()
        .and_then(|t| object.get(t))
        .filter(|r| r.is_object());
    let content = match (sub_type.as_deref(), reply) {
        (Some("button_reply"), Some(reply)) => {
            non_empty(reply, "id").map(|id| MessageContent::ButtonReply {
                id,
                title: text(reply, "title").unwrap_or_default(),
            })
        }
        (Some("list_reply"), Some(reply)) => {
            non_empty(reply, "id").map(|id| MessageContent::ListReply {
                id,
                title: text(reply, "title").unwrap_or_default(),
                description: non_empty(reply, "description"),
            })
        }
        (Some("nfm_reply"), Some(reply)) => {
            let response_json = match reply.get("response_json") {
                Some(Value::String(json)) => Some(json.clone()),
                Some(object @ Value::Object(_)) => Some(object.to_string()),
                _ => None,
            };
            response_json.map(|response_json| MessageContent::FlowReply {
                response_json,
                body: non_empty(reply, "body"),
                name: non_empty(reply, "name"),
            })
        }
        _ => None,
    };
    content.unwrap_or(MessageContent::Unsupported {
        kind: sub_type.or_else(|| Some("interactive".to_string())),
    })
}

impl MessageContent {
    /// A one-line preview for the inbox list: `Does it come in blue?`, `📷 Photo: Broken lid`,
    /// `📍 Philz Coffee`, `👍 reacted`, `Unsupported message`.
    pub fn preview(&self) -> String {
        match self {
            MessageContent::Text { body } => one_line(body),
            MessageContent::Media {
                kind,
                caption,
                filename,
                voice,
                ..
            } => {
                let label = match kind {
                    MediaKind::Image => "📷 Photo".to_string(),
                    MediaKind::Audio if *voice => "🎤 Voice message".to_string(),
                    MediaKind::Audio => "🎵 Audio".to_string(),
                    MediaKind::Video => "🎥 Video".to_string(),
                    MediaKind::Document => {
                        format!(
                            "📄 {}",
                            filename.as_deref().map_or("Document".into(), one_line)
                        )
                    }
                    MediaKind::Sticker => "🙂 Sticker".to_string(),
                };
                with_detail(label, caption.as_deref())
            }
            MessageContent::Location { name, address, .. } => {
                let place = name.as_deref().or(address.as_deref());
                format!("📍 {}", place.map_or("Location".into(), one_line))
            }
            MessageContent::Contacts { contacts } => contacts_preview(contacts),
            MessageContent::ButtonReply { title, .. } | MessageContent::ListReply { title, .. } => {
                format!("🔘 {}", one_line(title))
            }
            MessageContent::Button { text, .. } => format!("🔘 {}", one_line(text)),
            MessageContent::FlowReply { .. } => "📝 Form submitted".to_string(),
            MessageContent::Reaction { emoji, .. } => match emoji {
                Some(emoji) => format!("{emoji} reacted"),
                None => "Removed a reaction".to_string(),
            },
            MessageContent::Order { order } => {
                let lines = items(order, "product_items").len();
                let label = format!("🛒 Order ({lines} item{})", plural(lines));
                with_detail(label, non_empty(order, "text").as_deref())
            }
            MessageContent::System { body, .. } => {
                body.as_deref().map_or("System message".into(), one_line)
            }
            MessageContent::Edit { message, .. } => {
                format!("Edited: {}", parse_content(message).preview())
            }
            MessageContent::Revoke { .. } => "🚫 Message deleted".to_string(),
            MessageContent::Unsupported { kind } => match kind {
                Some(kind) => format!("Unsupported message ({})", one_line(kind)),
                None => "Unsupported message".to_string(),
            },
        }
    }
}

/// `label: detail`, or the label alone when there is no detail.
fn with_detail(label: String, detail: Option<&str>) -> String {
    match detail.map(one_line).filter(|d| !d.is_empty()) {
        Some(detail) => format!("{label}: {detail}"),
        None => label,
    }
}

fn contacts_preview(contacts: &Value) -> String {
    let cards = contacts.as_array().map(Vec::as_slice).unwrap_or_default();
    let first = cards.first().and_then(|card| {
        let name = card.get("name")?;
        non_empty(name, "formatted_name").or_else(|| {
            let parts: Vec<String> = ["first_name", "last_name"]
                .iter()
                .filter_map(|k| non_empty(name, k))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
    });
    let mut line = format!("👤 {}", first.as_deref().map_or("Contact".into(), one_line));
    if cards.len() > 1 {
        line.push_str(&format!(" and {} more", cards.len() - 1));
    }
    line
}

/// Whitespace (newlines included) collapsed to single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests;
