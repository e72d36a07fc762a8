//! The TUI's one action vocabulary and the keymap that binds keys to it, per view.
//!
//! Owns [`Command`] (every named action a key, the `:` command line or help can name), the key
//! syntax of `[tui.keys]` ([`KeyChord`]), and the table of default bindings, written as the same
//! strings a configuration file uses so that defaults and configuration share one parser. Help
//! ([`Keymap::bindings`]) and the status-bar hints ([`Keymap::hints`]) are derived from the
//! keymap, never written by hand. Pure: no IO, no terminal, no state beyond the bindings.
//!
//! Key events are normalised before they are compared, because terminals disagree: `G` arrives
//! as `Char('G')` with or without SHIFT (or as `Char('g')` with SHIFT under the kitty keyboard
//! protocol), `?` as `Char('?')` often with SHIFT, Shift-Tab as `BackTab` (with or without
//! SHIFT) or as `Tab` with SHIFT. Letter case is significant (`j` is not `J`) except after
//! `ctrl-`, where `ctrl-E` and `ctrl-e` are the same key (most terminals cannot tell Ctrl-Shift-E
//! from Ctrl-E; write `ctrl-shift-e` to ask for the shifted one).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::domain::Move;

/// A screen of the TUI with its own section of bindings (`[tui.keys.<view>]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum View {
    /// The workspace picker.
    Picker,
    /// The conversation list.
    Inbox,
    /// One conversation's messages.
    Thread,
    /// The reply box.
    Composer,
    /// The template picker and its parameter form.
    Templates,
    /// The contact panel.
    Contact,
    /// The list of the workspace's campaigns.
    Campaigns,
    /// One campaign's dashboard.
    Campaign,
    /// A question before something that cannot be undone (cancelling a campaign).
    Confirm,
    /// The team's open work and response times.
    Team,
}

impl View {
    const ALL: [View; 10] = [
        View::Picker,
        View::Inbox,
        View::Thread,
        View::Composer,
        View::Templates,
        View::Contact,
        View::Campaigns,
        View::Campaign,
        View::Confirm,
        View::Team,
    ];

    /// Every view, in the order the configuration documents them.
    pub fn all() -> &'static [View] {
        &Self::ALL
    }

    /// The section name in `[tui.keys]`.
    pub fn name(self) -> &'static str {
        match self {
            View::Picker => "picker",
            View::Inbox => "inbox",
            View::Thread => "thread",
            View::Composer => "composer",
            View::Templates => "templates",
            View::Contact => "contact",
            View::Campaigns => "campaigns",
            View::Campaign => "campaign",
            View::Confirm => "confirm",
            View::Team => "team",
        }
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for View {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        View::all()
            .iter()
            .copied()
            .find(|view| view.name() == s)
            .ok_or_else(|| format!("unknown view `{s}`; views are {}", view_names()))
    }
}

fn view_names() -> String {
    View::all()
        .iter()
        .map(|view| view.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every action a key, the `:` command line or help can name. Which of them does something
/// depends on the view; the keymap only says which key asks for which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Quit,
    Help,
    CommandLine,
    MoveDown,
    MoveUp,
    PageDown,
    PageUp,
    Top,
    Bottom,
    Open,
    Back,
    Search,
    Filter,
    NextUnread,
    Reply,
    QuoteReply,
    Note,
    Template,
    OpenMedia,
    AssignMe,
    Assign,
    Close,
    Reopen,
    CloseNext,
    MarkUnread,
    Tag,
    Contact,
    ToggleOptIn,
    Send,
    Newline,
    Editor,
    Attach,
    Canned,
    ToggleNote,
    NextField,
    PrevField,
    Workspace,
    /// Show the inbox (the first tab).
    Inbox,
    /// Show the campaigns (the second tab).
    Campaigns,
    /// Show the team (the third tab).
    Team,
    Start,
    Pause,
    Resume,
    CancelCampaign,
    RetryFailed,
    /// Say yes to the question asked.
    Confirm,
}

impl Command {
    const ALL: [Command; 46] = [
        Command::Quit,
        Command::Help,
        Command::CommandLine,
        Command::MoveDown,
        Command::MoveUp,
        Command::PageDown,
        Command::PageUp,
        Command::Top,
        Command::Bottom,
        Command::Open,
        Command::Back,
        Command::Search,
        Command::Filter,
        Command::NextUnread,
        Command::Reply,
        Command::QuoteReply,
        Command::Note,
        Command::Template,
        Command::OpenMedia,
        Command::AssignMe,
        Command::Assign,
        Command::Close,
        Command::Reopen,
        Command::CloseNext,
        Command::MarkUnread,
        Command::Tag,
        Command::Contact,
        Command::ToggleOptIn,
        Command::Send,
        Command::Newline,
        Command::Editor,
        Command::Attach,
        Command::Canned,
        Command::ToggleNote,
        Command::NextField,
        Command::PrevField,
        Command::Workspace,
        Command::Inbox,
        Command::Campaigns,
        Command::Team,
        Command::Start,
        Command::Pause,
        Command::Resume,
        Command::CancelCampaign,
        Command::RetryFailed,
        Command::Confirm,
    ];

    /// Every command, in declaration order.
    pub fn all() -> &'static [Command] {
        &Self::ALL
    }

    /// The action name used in `[tui.keys]` and on the `:` command line (snake_case).
    pub fn name(self) -> &'static str {
        match self {
            Command::Quit => "quit",
            Command::Help => "help",
            Command::CommandLine => "command_line",
            Command::MoveDown => "move_down",
            Command::MoveUp => "move_up",
            Command::PageDown => "page_down",
            Command::PageUp => "page_up",
            Command::Top => "top",
            Command::Bottom => "bottom",
            Command::Open => "open",
            Command::Back => "back",
            Command::Search => "search",
            Command::Filter => "filter",
            Command::NextUnread => "next_unread",
            Command::Reply => "reply",
            Command::QuoteReply => "quote_reply",
            Command::Note => "note",
            Command::Template => "template",
            Command::OpenMedia => "open_media",
            Command::AssignMe => "assign_me",
            Command::Assign => "assign",
            Command::Close => "close",
            Command::Reopen => "reopen",
            Command::CloseNext => "close_next",
            Command::MarkUnread => "mark_unread",
            Command::Tag => "tag",
            Command::Contact => "contact",
            Command::ToggleOptIn => "toggle_opt_in",
            Command::Send => "send",
            Command::Newline => "newline",
            Command::Editor => "editor",
            Command::Attach => "attach",
            Command::Canned => "canned",
            Command::ToggleNote => "toggle_note",
            Command::NextField => "next_field",
            Command::PrevField => "prev_field",
            Command::Workspace => "workspace",
            Command::Inbox => "inbox",
            Command::Campaigns => "campaigns",
            Command::Team => "team",
            Command::Start => "start",
            Command::Pause => "pause",
            Command::Resume => "resume",
            Command::CancelCampaign => "cancel",
            Command::RetryFailed => "retry_failed",
            Command::Confirm => "confirm",
        }
    }

    /// A few words for the `?` help.
    pub fn describe(self) -> &'static str {
        match self {
            Command::Quit => "quit",
            Command::Help => "show the keys of this view",
            Command::CommandLine => "open the command line",
            Command::MoveDown => "move down",
            Command::MoveUp => "move up",
            Command::PageDown => "page down",
            Command::PageUp => "page up",
            Command::Top => "go to the top",
            Command::Bottom => "go to the bottom",
            Command::Open => "open",
            Command::Back => "back",
            Command::Search => "search",
            Command::Filter => "filter the list",
            Command::NextUnread => "go to the next unread conversation",
            Command::Reply => "reply",
            Command::QuoteReply => "reply quoting this message",
            Command::Note => "write an internal note",
            Command::Template => "send a template",
            Command::OpenMedia => "open the media of this message",
            Command::AssignMe => "assign to me",
            Command::Assign => "assign to someone",
            Command::Close => "close the conversation",
            Command::Reopen => "reopen the conversation",
            Command::CloseNext => "close and go to the next",
            Command::MarkUnread => "mark unread",
            Command::Tag => "tag",
            Command::Contact => "show the contact",
            Command::ToggleOptIn => "switch the marketing opt-in",
            Command::Send => "send",
            Command::Newline => "new line",
            Command::Editor => "edit in $EDITOR",
            Command::Attach => "attach a file",
            Command::Canned => "insert a canned reply",
            Command::ToggleNote => "switch between reply and note",
            Command::NextField => "next field",
            Command::PrevField => "previous field",
            Command::Workspace => "switch workspace",
            Command::Inbox => "show the inbox",
            Command::Campaigns => "show the campaigns",
            Command::Team => "show the team",
            Command::Start => "start the campaign",
            Command::Pause => "pause the campaign",
            Command::Resume => "resume the campaign",
            Command::CancelCampaign => "cancel the campaign (asks first)",
            Command::RetryFailed => "send the failed recipients again",
            Command::Confirm => "yes, do it",
        }
    }

    /// The one- or two-word label of the status-bar hints.
    pub fn label(self) -> &'static str {
        match self {
            Command::Quit => "quit",
            Command::Help => "help",
            Command::CommandLine => "command",
            Command::MoveDown => "down",
            Command::MoveUp => "up",
            Command::PageDown => "page down",
            Command::PageUp => "page up",
            Command::Top => "top",
            Command::Bottom => "bottom",
            Command::Open => "open",
            Command::Back => "back",
            Command::Search => "search",
            Command::Filter => "filter",
            Command::NextUnread => "next unread",
            Command::Reply => "reply",
            Command::QuoteReply => "quote",
            Command::Note => "note",
            Command::Template => "template",
            Command::OpenMedia => "media",
            Command::AssignMe => "take",
            Command::Assign => "assign",
            Command::Close => "close",
            Command::Reopen => "reopen",
            Command::CloseNext => "close+next",
            Command::MarkUnread => "unread",
            Command::Tag => "tag",
            Command::Contact => "contact",
            Command::ToggleOptIn => "opt-in",
            Command::Send => "send",
            Command::Newline => "new line",
            Command::Editor => "editor",
            Command::Attach => "attach",
            Command::Canned => "canned",
            Command::ToggleNote => "note/reply",
            Command::NextField => "next field",
            Command::PrevField => "prev field",
            Command::Workspace => "workspace",
            Command::Inbox => "inbox",
            Command::Campaigns => "campaigns",
            Command::Team => "team",
            Command::Start => "start",
            Command::Pause => "pause",
            Command::Resume => "resume",
            Command::CancelCampaign => "cancel",
            Command::RetryFailed => "retry failed",
            Command::Confirm => "yes",
        }
    }

    /// The campaign move a control command asks for.
    pub fn campaign_move(self) -> Option<Move> {
        Some(match self {
            Command::Start => Move::Start,
            Command::Pause => Move::Pause,
            Command::Resume => Move::Resume,
            Command::CancelCampaign => Move::Cancel,
            Command::RetryFailed => Move::RetryFailed,
            _ => return None,
        })
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An action name that is not a [`Command`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown action `{0}`")]
pub struct UnknownCommand(pub String);

impl FromStr for Command {
    type Err = UnknownCommand;

    /// Accepts `move_down` and `move-down`, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        Command::all()
            .iter()
            .copied()
            .find(|command| command.name() == wanted)
            .ok_or_else(|| UnknownCommand(s.to_string()))
    }
}

fn command_names() -> String {
    Command::all()
        .iter()
        .map(|command| command.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One key with its modifiers, normalised so that equal keys compare equal (see the module
/// doc). Build one with [`KeyChord::new`] or by parsing; [`KeyChord::matches`] normalises
/// whatever it is given, so a hand-built chord still matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl KeyChord {
    /// The normalised chord of a key code and modifiers, as an event reports them.
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> KeyChord {
        let (code, modifiers) = normalise(code, modifiers);
        KeyChord { code, modifiers }
    }

    /// The chord a key event asks for: `None` for a release (only presses and repeats count).
    pub fn from_event(event: &KeyEvent) -> Option<KeyChord> {
        matches!(event.kind, KeyEventKind::Press | KeyEventKind::Repeat)
            .then(|| KeyChord::new(event.code, event.modifiers))
    }

    /// Whether `event` is a press (or repeat) of this key.
    pub fn matches(&self, event: &KeyEvent) -> bool {
        KeyChord::from_event(event)
            .is_some_and(|chord| chord == KeyChord::new(self.code, self.modifiers))
    }
}

/// Folds the ways terminals report one key into one form: SHIFT goes into a letter's case
/// (kept as a modifier only after CONTROL, where the letter is lower case), SHIFT on any other
/// character is dropped (the character is already the shifted one), Shift-Tab is `BackTab`
/// without SHIFT, and the space bar is `Char(' ')`.
fn normalise(code: KeyCode, mut modifiers: KeyModifiers) -> (KeyCode, KeyModifiers) {
    let code = match code {
        KeyCode::Char(c) if c.is_alphabetic() && (c.is_uppercase() || c.is_lowercase()) => {
            let shifted = c.is_uppercase() || modifiers.contains(KeyModifiers::SHIFT);
            if modifiers.contains(KeyModifiers::CONTROL) {
                modifiers.set(KeyModifiers::SHIFT, shifted);
                KeyCode::Char(to_lower(c))
            } else {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::Char(if shifted { to_upper(c) } else { to_lower(c) })
            }
        }
        KeyCode::Char(c) => {
            modifiers.remove(KeyModifiers::SHIFT);
            KeyCode::Char(c)
        }
        KeyCode::Tab if modifiers.contains(KeyModifiers::SHIFT) => {
            modifiers.remove(KeyModifiers::SHIFT);
            KeyCode::BackTab
        }
        KeyCode::BackTab => {
            modifiers.remove(KeyModifiers::SHIFT);
            KeyCode::BackTab
        }
        other => other,
    };
    (code, modifiers)
}

/// The one-character case change of a letter (letters whose case change is several characters,
/// like `ß`, stay as they are).
fn to_upper(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

fn to_lower(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// A key written in a way [`KeyChord`] does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown key `{0}` (a key is one character such as `j`, `G` or `?`, or one of enter, esc, \
     tab, shift-tab, backspace, delete, insert, up, down, left, right, home, end, pageup, \
     pagedown, space, f1 to f12; after any of ctrl-, alt-, shift-, e.g. `ctrl-d`, `alt-enter`)"
)]
pub struct UnknownKey(pub String);

impl FromStr for KeyChord {
    type Err = UnknownKey;

    /// Parses `j`, `G`, `?`, `enter`, `ctrl-d`, `alt-enter`, `shift-tab`, `f5`, … (names and
    /// modifiers in any case; a single character keeps its case). Also reads back what
    /// [`Display`](fmt::Display) writes (`PgDn`, `↓`, `Ctrl-E`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownKey(s.to_string());
        let mut rest = s.trim();
        let mut modifiers = KeyModifiers::NONE;
        // A modifier prefix counts only when a key follows it, so `-` alone and `ctrl--` work.
        'prefixes: loop {
            for (prefix, modifier) in [
                ("ctrl-", KeyModifiers::CONTROL),
                ("control-", KeyModifiers::CONTROL),
                ("alt-", KeyModifiers::ALT),
                ("shift-", KeyModifiers::SHIFT),
            ] {
                if rest.len() > prefix.len()
                    && rest.is_char_boundary(prefix.len())
                    && rest[..prefix.len()].eq_ignore_ascii_case(prefix)
                {
                    modifiers |= modifier;
                    rest = &rest[prefix.len()..];
                    continue 'prefixes;
                }
            }
            break;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (None, _) => return Err(unknown()),
            (Some(c), None) => match c {
                '↑' => KeyCode::Up,
                '↓' => KeyCode::Down,
                '←' => KeyCode::Left,
                '→' => KeyCode::Right,
                c if c.is_control() => return Err(unknown()),
                c => {
                    // After ctrl- a letter's case is not a shift: `Ctrl-E` is ctrl-e.
                    if modifiers.contains(KeyModifiers::CONTROL) {
                        KeyCode::Char(to_lower(c))
                    } else {
                        KeyCode::Char(c)
                    }
                }
            },
            _ => named_key(&rest.to_ascii_lowercase()).ok_or_else(unknown)?,
        };
        Ok(KeyChord::new(code, modifiers))
    }
}

fn named_key(name: &str) -> Option<KeyCode> {
    Some(match name {
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "backspace" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        "insert" | "ins" => KeyCode::Insert,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pageup" | "pgup" => KeyCode::PageUp,
        "pagedown" | "pgdn" => KeyCode::PageDown,
        "space" => KeyCode::Char(' '),
        _ => {
            let n: u8 = name.strip_prefix('f')?.parse().ok()?;
            if !(1..=12).contains(&n) || name.starts_with("f0") {
                return None;
            }
            KeyCode::F(n)
        }
    })
}

impl fmt::Display for KeyChord {
    /// The way help shows a key: `j`, `G`, `?`, `Enter`, `Alt-Enter`, `Ctrl-E`, `↓`, `PgDn`,
    /// `Space`, `Shift-Tab`. [`FromStr`] reads it back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let KeyChord { code, modifiers } = KeyChord::new(self.code, self.modifiers);
        if modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if modifiers.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if modifiers.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) if modifiers.contains(KeyModifiers::CONTROL) => {
                write!(f, "{}", to_upper(c))
            }
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Insert => f.write_str("Ins"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// Parses a configuration value: one key, or several separated by whitespace (`"j down"`).
/// Repeats are dropped; an empty value is no key at all.
fn parse_keys(value: &str) -> Result<Vec<KeyChord>, UnknownKey> {
    let mut chords: Vec<KeyChord> = Vec::new();
    for word in value.split_whitespace() {
        let chord = word.parse()?;
        if !chords.contains(&chord) {
            chords.push(chord);
        }
    }
    Ok(chords)
}

/// The default bindings, per view, in the order help lists them. Written as configuration
/// strings and parsed by the same code as `[tui.keys]`.
const DEFAULTS: &[(View, &[(Command, &str)])] = &[
    (
        View::Picker,
        &[
            (Command::MoveDown, "j down"),
            (Command::MoveUp, "k up"),
            (Command::Open, "enter"),
            (Command::Quit, "q esc"),
        ],
    ),
    (
        View::Inbox,
        &[
            (Command::MoveDown, "j down"),
            (Command::MoveUp, "k up"),
            (Command::PageDown, "ctrl-d pagedown"),
            (Command::PageUp, "ctrl-u pageup"),
            (Command::Top, "g home"),
            (Command::Bottom, "G end"),
            (Command::Open, "enter l right"),
            (Command::Search, "/"),
            (Command::Filter, "f"),
            (Command::NextUnread, "u"),
            (Command::AssignMe, "a"),
            (Command::Assign, "A"),
            (Command::Close, "c"),
            (Command::Reopen, "o"),
            (Command::CloseNext, "C"),
            (Command::MarkUnread, "x"),
            (Command::Tag, "T"),
            (Command::Contact, "i"),
            (Command::Reply, "r"),
            (Command::Template, "t"),
            (Command::CommandLine, ":"),
            (Command::Help, "?"),
            (Command::Quit, "q"),
            (Command::Workspace, "w"),
            (Command::Inbox, "1"),
            (Command::Campaigns, "2"),
            (Command::Team, "3"),
        ],
    ),
    (
        View::Thread,
        &[
            (Command::MoveDown, "j down"),
            (Command::MoveUp, "k up"),
            (Command::PageDown, "ctrl-d pagedown"),
            (Command::PageUp, "ctrl-u pageup"),
            (Command::Top, "g"),
            (Command::Bottom, "G"),
            (Command::Back, "esc h left"),
            (Command::Reply, "r enter"),
            (Command::QuoteReply, "R"),
            (Command::Note, "n"),
            (Command::Template, "t"),
            (Command::OpenMedia, "O"),
            (Command::AssignMe, "a"),
            (Command::Assign, "A"),
            (Command::Close, "c"),
            (Command::Reopen, "o"),
            (Command::CloseNext, "C"),
            (Command::MarkUnread, "x"),
            (Command::Tag, "T"),
            (Command::Contact, "i"),
            (Command::NextUnread, "u"),
            (Command::CommandLine, ":"),
            (Command::Help, "?"),
            (Command::Quit, "q"),
            (Command::Inbox, "1"),
            (Command::Campaigns, "2"),
            (Command::Team, "3"),
        ],
    ),
    (
        View::Composer,
        &[
            (Command::Send, "enter"),
            (Command::Newline, "alt-enter"),
            (Command::Back, "esc"),
            (Command::Editor, "ctrl-e"),
            (Command::Attach, "ctrl-a"),
            (Command::Canned, "ctrl-r"),
            (Command::ToggleNote, "ctrl-n"),
            (Command::Template, "ctrl-t"),
        ],
    ),
    (
        View::Templates,
        &[
            (Command::MoveDown, "down ctrl-n"),
            (Command::MoveUp, "up ctrl-p"),
            (Command::NextField, "tab"),
            (Command::PrevField, "shift-tab"),
            (Command::Send, "enter"),
            (Command::Back, "esc"),
        ],
    ),
    (
        View::Contact,
        &[
            (Command::ToggleOptIn, "space O"),
            (Command::Tag, "T"),
            (Command::Back, "esc i q"),
            (Command::MoveDown, "j down"),
            (Command::MoveUp, "k up"),
        ],
    ),
    (
        View::Campaigns,
        &[
            (Command::MoveDown, "j down"),
            (Command::MoveUp, "k up"),
            (Command::PageDown, "ctrl-d pagedown"),
            (Command::PageUp, "ctrl-u pageup"),
            (Command::Top, "g home"),
            (Command::Bottom, "G end"),
            (Command::Open, "enter l right"),
            (Command::Start, "s"),
            (Command::Pause, "p"),
            (Command::Resume, "R"),
            (Command::CancelCampaign, "C"),
            (Command::RetryFailed, "F"),
            (Command::Back, "esc"),
            (Command::Inbox, "1"),
            (Command::Campaigns, "2"),
            (Command::Team, "3"),
            (Command::CommandLine, ":"),
            (Command::Help, "?"),
            (Command::Quit, "q"),
            (Command::Workspace, "w"),
        ],
    ),
    (
        View::Campaign,
        &[
            (Command::Start, "s"),
            (Command::Pause, "p"),
            (Command::Resume, "R"),
            (Command::CancelCampaign, "C"),
            (Command::RetryFailed, "F"),
            (Command::Filter, "f"),
            (Command::MoveDown, "j down"),
            (Command::MoveUp, "k up"),
            (Command::PageDown, "ctrl-d pagedown"),
            (Command::PageUp, "ctrl-u pageup"),
            (Command::Top, "g home"),
            (Command::Bottom, "G end"),
            (Command::Back, "esc h left"),
            (Command::Inbox, "1"),
            (Command::Campaigns, "2"),
            (Command::Team, "3"),
            (Command::CommandLine, ":"),
            (Command::Help, "?"),
            (Command::Quit, "q"),
        ],
    ),
    (
        View::Confirm,
        &[(Command::Confirm, "y enter"), (Command::Back, "n esc q")],
    ),
    (
        View::Team,
        &[
            (Command::MoveDown, "j down"),
            (Command::MoveUp, "k up"),
            (Command::PageDown, "ctrl-d pagedown"),
            (Command::PageUp, "ctrl-u pageup"),
            (Command::Top, "g home"),
            (Command::Bottom, "G end"),
            (Command::Back, "esc"),
            (Command::Inbox, "1"),
            (Command::Campaigns, "2"),
            (Command::Team, "3"),
            (Command::CommandLine, ":"),
            (Command::Help, "?"),
            (Command::Quit, "q"),
            (Command::Workspace, "w"),
        ],
    ),
];

/// Pairs of commands the hints show as one (`j/k move`).
const HINT_PAIRS: &[(Command, Command, &str)] = &[
    (Command::MoveDown, Command::MoveUp, "move"),
    (Command::PageDown, Command::PageUp, "page"),
    (Command::Top, Command::Bottom, "top/bottom"),
    (Command::NextField, Command::PrevField, "field"),
];

/// Which keys ask for which command, per view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    /// Per view, the commands in display order with their keys; a command may have no key
    /// left (its keys were taken by the user's bindings, or it was bound to `""`).
    views: BTreeMap<View, Vec<(Command, Vec<KeyChord>)>>,
}

/// A `[tui.keys]` entry that cannot be used; each names its configuration key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    #[error("`{}`: unknown view; views are {}", self.key(), view_names())]
    UnknownView { view: String },
    #[error("`{}`: unknown action; actions are {}", self.key(), command_names())]
    UnknownAction { view: String, action: String },
    #[error("`{}`: {error}", self.key())]
    BadKey {
        view: String,
        action: String,
        error: UnknownKey,
    },
    #[error("`{}`: `{key}` is bound to both {first} and {second}", self.key())]
    Conflict {
        view: String,
        key: KeyChord,
        first: Command,
        second: Command,
    },
    #[error("`{}`: {command} is set twice in this view (as `{first}` and `{second}`)", self.key())]
    DuplicateAction {
        view: String,
        command: Command,
        first: String,
        second: String,
    },
}

impl KeymapError {
    /// The configuration key at fault, e.g. `tui.keys.inbox.move_down` (as the user spelt it).
    pub fn key(&self) -> String {
        match self {
            KeymapError::UnknownView { view } | KeymapError::Conflict { view, .. } => {
                format!("tui.keys.{view}")
            }
            KeymapError::UnknownAction { view, action }
            | KeymapError::BadKey { view, action, .. }
            | KeymapError::DuplicateAction {
                view,
                second: action,
                ..
            } => format!("tui.keys.{view}.{action}"),
        }
    }

    /// The message without the key, for a caller that names the key itself.
    pub fn message(&self) -> String {
        let full = self.to_string();
        let prefix = format!("`{}`: ", self.key());
        full.strip_prefix(&prefix)
            .map(str::to_string)
            .unwrap_or(full)
    }
}

impl Keymap {
    /// The built-in bindings (the table in INTERFACE.md).
    pub fn defaults() -> Keymap {
        let mut views = BTreeMap::new();
        for (view, bindings) in DEFAULTS {
            let parsed = bindings
                .iter()
                .map(|(command, keys)| {
                    let chords = parse_keys(keys)
                        .unwrap_or_else(|error| panic!("default key of {view}.{command}: {error}"));
                    (*command, chords)
                })
                .collect();
            views.insert(*view, parsed);
        }
        Keymap { views }
    }

    /// The defaults with `[tui.keys]` applied: view → action name → key(s). A configured action
    /// replaces that action's default keys in that view (`""` unbinds it); a configured key
    /// that was another action's default in the same view leaves that action (the user's
    /// binding wins); one key configured for two actions of one view is an error.
    pub fn from_config(
        keys: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<Keymap, KeymapError> {
        let mut keymap = Keymap::defaults();
        for (view_name, actions) in keys {
            let view: View = view_name.parse().map_err(|_| KeymapError::UnknownView {
                view: view_name.clone(),
            })?;
            // Parse every entry of the view first, so that conflicts are found whatever order.
            let mut configured: Vec<(Command, &str, Vec<KeyChord>)> = Vec::new();
            for (action, value) in actions {
                let command: Command = action.parse().map_err(|_| KeymapError::UnknownAction {
                    view: view_name.clone(),
                    action: action.clone(),
                })?;
                if let Some((_, first, _)) = configured.iter().find(|(c, _, _)| *c == command) {
                    return Err(KeymapError::DuplicateAction {
                        view: view_name.clone(),
                        command,
                        first: first.to_string(),
                        second: action.clone(),
                    });
                }
                let chords = parse_keys(value).map_err(|error| KeymapError::BadKey {
                    view: view_name.clone(),
                    action: action.clone(),
                    error,
                })?;
                for (other, _, other_chords) in &configured {
                    if let Some(key) = chords.iter().find(|chord| other_chords.contains(chord)) {
                        return Err(KeymapError::Conflict {
                            view: view_name.clone(),
                            key: *key,
                            first: *other,
                            second: command,
                        });
                    }
                }
                configured.push((command, action, chords));
            }
            let bindings = keymap.views.entry(view).or_default();
            for (command, chords) in bindings.iter_mut() {
                chords.retain(|chord| {
                    configured
                        .iter()
                        .all(|(other, _, taken)| other == command || !taken.contains(chord))
                });
            }
            // Configured actions keep their place in the default order; new ones go last, in
            // the order of `Command::all()`.
            for command in Command::all() {
                let Some((_, _, chords)) = configured.iter().find(|(c, _, _)| c == command) else {
                    continue;
                };
                match bindings.iter_mut().find(|(c, _)| c == command) {
                    Some((_, keys)) => *keys = chords.clone(),
                    None => bindings.push((*command, chords.clone())),
                }
            }
        }
        Ok(keymap)
    }

    /// The command `event` asks for in `view`, if any (releases never ask for one).
    pub fn command(&self, view: View, event: &KeyEvent) -> Option<Command> {
        let chord = KeyChord::from_event(event)?;
        self.views
            .get(&view)?
            .iter()
            .find(|(_, chords)| chords.contains(&chord))
            .map(|(command, _)| *command)
    }

    /// The keys of `command` in `view`, the first being the one hints show.
    pub fn keys(&self, view: View, command: Command) -> &[KeyChord] {
        self.views
            .get(&view)
            .and_then(|bindings| bindings.iter().find(|(c, _)| *c == command))
            .map(|(_, chords)| chords.as_slice())
            .unwrap_or(&[])
    }

    /// The bound commands of `view` with their keys, in the order of the defaults table (then
    /// any command the configuration added), for the `?` help. Commands with no key are left out.
    pub fn bindings(&self, view: View) -> Vec<(Command, Vec<KeyChord>)> {
        self.views
            .get(&view)
            .map(|bindings| {
                bindings
                    .iter()
                    .filter(|(_, chords)| !chords.is_empty())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The status-bar hint line for `commands` in `view`: each command's first key and its
    /// [label](Command::label), two spaces apart (`j/k move  Enter open  r reply`). Move,
    /// page, top/bottom and field pairs given next to each other share one hint; commands with
    /// no key are left out.
    pub fn hints(&self, view: View, commands: &[Command]) -> String {
        self.hint_list(view, commands).join("  ")
    }

    /// The hints of [`hints`](Self::hints), one by one, for a line that keeps only whole ones.
    pub fn hint_list(&self, view: View, commands: &[Command]) -> Vec<String> {
        let first_key = |command: Command| self.keys(view, command).first().map(|k| k.to_string());
        let mut hints: Vec<String> = Vec::new();
        let mut i = 0;
        while i < commands.len() {
            let command = commands[i];
            if let Some(&next) = commands.get(i + 1)
                && let Some((_, _, label)) = HINT_PAIRS
                    .iter()
                    .find(|(a, b, _)| (*a, *b) == (command, next))
                && let (Some(a), Some(b)) = (first_key(command), first_key(next))
            {
                hints.push(format!("{a}/{b} {label}"));
                i += 2;
                continue;
            }
            if let Some(key) = first_key(command) {
                hints.push(format!("{key} {}", command.label()));
            }
            i += 1;
        }
        hints
    }
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::defaults()
    }
}

#[cfg(test)]
mod tests;
