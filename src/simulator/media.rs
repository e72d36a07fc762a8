//! Media (spec §9): multipart upload to a number, the info GET that hands out a download URL,
//! the download itself (Bearer token required; 404 without it or once the URL is older than
//! `media_url_ttl`), and delete. Bytes are kept in memory with their type and hex sha256.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::error::GraphFailure;
use super::graph;
use super::ids;
use super::state::{Shared, lock};

const MB: usize = 1024 * 1024;
/// Where download URLs point, as Meta's lookaside host does.
const DOWNLOAD_PATH: &str = "/whatsapp_business/attachments/";

#[derive(Debug, Default)]
pub(crate) struct MediaStore {
    items: HashMap<String, Media>,
    /// Download URL hash → (media id, issued at).
    urls: HashMap<String, (String, Instant)>,
}

#[derive(Debug)]
struct Media {
    bytes: Bytes,
    mime_type: String,
    sha256: String,
    phone_number_id: String,
}

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route(DOWNLOAD_PATH, get(download))
}

/// The largest upload of a type (spec §9), or `None` when WhatsApp does not take it.
fn size_limit(mime_type: &str) -> Option<usize> {
    let essence = mime_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    Some(match essence.as_str() {
        "image/jpeg" | "image/png" => 5 * MB,
        "image/webp" => 500 * 1024,
        "audio/aac" | "audio/amr" | "audio/mpeg" | "audio/mp4" | "audio/ogg" => 16 * MB,
        "video/mp4" | "video/3gpp" => 16 * MB,
        "text/plain"
        | "application/pdf"
        | "application/msword"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.ms-excel"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.ms-powerpoint"
        | "application/vnd.openxmlformats-officedocument.presentationml.presentation" => 100 * MB,
        _ => return None,
    })
}

/// `POST /{phone-number-id}/media`: fields `messaging_product=whatsapp`, `file`, optional `type`.
pub(crate) async fn upload(
    shared: &Shared,
    phone_number_id: &str,
    request: Request,
) -> Result<Value, GraphFailure> {
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(|e| GraphFailure::invalid_parameter(format!("Expected a multipart form: {e}")))?;
    let (mut product, mut declared, mut file) = (None, None, None);
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                return Err(GraphFailure::media(format!(
                    "The upload could not be read: {e}"
                )));
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        let part_type = field.content_type().map(str::to_string);
        let data = field
            .bytes()
            .await
            .map_err(|e| GraphFailure::media(format!("The upload could not be read: {e}")))?;
        match name.as_str() {
            "messaging_product" => product = Some(String::from_utf8_lossy(&data).into_owned()),
            "type" => declared = Some(String::from_utf8_lossy(&data).into_owned()),
            "file" => file = Some((data, part_type)),
            _ => {}
        }
    }
    if !product.is_some_and(|p| p.eq_ignore_ascii_case("whatsapp")) {
        return Err(GraphFailure::invalid_parameter(
            "The parameter messaging_product is required and must be whatsapp.",
        ));
    }
    let Some((bytes, part_type)) = file else {
        return Err(GraphFailure::missing_parameter(
            "The parameter file is required.",
        ));
    };
    let mime_type = declared
        .or(part_type)
        .ok_or_else(|| GraphFailure::missing_parameter("The parameter type is required."))?;
    let limit = size_limit(&mime_type)
        .ok_or_else(|| GraphFailure::media(format!("Unsupported file type: {mime_type}.")))?;
    if bytes.len() > limit {
        return Err(GraphFailure::media(format!(
            "The file is {} bytes; {mime_type} takes at most {limit}.",
            bytes.len()
        )));
    }
    let id = ids::numeric_id();
    let media = Media {
        sha256: hex::encode(Sha256::digest(&bytes)),
        bytes,
        mime_type,
        phone_number_id: phone_number_id.to_string(),
    };
    lock(&shared.media).items.insert(id.clone(), media);
    Ok(json!({ "id": id }))
}

/// Refuses a request whose `phone_number_id` names another number than the upload's.
fn check_owner(media: &Media, query: &HashMap<String, String>) -> Result<(), GraphFailure> {
    match query.get("phone_number_id") {
        Some(asked) if *asked != media.phone_number_id => Err(GraphFailure::invalid_parameter(
            format!("The media was not uploaded on phone number id {asked}."),
        )),
        _ => Ok(()),
    }
}

/// `GET /{media-id}`: the info with a fresh download URL.
pub(crate) fn info(
    shared: &Shared,
    id: &str,
    query: &HashMap<String, String>,
) -> Result<Value, GraphFailure> {
    let mut store = lock(&shared.media);
    let Some(media) = store.items.get(id) else {
        return Err(GraphFailure::unknown_object(id));
    };
    check_owner(media, query)?;
    let (mime_type, sha256, size) = (
        media.mime_type.clone(),
        media.sha256.clone(),
        media.bytes.len(),
    );
    let ttl = shared.config.media_url_ttl;
    let now = Instant::now();
    store
        .urls
        .retain(|_, (_, issued)| now.saturating_duration_since(*issued) < ttl);
    let hash = ids::hex(16);
    store.urls.insert(hash.clone(), (id.to_string(), now));
    let expires = ids::unix_now() + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
    Ok(json!({
        "messaging_product": "whatsapp",
        "url": format!("{}{DOWNLOAD_PATH}?mid={id}&ext={expires}&hash={hash}", shared.base_url),
        "mime_type": mime_type,
        "sha256": sha256,
        "file_size": size,
        "id": id,
    }))
}

/// `DELETE /{media-id}`.
pub(crate) fn delete(
    shared: &Shared,
    id: &str,
    query: &HashMap<String, String>,
) -> Result<Value, GraphFailure> {
    let mut store = lock(&shared.media);
    let Some(media) = store.items.get(id) else {
        return Err(GraphFailure::unknown_object(id));
    };
    check_owner(media, query)?;
    store.items.remove(id);
    store.urls.retain(|_, (media_id, _)| media_id != id);
    Ok(json!({ "success": true }))
}

/// `GET <url>` with `Authorization: Bearer <token>`: the bytes with their type; 404 without a
/// valid token, for an unknown or expired URL, or for deleted media.
async fn download(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "Not Found").into_response();
    if graph::bearer(&headers).is_none_or(|token| token.starts_with("invalid")) {
        return not_found();
    }
    let store = lock(&shared.media);
    let media = query
        .get("hash")
        .and_then(|hash| store.urls.get(hash))
        .filter(|(id, issued)| {
            query.get("mid") == Some(id) && issued.elapsed() < shared.config.media_url_ttl
        })
        .and_then(|(id, _)| store.items.get(id));
    match media {
        Some(media) => (
            [(header::CONTENT_TYPE, media.mime_type.clone())],
            media.bytes.clone(),
        )
            .into_response(),
        None => not_found(),
    }
}
