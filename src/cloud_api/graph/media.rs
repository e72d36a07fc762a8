//! Media (spec §9): which files Meta takes for each kind and how large, and the four media calls
//! (upload, look up, download, delete).
//!
//! A media URL from [`GraphClient::media_info`] expires after 5 minutes and needs the token to
//! download; a 404 on download means "look the URL up again" (then refresh the token).

use reqwest::multipart::{Form, Part};
use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::error::{GraphError, LimitError};
use super::{GraphClient, MAX_JSON_BYTES, decode, expect_success};
use crate::cloud_api::webhook::MediaKind;

const KB: u64 = 1000;
const MB: u64 = 1000 * KB;

/// The largest file of each kind (spec §9). Decimal units: the stricter reading of Meta's "MB".
pub const MAX_AUDIO_BYTES: u64 = 16 * MB;
pub const MAX_DOCUMENT_BYTES: u64 = 100 * MB;
pub const MAX_IMAGE_BYTES: u64 = 5 * MB;
pub const MAX_VIDEO_BYTES: u64 = 16 * MB;
pub const MAX_STATIC_STICKER_BYTES: u64 = 100 * KB;
pub const MAX_ANIMATED_STICKER_BYTES: u64 = 500 * KB;

/// The largest download treeex reads: inbound media over 100 MB never arrive (131052).
pub const MAX_DOWNLOAD_BYTES: usize = 101 * 1024 * 1024;

const AUDIO: &[&str] = &[
    "audio/aac",
    "audio/amr",
    "audio/mpeg",
    "audio/mp4",
    "audio/ogg",
];
const DOCUMENT: &[&str] = &[
    "text/plain",
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
];
const IMAGE: &[&str] = &["image/jpeg", "image/png"];
const STICKER: &[&str] = &["image/webp"];
const VIDEO: &[&str] = &["video/mp4", "video/3gpp"];

fn allowed(kind: MediaKind) -> &'static [&'static str] {
    match kind {
        MediaKind::Audio => AUDIO,
        MediaKind::Document => DOCUMENT,
        MediaKind::Image => IMAGE,
        MediaKind::Sticker => STICKER,
        MediaKind::Video => VIDEO,
    }
}

/// The largest file of `kind`; for stickers the animated cap (a static one is held to
/// [`MAX_STATIC_STICKER_BYTES`] by [`check_sticker`]).
pub fn max_bytes(kind: MediaKind) -> u64 {
    match kind {
        MediaKind::Audio => MAX_AUDIO_BYTES,
        MediaKind::Document => MAX_DOCUMENT_BYTES,
        MediaKind::Image => MAX_IMAGE_BYTES,
        MediaKind::Sticker => MAX_ANIMATED_STICKER_BYTES,
        MediaKind::Video => MAX_VIDEO_BYTES,
    }
}

/// `"Audio/OGG; codecs=opus"` → `"audio/ogg"`.
fn essence(mime_type: &str) -> String {
    mime_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The kind a file of this mime type is sent as; `image/webp` is a sticker.
pub fn media_kind_for_mime(mime_type: &str) -> Option<MediaKind> {
    let mime = essence(mime_type);
    [
        MediaKind::Image,
        MediaKind::Sticker,
        MediaKind::Audio,
        MediaKind::Video,
        MediaKind::Document,
    ]
    .into_iter()
    .find(|kind| allowed(*kind).contains(&mime.as_str()))
}

/// Checks a file before upload: its mime type is one Meta takes for `kind`, and its size is within
/// the kind's maximum (image/webp stickers are held to the animated 500 KB cap; see
/// [`check_sticker`] for static ones). The error names the limit.
pub fn check_media(kind: MediaKind, mime_type: &str, size: u64) -> Result<(), LimitError> {
    let mime = essence(mime_type);
    let allowed = allowed(kind);
    if !allowed.contains(&mime.as_str()) {
        return Err(LimitError::new(
            "mime_type",
            format!(
                "{} file is one of {} (this one is `{}`)",
                noun(kind),
                allowed.join(", "),
                mime_type.trim()
            ),
        ));
    }
    check_size(noun(kind), max_bytes(kind), size)
}

fn noun(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Audio => "an audio",
        MediaKind::Document => "a document",
        MediaKind::Image => "an image",
        MediaKind::Sticker => "a sticker",
        MediaKind::Video => "a video",
    }
}

/// Checks a sticker's size against the cap for its kind: 100 KB static, 500 KB animated.
pub fn check_sticker(size: u64, animated: bool) -> Result<(), LimitError> {
    if animated {
        check_size("an animated sticker", MAX_ANIMATED_STICKER_BYTES, size)
    } else {
        check_size("a static sticker", MAX_STATIC_STICKER_BYTES, size)
    }
}

fn check_size(what: &str, max: u64, size: u64) -> Result<(), LimitError> {
    if size == 0 {
        return Err(LimitError::new("file", "a media file cannot be empty"));
    }
    if size > max {
        return Err(LimitError::new(
            "file",
            format!(
                "{what} file is at most {} ({max} bytes; this one has {size})",
                human(max)
            ),
        ));
    }
    Ok(())
}

fn human(bytes: u64) -> String {
    if bytes >= MB && bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else {
        format!("{} KB", bytes / KB)
    }
}

/// A media object's metadata (`GET /{media-id}`): `url` is short-lived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaInfo {
    #[serde(default, deserialize_with = "de_opt_text")]
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    /// Meta sends it as a string or as a number.
    #[serde(default, deserialize_with = "de_file_size")]
    pub file_size: Option<u64>,
}

/// A downloaded file.
#[derive(Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
}

impl std::fmt::Debug for Downloaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Downloaded")
            .field("bytes", &format_args!("{} bytes", self.bytes.len()))
            .field("content_type", &self.content_type)
            .finish()
    }
}

/// A string, or a number printed, or nothing.
fn de_opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    })
}

fn de_file_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("file_size `{n}` is not a size"))),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("file_size `{s}` is not a size"))),
        other => Err(serde::de::Error::custom(format!(
            "file_size `{other}` is not a size"
        ))),
    }
}

#[derive(Deserialize)]
struct Uploaded {
    #[serde(deserialize_with = "de_opt_text")]
    id: String,
}

impl GraphClient {
    /// Uploads a file to `phone_number_id` (it lives 30 days) and returns its media id. The file is
    /// checked first ([`check_media`] for the kind its mime type names). A timeout here is
    /// ambiguous too, but uploading again only leaves an unused copy at Meta.
    pub async fn upload_media(
        &self,
        token: &SecretString,
        phone_number_id: &str,
        bytes: Vec<u8>,
        mime_type: &str,
        filename: &str,
    ) -> Result<String, GraphError> {
        let kind = media_kind_for_mime(mime_type).ok_or_else(|| {
            GraphError::Invalid(LimitError::new(
                "mime_type",
                format!(
                    "WhatsApp does not take files of type `{}` (see the media types of each kind)",
                    mime_type.trim()
                ),
            ))
        })?;
        check_media(kind, mime_type, bytes.len() as u64).map_err(GraphError::Invalid)?;
        let mime = essence(mime_type);
        let part = Part::bytes(bytes)
            .file_name(filename.to_string())
            .mime_str(&mime)
            .map_err(|e| {
                GraphError::Invalid(LimitError::new(
                    "mime_type",
                    format!("`{mime}` is not a mime type: {e}"),
                ))
            })?;
        let form = Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", mime)
            .part("file", part);
        let url = self.endpoint(&[("phone number id", phone_number_id)], Some("media"))?;
        let request = self
            .http
            .post(url)
            .timeout(self.media_timeout)
            .multipart(form);
        let answer = self.call(request, token, MAX_JSON_BYTES).await?;
        let uploaded: Uploaded = decode(&answer)?;
        if uploaded.id.is_empty() {
            return Err(answer.undecodable("the upload answer has no media id"));
        }
        Ok(uploaded.id)
    }

    /// Looks a media id up: its short-lived download URL, type, hash and size. With
    /// `phone_number_id`, Meta refuses media of another number.
    pub async fn media_info(
        &self,
        token: &SecretString,
        media_id: &str,
        phone_number_id: Option<&str>,
    ) -> Result<MediaInfo, GraphError> {
        let url = self.endpoint(&[("media id", media_id)], None)?;
        let mut request = self.http.get(url);
        if let Some(number) = phone_number_id {
            request = request.query(&[("phone_number_id", number)]);
        }
        let answer = self.call(request, token, MAX_JSON_BYTES).await?;
        let mut info: MediaInfo = decode(&answer)?;
        if info.id.is_empty() {
            info.id = media_id.to_string();
        }
        Ok(info)
    }

    /// Downloads a media URL (from [`GraphClient::media_info`] or an inbound webhook) with the
    /// token. A 404 comes back as an [`super::ApiError`] with `http_status` 404: look the URL up
    /// again.
    pub async fn download_media(
        &self,
        token: &SecretString,
        url: &str,
    ) -> Result<Downloaded, GraphError> {
        let parsed = reqwest::Url::parse(url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                GraphError::Invalid(LimitError::new(
                    "url",
                    "a media URL is an absolute http(s) URL",
                ))
            })?;
        let request = self.http.get(parsed).timeout(self.media_timeout);
        let answer = self.call(request, token, MAX_DOWNLOAD_BYTES).await?;
        Ok(Downloaded {
            bytes: answer.body,
            content_type: answer.content_type,
        })
    }

    /// Deletes an uploaded media object.
    pub async fn delete_media(
        &self,
        token: &SecretString,
        media_id: &str,
    ) -> Result<(), GraphError> {
        let url = self.endpoint(&[("media id", media_id)], None)?;
        let answer = self
            .call(self.http.delete(url), token, MAX_JSON_BYTES)
            .await?;
        expect_success(&answer)
    }
}

#[cfg(test)]
mod tests;
