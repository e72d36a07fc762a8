//! The `secrets` check, and how doctor shows a secret or a URL: never whole.

use std::fmt::Write as _;

use secrecy::{ExposeSecret, SecretString};

use super::{Check, Status, plural};
use crate::config::WhatsappConfig;

/// The dots that stand for a password.
const DOTS: &str = "•••••";

/// The webhook secrets, set or not, never shown whole.
pub(super) fn secrets(whatsapp: &WhatsappConfig, tokens: Option<usize>) -> Check {
    let mut parts = Vec::new();
    let mut status = Status::Ok;
    for (key, secret, without) in [
        (
            "app_secret",
            &whatsapp.app_secret,
            "POST /webhook will be refused with 401",
        ),
        (
            "verify_token",
            &whatsapp.verify_token,
            "Meta's verification (GET /webhook) will be refused",
        ),
    ] {
        match secret {
            Some(secret) => parts.push(format!("{key} {}", masked(secret))),
            None => {
                status = Status::Warn;
                parts.push(format!("{key} not set: {without}"));
            }
        }
    }
    if let Some(count) = tokens.filter(|count| *count > 0) {
        parts.push(format!("{count} access token{} (see token)", plural(count)));
    }
    Check::new("secrets", status, parts.join("; "))
}

/// `set`, with the last four characters of a secret long enough to keep its strength.
pub(super) fn masked(secret: &SecretString) -> String {
    let secret = secret.expose_secret();
    let length = secret.chars().count();
    if length >= 16 {
        let tail: String = secret.chars().skip(length - 4).collect();
        format!("set (…{tail})")
    } else {
        "set".to_string()
    }
}

/// A URL with its password (and any `password` query parameter) as dots; one that does not
/// parse is not shown at all.
pub(super) fn mask_url(raw: &str) -> String {
    let Ok(url) = reqwest::Url::parse(raw.trim()) else {
        return "(the URL, not shown: it does not parse)".to_string();
    };
    let mut shown = format!("{}://", url.scheme());
    if !url.username().is_empty() || url.password().is_some() {
        shown.push_str(url.username());
        if url.password().is_some() {
            shown.push(':');
            shown.push_str(DOTS);
        }
        shown.push('@');
    }
    shown.push_str(url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        let _ = write!(shown, ":{port}");
    }
    shown.push_str(url.path());
    let query: Vec<String> = url
        .query_pairs()
        .map(|(key, value)| {
            if key.to_ascii_lowercase().contains("password") {
                format!("{key}={DOTS}")
            } else {
                format!("{key}={value}")
            }
        })
        .collect();
    if !query.is_empty() {
        shown.push('?');
        shown.push_str(&query.join("&"));
    }
    shown
}
