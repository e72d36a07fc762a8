//! The top bar (workspace, number, user, health) and the bottom line (a notice, or the hints of
//! the current view, generated from the keymap).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::Paragraph;

use super::text;
use crate::tui::keymap::{Command, View};
use crate::tui::state::{ListenerState, Overlay, State};
use crate::tui::theme::Role;

pub fn top(state: &State, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let mut left = vec![Span::styled(" treeex ", theme.style(Role::Title))];
    if let Some(session) = &state.session {
        left.push(Span::styled(
            format!(" {}", session.membership.workspace.name),
            theme.style(Role::Accent),
        ));
        if let Some(header) = state.thread.as_ref().and_then(|t| t.header.as_ref()) {
            left.push(Span::styled(
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
                .filter(|c| state.offers(*c))
                .collect();
            let hints = state.keymap.hints(view, &commands);
            Span::styled(
                format!(
                    " {}",
                    text::truncate(&hints, (area.width as usize).saturating_sub(1))
                ),
                theme.style(Role::Dim),
            )
        }
    };
    frame.render_widget(Paragraph::new(line), area);
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
    }
}
