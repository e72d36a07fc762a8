//! The `media` check: the media store (`[media] store`) can take the files of media messages.

use super::{Check, PROBE_TIMEOUT, Status};
use crate::app::ingest::error_chain;
use crate::app::media::MediaStore;

/// A local directory must be writable (or creatable); a cloud store must answer with the
/// credentials from the environment. Nothing is written.
pub(super) async fn media(url: &str) -> Check {
    match tokio::time::timeout(PROBE_TIMEOUT, MediaStore::probe(url)).await {
        Ok(Ok(detail)) => Check::new("media", Status::Ok, detail),
        Ok(Err(error)) => Check::new(
            "media",
            Status::Fail,
            format!(
                "{}: inbound media cannot be kept, nor files sent",
                error_chain(&error)
            ),
        ),
        Err(_) => Check::new(
            "media",
            Status::Fail,
            format!("{url} did not answer within {} s", PROBE_TIMEOUT.as_secs()),
        ),
    }
}
