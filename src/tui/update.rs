//! `update`: the one place the TUI's state changes. It does no IO: it returns the effects the
//! loop should run, and every answer comes back as another action.

use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use uuid::Uuid;

use super::action::{Action, Effect, Outgoing, Sendable};
use super::command_line;
use super::keymap::{Command, View};
use super::state::{
    COUNTS_EVERY, ComposeMode, Focus, LineInput, Overlay, PAGE, Prompt, Quote, Screen, State,
    THREAD_PAGE, TemplateForm, Thread,
};
use super::view::layout;
use crate::domain::{CustomerWindow, Permission, template};
use crate::store::inbox::{InboxFilter, InboxRow};
use crate::store::thread::Entry;

mod campaigns;
mod commands;
mod input;
mod loading;
mod team;
#[cfg(test)]
mod tests;

use campaigns::{
    campaign_changed, campaigns_failed, campaigns_loaded, dashboard_failed, dashboard_loaded,
    keep_campaign_visible, on_confirm_key, refusal,
};
use commands::*;
use input::*;
use loading::*;

/// Applies one action; returns the IO it calls for.
pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Input(Event::Key(key)) if key.kind != KeyEventKind::Release => on_key(state, key),
        Action::Input(Event::Mouse(mouse)) => on_mouse(state, mouse),
        Action::Input(Event::Resize(width, height)) => {
            state.size = (width, height);
            state.dirty = true;
            keep_selection_visible(state);
            keep_campaign_visible(state);
            Vec::new()
        }
        Action::Input(Event::Paste(text)) => {
            if state.screen == Screen::Inbox
                && state.focus == Focus::Composer
                && state.overlay.is_none()
            {
                state.composer.textarea.insert_str(text);
                state.dirty = true;
            }
            Vec::new()
        }
        Action::Input(_) => Vec::new(),
        Action::Run(command, args) => run(state, command, args),
        Action::Tick(now) => {
            let minute = |t: chrono::DateTime<chrono::Utc>| t.timestamp() / 60;
            if minute(now) != minute(state.now) {
                state.dirty = true;
            }
            // The team's periods are UTC days: a new day starts them again.
            let new_day = now.date_naive() != state.now.date_naive();
            state.now = now;
            let mut effects = Vec::new();
            if new_day {
                effects.extend(team::refresh(state, true));
            }
            if state.inbox.counts_stale && state.session.is_some() {
                effects.extend(counts(state, false));
            }
            effects
        }
        Action::InboxLoaded {
            generation,
            append,
            rows,
            limit,
        } => inbox_loaded(state, generation, append, rows, limit),
        Action::InboxFailed { generation, error } => {
            if generation == state.inbox.generation {
                state.inbox.loading = false;
                state.inbox.stale = false;
                state.fail(error);
            }
            Vec::new()
        }
        Action::ThreadFailed {
            conversation,
            error,
        } => {
            if let Some(thread) = state
                .thread
                .as_mut()
                .filter(|t| t.conversation == conversation)
            {
                thread.loading = false;
                thread.loading_older = false;
                thread.stale = false;
                state.fail(error);
            }
            Vec::new()
        }
        Action::CountsLoaded(counts) => {
            let mut effects = Vec::new();
            if counts != state.inbox.counts {
                if counts.unread != state.inbox.counts.unread {
                    effects.push(Effect::Title(title(state, counts.unread)));
                }
                state.inbox.counts = counts;
                state.dirty = true;
            }
            effects
        }
        Action::ThreadLoaded {
            conversation,
            header,
            entries,
            limit,
        } => thread_loaded(state, conversation, header, entries, limit),
        Action::OlderLoaded {
            conversation,
            entries,
            limit,
        } => {
            if let Some(thread) = state
                .thread
                .as_mut()
                .filter(|t| t.conversation == conversation)
            {
                thread.loading_older = false;
                thread.complete = (entries.len() as i64) < limit;
                let added = entries.len();
                let mut older: Vec<Entry> = entries.into_iter().rev().collect();
                older.append(&mut thread.entries);
                thread.entries = older;
                thread.selected = thread.selected.map(|s| s + added);
                state.dirty = true;
            }
            Vec::new()
        }
        Action::TemplatesLoaded(templates) => {
            let waba = state
                .thread
                .as_ref()
                .and_then(|t| t.header.as_ref())
                .map(|h| h.waba_id.clone());
            if let Some(Overlay::Templates(form)) = state.overlay.as_mut() {
                // Only what may be sent from this number: its account's approved templates.
                form.templates = templates
                    .into_iter()
                    .filter(|t| t.status == "APPROVED" && Some(&t.waba_id) == waba.as_ref())
                    .collect();
                form.loading = false;
                if let Some(wanted) = form.wanted.take() {
                    if let Some(i) = form.templates.iter().position(|t| t.name == wanted) {
                        form.selected = i;
                    } else {
                        state.notice = Some(crate::tui::state::Notice {
                            text: format!("no approved template `{wanted}` for this number"),
                            error: true,
                        });
                    }
                }
                reset_fields(form);
                state.dirty = true;
            }
            Vec::new()
        }
        Action::MembersLoaded(members) => {
            if let Some(Overlay::Members {
                members: list,
                wanted,
                ..
            }) = state.overlay.as_mut()
            {
                *list = members;
                if let Some(wanted) = wanted.take() {
                    let found = list.iter().find(|m| {
                        m.email.eq_ignore_ascii_case(&wanted)
                            || m.name
                                .as_deref()
                                .is_some_and(|n| n.eq_ignore_ascii_case(&wanted))
                    });
                    return match found.cloned() {
                        Some(member) => {
                            state.overlay = None;
                            assign_to(state, Some(member.user_id), display_member(&member))
                        }
                        None => {
                            state.overlay = None;
                            state.fail(format!("no member `{wanted}` in this workspace"));
                            Vec::new()
                        }
                    };
                }
                state.dirty = true;
            }
            Vec::new()
        }
        Action::CannedLoaded(replies) => {
            if let Some(Overlay::Canned { replies: list, .. }) = state.overlay.as_mut() {
                *list = replies;
                state.dirty = true;
            }
            Vec::new()
        }
        Action::WorkspaceChosen(membership) => {
            state.session = Some(crate::tui::state::Session {
                user: state.user.clone(),
                membership: *membership,
            });
            state.thread = None;
            state.overlay = None;
            state.focus = Focus::List;
            state.inbox = Default::default();
            state.campaigns = Default::default();
            state.dirty = true;
            let mut effects = new_query(state);
            effects.push(Effect::LoadOutboxDepth);
            effects.push(Effect::Title(title(state, 0)));
            state.team = Default::default();
            effects.extend(refresh_shown(state, true));
            effects
        }
        Action::Changed(conversation) => {
            let mut effects = reload_inbox(state);
            if let Some(thread) = &state.thread
                && conversation.is_none_or(|c| c == thread.conversation)
            {
                effects.extend(reload_thread(state));
            }
            // Campaign counters move with their messages' statuses and replies.
            effects.extend(refresh_shown(state, false));
            effects
        }
        Action::CampaignChanged(campaign) => {
            // A batch of a campaign's messages changes their conversations too.
            let mut effects = reload_inbox(state);
            if state.thread.is_some() {
                effects.extend(reload_thread(state));
            }
            effects.extend(campaign_changed(state, campaign));
            effects.extend(team::refresh(state, false));
            effects
        }
        Action::TeamLoaded {
            workspace,
            snapshot,
        } => team::team_loaded(state, workspace, *snapshot),
        Action::TeamFailed { workspace, error } => {
            team::team_failed(state, workspace, error);
            Vec::new()
        }
        Action::CampaignsLoaded { workspace, rows } => campaigns_loaded(state, workspace, rows),
        Action::CampaignsFailed { workspace, error } => {
            campaigns_failed(state, workspace, error);
            Vec::new()
        }
        Action::DashboardLoaded {
            campaign,
            dashboard,
        } => dashboard_loaded(state, campaign, *dashboard),
        Action::DashboardFailed { campaign, error } => {
            dashboard_failed(state, campaign, error);
            Vec::new()
        }
        Action::OutboxChanged => vec![Effect::LoadOutboxDepth],
        Action::OutboxDepth(depth) => {
            if state.health.outbox_depth != depth {
                state.health.outbox_depth = depth;
                state.dirty = true;
            }
            Vec::new()
        }
        Action::Database(up) => {
            let was = state.health.database;
            state.health.database = up;
            state.dirty |= was != up;
            if up && !was && state.session.is_some() {
                // Notifications sent while the feed was down are lost: reload what is shown.
                let mut effects = update(state, Action::Changed(None));
                effects.push(Effect::LoadOutboxDepth);
                return effects;
            }
            Vec::new()
        }
        Action::Dwell(conversation) => {
            let Some(thread) = state
                .thread
                .as_mut()
                .filter(|t| t.conversation == conversation && !t.read_settled)
            else {
                return Vec::new();
            };
            thread.read_settled = true;
            let unread = state
                .inbox
                .rows
                .iter_mut()
                .find(|r| r.id == conversation)
                .map(|row| std::mem::take(&mut row.unread_count))
                .unwrap_or(0)
                + thread.header.as_ref().map_or(0, |h| h.unread_count);
            if unread > 0 {
                state.dirty = true;
                vec![Effect::MarkRead(conversation)]
            } else {
                Vec::new()
            }
        }
        Action::Done(Ok(text)) => {
            state.notify(text);
            Vec::new()
        }
        Action::Done(Err(text)) => {
            state.fail(text);
            Vec::new()
        }
        Action::Sent {
            conversation,
            from_composer,
            result,
        } => {
            let open = state.thread.as_ref().map(|t| t.conversation) == Some(conversation);
            if open && from_composer {
                state.composer.sending = false;
            }
            match result {
                Ok(()) if !from_composer => state.notify("queued"),
                Ok(()) => {
                    if open {
                        state.composer.set_text("");
                        state.composer.quote = None;
                        state.composer.attachment = None;
                    } else {
                        state.composer.drafts.remove(&conversation);
                    }
                    state.notify("queued");
                }
                Err(reason) => state.fail(reason),
            }
            Vec::new()
        }
        Action::Edited(text) => {
            state.composer.set_text(text.trim_end_matches('\n'));
            state.focus = Focus::Composer;
            state.dirty = true;
            Vec::new()
        }
    }
}

/// The terminal title: the workspace and how many conversations wait to be read.
fn title(state: &State, unread: i64) -> String {
    let workspace = state
        .session
        .as_ref()
        .map_or("", |s| s.membership.workspace.name.as_str());
    match unread {
        0 => format!("treeex · {workspace}"),
        n => format!("treeex ({n}) · {workspace}"),
    }
}
