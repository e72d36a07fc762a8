//! The demo workspace "Acme Demo": a team, a number, about 200 customers in many languages, 40
//! conversations with their history, five approved templates, a campaign half-way through, one
//! finished last week and one scheduled. Written through the same store functions as the
//! commands (workspace, members, number, contacts, templates from the Graph API, campaigns
//! created and started by the rules of `app::campaigns`), and the past itself set-based
//! (`store::demo`) with the times it happened at.

mod script;

use chrono::{DateTime, Duration, DurationRound, Utc};
use secrecy::SecretString;
use serde_json::json;
use uuid::Uuid;

use super::campaigns::{self, CampaignError, Definition};
use super::templates::{self as template_sync, SyncError};
use crate::cloud_api::graph::{GraphClient, OutboundBody, OutboundMessage};
use crate::domain::campaign::Audience;
use crate::domain::{Email, Move, Slug, Tag, WaId, WorkspaceId};
use crate::store::contacts::NewContact;
use crate::store::demo::{History, PastConversation, PastEpisode, PastMessage, PastNote, PastSend};
use crate::store::phones::NewPhoneNumber;
use crate::store::{Db, StoreError, agent, contacts, members, phones, templates, workspaces};
pub use script::{ACCESS_TOKEN, DISPLAY_PHONE_NUMBER, NAME, OWNER, PHONE_NUMBER_ID, SLUG, WABA_ID};
use script::{Person, Who};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot fetch the demo's templates")]
    Templates(#[from] SyncError),
    #[error("cannot set up the demo's campaigns")]
    Campaign(#[from] CampaignError),
}

/// A customer of the demo, as the simulator plays them: name, WhatsApp number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub name: String,
    pub wa_id: String,
}

/// Every customer of the demo workspace: the 40 with a conversation first.
pub fn customers() -> Vec<Customer> {
    let talked = script::PEOPLE.iter().map(|p| Customer {
        name: p.name.to_string(),
        wa_id: p.wa_id.to_string(),
    });
    talked
        .chain((0..OTHER_CUSTOMERS).map(other_customer))
        .collect()
}

/// The customers without a conversation yet: the campaigns' audience.
const OTHER_CUSTOMERS: usize = 160;

fn other_customer(i: usize) -> Customer {
    // Each first name meets a different last name in each round: no two customers share both.
    let (firsts, lasts) = (script::FIRST_NAMES, script::LAST_NAMES);
    let first = firsts[i % firsts.len()];
    let last = lasts[(i % firsts.len() + 5 * (i / firsts.len())) % lasts.len()];
    let code = script::COUNTRY_CODES[i % script::COUNTRY_CODES.len()];
    Customer {
        name: format!("{first} {last}"),
        wa_id: format!("{code}7{:08}", 31_000_000 + i),
    }
}

/// The templates the demo's WABA starts with besides Meta's three: name, language, category,
/// components.
pub fn extra_templates() -> Vec<(&'static str, &'static str, &'static str, serde_json::Value)> {
    script::extra_templates()
}

/// The demo workspace, when it was seeded completely.
pub async fn seeded(db: &Db) -> Result<Option<WorkspaceId>, StoreError> {
    crate::store::demo::seeded(db, SLUG).await
}

/// Whether a demo workspace exists at all (seeded or left half-way by an interrupted start).
pub async fn exists(db: &Db) -> Result<bool, StoreError> {
    let slug = Slug::parse(SLUG).map_err(|e| StoreError::Invalid(e.to_string()))?;
    match workspaces::by_slug(db, &slug).await {
        Ok(_) => Ok(true),
        Err(StoreError::NotFound(_)) => Ok(false),
        Err(error) => Err(error),
    }
}

/// Writes the demo workspace as it stands at `now`. `graph` must reach a Graph API that knows
/// the demo's number and templates (the simulator).
pub async fn seed(
    db: &Db,
    graph: &GraphClient,
    now: DateTime<Utc>,
) -> Result<WorkspaceId, DemoError> {
    let invalid = |e: crate::domain::InvalidValue| StoreError::Invalid(e.to_string());
    let slug = Slug::parse(SLUG).map_err(invalid)?;
    let owner_email = Email::parse(OWNER.0).map_err(invalid)?;
    let created = workspaces::create(
        db,
        workspaces::NewWorkspace {
            slug: &slug,
            name: NAME,
            owner: Some((&owner_email, Some(OWNER.1))),
        },
    )
    .await?;
    let workspace = created.workspace.workspace_id();
    let mut team = vec![created.owner.map(|m| m.user_id).unwrap_or_default()];
    for (email, name) in script::AGENTS {
        let email = Email::parse(email).map_err(invalid)?;
        let member = members::add(
            db,
            workspace,
            &email,
            Some(name),
            crate::domain::Role::Member,
        )
        .await?;
        team.push(member.user_id);
    }
    let phone = phones::add(
        db,
        workspace,
        NewPhoneNumber {
            phone_number_id: PHONE_NUMBER_ID,
            display_phone_number: DISPLAY_PHONE_NUMBER,
            waba_id: WABA_ID,
            access_token: &SecretString::from(ACCESS_TOKEN),
            mps: script::MPS,
        },
    )
    .await?;
    let contact_ids = write_contacts(db, workspace).await?;
    for (code, body) in script::CANNED {
        agent::save_canned_reply(db, workspace, code, body).await?;
    }
    let history = history(&contact_ids, &team, now);
    let mut tx = db.pool().begin().await.map_err(StoreError::from)?;
    crate::store::demo::write_history(&mut tx, workspace, phone.id, &history).await?;
    tx.commit().await.map_err(StoreError::from)?;

    template_sync::sync(db, graph, workspace, None).await?;
    let owner = team[0];
    seed_campaigns(db, workspace, phone.id, owner, now).await?;
    crate::store::demo::mark_seeded(db, workspace).await?;
    Ok(workspace)
}

/// The contacts, their tags and consent; returns the ids of the 40 with a conversation, in
/// order.
async fn write_contacts(db: &Db, workspace: WorkspaceId) -> Result<Vec<Uuid>, StoreError> {
    let invalid = |e: crate::domain::InvalidValue| StoreError::Invalid(e.to_string());
    let tags = |names: &[&str]| -> Result<Vec<Tag>, StoreError> {
        names
            .iter()
            .map(|t| Tag::parse(t).map_err(invalid))
            .collect()
    };
    let mut rows = Vec::new();
    for (i, person) in script::PEOPLE.iter().enumerate() {
        rows.push(NewContact {
            wa_id: WaId::parse(person.wa_id).map_err(invalid)?,
            name: Some(person.name.to_string()),
            tags: tags(person.tags)?,
            // One customer wrote STOP long ago.
            opted_in: Some(i != 20),
            custom_fields: serde_json::Map::new(),
        });
    }
    for i in 0..OTHER_CUSTOMERS {
        let customer = other_customer(i);
        let mut names = vec!["newsletter", script::CITY_TAGS[i % script::CITY_TAGS.len()]];
        if i % 9 == 0 {
            names.push("vip");
        }
        rows.push(NewContact {
            wa_id: WaId::parse(&customer.wa_id).map_err(invalid)?,
            name: Some(customer.name),
            tags: tags(&names)?,
            // A few opted out.
            opted_in: Some(i % 23 != 5),
            custom_fields: serde_json::Map::new(),
        });
    }
    let mut tx = db.pool().begin().await?;
    contacts::upsert_many(&mut tx, workspace, &rows).await?;
    tx.commit().await?;
    let wa_ids: Vec<&str> = script::PEOPLE.iter().map(|p| p.wa_id).collect();
    crate::store::demo::contact_ids(db, workspace, &wa_ids).await
}

/// A wamid as Meta makes them: unique per number.
fn wamid() -> String {
    format!(
        "wamid.HBgL{}",
        Uuid::new_v4().simple().to_string().to_uppercase()
    )
}

fn first_name(person: &Person) -> &str {
    person.name.split_whitespace().next().unwrap_or(person.name)
}

/// The 40 conversations. `team` is the owner and the two agents.
fn history(contacts: &[Uuid], team: &[Uuid], now: DateTime<Utc>) -> History {
    let mut history = History::default();
    for (i, (person, contact)) in script::PEOPLE.iter().zip(contacts).enumerate() {
        let conversation = Uuid::now_v7();
        // The first twelve wrote in the last two hours and wait for an answer; then the day so
        // far; the last twelve wrote more than a day ago, so their window is closed.
        let end = match i {
            0..12 => now - Duration::minutes(3 + 9 * i as i64),
            12..28 => now - Duration::hours(2 + (i as i64 - 12)),
            _ => now - Duration::hours(26 + 5 * (i as i64 - 28)),
        };
        let assignee = match i % 4 {
            0 => Some(team[1]),
            1 => Some(team[2]),
            2 => None,
            _ => Some(team[0]),
        };
        let writer = assignee.unwrap_or(team[1 + i % 2]);
        let mut lines: Vec<(Who, String)> = script::SCRIPTS[person.script]
            .iter()
            .map(|(who, text)| (*who, text.replace("{first}", first_name(person))))
            .collect();
        // Conversations of the day were answered to the end.
        if (12..28).contains(&i) && lines.last().is_some_and(|(who, _)| *who == Who::Customer) {
            let thanks = "🙏".to_string();
            lines.push((Who::Agent, thanks));
        }
        // A few minutes between lines, ending at `end`.
        let gaps: Vec<Duration> = (0..lines.len())
            .map(|n| match n {
                0 => Duration::zero(),
                _ => Duration::minutes(2 + ((i * 7 + n * 3) % 11) as i64),
            })
            .collect();
        let start = end - gaps.iter().fold(Duration::zero(), |sum, gap| sum + *gap);
        let mut at = start;
        let mut messages: Vec<PastMessage> = Vec::new();
        for ((who, text), gap) in lines.iter().zip(&gaps) {
            at += *gap;
            messages.push(match who {
                Who::Customer => inbound(conversation, person.wa_id, text, at),
                Who::Agent => outbound(conversation, person.wa_id, text, Some(writer), at, now),
            });
        }
        let failed = i == 30;
        if failed {
            let last_inbound = messages
                .iter()
                .rev()
                .find(|m| m.direction == "INBOUND")
                .map_or(start, |m| m.created_at);
            let text = script::FAILED_REPLY.replace("{first}", first_name(person));
            let mut reply = outbound(conversation, person.wa_id, &text, Some(writer), at, now);
            reply.created_at = last_inbound + Duration::hours(25);
            reply.wa_message_id = None;
            reply.status = "failed";
            reply.sent_at = None;
            reply.delivered_at = None;
            reply.read_at = None;
            reply.failed_at = Some(reply.created_at + Duration::seconds(1));
            reply.error_code = Some(script::FAILED_CODE);
            reply.error_title = Some(script::FAILED_TITLE.into());
            reply.error_details = Some(script::FAILED_DETAILS.into());
            messages.push(reply);
        }
        let closed = !failed && (matches!(i, 13 | 17 | 21 | 25) || i >= 28 && i % 3 != 0);
        history.conversations.push(conversation_row(
            conversation,
            *contact,
            assignee,
            &messages,
            closed,
            i < 12,
        ));
        history
            .episodes
            .push(episode(conversation, &messages, closed, writer));
        if i == 2 {
            history.notes.push(PastNote {
                conversation_id: conversation,
                author_id: team[0],
                body: script::NOTE.into(),
                created_at: start + Duration::minutes(1),
            });
        }
        history.messages.extend(messages);
    }
    history
}

fn inbound(conversation: Uuid, wa_id: &str, text: &str, at: DateTime<Utc>) -> PastMessage {
    let id = wamid();
    PastMessage {
        id: Uuid::now_v7(),
        conversation_id: conversation,
        content: json!({
            "from": wa_id, "id": id, "timestamp": at.timestamp().to_string(),
            "type": "text", "text": { "body": text },
        }),
        wa_message_id: Some(id),
        direction: "INBOUND",
        kind: "text".into(),
        rendered_text: None,
        status: "received",
        sent_by: None,
        error_code: None,
        error_title: None,
        error_details: None,
        created_at: at,
        sent_at: None,
        delivered_at: None,
        read_at: None,
        failed_at: None,
    }
}

/// A text (an agent's, or none's), delivered, and read unless it is less than a minute old.
fn outbound(
    conversation: Uuid,
    wa_id: &str,
    text: &str,
    agent: Option<Uuid>,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> PastMessage {
    let message = OutboundMessage {
        to: wa_id.to_string(),
        reply_to: None,
        callback_data: None,
        body: OutboundBody::Text {
            body: text.to_string(),
            preview_url: false,
        },
    };
    let read = at + Duration::seconds(40);
    PastMessage {
        id: Uuid::now_v7(),
        conversation_id: conversation,
        wa_message_id: Some(wamid()),
        direction: "OUTBOUND",
        kind: "text".into(),
        content: message.to_json(),
        rendered_text: None,
        status: if read < now { "read" } else { "delivered" },
        sent_by: agent,
        error_code: None,
        error_title: None,
        error_details: None,
        created_at: at,
        sent_at: Some(at + Duration::seconds(1)),
        delivered_at: Some(at + Duration::seconds(2)),
        read_at: (read < now).then_some(read),
        failed_at: None,
    }
}

/// What the write paths keep on a conversation, from its messages.
fn conversation_row(
    id: Uuid,
    contact: Uuid,
    assignee: Option<Uuid>,
    messages: &[PastMessage],
    closed: bool,
    unread: bool,
) -> PastConversation {
    let first = &messages[0];
    let last = &messages[messages.len() - 1];
    let last_inbound = messages
        .iter()
        .filter(|m| m.direction == "INBOUND")
        .map(|m| m.created_at)
        .max();
    let last_reply = messages
        .iter()
        .filter(|m| m.sent_by.is_some())
        .map(|m| m.created_at)
        .max();
    let waiting: Vec<&PastMessage> = messages
        .iter()
        .filter(|m| m.direction == "INBOUND" && last_reply.is_none_or(|r| m.created_at > r))
        .collect();
    let preview = match &last.content["text"]["body"] {
        serde_json::Value::String(body) => body.clone(),
        _ => String::new(),
    };
    PastConversation {
        id,
        contact_id: contact,
        status: if closed { "CLOSED" } else { "OPEN" },
        assignee_id: assignee,
        created_at: first.created_at,
        closed_at: closed.then(|| last.created_at + Duration::minutes(10)),
        last_message_at: last.created_at,
        last_message_preview: preview,
        last_inbound_at: last_inbound,
        window_expires_at: last_inbound.map(|at| at + Duration::hours(24)),
        unread_count: if unread { waiting.len() as i32 } else { 0 },
        last_reply_at: last_reply,
        awaiting_reply_since: waiting.first().filter(|_| !closed).map(|m| m.created_at),
    }
}

/// The conversation's one episode: from the customer's first message to its close.
fn episode(
    conversation: Uuid,
    messages: &[PastMessage],
    closed: bool,
    closer: Uuid,
) -> PastEpisode {
    let opened = messages[0].created_at;
    let response = messages
        .iter()
        .find(|m| m.sent_by.is_some() && m.status != "failed");
    let last = messages[messages.len() - 1].created_at;
    PastEpisode {
        conversation_id: conversation,
        opened_at: opened,
        first_response_at: response.map(|m| m.created_at),
        responded_by: response.and_then(|m| m.sent_by),
        closed_at: closed.then(|| last + Duration::minutes(10)),
        closed_by: closed.then_some(closer),
    }
}

/// The campaigns: one finished last week, one scheduled for a quarter of an hour later, and the
/// newest half-way through (it goes on sending).
async fn seed_campaigns(
    db: &Db,
    workspace: WorkspaceId,
    phone: Uuid,
    owner: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DemoError> {
    let define =
        |name: &str, template: &str, language: &str, tag: &str, params: &[&str]| Definition {
            workspace,
            name: name.into(),
            phone_number_id: PHONE_NUMBER_ID.into(),
            template: template.into(),
            language: language.into(),
            audience: Audience {
                any: vec![tag.into()],
                ..Audience::default()
            },
            parameters: params.iter().map(|p| p.to_string()).collect(),
            at: None,
            created_by: Some(owner),
        };
    let welcome = campaigns::create(
        db,
        &define("Welcome, VIPs", "hello_world", "en_US", "vip", &[]),
    )
    .await?;
    let finished = now - Duration::days(6);
    play_past(
        db,
        workspace,
        phone,
        welcome.campaign.id,
        None,
        finished,
        now,
    )
    .await?;

    // Due a quarter of an hour after the demo first opens, on the minute: it starts on its own
    // while someone watches.
    let minute = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
    let mut slots = define(
        "Weekend delivery slots",
        "delivery_slot",
        "pt_BR",
        "lisbon",
        &["{name|cliente}", "sábado, 10h–12h"],
    );
    slots.at = Some(minute + Duration::minutes(15));
    campaigns::create(db, &slots).await?;

    let sale = define(
        "Spring sale",
        "spring_sale",
        "en_US",
        "newsletter",
        &["{name|there}"],
    );
    let sale = campaigns::create(db, &sale).await?;
    play_past(db, workspace, phone, sale.campaign.id, Some(0.5), now, now).await?;
    Ok(())
}

/// Starts the campaign and writes the sends it made before `until` at one a second: all of its
/// recipients (and it completed at `until`) or the given share (and it goes on running).
async fn play_past(
    db: &Db,
    workspace: WorkspaceId,
    phone: Uuid,
    campaign: Uuid,
    share: Option<f64>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), DemoError> {
    let started = campaigns::control(db, workspace, campaign, None, Move::Start).await?;
    let total = i64::from(started.total_contacts);
    let count = share.map_or(total, |s| (total as f64 * s).round() as i64);
    let mut tx = db.pool().begin().await.map_err(StoreError::from)?;
    let found = templates::find(
        &mut tx,
        workspace,
        WABA_ID,
        &started.template_name,
        &started.template_language,
    )
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("template {}", started.template_name)))?;
    let parameters: Vec<String> =
        serde_json::from_value(started.parameters.clone()).unwrap_or_default();
    let recipients =
        crate::store::demo::queued_recipients(&mut tx, workspace, campaign, count).await?;
    let n = recipients.len() as i64;
    let first = until - Duration::seconds(n + 2);
    let mut sends = Vec::with_capacity(recipients.len());
    for (k, recipient) in recipients.iter().enumerate() {
        let Ok((content, text)) = campaigns::render_for(&found, &parameters, recipient) else {
            continue;
        };
        let at = first + Duration::seconds(k as i64);
        // Its conversation is found or opened when it is written.
        let mut message = outbound(Uuid::nil(), "", &text, None, at, now);
        message.kind = "template".into();
        message.content = content;
        message.rendered_text = Some(text);
        // Meta's usual mix: most read, some only delivered, a few refused.
        match k % 17 {
            3 => refuse(&mut message, 131026, "Message undeliverable"),
            11 => refuse(
                &mut message,
                131049,
                "This message was not delivered to maintain healthy ecosystem engagement.",
            ),
            5 | 8 | 13 => {
                message.status = "delivered";
                message.read_at = None;
            }
            _ => {}
        }
        sends.push(PastSend {
            recipient: recipient.id,
            contact: recipient.contact_id,
            message,
        });
    }
    let completed = share.is_none().then_some(until);
    crate::store::demo::write_campaign_past(
        &mut tx,
        workspace,
        campaign,
        phone,
        &sends,
        first - Duration::seconds(1),
        completed,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

fn refuse(message: &mut PastMessage, code: i32, title: &str) {
    message.status = "failed";
    message.wa_message_id = Some(wamid());
    message.delivered_at = None;
    message.read_at = None;
    message.failed_at = message.sent_at;
    message.error_code = Some(code);
    message.error_title = Some(title.into());
}
