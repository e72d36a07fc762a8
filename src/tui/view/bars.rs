//! The top bar (workspace, number, user, health) and the bottom line (a notice, or the hints of
//! the current view, generated from the keymap).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::Paragraph;

use super::text;
use crate::domain::Move;
use crate::tui::keymap::{Command, View};
use crate::tui::state::{ListenerState, Overlay, Screen, State};
use crate::tui::theme::Role;

pub fn top(state: &State, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let mut left = vec![Span::styled(" treeex ", theme.style(Role::Title))];
    let mut number = None;
    if let Some(session) = &state.session {
        left.push(Span::styled(
            format!(" {}", session.membership.workspace.name),
            theme.style(Role::Accent),
        ));
        if state.screen == Screen::Inbox
            && let Some(header) = state.thread.as_ref().and_then(|t| t.header.as_ref())
        {
            number = Some(Span::styled(
                format!(" ▸ {}", header.display_phone_number),
                theme.style(Role::Text),
            ));
        }
    }
    let health = &state.health;
    let dot = |ok: bool| {
        if ok {
            theme.style(Role::Ok)
        } else {
            theme.style(Role::Error)
        }
    };
    let who = state
        .user
        .name
        .clone()
        .unwrap_or_else(|| state.user.email.clone());
    let mut right = vec![Span::styled(who, theme.style(Role::Text))];
    if let Some(session) = &state.session {
        right.push(Span::styled(
            format!(" · {}", session.role()),
            theme.style(Role::Dim),
        ));
    }
    right.push(Span::styled("   ● ", dot(health.database)));
    right.push(Span::styled("db", theme.style(Role::Dim)));
    match &health.listener {
        ListenerState::Listening(address) => {
            right.push(Span::styled("  ● ", dot(true)));
            right.push(Span::styled(
                format!(":{}", address.port()),
                theme.style(Role::Dim),
            ));
        }
        ListenerState::Failed(_) => {
            right.push(Span::styled("  ● ", dot(false)));
            right.push(Span::styled("listener", theme.style(Role::Dim)));
        }
        ListenerState::Off => {
            right.push(Span::styled("  ○ listener off", theme.style(Role::Dim)));
        }
    }
    right.push(Span::styled(
        format!("  ⇡{} ", health.outbox_depth),
        theme.style(if health.outbox_depth > 0 {
            Role::Warn
        } else {
            Role::Dim
        }),
    ));
    // The tabs follow; on a narrow terminal the ones not shown go first, then the number.
    let right_width: usize = right.iter().map(|s| text::width(&s.content)).sum();
    let room = (area.width as usize).saturating_sub(right_width + 1);
    let tabs = |all: bool| -> Vec<Span<'static>> {
        if state.session.is_none() {
            return Vec::new();
        }
        let mut spans = vec![Span::raw("  ")];
        for screen in Screen::ALL {
            if screen == state.screen {
                spans.push(Span::styled(
                    format!(" {} ", screen.title()),
                    theme.style(Role::Selected),
                ));
            } else if all {
                spans.push(Span::styled(
                    format!(" {} ", screen.title()),
                    theme.style(Role::Dim),
                ));
            }
        }
        spans
    };
    let width = |spans: &[Span]| spans.iter().map(|s| text::width(&s.content)).sum::<usize>();
    let mut chosen = None;
    for (with_number, all_tabs) in [(true, true), (true, false), (false, false)] {
        let mut spans = left.clone();
        if with_number && let Some(number) = &number {
            spans.push(number.clone());
        }
        spans.extend(tabs(all_tabs));
        if width(&spans) <= room {
            chosen = Some(spans);
            break;
        }
    }
    let left = chosen.unwrap_or(left);
    let line = text::spread(left, right, area.width as usize);
    frame.render_widget(Paragraph::new(line), area);
}

pub fn bottom(state: &State, frame: &mut Frame, area: Rect) {
    if matches!(state.overlay, Some(Overlay::Prompt(..))) {
        return; // the prompt is drawn there
    }
    let theme = &state.theme;
    let line = match &state.notice {
        Some(notice) => Span::styled(
            format!(
                " {}",
                text::truncate(&notice.text, (area.width as usize).saturating_sub(1))
            ),
            theme.style(if notice.error { Role::Error } else { Role::Ok }),
        ),
        None => {
            let view = state.view();
            let commands: Vec<Command> = hinted(view)
                .iter()
                .copied()
                .filter(|c| state.offers(*c) && applies(state, *c))
                .collect();
            // Whole hints only: the ones that do not fit are left to `?`.
            let room = (area.width as usize).saturating_sub(1);
            let mut hints = String::new();
            for hint in state.keymap.hint_list(view, &commands) {
                let next = if hints.is_empty() {
                    hint
                } else {
                    format!("{hints}  {hint}")
                };
                if text::width(&next) > room {
                    break;
                }
                hints = next;
            }
            Span::styled(format!(" {hints}"), theme.style(Role::Dim))
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// Whether a hint is worth showing now: a campaign move only when the campaign's status
/// allows it (the key still works, and `control` says why not).
fn applies(state: &State, command: Command) -> bool {
    match command.campaign_move() {
        Some(movement) => state.target_campaign().is_some_and(|campaign| {
            campaign.status.apply(movement).is_ok()
                && (movement != Move::RetryFailed || campaign.failed_count > 0)
        }),
        None => true,
    }
}

/// The commands each view's hint line names, most used first.
fn hinted(view: View) -> &'static [Command] {
    match view {
        View::Inbox => &[
            Command::MoveDown,
            Command::MoveUp,
            Command::Open,
            Command::NextUnread,
            Command::AssignMe,
            Command::Close,
            Command::MarkUnread,
            Command::Search,
            Command::Filter,
            Command::CommandLine,
            Command::Help,
        ],
        View::Thread => &[
            Command::Reply,
            Command::Template,
            Command::Note,
            Command::QuoteReply,
            Command::CloseNext,
            Command::AssignMe,
            Command::Contact,
            Command::Back,
            Command::Help,
        ],
        View::Composer => &[
            Command::Send,
            Command::Newline,
            Command::Editor,
            Command::Attach,
            Command::Canned,
            Command::ToggleNote,
            Command::Template,
            Command::Back,
        ],
        View::Templates => &[
            Command::MoveDown,
            Command::MoveUp,
            Command::NextField,
            Command::PrevField,
            Command::Send,
            Command::Back,
        ],
        View::Contact => &[Command::ToggleOptIn, Command::Tag, Command::Back],
        View::Picker => &[
            Command::MoveDown,
            Command::MoveUp,
            Command::Open,
            Command::Quit,
        ],
        View::Campaigns => &[
            Command::MoveDown,
            Command::MoveUp,
            Command::Open,
            Command::Start,
            Command::Pause,
            Command::Resume,
            Command::CancelCampaign,
            Command::RetryFailed,
            Command::Inbox,
            Command::Team,
            Command::Help,
        ],
        View::Campaign => &[
            Command::Start,
            Command::Pause,
            Command::Resume,
            Command::CancelCampaign,
            Command::RetryFailed,
            Command::Filter,
            Command::MoveDown,
            Command::MoveUp,
            Command::Back,
            Command::Help,
        ],
        View::Confirm => &[Command::Confirm, Command::Back],
        View::Team => &[
            Command::MoveDown,
            Command::MoveUp,
            Command::Inbox,
            Command::Campaigns,
            Command::Back,
            Command::Help,
        ],
    }
}
