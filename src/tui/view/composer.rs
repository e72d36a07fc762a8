//! The composer: a multi-line editor whose title says what Enter will do, and says plainly when
//! the customer's window is closed.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders};

use super::{format, text};
use crate::domain::CustomerWindow;
use crate::tui::keymap::{Command, View};
use crate::tui::state::{ComposeMode, Focus, State};
use crate::tui::theme::Role;

pub fn draw(state: &State, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let focused = state.focus == Focus::Composer && state.overlay.is_none();
    let window = state
        .thread
        .as_ref()
        .and_then(|t| t.header.as_ref())
        .map(|h| CustomerWindow::at(h.window_expires_at, state.now));
    let width = area.width.saturating_sub(4) as usize;
    let (title, role) = match (state.composer.mode, window) {
        (ComposeMode::Note, _) => (
            format!(
                " Private note: only agents see it · {} ",
                state
                    .keymap
                    .hints(View::Composer, &[Command::Send, Command::ToggleNote])
            ),
            Role::Note,
        ),
        (ComposeMode::Reply, Some(window)) if !window.is_open() => (
            format!(
                " Reply · {} · templates only · {} ",
                format::window_title(window),
                state.keymap.hints(View::Composer, &[Command::Template])
            ),
            Role::WindowClosed,
        ),
        _ => (
            format!(
                " Reply · {} ",
                state.keymap.hints(
                    View::Composer,
                    &[
                        Command::Send,
                        Command::Newline,
                        Command::Editor,
                        Command::Canned,
                        Command::Template
                    ]
                )
            ),
            Role::Title,
        ),
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(if focused {
            Role::BorderFocus
        } else {
            Role::Border
        }))
        .title(Line::styled(
            text::truncate(&title, width),
            theme.style(role),
        ));
    let mut footer = Vec::new();
    if let Some(quote) = &state.composer.quote {
        footer.push(format!("↪ {}", quote.preview));
    }
    if let Some(path) = &state.composer.attachment {
        footer.push(format!("📎 {}", path.display()));
    }
    if state.composer.sending {
        footer.push("sending…".into());
    }
    if !footer.is_empty() {
        block = block.title_bottom(Line::styled(
            text::truncate(&format!(" {} ", footer.join(" · ")), width),
            theme.style(Role::Dim),
        ));
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut editor = state.composer.textarea.clone();
    editor.set_cursor_line_style(Style::default());
    editor.set_style(theme.style(Role::Text));
    if !focused {
        editor.set_cursor_style(Style::default());
    }
    let closed = window.is_some_and(|w| !w.is_open()) && state.composer.mode == ComposeMode::Reply;
    if state.composer.text().is_empty() && (closed || !focused) {
        let placeholder = match (state.composer.mode, window) {
            (ComposeMode::Reply, Some(window)) if closed => {
                format::window_refusal(window).replace(" (t)", "")
            }
            (ComposeMode::Reply, _) => "r to reply".to_string(),
            (ComposeMode::Note, _) => "a note for the team".to_string(),
        };
        editor.set_placeholder_text(placeholder);
        editor.set_placeholder_style(theme.style(if closed { Role::Warn } else { Role::Dim }));
    }
    frame.render_widget(&editor, inner);
}
