//! The TUI's one vocabulary: every input, answer, notification and tick is an `Action` on one
//! channel; `update` turns it into a new state and `Effect`s, the IO the loop runs for it.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::Event;
use uuid::Uuid;

use super::keymap::Command;
use crate::domain::{Move, Role, WorkspaceId};
use crate::store::agent::Canned;
use crate::store::campaign_views::{Dashboard, RecipientFilter};
use crate::store::campaigns::Campaign;
use crate::store::inbox::{InboxCounts, InboxCursor, InboxQuery, InboxRow};
use crate::store::members::Member;
use crate::store::team::TeamSnapshot;
use crate::store::templates::Template;
use crate::store::thread::{Entry, Header, ThreadCursor};
use crate::store::users::Membership;

/// Something happened.
#[derive(Debug, Clone)]
pub enum Action {
    /// A key, a mouse event, a paste or a resize from the terminal.
    Input(Event),
    /// A named command, from a key or the command line, with its arguments.
    Run(Command, Vec<String>),
    /// The clock moved (the window countdowns).
    Tick(DateTime<Utc>),
    /// A page of the inbox for the query of `generation`; `append` adds it after the rows.
    InboxLoaded {
        generation: u64,
        append: bool,
        rows: Vec<InboxRow>,
        limit: i64,
    },
    /// A page of the inbox could not be loaded: the next change or reconnect tries again.
    InboxFailed {
        generation: u64,
        error: String,
    },
    CountsLoaded(InboxCounts),
    /// The newest entries of a thread (a first load or a reload after a change).
    ThreadLoaded {
        conversation: Uuid,
        header: Box<Header>,
        entries: Vec<Entry>,
        limit: i64,
    },
    OlderLoaded {
        conversation: Uuid,
        entries: Vec<Entry>,
        limit: i64,
    },
    /// The thread (or its older entries) could not be loaded.
    ThreadFailed {
        conversation: Uuid,
        error: String,
    },
    TemplatesLoaded(Vec<Template>),
    MembersLoaded(Vec<Member>),
    CannedLoaded(Vec<Canned>),
    /// The user picked or switched workspace.
    WorkspaceChosen(Box<Membership>),
    /// Another process changed this conversation (None: something in the workspace).
    Changed(Option<Uuid>),
    /// A campaign of the shown workspace moved (its status, or a batch of its recipients).
    CampaignChanged(Uuid),
    /// The campaigns of `workspace`.
    CampaignsLoaded {
        workspace: WorkspaceId,
        rows: Vec<Campaign>,
    },
    CampaignsFailed {
        workspace: WorkspaceId,
        error: String,
    },
    DashboardLoaded {
        campaign: Uuid,
        dashboard: Box<Dashboard>,
    },
    DashboardFailed {
        campaign: Uuid,
        error: String,
    },
    /// The team view of `workspace`.
    TeamLoaded {
        workspace: WorkspaceId,
        snapshot: Box<TeamSnapshot>,
    },
    TeamFailed {
        workspace: WorkspaceId,
        error: String,
    },
    /// The outbox moved.
    OutboxChanged,
    OutboxDepth(i64),
    /// The change feed lost or regained the database.
    Database(bool),
    /// The dwell on an opened conversation elapsed.
    Dwell(Uuid),
    /// A write finished: what to tell the agent.
    Done(Result<String, String>),
    /// The message was queued (or refused); `from_composer` says whether it was the
    /// composer's text, to clear once queued (a template leaves the draft alone).
    Sent {
        conversation: Uuid,
        from_composer: bool,
        result: Result<(), String>,
    },
    /// `$EDITOR` returned this text.
    Edited(String),
}

/// IO that `update` asks for; the loop runs each and reports back with an `Action`.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    LoadInbox {
        generation: u64,
        query: InboxQuery,
        after: Option<InboxCursor>,
        limit: i64,
    },
    LoadCounts,
    LoadThread {
        conversation: Uuid,
        limit: i64,
    },
    LoadOlder {
        conversation: Uuid,
        before: ThreadCursor,
    },
    LoadTemplates,
    LoadMembers,
    LoadCanned,
    LoadOutboxDepth,
    /// The campaigns, after waiting `after` (the reload interval).
    LoadCampaigns {
        after: Duration,
    },
    /// A campaign's dashboard with a page of the recipients of `filter`, after `after`.
    LoadDashboard {
        campaign: Uuid,
        filter: RecipientFilter,
        after: Duration,
    },
    /// The team view, after `after`.
    LoadTeam {
        after: Duration,
    },
    /// Move a campaign (`app::campaigns::control`, which checks the role and the status).
    ControlCampaign {
        campaign: Uuid,
        name: String,
        actor: Role,
        movement: Move,
    },
    /// Mark read in the database and send Meta the read receipt.
    MarkRead(Uuid),
    MarkUnread(Uuid),
    Assign {
        conversation: Uuid,
        to: Option<Uuid>,
        name: String,
    },
    Close(Uuid),
    Reopen(Uuid),
    SetTags {
        contact: Uuid,
        tags: Vec<String>,
    },
    SetOptedIn {
        contact: Uuid,
        opted_in: bool,
    },
    AddNote {
        conversation: Uuid,
        body: String,
    },
    SaveCanned {
        code: String,
        body: String,
    },
    DeleteCanned(String),
    Send(Outgoing),
    /// Wake `Action::Dwell(conversation)` after the configured dwell.
    StartDwell(Uuid),
    /// Suspend the TUI and edit this text in `$EDITOR`.
    Edit(String),
    /// Open a fetched media file with the configured program.
    OpenMedia {
        storage_url: String,
        filename: Option<String>,
    },
    /// Use this workspace from now on (and remember it for the next start).
    SwitchWorkspace(Box<Membership>),
    /// Ring the terminal bell.
    Bell,
    /// Set the terminal's title.
    Title(String),
}

/// A reply the agent sends.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub conversation: Uuid,
    pub phone_number_id: String,
    pub to: String,
    pub what: Sendable,
    pub reply_to: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Sendable {
    Text(String),
    /// A file by path, with the text as its caption.
    File {
        path: PathBuf,
        caption: Option<String>,
    },
    Template {
        name: String,
        language: String,
        params: Vec<String>,
    },
}
