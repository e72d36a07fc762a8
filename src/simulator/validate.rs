//! Reads a `POST /{phone-number-id}/messages` body the way the Graph API does (spec §5): the
//! common fields, then each type's required fields and limits. A body that passes is a send or
//! a mark-as-read; one that does not gets Meta's code: 100 (unknown field, bad product, missing
//! `to`, unknown type), 131008 (a required field missing), 131009 (a value out of bounds).

use serde_json::{Map, Value};

use super::error::GraphFailure;
use super::{ids, interactive};

/// What a valid body asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SendRequest {
    /// `{"status":"read","message_id"}`: mark a customer message as read.
    MarkRead,
    Message(Outgoing),
}

/// A message to send.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outgoing {
    /// `to` as given.
    pub to_input: String,
    /// `to` as a wa_id.
    pub wa_id: String,
    /// `text`, `image`, `template`...
    pub kind: String,
    pub template: Option<TemplateCall>,
    /// `biz_opaque_callback_data`, echoed in the statuses.
    pub callback_data: Option<String>,
}

/// The template a template send names, and how many parameters it gives.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TemplateCall {
    pub name: String,
    pub language: String,
    pub header_params: usize,
    pub body_params: usize,
}

const TOP_LEVEL: &[&str] = &[
    "messaging_product",
    "recipient_type",
    "to",
    "type",
    "context",
    "biz_opaque_callback_data",
    "status",
    "message_id",
    "typing_indicator",
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "template",
    "reaction",
];

const TYPES: &[&str] = &[
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "template",
    "reaction",
];

pub(super) type Checked<T = ()> = Result<T, GraphFailure>;

/// Reads a send body.
pub(crate) fn read(body: &Value) -> Checked<SendRequest> {
    let Some(root) = body.as_object() else {
        return Err(GraphFailure::invalid_parameter(
            "The request body must be a JSON object.",
        ));
    };
    if let Some(key) = root.keys().find(|k| !TOP_LEVEL.contains(&k.as_str())) {
        return Err(GraphFailure::invalid_parameter(format!(
            "Unexpected key \"{key}\" on param \"<root>\"."
        )));
    }
    match root.get("messaging_product") {
        None => {
            return Err(GraphFailure::invalid_parameter(
                "The parameter messaging_product is required.",
            ));
        }
        Some(Value::String(p)) if p.eq_ignore_ascii_case("whatsapp") => {}
        Some(_) => {
            return Err(GraphFailure::invalid_parameter(
                "Param messaging_product must be one of {WHATSAPP} - got an unexpected value.",
            ));
        }
    }
    if root.contains_key("status") {
        return mark_read(root);
    }
    if let Some(kind) = root.get("recipient_type")
        && !matches!(kind.as_str(), Some("individual" | "group"))
    {
        return Err(GraphFailure::invalid_parameter(
            "Param recipient_type must be one of {INDIVIDUAL, GROUP}.",
        ));
    }
    let to_input = match root.get("to") {
        None => {
            return Err(GraphFailure::invalid_parameter(
                "The parameter to is required.",
            ));
        }
        Some(to) => string(to, "to")?,
    };
    let wa_id = ids::wa_id(to_input).ok_or_else(|| {
        GraphFailure::invalid_value(format!("Invalid recipient: \"{to_input}\"."))
    })?;
    let kind = match root.get("type") {
        None => "text",
        Some(kind) => string(kind, "type")?,
    };
    if !TYPES.contains(&kind) {
        return Err(GraphFailure::invalid_parameter(format!(
            "Param type must be one of {{{}}} - got \"{kind}\".",
            TYPES.join(", ").to_ascii_uppercase()
        )));
    }
    let Some(object) = root.get(kind) else {
        return Err(GraphFailure::missing_parameter(format!(
            "The parameter {kind} is required."
        )));
    };
    let mut template = None;
    match kind {
        "text" => text(object)?,
        "image" | "video" | "document" | "audio" | "sticker" => media(kind, object)?,
        "location" => location(object)?,
        "contacts" => contacts(object)?,
        "interactive" => interactive::check(object)?,
        "reaction" => reaction(object, root.contains_key("context"))?,
        _ => template = Some(template_call(object)?),
    }
    if let Some(context) = root.get("context") {
        field(context, "context", "message_id", true)?;
    }
    let callback_data = match root.get("biz_opaque_callback_data") {
        None => None,
        Some(data) => Some(limited(data, "biz_opaque_callback_data", 512)?.to_string()),
    };
    Ok(SendRequest::Message(Outgoing {
        to_input: to_input.to_string(),
        wa_id,
        kind: kind.to_string(),
        template,
        callback_data,
    }))
}

fn mark_read(root: &Map<String, Value>) -> Checked<SendRequest> {
    if root.get("status").and_then(Value::as_str) != Some("read") {
        return Err(GraphFailure::invalid_parameter(
            "Param status must be \"read\".",
        ));
    }
    match root.get("message_id") {
        None => Err(GraphFailure::missing_parameter(
            "The parameter message_id is required.",
        )),
        Some(id) => {
            limited(id, "message_id", 256)?;
            Ok(SendRequest::MarkRead)
        }
    }
}

fn text(object: &Value) -> Checked {
    field(object, "text", "body", true)?;
    bounded(object, "text", "body", 4096)?;
    if let Some(preview) = object.get("preview_url")
        && !preview.is_boolean()
    {
        return Err(GraphFailure::invalid_value(
            "Param text['preview_url'] must be a boolean.",
        ));
    }
    Ok(())
}

fn media(kind: &str, object: &Value) -> Checked {
    let id = field(object, kind, "id", false)?;
    let link = field(object, kind, "link", false)?;
    match (id, link) {
        (None, None) => {
            return Err(GraphFailure::missing_parameter(format!(
                "Param {kind} must have an id or a link."
            )));
        }
        (Some(_), Some(_)) => {
            return Err(GraphFailure::invalid_value(format!(
                "Param {kind} must have either an id or a link, not both."
            )));
        }
        _ => {}
    }
    let captioned = matches!(kind, "image" | "video" | "document");
    if object.get("caption").is_some() && !captioned {
        return Err(GraphFailure::invalid_value(format!(
            "Param {kind} takes no caption."
        )));
    }
    bounded(object, kind, "caption", 1024)?;
    if object.get("filename").is_some() && kind != "document" {
        return Err(GraphFailure::invalid_value(format!(
            "Param {kind} takes no filename."
        )));
    }
    bounded(object, kind, "filename", 240)?;
    Ok(())
}

fn location(object: &Value) -> Checked {
    for (key, range) in [("latitude", 90.0), ("longitude", 180.0)] {
        match object.get(key) {
            None => {
                return Err(GraphFailure::missing_parameter(format!(
                    "The parameter location['{key}'] is required."
                )));
            }
            Some(value) => {
                let number = value.as_f64().or_else(|| value.as_str()?.parse().ok());
                if !number.is_some_and(|n: f64| n.abs() <= range) {
                    return Err(GraphFailure::invalid_value(format!(
                        "Param location['{key}'] must be a number within ±{range}."
                    )));
                }
            }
        }
    }
    Ok(())
}

fn contacts(object: &Value) -> Checked {
    match object.as_array() {
        Some(cards) if !cards.is_empty() && cards.iter().all(Value::is_object) => Ok(()),
        _ => Err(GraphFailure::invalid_value(
            "Param contacts must be a non-empty array of contact objects.",
        )),
    }
}

fn reaction(object: &Value, has_context: bool) -> Checked {
    if has_context {
        return Err(GraphFailure::invalid_value(
            "A reaction cannot be sent with a context.",
        ));
    }
    field(object, "reaction", "message_id", true)?;
    field(object, "reaction", "emoji", false)?;
    Ok(())
}

fn template_call(object: &Value) -> Checked<TemplateCall> {
    let name = field(object, "template", "name", true)?.unwrap_or_default();
    let language = object
        .get("language")
        .ok_or_else(|| missing("template['language']"))?;
    let language = field(language, "template['language']", "code", true)?.unwrap_or_default();
    let mut call = TemplateCall {
        name: name.to_string(),
        language: language.to_string(),
        header_params: 0,
        body_params: 0,
    };
    let components = match object.get("components") {
        None => return Ok(call),
        Some(Value::Array(components)) => components,
        Some(_) => {
            return Err(GraphFailure::invalid_value(
                "Param template['components'] must be an array.",
            ));
        }
    };
    for component in components {
        let kind = field(component, "template['components'][]", "type", true)?.unwrap_or_default();
        let count = match component.get("parameters") {
            None => 0,
            Some(Value::Array(parameters)) => parameters.len(),
            Some(_) => {
                return Err(GraphFailure::invalid_value(
                    "Param template['components'][]['parameters'] must be an array.",
                ));
            }
        };
        match kind.to_ascii_lowercase().as_str() {
            "header" => call.header_params += count,
            "body" => call.body_params += count,
            "button" => {}
            other => {
                return Err(GraphFailure::invalid_value(format!(
                    "Param template['components'][]['type'] is not a known type: \"{other}\"."
                )));
            }
        }
    }
    Ok(call)
}

pub(super) fn missing(path: &str) -> GraphFailure {
    GraphFailure::missing_parameter(format!("The parameter {path} is required."))
}

/// `value` as a string, or 131009 naming `path`.
fn string<'a>(value: &'a Value, path: &str) -> Checked<&'a str> {
    value
        .as_str()
        .ok_or_else(|| GraphFailure::invalid_value(format!("Param {path} must be a string.")))
}

/// `object[key]` as a string: `None` when absent (131008 when `required`), 131009 when not a
/// string or when empty though required.
pub(super) fn field<'a>(
    object: &'a Value,
    path: &str,
    key: &str,
    required: bool,
) -> Checked<Option<&'a str>> {
    match object.get(key) {
        None | Some(Value::Null) if required => Err(missing(&format!("{path}['{key}']"))),
        None | Some(Value::Null) => Ok(None),
        Some(value) => {
            let text = string(value, &format!("{path}['{key}']"))?;
            if required && text.trim().is_empty() {
                return Err(GraphFailure::invalid_value(format!(
                    "Param {path}['{key}'] must not be empty."
                )));
            }
            Ok(Some(text))
        }
    }
}

/// 131009 when `object[key]` is a string longer than `max` characters.
pub(super) fn bounded(object: &Value, path: &str, key: &str, max: usize) -> Checked {
    if let Some(value) = object.get(key) {
        limited(value, &format!("{path}['{key}']"), max)?;
    }
    Ok(())
}

/// `value` as a string of at most `max` characters.
fn limited<'a>(value: &'a Value, path: &str, max: usize) -> Checked<&'a str> {
    let text = string(value, path)?;
    if text.chars().count() > max {
        return Err(GraphFailure::invalid_value(format!(
            "Param {path} must be at most {max} characters long."
        )));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code(body: Value) -> i64 {
        read(&body).err().map_or(0, |f| f.code)
    }

    #[test]
    fn a_text_send_reads_with_its_recipient_normalised() {
        let request = read(
            &json!({"messaging_product": "whatsapp", "to": "+1 415 555 0123",
            "type": "text", "text": {"body": "hi"}, "biz_opaque_callback_data": "x"}),
        );
        let Ok(SendRequest::Message(out)) = request else {
            panic!("{request:?}")
        };
        assert_eq!(out.wa_id, "14155550123");
        assert_eq!(out.to_input, "+1 415 555 0123");
        assert_eq!(out.callback_data.as_deref(), Some("x"));
    }

    #[test]
    fn common_fields_are_checked() {
        assert_eq!(
            code(json!({"to": "14155550123", "text": {"body": "x"}})),
            100
        );
        assert_eq!(
            code(json!({"messaging_product": "sms", "to": "14155550123"})),
            100
        );
        assert_eq!(
            code(json!({"messaging_product": "whatsapp", "text": {"body": "x"}})),
            100
        );
        assert_eq!(
            code(json!({"messaging_product": "whatsapp", "to": "14155550123", "txt": {}})),
            100
        );
        assert_eq!(
            code(json!({"messaging_product": "whatsapp", "to": "14155550123", "type": "fax"})),
            100
        );
        assert_eq!(
            code(json!({"messaging_product": "whatsapp", "to": "12", "text": {"body": "x"}})),
            131009
        );
        assert_eq!(
            code(json!({"messaging_product": "whatsapp", "to": "14155550123", "type": "text"})),
            131008
        );
    }

    #[test]
    fn per_type_limits_are_checked() {
        let base = |kind: &str, object: Value| json!({"messaging_product": "whatsapp", "to": "14155550123", "type": kind, kind: object});
        assert_eq!(
            code(base("text", json!({"body": "x".repeat(4097)}))),
            131009
        );
        assert_eq!(code(base("text", json!({}))), 131008);
        assert_eq!(code(base("image", json!({"caption": "x"}))), 131008);
        assert_eq!(
            code(base("image", json!({"id": "1", "link": "https://x"}))),
            131009
        );
        assert_eq!(
            code(base("audio", json!({"id": "1", "caption": "x"}))),
            131009
        );
        let four = json!({"type": "button", "body": {"text": "b"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": "1", "title": "a"}},
            {"type": "reply", "reply": {"id": "2", "title": "b"}},
            {"type": "reply", "reply": {"id": "3", "title": "c"}},
            {"type": "reply", "reply": {"id": "4", "title": "d"}}]}});
        assert_eq!(code(base("interactive", four)), 131009);
        assert_eq!(
            code(base("template", json!({"name": "hello_world"}))),
            131008
        );
        assert_eq!(code(base("image", json!({"id": "1", "caption": "ok"}))), 0);
    }

    #[test]
    fn template_parameters_are_counted() {
        let request = read(
            &json!({"messaging_product": "whatsapp", "to": "14155550123",
            "type": "template", "template": {"name": "order_update", "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [
                {"type": "text", "text": "Ana"}, {"type": "text", "text": "#1"}]}]}}),
        );
        let Ok(SendRequest::Message(out)) = request else {
            panic!("{request:?}")
        };
        let call = out.template.unwrap();
        assert_eq!(
            (call.name.as_str(), call.body_params, call.header_params),
            ("order_update", 2, 0)
        );
    }

    #[test]
    fn mark_as_read_is_recognised() {
        let body =
            json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.X"});
        assert_eq!(read(&body), Ok(SendRequest::MarkRead));
        assert_eq!(
            code(json!({"messaging_product": "whatsapp", "status": "read"})),
            131008
        );
    }
}
