//! Interactive messages (spec §5): reply buttons (1 to 3, titles ≤ 20 and unique, ids ≤ 256,
//! body ≤ 1024) and lists (button ≤ 20, ≤ 10 sections, ≤ 10 rows in all, row title ≤ 24,
//! description ≤ 72, id ≤ 200, body ≤ 4096, a text header ≤ 60); footers ≤ 60. Other
//! interactive types only need an `action`.

use std::collections::HashSet;

use serde_json::Value;

use super::error::GraphFailure;
use super::validate::{Checked, bounded, field, missing};

/// Checks an `interactive` object by its `type`.
pub(super) fn check(object: &Value) -> Checked {
    let kind = field(object, "interactive", "type", true)?.unwrap_or_default();
    let body = object.get("body");
    let footer = object.get("footer");
    if let Some(footer) = footer {
        bounded(footer, "interactive['footer']", "text", 60)?;
    }
    match kind {
        "button" => {
            let body = body.ok_or_else(|| missing("interactive['body']"))?;
            field(body, "interactive['body']", "text", true)?;
            bounded(body, "interactive['body']", "text", 1024)?;
            if let Some(header) = object.get("header") {
                bounded(header, "interactive['header']", "text", 60)?;
            }
            reply_buttons(object)
        }
        "list" => {
            let body = body.ok_or_else(|| missing("interactive['body']"))?;
            field(body, "interactive['body']", "text", true)?;
            bounded(body, "interactive['body']", "text", 4096)?;
            if let Some(header) = object.get("header") {
                if header.get("type").and_then(Value::as_str) != Some("text") {
                    return Err(GraphFailure::invalid_value(
                        "Param interactive['header']['type'] must be text for a list.",
                    ));
                }
                bounded(header, "interactive['header']", "text", 60)?;
            }
            list_sections(object)
        }
        "cta_url"
        | "flow"
        | "product"
        | "product_list"
        | "catalog_message"
        | "location_request_message"
        | "call_permission_request" => object
            .get("action")
            .map(|_| ())
            .ok_or_else(|| missing("interactive['action']")),
        other => Err(GraphFailure::invalid_value(format!(
            "Param interactive['type'] is not a known type: \"{other}\"."
        ))),
    }
}

fn reply_buttons(object: &Value) -> Checked {
    let buttons = object
        .get("action")
        .and_then(|a| a.get("buttons"))
        .ok_or_else(|| missing("interactive['action']['buttons']"))?;
    let buttons = buttons.as_array().map(Vec::as_slice).unwrap_or_default();
    if buttons.is_empty() || buttons.len() > 3 {
        return Err(GraphFailure::invalid_value(
            "Param interactive['action']['buttons'] must have 1 to 3 buttons.",
        ));
    }
    let mut titles = HashSet::new();
    for button in buttons {
        let reply = button
            .get("reply")
            .ok_or_else(|| missing("interactive['action']['buttons'][]['reply']"))?;
        let path = "interactive['action']['buttons'][]['reply']";
        field(reply, path, "id", true)?;
        bounded(reply, path, "id", 256)?;
        let title = field(reply, path, "title", true)?.unwrap_or_default();
        bounded(reply, path, "title", 20)?;
        if !titles.insert(title) {
            return Err(GraphFailure::invalid_value("Button titles must be unique."));
        }
    }
    Ok(())
}

fn list_sections(object: &Value) -> Checked {
    let action = object
        .get("action")
        .ok_or_else(|| missing("interactive['action']"))?;
    field(action, "interactive['action']", "button", true)?;
    bounded(action, "interactive['action']", "button", 20)?;
    let sections = action
        .get("sections")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if sections.is_empty() || sections.len() > 10 {
        return Err(GraphFailure::invalid_value(
            "Param interactive['action']['sections'] must have 1 to 10 sections.",
        ));
    }
    let mut rows = 0;
    for section in sections {
        let path = "interactive['action']['sections'][]";
        if sections.len() > 1 {
            field(section, path, "title", true)?;
        }
        bounded(section, path, "title", 24)?;
        for row in section
            .get("rows")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let path = "interactive['action']['sections'][]['rows'][]";
            field(row, path, "id", true)?;
            bounded(row, path, "id", 200)?;
            field(row, path, "title", true)?;
            bounded(row, path, "title", 24)?;
            bounded(row, path, "description", 72)?;
            rows += 1;
        }
    }
    if rows == 0 || rows > 10 {
        return Err(GraphFailure::invalid_value(
            "A list must have 1 to 10 rows in all.",
        ));
    }
    Ok(())
}
