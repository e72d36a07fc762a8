//! The webhook sender, behaving like Meta's (spec §2–§4): updates are posted to `webhook_url` as
//! `whatsapp_business_account` notifications, serialised ASCII-only and signed over exactly those
//! bytes (`X-Hub-Signature-256`); any answer but 200, or no answer, is retried (the first retry
//! at once, then backing off) until `retry.give_up_after`. Deliveries run concurrently. Faults:
//! several updates per POST (several entries and changes), byte-identical duplicates, a wrong
//! signature on a first attempt. With no `webhook_url`, updates are dropped.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::json::to_ascii_json;
use super::state::lock;
use super::{Faults, RetryPolicy, SimulatorConfig, ids};
use crate::cloud_api::signature::{SIGNATURE_HEADER, sign};

/// How long the sender waits for more updates to fill a batch.
const BATCH_GATHER: Duration = Duration::from_millis(50);

/// One update: a change for an entry of `waba_id`. `time` is set on template events only.
#[derive(Debug, Clone)]
pub(crate) struct Update {
    pub waba_id: String,
    pub time: Option<i64>,
    pub field: &'static str,
    pub value: Value,
}

struct Queued {
    update: Update,
    /// Told once the POST carrying the update was answered 200, or given up.
    done: Option<oneshot::Sender<()>>,
}

/// What the sender did, for `GET /_sim/stats`.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Counters {
    /// Updates queued.
    updates: u64,
    /// POSTs made, retries and duplicates included.
    posts: u64,
    /// Bodies acknowledged with 200 (a duplicate counts again).
    delivered: u64,
    /// POSTs answered with anything but 200, or not answered.
    failed_posts: u64,
    /// Bodies dropped after `retry.give_up_after`.
    given_up: u64,
    /// Bodies posted a second time on purpose.
    duplicates: u64,
    /// First attempts sent with a wrong signature on purpose.
    bad_signatures: u64,
    /// The outcome of the last verification GET, if any was made.
    verified: Option<bool>,
}

#[derive(Clone)]
pub(crate) struct WebhookSender {
    queue: Option<mpsc::UnboundedSender<Queued>>,
    poster: Option<Arc<Poster>>,
    counters: Arc<Mutex<Counters>>,
}

impl WebhookSender {
    /// Starts the dispatcher when `config.webhook_url` is set. Must run inside the runtime.
    pub fn start(
        config: &SimulatorConfig,
        cancel: CancellationToken,
    ) -> std::io::Result<WebhookSender> {
        let counters = Arc::new(Mutex::new(Counters::default()));
        let Some(url) = config.webhook_url.clone() else {
            return Ok(WebhookSender {
                queue: None,
                poster: None,
                counters,
            });
        };
        let client = reqwest::Client::builder()
            .timeout(config.retry.timeout)
            .build()
            .map_err(std::io::Error::other)?;
        let (queue, pending) = mpsc::unbounded_channel();
        let poster = Arc::new(Poster {
            client,
            url,
            app_secret: config.app_secret.clone(),
            faults: config.faults.clone(),
            retry: config.retry,
            cancel,
            counters: counters.clone(),
        });
        tokio::spawn(dispatch(poster.clone(), pending));
        Ok(WebhookSender {
            queue: Some(queue),
            poster: Some(poster),
            counters,
        })
    }

    /// Meta's subscription check (spec §1): a GET with `hub.mode`, `hub.challenge` and
    /// `hub.verify_token`, expecting 200 and exactly the challenge back.
    pub async fn verify(&self, token: &str) -> Result<(), String> {
        let Some(poster) = &self.poster else {
            return Err("no webhook_url is configured".into());
        };
        let challenge = rand::random_range(1_000_000_000u64..10_000_000_000).to_string();
        let outcome = async {
            let response = poster
                .client
                .get(&poster.url)
                .query(&[
                    ("hub.mode", "subscribe"),
                    ("hub.challenge", challenge.as_str()),
                    ("hub.verify_token", token),
                ])
                .send()
                .await
                .map_err(|e| format!("no answer: {e}"))?;
            let status = response.status();
            let body = response
                .text()
                .await
                .map_err(|e| format!("unreadable answer: {e}"))?;
            if status != reqwest::StatusCode::OK {
                return Err(format!("answered {status}"));
            }
            if body != challenge {
                return Err(format!(
                    "answered {body:?} instead of the challenge {challenge:?}"
                ));
            }
            Ok(())
        }
        .await;
        lock(&self.counters).verified = Some(outcome.is_ok());
        outcome
    }

    /// Queues `update` and returns at once.
    pub fn send(&self, update: Update) {
        self.enqueue(update, None);
    }

    /// Queues `update` and returns once the POST carrying it was answered 200 or given up (at
    /// once when no webhooks are sent or the sender stopped).
    pub async fn deliver(&self, update: Update) {
        let (done, delivered) = oneshot::channel();
        if self.enqueue(update, Some(done)) {
            // An error means the sender stopped; nothing is left to wait for.
            let _ = delivered.await;
        }
    }

    fn enqueue(&self, update: Update, done: Option<oneshot::Sender<()>>) -> bool {
        let Some(queue) = &self.queue else {
            return false;
        };
        lock(&self.counters).updates += 1;
        queue.send(Queued { update, done }).is_ok()
    }

    pub fn counters(&self) -> Value {
        serde_json::to_value(lock(&self.counters).clone()).unwrap_or_default()
    }
}

/// Takes updates off the queue, a batch at a time, and posts each batch in a task of its own.
async fn dispatch(poster: Arc<Poster>, mut pending: mpsc::UnboundedReceiver<Queued>) {
    let most = poster.faults.batch.max(1);
    loop {
        let first = tokio::select! {
            () = poster.cancel.cancelled() => return,
            next = pending.recv() => match next {
                Some(first) => first,
                None => return,
            },
        };
        let mut batch = vec![first];
        let until = tokio::time::Instant::now() + BATCH_GATHER;
        while batch.len() < most {
            match tokio::time::timeout_at(until, pending.recv()).await {
                Ok(Some(more)) => batch.push(more),
                _ => break,
            }
        }
        tokio::spawn(poster.clone().post_batch(batch));
    }
}

struct Poster {
    client: reqwest::Client,
    url: String,
    app_secret: String,
    faults: Faults,
    retry: RetryPolicy,
    cancel: CancellationToken,
    counters: Arc<Mutex<Counters>>,
}

impl Poster {
    async fn post_batch(self: Arc<Self>, batch: Vec<Queued>) {
        let (updates, done): (Vec<Update>, Vec<_>) =
            batch.into_iter().map(|q| (q.update, q.done)).unzip();
        let body = match to_ascii_json(&envelope(updates, self.faults.batch > 1)) {
            Ok(body) => body,
            Err(error) => {
                tracing::error!(%error, "the simulator could not serialise a webhook");
                return;
            }
        };
        let bad_signature = ids::chance(self.faults.bad_signature);
        self.post_until_acknowledged(&body, bad_signature).await;
        for done in done.into_iter().flatten() {
            let _ = done.send(());
        }
        if ids::chance(self.faults.duplicate) {
            lock(&self.counters).duplicates += 1;
            self.post_until_acknowledged(&body, false).await;
        }
    }

    /// Posts `body` until it is answered 200 or the retry window closes; true when delivered.
    async fn post_until_acknowledged(&self, body: &[u8], bad_first: bool) -> bool {
        let signature = sign(self.app_secret.as_bytes(), body);
        let started = tokio::time::Instant::now();
        let mut wait = Duration::ZERO;
        for attempt in 0u64.. {
            let header = if attempt == 0 && bad_first {
                lock(&self.counters).bad_signatures += 1;
                sign(b"not-the-app-secret", body)
            } else {
                signature.clone()
            };
            lock(&self.counters).posts += 1;
            if self.post(body, header).await {
                lock(&self.counters).delivered += 1;
                return true;
            }
            lock(&self.counters).failed_posts += 1;
            if self.cancel.is_cancelled() || started.elapsed() + wait > self.retry.give_up_after {
                break;
            }
            tokio::select! {
                () = self.cancel.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
            }
            wait = if wait.is_zero() {
                self.retry.first_backoff
            } else {
                wait.saturating_mul(2).min(self.retry.max_backoff)
            }
            .max(Duration::from_millis(1));
        }
        lock(&self.counters).given_up += 1;
        tracing::debug!(url = %self.url, "the simulator gave up a webhook");
        false
    }

    /// One POST; true when answered 200.
    async fn post(&self, body: &[u8], signature: String) -> bool {
        let request = self
            .client
            .post(&self.url)
            .header(CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .body(body.to_vec())
            .send();
        tokio::select! {
            () = self.cancel.cancelled() => false,
            answer = request => match answer {
                Ok(response) => {
                    let ok = response.status() == reqwest::StatusCode::OK;
                    // Read the answer so the connection can be used again.
                    let _ = response.bytes().await;
                    ok
                }
                Err(error) => {
                    tracing::debug!(%error, "a webhook POST failed");
                    false
                }
            },
        }
    }
}

#[derive(Serialize)]
struct Envelope {
    object: &'static str,
    entry: Vec<Entry>,
}

#[derive(Serialize)]
struct Entry {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<i64>,
    changes: Vec<Change>,
}

#[derive(Serialize)]
struct Change {
    value: Value,
    field: &'static str,
}

/// The notification for `updates`: one entry per WABA, one change per update; with `merge`,
/// `messages` updates of the same number sometimes share one change's arrays, as Meta's do.
fn envelope(updates: Vec<Update>, merge: bool) -> Envelope {
    let mut entries: Vec<Entry> = Vec::new();
    for update in updates {
        let at = entries
            .iter()
            .position(|e| e.id == update.waba_id && e.time.is_some() == update.time.is_some())
            .unwrap_or_else(|| {
                entries.push(Entry {
                    id: update.waba_id.clone(),
                    time: update.time,
                    changes: Vec::new(),
                });
                entries.len() - 1
            });
        let entry = &mut entries[at];
        let shared_change = (merge && update.field == "messages" && ids::chance(0.5))
            .then(|| {
                entry.changes.iter_mut().find(|c| {
                    c.field == "messages"
                        && c.value["metadata"]["phone_number_id"]
                            == update.value["metadata"]["phone_number_id"]
                })
            })
            .flatten();
        match shared_change {
            Some(change) => absorb(&mut change.value, &update.value),
            None => entry.changes.push(Change {
                value: update.value,
                field: update.field,
            }),
        }
    }
    Envelope {
        object: "whatsapp_business_account",
        entry: entries,
    }
}

/// Appends `from`'s items to `into`'s arrays (a contact only once).
fn absorb(into: &mut Value, from: &Value) {
    for key in ["contacts", "messages", "statuses", "errors"] {
        let Some(items) = from.get(key).and_then(Value::as_array) else {
            continue;
        };
        if !into[key].is_array() {
            into[key] = json!([]);
        }
        if let Some(list) = into[key].as_array_mut() {
            for item in items {
                if key != "contacts" || !list.contains(item) {
                    list.push(item.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(waba: &str, number: &str, id: &str) -> Update {
        Update {
            waba_id: waba.into(),
            time: None,
            field: "messages",
            value: json!({"messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "1", "phone_number_id": number},
                "statuses": [{"id": id}]}),
        }
    }

    #[test]
    fn updates_group_by_waba_into_entries() {
        let body = envelope(
            vec![
                status("w1", "n1", "a"),
                status("w2", "n2", "b"),
                status("w1", "n1", "c"),
            ],
            false,
        );
        assert_eq!(body.entry.len(), 2);
        assert_eq!(body.entry[0].changes.len(), 2);
        let json = serde_json::to_value(&body).unwrap();
        assert!(json["entry"][0].get("time").is_none());
    }

    #[test]
    fn merged_changes_keep_every_item() {
        let mut value = status("w", "n", "a").value;
        absorb(&mut value, &status("w", "n", "b").value);
        assert_eq!(value["statuses"].as_array().unwrap().len(), 2);
    }
}
