//! Outbound messages: what treeex can send and the exact JSON body of spec §5 for each, plus the
//! answer to a send. The limits each message must keep are in `limits`; this module only shapes.
//!
//! Optional texts that are empty or blank (a caption, a footer, a section title) are treated as
//! absent, both here and by the limits, so `Some("")` never reaches Meta.

use serde_json::{Map, Value, json};

use crate::cloud_api::webhook::MediaKind;

/// One message to one customer.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundMessage {
    /// The recipient's number, digits with or without a leading `+`.
    pub to: String,
    /// The wamid this message quotes (`context.message_id`).
    pub reply_to: Option<String>,
    /// `biz_opaque_callback_data`: echoed back in this message's status webhooks.
    pub callback_data: Option<String>,
    pub body: OutboundBody,
}

/// What a message says, one variant per `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum OutboundBody {
    Text {
        body: String,
        /// Asks WhatsApp to render a preview of the first link.
        preview_url: bool,
    },
    Media {
        kind: MediaKind,
        source: MediaSource,
        /// Image, video and document only.
        caption: Option<String>,
        /// Document only.
        filename: Option<String>,
    },
    Template {
        name: String,
        language: String,
        /// Meta's send components (header, body and button parameters), as Meta spells them.
        components: Vec<Value>,
    },
    /// Interactive reply buttons: `(id, title)` each.
    Buttons {
        header: Option<String>,
        body: String,
        footer: Option<String>,
        buttons: Vec<(String, String)>,
    },
    /// An interactive list behind one `button`.
    List {
        header: Option<String>,
        body: String,
        footer: Option<String>,
        button: String,
        sections: Vec<ListSection>,
    },
    /// A reaction to `message_id`; an empty emoji removes it.
    Reaction { message_id: String, emoji: String },
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
    },
}

/// Where a media message's file is: uploaded to Meta (`id`) or on a public URL (`link`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSource {
    Id(String),
    Link(String),
}

/// One section of a list message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSection {
    pub title: Option<String>,
    pub rows: Vec<ListRow>,
}

/// One choice of a list message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

/// Meta accepted a message for sending (HTTP 200). Not delivered: status webhooks tell the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The wamid the status webhooks will carry.
    pub wa_message_id: String,
    /// The recipient's normalised id; may be missing when sent to a username (BSUID).
    pub wa_id: Option<String>,
    /// Template pacing: `accepted` or `held_for_quality_assessment`.
    pub message_status: Option<String>,
}

impl Accepted {
    /// Reads the success body of a send: `messages[0].id` is required.
    pub fn from_json(body: &Value) -> Option<Accepted> {
        let message = body.get("messages")?.get(0)?;
        let wa_message_id = present_str(message.get("id"))?;
        let contact = body.get("contacts").and_then(|c| c.get(0));
        Some(Accepted {
            wa_message_id,
            wa_id: contact.and_then(|c| present_str(c.get("wa_id"))),
            message_status: present_str(message.get("message_status")),
        })
    }
}

fn present_str(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

/// The text of an optional field when it says something.
pub(super) fn present(text: &Option<String>) -> Option<&str> {
    text.as_deref().filter(|t| !t.trim().is_empty())
}

impl OutboundMessage {
    /// A message to `to` that quotes nothing and carries no callback data.
    pub fn new(to: impl Into<String>, body: OutboundBody) -> OutboundMessage {
        OutboundMessage {
            to: to.into(),
            reply_to: None,
            callback_data: None,
            body,
        }
    }

    /// Meta's `type` for this message.
    pub fn type_name(&self) -> &'static str {
        match &self.body {
            OutboundBody::Text { .. } => "text",
            OutboundBody::Media { kind, .. } => kind.as_str(),
            OutboundBody::Template { .. } => "template",
            OutboundBody::Buttons { .. } | OutboundBody::List { .. } => "interactive",
            OutboundBody::Reaction { .. } => "reaction",
            OutboundBody::Location { .. } => "location",
        }
    }

    /// The send body of spec §5. It does not check limits: call [`OutboundMessage::validate`].
    pub fn to_json(&self) -> Value {
        let type_name = self.type_name();
        let mut body = Map::new();
        body.insert("messaging_product".into(), json!("whatsapp"));
        body.insert("recipient_type".into(), json!("individual"));
        body.insert("to".into(), json!(self.to));
        body.insert("type".into(), json!(type_name));
        body.insert(type_name.into(), self.body.object());
        if let Some(id) = present(&self.reply_to) {
            body.insert("context".into(), json!({ "message_id": id }));
        }
        if let Some(data) = present(&self.callback_data) {
            body.insert("biz_opaque_callback_data".into(), json!(data));
        }
        Value::Object(body)
    }
}

impl OutboundBody {
    /// The object under the message's `type` key.
    fn object(&self) -> Value {
        match self {
            OutboundBody::Text { body, preview_url } => {
                let mut text = json!({ "body": body });
                if *preview_url {
                    text["preview_url"] = json!(true);
                }
                text
            }
            OutboundBody::Media {
                source,
                caption,
                filename,
                ..
            } => {
                let mut media = match source {
                    MediaSource::Id(id) => json!({ "id": id }),
                    MediaSource::Link(link) => json!({ "link": link }),
                };
                if let Some(caption) = present(caption) {
                    media["caption"] = json!(caption);
                }
                if let Some(filename) = present(filename) {
                    media["filename"] = json!(filename);
                }
                media
            }
            OutboundBody::Template {
                name,
                language,
                components,
            } => {
                let mut template = json!({
                    "name": name,
                    "language": { "policy": "deterministic", "code": language },
                });
                if !components.is_empty() {
                    template["components"] = json!(components);
                }
                template
            }
            OutboundBody::Buttons {
                header,
                body,
                footer,
                buttons,
            } => {
                let buttons: Vec<Value> = buttons
                    .iter()
                    .map(|(id, title)| json!({ "type": "reply", "reply": { "id": id, "title": title } }))
                    .collect();
                interactive(
                    "button",
                    header,
                    body,
                    footer,
                    json!({ "buttons": buttons }),
                )
            }
            OutboundBody::List {
                header,
                body,
                footer,
                button,
                sections,
            } => {
                let sections: Vec<Value> = sections.iter().map(ListSection::to_json).collect();
                let action = json!({ "button": button, "sections": sections });
                interactive("list", header, body, footer, action)
            }
            OutboundBody::Reaction { message_id, emoji } => {
                json!({ "message_id": message_id, "emoji": emoji })
            }
            OutboundBody::Location {
                latitude,
                longitude,
                name,
                address,
            } => {
                let mut location = json!({ "latitude": latitude, "longitude": longitude });
                if let Some(name) = present(name) {
                    location["name"] = json!(name);
                }
                if let Some(address) = present(address) {
                    location["address"] = json!(address);
                }
                location
            }
        }
    }
}

/// An `interactive` object: a text header, body, footer and the kind's `action`.
fn interactive(
    kind: &str,
    header: &Option<String>,
    body: &str,
    footer: &Option<String>,
    action: Value,
) -> Value {
    let mut object = json!({ "type": kind, "body": { "text": body }, "action": action });
    if let Some(header) = present(header) {
        object["header"] = json!({ "type": "text", "text": header });
    }
    if let Some(footer) = present(footer) {
        object["footer"] = json!({ "text": footer });
    }
    object
}

impl ListSection {
    fn to_json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let mut value = json!({ "id": row.id, "title": row.title });
                if let Some(description) = present(&row.description) {
                    value["description"] = json!(description);
                }
                value
            })
            .collect();
        let mut section = json!({ "rows": rows });
        if let Some(title) = present(&self.title) {
            section["title"] = json!(title);
        }
        section
    }
}

#[cfg(test)]
mod tests;
