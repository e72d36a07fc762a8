//! What can go wrong on a Graph API call, and what to do about it (spec §5.1, §5.2).
//!
//! [`GraphError`] says where a call stopped: refused by treeex before it left ([`LimitError`]),
//! never left, left without an answer, refused by Meta ([`ApiError`]), or answered with a body
//! treeex could not read. [`ErrorClass`] turns that into a retry decision for the outbox. Nothing
//! here holds a token, and URLs in transport errors lose their query before they are kept.

use std::error::Error as _;
use std::fmt;

use serde_json::Value;

/// A request treeex refuses to send because it breaks one of Meta's limits (or is malformed).
/// `message` is one sentence that names the limit; `field` is where, e.g. `interactive.body.text`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LimitError {
    pub field: String,
    pub message: String,
}

impl LimitError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> LimitError {
        LimitError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Why a Graph API call failed. The variant says whether the request reached Meta, which decides
/// whether it may be sent again: the API takes no idempotency key (spec §5).
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// Refused by treeex before it left: nothing was sent. Fix the request.
    #[error("not sent: {0}")]
    Invalid(LimitError),
    /// The request never left (connection refused, DNS, TLS, connect timeout): safe to retry.
    #[error("could not reach the Graph API; nothing was sent")]
    NotSent(#[source] reqwest::Error),
    /// The request left but no answer came (timeout, connection reset mid-response): Meta may have
    /// carried it out. Never resend it blindly; a resent message can reach the customer twice.
    #[error("the Graph API did not answer, so the request may have been carried out: {0}")]
    Ambiguous(String),
    /// Meta answered with an error body. Boxed: it is the largest variant, and a small
    /// `GraphError` keeps every `Result` that carries one small.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// Meta answered 2xx with a body treeex could not read. For a send this means Meta accepted the
    /// message without treeex learning its id: do not resend it.
    #[error("the Graph API answered HTTP {status} with a body treeex could not read: {detail}")]
    Decode { status: u16, detail: String },
}

impl GraphError {
    /// What the caller should do. `Ambiguous` is [`ErrorClass::RetryLater`] only so that it sorts
    /// with the waiting classes: a sender must check [`GraphError::is_ambiguous`] first and never
    /// resend an ambiguous message without finding out whether it went (e.g. from its status
    /// webhooks).
    pub fn class(&self) -> ErrorClass {
        match self {
            GraphError::Invalid(_) => ErrorClass::FixRequest,
            GraphError::NotSent(_) => ErrorClass::RetryNow,
            GraphError::Ambiguous(_) => ErrorClass::RetryLater,
            GraphError::Api(api) => api.class(),
            GraphError::Decode { .. } => ErrorClass::Permanent,
        }
    }

    /// True when the request may have been carried out although no answer came.
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, GraphError::Ambiguous(_))
    }

    /// Meta's error, when Meta answered with one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            GraphError::Api(api) => Some(api.as_ref()),
            _ => None,
        }
    }
}

impl From<ApiError> for GraphError {
    fn from(api: ApiError) -> GraphError {
        GraphError::Api(Box::new(api))
    }
}

/// What to do after a failure (spec §5.2's retry column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// A passing fault: retry soon with backoff, a limited number of times.
    RetryNow,
    /// A rate limit or maintenance: retry after a longer pause (minutes, the hourly window).
    RetryLater,
    /// The pair rate limit (131056): only this recipient must wait (4^X s backoff); others may go.
    RetryRecipientLater,
    /// The request itself is wrong (a parameter, a template's parameters, a test recipient).
    FixRequest,
    /// The access token is invalid or expired: refresh it before anything else is sent.
    TokenExpired,
    /// The customer service window is closed (131047): only a template can be sent.
    WindowClosed,
    /// Will not succeed by retrying.
    Permanent,
}

/// Meta's error body (spec §5.1): `{"error": {message, type, code, error_subcode?, error_data:
/// {messaging_product, details}, fbtrace_id, is_transient?}}`. A body that is not of that shape
/// (a proxy's HTML page, an empty body) still becomes one: `code` is then the HTTP status and
/// `message` the body's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub http_status: u16,
    pub code: i64,
    pub subcode: Option<i64>,
    /// `message` without its `"(#code) "` prefix.
    pub title: String,
    pub message: String,
    /// `error_data.details`: Meta says to branch on it and `code`, not on titles.
    pub details: Option<String>,
    pub fbtrace_id: Option<String>,
    pub is_transient: Option<bool>,
}

/// How much of a body that is not Meta's JSON is kept as the message.
const MAX_TEXT_CHARS: usize = 500;

impl ApiError {
    /// Reads an error answer: Meta's JSON when it is that, the text otherwise.
    pub fn from_body(http_status: u16, body: &[u8]) -> ApiError {
        match serde_json::from_slice::<Value>(body) {
            Ok(value) => ApiError::from_json(http_status, &value).unwrap_or_else(|| {
                ApiError::from_text(http_status, &String::from_utf8_lossy(body))
            }),
            Err(_) => ApiError::from_text(http_status, &String::from_utf8_lossy(body)),
        }
    }

    /// Meta's error object in `body["error"]`, if there is one.
    pub fn from_json(http_status: u16, body: &Value) -> Option<ApiError> {
        let error = body.get("error").filter(|e| e.is_object())?;
        let message = text(error, "message")
            .or_else(|| text(error, "error_user_msg"))
            .unwrap_or_default();
        let code = integer(error, "code").unwrap_or(i64::from(http_status));
        Some(ApiError {
            http_status,
            code,
            subcode: integer(error, "error_subcode"),
            title: strip_code_prefix(&message).to_string(),
            details: error.get("error_data").and_then(|d| text(d, "details")),
            fbtrace_id: text(error, "fbtrace_id"),
            is_transient: error.get("is_transient").and_then(Value::as_bool),
            message,
        })
    }

    /// An error answer whose body is not Meta's JSON: the code is the HTTP status.
    pub fn from_text(http_status: u16, body: &str) -> ApiError {
        let trimmed = body.trim();
        let message = if trimmed.is_empty() {
            let reason = reqwest::StatusCode::from_u16(http_status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("error");
            format!("HTTP {http_status} {reason}")
        } else if trimmed.chars().count() > MAX_TEXT_CHARS {
            let cut: String = trimmed.chars().take(MAX_TEXT_CHARS).collect();
            format!("{cut}…")
        } else {
            trimmed.to_string()
        };
        ApiError {
            http_status,
            code: i64::from(http_status),
            subcode: None,
            title: message.clone(),
            message,
            details: None,
            fbtrace_id: None,
            is_transient: None,
        }
    }

    /// The class of spec §5.2's table. Codes the table does not name go by the HTTP status: 401
    /// [`ErrorClass::TokenExpired`], 429 [`ErrorClass::RetryLater`], 5xx (or Meta's
    /// `is_transient: true`) [`ErrorClass::RetryNow`], anything else [`ErrorClass::Permanent`].
    pub fn class(&self) -> ErrorClass {
        match self.code {
            0 | 190 => ErrorClass::TokenExpired,
            1 | 2 | 131000 | 131016 => ErrorClass::RetryNow,
            4 | 80007 | 130429 | 131048 | 131057 => ErrorClass::RetryLater,
            131056 => ErrorClass::RetryRecipientLater,
            131047 => ErrorClass::WindowClosed,
            100 | 131008 | 131009 | 131030 | 132000 | 132001 | 132005 | 132007 | 132012 => {
                ErrorClass::FixRequest
            }
            // Named in the table and not retried: permissions, policy blocks, undeliverable,
            // marketing caps and opt-outs, media errors, paused or disabled templates.
            3
            | 10
            | 200..=299
            | 368
            | 130472
            | 131026
            | 131031
            | 131049
            | 131050
            | 131051
            | 131052
            | 131053
            | 132015
            | 132016 => ErrorClass::Permanent,
            _ => match self.http_status {
                401 => ErrorClass::TokenExpired,
                429 => ErrorClass::RetryLater,
                500..=599 => ErrorClass::RetryNow,
                _ if self.is_transient == Some(true) => ErrorClass::RetryNow,
                _ => ErrorClass::Permanent,
            },
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Meta refused the request: {} (error {}, HTTP {})",
            self.title, self.code, self.http_status
        )?;
        match &self.details {
            Some(details) if details != &self.title => write!(f, ": {details}"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for ApiError {}

/// `"(#131030) Recipient phone number not in allowed list"` → `"Recipient phone number not in
/// allowed list"`; a message without the prefix is kept whole.
fn strip_code_prefix(message: &str) -> &str {
    message
        .strip_prefix("(#")
        .and_then(|rest| rest.split_once(')'))
        .filter(|(code, _)| !code.is_empty() && code.bytes().all(|b| b.is_ascii_digit()))
        .map_or(message, |(_, title)| title.trim_start())
}

/// `obj[key]` as text: a string, or a number printed.
fn text(obj: &Value, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `obj[key]` as an integer: a JSON integer or a numeric string.
fn integer(obj: &Value, key: &str) -> Option<i64> {
    match obj.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Sorts a transport failure: one that happened before the request could leave is `NotSent`
/// (connecting covers DNS, TCP and TLS), anything later is `Ambiguous`.
pub(super) fn transport(error: reqwest::Error) -> GraphError {
    let error = redact(error);
    if error.is_builder() || error.is_connect() {
        GraphError::NotSent(error)
    } else {
        GraphError::Ambiguous(describe(&error))
    }
}

/// Drops the query of the URL a reqwest error carries: media URLs carry signed hashes, and a
/// paging URL could carry a token.
pub(super) fn redact(mut error: reqwest::Error) -> reqwest::Error {
    if let Some(url) = error.url_mut() {
        url.set_query(None);
    }
    error
}

/// An error and its causes on one line.
pub(super) fn describe(error: &reqwest::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !line.contains(&cause_text) {
            line.push_str(": ");
            line.push_str(&cause_text);
        }
        source = cause.source();
    }
    line
}

#[cfg(test)]
mod tests;
