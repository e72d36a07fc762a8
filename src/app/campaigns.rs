//! Campaigns: one approved template sent to an audience of contacts, through the outbox.
//!
//! `create` checks a definition (number, approved template, one value per variable, audience)
//! and shows its audience and a rendered preview; `control` makes every status change the state
//! machine allows (`domain::campaign`), for OWNER and ADMIN only. A start snapshots the audience
//! into one recipient row per contact. The `CampaignRunner` (in `serve` and the TUI, any number
//! of them) holds each running campaign through a lease, keeps about a second of its sends in the
//! outbox (the outbox worker paces them at the number's rate across all processes), and
//! completes the campaign once every recipient is final. Claiming recipients and writing their
//! messages happen in one transaction, so a crash at any moment leaves each recipient either
//! still queued or with exactly one message in the outbox, whose own crash safety takes over.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::cloud_api::graph::{OutboundBody, OutboundMessage};
use crate::domain::campaign::{Audience, ContactFields, Param, needs_opt_in};
use crate::domain::{CampaignStatus, IllegalMove, Move, Permission, Role, WorkspaceId, template};
use crate::store::campaigns::{self, Campaign, Held, Recipient, Rendered};
use crate::store::{Db, StoreError, events, phones, templates};

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    /// The definition or the move breaks a rule; the sentence names it.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Illegal(#[from] IllegalMove),
    #[error("only an OWNER or ADMIN may {0} a campaign; a {1} may not")]
    NotAllowed(&'static str, Role),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn refused(text: impl Into<String>) -> CampaignError {
    CampaignError::Refused(text.into())
}

/// A campaign to define.
#[derive(Debug, Clone)]
pub struct Definition {
    pub workspace: WorkspaceId,
    pub name: String,
    /// Meta's id of the number to send from.
    pub phone_number_id: String,
    pub template: String,
    pub language: String,
    pub audience: Audience,
    /// One per template variable, as written (`{name}`, a literal).
    pub parameters: Vec<String>,
    /// Start at this time (SCHEDULED); none: a DRAFT to start by hand.
    pub at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
}

/// A created campaign, with its audience as it stands and a preview for one of its contacts.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Created {
    #[serde(flatten)]
    pub campaign: Campaign,
    /// Contacts the audience holds now (only those allowed to receive it).
    pub audience_size: i64,
    /// Only opted-in contacts are in the audience (the template's category and the
    /// workspace's `campaign_opt_in` setting decide).
    pub opt_in_required: bool,
    pub preview: Option<Preview>,
}

/// The message one contact of the audience would get.
#[derive(Debug, Clone)]
pub struct Preview {
    pub wa_id: String,
    pub name: Option<String>,
    /// The text as the customer reads it, or why this contact would be skipped.
    pub text: Result<String, String>,
}

/// As JSON: `text` (null when skipped) and `skipped` (the reason, null when sent).
impl serde::Serialize for Preview {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("Preview", 4)?;
        out.serialize_field("wa_id", &self.wa_id)?;
        out.serialize_field("name", &self.name)?;
        out.serialize_field("text", &self.text.as_ref().ok())?;
        out.serialize_field("skipped", &self.text.as_ref().err())?;
        out.end()
    }
}

/// Checks a definition and writes it as a DRAFT (or SCHEDULED) campaign.
pub async fn create(db: &Db, definition: &Definition) -> Result<Created, CampaignError> {
    let name = definition.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(refused("a campaign needs a name of 1 to 200 characters"));
    }
    if let Some(at) = definition.at
        && at <= Utc::now()
    {
        return Err(refused(format!(
            "--at {} is in the past; leave it out and start the campaign with `treeex campaign start`",
            at.to_rfc3339()
        )));
    }
    let params = parse_params(&definition.parameters)?;
    let mut tx = db.pool().begin().await.map_err(StoreError::from)?;
    let sender = phones::sender(&mut tx, definition.workspace, &definition.phone_number_id).await?;
    let found = templates::find(
        &mut tx,
        definition.workspace,
        &sender.waba_id,
        &definition.template,
        &definition.language,
    )
    .await?
    .ok_or_else(|| {
        refused(format!(
            "template `{}` ({}) is not known for this number's WhatsApp Business Account; `treeex template sync` fetches the templates",
            definition.template, definition.language
        ))
    })?;
    check_template(&found, &definition.parameters)?;
    let setting = campaigns::opt_in_setting(&mut tx, definition.workspace).await?;
    let opt_in = needs_opt_in(&found.category, setting.as_deref());
    let audience_size =
        campaigns::audience_size(&mut tx, definition.workspace, &definition.audience, opt_in)
            .await?;
    let id = campaigns::insert(
        &mut tx,
        &campaigns::NewCampaign {
            workspace: definition.workspace,
            name,
            phone_number: sender.id,
            template: found.id,
            parameters: &definition.parameters,
            audience: &definition.audience,
            scheduled_at: definition.at,
            created_by: definition.created_by,
        },
    )
    .await?;
    let sample =
        campaigns::sample_contact(&mut tx, definition.workspace, &definition.audience, opt_in)
            .await?;
    tx.commit().await.map_err(StoreError::from)?;
    let preview = sample.map(|contact| {
        let text = render_values(&params, &contact)
            .map(|values| template::render(&found.components, &values));
        Preview {
            wa_id: contact.wa_id.clone().unwrap_or_default(),
            name: contact.name.clone(),
            text,
        }
    });
    events::announce_campaign(db, definition.workspace, id).await;
    Ok(Created {
        campaign: campaigns::get(db, definition.workspace, id).await?,
        audience_size,
        opt_in_required: opt_in,
        preview,
    })
}

fn parse_params(raw: &[String]) -> Result<Vec<Param>, CampaignError> {
    raw.iter()
        .map(|p| Param::parse(p).map_err(|e| refused(e.0)))
        .collect()
}

/// The template may be sent and takes exactly these parameters.
fn check_template(found: &templates::Template, parameters: &[String]) -> Result<(), CampaignError> {
    if found.status != "APPROVED" {
        return Err(refused(format!(
            "template `{}` ({}) is {}, and only an APPROVED template can be sent",
            found.name, found.language, found.status
        )));
    }
    if let Some(format) = template::media_header(&found.components) {
        return Err(refused(format!(
            "template `{}` ({}) has a {} header, and campaigns send templates with a text \
             header or none",
            found.name,
            found.language,
            format.to_ascii_lowercase()
        )));
    }
    template::check_parameters(&found.name, &found.components, parameters)
        .map_err(|e| refused(e.0))?;
    Ok(())
}

/// Each parameter's value for one contact, or why the contact cannot get the message.
fn render_values(params: &[Param], contact: &Recipient) -> Result<Vec<String>, String> {
    let empty = Map::new();
    let fields = ContactFields {
        name: contact.name.as_deref(),
        wa_id: contact.wa_id.as_deref().unwrap_or_default(),
        custom_fields: contact.custom_fields.as_object().unwrap_or(&empty),
    };
    params.iter().map(|p| p.render(&fields)).collect()
}

/// Makes `attempted` happen to the campaign, if its status allows it and `actor` may (None: the
/// operator at the command line with no `[user] email`, who holds the database anyway).
pub async fn control(
    db: &Db,
    workspace: WorkspaceId,
    campaign: Uuid,
    actor: Option<Role>,
    attempted: Move,
) -> Result<Campaign, CampaignError> {
    if let Some(role) = actor
        && attempted.is_control()
        && !role.may(Permission::ControlCampaigns)
    {
        return Err(CampaignError::NotAllowed(attempted.verb(), role));
    }
    let mut tx = db.pool().begin().await.map_err(StoreError::from)?;
    let locked = campaigns::lock(&mut tx, workspace, campaign).await?;
    let next = locked.status.apply(attempted)?;
    match attempted {
        Move::Start | Move::Due if locked.started_at.is_none() => {
            let found = templates::by_id(&mut tx, workspace, locked.template).await?;
            let parameters: Vec<String> =
                serde_json::from_value(locked.parameters.clone()).unwrap_or_default();
            check_template(&found, &parameters)?;
            let audience: Audience =
                serde_json::from_value(locked.audience.clone()).unwrap_or_default();
            let opt_in = needs_opt_in(&found.category, locked.opt_in_setting.as_deref());
            let total =
                campaigns::snapshot(&mut tx, workspace, campaign, &audience, opt_in).await?;
            if total == 0 {
                return Err(refused(format!(
                    "the audience is empty: no contact {}{} to send to",
                    audience.describe().replacen("every contact", "at all", 1),
                    if opt_in { " who opted in" } else { "" },
                )));
            }
        }
        Move::Pause | Move::Cancel => {
            campaigns::recall(&mut tx, workspace, campaign).await?;
        }
        Move::RetryFailed => {
            let requeued = campaigns::requeue_failed(&mut tx, workspace, campaign).await?;
            if requeued == 0 {
                return Err(refused(
                    "the campaign has no failed recipients to send again",
                ));
            }
        }
        _ => {}
    }
    if next != locked.status {
        campaigns::set_status(&mut tx, workspace, campaign, next).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    events::announce_campaign(db, workspace, campaign).await;
    if let Err(error) = events::wake_outbox(db).await {
        tracing::warn!(%error, "could not wake the outbox workers; they poll every second");
    }
    Ok(campaigns::get(db, workspace, campaign).await?)
}

/// How a runner behaves.
#[derive(Debug, Clone)]
pub struct RunnerSettings {
    /// How long a lease holds without renewal: the wait before another process takes over a
    /// campaign whose runner stopped.
    pub lease: Duration,
    /// How often the runner looks at its campaigns.
    pub tick: Duration,
    /// How far ahead of the sends the runner keeps the outbox filled, in seconds of the
    /// number's rate: enough that the worker never waits, little enough that a pause takes
    /// back what has not left.
    pub lead: Duration,
    /// The most recipients enqueued in one transaction.
    pub batch: i64,
}

impl Default for RunnerSettings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(10),
            tick: Duration::from_millis(100),
            lead: Duration::from_secs(2),
            batch: 500,
        }
    }
}

/// Drives running campaigns; any number of them in any number of processes share the work
/// through the campaigns' leases.
#[derive(Clone)]
pub struct CampaignRunner {
    db: Db,
    name: String,
    settings: RunnerSettings,
}

impl CampaignRunner {
    pub fn new(db: Db, settings: RunnerSettings) -> Self {
        Self {
            db,
            name: format!("runner-{}-{}", std::process::id(), Uuid::new_v4().simple()),
            settings,
        }
    }

    /// Runs until `stop`, then gives up its leases so another process takes over at once.
    pub async fn run(self, stop: CancellationToken) {
        let mut held: Vec<Held> = Vec::new();
        let renew_every = (self.settings.lease / 4).max(self.settings.tick);
        let mut renewed = tokio::time::Instant::now() - renew_every;
        loop {
            if renewed.elapsed() >= renew_every {
                self.start_due().await;
                match campaigns::hold_running(
                    &self.db,
                    &self.name,
                    self.settings.lease.as_secs_f64(),
                )
                .await
                {
                    Ok(now_held) => held = now_held,
                    Err(error) => {
                        tracing::warn!(%error, "the campaign runner could not renew its leases");
                        held.clear();
                    }
                }
                renewed = tokio::time::Instant::now();
            }
            let mut finished = Vec::new();
            for campaign in &held {
                match self.step(campaign).await {
                    Ok(true) => finished.push(campaign.id),
                    Ok(false) => {}
                    Err(error) => {
                        tracing::warn!(%error, campaign = %campaign.id, "the campaign runner could not enqueue")
                    }
                }
            }
            held.retain(|c| !finished.contains(&c.id));
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(self.settings.tick) => {}
            }
        }
        if let Err(error) = campaigns::release(&self.db, &self.name).await {
            tracing::warn!(%error, "the campaign runner could not give up its leases; they lapse on their own");
        }
    }

    /// Starts the scheduled campaigns whose time came (each once: the move is refused to a
    /// second runner that tries).
    async fn start_due(&self) {
        let due = match campaigns::due(&self.db).await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(%error, "the campaign runner could not look for scheduled campaigns");
                return;
            }
        };
        for (workspace, id) in due {
            match control(&self.db, workspace, id, None, Move::Due).await {
                Ok(_) | Err(CampaignError::Illegal(_)) => {}
                Err(error) => {
                    tracing::warn!(%error, campaign = %id, "a scheduled campaign could not start");
                    // Left SCHEDULED it would be retried every pass; it waits in DRAFT instead.
                    if let Err(error) =
                        control(&self.db, workspace, id, None, Move::Unschedule).await
                    {
                        tracing::warn!(%error, campaign = %id, "could not unschedule a campaign");
                    }
                }
            }
        }
    }

    /// Tops up the campaign's sends in the outbox; true when the campaign completed.
    async fn step(&self, campaign: &Held) -> Result<bool, StoreError> {
        let workspace = WorkspaceId(campaign.workspace_id);
        let waiting = campaigns::in_outbox(&self.db, workspace, campaign.id).await?;
        let target = (f64::from(campaign.mps) * self.settings.lead.as_secs_f64()).ceil() as i64;
        let target = target.max(1);
        if waiting * 2 > target {
            return Ok(false);
        }
        let mut enqueued = 0;
        let mut wanted = target - waiting;
        while wanted > 0 {
            let taken = self
                .enqueue(workspace, campaign.id, wanted.min(self.settings.batch))
                .await?;
            if taken == 0 {
                break;
            }
            enqueued += taken;
            wanted -= taken as i64;
        }
        if enqueued > 0 {
            if let Err(error) = events::wake_outbox(&self.db).await {
                tracing::warn!(%error, "could not wake the outbox workers; they poll every second");
            }
            events::announce_campaign(&self.db, workspace, campaign.id).await;
            return Ok(false);
        }
        if waiting > 0 {
            return Ok(false);
        }
        let mut tx = self.db.pool().begin().await?;
        let completed = campaigns::complete_if_done(&mut tx, workspace, campaign.id).await?;
        tx.commit().await?;
        if completed {
            tracing::info!(campaign = %campaign.id, "campaign completed");
            events::announce_campaign(&self.db, workspace, campaign.id).await;
        }
        Ok(completed)
    }

    /// Claims up to `limit` queued recipients and writes their messages, in one transaction.
    /// Returns how many recipients it took (sent or skipped).
    async fn enqueue(
        &self,
        workspace: WorkspaceId,
        campaign: Uuid,
        limit: i64,
    ) -> Result<usize, StoreError> {
        let mut tx = self.db.pool().begin().await?;
        let Some((sending, recipients)) =
            campaigns::claim_recipients(&mut tx, workspace, campaign, &self.name, limit).await?
        else {
            return Ok(0);
        };
        if recipients.is_empty() {
            return Ok(0);
        }
        let found = templates::by_id(&mut tx, workspace, sending.template).await?;
        let parameters: Vec<String> =
            serde_json::from_value(sending.parameters.clone()).unwrap_or_default();
        let params = match (
            check_template(&found, &parameters),
            parse_params(&parameters),
        ) {
            (Ok(()), Ok(params)) => params,
            (Err(why), _) | (_, Err(why)) => {
                // Meta paused or disabled the template, or a sync changed its variables: no
                // recipient can get it, so the campaign waits for a supervisor.
                tracing::warn!(%campaign, reason = %why, "pausing a campaign that cannot send");
                let paused = sending
                    .status
                    .apply(Move::Pause)
                    .unwrap_or(CampaignStatus::Paused);
                campaigns::set_status(&mut tx, workspace, campaign, paused).await?;
                tx.commit().await?;
                events::announce_campaign(&self.db, workspace, campaign).await;
                return Ok(0);
            }
        };
        let vars = template::variables(&found.components);
        let opt_in = needs_opt_in(&found.category, sending.opt_in_setting.as_deref());
        let mut rendered = Vec::with_capacity(recipients.len());
        let mut skipped = Vec::new();
        for recipient in &recipients {
            match render_one(&found, &vars, &params, opt_in, recipient) {
                Ok((content, text)) => rendered.push(Rendered {
                    recipient: recipient.id,
                    contact: recipient.contact_id,
                    content,
                    rendered_text: text,
                }),
                Err(why) => skipped.push((recipient.id, why)),
            }
        }
        campaigns::write_batch(
            &mut tx,
            workspace,
            campaign,
            sending.phone_number,
            &rendered,
            &skipped,
        )
        .await?;
        tx.commit().await?;
        Ok(recipients.len())
    }
}

/// One recipient's send body and text as the runner writes them, or why the recipient would be
/// skipped (the demo's past sends).
pub(crate) fn render_for(
    found: &templates::Template,
    parameters: &[String],
    recipient: &Recipient,
) -> Result<(Value, String), String> {
    let params = parse_params(parameters).map_err(|e| e.to_string())?;
    let vars = template::variables(&found.components);
    render_one(found, &vars, &params, false, recipient)
}

/// One recipient's send body and text, or why the recipient is skipped.
fn render_one(
    found: &templates::Template,
    vars: &template::Variables,
    params: &[Param],
    opt_in: bool,
    recipient: &Recipient,
) -> Result<(Value, String), String> {
    if opt_in && !recipient.opted_in {
        return Err(
            "the contact has not opted in (or opted out since the campaign started)".into(),
        );
    }
    let Some(wa_id) = recipient.wa_id.clone() else {
        return Err("the contact has no WhatsApp number".into());
    };
    let values = render_values(params, recipient)?;
    let message = OutboundMessage {
        to: wa_id,
        reply_to: None,
        callback_data: None,
        body: OutboundBody::Template {
            name: found.name.clone(),
            language: found.language.clone(),
            components: template::send_components(vars, &values),
        },
    };
    message.validate().map_err(|e| e.to_string())?;
    Ok((
        message.to_json(),
        template::render(&found.components, &values),
    ))
}
