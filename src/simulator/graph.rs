//! The Graph endpoints (spec §5, §8, §9): one fallback handler reads
//! `[/{version}]/{id}[/{edge}]` (any `v\d+\.\d+` version, or none: Meta's newest), checks the
//! token (any Bearer token but one starting with `invalid`; none at all is refused too, both
//! 190/401), and hands the request to sending, media, templates or the phone number. Sends are
//! validated, held to the rules, recorded and followed by their status webhooks.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::WindowFailure;
use super::error::GraphFailure;
use super::ids;
use super::ledger::SentMessage;
use super::state::{Shared, lock};
use super::statuses::{self, Ending, Sequence};
use super::validate::{self, Outgoing, SendRequest};
use super::{media, rules, templates};

/// Send bodies are small; this is far above any valid one.
const SEND_BODY_LIMIT: usize = 1024 * 1024;

/// The Graph API version from which status webhooks omit `conversation` (spec §2.5).
const NO_CONVERSATION_FROM: u32 = 24;

pub(crate) async fn dispatch(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let query: HashMap<String, String> = Query::try_from_uri(request.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (version, rest) = match segments.split_first() {
        Some((first, rest)) if major_version(first).is_some() => (Some(*first), rest),
        _ => (None, segments.as_slice()),
    };
    let token = bearer(request.headers()).or_else(|| query.get("access_token").cloned());
    let authorised = match token {
        None => Err(GraphFailure::missing_token()),
        Some(token) if token.starts_with("invalid") => Err(GraphFailure::invalid_token()),
        Some(_) => Ok(()),
    };
    let sending_from = match (&method, rest) {
        (&Method::POST, [number, "messages"]) => Some(*number),
        _ => None,
    };
    let outcome = match (authorised, &method, rest) {
        (Err(refused), ..) => Err(refused),
        (Ok(()), &Method::POST, [number, "messages"]) => {
            send(&shared, number, version, request).await
        }
        (Ok(()), &Method::POST, [number, "media"]) => media::upload(&shared, number, request).await,
        (Ok(()), &Method::GET, [waba, "message_templates"]) => {
            templates::list(&shared, version, waba, &query)
        }
        (Ok(()), &Method::POST, [waba, "message_templates"]) => match json_body(request).await {
            Ok(body) => templates::create(&shared, waba, &body),
            Err(refused) => Err(refused),
        },
        (Ok(()), &Method::DELETE, [waba, "message_templates"]) => {
            templates::delete(&shared, waba, &query)
        }
        (Ok(()), &Method::GET, [id]) if shared.known_numbers().iter().any(|n| n == id) => {
            Ok(phone_number(&shared, id))
        }
        (Ok(()), &Method::GET, [id]) => media::info(&shared, id, &query),
        (Ok(()), &Method::DELETE, [id]) => media::delete(&shared, id, &query),
        _ => Err(GraphFailure::invalid_parameter(format!(
            "Unsupported {method} request: {path}."
        ))),
    };
    if let (Some(number), Err(refused)) = (sending_from, &outcome) {
        lock(&shared.ledger).reject(number, refused.code);
    }
    match outcome {
        Ok(body) => Json(body).into_response(),
        Err(refused) => refused.into_response(),
    }
}

/// `GET /{phone-number-id}` of a known number (spec §7: `?fields=throughput`); every field is
/// given, whatever `fields` asks.
fn phone_number(shared: &Shared, phone_number_id: &str) -> Value {
    let number = shared.number(phone_number_id);
    json!({
        "verified_name": "Simulated Business",
        "display_phone_number": format!("+{}", number.display_phone_number.trim_start_matches('+')),
        "id": number.phone_number_id,
        "quality_rating": "GREEN",
        "code_verification_status": "VERIFIED",
        "platform_type": "CLOUD_API",
        "throughput": { "level": "STANDARD" },
    })
}

/// The major number of a `v23.0`-style version segment.
fn major_version(segment: &str) -> Option<u32> {
    let (major, minor) = segment.strip_prefix('v')?.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(major) && digits(minor))
        .then(|| major.parse().ok())
        .flatten()
}

/// The token of `Authorization: Bearer <token>`.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

async fn json_body(request: Request) -> Result<Value, GraphFailure> {
    let bytes = axum::body::to_bytes(request.into_body(), SEND_BODY_LIMIT)
        .await
        .map_err(|_| GraphFailure::invalid_parameter("The request body could not be read."))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| GraphFailure::invalid_parameter(format!("The request body is not JSON: {e}")))
}

/// `POST /{phone-number-id}/messages`: a send or a mark-as-read.
async fn send(
    shared: &Arc<Shared>,
    number: &str,
    version: Option<&str>,
    request: Request,
) -> Result<Value, GraphFailure> {
    let body = json_body(request).await?;
    match validate::read(&body)? {
        SendRequest::MarkRead => Ok(json!({ "success": true })),
        SendRequest::Message(outgoing) => accept(shared, number, version, body, outgoing),
    }
}

/// Holds a valid send to the rules; accepted, records it and starts its status webhooks.
fn accept(
    shared: &Arc<Shared>,
    phone_number_id: &str,
    version: Option<&str>,
    body: Value,
    outgoing: Outgoing,
) -> Result<Value, GraphFailure> {
    let config = &shared.config;
    if let Some(allowed) = &config.allowed_recipients
        && !allowed
            .iter()
            .any(|a| ids::wa_id(a).as_deref() == Some(outgoing.wa_id.as_str()))
    {
        return Err(GraphFailure::not_allowed());
    }
    let category = match &outgoing.template {
        None => None,
        Some(call) => {
            let waba = shared
                .configured(phone_number_id)
                .map(|n| n.waba_id.as_str());
            Some(rules::check_template(
                &mut lock(&shared.templates),
                waba,
                call,
            )?)
        }
    };
    let now = Instant::now();
    let (window_open, in_last_second) = {
        let mut rules = lock(&shared.rules);
        let open = rules.window_open(phone_number_id, &outgoing.wa_id, now, config.window);
        if !open && category.is_none() && config.window_failure == WindowFailure::Sync {
            return Err(GraphFailure::re_engagement());
        }
        let admitted = rules.admit(
            phone_number_id,
            &outgoing.wa_id,
            now,
            config.mps,
            config.pair_limit,
        )?;
        (open, admitted)
    };
    shared.remember_number(phone_number_id);
    let wamid = ids::wamid(&outgoing.wa_id);
    lock(&shared.ledger).accept(
        SentMessage {
            phone_number_id: phone_number_id.to_string(),
            wamid: wamid.clone(),
            to: outgoing.wa_id.clone(),
            kind: outgoing.kind.clone(),
            body,
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        },
        in_last_second,
    );
    let ending = if !window_open && category.is_none() {
        Ending::Failed(super::error::RE_ENGAGEMENT)
    } else if outgoing.kind == "reaction" {
        Ending::Sent
    } else {
        Ending::Read
    };
    let pricing = category
        .as_deref()
        .map_or_else(|| "service".to_string(), str::to_ascii_lowercase);
    let free = pricing == "service" || (pricing == "utility" && window_open);
    statuses::spawn(
        shared.clone(),
        Sequence {
            number: shared.number(phone_number_id),
            wa_id: outgoing.wa_id.clone(),
            wamid: wamid.clone(),
            pricing,
            free,
            with_conversation: version
                .and_then(major_version)
                .is_some_and(|major| major < NO_CONVERSATION_FROM),
            callback_data: outgoing.callback_data,
            ending,
        },
    );
    let mut message = json!({ "id": wamid });
    if outgoing.template.is_some() {
        message["message_status"] = json!("accepted");
    }
    Ok(json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": outgoing.to_input, "wa_id": outgoing.wa_id }],
        "messages": [message],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_v_major_dot_minor() {
        assert_eq!(major_version("v23.0"), Some(23));
        assert_eq!(major_version("v24.1"), Some(24));
        for not in ["23.0", "v23", "v.0", "vX.0", "106540352242922"] {
            assert_eq!(major_version(not), None, "{not}");
        }
    }
}
