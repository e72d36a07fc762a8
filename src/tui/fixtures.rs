//! A small inbox built by hand, for the state and snapshot tests: rows, a thread, a member,
//! campaigns, a running campaign's dashboard and the team.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::keymap::Keymap;
use super::state::{Session, Settings, State};
use super::theme::Theme;
use crate::domain::{CampaignStatus, MessageStatus, Role};
use crate::store::campaign_views::{Dashboard, RecipientFilter, RecipientRow, SendSecond};
use crate::store::campaigns::{Campaign, FailureReason};
use crate::store::inbox::{InboxCounts, InboxRow};
use crate::store::team::{AgentLoad, PeriodTimes, TeamSnapshot};
use crate::store::thread::{
    CampaignMark, ContactCard, Entry, Header, MediaInfo, Note, ReactionMark, ThreadMessage,
};
use crate::store::users::{Membership, User};
use crate::store::workspaces::Workspace;

pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
        .unwrap()
        .to_utc()
}

/// A stable id for fixture number `n`.
pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

pub fn user() -> User {
    User {
        id: id(1),
        email: "alex@acme.test".into(),
        name: Some("Alex".into()),
    }
}

pub fn membership(role: Role) -> Membership {
    Membership {
        workspace: Workspace {
            id: id(2),
            slug: "acme".into(),
            name: "Acme Demo".into(),
            created_at: now() - Duration::days(30),
        },
        role,
    }
}

/// A state with a session and no rows, in a terminal of `width`×`height`.
pub fn state(role: Role, width: u16, height: u16) -> State {
    let mut state = State::new(
        user(),
        vec![membership(role)],
        Arc::new(Keymap::defaults()),
        Arc::new(Theme::defaults(true)),
        Settings::default(),
        now(),
    );
    state.size = (width, height);
    state.session = Some(Session {
        user: user(),
        membership: membership(role),
    });
    state
}

pub fn row(n: u128, name: &str, unread: i32, minutes_ago: i64) -> InboxRow {
    let at = now() - Duration::minutes(minutes_ago);
    InboxRow {
        id: id(100 + n),
        contact_id: id(200 + n),
        contact_name: Some(name.into()),
        wa_id: Some(format!("1555000{n:04}")),
        status: "OPEN".into(),
        window_expires_at: Some(at + Duration::hours(24)),
        last_message_at: Some(at),
        last_message_preview: Some(format!("message from {name}")),
        last_direction: Some("INBOUND".into()),
        last_status: Some(MessageStatus::Received),
        last_error_code: None,
        unread_count: unread,
        assignee_id: None,
        assignee_name: None,
        tags: Vec::new(),
    }
}

/// The rows of a small, varied inbox, unread first.
pub fn rows() -> Vec<InboxRow> {
    let mut ana = row(1, "Ana Souza", 2, 19);
    ana.last_message_preview = Some("Does it come in blue?".into());
    ana.assignee_id = Some(id(1));
    ana.assignee_name = Some("Alex".into());
    ana.tags = vec!["vip".into(), "promo".into()];
    let mut raj = row(2, "Raj Patel", 1, 22);
    raj.last_message_preview = Some("📷 Photo: tampa quebrada".into());
    let mut zoe = row(3, "Zoë Ñúñez", 0, 58);
    zoe.last_direction = Some("OUTBOUND".into());
    zoe.last_status = Some(MessageStatus::Delivered);
    zoe.last_message_preview = Some("Sure, sending now".into());
    zoe.window_expires_at = Some(now() + Duration::minutes(40));
    zoe.assignee_name = Some("Sam Lee".into());
    let mut bruno = row(4, "Bruno Lima", 0, 60 * 26);
    bruno.last_message_preview = Some("Thanks!".into());
    bruno.status = "CLOSED".into();
    let mut chen = row(5, "陳偉", 0, 60 * 50);
    chen.last_direction = Some("OUTBOUND".into());
    chen.last_status = Some(MessageStatus::Failed);
    chen.last_error_code = Some(131047);
    chen.last_message_preview = Some("Your order is ready".into());
    let mut layla = row(6, "ليلى حداد", 0, 60 * 70);
    layla.last_message_preview = Some("شكرا جزيلا".into());
    vec![ana, raj, zoe, bruno, chen, layla]
}

pub fn counts() -> InboxCounts {
    InboxCounts {
        mine: 1,
        unassigned: 4,
        open: 5,
        unread: 2,
    }
}

pub fn header(conversation: Uuid, window_left: Duration) -> Header {
    Header {
        conversation_id: conversation,
        status: "OPEN".into(),
        window_expires_at: Some(now() + window_left),
        last_inbound_at: Some(now() + window_left - Duration::hours(24)),
        unread_count: 2,
        assignee_id: Some(id(1)),
        assignee_name: Some("Alex".into()),
        phone_number_id: "100200300".into(),
        display_phone_number: "+1 555 000 1111".into(),
        waba_id: "900".into(),
        contact: ContactCard {
            id: id(201),
            name: Some("Ana Souza".into()),
            profile_name: Some("Ana".into()),
            wa_id: Some("5511987650001".into()),
            opted_in: true,
            opted_out_at: None,
            tags: vec!["vip".into(), "promo".into()],
            custom_fields: json!({"city": "São Paulo", "plan": "gold"}),
            recent_campaigns: vec![CampaignMark {
                name: "Spring sale".into(),
                status: "read".into(),
                at: Some(now() - Duration::days(3)),
            }],
        },
    }
}

pub fn message(n: u128, outbound: bool, text: &str, minutes_ago: i64) -> ThreadMessage {
    let at = now() - Duration::minutes(minutes_ago);
    ThreadMessage {
        id: id(1000 + n),
        wa_message_id: Some(format!("wamid.{n}")),
        direction: if outbound { "OUTBOUND" } else { "INBOUND" }.into(),
        kind: "text".into(),
        content: json!({"type": "text", "text": {"body": text}}),
        rendered_text: None,
        status: if outbound {
            MessageStatus::Read
        } else {
            MessageStatus::Received
        },
        error_code: None,
        error_title: None,
        error_details: None,
        context_wa_message_id: None,
        quoted: None,
        reactions: Vec::new(),
        media: None,
        sent_by_name: outbound.then(|| "Alex".to_string()),
        created_at: at,
        wa_timestamp: Some(at),
        edited_at: None,
        revoked_at: None,
    }
}

/// A thread with each kind of entry, oldest first.
pub fn entries() -> Vec<Entry> {
    let first = message(1, false, "Hi! Has order #4521 shipped?", 30);
    let mut template = message(2, true, "", 28);
    template.kind = "template".into();
    template.content = json!({"type": "template", "template": {"name": "order_update", "language": {"code": "en_US"}}});
    template.rendered_text = Some("Hi Ana, your order #4521 has shipped.".into());
    let mut photo = message(3, false, "", 25);
    photo.kind = "image".into();
    photo.content = json!({"type": "image", "image": {"id": "m1", "mime_type": "image/jpeg", "caption": "the lid"}});
    photo.media = Some(MediaInfo {
        mime_type: Some("image/jpeg".into()),
        size: Some(186_000),
        filename: None,
        storage_url: Some("file:///tmp/m1.jpg".into()),
        caption: Some("the lid".into()),
    });
    let note = Note {
        id: id(3000),
        author_name: Some("Sam Lee".into()),
        body: "Customer is a VIP: offer free shipping.".into(),
        created_at: now() - Duration::minutes(24),
    };
    let mut failed = message(4, true, "Did you get it?", 22);
    failed.status = MessageStatus::Failed;
    failed.error_code = Some(131047);
    failed.error_title = Some("Re-engagement message".into());
    let mut blue = message(5, false, "Does it come in blue?", 19);
    blue.reactions = vec![ReactionMark {
        emoji: "👍".into(),
        direction: "OUTBOUND".into(),
    }];
    blue.quoted = Some(crate::store::thread::Quoted {
        direction: "OUTBOUND".into(),
        kind: "template".into(),
        content: json!({}),
        rendered_text: Some("Hi Ana, your order #4521 has shipped.".into()),
    });
    vec![
        Entry::Message(first),
        Entry::Message(template),
        Entry::Message(photo),
        Entry::Note(note),
        Entry::Message(failed),
        Entry::Message(blue),
    ]
}

/// A campaign of the fixture workspace, sending from its number.
pub fn campaign(n: u128, name: &str, status: CampaignStatus) -> Campaign {
    Campaign {
        id: id(500 + n),
        workspace_id: id(2),
        name: name.into(),
        status,
        phone_number_id: "100200300".into(),
        display_phone_number: "+1 555 000 1111".into(),
        template_name: "spring_sale".into(),
        template_language: "en_US".into(),
        template_category: "MARKETING".into(),
        parameters: json!(["{name}"]),
        audience: json!({"any": ["promo"]}),
        scheduled_at: None,
        started_at: None,
        completed_at: None,
        total_contacts: 0,
        sent_count: 0,
        delivered_count: 0,
        read_count: 0,
        replied_count: 0,
        failed_count: 0,
        skipped_count: 0,
        mps: 15,
        created_at: now() - Duration::days(1),
        updated_at: now(),
    }
}

/// Sends per second of the running campaign: 12 a second for the last nine minutes but for a
/// minute of pause, one second in seven a little faster.
pub fn sends() -> Vec<SendSecond> {
    (1..=540)
        .rev()
        .filter(|ago| !(300..360).contains(ago))
        .map(|ago: i64| SendSecond {
            second: now() - Duration::seconds(ago),
            sent: if ago % 7 == 0 { 14 } else { 12 },
        })
        .collect()
}

/// Spring sale, running for nine minutes with failures; its counters agree with `sends`.
pub fn running() -> Campaign {
    let sent: i32 = sends().iter().map(|s| s.sent).sum();
    let mut spring = campaign(1, "Spring sale", CampaignStatus::Running);
    spring.started_at = Some(now() - Duration::minutes(9));
    spring.total_contacts = 10_000;
    spring.sent_count = sent;
    spring.delivered_count = sent * 93 / 100;
    spring.read_count = sent * 48 / 100;
    spring.replied_count = sent * 6 / 100;
    spring.failed_count = 97;
    spring.skipped_count = 211;
    spring
}

/// The workspace's campaigns, newest first: one of each kind of status.
pub fn campaigns() -> Vec<Campaign> {
    let mut orders = campaign(2, "Order follow-up", CampaignStatus::Completed);
    orders.template_name = "order_update".into();
    orders.template_category = "UTILITY".into();
    orders.started_at = Some(now() - Duration::days(2));
    orders.completed_at = Some(now() - Duration::days(2) + Duration::minutes(14));
    orders.total_contacts = 1_250;
    orders.sent_count = 1_238;
    orders.delivered_count = 1_201;
    orders.read_count = 1_010;
    orders.replied_count = 230;
    orders.failed_count = 12;
    let mut black = campaign(
        3,
        "Black Friday teaser with a very long name indeed",
        CampaignStatus::Paused,
    );
    black.started_at = Some(now() - Duration::hours(3));
    black.total_contacts = 48_000;
    black.sent_count = 21_317;
    black.delivered_count = 20_904;
    black.read_count = 9_870;
    black.replied_count = 301;
    black.failed_count = 1_422;
    black.skipped_count = 88;
    let welcome = campaign(4, "Welcome series", CampaignStatus::Draft);
    vec![running(), black, orders, welcome]
}

fn recipient(n: i64, status: &str, seconds_ago: i64) -> RecipientRow {
    RecipientRow {
        contact_id: id(700 + n as u128),
        name: Some(format!("Customer {n}")),
        wa_id: Some(format!("1415600{n:04}")),
        status: status.into(),
        error_code: None,
        error_details: None,
        replied_at: None,
        updated_at: now() - Duration::seconds(seconds_ago),
    }
}

/// A page of Spring sale's recipients, of every kind.
pub fn recipients() -> Vec<RecipientRow> {
    (1..=40)
        .map(|n| {
            let mut row = match n % 10 {
                0 => recipient(n, "queued", 600),
                1 | 5 => recipient(n, "read", 400 - n),
                2 => {
                    let mut row = recipient(n, "failed", 420 - n);
                    row.error_code = Some(131026);
                    row.error_details = Some("Message undeliverable".into());
                    row
                }
                3 => {
                    let mut row = recipient(n, "read", 380 - n);
                    row.replied_at = Some(now() - Duration::seconds(200 - n));
                    row
                }
                4 => {
                    let mut row = recipient(n, "skipped", 450);
                    row.error_details = Some("the contact opted out".into());
                    row
                }
                6 => recipient(n, "sent", 30),
                7 => recipient(n, "pending", 2),
                _ => recipient(n, "delivered", 100),
            };
            if n == 13 {
                row.name = Some("Zoë Ñúñez-Castellanos de la Vega".into());
            }
            row
        })
        .collect()
}

/// Spring sale's dashboard as read now.
pub fn dashboard() -> Dashboard {
    Dashboard {
        campaign: running(),
        created_by: Some("Alex".into()),
        as_of: now(),
        sends: sends(),
        failures: vec![
            FailureReason {
                error_code: Some(131026),
                error_details: Some("Message undeliverable".into()),
                count: 61,
            },
            FailureReason {
                error_code: Some(131049),
                error_details: Some("healthy ecosystem engagement".into()),
                count: 30,
            },
            FailureReason {
                error_code: Some(131047),
                error_details: None,
                count: 6,
            },
        ],
        filter: RecipientFilter::All,
        recipients: recipients(),
    }
}

/// The team of the fixture workspace: its open work and response times.
pub fn team() -> TeamSnapshot {
    let agent = |n: u128, name: &str, role: Role, open: i64, unattended: i64| AgentLoad {
        user_id: id(800 + n),
        name: name.into(),
        role,
        open,
        unattended,
        replied_today: [41, 33, 20, 12, 2, 0][(n as usize - 1) % 6],
        first_response_today_secs: [
            Some(230.0),
            Some(312.0),
            Some(401.5),
            Some(95.0),
            None,
            None,
        ][(n as usize - 1) % 6],
        resolved_today: [18, 14, 9, 6, 0, 0][(n as usize - 1) % 6],
    };
    TeamSnapshot {
        open: 38,
        unassigned: 4,
        unattended: 3,
        agents: vec![
            agent(1, "Alex", Role::Owner, 12, 2),
            agent(2, "Sam Lee", Role::Admin, 9, 0),
            agent(3, "Priya Raman", Role::Member, 7, 1),
            agent(4, "Zoë Ñúñez", Role::Member, 5, 0),
            agent(
                5,
                "Maximilian Alexander von Habsburg-Lothringen",
                Role::Member,
                1,
                0,
            ),
            agent(6, "bruno@acme.test", Role::Member, 0, 0),
        ],
        today: PeriodTimes {
            first_response_secs: Some(250.0),
            resolution_secs: Some(3720.0),
            conversations: 41,
        },
        yesterday: PeriodTimes {
            first_response_secs: Some(385.0),
            resolution_secs: Some(3450.0),
            conversations: 38,
        },
        last_7_days: PeriodTimes {
            first_response_secs: Some(302.0),
            resolution_secs: Some(4100.0),
            conversations: 260,
        },
        previous_7_days: PeriodTimes {
            first_response_secs: Some(340.0),
            resolution_secs: None,
            conversations: 0,
        },
    }
}
