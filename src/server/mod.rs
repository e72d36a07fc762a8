//! The HTTP listener: Meta's webhook (`GET` verification, signed `POST` notifications), health,
//! readiness and metrics. One reusable part: `treeex serve` runs it headless, and the TUI embeds
//! the same router.
//!
//! It never talks SQL itself: a signed body goes to `app::ingest`, whose answer decides the
//! status code (200 once committed, 503 when the database cannot take it, so Meta retries).

pub mod metrics;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::app::ingest::{self, IngestError, IngestSettings};
use crate::cloud_api::signature;
use crate::config::Config;
use crate::store::Db;
use crate::store::webhooks::Outcome;

/// What the listener needs.
#[derive(Clone)]
pub struct Listener {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    ingest: IngestSettings,
    app_secret: Option<SecretString>,
    verify_token: Option<SecretString>,
    body_limit: usize,
    metrics: PrometheusHandle,
}

impl Listener {
    pub fn new(db: Db, config: &Config) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                ingest: IngestSettings::from_config(&config.ingest),
                app_secret: config.whatsapp.app_secret.clone(),
                verify_token: config.whatsapp.verify_token.clone(),
                body_limit: config.server.body_limit_bytes,
                metrics: metrics::handle(),
            }),
        }
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/webhook", get(verify).post(notify))
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .route("/metrics", get(render_metrics))
            .layer(tower_http::trace::TraceLayer::new_for_http())
            .with_state(self.clone())
    }

    /// Serves on `listener` until `shutdown` completes, then stops accepting and finishes the
    /// requests in flight.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// `GET /webhook`: Meta's subscription check. 200 with the challenge only when a verify token is
/// configured and the request carries exactly it; 403 otherwise.
async fn verify(
    State(listener): State<Listener>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let configured = listener.inner.verify_token.as_ref();
    let given = params.get("hub.verify_token");
    let matches = match (configured, given) {
        (Some(configured), Some(given)) => bool::from(
            configured
                .expose_secret()
                .as_bytes()
                .ct_eq(given.as_bytes()),
        ),
        _ => false,
    };
    let subscribe = params.get("hub.mode").map(String::as_str) == Some("subscribe");
    match (matches && subscribe, params.get("hub.challenge")) {
        (true, Some(challenge)) => {
            ([(header::CONTENT_TYPE, "text/plain")], challenge.clone()).into_response()
        }
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

/// `POST /webhook`: signature on the raw bytes first, then ingest; 200 only after commit.
async fn notify(State(listener): State<Listener>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    // Read here rather than by an extractor, so a refused body is answered and counted alike.
    let body = match axum::body::to_bytes(body, listener.inner.body_limit).await {
        Ok(body) => body,
        Err(error) => {
            let too_large = std::error::Error::source(&error)
                .is_some_and(|cause| cause.is::<http_body_util::LengthLimitError>());
            return if too_large {
                count("too_large");
                StatusCode::PAYLOAD_TOO_LARGE.into_response()
            } else {
                tracing::warn!(%error, "could not read a webhook body");
                count("unreadable");
                StatusCode::BAD_REQUEST.into_response()
            };
        }
    };
    let signature = headers
        .get(signature::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let checked = match &listener.inner.app_secret {
        Some(secret) => signature::verify(secret.expose_secret().as_bytes(), signature, &body)
            .map_err(|e| e.to_string()),
        None => {
            Err("[whatsapp] app_secret is not configured, so no webhook can be verified".into())
        }
    };
    if let Err(reason) = checked {
        tracing::warn!(%reason, "refused a webhook");
        count("unauthorized");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let response = match ingest::receive(&listener.inner.db, &listener.inner.ingest, &body).await {
        Ok(receipt) => {
            count(match receipt.outcome {
                Outcome::Applied => "applied",
                Outcome::Partial => "partial",
                Outcome::Unapplied => "unapplied",
                Outcome::Invalid => "invalid",
            });
            StatusCode::OK.into_response()
        }
        Err(IngestError::NotJson(error)) => {
            tracing::warn!(%error, "a signed webhook body is not JSON");
            count("invalid");
            (
                StatusCode::BAD_REQUEST,
                "the body is not a JSON webhook notification\n",
            )
                .into_response()
        }
        Err(IngestError::Store(error)) => {
            tracing::error!(error = %crate::app::ingest::error_chain(&error), "could not store a webhook; Meta will retry");
            count("unavailable");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    };
    ::metrics::histogram!("treeex_ingest_seconds").record(started.elapsed().as_secs_f64());
    response
}

fn count(outcome: &'static str) {
    ::metrics::counter!("treeex_webhook_requests_total", "outcome" => outcome).increment(1);
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// 200 when the database answers within two seconds.
async fn readyz(State(listener): State<Listener>) -> Response {
    let ping = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(listener.inner.db.pool());
    match tokio::time::timeout(Duration::from_secs(2), ping).await {
        Ok(Ok(_)) => "ready\n".into_response(),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the database does not answer\n",
        )
            .into_response(),
    }
}

async fn render_metrics(State(listener): State<Listener>) -> Response {
    metrics::record_campaign_progress(&listener.inner.db).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        listener.inner.metrics.render(),
    )
        .into_response()
}
