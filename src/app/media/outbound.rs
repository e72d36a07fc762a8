//! Files agents send (`send --image/--document`, the composer): a file is checked against Meta's
//! limits for its kind (its type from its extension, its size) before anything is written, put
//! in the media store at `<workspace>/outbound/<file id>.<ext>`, and queued through the outbox
//! with its `media_files` row. The message's stored body names no media id yet: the outbox
//! worker uploads the file to Meta just before the message leaves ([`upload`]), records the id,
//! and sends the body by id.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde_json::Value;
use uuid::Uuid;

use super::{MediaStore, MediaStoreError, extension_for, human_size, sha256_hex};
use crate::app::outbox::{self, Content, OutboxError, Outgoing, Queued};
use crate::cloud_api::graph::{GraphClient, GraphError, MAX_CAPTION, check_media, max_bytes};
use crate::cloud_api::webhook::MediaKind;
use crate::domain::{WaId, WorkspaceId};
use crate::store::outbox::Claimed;
use crate::store::{Db, StoreError, media};

/// A file to send, as the agent names it.
#[derive(Debug, Clone)]
pub struct FileToSend {
    pub kind: MediaKind,
    pub path: PathBuf,
    /// Image, video and document only.
    pub caption: Option<String>,
}

/// A media message to queue: [`Outgoing`] with a file instead of its content.
#[derive(Debug, Clone)]
pub struct OutgoingFile {
    pub workspace: WorkspaceId,
    /// Meta's id of the business number to send from.
    pub phone_number_id: String,
    pub to: WaId,
    pub file: FileToSend,
    /// The wamid of the message this one replies to.
    pub reply_to: Option<String>,
    /// The agent who sent it.
    pub sent_by: Option<Uuid>,
}

/// A file checked and put in the media store, ready to be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staged {
    /// The `media_files` row it will have.
    pub id: Uuid,
    pub kind: MediaKind,
    pub storage_url: String,
    pub mime_type: String,
    /// Hex of the stored bytes.
    pub sha256: String,
    pub size: u64,
    /// The file's own name (sent to Meta as a document's `filename`).
    pub filename: Option<String>,
    pub caption: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The file cannot be read: nothing was written or sent.
    #[error("cannot read `{path}`")]
    Unreadable {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The file breaks a limit of its kind (type, size, caption): nothing was written or sent.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] MediaStoreError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
}

/// "an image", "a document", … in refusals.
fn noun(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "an image",
        MediaKind::Audio => "an audio file",
        MediaKind::Video => "a video",
        MediaKind::Document => "a document",
        MediaKind::Sticker => "a sticker",
    }
}

/// Checks a file of `size` bytes at `path` before it is sent as `kind`: its type (from its
/// extension) is one Meta takes for the kind, and its size is within the kind's maximum. Returns
/// the mime type; the refusal names the limit ("an image is at most 5 MB (this one is 7.2 MB)").
pub fn check_file(kind: MediaKind, path: &Path, size: u64) -> Result<String, String> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mime = mime_guess::from_path(path)
        .first_raw()
        .unwrap_or("application/octet-stream");
    // The type alone (a size of 1 passes any size check).
    check_media(kind, mime, 1).map_err(|e| format!("`{name}`: {}", e.message))?;
    if size == 0 {
        return Err(format!("`{name}` is empty"));
    }
    let max = max_bytes(kind);
    if size > max {
        let (limit, this) = (human_size(max), human_size(size));
        return Err(if limit == this {
            format!(
                "{} is at most {limit} ({max} bytes; this one has {size})",
                noun(kind)
            )
        } else {
            format!("{} is at most {limit} (this one is {this})", noun(kind))
        });
    }
    check_media(kind, mime, size).map_err(|e| format!("`{name}`: {}", e.message))?;
    Ok(mime.to_string())
}

/// A caption the kind takes, within Meta's length.
fn check_caption(kind: MediaKind, caption: Option<&str>) -> Result<(), String> {
    let Some(caption) = caption.filter(|c| !c.trim().is_empty()) else {
        return Ok(());
    };
    if matches!(kind, MediaKind::Audio | MediaKind::Sticker) {
        return Err(format!(
            "{} takes no caption (only an image, a video or a document does)",
            noun(kind)
        ));
    }
    let length = caption.chars().count();
    if length > MAX_CAPTION {
        return Err(format!(
            "a caption is at most {MAX_CAPTION} characters (this one has {length})"
        ));
    }
    Ok(())
}

/// Checks a file and puts it in the media store. Nothing is written when a check fails.
pub async fn stage(
    store: &MediaStore,
    workspace: WorkspaceId,
    file: &FileToSend,
) -> Result<Staged, MediaError> {
    let unreadable = |source| MediaError::Unreadable {
        path: file.path.display().to_string(),
        source,
    };
    let metadata = tokio::fs::metadata(&file.path).await.map_err(unreadable)?;
    if !metadata.is_file() {
        return Err(unreadable(std::io::Error::other("it is not a file")));
    }
    // Checked before reading, so a file far too large is never read.
    check_file(file.kind, &file.path, metadata.len()).map_err(MediaError::Refused)?;
    check_caption(file.kind, file.caption.as_deref()).map_err(MediaError::Refused)?;
    let bytes = tokio::fs::read(&file.path).await.map_err(unreadable)?;
    let mime_type =
        check_file(file.kind, &file.path, bytes.len() as u64).map_err(MediaError::Refused)?;
    let id = Uuid::now_v7();
    let size = bytes.len() as u64;
    let sha256 = sha256_hex(&bytes);
    let workspace_key = workspace.0.to_string();
    let name = format!("{id}.{}", extension_for(&mime_type));
    let storage_url = store
        .put(&[&workspace_key, "outbound", &name], bytes)
        .await?;
    Ok(Staged {
        id,
        kind: file.kind,
        storage_url,
        mime_type,
        sha256,
        size,
        filename: file
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned()),
        caption: file.caption.clone().filter(|c| !c.trim().is_empty()),
    })
}

/// Checks a file, stores it and queues its message through the outbox (the rules before
/// sending apply: media is free-form, so the customer's 24-hour window must be open). A file
/// whose message is refused is taken out of the store again.
pub async fn enqueue_file(
    db: &Db,
    store: &MediaStore,
    outgoing: &OutgoingFile,
) -> Result<Queued, MediaError> {
    let staged = stage(store, outgoing.workspace, &outgoing.file).await?;
    let message = Outgoing {
        workspace: outgoing.workspace,
        phone_number_id: outgoing.phone_number_id.clone(),
        to: outgoing.to.clone(),
        content: Content::Media(staged.clone()),
        reply_to: outgoing.reply_to.clone(),
        sent_by: outgoing.sent_by,
    };
    match outbox::enqueue(db, &message).await {
        Ok(queued) => Ok(queued),
        Err(error) => {
            if let Err(cleanup) = store.delete(&staged.storage_url).await {
                tracing::warn!(error = %cleanup, "could not remove the file of a refused message");
            }
            Err(error.into())
        }
    }
}

/// The media kind of a stored send body whose file has not been uploaded yet (its media object
/// names neither an `id` nor a `link`).
pub(crate) fn upload_needed(body: &Value) -> Option<MediaKind> {
    let kind = MediaKind::from_type(body.get("type")?.as_str()?)?;
    let media = body.get(kind.as_str())?;
    let named = |key: &str| {
        media
            .get(key)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.trim().is_empty())
    };
    (!named("id") && !named("link")).then_some(kind)
}

/// Names the uploaded file in a send body.
pub(crate) fn name_media_id(body: &mut Value, kind: MediaKind, wa_media_id: &str) {
    if let Some(media) = body.get_mut(kind.as_str()).and_then(Value::as_object_mut) {
        media.insert("id".into(), Value::String(wa_media_id.to_string()));
    }
}

/// Takes the stand-in id out of a body checked before its file was uploaded.
pub(crate) fn strip_media_id(body: &mut Value, kind: MediaKind) {
    if let Some(media) = body.get_mut(kind.as_str()).and_then(Value::as_object_mut) {
        media.remove("id");
    }
}

/// Why a file could not be uploaded for its message.
#[derive(Debug)]
pub(crate) enum UploadFailure {
    /// The database failed; the claim expires and the message is swept back.
    Store(StoreError),
    /// It never will be: the message fails with this reason.
    Final(String),
    /// Meta (or the way there) refused or failed; `attempts` uploads have been tried.
    Graph { error: GraphError, attempts: u32 },
    /// The media store failed; `attempts` uploads have been tried.
    Retry { reason: String, attempts: u32 },
}

impl From<StoreError> for UploadFailure {
    fn from(error: StoreError) -> Self {
        UploadFailure::Store(error)
    }
}

/// Uploads the file of a claimed media message to its number (unless an earlier attempt did),
/// records Meta's media id, and returns it.
pub(crate) async fn upload(
    db: &Db,
    graph: &GraphClient,
    store: Option<&MediaStore>,
    claimed: &Claimed,
) -> Result<String, UploadFailure> {
    let workspace = WorkspaceId(claimed.workspace_id);
    let Some(file) = media::for_message(db, workspace, claimed.message_id)
        .await?
        .into_iter()
        .next()
    else {
        return Err(UploadFailure::Final(
            "the message's media file is not recorded".into(),
        ));
    };
    if let Some(wa_media_id) = &file.wa_media_id {
        return Ok(
            media::record_upload(db, workspace, file.id, claimed.message_id, wa_media_id).await?,
        );
    }
    let Some(url) = &file.storage_url else {
        return Err(UploadFailure::Final(
            "the message's media file was never stored".into(),
        ));
    };
    let file_id = file.id;
    let retry = |reason: String| async move {
        let attempts = media::record_upload_failure(db, workspace, file_id, &reason).await?;
        Err(UploadFailure::Retry {
            reason,
            attempts: u32::try_from(attempts).unwrap_or(1),
        })
    };
    let Some(store) = store else {
        return retry("this outbox worker has no media store to read the file from".into()).await;
    };
    let bytes = match store.get(url).await {
        Ok(bytes) => bytes,
        Err(error) if error.is_not_found() => {
            return Err(UploadFailure::Final(format!(
                "the file to send is no longer in the media store ({url})"
            )));
        }
        Err(MediaStoreError::Elsewhere { .. }) => {
            return Err(UploadFailure::Final(format!(
                "the file to send ({url}) is in another media store than [media] store names"
            )));
        }
        Err(error) => return retry(crate::app::ingest::error_chain(&error)).await,
    };
    let name = file
        .filename
        .clone()
        .unwrap_or_else(|| format!("{}.{}", file.id, extension_for(&file.mime_type)));
    let token = SecretString::from(claimed.access_token.clone());
    match graph
        .upload_media(
            &token,
            &claimed.phone_number_id,
            bytes,
            &file.mime_type,
            &name,
        )
        .await
    {
        Ok(wa_media_id) => {
            Ok(
                media::record_upload(db, workspace, file.id, claimed.message_id, &wa_media_id)
                    .await?,
            )
        }
        Err(error) => {
            let attempts =
                media::record_upload_failure(db, workspace, file.id, &error.to_string()).await?;
            Err(UploadFailure::Graph {
                error,
                attempts: u32::try_from(attempts).unwrap_or(1),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn refusals_name_the_limit() {
        let image = Path::new("/tmp/photo.jpg");
        assert_eq!(
            check_file(MediaKind::Image, image, 7_200_000).unwrap_err(),
            "an image is at most 5 MB (this one is 7.2 MB)"
        );
        assert_eq!(
            check_file(MediaKind::Image, image, 5_000_001).unwrap_err(),
            "an image is at most 5 MB (5000000 bytes; this one has 5000001)"
        );
        assert_eq!(
            check_file(MediaKind::Image, image, 10).unwrap(),
            "image/jpeg"
        );
        let gif = check_file(MediaKind::Image, Path::new("a.gif"), 10).unwrap_err();
        assert!(
            gif.starts_with("`a.gif`: an image file is one of image/jpeg, image/png"),
            "{gif}"
        );
        assert_eq!(
            check_file(MediaKind::Document, Path::new("inv.pdf"), 10).unwrap(),
            "application/pdf"
        );
        assert!(check_file(MediaKind::Document, Path::new("inv.exe"), 10).is_err());
        assert_eq!(
            check_file(MediaKind::Image, image, 0).unwrap_err(),
            "`photo.jpg` is empty"
        );
    }

    #[test]
    fn captions_are_checked() {
        assert!(check_caption(MediaKind::Image, Some("ok")).is_ok());
        assert!(check_caption(MediaKind::Audio, Some("no")).is_err());
        let long = "x".repeat(MAX_CAPTION + 1);
        assert!(check_caption(MediaKind::Document, Some(&long)).is_err());
    }

    #[test]
    fn a_body_without_a_media_id_needs_an_upload() {
        let mut body = json!({ "type": "image", "image": { "id": "stand-in", "caption": "c" } });
        assert_eq!(upload_needed(&body), None);
        strip_media_id(&mut body, MediaKind::Image);
        assert_eq!(upload_needed(&body), Some(MediaKind::Image));
        name_media_id(&mut body, MediaKind::Image, "123");
        assert_eq!(body["image"], json!({ "id": "123", "caption": "c" }));
        assert_eq!(upload_needed(&json!({ "type": "text", "text": {} })), None);
        let linked = json!({ "type": "document", "document": { "link": "https://x/y.pdf" } });
        assert_eq!(upload_needed(&linked), None);
    }
}
