//! Template events (spec §8): Meta's review verdicts (`message_template_status_update`) and
//! re-categorisations (`template_category_update`). `message_template_id` arrives as a JSON
//! integer here but as a string from the Graph API, so both read as a string.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ParseError;
use super::lenient::non_empty;

/// A template review event: `event` is `APPROVED`, `REJECTED`, `PAUSED`, `DISABLED`... (kept as
/// sent; an unknown one is still an event). `reason` is `"NONE"` when approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateStatusUpdate {
    pub event: String,
    pub template_id: String,
    pub name: Option<String>,
    pub language: Option<String>,
    pub reason: Option<String>,
    pub category: Option<String>,
}

impl TemplateStatusUpdate {
    pub fn from_json(value: &Value) -> Result<TemplateStatusUpdate, ParseError> {
        const WHAT: &str = "a template status update";
        if !value.is_object() {
            return Err(ParseError::NotAnObject { what: WHAT });
        }
        Ok(TemplateStatusUpdate {
            event: non_empty(value, "event").ok_or(ParseError::Missing {
                what: WHAT,
                field: "event",
            })?,
            template_id: non_empty(value, "message_template_id").ok_or(ParseError::Missing {
                what: WHAT,
                field: "message_template_id",
            })?,
            name: non_empty(value, "message_template_name"),
            language: non_empty(value, "message_template_language"),
            reason: non_empty(value, "reason"),
            category: non_empty(value, "message_template_category"),
        })
    }
}

/// Meta moved a template to another category (or says it will).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateCategoryUpdate {
    pub template_id: String,
    pub name: Option<String>,
    pub language: Option<String>,
    pub new_category: Option<String>,
    pub previous_category: Option<String>,
}

impl TemplateCategoryUpdate {
    pub fn from_json(value: &Value) -> Result<TemplateCategoryUpdate, ParseError> {
        const WHAT: &str = "a template category update";
        if !value.is_object() {
            return Err(ParseError::NotAnObject { what: WHAT });
        }
        Ok(TemplateCategoryUpdate {
            template_id: non_empty(value, "message_template_id").ok_or(ParseError::Missing {
                what: WHAT,
                field: "message_template_id",
            })?,
            name: non_empty(value, "message_template_name"),
            language: non_empty(value, "message_template_language"),
            new_category: non_empty(value, "new_category"),
            previous_category: non_empty(value, "previous_category"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_rejection_with_an_integer_id_reads() {
        let value = json!({ "event": "REJECTED", "message_template_id": 1689556908129835_i64,
            "message_template_name": "abandoned_cart", "message_template_language": "en",
            "reason": "INVALID_FORMAT", "message_template_category": "MARKETING",
            "rejection_info": { "reason": "Parameters are adjacent.", "recommendation": "Add text." } });
        let update = TemplateStatusUpdate::from_json(&value).unwrap();
        assert_eq!(
            update,
            TemplateStatusUpdate {
                event: "REJECTED".into(),
                template_id: "1689556908129835".into(),
                name: Some("abandoned_cart".into()),
                language: Some("en".into()),
                reason: Some("INVALID_FORMAT".into()),
                category: Some("MARKETING".into()),
            }
        );
    }

    #[test]
    fn a_string_id_and_missing_extras_read() {
        let value = json!({ "event": "APPROVED", "message_template_id": "42" });
        let update = TemplateStatusUpdate::from_json(&value).unwrap();
        assert_eq!(update.template_id, "42");
        assert_eq!(update.reason, None);
    }

    #[test]
    fn a_status_update_without_event_or_id_is_an_error() {
        let err =
            TemplateStatusUpdate::from_json(&json!({ "message_template_id": 1 })).unwrap_err();
        assert_eq!(err.to_string(), "a template status update has no `event`");
        let err = TemplateStatusUpdate::from_json(&json!({ "event": "APPROVED" })).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a template status update has no `message_template_id`"
        );
    }

    #[test]
    fn a_category_update_reads() {
        let value = json!({ "message_template_id": 12345678, "message_template_name": "promo",
            "message_template_language": "he", "previous_category": "UTILITY", "new_category": "MARKETING" });
        let update = TemplateCategoryUpdate::from_json(&value).unwrap();
        assert_eq!(update.template_id, "12345678");
        assert_eq!(update.new_category.as_deref(), Some("MARKETING"));
        assert_eq!(update.previous_category.as_deref(), Some("UTILITY"));
        assert!(TemplateCategoryUpdate::from_json(&json!({})).is_err());
    }
}
