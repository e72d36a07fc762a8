//! Statuses: what happened to a message we sent (`value.statuses[]`, spec §2.5). Read one item at
//! a time; an unknown status word is kept as [`DeliveryStatus::Other`], and ordering them (sent <
//! delivered < read) is the domain's job, not this layer's.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lenient::non_empty;
use super::{GraphError, ParseError, required_text, required_timestamp};

/// One `statuses[]` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusUpdate {
    /// The wamid of the message we sent.
    pub id: String,
    pub status: DeliveryStatus,
    pub timestamp: DateTime<Utc>,
    /// The customer's number, or a group id for group messages.
    pub recipient_id: Option<String>,
    pub errors: Vec<GraphError>,
    /// `conversation.id` (absent from v24 webhooks unless a free entry point window is open).
    pub conversation_id: Option<String>,
    /// `pricing.category`: `service`, `marketing`, `utility`, `authentication`...
    pub pricing_category: Option<String>,
    /// Echoed from the send call.
    pub biz_opaque_callback_data: Option<String>,
    /// The whole item, verbatim.
    pub raw: Value,
}

/// Where a sent message is. `Other` keeps any word Meta adds later. Serialises as Meta's word.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    /// A voice message we sent was played for the first time.
    Played,
    Failed,
    Other(String),
}

impl DeliveryStatus {
    /// Reads Meta's word, case-insensitively.
    pub fn parse(word: &str) -> DeliveryStatus {
        match word.trim().to_ascii_lowercase().as_str() {
            "sent" => DeliveryStatus::Sent,
            "delivered" => DeliveryStatus::Delivered,
            "read" => DeliveryStatus::Read,
            "played" => DeliveryStatus::Played,
            "failed" => DeliveryStatus::Failed,
            _ => DeliveryStatus::Other(word.to_string()),
        }
    }

    /// Meta's word for it.
    pub fn as_str(&self) -> &str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Read => "read",
            DeliveryStatus::Played => "played",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Other(word) => word,
        }
    }
}

impl From<String> for DeliveryStatus {
    fn from(word: String) -> Self {
        DeliveryStatus::parse(&word)
    }
}

impl From<DeliveryStatus> for String {
    fn from(status: DeliveryStatus) -> Self {
        status.as_str().to_string()
    }
}

impl std::fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads one `statuses[]` item. Errs only when it lacks what identifies it: `id`, `status` or a
/// usable `timestamp`.
pub fn parse_status(raw: &Value) -> Result<StatusUpdate, ParseError> {
    const WHAT: &str = "a status";
    if !raw.is_object() {
        return Err(ParseError::NotAnObject { what: WHAT });
    }
    let id = required_text(raw, WHAT, "id")?;
    let status = DeliveryStatus::parse(&required_text(raw, WHAT, "status")?);
    let timestamp = required_timestamp(raw, WHAT)?;
    Ok(StatusUpdate {
        id,
        status,
        timestamp,
        recipient_id: non_empty(raw, "recipient_id"),
        errors: GraphError::list(raw, "errors"),
        conversation_id: raw.get("conversation").and_then(|c| non_empty(c, "id")),
        pricing_category: raw.get("pricing").and_then(|p| non_empty(p, "category")),
        biz_opaque_callback_data: non_empty(raw, "biz_opaque_callback_data"),
        raw: raw.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    #[test]
    fn sent_in_the_old_cbp_style_reads_conversation_and_pricing() {
        let raw = json!({ "id": "wamid.OUT1", "status": "sent", "timestamp": "1750091000", "recipient_id": "14155550123",
            "conversation": { "id": "0f007f9a9b0874573fb36e961ef0e8bc", "expiration_timestamp": "1750177440",
                              "origin": { "type": "service" } },
            "pricing": { "billable": true, "pricing_model": "CBP", "category": "service" } });
        let status = parse_status(&raw).unwrap();
        assert_eq!(
            status,
            StatusUpdate {
                id: "wamid.OUT1".into(),
                status: DeliveryStatus::Sent,
                timestamp: at(1750091000),
                recipient_id: Some("14155550123".into()),
                errors: vec![],
                conversation_id: Some("0f007f9a9b0874573fb36e961ef0e8bc".into()),
                pricing_category: Some("service".into()),
                biz_opaque_callback_data: None,
                raw: raw.clone(),
            }
        );
    }

    #[test]
    fn delivered_in_v24_has_pricing_and_no_conversation() {
        let raw = json!({ "id": "wamid.OUT5", "status": "delivered", "timestamp": "1760659300", "recipient_id": "14155550123",
            "pricing": { "billable": true, "pricing_model": "PMP", "type": "regular", "category": "marketing" } });
        let status = parse_status(&raw).unwrap();
        assert_eq!(status.status, DeliveryStatus::Delivered);
        assert_eq!(status.conversation_id, None);
        assert_eq!(status.pricing_category.as_deref(), Some("marketing"));
    }

    #[test]
    fn read_and_played_read_with_nothing_else() {
        for (word, expected) in [
            ("read", DeliveryStatus::Read),
            ("played", DeliveryStatus::Played),
        ] {
            let raw = json!({ "id": "wamid.OUT5", "status": word, "timestamp": 1760659400, "recipient_id": "14155550123" });
            let status = parse_status(&raw).unwrap();
            assert_eq!(status.status, expected);
            assert_eq!(status.status.as_str(), word);
            assert_eq!(status.timestamp, at(1760659400));
        }
    }

    #[test]
    fn failed_carries_its_errors() {
        let raw = json!({ "id": "wamid.OUT6", "status": "failed", "timestamp": "1760659500", "recipient_id": "14155550123",
            "errors": [ { "code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
                          "error_data": { "details": "More than 24 hours have passed." },
                          "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/" } ] });
        let status = parse_status(&raw).unwrap();
        assert_eq!(status.status, DeliveryStatus::Failed);
        assert_eq!(
            status.errors,
            vec![GraphError {
                code: 131047,
                title: Some("Re-engagement message".into()),
                message: Some("Re-engagement message".into()),
                details: Some("More than 24 hours have passed.".into()),
            }]
        );
        assert_eq!(
            status.errors[0].summary(),
            "131047 Re-engagement message: More than 24 hours have passed."
        );
    }

    #[test]
    fn callback_data_groups_and_unknown_words_are_kept() {
        let raw = json!({ "id": "wamid.OUT7", "status": "sent", "timestamp": "1698266945", "recipient_id": "14155550123",
            "biz_opaque_callback_data": "campaign-7" });
        assert_eq!(
            parse_status(&raw)
                .unwrap()
                .biz_opaque_callback_data
                .as_deref(),
            Some("campaign-7")
        );

        let raw = json!({ "id": "wamid.OUT8", "status": "read", "timestamp": "1698266945", "recipient_id": "120363000000000000",
            "recipient_type": "group", "recipient_participant_id": "14155550123" });
        let status = parse_status(&raw).unwrap();
        assert_eq!(status.recipient_id.as_deref(), Some("120363000000000000"));
        assert_eq!(status.raw["recipient_participant_id"], "14155550123");

        let raw = json!({ "id": "wamid.OUT9", "status": "deleted", "timestamp": "1698266945" });
        let status = parse_status(&raw).unwrap();
        assert_eq!(status.status, DeliveryStatus::Other("deleted".into()));
        assert_eq!(status.status.as_str(), "deleted");
        assert_eq!(DeliveryStatus::parse("READ"), DeliveryStatus::Read);
    }

    #[test]
    fn a_status_without_id_status_or_timestamp_is_an_error() {
        let cases = [
            (
                json!({ "status": "sent", "timestamp": "1" }),
                "a status has no `id`",
            ),
            (
                json!({ "id": "wamid.X", "timestamp": "1" }),
                "a status has no `status`",
            ),
            (
                json!({ "id": "wamid.X", "status": "sent" }),
                "a status has no `timestamp`",
            ),
            (
                json!({ "id": "wamid.X", "status": "sent", "timestamp": "soon" }),
                "a status has a `timestamp` that is not unix seconds: \"soon\"",
            ),
            (json!("wamid.X"), "a status is not a JSON object"),
        ];
        for (raw, message) in cases {
            assert_eq!(parse_status(&raw).unwrap_err().to_string(), message);
        }
    }
}
