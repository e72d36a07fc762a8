//! Drawing: a pure function of the state. No IO, no mutation; called only when something
//! visible changed.

mod bars;
mod campaigns;
mod composer;
pub mod format;
mod inbox;
pub mod layout;
mod overlays;
mod team;
mod text;
mod thread;

#[cfg(test)]
mod tests;

use ratatui::Frame;
use ratatui::layout::Alignment;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::state::{Screen, State};
use super::theme::Role;

/// Draws the whole screen.
pub fn draw(state: &State, frame: &mut Frame) {
    if layout::too_small(state) {
        let message = format!(
            "treeex needs a terminal of at least {}×{}; this one is {}×{}. Make it bigger, or press q to quit.",
            layout::MIN_WIDTH,
            layout::MIN_HEIGHT,
            state.size.0,
            state.size.1
        );
        frame.render_widget(
            Paragraph::new(Line::styled(message, state.theme.style(Role::Warn)))
                .alignment(Alignment::Center)
                .wrap(Wrap { trim: true }),
            frame.area(),
        );
        return;
    }
    let areas = layout::areas(state);
    bars::top(state, frame, areas.top);
    if state.session.is_none() {
        overlays::picker(state, frame, frame.area());
    } else if state.screen == Screen::Campaigns {
        campaigns::draw(state, frame, areas.main);
    } else if state.screen == Screen::Team {
        team::draw(state, frame, areas.main);
    } else {
        if let Some(list) = areas.list {
            inbox::draw(state, frame, list);
        }
        if let Some(pane) = areas.thread {
            thread::draw(state, frame, pane, areas.composer);
        }
    }
    bars::bottom(state, frame, areas.bottom);
    overlays::draw(state, frame, &areas);
}
