//! The Cloud API simulator: a stand-in for Meta that speaks the Graph API subset of
//! `spec/cloud-api.md` (§12 is its checklist) and posts signed webhooks back, so treeex can be
//! run and tested offline exactly as against Meta.
//!
//! It is a peer of Meta, not of treeex: it may use `cloud_api` (signatures) and must never use
//! `store`, `app`, `server` or `cli`. Everything it knows lives in memory and is gone when it
//! stops. This module owns the configuration and the running handle; the parts are: `graph`
//! (the Graph endpoints), `validate` and `interactive` (send bodies), `rules` (window, rates,
//! templates), `templates`, `media`, `statuses` (what follows a send), `webhooks` (the signed
//! sender with fault injection), `customers`, `control` (`/_sim/*`), `ledger` (what was sent,
//! stats), `state`, `ids`, `json` and `error`.

mod control;
mod customers;
mod error;
mod graph;
mod ids;
mod interactive;
mod json;
mod ledger;
mod media;
mod rules;
mod state;
mod statuses;
mod templates;
mod validate;
mod webhooks;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::task::JoinHandle;

use state::{Shared, lock};

/// How the simulator behaves. [`Default`] is Meta's behaviour with small delays; tests shorten
/// the times and switch faults on.
#[derive(Clone)]
pub struct SimulatorConfig {
    /// Where the Graph endpoints and `/_sim/*` listen (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// Where signed webhooks go (treeex's `POST /webhook`); `None`: none are sent.
    pub webhook_url: Option<String>,
    /// The app secret that signs webhooks.
    pub app_secret: String,
    /// Accepted sends per second per phone number id (default 80); above it 130429. 0: no limit.
    pub mps: u32,
    /// Simulated customers who write in now and then and answer the business, with generated
    /// names and numbers.
    pub customers: usize,
    /// Simulated customers with these names and numbers, besides the generated ones.
    pub named_customers: Vec<NamedCustomer>,
    /// APPROVED templates every WABA starts with, besides the three of INTERFACE.md.
    pub templates: Vec<TemplateSeed>,
    /// Fault injection on webhooks, all off by default.
    pub faults: Faults,
    /// How a free-form send outside the customer window fails.
    pub window_failure: WindowFailure,
    /// Minimum and maximum random delay before each status (sent, delivered, read).
    pub delays: (Duration, Duration),
    /// Business numbers with their display number and WABA. A number not listed is accepted
    /// too, with a display number and WABA id derived from its id.
    pub numbers: Vec<BusinessNumber>,
    /// The customer service window (24 h): how long a customer message allows free-form sends.
    pub window: Duration,
    /// The pair rate limit (one business number to one customer); above it 131056.
    pub pair_limit: PairLimit,
    /// How webhooks are retried (Meta: immediately, then backing off, for up to 36 h).
    pub retry: RetryPolicy,
    /// How long a new template stays PENDING before its review verdict.
    pub template_review: Duration,
    /// How long a media download URL works (Meta: 5 minutes).
    pub media_url_ttl: Duration,
    /// How often simulated customers write and answer.
    pub customer_pace: CustomerPace,
    /// The verify token [`Simulator::verify_webhook`] presents, as Meta does when the callback
    /// URL is saved.
    pub verify_token: Option<String>,
    /// When set, the only recipients a number may send to (a test number's allowed list);
    /// others get 131030.
    pub allowed_recipients: Option<Vec<String>>,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            webhook_url: None,
            app_secret: String::new(),
            mps: 80,
            customers: 0,
            named_customers: Vec::new(),
            templates: Vec::new(),
            faults: Faults::default(),
            window_failure: WindowFailure::default(),
            delays: (Duration::from_millis(20), Duration::from_millis(200)),
            numbers: Vec::new(),
            window: Duration::from_secs(24 * 60 * 60),
            pair_limit: PairLimit::default(),
            retry: RetryPolicy::default(),
            template_review: Duration::from_secs(2),
            media_url_ttl: Duration::from_secs(5 * 60),
            customer_pace: CustomerPace::default(),
            verify_token: None,
            allowed_recipients: None,
        }
    }
}

/// Webhook faults Meta's delivery is known for (spec §4, §2.5). All off by default.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Probability that a webhook body is delivered a second time, byte for byte.
    pub duplicate: f64,
    /// The statuses of one message may go out in any order.
    pub shuffle: bool,
    /// Up to this many updates per POST (grouped into several entries and changes); 0 or 1: one.
    pub batch: usize,
    /// Probability that a body's first delivery carries a wrong signature (retries are right).
    pub bad_signature: f64,
    /// Probability that a message is read without a `delivered` status.
    pub skip_delivered: f64,
}

/// How a free-form send outside the customer window fails (spec §6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WindowFailure {
    /// HTTP 200 with a wamid, then a signed `failed` status with 131047 (Meta's usual way).
    #[default]
    Async,
    /// HTTP 400 with 131047.
    Sync,
}

/// A business phone number as the simulator presents it in webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessNumber {
    pub phone_number_id: String,
    pub display_phone_number: String,
    pub waba_id: String,
}

/// A simulated customer with a name and number of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedCustomer {
    pub name: String,
    pub wa_id: String,
}

/// A template a WABA starts with, APPROVED: Meta's `components` as `GET message_templates`
/// lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSeed {
    pub name: String,
    pub language: String,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`.
    pub category: String,
    pub components: serde_json::Value,
}

/// At most `burst` accepted sends from one number to one customer within `per` (spec §7: 45 in
/// 6 s). `burst` 0: no pair limit.
#[derive(Debug, Clone, Copy)]
pub struct PairLimit {
    pub burst: u32,
    pub per: Duration,
}

impl Default for PairLimit {
    fn default() -> Self {
        PairLimit {
            burst: 45,
            per: Duration::from_secs(6),
        }
    }
}

/// Webhook retries: the first retry is immediate, then the wait doubles from `first_backoff` up
/// to `max_backoff`; no attempt starts after `give_up_after` from the first. Each POST waits at
/// most `timeout` for an answer.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    pub give_up_after: Duration,
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(15 * 60),
            give_up_after: Duration::from_secs(36 * 60 * 60),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The rhythm of simulated customers: each writes once in every `write_every` (a random time
/// between the two), and answers a message it read with `reply_probability`, after `reply_after`.
#[derive(Debug, Clone, Copy)]
pub struct CustomerPace {
    pub write_every: (Duration, Duration),
    pub reply_after: (Duration, Duration),
    pub reply_probability: f64,
}

impl Default for CustomerPace {
    fn default() -> Self {
        CustomerPace {
            write_every: (Duration::from_secs(20), Duration::from_secs(90)),
            reply_after: (Duration::from_secs(2), Duration::from_secs(10)),
            reply_probability: 0.7,
        }
    }
}

/// Why the simulator refused a request of its own API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    #[error("{0}")]
    Invalid(String),
    #[error("the webhook endpoint failed verification: {0}")]
    Verification(String),
}

/// A running simulator. Clones share it; [`Simulator::shutdown`] stops it for all of them.
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: Arc<Mutex<Option<JoinHandle<std::io::Result<()>>>>>,
}

impl Simulator {
    /// Binds `config.listen` and starts serving, sending webhooks and running the customers.
    pub async fn start(config: SimulatorConfig) -> std::io::Result<Simulator> {
        crate::install_tls_provider();
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let shared = Shared::new(config, format!("http://{addr}"))?;
        customers::start(&shared);
        let cancel = shared.cancel.clone();
        let app = router(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(cancel.cancelled_owned())
                .await
        });
        Ok(Simulator {
            shared,
            addr,
            server: Arc::new(Mutex::new(Some(server))),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, for `[whatsapp] graph_base_url`.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// A customer writes a text (as `POST /_sim/inbound`): opens the customer window and posts
    /// the signed webhook. Returns the message's wamid.
    pub async fn inbound(
        &self,
        phone_number_id: &str,
        from: &str,
        name: &str,
        text: &str,
    ) -> Result<String, SimError> {
        customers::write_in(&self.shared, phone_number_id, from, name, text, None)
    }

    /// Meta's verification GET (spec §1), made to `webhook_url` with `verify_token`:
    /// `hub.mode=subscribe`, a random `hub.challenge`; passes when the answer is 200 with exactly
    /// the challenge. The outcome also shows in `GET /_sim/stats` (`webhooks.verified`).
    pub async fn verify_webhook(&self) -> Result<(), SimError> {
        let token = self
            .shared
            .config
            .verify_token
            .as_deref()
            .ok_or_else(|| SimError::Invalid("no verify_token is configured".into()))?;
        self.shared
            .webhooks
            .verify(token)
            .await
            .map_err(SimError::Verification)
    }

    /// Stops serving (requests in flight finish), sending webhooks and the customers.
    pub async fn shutdown(self) {
        self.shared.cancel.cancel();
        let server = lock(&self.server).take();
        if let Some(server) = server {
            match server.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "the simulator stopped with an error"),
                Err(error) => tracing::warn!(%error, "the simulator task failed"),
            }
        }
    }
}

/// Uploads can be 100 MB (documents); the limit leaves room for the multipart framing.
const BODY_LIMIT: usize = 101 * 1024 * 1024;

fn router(shared: Arc<Shared>) -> Router {
    control::routes()
        .merge(media::routes())
        .fallback(graph::dispatch)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared)
}
