//! The media fetcher: brings the files of inbound media messages into the media store, in the
//! background (`serve` runs one beside the outbox worker; any number may run at once).
//!
//! It claims `media_files` rows that have Meta's media id and no stored bytes
//! (`store::media::claim_fetches`: SKIP LOCKED, the attempt counted, under a lease), looks the id
//! up just before downloading (Meta's URL expires after 5 minutes), downloads with the number's
//! token (a 404 means the URL went stale: it is looked up once more), stores the bytes at
//! `<workspace>/<message>/<media id>.<ext>`, and records the file's URL, size, sha256 (hex of the
//! stored bytes) and type. A failure is tried again after a growing, jittered wait and given up
//! after `max_attempts`, with the reason on the row; nothing here panics or stops the loop.

use std::time::Duration;

use backon::BackoffBuilder;
use base64::Engine;
use chrono::Utc;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use super::{MediaStore, essence, extension_for, sha256_hex};
use crate::app::ingest::error_chain;
use crate::cloud_api::graph::{Downloaded, GraphClient, GraphError, MediaInfo};
use crate::domain::WorkspaceId;
use crate::store::media::{self, Fetch, Stored};
use crate::store::{Db, StoreError, events};

/// How a fetcher behaves.
#[derive(Debug, Clone)]
pub struct FetcherSettings {
    /// Attempts before a download is given up. Meta keeps inbound media for 7 days; the default
    /// (12, with waits growing from 5 units to an hour) spans about two hours.
    pub max_attempts: u32,
    /// How long a claim holds before the download is due again (a 100 MB file takes a while).
    pub lease: Duration,
    /// Downloads claimed at once.
    pub batch: i64,
    /// Downloads in flight at once.
    pub concurrency: usize,
    /// The unit of retry waits: the first retry comes after 5 units, doubling up to 3600. One
    /// second; tests shorten it.
    pub retry_unit: Duration,
}

impl Default for FetcherSettings {
    fn default() -> Self {
        Self {
            max_attempts: 12,
            lease: Duration::from_secs(10 * 60),
            batch: 16,
            concurrency: 4,
            retry_unit: Duration::from_secs(1),
        }
    }
}

/// One media fetcher. Cheap to clone.
#[derive(Debug, Clone)]
pub struct MediaFetcher {
    db: Db,
    graph: GraphClient,
    store: MediaStore,
    settings: FetcherSettings,
}

/// Why one download failed.
enum Failure {
    /// Worth another try (Meta, the network, the store).
    Retry(String),
    /// Never worth another try.
    Final(String),
}

impl MediaFetcher {
    pub fn new(db: Db, graph: GraphClient, store: MediaStore, settings: FetcherSettings) -> Self {
        Self {
            db,
            graph,
            store,
            settings,
        }
    }

    /// Fetches until `stop`: woken when a change is announced (an inbound message), and every
    /// second for retries that come due. Stopping abandons downloads in flight; their claims run
    /// out and another pass takes them.
    pub async fn run(self, stop: CancellationToken) {
        let mut listener = match sqlx::postgres::PgListener::connect_with(self.db.pool()).await {
            Ok(mut listener) => match listener.listen(events::CHANNEL).await {
                Ok(()) => Some(listener),
                Err(error) => {
                    tracing::warn!(%error, "the media fetcher cannot LISTEN; it polls every second");
                    None
                }
            },
            Err(error) => {
                tracing::warn!(%error, "the media fetcher cannot LISTEN; it polls every second");
                None
            }
        };
        loop {
            let pass = tokio::select! {
                () = stop.cancelled() => return,
                pass = self.fetch_due() => pass,
            };
            match pass {
                // A full batch: there may be more right away.
                Ok(claimed) if claimed as i64 >= self.settings.batch => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "the media fetcher could not claim downloads"),
            }
            let wake = async {
                match listener.as_mut() {
                    Some(listener) => {
                        let _ = tokio::time::timeout(Duration::from_secs(1), listener.recv()).await;
                        // One pass answers every change announced so far: a busy campaign
                        // announces thousands a second, and a listener that falls behind holds
                        // up PostgreSQL's notification queue.
                        while listener.next_buffered().is_some() {}
                    }
                    None => tokio::time::sleep(Duration::from_secs(1)).await,
                }
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = wake => {}
            }
        }
    }

    /// Claims the due downloads (a batch) and fetches them, a few at a time. Returns how many it
    /// claimed.
    pub async fn fetch_due(&self) -> Result<usize, StoreError> {
        let claimed = media::claim_fetches(
            &self.db,
            self.settings.batch,
            self.settings.lease.as_secs_f64(),
        )
        .await?;
        let count = claimed.len();
        let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(
            self.settings.concurrency.max(1),
        ));
        let mut fetches = tokio::task::JoinSet::new();
        for job in claimed {
            let fetcher = self.clone();
            let gate = gate.clone();
            fetches.spawn(async move {
                let _permit = gate.acquire_owned().await;
                if let Err(error) = fetcher.fetch(job).await {
                    tracing::warn!(%error, "could not record a media download; its claim will run out and it is tried again");
                }
            });
        }
        while fetches.join_next().await.is_some() {}
        Ok(count)
    }

    async fn fetch(&self, job: Fetch) -> Result<(), StoreError> {
        let workspace = WorkspaceId(job.workspace_id);
        let (Some(number), Some(token), Some(message)) = (
            job.phone_number_id.as_deref(),
            job.access_token.as_deref(),
            job.message_id,
        ) else {
            let reason =
                "its message or business number is gone, so there is no token to download it with";
            return self.failed(&job, Failure::Final(reason.into())).await;
        };
        let token = SecretString::from(token.to_string());
        let (downloaded, info) = match self.download(&job, number, &token).await {
            Ok(fetched) => fetched,
            Err(error) => {
                let failure = match error {
                    GraphError::Invalid(_) => Failure::Final(error_chain(&error)),
                    other => Failure::Retry(error_chain(&other)),
                };
                return self.failed(&job, failure).await;
            }
        };
        let bytes = downloaded.bytes;
        let sha256 = sha256_hex(&bytes);
        let mime_type = [
            info.mime_type.as_deref(),
            Some(job.mime_type.as_str()).filter(|m| essence(m) != "application/octet-stream"),
            downloaded.content_type.as_deref(),
        ]
        .into_iter()
        .flatten()
        .find(|m| !m.trim().is_empty())
        .unwrap_or(job.mime_type.as_str())
        .trim()
        .to_string();
        let mismatch = [job.sha256.as_deref(), info.sha256.as_deref()]
            .into_iter()
            .flatten()
            .find(|meta| digest_of(meta).is_some_and(|digest| hex::encode(digest) != sha256))
            .map(str::to_string);
        let size = bytes.len() as i64;
        let key = [
            job.workspace_id.to_string(),
            message.to_string(),
            format!(
                "{}.{}",
                safe_name(&job.wa_media_id),
                extension_for(&mime_type)
            ),
        ];
        let key: Vec<&str> = key.iter().map(String::as_str).collect();
        let storage_url = match self.store.put(&key, bytes).await {
            Ok(url) => url,
            Err(error) => {
                return self.failed(&job, Failure::Retry(error_chain(&error))).await;
            }
        };
        let stored = Stored {
            storage_url: &storage_url,
            size_bytes: size,
            sha256: &sha256,
            mime_type: &mime_type,
        };
        if !media::record_fetched(&self.db, workspace, job.id, &stored).await? {
            return Ok(()); // another fetcher whose claim had run out stored it first
        }
        if let Some(meta) = mismatch {
            // Kept: the bytes are what Meta served; the difference is for a person to look at.
            tracing::warn!(media_id = %job.wa_media_id, %meta, stored = %sha256, "a fetched media file's sha256 differs from the one Meta sent");
        }
        tracing::info!(media_id = %job.wa_media_id, size, url = %storage_url, "fetched a media file");
        if let Some(conversation) = job.conversation_id {
            events::announce(&self.db, &[(workspace, conversation)]).await;
        }
        Ok(())
    }

    /// Looks the media up and downloads it; a 404 on the download (a stale URL) looks it up once
    /// more.
    async fn download(
        &self,
        job: &Fetch,
        number: &str,
        token: &SecretString,
    ) -> Result<(Downloaded, MediaInfo), GraphError> {
        let info = self
            .graph
            .media_info(token, &job.wa_media_id, Some(number))
            .await?;
        match self.graph.download_media(token, &info.url).await {
            Ok(downloaded) => Ok((downloaded, info)),
            Err(error) if error.api().is_some_and(|api| api.http_status == 404) => {
                tracing::info!(media_id = %job.wa_media_id, "a media URL was stale; looking it up again");
                let info = self
                    .graph
                    .media_info(token, &job.wa_media_id, Some(number))
                    .await?;
                let downloaded = self.graph.download_media(token, &info.url).await?;
                Ok((downloaded, info))
            }
            Err(error) => Err(error),
        }
    }

    /// Records a failed download: due again after a wait, or given up.
    async fn failed(&self, job: &Fetch, failure: Failure) -> Result<(), StoreError> {
        let workspace = WorkspaceId(job.workspace_id);
        let attempts = u32::try_from(job.attempts).unwrap_or(u32::MAX);
        let reason = match failure {
            Failure::Retry(reason) if attempts < self.settings.max_attempts => {
                let unit = self.settings.retry_unit;
                let wait = backoff(unit * 5, unit * 3600, attempts);
                tracing::warn!(media_id = %job.wa_media_id, attempts, %reason, "a media download failed; trying again in {} s", wait.as_secs());
                let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                return media::retry_fetch(&self.db, workspace, job.id, next, &reason).await;
            }
            Failure::Retry(reason) => format!("gave up after {attempts} attempts: {reason}"),
            Failure::Final(reason) => reason,
        };
        tracing::warn!(media_id = %job.wa_media_id, %reason, "a media download was given up");
        media::give_up_fetch(&self.db, workspace, job.id, &reason).await
    }
}

/// The wait before attempt `attempts + 1`: doubling from `first`, capped at `longest`, jittered.
fn backoff(first: Duration, longest: Duration, attempts: u32) -> Duration {
    backon::ExponentialBuilder::default()
        .with_min_delay(first)
        .with_max_delay(longest)
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(attempts as usize)
        .build()
        .nth(attempts.saturating_sub(1) as usize)
        .unwrap_or(longest)
}

/// The 32 bytes a sha256 as Meta writes it stands for: 64 hex digits, or base64 (webhooks).
/// None for anything else: then there is nothing to compare.
fn digest_of(meta: &str) -> Option<Vec<u8>> {
    let meta = meta.trim();
    let bytes = if meta.len() == 64 && meta.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(meta).ok()?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(meta)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(meta))
            .ok()?
    };
    (bytes.len() == 32).then_some(bytes)
}

/// A media id as a file name: Meta's ids are digits; anything else becomes `_`.
fn safe_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_hashes_are_read_in_either_form() {
        let hex = sha256_hex(b"abc");
        let base64 = base64::engine::general_purpose::STANDARD.encode(hex::decode(&hex).unwrap());
        assert_eq!(digest_of(&hex).map(hex::encode), Some(hex.clone()));
        assert_eq!(digest_of(&base64).map(hex::encode), Some(hex));
        assert_eq!(
            digest_of("73298ec14751f0c3b1b4a2f52f4fb031db3892ff5d2b"),
            None
        );
        assert_eq!(digest_of("not a hash"), None);
    }

    #[test]
    fn media_ids_make_safe_names() {
        assert_eq!(safe_name("1003383421387256"), "1003383421387256");
        assert_eq!(safe_name("../x"), "___x");
    }

    #[test]
    fn waits_grow_and_stop_growing() {
        let unit = Duration::from_millis(10);
        assert!(backoff(unit * 5, unit * 3600, 1) <= unit * 10);
        assert!(backoff(unit * 5, unit * 3600, 30) <= unit * 7200);
    }
}
