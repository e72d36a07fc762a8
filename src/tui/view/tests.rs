//! Snapshots of every view at 80×24 and 120×40 on ratatui's test backend, with clock times and
//! dates filtered (they follow the machine's time zone).

use chrono::Duration;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::domain::Move;
use crate::domain::Role;
use crate::store::campaign_views::RecipientFilter;
use crate::store::thread::Entry;
use crate::tui::fixtures::{self, id};
use crate::tui::state::{
    CampaignDashboard, ComposeMode, Confirm, Focus, LineInput, Overlay, Prompt, Quote, Screen,
    State, TemplateForm, Thread,
};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn render(state: &State) -> String {
    let backend = TestBackend::new(state.size.0, state.size.1);
    let mut terminal = Terminal::new(backend).unwrap();
    terminal.draw(|frame| super::draw(state, frame)).unwrap();
    terminal.backend().to_string()
}

/// Snapshots `make(width, height)` at both sizes.
fn snapshot(name: &str, make: impl Fn(u16, u16) -> State) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\b\d{2}:\d{2}\b", "hh:mm");
    settings.add_filter(
        r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{2} [A-Z][a-z]{2} \d{4}",
        "DATE",
    );
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for (width, height) in SIZES {
            let screen = render(&make(width, height));
            insta::assert_snapshot!(format!("{name}_{width}x{height}"), screen);
        }
    });
}

fn inbox(width: u16, height: u16) -> State {
    let mut state = fixtures::state(Role::Owner, width, height);
    state.inbox.rows = fixtures::rows();
    state.inbox.counts = fixtures::counts();
    state.inbox.complete = true;
    state.health.listener =
        crate::tui::state::ListenerState::Listening("127.0.0.1:8080".parse().unwrap());
    state
}

fn with_thread(width: u16, height: u16, window_left: Duration) -> State {
    let mut state = inbox(width, height);
    let mut thread = Thread::new(id(101));
    thread.header = Some(fixtures::header(id(101), window_left));
    thread.entries = fixtures::entries();
    thread.complete = true;
    thread.loading = false;
    state.thread = Some(thread);
    state.focus = Focus::Thread;
    state
}

#[test]
fn picker() {
    snapshot("picker", |w, h| {
        let mut state = fixtures::state(Role::Owner, w, h);
        state.session = None;
        let mut other = fixtures::membership(Role::Member);
        other.workspace.slug = "globex".into();
        other.workspace.name = "Globex Support".into();
        state.picker.memberships.push(other);
        state
    });
}

#[test]
fn inbox_list() {
    snapshot("inbox", inbox);
}

#[test]
fn inbox_empty() {
    snapshot("inbox_empty", |w, h| fixtures::state(Role::Member, w, h));
}

#[test]
fn thread_open() {
    snapshot("thread", |w, h| {
        with_thread(w, h, Duration::minutes(21 * 60 + 14))
    });
}

#[test]
fn thread_with_selection_and_composer() {
    snapshot("composer", |w, h| {
        let mut state = with_thread(w, h, Duration::minutes(50));
        state.focus = Focus::Composer;
        state
            .composer
            .set_text("It does! Blue ships next week,\nshall I reserve one?");
        state.composer.quote = Some(Quote {
            wa_message_id: "wamid.5".into(),
            preview: "Does it come in blue?".into(),
        });
        if let Some(thread) = state.thread.as_mut() {
            thread.selected = Some(4);
        }
        state
    });
}

#[test]
fn window_closed() {
    snapshot("window_closed", |w, h| {
        let mut state = with_thread(w, h, -Duration::hours(3));
        state.focus = Focus::Composer;
        state
    });
}

#[test]
fn note_mode() {
    snapshot("note", |w, h| {
        let mut state = with_thread(w, h, Duration::hours(5));
        state.focus = Focus::Composer;
        state.composer.mode = ComposeMode::Note;
        state.composer.set_text("VIP: offer free shipping");
        state
    });
}

#[test]
fn template_form() {
    snapshot("templates", |w, h| {
        let mut state = with_thread(w, h, -Duration::hours(3));
        let template = |name: &str, body: &str| crate::store::templates::Template {
            id: id(7),
            workspace_id: id(2),
            waba_id: "900".into(),
            wa_template_id: None,
            name: name.into(),
            language: "en_US".into(),
            category: "UTILITY".into(),
            status: "APPROVED".into(),
            components: serde_json::json!([{"type": "BODY", "text": body}]),
            rejected_reason: None,
            synced_at: None,
        };
        state.overlay = Some(Overlay::Templates(TemplateForm {
            templates: vec![
                template("order_update", "Hi {{1}}, your order {{2}} has shipped."),
                template("hello_world", "Hello World"),
            ],
            loading: false,
            selected: 0,
            values: vec!["Ana".into(), String::new()],
            field: Some(1),
            wanted: None,
        }));
        state
    });
}

#[test]
fn help() {
    snapshot("help", |w, h| {
        let mut state = inbox(w, h);
        state.overlay = Some(Overlay::Help(crate::tui::keymap::View::Inbox));
        state
    });
}

#[test]
fn help_for_a_member_hides_what_the_role_may_not_do() {
    let mut state = inbox(120, 40);
    state.session.as_mut().unwrap().membership.role = Role::Member;
    state.overlay = Some(Overlay::Help(crate::tui::keymap::View::Inbox));
    let screen = render(&state);
    assert!(!screen.contains("assign to a member"), "{screen}");
    state.session.as_mut().unwrap().membership.role = Role::Admin;
    let screen = render(&state);
    assert!(screen.contains("A "), "{screen}");
}

#[test]
fn contact_panel() {
    snapshot("contact", |w, h| {
        let mut state = with_thread(w, h, Duration::hours(5));
        state.overlay = Some(Overlay::Contact);
        state
    });
}

#[test]
fn command_line() {
    snapshot("command_line", |w, h| {
        let mut state = inbox(w, h);
        state.overlay = Some(Overlay::Prompt(
            Prompt::CommandLine,
            LineInput {
                text: "assign sam@acme.test".into(),
            },
        ));
        state
    });
}

#[test]
fn search_prompt_and_results() {
    snapshot("search", |w, h| {
        let mut state = inbox(w, h);
        state.inbox.query.search = Some("blue".into());
        state.inbox.rows.truncate(1);
        state.overlay = Some(Overlay::Prompt(
            Prompt::Search,
            LineInput {
                text: "blue".into(),
            },
        ));
        state
    });
}

#[test]
fn canned_picker() {
    snapshot("canned", |w, h| {
        let mut state = with_thread(w, h, Duration::hours(5));
        state.focus = Focus::Composer;
        state.overlay = Some(Overlay::Canned {
            replies: vec![
                crate::store::agent::Canned {
                    code: "hello".into(),
                    body: "Hello! How can I help?".into(),
                },
                crate::store::agent::Canned {
                    code: "ship".into(),
                    body: "It ships within 2 days.".into(),
                },
            ],
            filter: LineInput { text: "s".into() },
            selected: 0,
        });
        state
    });
}

#[test]
fn an_error_notice() {
    snapshot("notice", |w, h| {
        let mut state = with_thread(w, h, -Duration::hours(3));
        state.fail(super::format::window_refusal(
            crate::domain::CustomerWindow::Closed(Duration::hours(3)),
        ));
        state.health.database = false;
        state.health.outbox_depth = 3;
        state
    });
}

#[test]
fn too_small_says_so() {
    let state = fixtures::state(Role::Owner, 60, 20);
    let screen = render(&state);
    assert!(screen.contains("at least 80×24"), "{screen}");
    assert!(screen.contains("60×20"), "{screen}");
}

#[test]
fn a_long_thread_draws_only_what_fits() {
    let mut state = with_thread(120, 40, Duration::hours(5));
    if let Some(thread) = state.thread.as_mut() {
        thread.entries = (0..5000)
            .map(|n| {
                Entry::Message(fixtures::message(
                    n,
                    n % 2 == 0,
                    &format!("message {n}"),
                    5000 - n as i64,
                ))
            })
            .collect();
    }
    let screen = render(&state);
    assert!(screen.contains("message 4999"));
    assert!(!screen.contains("message 4000"));
}

/// The campaign tab with the fixture campaigns listed.
fn campaigns(role: Role, width: u16, height: u16) -> State {
    let mut state = inbox(width, height);
    state.session.as_mut().unwrap().membership.role = role;
    state.screen = Screen::Campaigns;
    state.campaigns.rows = fixtures::campaigns();
    state.campaigns.loaded = true;
    state
}

/// Spring sale's dashboard, loaded.
fn dashboard(role: Role, width: u16, height: u16) -> State {
    let mut state = campaigns(role, width, height);
    let mut dashboard = CampaignDashboard::new(fixtures::running().id);
    dashboard.data = Some(fixtures::dashboard());
    state.campaigns.dashboard = Some(dashboard);
    state
}

#[test]
fn campaign_list() {
    snapshot("campaigns", |w, h| campaigns(Role::Owner, w, h));
}

#[test]
fn campaign_list_empty_once_loaded() {
    let mut state = campaigns(Role::Owner, 80, 24);
    state.campaigns.rows.clear();
    let screen = render(&state);
    assert!(screen.contains("No campaigns yet"), "{screen}");
    state.campaigns.loaded = false;
    let screen = render(&state);
    assert!(screen.contains("loading…"), "{screen}");
}

#[test]
fn campaign_dashboard_running_with_failures() {
    snapshot("dashboard", |w, h| dashboard(Role::Owner, w, h));
}

#[test]
fn campaign_dashboard_for_a_member_offers_no_controls() {
    snapshot("dashboard_member", |w, h| dashboard(Role::Member, w, h));
    for (width, height) in SIZES {
        let screen = render(&dashboard(Role::Member, width, height));
        let hints = screen.lines().last().unwrap_or_default().to_string();
        for control in ["pause", "resume", "cancel", "retry", "start"] {
            assert!(!hints.contains(control), "{control} in {hints}");
        }
        let screen = render(&dashboard(Role::Owner, width, height));
        let hints = screen.lines().last().unwrap_or_default().to_string();
        assert!(hints.contains("p pause"), "{hints}");
    }
}

#[test]
fn campaign_dashboard_filtered_to_the_failed() {
    snapshot("dashboard_failed", |w, h| {
        let mut state = dashboard(Role::Admin, w, h);
        let dashboard = state.campaigns.dashboard.as_mut().unwrap();
        dashboard.filter = RecipientFilter::Failed;
        let data = dashboard.data.as_mut().unwrap();
        data.filter = RecipientFilter::Failed;
        data.recipients.retain(|r| r.status == "failed");
        state
    });
}

#[test]
fn campaign_dashboard_while_loading_shows_the_listed_counters() {
    let mut state = dashboard(Role::Owner, 120, 40);
    let dashboard = state.campaigns.dashboard.as_mut().unwrap();
    dashboard.data = None;
    let screen = render(&state);
    assert!(screen.contains("Spring sale"), "{screen}");
    assert!(screen.contains("loading…"), "{screen}");
}

#[test]
fn cancelling_a_campaign_asks_first() {
    snapshot("confirm_cancel", |w, h| {
        let mut state = dashboard(Role::Owner, w, h);
        state.overlay = Some(Overlay::Confirm(Confirm {
            campaign: fixtures::running().id,
            name: "Spring sale".into(),
            movement: Move::Cancel,
        }));
        state
    });
}

#[test]
fn campaign_help_lists_the_controls_for_an_owner_only() {
    let mut state = dashboard(Role::Owner, 120, 40);
    state.overlay = Some(Overlay::Help(crate::tui::keymap::View::Campaign));
    let screen = render(&state);
    assert!(screen.contains("pause the campaign"), "{screen}");
    assert!(screen.contains("cancel the campaign"), "{screen}");
    state.session.as_mut().unwrap().membership.role = Role::Member;
    let screen = render(&state);
    assert!(!screen.contains("pause the campaign"), "{screen}");
    assert!(screen.contains("filter the list"), "{screen}");
}

/// The team tab, loaded.
fn team(role: Role, width: u16, height: u16) -> State {
    let mut state = inbox(width, height);
    state.session.as_mut().unwrap().membership.role = role;
    state.screen = Screen::Team;
    state.team.snapshot = Some(fixtures::team());
    state
}

#[test]
fn team_view() {
    snapshot("team", |w, h| team(Role::Admin, w, h));
}

#[test]
fn team_view_while_loading_and_with_more_agents_than_fit() {
    let mut state = team(Role::Member, 80, 24);
    state.team.snapshot = None;
    let screen = render(&state);
    assert!(screen.contains("loading…"), "{screen}");
    let mut snapshot = fixtures::team();
    let more: Vec<_> = (0..30)
        .map(|n| crate::store::team::AgentLoad {
            user_id: id(900 + n),
            name: format!("Agent {n}"),
            role: Role::Member,
            open: 30 - n as i64,
            unattended: 0,
            replied_today: 0,
            first_response_today_secs: None,
            resolved_today: 0,
        })
        .collect();
    snapshot.agents = more;
    state.team.snapshot = Some(snapshot);
    state.team.offset = 5;
    let screen = render(&state);
    assert!(screen.contains("Agent 5 "), "{screen}");
    assert!(!screen.contains("Agent 4 "), "{screen}");
    assert!(screen.contains("6–"), "{screen}");
}
