//! The outbox: every outbound message, from any source, goes through here.
//!
//! `enqueue` checks the rules before sending (each refusal names its rule), then writes the
//! message as `pending` together with the conversation update and its outbox row, and wakes the
//! workers with a NOTIFY. An `OutboxWorker` claims due messages with `FOR UPDATE SKIP LOCKED`
//! under a lease, waits for its number's rate limiter, marks the message as leaving, calls the
//! Graph API, and records the wamid and `sent`, or the classified failure. Retryable failures
//! come back with backoff and jitter up to `[outbox] max_attempts`; a request that left without
//! an answer is ambiguous and never resent on its own (its status webhook settles it, matched by
//! the message id sent as `biz_opaque_callback_data`). Any number of workers in any number of
//! processes may run at once. A media message's file is uploaded to Meta just before the message
//! leaves (`app::media`), and the send names it by Meta's media id.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::BackoffBuilder;
use chrono::{DateTime, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use secrecy::SecretString;
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::app::media::{self, MediaStore, Staged, UploadFailure};
use crate::cloud_api::graph::{
    ErrorClass, GraphClient, GraphError, MediaSource, OutboundBody, OutboundMessage,
};
use crate::cloud_api::webhook::{MediaKind, MessageContent};
use crate::domain::{MessageStatus, WaId, WorkspaceId, template};
use crate::store::messages::Transition;
use crate::store::outbox::Claimed;
use crate::store::{
    Db, StoreError, campaigns, contacts, conversations, events, messages, outbox, phones, team,
    templates,
};

/// What to send.
#[derive(Debug, Clone)]
pub enum Content {
    Text {
        body: String,
        preview_url: bool,
    },
    Template {
        name: String,
        language: String,
        params: Vec<String>,
    },
    /// A file already checked and in the media store (`app::media::stage`); the worker uploads
    /// it to Meta just before the message leaves.
    Media(Staged),
}

/// One message to send, from whoever asks (an agent, the command line, a campaign).
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub workspace: WorkspaceId,
    /// Meta's id of the business number to send from.
    pub phone_number_id: String,
    pub to: WaId,
    pub content: Content,
    /// The wamid of the message this one replies to.
    pub reply_to: Option<String>,
    /// The agent who wrote it.
    pub sent_by: Option<Uuid>,
}

/// A rule before sending said no; the message names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the customer's 24-hour window closed at {}; send an approved template",
        .0.format("%Y-%m-%d %H:%M UTC")
    )]
    WindowClosed(DateTime<Utc>),
    #[error("{0} has not written to this number yet, so only an approved template can be sent")]
    WindowNeverOpened(String),
    #[error("{}; `{template}` is a MARKETING template", consent_state(.wa_id, .opted_out_at))]
    NotOptedIn {
        wa_id: String,
        template: String,
        opted_out_at: Option<DateTime<Utc>>,
    },
    #[error(
        "template `{name}` ({language}) is not known for this number's WhatsApp Business Account; `treeex template sync` fetches the templates"
    )]
    UnknownTemplate { name: String, language: String },
    #[error(
        "template `{name}` ({language}) is {status}, and only an APPROVED template can be sent"
    )]
    TemplateNotApproved {
        name: String,
        language: String,
        status: String,
    },
    #[error("{0}")]
    Parameters(String),
    #[error("{0}")]
    Limit(String),
}

fn consent_state(wa_id: &str, opted_out_at: &Option<DateTime<Utc>>) -> String {
    match opted_out_at {
        Some(at) => format!(
            "{wa_id} opted out of marketing messages at {}",
            at.format("%Y-%m-%d %H:%M UTC")
        ),
        None => format!("{wa_id} has not opted in to marketing messages"),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The message written to the outbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Queued {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub conversation_id: Uuid,
    pub status: MessageStatus,
}

/// Checks the rules and writes the message to the outbox, in one transaction.
pub async fn enqueue(db: &Db, outgoing: &Outgoing) -> Result<Queued, OutboxError> {
    let mut tx = db.pool().begin().await.map_err(StoreError::from)?;
    let sender = phones::sender(&mut tx, outgoing.workspace, &outgoing.phone_number_id).await?;
    let contact = contacts::upsert_from_webhook(
        &mut tx,
        outgoing.workspace,
        Some(outgoing.to.as_str()),
        None,
        None,
    )
    .await?;
    let conversation =
        conversations::open_for_contact(&mut tx, outgoing.workspace, sender.id, contact).await?;
    let context = conversations::send_context(&mut tx, outgoing.workspace, conversation).await?;

    let (body, rendered) = match &outgoing.content {
        Content::Text { body, preview_url } => {
            window_open(context.window_expires_at, &outgoing.to)?;
            let body = OutboundBody::Text {
                body: body.clone(),
                preview_url: *preview_url,
            };
            (body, None)
        }
        Content::Template {
            name,
            language,
            params,
        } => {
            let found =
                templates::find(&mut tx, outgoing.workspace, &sender.waba_id, name, language)
                    .await?
                    .ok_or_else(|| Refusal::UnknownTemplate {
                        name: name.clone(),
                        language: language.clone(),
                    })?;
            if found.status != "APPROVED" {
                return Err(Refusal::TemplateNotApproved {
                    name: name.clone(),
                    language: language.clone(),
                    status: found.status,
                }
                .into());
            }
            if found.category == "MARKETING" && !context.opted_in {
                return Err(Refusal::NotOptedIn {
                    wa_id: outgoing.to.to_string(),
                    template: name.clone(),
                    opted_out_at: context.opted_out_at,
                }
                .into());
            }
            let vars = template::check_parameters(name, &found.components, params)
                .map_err(|e| Refusal::Parameters(e.0))?;
            let body = OutboundBody::Template {
                name: name.clone(),
                language: language.clone(),
                components: template::send_components(&vars, params),
            };
            (body, Some(template::render(&found.components, params)))
        }
        Content::Media(file) => {
            // Media is free-form: only inside the customer's window.
            window_open(context.window_expires_at, &outgoing.to)?;
            let body = OutboundBody::Media {
                kind: file.kind,
                // A stand-in for the check below; the stored body names no id until the upload.
                source: MediaSource::Id(file.id.to_string()),
                caption: file.caption.clone(),
                filename: file
                    .filename
                    .clone()
                    .filter(|_| file.kind == MediaKind::Document),
            };
            (body, None)
        }
    };
    let message = OutboundMessage {
        to: outgoing.to.to_string(),
        reply_to: outgoing.reply_to.clone(),
        callback_data: None,
        body,
    };
    message
        .validate()
        .map_err(|e| Refusal::Limit(e.to_string()))?;
    let mut content = message.to_json();
    if let Content::Media(file) = &outgoing.content {
        media::strip_media_id(&mut content, file.kind);
    }
    let preview = rendered.clone().unwrap_or_else(|| match &outgoing.content {
        Content::Text { body, .. } => body.clone(),
        Content::Template { name, .. } => format!("Template: {name}"),
        Content::Media(file) => media_preview(file),
    });
    let id = messages::insert_outbound(
        &mut tx,
        &messages::NewOutbound {
            workspace: outgoing.workspace,
            conversation,
            phone_number: sender.id,
            message_type: message.type_name(),
            content: &content,
            rendered_text: rendered.as_deref(),
            context_wa_message_id: outgoing.reply_to.as_deref(),
            sent_by: outgoing.sent_by,
        },
    )
    .await?;
    if let Content::Media(file) = &outgoing.content {
        let row = crate::store::media::NewOutbound {
            id: file.id,
            storage_url: &file.storage_url,
            mime_type: &file.mime_type,
            sha256: &file.sha256,
            size_bytes: i64::try_from(file.size).unwrap_or(i64::MAX),
            filename: file.filename.as_deref(),
        };
        crate::store::media::insert_outbound(&mut tx, outgoing.workspace, id, &row).await?;
    }
    let agent_reply = outgoing.sent_by.is_some();
    conversations::record_outbound(
        &mut tx,
        outgoing.workspace,
        conversation,
        &preview,
        agent_reply,
    )
    .await?;
    if let Some(agent) = outgoing.sent_by {
        team::record_agent_reply(&mut tx, outgoing.workspace, conversation, agent).await?;
    }
    outbox::queue(&mut tx, outgoing.workspace, sender.id, id).await?;
    tx.commit().await.map_err(StoreError::from)?;
    events::announce(db, &[(outgoing.workspace, conversation)]).await;
    if let Err(error) = events::wake_outbox(db).await {
        tracing::warn!(%error, "could not wake the outbox workers; they poll every second");
    }
    Ok(Queued {
        id,
        workspace_id: outgoing.workspace.0,
        conversation_id: conversation,
        status: MessageStatus::Pending,
    })
}

/// The free-form rule: the customer wrote within the last 24 hours.
fn window_open(expires_at: Option<DateTime<Utc>>, to: &WaId) -> Result<(), Refusal> {
    match expires_at {
        Some(closed) if closed <= Utc::now() => Err(Refusal::WindowClosed(closed)),
        None => Err(Refusal::WindowNeverOpened(to.to_string())),
        Some(_) => Ok(()),
    }
}

/// The inbox preview of a media message: as an inbound one of its kind reads.
fn media_preview(file: &Staged) -> String {
    MessageContent::Media {
        kind: file.kind,
        media_id: String::new(),
        mime_type: Some(file.mime_type.clone()),
        sha256: None,
        caption: file.caption.clone(),
        filename: file.filename.clone(),
        voice: false,
        animated: false,
    }
    .preview()
}

/// How often expired claims are taken back.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// How long after its last reserved send slot a number stays its worker's: time for that
/// worker's late sends to leave before another worker may send for the number.
const SENDING_TAIL: Duration = Duration::from_secs(2);

/// A number's pace: evenly spaced sends a hair under its cap, so that network jitter between
/// here and Meta cannot make any one second hold more than `mps`. One worker at a time sends for
/// a number, the one that reserved its latest send slots in the database, and that worker's
/// limiter keeps any two of its sends at least a period apart: messages held up past their slots
/// (a busy machine, a slow database) leave evenly once they can, never in a burst, and never
/// alongside another process's. A late message is not given a new slot: under load, every
/// message asking the database for one again was what kept them late. Another worker takes a
/// number over once its worker gave it back (stopping, or idle, with nothing leaving), starting
/// within a period; or [`SENDING_TAIL`] after that worker's last slot, starting after that slot.
#[derive(Clone)]
struct Pace {
    per_second: f64,
    period: Duration,
    limiter: Arc<DefaultDirectRateLimiter>,
}

impl Pace {
    /// 3% under the cap, and at least three sends a second under it: at a low cap 3% is less
    /// than one send, and requests held up on their way for a few tens of milliseconds (a busy
    /// machine) would arrive crowded into one second.
    fn per_second(mps: i32) -> f64 {
        let cap = f64::from(mps.max(1));
        (cap * 0.97).min(cap - 3.0).max(cap * 0.5)
    }

    fn new(mps: i32) -> Self {
        let per_second = Self::per_second(mps);
        let period = Duration::from_secs_f64(1.0 / per_second);
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::MIN);
        Pace {
            per_second,
            period,
            limiter: Arc::new(RateLimiter::direct(quota)),
        }
    }
}

/// How a worker behaves.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Attempts before a retryable failure counts as final.
    pub max_attempts: u32,
    /// How long a claim holds.
    pub lease: Duration,
    /// Messages claimed at once.
    pub batch: i64,
    /// Requests in flight at once. One worker sends for a number at a time, so this bounds the
    /// number's rate to about this many over Meta's answer time: 256 keep 1,000 a second going
    /// with answers taking a quarter of a second.
    pub concurrency: usize,
    /// The unit of retry waits: the first retry comes after 1 (Meta unavailable), 4 (pair rate
    /// limit) or 5 (rate limits) units, growing from there. One second; tests shorten it.
    pub retry_unit: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            lease: Duration::from_secs(60),
            batch: 64,
            concurrency: 256,
            retry_unit: Duration::from_secs(1),
        }
    }
}

/// One outbox worker (its clones share its name, its claims and its limit on requests in
/// flight).
#[derive(Clone)]
pub struct OutboxWorker {
    db: Db,
    graph: GraphClient,
    name: String,
    settings: WorkerSettings,
    /// Requests to Meta in flight at once.
    in_flight: Arc<Semaphore>,
    /// Where the files of media messages are, for their upload.
    media: Option<MediaStore>,
    /// Each number's pace in this process.
    paces: Arc<Mutex<HashMap<Uuid, Pace>>>,
}

impl OutboxWorker {
    pub fn new(db: Db, graph: GraphClient, settings: WorkerSettings) -> Self {
        Self {
            db,
            graph,
            name: format!("{}-{}", std::process::id(), Uuid::new_v4().simple()),
            in_flight: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            settings,
            media: None,
            paces: Arc::default(),
        }
    }

    /// The same worker, reading the files of media messages from `store`. Without one, a media
    /// message whose file is not uploaded yet waits and finally fails.
    pub fn with_media(mut self, store: MediaStore) -> Self {
        self.media = Some(store);
        self
    }

    /// Sends until `stop`: woken by NOTIFY, and every second for retries that come due.
    pub async fn run(self, stop: CancellationToken) {
        let mut listener = match sqlx::postgres::PgListener::connect_with(self.db.pool()).await {
            Ok(mut listener) => match listener.listen(events::OUTBOX_CHANNEL).await {
                Ok(()) => Some(listener),
                Err(error) => {
                    tracing::warn!(%error, "the outbox worker cannot LISTEN; it polls every second");
                    None
                }
            },
            Err(error) => {
                tracing::warn!(%error, "the outbox worker cannot LISTEN; it polls every second");
                None
            }
        };
        let batch = self.settings.batch.max(1) as usize;
        // Claimed messages not yet answered: at most two batches, so that the next batch is
        // claimed (and its send slots reserved) while the current one is still leaving.
        let outstanding = Arc::new(Semaphore::new(2 * batch));
        let mut sends = JoinSet::new();
        let (recorder, recording) = Recorder::start(self.db.clone());
        let mut last_sweep = Instant::now();
        // Whether this worker may be sending for a number since it last gave them back.
        let mut holding = false;
        loop {
            while sends.try_join_next().is_some() {}
            if last_sweep.elapsed() >= SWEEP_EVERY {
                self.sweep().await;
                last_sweep = Instant::now();
            }
            let room = tokio::select! {
                () = stop.cancelled() => break,
                room = outstanding.clone().acquire_many_owned(batch as u32) => room,
            };
            let Ok(room) = room else { break };
            match self
                .dispatch(None, room, &mut sends, &stop, &recorder)
                .await
            {
                // A full batch: there may be more right away.
                Ok(claimed) if claimed >= batch => {
                    holding = true;
                    continue;
                }
                Ok(0) if holding && sends.is_empty() => {
                    // Idle with nothing leaving: another process need not wait for the tail.
                    self.give_back_sending().await;
                    holding = false;
                }
                Ok(0) => {}
                Ok(_) => holding = true,
                Err(error) => tracing::warn!(%error, "the outbox worker could not claim messages"),
            }
            let wake = async {
                match listener.as_mut() {
                    Some(listener) => {
                        let _ = tokio::time::timeout(Duration::from_secs(1), listener.recv()).await;
                        while listener.next_buffered().is_some() {}
                    }
                    None => tokio::time::sleep(Duration::from_secs(1)).await,
                }
            };
            tokio::select! {
                () = stop.cancelled() => break,
                () = wake => {}
            }
        }
        // Messages still waiting for their slot give their claims back; requests in flight
        // finish and are recorded.
        while sends.join_next().await.is_some() {}
        drop(recorder);
        let _ = recording.await;
        self.give_back_sending().await;
    }

    /// Lets other workers send for this one's numbers now rather than when its slots run out.
    async fn give_back_sending(&self) {
        if let Err(error) = phones::give_back_sending(&self.db, &self.name).await {
            tracing::warn!(%error, "could not give back the numbers this worker sent for");
        }
    }

    /// The number's pace in this process, made again when its rate changed.
    fn pace(&self, phone_number: Uuid, mps: i32) -> Pace {
        let mut paces = self.paces.lock().unwrap_or_else(|e| e.into_inner());
        match paces.get(&phone_number) {
            Some(pace) if pace.per_second == Pace::per_second(mps) => pace.clone(),
            _ => {
                let pace = Pace::new(mps);
                paces.insert(phone_number, pace.clone());
                pace
            }
        }
    }

    /// Sends one message now if it is due and unclaimed (`send --wait`); false when it was not
    /// this worker's to send.
    pub async fn send_now(&self, message: Uuid) -> Result<bool, StoreError> {
        let mut sends = JoinSet::new();
        let room = Arc::new(Semaphore::new(1))
            .acquire_many_owned(1)
            .await
            .map_err(|_| StoreError::Invalid("the send was stopped".into()))?;
        let (recorder, recording) = Recorder::start(self.db.clone());
        let claimed = self
            .dispatch(
                Some(message),
                room,
                &mut sends,
                &CancellationToken::new(),
                &recorder,
            )
            .await;
        while sends.join_next().await.is_some() {}
        drop(recorder);
        let _ = recording.await;
        self.give_back_sending().await;
        Ok(claimed? > 0)
    }

    async fn sweep(&self) {
        match outbox::sweep(&self.db).await {
            Ok((0, 0)) => {}
            Ok((requeued, ambiguous)) => {
                tracing::warn!(
                    requeued,
                    ambiguous,
                    "took back the outbox claims of a stopped worker"
                )
            }
            Err(error) => tracing::warn!(%error, "could not sweep the outbox"),
        }
        if let Ok(depth) = outbox::depth(&self.db).await {
            metrics::gauge!("treeex_outbox_depth").set(depth as f64);
        }
    }

    /// Claims up to as many messages as `room` holds permits (all due ones, or only `only`),
    /// reserves their numbers' send slots, and starts each message's delivery at its slot.
    /// Messages of a number another worker took meanwhile go back to the queue for that one.
    /// Returns how many it claimed.
    async fn dispatch(
        &self,
        only: Option<Uuid>,
        mut room: OwnedSemaphorePermit,
        sends: &mut JoinSet<()>,
        stop: &CancellationToken,
        recorder: &Recorder,
    ) -> Result<usize, StoreError> {
        let claimed = outbox::claim(
            &self.db,
            &self.name,
            room.num_permits() as i64,
            self.settings.lease.as_secs_f64(),
            only,
        )
        .await?;
        let count = claimed.len();
        let mut by_number: Vec<(Uuid, i32, Vec<Claimed>)> = Vec::new();
        for message in claimed {
            match by_number
                .iter_mut()
                .find(|(n, ..)| *n == message.phone_number)
            {
                Some((_, _, messages)) => messages.push(message),
                None => by_number.push((message.phone_number, message.mps, vec![message])),
            }
        }
        for (phone_number, mps, messages) in by_number {
            let pace = self.pace(phone_number, mps);
            let first = match phones::reserve_slots(
                &self.db,
                phone_number,
                &self.name,
                messages.len(),
                pace.per_second,
                SENDING_TAIL,
            )
            .await
            {
                Ok(Some(wait)) => Instant::now() + wait,
                Ok(None) => {
                    let ids: Vec<Uuid> = messages.iter().map(|m| m.message_id).collect();
                    if let Err(error) = outbox::release(&self.db, &self.name, &ids).await {
                        // Then they go back when their claims run out.
                        tracing::warn!(%error, "could not give back claims of a number another worker sends for");
                    }
                    continue;
                }
                Err(error) => {
                    // Unsent, they go back to the queue when their claims run out.
                    tracing::warn!(%error, "could not reserve send slots");
                    continue;
                }
            };
            for (i, message) in messages.into_iter().enumerate() {
                let slot = first + pace.period.mul_f64(i as f64);
                let permit = room.split(1);
                let worker = self.clone();
                let stop = stop.clone();
                let recorder = recorder.clone();
                let pace = pace.clone();
                sends.spawn(async move {
                    let _permit = permit;
                    if let Err(error) = worker.deliver(message, &pace, slot, &stop, &recorder).await {
                        tracing::warn!(%error, "could not record a send; its claim will expire and be swept");
                    }
                });
            }
        }
        Ok(count)
    }

    async fn deliver(
        &self,
        claimed: Claimed,
        pace: &Pace,
        slot: Instant,
        stop: &CancellationToken,
        recorder: &Recorder,
    ) -> Result<(), StoreError> {
        let Some(claimed) = self.upload_media(claimed).await? else {
            return Ok(()); // the upload failed: retried later, or the message failed
        };
        tokio::select! {
            () = tokio::time::sleep_until(slot) => {}
            () = stop.cancelled() => {}
        }
        if stop.is_cancelled() {
            // Not sent: back to the queue for whichever worker runs next.
            return outbox::release(&self.db, &self.name, &[claimed.message_id]).await;
        }
        let in_flight = self.in_flight.acquire().await;
        if !outbox::mark_sending(&self.db, &self.name, claimed.message_id).await? {
            return Ok(()); // the lease ran out while waiting; the sweeper gives it back
        }
        pace.limiter.until_ready().await;
        let Some(to) = claimed.to_wa_id.clone() else {
            return self
                .fail(
                    claimed.message_id,
                    None,
                    "the contact has no wa_id to send to",
                    None,
                )
                .await;
        };
        let mut body = claimed.content.clone();
        body["to"] = Value::String(to);
        // Meta echoes this in the status webhooks: what settles an ambiguous send.
        body["biz_opaque_callback_data"] = Value::String(claimed.message_id.to_string());
        let token = SecretString::from(claimed.access_token.clone());
        let answer = self
            .graph
            .send_body(&token, &claimed.phone_number_id, &body)
            .await;
        drop(in_flight);
        match answer {
            Ok(accepted) => {
                metrics::counter!("treeex_sends_total", "result" => "sent").increment(1);
                recorder
                    .record(outbox::Accepted {
                        message_id: claimed.message_id,
                        wa_message_id: accepted.wa_message_id,
                        at: Utc::now(),
                    })
                    .await;
                Ok(())
            }
            Err(error) if error.is_ambiguous() => {
                metrics::counter!("treeex_sends_total", "result" => "ambiguous").increment(1);
                tracing::warn!(message = %claimed.message_id, %error, "a send may or may not have reached Meta; its status webhook will tell");
                outbox::mark_ambiguous(&self.db, claimed.message_id, &error.to_string()).await
            }
            Err(error) => self.after_error(&claimed, &error).await,
        }
    }

    /// A media message's file goes to Meta first, unless an earlier attempt uploaded it: the
    /// send names it by Meta's media id. Uploading again is harmless (it only leaves an unused
    /// copy at Meta), so this happens before the message is marked as leaving. None when the
    /// upload failed and was recorded (to be retried like a send, or as the message's failure).
    async fn upload_media(&self, mut claimed: Claimed) -> Result<Option<Claimed>, StoreError> {
        let Some(kind) = media::upload_needed(&claimed.content) else {
            return Ok(Some(claimed));
        };
        match media::upload(&self.db, &self.graph, self.media.as_ref(), &claimed).await {
            Ok(wa_media_id) => {
                media::name_media_id(&mut claimed.content, kind, &wa_media_id);
                Ok(Some(claimed))
            }
            Err(UploadFailure::Store(error)) => Err(error),
            Err(UploadFailure::Final(reason)) => {
                metrics::counter!("treeex_sends_total", "result" => "failed").increment(1);
                self.fail(claimed.message_id, None, &reason, None).await?;
                Ok(None)
            }
            Err(UploadFailure::Graph { error, attempts }) => {
                // Counted as the send's attempts, so the usual retries and their limit apply.
                let counted = i32::try_from(attempts.saturating_sub(1)).unwrap_or(i32::MAX);
                claimed.attempts = claimed.attempts.max(counted);
                self.after_error(&claimed, &error).await?;
                Ok(None)
            }
            Err(UploadFailure::Retry { reason, attempts }) => {
                if attempts < self.settings.max_attempts {
                    metrics::counter!("treeex_sends_total", "result" => "retry").increment(1);
                    let unit = self.settings.retry_unit;
                    let delay = backoff(unit, unit * 60, 2.0, attempts);
                    let next = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                    outbox::retry_at(&self.db, claimed.message_id, next, &reason).await?;
                } else {
                    metrics::counter!("treeex_sends_total", "result" => "failed").increment(1);
                    let title = format!("{reason} (gave up after {attempts} attempts)");
                    self.fail(claimed.message_id, None, &title, None).await?;
                }
                Ok(None)
            }
        }
    }

    async fn after_error(&self, claimed: &Claimed, error: &GraphError) -> Result<(), StoreError> {
        let attempts = u32::try_from(claimed.attempts).unwrap_or(0) + 1;
        let class = error.class();
        // (first wait, longest wait, growth) in retry units: the pair rate limit (131056) asks
        // for 4^X seconds.
        let unit = self.settings.retry_unit;
        let retry = match class {
            ErrorClass::RetryNow => Some((unit, unit * 60, 2.0)),
            ErrorClass::RetryLater => Some((unit * 5, unit * 300, 2.0)),
            ErrorClass::RetryRecipientLater => Some((unit * 4, unit * 1024, 4.0)),
            _ => None,
        };
        if let Some((first, longest, factor)) = retry
            && attempts < self.settings.max_attempts
        {
            metrics::counter!("treeex_sends_total", "result" => "retry").increment(1);
            let delay = backoff(first, longest, factor, attempts);
            let next = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
            return outbox::retry_at(&self.db, claimed.message_id, next, &error.to_string()).await;
        }
        metrics::counter!("treeex_sends_total", "result" => "failed").increment(1);
        let (code, title, details) = match error {
            GraphError::Api(api) => (
                i32::try_from(api.code).ok(),
                api.title.clone(),
                api.details.clone(),
            ),
            other => (None, other.to_string(), None),
        };
        let title = if retry.is_some() {
            format!("{title} (gave up after {attempts} attempts)")
        } else {
            title
        };
        self.fail(claimed.message_id, code, &title, details.as_deref())
            .await
    }

    async fn fail(
        &self,
        message: Uuid,
        code: Option<i32>,
        title: &str,
        details: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.db.pool().begin().await?;
        if let Some((workspace, conversation)) =
            outbox::record_failed(&mut tx, message, code, title, details).await?
        {
            let moved = [Transition {
                message_id: message,
                conversation_id: conversation,
                from: MessageStatus::Pending,
                to: MessageStatus::Failed,
            }];
            campaigns::apply_transitions(&mut tx, &moved).await?;
            tx.commit().await?;
            events::announce(&self.db, &[(workspace, conversation)]).await;
        } else {
            tx.commit().await?;
        }
        Ok(())
    }
}

/// Records accepted sends in groups: each answer from Meta waits for the group being written
/// and goes into the next, one transaction for all. A send per transaction would make every
/// send of a campaign wait for the lock on the campaign's counters, and pay a commit and a
/// NOTIFY each; grouped, the rate is bounded by Meta's pace, not by the database's round trips.
/// An answer that could not be recorded leaves its message `sending`: the sweeper makes it
/// ambiguous and its status webhook settles it, as after a crash.
#[derive(Clone)]
struct Recorder {
    queue: mpsc::UnboundedSender<Answer>,
}

/// One accepted send waiting to be recorded, and who waits for that.
struct Answer {
    accepted: outbox::Accepted,
    done: oneshot::Sender<()>,
    /// Groups that found its message held by another transaction.
    held: u32,
}

/// The most answers recorded in one transaction.
const RECORD_GROUP: usize = 512;

/// How often an answer whose message another transaction holds is tried again before it is
/// left to the sweeper and its status webhook.
const HELD_TRIES: u32 = 100;

impl Recorder {
    /// The recorder and its task, which ends once every clone of the recorder is dropped and
    /// what they handed in is recorded.
    fn start(db: Db) -> (Self, tokio::task::JoinHandle<()>) {
        let (queue, mut answers) = mpsc::unbounded_channel::<Answer>();
        let task = tokio::spawn(async move {
            let mut group: Vec<Answer> = Vec::new();
            let mut held: Vec<Answer> = Vec::new();
            loop {
                if held.is_empty() {
                    if answers.recv_many(&mut group, RECORD_GROUP).await == 0 {
                        break;
                    }
                } else {
                    // The transaction holding them is a webhook's, done in milliseconds.
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    group.append(&mut held);
                    while group.len() < RECORD_GROUP {
                        match answers.try_recv() {
                            Ok(answer) => group.push(answer),
                            Err(_) => break,
                        }
                    }
                }
                let accepted: Vec<outbox::Accepted> =
                    group.iter().map(|a| a.accepted.clone()).collect();
                let again = match record_group(&db, &accepted).await {
                    Ok(again) => again,
                    Err(error) => {
                        tracing::warn!(%error, sends = accepted.len(), "could not record sends Meta accepted; their status webhooks will settle them");
                        Vec::new()
                    }
                };
                for mut answer in group.drain(..) {
                    if again.contains(&answer.accepted.message_id) && answer.held < HELD_TRIES {
                        answer.held += 1;
                        held.push(answer);
                    } else {
                        // Its sender learns the answer is written (or will be settled).
                        let _ = answer.done.send(());
                    }
                }
            }
        });
        (Self { queue }, task)
    }

    /// Hands in one accepted send and waits until its group is written.
    async fn record(&self, accepted: outbox::Accepted) {
        let (done, written) = oneshot::channel();
        let answer = Answer {
            accepted,
            done,
            held: 0,
        };
        if self.queue.send(answer).is_ok() {
            let _ = written.await;
        }
    }
}

/// One group of accepted sends in one transaction (run again when the database asks): the
/// messages become `sent`, statuses that beat Meta's answer are applied, the campaigns'
/// recipient rows and counters move, and the conversations are announced once. Returns the
/// sends whose message another transaction held, to be tried again.
async fn record_group(db: &Db, accepted: &[outbox::Accepted]) -> Result<Vec<Uuid>, StoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match try_record_group(db, accepted).await {
            Err(StoreError::Retry(_)) if attempt < 3 => continue,
            result => return result,
        }
    }
}

async fn try_record_group(db: &Db, accepted: &[outbox::Accepted]) -> Result<Vec<Uuid>, StoreError> {
    let mut tx = db.pool().begin().await?;
    let group = outbox::record_sent(&mut tx, accepted).await?;
    let mut moved = Vec::with_capacity(group.recorded.len());
    for sent in &group.recorded {
        moved.push(Transition {
            message_id: sent.message_id,
            conversation_id: sent.conversation_id,
            from: MessageStatus::Pending,
            to: MessageStatus::Sent,
        });
        if sent.parked {
            moved.extend(
                messages::apply_parked(
                    &mut tx,
                    WorkspaceId(sent.workspace_id),
                    sent.phone_number_id,
                    &sent.wa_message_id,
                )
                .await?,
            );
        }
    }
    campaigns::apply_transitions(&mut tx, &moved).await?;
    tx.commit().await?;
    let mut changed: Vec<(WorkspaceId, Uuid)> = group
        .recorded
        .iter()
        .map(|sent| (WorkspaceId(sent.workspace_id), sent.conversation_id))
        .collect();
    changed.sort_unstable_by_key(|(w, c)| (w.0, *c));
    changed.dedup();
    events::announce(db, &changed).await;
    Ok(group.held)
}

/// The wait before attempt `attempts + 1`: growing by `factor` from `first`, capped at
/// `longest`, with jitter so that many failed sends do not all come back at once.
fn backoff(first: Duration, longest: Duration, factor: f32, attempts: u32) -> Duration {
    backon::ExponentialBuilder::default()
        .with_min_delay(first)
        .with_max_delay(longest)
        .with_factor(factor)
        .with_jitter()
        .with_max_times(attempts as usize)
        .build()
        .nth(attempts.saturating_sub(1) as usize)
        .unwrap_or(longest)
}
