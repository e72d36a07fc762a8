//! Everything the TUI shows, in one value: `update` changes it, `draw` reads it. It holds no
//! connection, task or handle, so it can be built by hand in tests and drawn on a test backend.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ratatui_textarea::TextArea;
use uuid::Uuid;

use super::keymap::{Command, Keymap, View};
use super::theme::Theme;
use crate::domain::{Move, Permission, Role, WorkspaceId};
use crate::store::agent::Canned;
use crate::store::campaign_views::{Dashboard, RecipientFilter};
use crate::store::campaigns::Campaign;
use crate::store::inbox::{InboxCounts, InboxQuery, InboxRow};
use crate::store::members::Member;
use crate::store::team::TeamSnapshot;
use crate::store::templates::Template;
use crate::store::thread::{Entry, Header};
use crate::store::users::{Membership, User};

/// Rows asked for at a time; a page is a few screens, so scrolling rarely waits.
pub const PAGE: i64 = 100;
/// Entries of a thread asked for at a time.
pub const THREAD_PAGE: i64 = 60;
/// The header's counts are asked for at most this often while changes stream in.
pub const COUNTS_EVERY: chrono::Duration = chrono::Duration::seconds(2);
/// Campaigns listed (newest first).
pub const CAMPAIGNS: i64 = 200;
/// Recipients a dashboard shows: one page, never the whole campaign.
pub const RECIPIENT_PAGE: i64 = 100;
/// The campaign list and a dashboard reload at most this often while changes stream in.
pub const CAMPAIGNS_EVERY: chrono::Duration = chrono::Duration::seconds(1);
/// The team view reloads at most this often while changes stream in.
pub const TEAM_EVERY: chrono::Duration = chrono::Duration::seconds(2);

/// Settings the TUI reads from the configuration once.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mark_read_after: Duration,
    pub bell: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            mark_read_after: Duration::from_millis(1500),
            bell: true,
        }
    }
}

/// Who is at the keyboard, and in which workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub user: User,
    pub membership: Membership,
}

impl Session {
    pub fn workspace(&self) -> WorkspaceId {
        self.membership.workspace.workspace_id()
    }

    pub fn role(&self) -> Role {
        self.membership.role
    }

    pub fn may(&self, permission: Permission) -> bool {
        self.role().may(permission)
    }
}

/// The screens of the top bar's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Screen {
    #[default]
    Inbox,
    Campaigns,
    Team,
}

impl Screen {
    pub const ALL: [Screen; 3] = [Screen::Inbox, Screen::Campaigns, Screen::Team];

    pub fn title(self) -> &'static str {
        match self {
            Screen::Inbox => "Inbox",
            Screen::Campaigns => "Campaigns",
            Screen::Team => "Team",
        }
    }
}

/// The reloads of a view that follows changes: at most one in flight, starting at most once
/// per interval; changes that arrive meanwhile ask for one more once the answer is in. A load
/// that has to wait for its interval waits in its task, and counts as in flight.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reload {
    pub in_flight: bool,
    /// A change (or, `Some(true)`, the user) asked while a load was in flight.
    pub again: Option<bool>,
    /// When the last load started (or will, once its wait is over).
    pub started: Option<DateTime<Utc>>,
}

impl Reload {
    /// Something to show changed; `urgent` when the user asked (no waiting for the interval).
    /// Returns how long the load to start should wait, or None when one is on its way.
    pub fn request(
        &mut self,
        now: DateTime<Utc>,
        every: chrono::Duration,
        urgent: bool,
    ) -> Option<Duration> {
        if self.in_flight {
            self.again = Some(self.again.unwrap_or(false) || urgent);
            return None;
        }
        let wait = match self.started {
            Some(started) if !urgent => {
                (started + every - now).clamp(chrono::Duration::zero(), every)
            }
            _ => chrono::Duration::zero(),
        };
        self.in_flight = true;
        self.again = None;
        self.started = Some(now + wait);
        Some(wait.to_std().unwrap_or_default())
    }

    /// The answer came: the wait of the next load, when changes asked for one meanwhile.
    pub fn answered(&mut self, now: DateTime<Utc>, every: chrono::Duration) -> Option<Duration> {
        self.in_flight = false;
        let urgent = self.again.take()?;
        self.request(now, every, urgent)
    }

    /// The load failed, or its view is no longer shown: nothing more until the next change.
    pub fn stop(&mut self) {
        self.in_flight = false;
        self.again = None;
    }
}

/// The workspace's campaigns, and the dashboard of the one opened.
#[derive(Debug, Clone, Default)]
pub struct Campaigns {
    pub rows: Vec<Campaign>,
    pub selected: usize,
    pub offset: usize,
    /// The first answer is in.
    pub loaded: bool,
    pub reload: Reload,
    pub dashboard: Option<CampaignDashboard>,
}

impl Campaigns {
    pub fn selected_row(&self) -> Option<&Campaign> {
        self.rows.get(self.selected)
    }
}

/// One campaign's dashboard.
#[derive(Debug, Clone)]
pub struct CampaignDashboard {
    pub campaign: Uuid,
    /// The recipients asked for; the loaded page may still be of the previous filter.
    pub filter: RecipientFilter,
    pub data: Option<Dashboard>,
    /// The first recipient shown.
    pub offset: usize,
    pub reload: Reload,
}

impl CampaignDashboard {
    pub fn new(campaign: Uuid) -> Self {
        Self {
            campaign,
            filter: RecipientFilter::All,
            data: None,
            offset: 0,
            reload: Reload::default(),
        }
    }

    /// The loaded recipients, if they are of the filter asked for.
    pub fn recipients(&self) -> Option<&[crate::store::campaign_views::RecipientRow]> {
        self.data
            .as_ref()
            .filter(|d| d.filter == self.filter)
            .map(|d| d.recipients.as_slice())
    }
}

/// The team view: open work per agent and response times.
#[derive(Debug, Clone, Default)]
pub struct Team {
    pub snapshot: Option<TeamSnapshot>,
    /// The first agent shown.
    pub offset: usize,
    pub reload: Reload,
}

/// A move to confirm before it is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub campaign: Uuid,
    pub name: String,
    pub movement: Move,
}

/// Which pane has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    List,
    Thread,
    Composer,
}

/// The conversation list.
#[derive(Debug, Clone, Default)]
pub struct Inbox {
    pub query: InboxQuery,
    pub rows: Vec<InboxRow>,
    pub selected: usize,
    /// The first row shown; kept so the list moves only when the selection leaves the screen.
    pub offset: usize,
    /// Every row of the query is loaded.
    pub complete: bool,
    /// A page or a reload is on its way.
    pub loading: bool,
    /// Changes arrived while loading: reload again when the answer is in.
    pub stale: bool,
    /// Bumped for every new query, so a late answer to an old one is dropped.
    pub generation: u64,
    pub counts: InboxCounts,
    /// When the counts were last asked for; they count the whole workspace, so changes ask
    /// again at most every `COUNTS_EVERY`, and a change in between leaves them `counts_stale`.
    pub counts_asked: Option<DateTime<Utc>>,
    pub counts_stale: bool,
}

impl Inbox {
    pub fn selected_row(&self) -> Option<&InboxRow> {
        self.rows.get(self.selected)
    }
}

/// The open conversation.
#[derive(Debug, Clone)]
pub struct Thread {
    pub conversation: Uuid,
    pub header: Option<Header>,
    /// Oldest first.
    pub entries: Vec<Entry>,
    /// The selected entry (quote, open media); None follows the newest.
    pub selected: Option<usize>,
    /// No older entries exist.
    pub complete: bool,
    pub loading_older: bool,
    pub loading: bool,
    pub stale: bool,
    /// Marked read (or unread on purpose) since it was opened: the dwell does nothing more.
    pub read_settled: bool,
}

impl Thread {
    pub fn new(conversation: Uuid) -> Self {
        Self {
            conversation,
            header: None,
            entries: Vec::new(),
            selected: None,
            complete: false,
            loading_older: false,
            loading: true,
            stale: false,
            read_settled: false,
        }
    }

    /// The entry the selection points at, or the newest.
    pub fn focused_index(&self) -> Option<usize> {
        self.selected
            .or_else(|| self.entries.len().checked_sub(1))
            .filter(|i| *i < self.entries.len())
    }
}

/// Free text for the customer, or a private note for the team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComposeMode {
    Reply,
    Note,
}

/// The message a reply quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub wa_message_id: String,
    pub preview: String,
}

/// The reply being written.
#[derive(Debug, Clone)]
pub struct Composer {
    pub textarea: TextArea<'static>,
    pub mode: ComposeMode,
    pub quote: Option<Quote>,
    pub attachment: Option<PathBuf>,
    /// A send is on its way; the text stays until it is queued.
    pub sending: bool,
    /// Drafts of the other conversations, kept when the agent moves away.
    pub drafts: HashMap<Uuid, String>,
}

impl Default for Composer {
    fn default() -> Self {
        Self {
            textarea: TextArea::default(),
            mode: ComposeMode::Reply,
            quote: None,
            attachment: None,
            sending: false,
            drafts: HashMap::new(),
        }
    }
}

impl Composer {
    pub fn text(&self) -> String {
        self.textarea.lines().join("\n")
    }

    pub fn set_text(&mut self, text: &str) {
        let lines: Vec<String> = if text.is_empty() {
            vec![String::new()]
        } else {
            text.split('\n').map(str::to_string).collect()
        };
        self.textarea = TextArea::new(lines);
        self.textarea
            .move_cursor(ratatui_textarea::CursorMove::Bottom);
        self.textarea.move_cursor(ratatui_textarea::CursorMove::End);
    }
}

/// The template picker and its form: choose an approved template, fill its variables, send.
#[derive(Debug, Clone, Default)]
pub struct TemplateForm {
    pub templates: Vec<Template>,
    pub loading: bool,
    pub selected: usize,
    /// One value per variable of the selected template.
    pub values: Vec<String>,
    /// The variable being typed: None while choosing the template.
    pub field: Option<usize>,
    /// `:template NAME`: select this one once the list is in.
    pub wanted: Option<String>,
}

impl TemplateForm {
    pub fn template(&self) -> Option<&Template> {
        self.templates.get(self.selected)
    }
}

/// A one-line text input (search, tags, command line, a file path).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    pub text: String,
}

/// What a one-line prompt is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    Search,
    Tags,
    Attach,
    CommandLine,
}

impl Prompt {
    pub fn label(self) -> &'static str {
        match self {
            Prompt::Search => "search",
            Prompt::Tags => "tags",
            Prompt::Attach => "attach file",
            Prompt::CommandLine => ":",
        }
    }
}

/// What covers part of the screen and takes the keys first.
#[derive(Debug, Clone)]
pub enum Overlay {
    Help(View),
    Prompt(Prompt, LineInput),
    Templates(TemplateForm),
    Members {
        members: Vec<Member>,
        selected: usize,
        /// `:assign EMAIL`: assign to this member once the list is in.
        wanted: Option<String>,
    },
    Canned {
        replies: Vec<Canned>,
        filter: LineInput,
        selected: usize,
    },
    Contact,
    /// A yes-or-no question before a move that cannot be undone.
    Confirm(Confirm),
}

/// The workspaces the user may open.
#[derive(Debug, Clone, Default)]
pub struct Picker {
    pub memberships: Vec<Membership>,
    pub selected: usize,
    /// The workspace left for the picker: leaving the picker goes back to it.
    pub previous: Option<Membership>,
}

/// A line for the status bar: the outcome of the last action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

/// The health line: database, listener, outbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    pub database: bool,
    /// The embedded listener's address, or why there is none.
    pub listener: ListenerState,
    pub outbox_depth: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ListenerState {
    /// `--no-listener` or `[tui] listener = false`: another process listens.
    #[default]
    Off,
    Listening(std::net::SocketAddr),
    Failed(String),
}

/// The whole TUI.
#[derive(Debug, Clone)]
pub struct State {
    pub now: DateTime<Utc>,
    pub size: (u16, u16),
    pub user: User,
    pub session: Option<Session>,
    pub picker: Picker,
    /// The tab shown.
    pub screen: Screen,
    pub focus: Focus,
    pub overlay: Option<Overlay>,
    pub inbox: Inbox,
    pub thread: Option<Thread>,
    pub composer: Composer,
    pub campaigns: Campaigns,
    pub team: Team,
    pub health: Health,
    pub notice: Option<Notice>,
    pub keymap: Arc<Keymap>,
    pub theme: Arc<Theme>,
    pub settings: Settings,
    /// Something visible changed since the last frame.
    pub dirty: bool,
    pub quit: bool,
}

impl State {
    pub fn new(
        user: User,
        memberships: Vec<Membership>,
        keymap: Arc<Keymap>,
        theme: Arc<Theme>,
        settings: Settings,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            now,
            size: (80, 24),
            user,
            session: None,
            picker: Picker {
                memberships,
                selected: 0,
                previous: None,
            },
            screen: Screen::Inbox,
            focus: Focus::List,
            overlay: None,
            inbox: Inbox::default(),
            thread: None,
            composer: Composer::default(),
            campaigns: Campaigns::default(),
            team: Team::default(),
            health: Health {
                database: true,
                ..Health::default()
            },
            notice: None,
            keymap,
            theme,
            settings,
            dirty: true,
            quit: false,
        }
    }

    /// The keymap section that reads the next key.
    pub fn view(&self) -> View {
        match (&self.overlay, &self.session, self.screen, self.focus) {
            (Some(Overlay::Templates(_)), _, _, _) => View::Templates,
            (Some(Overlay::Contact), _, _, _) => View::Contact,
            (Some(Overlay::Confirm(_)), _, _, _) => View::Confirm,
            (_, None, _, _) => View::Picker,
            (_, Some(_), Screen::Campaigns, _) if self.campaigns.dashboard.is_some() => {
                View::Campaign
            }
            (_, Some(_), Screen::Campaigns, _) => View::Campaigns,
            (_, Some(_), Screen::Team, _) => View::Team,
            (_, Some(_), Screen::Inbox, Focus::List) => View::Inbox,
            (_, Some(_), Screen::Inbox, Focus::Thread) => View::Thread,
            (_, Some(_), Screen::Inbox, Focus::Composer) => View::Composer,
        }
    }

    /// The campaign the campaign commands act on: the dashboard's, or the selected row's.
    pub fn target_campaign(&self) -> Option<&Campaign> {
        let campaigns = &self.campaigns;
        match &campaigns.dashboard {
            Some(dashboard) => dashboard
                .data
                .as_ref()
                .map(|d| &d.campaign)
                .filter(|c| c.id == dashboard.campaign)
                .or_else(|| campaigns.rows.iter().find(|c| c.id == dashboard.campaign)),
            None => campaigns.selected_row(),
        }
    }

    /// Whether the user's role allows a command; what it does not allow is not offered.
    pub fn offers(&self, command: Command) -> bool {
        let Some(session) = &self.session else {
            return true;
        };
        match command {
            Command::Assign => session.may(Permission::AssignOthers),
            Command::ToggleOptIn => session.may(Permission::EditConsent),
            command if command.campaign_move().is_some() => {
                session.may(Permission::ControlCampaigns)
            }
            _ => true,
        }
    }

    pub fn notify(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            error: false,
        });
        self.dirty = true;
    }

    pub fn fail(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            error: true,
        });
        self.dirty = true;
    }
}
