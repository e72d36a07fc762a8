//! Meta's limits on outbound messages (spec §5), checked before a message leaves so that a bad
//! one fails at once with a sentence naming the limit, instead of as an error code from Meta.
//!
//! Lengths are counted in characters (Unicode scalar values). A required text that is blank counts
//! as missing.

use std::collections::HashSet;

use super::error::LimitError;
use super::send::{ListSection, MediaSource, OutboundBody, OutboundMessage, present};
use crate::cloud_api::webhook::MediaKind;

pub const MAX_TEXT_BODY: usize = 4096;
pub const MAX_CAPTION: usize = 1024;
pub const MAX_BUTTONS: usize = 3;
pub const MAX_BUTTON_TITLE: usize = 20;
pub const MAX_BUTTON_ID: usize = 256;
pub const MAX_BUTTONS_BODY: usize = 1024;
pub const MAX_LIST_BODY: usize = 4096;
pub const MAX_HEADER: usize = 60;
pub const MAX_FOOTER: usize = 60;
pub const MAX_LIST_BUTTON: usize = 20;
pub const MAX_SECTIONS: usize = 10;
pub const MAX_ROWS: usize = 10;
pub const MAX_SECTION_TITLE: usize = 24;
pub const MAX_ROW_TITLE: usize = 24;
pub const MAX_ROW_DESCRIPTION: usize = 72;
pub const MAX_ROW_ID: usize = 200;
/// Meta documents `biz_opaque_callback_data` as at most 512 characters (not in spec §5).
pub const MAX_CALLBACK_DATA: usize = 512;
/// A template name (spec §8).
pub const MAX_TEMPLATE_NAME: usize = 512;

impl OutboundMessage {
    /// Checks the message against Meta's limits; the error names the first limit it breaks.
    pub fn validate(&self) -> Result<(), LimitError> {
        check_recipient(&self.to)?;
        if let Some(reply_to) = &self.reply_to {
            required("context.message_id", "a quoted message id", reply_to)?;
            if matches!(self.body, OutboundBody::Reaction { .. }) {
                return Err(LimitError::new(
                    "context",
                    "a reaction cannot quote a message (context cannot be combined with a reaction)",
                ));
            }
        }
        if let Some(data) = present(&self.callback_data) {
            at_most(
                "biz_opaque_callback_data",
                "callback data (biz_opaque_callback_data)",
                MAX_CALLBACK_DATA,
                data,
            )?;
        }
        match &self.body {
            OutboundBody::Text { body, .. } => {
                text_body("text.body", "a text body", MAX_TEXT_BODY, body)
            }
            OutboundBody::Media {
                kind,
                source,
                caption,
                filename,
            } => check_media_message(*kind, source, caption, filename),
            OutboundBody::Template {
                name,
                language,
                components,
            } => {
                text_body("template.name", "a template name", MAX_TEMPLATE_NAME, name)?;
                required("template.language.code", "a template language", language)?;
                for (i, component) in components.iter().enumerate() {
                    if !component.get("type").is_some_and(|t| t.is_string()) {
                        return Err(LimitError::new(
                            format!("template.components[{i}]"),
                            format!(
                                "a template component is an object with a `type` (component {} is not)",
                                i + 1
                            ),
                        ));
                    }
                }
                Ok(())
            }
            OutboundBody::Buttons {
                header,
                body,
                footer,
                buttons,
            } => check_buttons(header, body, footer, buttons),
            OutboundBody::List {
                header,
                body,
                footer,
                button,
                sections,
            } => check_list(header, body, footer, button, sections),
            OutboundBody::Reaction { message_id, .. } => required(
                "reaction.message_id",
                "the message a reaction is for",
                message_id,
            ),
            OutboundBody::Location {
                latitude,
                longitude,
                ..
            } => {
                if !(latitude.is_finite() && (-90.0..=90.0).contains(latitude)) {
                    return Err(LimitError::new(
                        "location.latitude",
                        format!("a latitude is between -90 and 90 (this one is {latitude})"),
                    ));
                }
                if !(longitude.is_finite() && (-180.0..=180.0).contains(longitude)) {
                    return Err(LimitError::new(
                        "location.longitude",
                        format!("a longitude is between -180 and 180 (this one is {longitude})"),
                    ));
                }
                Ok(())
            }
        }
    }
}

/// `to`: 7 to 15 digits (E.164 without formatting), with or without a leading `+`.
fn check_recipient(to: &str) -> Result<(), LimitError> {
    let digits = to.strip_prefix('+').unwrap_or(to);
    if (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(LimitError::new(
            "to",
            format!(
                "a recipient (`to`) is 7 to 15 digits with an optional leading + (this one is `{to}`)"
            ),
        ))
    }
}

fn check_media_message(
    kind: MediaKind,
    source: &MediaSource,
    caption: &Option<String>,
    filename: &Option<String>,
) -> Result<(), LimitError> {
    let field = kind.as_str();
    match source {
        MediaSource::Id(id) => required(&format!("{field}.id"), "a media id", id)?,
        MediaSource::Link(link) => {
            let link = link.trim();
            if !(link.starts_with("https://") || link.starts_with("http://")) {
                return Err(LimitError::new(
                    format!("{field}.link"),
                    format!("a media link is an http(s) URL (this one is `{link}`)"),
                ));
            }
        }
    }
    if let Some(caption) = present(caption) {
        match kind {
            MediaKind::Audio | MediaKind::Sticker => {
                return Err(LimitError::new(
                    format!("{field}.caption"),
                    format!(
                        "{} takes no caption (only image, video and document do)",
                        a_kind(kind)
                    ),
                ));
            }
            _ => at_most(
                &format!("{field}.caption"),
                "a caption",
                MAX_CAPTION,
                caption,
            )?,
        }
    }
    if present(filename).is_some() && kind != MediaKind::Document {
        return Err(LimitError::new(
            format!("{field}.filename"),
            format!(
                "only a document takes a filename (this is {})",
                a_kind(kind)
            ),
        ));
    }
    Ok(())
}

/// "an audio message", "a sticker", … for messages.
fn a_kind(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "an image",
        MediaKind::Audio => "an audio message",
        MediaKind::Video => "a video",
        MediaKind::Document => "a document",
        MediaKind::Sticker => "a sticker",
    }
}

fn check_buttons(
    header: &Option<String>,
    body: &str,
    footer: &Option<String>,
    buttons: &[(String, String)],
) -> Result<(), LimitError> {
    check_frame(header, footer)?;
    text_body(
        "interactive.body.text",
        "the body of a buttons message",
        MAX_BUTTONS_BODY,
        body,
    )?;
    if buttons.is_empty() {
        return Err(LimitError::new(
            "interactive.action.buttons",
            "a buttons message needs at least 1 button",
        ));
    }
    count_at_most(
        "interactive.action.buttons",
        "reply buttons",
        MAX_BUTTONS,
        buttons.len(),
        "this message has",
    )?;
    let mut ids = HashSet::new();
    let mut titles = HashSet::new();
    for (i, (id, title)) in buttons.iter().enumerate() {
        let field = format!("interactive.action.buttons[{i}].reply");
        text_body(&format!("{field}.id"), "a button id", MAX_BUTTON_ID, id)?;
        text_body(
            &format!("{field}.title"),
            "a button title",
            MAX_BUTTON_TITLE,
            title,
        )?;
        unique(&mut ids, &format!("{field}.id"), "button ids", id)?;
        unique(
            &mut titles,
            &format!("{field}.title"),
            "button titles",
            title,
        )?;
    }
    Ok(())
}

fn check_list(
    header: &Option<String>,
    body: &str,
    footer: &Option<String>,
    button: &str,
    sections: &[ListSection],
) -> Result<(), LimitError> {
    check_frame(header, footer)?;
    text_body(
        "interactive.body.text",
        "the body of a list message",
        MAX_LIST_BODY,
        body,
    )?;
    text_body(
        "interactive.action.button",
        "the button of a list message",
        MAX_LIST_BUTTON,
        button,
    )?;
    if sections.is_empty() {
        return Err(LimitError::new(
            "interactive.action.sections",
            "a list message needs at least 1 section",
        ));
    }
    count_at_most(
        "interactive.action.sections",
        "list sections",
        MAX_SECTIONS,
        sections.len(),
        "this list has",
    )?;
    let rows: usize = sections.iter().map(|s| s.rows.len()).sum();
    count_at_most(
        "interactive.action.sections",
        "list rows, counted over all sections,",
        MAX_ROWS,
        rows,
        "this list has",
    )?;
    let mut ids = HashSet::new();
    for (s, section) in sections.iter().enumerate() {
        let field = format!("interactive.action.sections[{s}]");
        match present(&section.title) {
            Some(title) => at_most(
                &format!("{field}.title"),
                "a section title",
                MAX_SECTION_TITLE,
                title,
            )?,
            None if sections.len() > 1 => {
                return Err(LimitError::new(
                    format!("{field}.title"),
                    format!(
                        "every section of a list with more than one section needs a title (section {} has none)",
                        s + 1
                    ),
                ));
            }
            None => {}
        }
        if section.rows.is_empty() {
            return Err(LimitError::new(
                format!("{field}.rows"),
                format!(
                    "every list section needs at least 1 row (section {} has none)",
                    s + 1
                ),
            ));
        }
        for (r, row) in section.rows.iter().enumerate() {
            let field = format!("{field}.rows[{r}]");
            text_body(&format!("{field}.id"), "a row id", MAX_ROW_ID, &row.id)?;
            text_body(
                &format!("{field}.title"),
                "a row title",
                MAX_ROW_TITLE,
                &row.title,
            )?;
            if let Some(description) = present(&row.description) {
                at_most(
                    &format!("{field}.description"),
                    "a row description",
                    MAX_ROW_DESCRIPTION,
                    description,
                )?;
            }
            unique(&mut ids, &format!("{field}.id"), "row ids", &row.id)?;
        }
    }
    Ok(())
}

/// The text header and the footer of an interactive message.
fn check_frame(header: &Option<String>, footer: &Option<String>) -> Result<(), LimitError> {
    if let Some(header) = present(header) {
        at_most(
            "interactive.header.text",
            "an interactive header",
            MAX_HEADER,
            header,
        )?;
    }
    if let Some(footer) = present(footer) {
        at_most(
            "interactive.footer.text",
            "an interactive footer",
            MAX_FOOTER,
            footer,
        )?;
    }
    Ok(())
}

/// A required text of at most `max` characters.
fn text_body(field: &str, what: &str, max: usize, text: &str) -> Result<(), LimitError> {
    required(field, what, text)?;
    at_most(field, what, max, text)
}

pub(super) fn required(field: &str, what: &str, text: &str) -> Result<(), LimitError> {
    if text.trim().is_empty() {
        Err(LimitError::new(field, format!("{what} cannot be empty")))
    } else {
        Ok(())
    }
}

pub(super) fn at_most(field: &str, what: &str, max: usize, text: &str) -> Result<(), LimitError> {
    let length = text.chars().count();
    if length > max {
        Err(LimitError::new(
            field,
            format!("{what} is at most {max} characters (this one has {length})"),
        ))
    } else {
        Ok(())
    }
}

fn count_at_most(
    field: &str,
    what: &str,
    max: usize,
    count: usize,
    this: &str,
) -> Result<(), LimitError> {
    if count > max {
        Err(LimitError::new(
            field,
            format!("{what} are at most {max} ({this} {count})"),
        ))
    } else {
        Ok(())
    }
}

fn unique<'a>(
    seen: &mut HashSet<&'a str>,
    field: &str,
    what: &str,
    value: &'a str,
) -> Result<(), LimitError> {
    if seen.insert(value) {
        Ok(())
    } else {
        Err(LimitError::new(
            field,
            format!("{what} must be unique (`{value}` appears twice)"),
        ))
    }
}

#[cfg(test)]
mod tests;
