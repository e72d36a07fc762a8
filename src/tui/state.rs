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
use crate::domain::{Permission, Role, WorkspaceId};
use crate::store::agent::Canned;
use crate::store::inbox::{InboxCounts, InboxQuery, InboxRow};
use crate::store::members::Member;
use crate::store::templates::Template;
use crate::store::thread::{Entry, Header};
use crate::store::users::{Membership, User};

/// Rows asked for at a time; a page is a few screens, so scrolling rarely waits.
pub const PAGE: i64 = 100;
/// Entries of a thread asked for at a time.
pub const THREAD_PAGE: i64 = 60;
/// The header's counts are asked for at most this often while changes stream in.
pub const COUNTS_EVERY: chrono::Duration = chrono::Duration::seconds(2);

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
    pub focus: Focus,
    pub overlay: Option<Overlay>,
    pub inbox: Inbox,
    pub thread: Option<Thread>,
    pub composer: Composer,
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
            focus: Focus::List,
            overlay: None,
            inbox: Inbox::default(),
            thread: None,
            composer: Composer::default(),
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
        match (&self.overlay, &self.session, self.focus) {
            (Some(Overlay::Templates(_)), _, _) => View::Templates,
            (Some(Overlay::Contact), _, _) => View::Contact,
            (_, None, _) => View::Picker,
            (_, Some(_), Focus::List) => View::Inbox,
            (_, Some(_), Focus::Thread) => View::Thread,
            (_, Some(_), Focus::Composer) => View::Composer,
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
