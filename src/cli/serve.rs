//! `treeex serve`: the headless mode. Runs the webhook listener, an outbox worker, a campaign
//! runner and a media fetcher until SIGINT or SIGTERM, then stops accepting, lets the requests in flight finish (at
//! most 10 s), and exits 0.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio_util::sync::CancellationToken;

use super::Failure;
use crate::app::media::MediaStore;
use crate::app::workers::Workers;
use crate::cloud_api::graph::GraphClient;
use crate::config::Config;
use crate::server::Listener;
use crate::store::{Db, webhooks};

/// How long requests in flight may take to finish after a stop signal.
const DRAIN: Duration = Duration::from_secs(10);

pub async fn run(db: &Db, config: &Config, listen: Option<SocketAddr>) -> Result<(), Failure> {
    // A media store that cannot be opened stops serve before it listens.
    let media = super::send::media_store(config)?;
    let graph = super::commands::graph_client(config)?;
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
    let stop = stop_on_signals()?;
    println!("treeex serve: listening on http://{local}");
    tracing::info!(address = %local, "listening");
    serve_on(db, config, &graph, &media, tcp, stop)
        .await
        .map_err(Failure::Work)
}

/// Cancels the token returned on the first SIGINT or SIGTERM.
pub(super) fn stop_on_signals() -> anyhow::Result<CancellationToken> {
    let interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    let terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let stop = CancellationToken::new();
    tokio::spawn(forward_signals(interrupt, terminate, stop.clone()));
    Ok(stop)
}

/// Runs the webhook listener on `tcp` and the background workers until `stop` is cancelled,
/// then stops accepting, lets the requests in flight finish (at most 10 s) and stops the
/// workers.
pub(super) async fn serve_on(
    db: &Db,
    config: &Config,
    graph: &GraphClient,
    media: &MediaStore,
    tcp: tokio::net::TcpListener,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let pruning = tokio::spawn(prune_archive(db.clone(), config.webhook.archive_days));
    tracing::info!(store = %media.url(), "media store");
    let workers = Workers::start(db, graph, media, config, &stop);
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
    pruning.abort();
    stop.cancel();
    workers.join(DRAIN).await;
    tracing::info!("stopped");
    result
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
