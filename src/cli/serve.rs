//! `treeex serve`: the headless mode. Runs the webhook listener, an outbox worker, a campaign
//! runner and a media fetcher until SIGINT or SIGTERM, then stops accepting, lets the requests in flight finish (at
//! most 10 s), and exits 0.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio_util::sync::CancellationToken;

use super::Failure;
use crate::app::campaigns::{CampaignRunner, RunnerSettings};
use crate::app::media::{FetcherSettings, MediaFetcher};
use crate::app::outbox::{OutboxWorker, WorkerSettings};
use crate::config::Config;
use crate::server::Listener;
use crate::store::{Db, webhooks};

/// How long requests in flight may take to finish after a stop signal.
const DRAIN: Duration = Duration::from_secs(10);

pub async fn run(db: &Db, config: &Config, listen: Option<SocketAddr>) -> Result<(), Failure> {
    // A media store that cannot be opened stops serve before it listens.
    let media = super::send::media_store(config)?;
    let address = listen.unwrap_or(config.server.listen);
    let tcp = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address} (set [server] listen or --listen)"))?;
    let local = tcp.local_addr().context("the listener has no address")?;
    if config.whatsapp.app_secret.is_none() {
        tracing::warn!(
            "[whatsapp] app_secret is not set: every POST /webhook will be refused with 401"
        );
    }
    // The handlers exist before anyone can learn the address: a signal sent the moment the
    // line below is read still stops the process cleanly.
    let interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    let terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let stop = CancellationToken::new();
    let signals = tokio::spawn(forward_signals(interrupt, terminate, stop.clone()));
    println!("treeex serve: listening on http://{local}");
    tracing::info!(address = %local, "listening");

    let pruning = tokio::spawn(prune_archive(db.clone(), config.webhook.archive_days));

    let graph = super::commands::graph_client(config)?;
    let settings = WorkerSettings {
        max_attempts: config.outbox.max_attempts,
        ..WorkerSettings::default()
    };
    let worker = tokio::spawn(
        OutboxWorker::new(db.clone(), graph.clone(), settings)
            .with_media(media.clone())
            .run(stop.clone()),
    );
    let runner =
        tokio::spawn(CampaignRunner::new(db.clone(), RunnerSettings::default()).run(stop.clone()));
    tracing::info!(store = %media.url(), "media store");
    let fetcher = tokio::spawn(
        MediaFetcher::new(db.clone(), graph, media, FetcherSettings::default()).run(stop.clone()),
    );

    let listener = Listener::new(db.clone(), config);
    let server = listener.serve(tcp, stop.clone().cancelled_owned());
    let drained = async {
        stop.cancelled().await;
        tokio::time::sleep(DRAIN).await;
    };
    let result = tokio::select! {
        result = server => result.context("the listener failed"),
        () = drained => {
            tracing::warn!("requests in flight did not finish within {} s; stopping anyway", DRAIN.as_secs());
            Ok(())
        }
    };
    signals.abort();
    pruning.abort();
    // The worker stops between sends; a send in flight finishes or its claim is swept later.
    stop.cancel();
    if tokio::time::timeout(DRAIN, worker).await.is_err() {
        tracing::warn!(
            "the outbox worker did not stop within {} s",
            DRAIN.as_secs()
        );
    }
    // The runner gives up its campaigns' leases, so another process takes them over at once.
    if tokio::time::timeout(DRAIN, runner).await.is_err() {
        tracing::warn!(
            "the campaign runner did not stop within {} s",
            DRAIN.as_secs()
        );
    }
    // The fetcher drops downloads in flight at once; their claims run out and are taken again.
    if tokio::time::timeout(DRAIN, fetcher).await.is_err() {
        tracing::warn!(
            "the media fetcher did not stop within {} s",
            DRAIN.as_secs()
        );
    }
    tracing::info!("stopped");
    result.map_err(Failure::Work)
}

/// Waits for SIGINT or SIGTERM and cancels `stop`.
async fn forward_signals(mut interrupt: Signal, mut terminate: Signal, stop: CancellationToken) {
    tokio::select! {
        _ = interrupt.recv() => tracing::info!("SIGINT: stopping"),
        _ = terminate.recv() => tracing::info!("SIGTERM: stopping"),
    }
    stop.cancel();
}

/// Deletes archived webhook bodies past `[webhook] archive_days`, at start and then hourly.
async fn prune_archive(db: Db, days: u32) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match webhooks::prune_archive(&db, days).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, days, "pruned archived webhook bodies"),
            Err(error) => tracing::warn!(%error, "could not prune the webhook archive"),
        }
    }
}
