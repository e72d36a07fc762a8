//! Ingest: a signed webhook body into PostgreSQL, whole, once.
//!
//! The whole body is applied in one transaction: the raw bytes are archived, every change of
//! every entry is routed by its `phone_number_id` to the one workspace that has that number, and
//! every item is applied idempotently (a redelivered message is the same row; statuses only move
//! forward). A part that cannot be applied (a number no workspace has, a kind of change treeex
//! does not know, an item it cannot read, a value the database refuses) is kept verbatim as a
//! webhook failure and the rest goes on; only a database that cannot take the body fails it, so
//! that Meta retries. After commit, a NOTIFY names every conversation that changed.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::cloud_api::webhook::{
    Change, ChangeKind, DeliveryStatus, Entry, InboundMessage, MessageContent, MessagesValue,
    Notification, StatusUpdate, parse_message, parse_status,
};
use crate::config::IngestConfig;
use crate::domain::{MessageStatus, WorkspaceId};
use crate::store::messages::{StatusReport, Transition};
use crate::store::phones::{NumberError, Route};
use crate::store::templates::TemplateKey;
use crate::store::webhooks::{NewFailure, Outcome};
use crate::store::{
    Db, StoreError, campaigns, contacts, conversations, events, media, messages, phones, team,
    templates, webhooks,
};

/// What ingest needs of the configuration: the consent keywords.
#[derive(Debug, Clone, Default)]
pub struct IngestSettings {
    /// Upper-cased; a text that is exactly one of them opts the contact out.
    pub stop_words: Vec<String>,
    /// Upper-cased; a text that is exactly one of them opts the contact back in.
    pub start_words: Vec<String>,
    /// Template button payloads that opt the contact out.
    pub stop_payloads: Vec<String>,
}

impl IngestSettings {
    pub fn from_config(config: &IngestConfig) -> Self {
        let upper = |words: &[String]| words.iter().map(|w| w.trim().to_uppercase()).collect();
        Self {
            stop_words: upper(&config.stop_words),
            start_words: upper(&config.start_words),
            stop_payloads: config.stop_payloads.clone(),
        }
    }
}

/// What came of one body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub archive_id: Uuid,
    pub outcome: Outcome,
    /// Items applied (messages, statuses, errors, template updates).
    pub events: usize,
    /// Parts kept as failures.
    pub failures: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Signed, but not a webhook envelope; archived as `invalid`.
    #[error("the body is not a JSON webhook notification")]
    NotJson(#[source] serde_json::Error),
    /// The database could not take the body; nothing of it was kept, so Meta should retry.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How often a body is applied again after a deadlock before the answer is 503.
const ATTEMPTS: usize = 3;

/// Applies one signed webhook body. Call it only after the signature has been checked.
pub async fn receive(
    db: &Db,
    settings: &IngestSettings,
    body: &[u8],
) -> Result<Receipt, IngestError> {
    let received_at = Utc::now();
    let mut attempt = 1;
    // First the whole body at once; only when the database refuses a part is it applied again
    // part by part, each in a savepoint, so the refused part can be kept alone as a failure.
    let mut careful = false;
    loop {
        match receive_once(db, settings, body, received_at, careful).await {
            Err(IngestError::Store(StoreError::Retry(error))) if attempt < ATTEMPTS => {
                tracing::debug!(%error, attempt, "applying a webhook body again");
                attempt += 1;
            }
            Err(IngestError::Store(error))
                if !careful
                    && !matches!(error, StoreError::Unavailable(_) | StoreError::Retry(_)) =>
            {
                tracing::info!(error = %error_chain(&error), "the database refused a part of a webhook body; applying it part by part");
                careful = true;
            }
            result => return result,
        }
    }
}

async fn receive_once(
    db: &Db,
    settings: &IngestSettings,
    body: &[u8],
    received_at: DateTime<Utc>,
    careful: bool,
) -> Result<Receipt, IngestError> {
    let mut tx = db.pool().begin().await.map_err(StoreError::from)?;
    let notification = match Notification::parse(body) {
        Ok(notification) => notification,
        Err(error) => {
            webhooks::archive(&mut tx, body, received_at, Outcome::Invalid).await?;
            tx.commit().await.map_err(StoreError::from)?;
            metrics::counter!("treeex_webhook_events_total", "kind" => "invalid").increment(1);
            return Err(IngestError::NotJson(error));
        }
    };
    let archive_id = webhooks::archive(&mut tx, body, received_at, Outcome::Applied).await?;
    let mut run = Run::new(Some(archive_id), received_at);
    run.careful = careful;
    for entry in &notification.entry {
        for change in &entry.changes {
            run.apply_change(&mut tx, settings, &notification, entry, change)
                .await?;
        }
    }
    run.apply_gathered_statuses(&mut tx).await?;
    let outcome = run.outcome();
    webhooks::set_outcome(&mut tx, archive_id, outcome, run.events, run.failures).await?;
    run.finish(db, tx).await?;
    Ok(Receipt {
        archive_id,
        outcome,
        events: run.events,
        failures: run.failures,
    })
}

/// What came of a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    pub resolved: bool,
    /// Why it still cannot be applied, when it cannot.
    pub reason: Option<String>,
}

/// Applies a kept failure again (treeex may know better now, or the number may have been
/// connected since). Applying is idempotent, so a replay never duplicates anything.
pub async fn replay(
    db: &Db,
    settings: &IngestSettings,
    failure_id: Uuid,
) -> Result<Replay, StoreError> {
    let mut tx = db.pool().begin().await?;
    let failure = webhooks::failure_for_replay(&mut tx, failure_id).await?;
    let mut run = Run::new(None, Utc::now());
    run.record_failures = false;
    run.careful = true;
    match serde_json::from_value::<Value>(failure.payload.clone())
        .ok()
        .and_then(|p| Notification::parse(p.to_string().as_bytes()).ok())
    {
        Some(notification) => {
            for entry in &notification.entry {
                for change in &entry.changes {
                    run.apply_change(&mut tx, settings, &notification, entry, change)
                        .await?;
                }
            }
        }
        None => {
            run.fail(
                &mut tx,
                NewFailure {
                    workspace: None,
                    phone_number_id: None,
                    field: failure.field.clone(),
                    reason: "the kept payload is not a webhook notification".into(),
                    payload: Value::Null,
                },
            )
            .await?
        }
    }
    let resolved = run.failures == 0;
    let reason = run.last_reason.clone();
    webhooks::replayed(
        &mut tx,
        failure_id,
        resolved,
        reason.as_deref().unwrap_or(&failure.reason),
    )
    .await?;
    run.finish(db, tx).await?;
    Ok(Replay { resolved, reason })
}

/// The state of applying one body.
struct Run {
    archive_id: Option<Uuid>,
    received_at: DateTime<Utc>,
    events: usize,
    failures: usize,
    /// False in a replay: the failure being replayed is updated instead of a new one kept.
    record_failures: bool,
    last_reason: Option<String>,
    changed: BTreeSet<(Uuid, Uuid)>,
    /// The status moves of the whole body, applied to the campaigns' recipient rows and
    /// counters once, just before the commit: each campaign's counter row is then locked after
    /// every message row the body touches, in the order the outbox's recording locks them too,
    /// so the two cannot deadlock.
    transitions: Vec<Transition>,
    /// The body's status reports per number, applied together once every change is read (one
    /// statement per number instead of one per change: Meta sends each status of a batch as a
    /// change of its own). In careful mode each change applies its own at once instead.
    statuses: Vec<(Route, Vec<StatusReport>)>,
    /// The numbers' routes already looked up in this body.
    routes: HashMap<String, Option<Route>>,
    /// The WABA of the entry being applied (`entry.id`).
    waba_id: Option<String>,
    /// Each change in a savepoint of its own (after the database refused a part).
    careful: bool,
}

impl Run {
    fn new(archive_id: Option<Uuid>, received_at: DateTime<Utc>) -> Self {
        Self {
            archive_id,
            received_at,
            events: 0,
            failures: 0,
            record_failures: true,
            last_reason: None,
            changed: BTreeSet::new(),
            transitions: Vec::new(),
            statuses: Vec::new(),
            routes: HashMap::new(),
            waba_id: None,
            careful: false,
        }
    }

    fn outcome(&self) -> Outcome {
        match (self.events, self.failures) {
            (_, 0) => Outcome::Applied,
            (0, _) => Outcome::Unapplied,
            _ => Outcome::Partial,
        }
    }

    async fn apply_statuses(
        &mut self,
        conn: &mut PgConnection,
        route: Route,
        reports: &[StatusReport],
    ) -> Result<(), StoreError> {
        let transitions =
            messages::apply_statuses(conn, route.workspace, route.phone_number, reports).await?;
        for transition in &transitions {
            self.changed
                .insert((route.workspace.0, transition.conversation_id));
        }
        self.transitions.extend(transitions);
        Ok(())
    }

    /// Applies the status reports the body's changes gathered, one statement per number.
    async fn apply_gathered_statuses(&mut self, conn: &mut PgConnection) -> Result<(), StoreError> {
        for (route, reports) in std::mem::take(&mut self.statuses) {
            self.apply_statuses(conn, route, &reports).await?;
        }
        Ok(())
    }

    /// Moves the campaigns the body's statuses touched, commits, then announces the changed
    /// conversations.
    async fn finish(
        &self,
        db: &Db,
        mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    ) -> Result<(), StoreError> {
        campaigns::apply_transitions(&mut tx, &self.transitions).await?;
        tx.commit().await?;
        let changes: Vec<(WorkspaceId, Uuid)> = self
            .changed
            .iter()
            .map(|(workspace, conversation)| (WorkspaceId(*workspace), *conversation))
            .collect();
        events::announce(db, &changes).await;
        Ok(())
    }

    async fn fail(
        &mut self,
        conn: &mut PgConnection,
        mut failure: NewFailure,
    ) -> Result<(), StoreError> {
        // Kept where the workspace's people look for it, when the part names its workspace.
        if failure.workspace.is_none() {
            failure.workspace = phones::workspace_for(
                conn,
                failure.phone_number_id.as_deref(),
                self.waba_id.as_deref(),
            )
            .await?;
        }
        self.failures += 1;
        metrics::counter!("treeex_webhook_events_total", "kind" => "failure").increment(1);
        tracing::warn!(field = %failure.field, reason = %failure.reason, "kept a webhook part that could not be applied");
        self.last_reason = Some(failure.reason.clone());
        if self.record_failures {
            webhooks::record_failure(conn, self.archive_id, self.received_at, &failure).await?;
        }
        Ok(())
    }

    /// Applies one change inside a savepoint: a part the database refuses is rolled back alone
    /// and kept as a failure; a database that is unavailable fails the whole body.
    async fn apply_change(
        &mut self,
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        settings: &IngestSettings,
        notification: &Notification,
        entry: &Entry,
        change: &Change,
    ) -> Result<(), StoreError> {
        self.waba_id = Some(entry.id.clone()).filter(|id| !id.is_empty());
        let envelope = single_change_envelope(notification, entry, change, &change.value);
        let kind = match change.parse() {
            Ok(kind) => kind,
            Err(error) => {
                let failure = NewFailure {
                    workspace: None,
                    phone_number_id: phone_number_id_of(&change.value),
                    field: change.field.clone(),
                    reason: format!("the change cannot be read: {error}"),
                    payload: envelope,
                };
                return self.fail(tx, failure).await;
            }
        };
        if !self.careful {
            return self
                .apply_kind(tx, settings, notification, entry, change, &kind, &envelope)
                .await;
        }
        let before = (
            self.events,
            self.failures,
            self.changed.clone(),
            self.transitions.len(),
        );
        let mut savepoint = sqlx::Acquire::begin(&mut **tx).await?;
        let result = self
            .apply_kind(
                &mut savepoint,
                settings,
                notification,
                entry,
                change,
                &kind,
                &envelope,
            )
            .await;
        match result {
            Ok(()) => {
                savepoint.commit().await?;
                Ok(())
            }
            // Not this part's fault: the whole body fails (and is run again, or answered 503).
            Err(error @ (StoreError::Unavailable(_) | StoreError::Retry(_))) => Err(error),
            Err(error) => {
                savepoint.rollback().await?;
                let moved;
                (self.events, self.failures, self.changed, moved) = before;
                self.transitions.truncate(moved);
                let failure = NewFailure {
                    workspace: None,
                    phone_number_id: phone_number_id_of(&change.value),
                    field: change.field.clone(),
                    reason: format!("the database refused it: {}", error_chain(&error)),
                    payload: envelope,
                };
                self.fail(tx, failure).await
            }
        }
    }

    /// Applies one parsed change.
    #[allow(clippy::too_many_arguments)]
    async fn apply_kind(
        &mut self,
        conn: &mut PgConnection,
        settings: &IngestSettings,
        notification: &Notification,
        entry: &Entry,
        change: &Change,
        kind: &ChangeKind,
        envelope: &Value,
    ) -> Result<(), StoreError> {
        match kind {
            ChangeKind::Messages(value) => {
                self.apply_messages(conn, settings, notification, entry, change, value)
                    .await
            }
            ChangeKind::TemplateStatus(update) => {
                let key = TemplateKey {
                    waba_id: &entry.id,
                    wa_template_id: &update.template_id,
                    name: update.name.as_deref(),
                    language: update.language.as_deref(),
                };
                let change_to = TemplateChange::Status {
                    event: &update.event,
                    reason: update.reason.as_deref(),
                };
                self.apply_template(conn, key, change_to, envelope, &change.field)
                    .await
            }
            ChangeKind::TemplateCategory(update) => {
                let key = TemplateKey {
                    waba_id: &entry.id,
                    wa_template_id: &update.template_id,
                    name: update.name.as_deref(),
                    language: update.language.as_deref(),
                };
                match update.new_category.as_deref() {
                    Some(category) => {
                        self.apply_template(
                            conn,
                            key,
                            TemplateChange::Category(category),
                            envelope,
                            &change.field,
                        )
                        .await
                    }
                    None => {
                        let failure = NewFailure {
                            workspace: None,
                            phone_number_id: None,
                            field: change.field.clone(),
                            reason: "a template category update without a new category".into(),
                            payload: envelope.clone(),
                        };
                        self.fail(conn, failure).await
                    }
                }
            }
            ChangeKind::Other => {
                let failure = NewFailure {
                    workspace: None,
                    phone_number_id: phone_number_id_of(&change.value),
                    field: change.field.clone(),
                    reason: format!("treeex does not handle `{}` webhooks", change.field),
                    payload: envelope.clone(),
                };
                self.fail(conn, failure).await
            }
        }
    }

    async fn apply_template(
        &mut self,
        conn: &mut PgConnection,
        key: TemplateKey<'_>,
        change: TemplateChange<'_>,
        envelope: &Value,
        field: &str,
    ) -> Result<(), StoreError> {
        let failure = |reason: String| NewFailure {
            workspace: None,
            phone_number_id: None,
            field: field.to_string(),
            reason,
            payload: envelope.clone(),
        };
        if !templates::waba_is_known(conn, key.waba_id).await? {
            let reason = format!("no workspace has a number of WABA {}", key.waba_id);
            return self.fail(conn, failure(reason)).await;
        }
        let updated = match change {
            TemplateChange::Status { event, reason } => {
                templates::set_status(conn, key, event, reason).await?
            }
            TemplateChange::Category(category) => {
                templates::set_category(conn, key, category).await?
            }
        };
        if updated == 0 {
            // Not synced yet: kept, so a replay after `treeex template sync` applies it.
            let reason = format!(
                "no template {} ({}) of WABA {} is known; `treeex template sync` fetches it",
                key.wa_template_id,
                key.name.unwrap_or("unnamed"),
                key.waba_id
            );
            return self.fail(conn, failure(reason)).await;
        }
        self.events += 1;
        metrics::counter!("treeex_webhook_events_total", "kind" => "template").increment(1);
        Ok(())
    }

    async fn apply_messages(
        &mut self,
        conn: &mut PgConnection,
        settings: &IngestSettings,
        notification: &Notification,
        entry: &Entry,
        change: &Change,
        value: &MessagesValue,
    ) -> Result<(), StoreError> {
        let phone_number_id = value.metadata.phone_number_id.clone();
        let route = match self.routes.get(&phone_number_id) {
            Some(route) => *route,
            None => {
                let route = phones::route(conn, &phone_number_id).await?;
                self.routes.insert(phone_number_id.clone(), route);
                route
            }
        };
        let Some(route) = route else {
            let failure = NewFailure {
                workspace: None,
                phone_number_id: Some(phone_number_id.clone()),
                field: change.field.clone(),
                reason: format!("no workspace has phone number id {phone_number_id}"),
                payload: single_change_envelope(notification, entry, change, &change.value),
            };
            return self.fail(conn, failure).await;
        };
        // One item that cannot be read is kept alone; the others go on.
        let item_failure = |item_key: &str, item: &Value, reason: String| NewFailure {
            workspace: Some(route.workspace),
            phone_number_id: Some(phone_number_id.clone()),
            field: change.field.clone(),
            reason,
            payload: single_change_envelope(
                notification,
                entry,
                change,
                &json!({
                    "messaging_product": "whatsapp",
                    "metadata": change.value.get("metadata").cloned().unwrap_or(Value::Null),
                    "contacts": change.value.get("contacts").cloned().unwrap_or(json!([])),
                    item_key: [item],
                }),
            ),
        };
        for raw in &value.messages {
            match parse_message(raw) {
                Ok(message) => {
                    if let Err(reason) = self
                        .apply_message(conn, settings, route, value, &message)
                        .await?
                    {
                        self.fail(conn, item_failure("messages", raw, reason))
                            .await?;
                    }
                }
                Err(error) => {
                    let reason = format!("a message cannot be read: {error}");
                    self.fail(conn, item_failure("messages", raw, reason))
                        .await?;
                }
            }
        }
        let mut reports = Vec::with_capacity(value.statuses.len());
        for raw in &value.statuses {
            match parse_status(raw).map(|s| status_report(&s)) {
                Ok(Some(report)) => reports.push(report),
                Ok(None) => {
                    let reason = "a status treeex does not know".to_string();
                    self.fail(conn, item_failure("statuses", raw, reason))
                        .await?;
                }
                Err(error) => {
                    let reason = format!("a status cannot be read: {error}");
                    self.fail(conn, item_failure("statuses", raw, reason))
                        .await?;
                }
            }
        }
        if !reports.is_empty() {
            self.events += reports.len();
            metrics::counter!("treeex_webhook_events_total", "kind" => "status")
                .increment(reports.len() as u64);
            if self.careful {
                self.apply_statuses(conn, route, &reports).await?;
            } else {
                match self.statuses.iter_mut().find(|(r, _)| *r == route) {
                    Some((_, pending)) => pending.extend(reports),
                    None => self.statuses.push((route, reports)),
                }
            }
        }
        for error in &value.errors {
            let occurred_at = entry
                .time
                .and_then(|t| DateTime::from_timestamp(t, 0))
                .unwrap_or(self.received_at);
            let number_error = NumberError {
                code: i32::try_from(error.code).unwrap_or(i32::MAX),
                title: error.title.as_deref(),
                message: error.message.as_deref(),
                details: error.details.as_deref(),
                occurred_at,
            };
            phones::record_error(conn, route, &number_error, self.archive_id).await?;
            self.events += 1;
            metrics::counter!("treeex_webhook_events_total", "kind" => "error").increment(1);
        }
        Ok(())
    }

    /// Applies one inbound message. `Ok(Err(reason))` when it cannot be applied (it is kept).
    async fn apply_message(
        &mut self,
        conn: &mut PgConnection,
        settings: &IngestSettings,
        route: Route,
        value: &MessagesValue,
        message: &InboundMessage,
    ) -> Result<Result<(), String>, StoreError> {
        let wa_id = message.from.as_deref().filter(|w| !w.is_empty());
        if let Some(wa_id) = wa_id
            && !is_wa_id(wa_id)
        {
            return Ok(Err(format!("the sender `{wa_id}` is not a WhatsApp id")));
        }
        let user_id = message.from_user_id.as_deref().filter(|u| !u.is_empty());
        if wa_id.is_none() && user_id.is_none() {
            return Ok(Err("the message names no sender".into()));
        }
        let profile = value.profile_of(message);
        let contact = contacts::upsert_from_webhook(
            conn,
            route.workspace,
            wa_id,
            user_id,
            profile.and_then(|p| p.name.as_deref()),
        )
        .await?;
        let conversation =
            conversations::open_for_contact(conn, route.workspace, route.phone_number, contact)
                .await?;
        let at = message.timestamp;
        let preview = message.content.preview();
        // A reaction, an edit or a revoke changes its target rather than adding to the thread:
        // the customer was active (the window moves), but there is nothing new to read.
        let attached = match &message.content {
            MessageContent::Reaction { message_id, emoji } => {
                let reaction = messages::Reaction {
                    workspace: route.workspace,
                    phone_number: route.phone_number,
                    target: message_id,
                    reactor: wa_id.or(user_id).unwrap_or_default(),
                    emoji: emoji.as_deref(),
                    at,
                    wa_message_id: &message.id,
                };
                messages::record_reaction(conn, &reaction).await?;
                true
            }
            MessageContent::Edit {
                original_id,
                message: edited,
            } => {
                messages::record_edit(
                    conn,
                    route.workspace,
                    route.phone_number,
                    original_id,
                    edited,
                    at,
                )
                .await?
            }
            MessageContent::Revoke { original_id } => {
                messages::record_revoke(conn, route.workspace, route.phone_number, original_id, at)
                    .await?
            }
            _ => false,
        };
        match &message.content {
            _ if attached => {
                conversations::record_inbound(
                    conn,
                    route.workspace,
                    conversation,
                    at,
                    &preview,
                    false,
                    false,
                )
                .await?;
            }
            content => {
                // Everything else (and an edit or revoke of a message treeex never saw) is a
                // row of the thread, kept with Meta's whole item.
                let inserted = messages::insert_inbound(
                    conn,
                    &messages::NewInbound {
                        workspace: route.workspace,
                        conversation,
                        phone_number: route.phone_number,
                        wa_message_id: &message.id,
                        message_type: &message.type_name,
                        content: &message.raw,
                        context_wa_message_id: message
                            .context
                            .as_ref()
                            .and_then(|c| c.id.as_deref()),
                        at,
                    },
                )
                .await?;
                if let Some(message_id) = inserted {
                    if let MessageContent::Media {
                        media_id,
                        mime_type,
                        sha256,
                        filename,
                        ..
                    } = content
                    {
                        // The media fetcher brings its bytes into the media store.
                        let file = media::NewInbound {
                            wa_media_id: media_id,
                            mime_type: mime_type.as_deref().unwrap_or("application/octet-stream"),
                            sha256: sha256.as_deref(),
                            filename: filename.as_deref(),
                        };
                        media::insert_inbound(conn, route.workspace, message_id, &file).await?;
                    }
                    // A notice of WhatsApp's is not the customer asking for anything.
                    let awaits_reply = !matches!(content, MessageContent::System { .. });
                    conversations::record_inbound(
                        conn,
                        route.workspace,
                        conversation,
                        at,
                        &preview,
                        true,
                        awaits_reply,
                    )
                    .await?;
                    if awaits_reply {
                        team::record_customer_message(conn, route.workspace, conversation, at)
                            .await?;
                        // The customer wrote back: a reply to the campaigns that reached them.
                        campaigns::record_replies(
                            conn,
                            route.workspace,
                            route.phone_number,
                            &[(contact, at)],
                        )
                        .await?;
                    }
                    if let MessageContent::System {
                        new_wa_id: Some(new_wa_id),
                        kind,
                        ..
                    } = content
                        && kind == "user_changed_number"
                        && is_wa_id(new_wa_id)
                    {
                        contacts::change_wa_id(conn, route.workspace, contact, new_wa_id).await?;
                    }
                    if let Some((opted_in, source)) = consent_change(settings, content) {
                        contacts::record_consent(
                            conn,
                            route.workspace,
                            contact,
                            opted_in,
                            source,
                            &message.id,
                            at,
                        )
                        .await?;
                    }
                }
            }
        }
        self.changed.insert((route.workspace.0, conversation));
        self.events += 1;
        metrics::counter!("treeex_webhook_events_total", "kind" => "message").increment(1);
        Ok(Ok(()))
    }
}

enum TemplateChange<'a> {
    Status {
        event: &'a str,
        reason: Option<&'a str>,
    },
    Category(&'a str),
}

/// A stop or start keyword, or an opt-out button: the consent it sets and why.
fn consent_change(
    settings: &IngestSettings,
    content: &MessageContent,
) -> Option<(bool, &'static str)> {
    match content {
        MessageContent::Text { body } => {
            let word = body.trim().to_uppercase();
            if settings.stop_words.contains(&word) {
                Some((false, "stop keyword"))
            } else if settings.start_words.contains(&word) {
                Some((true, "start keyword"))
            } else {
                None
            }
        }
        MessageContent::Button { payload, text } => {
            let payload_stops = payload
                .as_deref()
                .is_some_and(|p| settings.stop_payloads.iter().any(|s| s == p));
            let text_stops = settings.stop_words.contains(&text.trim().to_uppercase());
            (payload_stops || text_stops).then_some((false, "opt-out button"))
        }
        _ => None,
    }
}

/// A status webhook item as a report for the lattice; None for a status treeex does not know.
fn status_report(status: &StatusUpdate) -> Option<messages::StatusReport> {
    let to = match &status.status {
        DeliveryStatus::Sent => MessageStatus::Sent,
        DeliveryStatus::Delivered => MessageStatus::Delivered,
        DeliveryStatus::Read => MessageStatus::Read,
        DeliveryStatus::Played => MessageStatus::Played,
        DeliveryStatus::Failed => MessageStatus::Failed,
        DeliveryStatus::Other(_) => return None,
    };
    let error = status.errors.first();
    Some(messages::StatusReport {
        wa_message_id: status.id.clone(),
        status: to,
        at: status.timestamp,
        error_code: error.map(|e| i32::try_from(e.code).unwrap_or(i32::MAX)),
        error_title: error.and_then(|e| e.title.clone().or_else(|| e.message.clone())),
        error_details: error.and_then(|e| e.details.clone()),
        message_id: status
            .biz_opaque_callback_data
            .as_deref()
            .and_then(|data| data.parse().ok()),
    })
}

/// A wa_id the contacts table accepts: digits only.
fn is_wa_id(wa_id: &str) -> bool {
    (5..=20).contains(&wa_id.len()) && wa_id.bytes().all(|b| b.is_ascii_digit())
}

/// One change as a whole notification of its own, so a kept failure replays as it came.
fn single_change_envelope(
    notification: &Notification,
    entry: &Entry,
    change: &Change,
    value: &Value,
) -> Value {
    let mut kept_entry = json!({
        "id": entry.id,
        "changes": [{ "field": change.field, "value": value }],
    });
    if let Some(time) = entry.time {
        kept_entry["time"] = json!(time);
    }
    json!({ "object": notification.object, "entry": [kept_entry] })
}

fn phone_number_id_of(value: &Value) -> Option<String> {
    value
        .pointer("/metadata/phone_number_id")
        .and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
}

/// An error and its causes on one line, for logs and failure reasons.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
