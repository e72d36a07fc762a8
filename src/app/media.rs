//! Media in and out (spec §9): the media store where treeex keeps the bytes, the fetcher that
//! brings the files of inbound messages into it, and the files agents send.
//!
//! `store` owns the object-store URL (`[media] store`) and the bytes; `fetcher` the background
//! downloads of inbound files; `outbound` the files sent (checked, stored and queued, then
//! uploaded to Meta by the outbox worker just before their message leaves). Meta's download URLs
//! expire after 5 minutes, so the fetcher looks one up just before it downloads; uploaded media
//! live 30 days at Meta, so a file is uploaded when its message leaves, not when it is queued.

mod fetcher;
mod outbound;
mod store;

pub use fetcher::{FetcherSettings, MediaFetcher};
pub use outbound::{FileToSend, MediaError, OutgoingFile, Staged, check_file, enqueue_file, stage};
pub(crate) use outbound::{UploadFailure, name_media_id, strip_media_id, upload, upload_needed};
pub use store::{MediaStore, MediaStoreError};

use sha2::{Digest, Sha256};

/// Hex of the SHA-256 of `bytes`, as treeex records a stored file's hash.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
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

/// The file extension a stored file of this type gets (without the dot); `bin` when unknown.
pub fn extension_for(mime_type: &str) -> String {
    let mime = essence(mime_type);
    let known = match mime.as_str() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "audio/ogg" => "ogg",
        "audio/mpeg" => "mp3",
        "audio/mp4" => "m4a",
        "audio/aac" => "aac",
        "audio/amr" => "amr",
        "video/mp4" => "mp4",
        "video/3gpp" => "3gp",
        "text/plain" => "txt",
        "application/pdf" => "pdf",
        "application/msword" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "application/vnd.ms-powerpoint" => "ppt",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => "pptx",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    mime_guess::get_mime_extensions_str(&mime)
        .and_then(|extensions| extensions.first())
        .map_or_else(|| "bin".to_string(), |ext| ext.to_string())
}

const KB: u64 = 1000;
const MB: u64 = 1000 * KB;

/// A size for people, in the decimal units of Meta's limits: `7.2 MB`, `100 KB`, `512 bytes`.
pub fn human_size(bytes: u64) -> String {
    let (unit, name) = if bytes >= MB {
        (MB, "MB")
    } else if bytes >= KB {
        (KB, "KB")
    } else {
        return format!("{bytes} bytes");
    };
    let tenths = (bytes * 10 + unit / 2) / unit;
    if tenths.is_multiple_of(10) {
        format!("{} {name}", tenths / 10)
    } else {
        format!("{}.{} {name}", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_meta_limits() {
        assert_eq!(human_size(5_000_000), "5 MB");
        assert_eq!(human_size(7_200_000), "7.2 MB");
        assert_eq!(human_size(100_000), "100 KB");
        assert_eq!(human_size(1_500), "1.5 KB");
        assert_eq!(human_size(999), "999 bytes");
    }

    #[test]
    fn extensions_follow_the_type() {
        assert_eq!(extension_for("image/jpeg"), "jpg");
        assert_eq!(extension_for("audio/ogg; codecs=opus"), "ogg");
        assert_eq!(extension_for("Application/PDF"), "pdf");
        assert_eq!(extension_for("image/gif"), "gif");
        assert_eq!(extension_for("no/such-type"), "bin");
    }

    #[test]
    fn sha256_is_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
