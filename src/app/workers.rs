//! The background work every long-running process does beside its listener (`serve`, the TUI,
//! `demo`): an outbox worker, a campaign runner and a media fetcher, started together and
//! stopped together.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::campaigns::{CampaignRunner, RunnerSettings};
use super::media::{FetcherSettings, MediaFetcher, MediaStore};
use super::outbox::{OutboxWorker, WorkerSettings};
use crate::cloud_api::graph::GraphClient;
use crate::config::Config;
use crate::store::Db;

/// The running workers.
pub struct Workers {
    tasks: Vec<(&'static str, JoinHandle<()>)>,
}

impl Workers {
    /// Starts the workers; they run until `stop` is cancelled.
    pub fn start(
        db: &Db,
        graph: &GraphClient,
        media: &MediaStore,
        config: &Config,
        stop: &CancellationToken,
    ) -> Workers {
        let settings = WorkerSettings {
            max_attempts: config.outbox.max_attempts,
            concurrency: config.outbox.max_in_flight,
            ..WorkerSettings::default()
        };
        let outbox = OutboxWorker::new(db.clone(), graph.clone(), settings)
            .with_media(media.clone())
            .run(stop.clone());
        let runner = CampaignRunner::new(db.clone(), RunnerSettings::default()).run(stop.clone());
        let fetcher = MediaFetcher::new(
            db.clone(),
            graph.clone(),
            media.clone(),
            FetcherSettings::default(),
        )
        .run(stop.clone());
        Workers {
            tasks: vec![
                ("the outbox worker", tokio::spawn(outbox)),
                // It gives up its campaigns' leases, so another process takes them over at once.
                ("the campaign runner", tokio::spawn(runner)),
                // It drops downloads in flight; their claims run out and are taken again.
                ("the media fetcher", tokio::spawn(fetcher)),
            ],
        }
    }

    /// Waits up to `grace` for each worker to finish after `stop` was cancelled. The outbox
    /// worker stops between sends; a send in flight finishes or its claim is swept later.
    pub async fn join(self, grace: Duration) {
        for (name, task) in self.tasks {
            if tokio::time::timeout(grace, task).await.is_err() {
                tracing::warn!("{name} did not stop within {} s", grace.as_secs());
            }
        }
    }
}
