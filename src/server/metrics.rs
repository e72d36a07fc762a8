//! The Prometheus exporter behind `GET /metrics`. The code records through the `metrics` facade
//! (`metrics::counter!` and friends, anywhere in treeex); this installs the one recorder per
//! process that collects them and renders the text format.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::store::{Db, campaigns};

/// The answer times of `POST /webhook`, in seconds: fine-grained where the target (≤ 50 ms) is.
const INGEST_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's exporter, installed on first use. When another recorder was installed first
/// (an embedding program's), treeex renders its own registry without being the global one.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("treeex_ingest_seconds".into()),
                    &INGEST_BUCKETS,
                )
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!(
                    "another metrics recorder is installed; /metrics shows only treeex's own"
                );
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(
        "treeex_webhook_requests_total",
        "POST /webhook requests by outcome (applied, partial, unapplied, invalid, unauthorized, too_large, unavailable)"
    );
    metrics::describe_histogram!(
        "treeex_ingest_seconds",
        metrics::Unit::Seconds,
        "time from a signed webhook body's arrival to its answer"
    );
    metrics::describe_gauge!(
        "treeex_campaign_recipients",
        "recipients of each running or paused campaign by stage (total, sent, delivered, read, replied, failed, skipped), read from its counters at each scrape"
    );
    metrics::describe_counter!(
        "treeex_webhook_events_total",
        "webhook items applied, by kind (message, status, error, template), and parts kept as failures"
    );
}

/// Sets each running or paused campaign's progress from its counters, just before a scrape: the
/// counters are exact and shared by every process, so any listener reports the same figures. A
/// campaign that finished keeps its last figures. A database that does not answer leaves them as
/// they were.
pub async fn record_campaign_progress(db: &Db) {
    let read = tokio::time::timeout(std::time::Duration::from_secs(2), campaigns::progress(db));
    let running = match read.await {
        Ok(Ok(running)) => running,
        Ok(Err(error)) => {
            tracing::debug!(%error, "campaign progress left out of /metrics");
            return;
        }
        Err(_) => {
            tracing::debug!("campaign progress left out of /metrics: the database is slow");
            return;
        }
    };
    for campaign in running {
        let total = ("total", campaign.total_contacts);
        for (stage, count) in std::iter::once(total).chain(campaign.funnel()) {
            metrics::gauge!(
                "treeex_campaign_recipients",
                "campaign" => campaign.id.to_string(),
                "name" => campaign.name.clone(),
                "stage" => stage,
            )
            .set(f64::from(count));
        }
    }
}
