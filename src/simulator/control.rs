//! The simulator's own endpoints (INTERFACE.md): `GET /_sim/messages[?to=WA_ID]` (every message
//! the business sent, as received), `GET /_sim/stats` (accepted, rejected and failed by code per
//! number, the busiest second, the webhook sender's counters) and `POST /_sim/inbound` (a
//! customer writes). They need no token: they are for the people testing, not Meta's API.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::customers;
use super::state::{Shared, lock};

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sim/messages", get(messages))
        .route("/_sim/stats", get(stats))
        .route("/_sim/inbound", post(inbound))
}

#[derive(Debug, Deserialize)]
struct MessagesQuery {
    to: Option<String>,
}

async fn messages(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<MessagesQuery>,
) -> Response {
    Json(lock(&shared.ledger).messages(query.to.as_deref())).into_response()
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    let webhooks = shared.webhooks.counters();
    Json(lock(&shared.ledger).stats(webhooks)).into_response()
}

#[derive(Debug, Deserialize)]
struct Inbound {
    phone_number_id: String,
    from: String,
    #[serde(default)]
    name: String,
    text: String,
}

async fn inbound(
    State(shared): State<Arc<Shared>>,
    body: Result<Json<Inbound>, JsonRejection>,
) -> Response {
    let refuse = |reason: String| (StatusCode::BAD_REQUEST, Json(json!({ "error": reason })));
    let Json(inbound) = match body {
        Ok(body) => body,
        Err(rejection) => return refuse(rejection.body_text()).into_response(),
    };
    match customers::write_in(
        &shared,
        &inbound.phone_number_id,
        &inbound.from,
        &inbound.name,
        &inbound.text,
        None,
    ) {
        Ok(wamid) => Json(json!({ "wamid": wamid })).into_response(),
        Err(error) => refuse(error.to_string()).into_response(),
    }
}
