//! Graph API errors as Meta answers them (spec §5.1): `{"error":{"message":"(#code) title",
//! "type":"OAuthException","code",...,"error_data":{...},"fbtrace_id"}}` with the HTTP status of
//! Meta's table (§5.2), and the error objects that `failed` statuses carry in webhooks.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::ids;

pub(crate) const INVALID_PARAMETER: i64 = 100;
pub(crate) const ACCESS_TOKEN: i64 = 190;
pub(crate) const THROUGHPUT: i64 = 130429;
pub(crate) const MISSING_PARAMETER: i64 = 131008;
pub(crate) const INVALID_VALUE: i64 = 131009;
pub(crate) const NOT_ALLOWED: i64 = 131030;
pub(crate) const RE_ENGAGEMENT: i64 = 131047;
pub(crate) const MEDIA_UPLOAD: i64 = 131053;
pub(crate) const PAIR_LIMIT: i64 = 131056;
pub(crate) const TEMPLATE_PARAMS: i64 = 132000;
pub(crate) const TEMPLATE_MISSING: i64 = 132001;

const HREF: &str = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/";

/// Meta's title for a code (PYWA `errors.py`).
pub(crate) fn title(code: i64) -> &'static str {
    match code {
        INVALID_PARAMETER => "Invalid parameter",
        ACCESS_TOKEN => "Access token has expired",
        THROUGHPUT => "Rate limit hit",
        MISSING_PARAMETER => "Required parameter is missing",
        INVALID_VALUE => "Parameter value is not valid",
        NOT_ALLOWED => "Recipient phone number not in allowed list",
        RE_ENGAGEMENT => "Re-engagement message",
        MEDIA_UPLOAD => "Media upload error",
        PAIR_LIMIT => "(Business Account, Consumer Account) pair rate limit hit",
        TEMPLATE_PARAMS => "Number of parameters does not match the expected number of params",
        TEMPLATE_MISSING => "Template name does not exist in the translation",
        _ => "Something went wrong",
    }
}

/// The details Meta gives for the codes that carry no request-specific detail.
fn standard_details(code: i64) -> &'static str {
    match code {
        THROUGHPUT => {
            "Message failed to send because there were too many messages sent from this phone number in a short period of time"
        }
        PAIR_LIMIT => {
            "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time"
        }
        NOT_ALLOWED => {
            "Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again."
        }
        RE_ENGAGEMENT => {
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
        }
        _ => "",
    }
}

/// One Graph error answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GraphFailure {
    pub code: i64,
    pub status: StatusCode,
    pub message: String,
    pub subcode: Option<i64>,
    pub details: Option<String>,
}

impl GraphFailure {
    fn new(code: i64, status: StatusCode, details: impl Into<String>) -> GraphFailure {
        let details = details.into();
        GraphFailure {
            code,
            status,
            message: format!("(#{code}) {}", title(code)),
            subcode: None,
            details: (!details.is_empty()).then_some(details),
        }
    }

    /// 100: an unknown field, a malformed body, an unsupported path.
    pub fn invalid_parameter(details: impl Into<String>) -> GraphFailure {
        GraphFailure::new(INVALID_PARAMETER, StatusCode::BAD_REQUEST, details)
    }

    /// 100/33: an object id that does not exist (Graph's classic answer).
    pub fn unknown_object(id: &str) -> GraphFailure {
        GraphFailure {
            message: format!(
                "Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."
            ),
            subcode: Some(33),
            ..GraphFailure::new(INVALID_PARAMETER, StatusCode::BAD_REQUEST, "")
        }
    }

    /// 131008.
    pub fn missing_parameter(details: impl Into<String>) -> GraphFailure {
        GraphFailure::new(MISSING_PARAMETER, StatusCode::BAD_REQUEST, details)
    }

    /// 131009.
    pub fn invalid_value(details: impl Into<String>) -> GraphFailure {
        GraphFailure::new(INVALID_VALUE, StatusCode::BAD_REQUEST, details)
    }

    /// 190 for a request without a token.
    pub fn missing_token() -> GraphFailure {
        GraphFailure {
            message:
                "An active access token must be used to query information about the current user."
                    .into(),
            ..GraphFailure::new(ACCESS_TOKEN, StatusCode::UNAUTHORIZED, "")
        }
    }

    /// 190/463 for a token the simulator treats as expired (it starts with `invalid`).
    pub fn invalid_token() -> GraphFailure {
        GraphFailure {
            message: "Error validating access token: Session has expired on Tuesday, 01-Jul-25 10:00:00 PDT. The current time is later.".into(),
            subcode: Some(463),
            ..GraphFailure::new(ACCESS_TOKEN, StatusCode::UNAUTHORIZED, "")
        }
    }

    /// 130429: the number's throughput.
    pub fn throughput() -> GraphFailure {
        GraphFailure::new(
            THROUGHPUT,
            StatusCode::TOO_MANY_REQUESTS,
            standard_details(THROUGHPUT),
        )
    }

    /// 131056: the pair rate limit.
    pub fn pair_limit() -> GraphFailure {
        GraphFailure::new(
            PAIR_LIMIT,
            StatusCode::TOO_MANY_REQUESTS,
            standard_details(PAIR_LIMIT),
        )
    }

    /// 131047, answered synchronously.
    pub fn re_engagement() -> GraphFailure {
        GraphFailure::new(
            RE_ENGAGEMENT,
            StatusCode::BAD_REQUEST,
            standard_details(RE_ENGAGEMENT),
        )
    }

    /// 131030: the recipient is not on the number's allowed list.
    pub fn not_allowed() -> GraphFailure {
        GraphFailure::new(
            NOT_ALLOWED,
            StatusCode::BAD_REQUEST,
            standard_details(NOT_ALLOWED),
        )
    }

    /// 132001.
    pub fn template_missing(details: impl Into<String>) -> GraphFailure {
        GraphFailure::new(TEMPLATE_MISSING, StatusCode::NOT_FOUND, details)
    }

    /// 132000.
    pub fn template_params(details: impl Into<String>) -> GraphFailure {
        GraphFailure::new(TEMPLATE_PARAMS, StatusCode::BAD_REQUEST, details)
    }

    /// 131053.
    pub fn media(details: impl Into<String>) -> GraphFailure {
        GraphFailure::new(MEDIA_UPLOAD, StatusCode::BAD_REQUEST, details)
    }

    pub fn with_subcode(mut self, subcode: i64) -> GraphFailure {
        self.subcode = Some(subcode);
        self
    }

    /// The JSON body of the answer.
    pub fn body(&self) -> Value {
        let mut error = Map::new();
        error.insert("message".into(), json!(self.message));
        error.insert("type".into(), json!("OAuthException"));
        error.insert("code".into(), json!(self.code));
        if let Some(subcode) = self.subcode {
            error.insert("error_subcode".into(), json!(subcode));
        }
        if let Some(details) = &self.details {
            error.insert(
                "error_data".into(),
                json!({ "messaging_product": "whatsapp", "details": details }),
            );
        }
        error.insert("fbtrace_id".into(), json!(ids::fbtrace_id()));
        json!({ "error": error })
    }
}

impl IntoResponse for GraphFailure {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if self.code == ACCESS_TOKEN {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("OAuth \"Facebook Platform\" \"invalid_token\""),
            );
        }
        response
    }
}

/// The error object of a `failed` status or `value.errors` in a webhook (spec §2.5).
pub(crate) fn webhook_error(code: i64) -> Value {
    json!({
        "code": code,
        "title": title(code),
        "message": title(code),
        "error_data": { "details": standard_details(code) },
        "href": HREF,
    })
}
