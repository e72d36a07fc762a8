//! The Graph API client: sends messages, marks them read, moves media and manages templates over
//! Meta's Cloud API (spec §5, §8, §9).
//!
//! `send` shapes outbound message bodies and `limits` checks them before they leave; `media` and
//! `templates` hold those calls; `error` says what went wrong and whether it may be retried.
//! Tokens are passed per call, go only in the `Authorization: Bearer` header and are never stored,
//! logged or printed. The client neither retries nor rate-limits: the outbox does, from
//! [`GraphError::class`]. This module knows nothing of the database.

mod error;
mod limits;
mod media;
mod send;
mod templates;

use std::time::Duration;

use reqwest::{RequestBuilder, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub use error::{ApiError, ErrorClass, GraphError, LimitError};
pub use limits::*;
pub use media::{
    Downloaded, MAX_ANIMATED_STICKER_BYTES, MAX_AUDIO_BYTES, MAX_DOCUMENT_BYTES,
    MAX_DOWNLOAD_BYTES, MAX_IMAGE_BYTES, MAX_STATIC_STICKER_BYTES, MAX_VIDEO_BYTES, MediaInfo,
    check_media, check_sticker, max_bytes, media_kind_for_mime,
};
pub use send::{Accepted, ListRow, ListSection, MediaSource, OutboundBody, OutboundMessage};
pub use templates::{
    CreatedTemplate, LIST_FIELDS, MAX_TEMPLATE_BODY, MAX_TEMPLATE_FOOTER, MAX_TEMPLATE_HEADER,
    NewTemplate, PAGE_SIZE, TemplateInfo,
};

/// Meta's production Graph API.
pub const META_GRAPH_URL: &str = "https://graph.facebook.com";
/// Connecting gives up after this (or the call's timeout, if shorter), so that a host that does
/// not answer is reported as `NotSent` rather than `Ambiguous`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Uploads and downloads of up to 100 MB get at least this long.
const MEDIA_TIMEOUT_FLOOR: Duration = Duration::from_secs(300);
/// The largest JSON answer read (a page of templates is far less).
const MAX_JSON_BYTES: usize = 16 * 1024 * 1024;

/// A client of one Graph API (Meta's, or the simulator's) at one version. Cheap to clone: clones
/// share one connection pool.
#[derive(Debug, Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    base: Url,
    version: String,
    media_timeout: Duration,
}

impl GraphClient {
    /// A client of `base_url` (e.g. `https://graph.facebook.com` or `http://127.0.0.1:PORT`) at
    /// `api_version` (`v23.0`). Each call gives up after `timeout`; uploads and downloads after
    /// at least 5 minutes (see [`GraphClient::with_media_timeout`]). Installs the TLS provider.
    pub fn new(
        base_url: &str,
        api_version: &str,
        timeout: Duration,
    ) -> Result<GraphClient, GraphError> {
        let base = Url::parse(base_url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .ok_or_else(|| {
                GraphError::Invalid(LimitError::new(
                    "base_url",
                    format!(
                        "the Graph API base URL is an absolute http(s) URL (this one is `{base_url}`)"
                    ),
                ))
            })?;
        let version = api_version.trim();
        if !is_version(version) {
            return Err(GraphError::Invalid(LimitError::new(
                "api_version",
                format!("a Graph API version looks like v23.0 (this one is `{api_version}`)"),
            )));
        }
        crate::install_tls_provider();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(CONNECT_TIMEOUT))
            .user_agent(concat!("treeex/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GraphError::NotSent(error::redact(e)))?;
        Ok(GraphClient {
            http,
            base,
            version: version.to_string(),
            media_timeout: timeout.max(MEDIA_TIMEOUT_FLOOR),
        })
    }

    /// The same client with another timeout for uploads and downloads.
    pub fn with_media_timeout(mut self, timeout: Duration) -> GraphClient {
        self.media_timeout = timeout;
        self
    }

    /// The base URL this client talks to.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// The API version in every path.
    pub fn api_version(&self) -> &str {
        &self.version
    }

    /// Sends one message (checked first with [`OutboundMessage::validate`]). `Accepted` means
    /// Meta took it; status webhooks say whether it arrived.
    pub async fn send_message(
        &self,
        token: &SecretString,
        phone_number_id: &str,
        message: &OutboundMessage,
    ) -> Result<Accepted, GraphError> {
        message.validate().map_err(GraphError::Invalid)?;
        self.post_message(token, phone_number_id, &message.to_json())
            .await
    }

    /// Sends a body made earlier by [`OutboundMessage::to_json`] (and checked then), e.g. one the
    /// outbox stored. Only its shape is checked here: a JSON object with `to` and `type`.
    pub async fn send_body(
        &self,
        token: &SecretString,
        phone_number_id: &str,
        body: &Value,
    ) -> Result<Accepted, GraphError> {
        for key in ["to", "type"] {
            if body
                .get(key)
                .and_then(Value::as_str)
                .is_none_or(|v| v.trim().is_empty())
            {
                return Err(GraphError::Invalid(LimitError::new(
                    key,
                    format!("a message body is a JSON object with a `{key}`"),
                )));
            }
        }
        self.post_message(token, phone_number_id, body).await
    }

    async fn post_message(
        &self,
        token: &SecretString,
        phone_number_id: &str,
        body: &Value,
    ) -> Result<Accepted, GraphError> {
        let url = self.endpoint(&[("phone number id", phone_number_id)], Some("messages"))?;
        let request = self.http.post(url).json(body);
        let answer = self.call(request, token, MAX_JSON_BYTES).await?;
        let body = answer.json()?;
        Accepted::from_json(&body)
            .ok_or_else(|| answer.undecodable("the send answer has no messages[0].id"))
    }

    /// Marks an inbound message (and the earlier ones of its thread) as read.
    pub async fn mark_read(
        &self,
        token: &SecretString,
        phone_number_id: &str,
        wa_message_id: &str,
    ) -> Result<(), GraphError> {
        limits::required(
            "message_id",
            "the id of the message to mark read",
            wa_message_id,
        )
        .map_err(GraphError::Invalid)?;
        let url = self.endpoint(&[("phone number id", phone_number_id)], Some("messages"))?;
        let request = self.http.post(url).json(&read_receipt(wa_message_id));
        let answer = self.call(request, token, MAX_JSON_BYTES).await?;
        expect_success(&answer)
    }

    /// Looks a business number up (`GET /{phone-number-id}`): the cheapest call that proves a
    /// token may act for the number. Reads only.
    pub async fn phone_number(
        &self,
        token: &SecretString,
        phone_number_id: &str,
    ) -> Result<PhoneNumberInfo, GraphError> {
        let url = self.endpoint(&[("phone number id", phone_number_id)], None)?;
        let request = self
            .http
            .get(url)
            .query(&[("fields", "display_phone_number,verified_name")]);
        let answer = self.call(request, token, MAX_JSON_BYTES).await?;
        decode(&answer)
    }

    /// `{base}/{version}/{id…}/{tail}`, each segment percent-encoded. Every id must be non-blank.
    fn endpoint(&self, ids: &[(&str, &str)], tail: Option<&str>) -> Result<Url, GraphError> {
        let mut url = self.base.clone();
        url.set_query(None);
        url.set_fragment(None);
        {
            let mut path = url.path_segments_mut().map_err(|()| {
                GraphError::Invalid(LimitError::new(
                    "base_url",
                    "the base URL cannot take a path",
                ))
            })?;
            path.pop_if_empty().push(&self.version);
            for (what, id) in ids {
                let id = id.trim();
                if id.is_empty() {
                    return Err(GraphError::Invalid(LimitError::new(
                        what.replace(' ', "_"),
                        format!("a {what} cannot be empty"),
                    )));
                }
                path.push(id);
            }
            if let Some(tail) = tail {
                path.push(tail);
            }
        }
        Ok(url)
    }

    /// A `paging.next` URL moved onto this client's base (scheme, host and port), without any
    /// `access_token` in its query: the token goes in the header, and only to the configured host.
    fn rebase(&self, next: &str) -> Option<Url> {
        let next = Url::parse(next.trim()).ok()?;
        let mut url = self.base.clone();
        url.set_path(next.path());
        url.set_fragment(None);
        let pairs: Vec<(String, String)> = next
            .query_pairs()
            .filter(|(key, _)| key != "access_token")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.set_query(None);
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        Some(url)
    }

    /// Sends a request with the token and reads the whole answer (at most `limit` bytes). A
    /// non-2xx answer becomes [`GraphError::Api`].
    async fn call(
        &self,
        request: RequestBuilder,
        token: &SecretString,
        limit: usize,
    ) -> Result<Answer, GraphError> {
        let mut response = request
            .bearer_auth(token.expose_secret())
            .send()
            .await
            .map_err(error::transport)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = Vec::new();
        let mut failure = None;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if body.len() + chunk.len() > limit => {
                    failure = Some(format!("the answer is larger than {limit} bytes"));
                    break;
                }
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => {
                    let e = error::redact(e);
                    failure = Some(format!("the answer broke off: {}", error::describe(&e)));
                    break;
                }
            }
        }
        if !(200..300).contains(&status) {
            return Err(GraphError::from(match failure {
                None => ApiError::from_body(status, &body),
                Some(detail) => ApiError::from_text(status, &detail),
            }));
        }
        match failure {
            None => Ok(Answer {
                status,
                content_type,
                body,
            }),
            Some(detail) => Err(GraphError::Decode { status, detail }),
        }
    }
}

/// What Meta says of a business number (the fields [`GraphClient::phone_number`] asks for).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct PhoneNumberInfo {
    pub display_phone_number: Option<String>,
    pub verified_name: Option<String>,
}

/// The mark-as-read body of spec §5.
fn read_receipt(wa_message_id: &str) -> Value {
    json!({ "messaging_product": "whatsapp", "status": "read", "message_id": wa_message_id })
}

/// `v` then digits, a dot, digits.
fn is_version(version: &str) -> bool {
    version
        .strip_prefix('v')
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(major, minor)| {
            [major, minor]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// A 2xx answer read whole.
struct Answer {
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    /// The body as JSON. An `error` object in a 2xx answer is still Meta's error.
    fn json(&self) -> Result<Value, GraphError> {
        let value: Value = serde_json::from_slice(&self.body)
            .map_err(|e| self.undecodable(format!("the answer is not JSON: {e}")))?;
        match ApiError::from_json(self.status, &value) {
            Some(api) => Err(GraphError::from(api)),
            None => Ok(value),
        }
    }

    fn undecodable(&self, detail: impl Into<String>) -> GraphError {
        GraphError::Decode {
            status: self.status,
            detail: detail.into(),
        }
    }
}

/// Reads a 2xx answer as `T`.
fn decode<T: DeserializeOwned>(answer: &Answer) -> Result<T, GraphError> {
    serde_json::from_value(answer.json()?).map_err(|e| answer.undecodable(e.to_string()))
}

/// Reads `{"success": true}`; an answer that says `false` is refused, one that says nothing is
/// taken as success (the 2xx said so).
fn expect_success(answer: &Answer) -> Result<(), GraphError> {
    if answer.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    match answer.json()?.get("success") {
        Some(Value::Bool(false)) => Err(answer.undecodable("Meta answered success: false")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
