//! Where each pane goes for a terminal size: shared by `draw` and by `update` (mouse clicks,
//! how many rows a page is), so both agree without drawing.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::tui::state::{Focus, State};

/// The smallest terminal treeex draws in.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
/// From this width the list and the thread are shown side by side.
pub const SIDE_BY_SIDE: u16 = 110;
/// Lines per conversation in the list: name and time, then preview and window.
pub const ROW_HEIGHT: u16 = 2;

/// The panes of one frame; a pane that is not shown is None.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Areas {
    pub top: Rect,
    pub list: Option<Rect>,
    pub thread: Option<Rect>,
    /// Inside the thread pane, at its bottom.
    pub composer: Option<Rect>,
    pub bottom: Rect,
}

pub fn too_small(state: &State) -> bool {
    state.size.0 < MIN_WIDTH || state.size.1 < MIN_HEIGHT
}

pub fn areas(state: &State) -> Areas {
    let screen = Rect::new(0, 0, state.size.0, state.size.1);
    let [top, main, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(screen);
    let thread_open = state.thread.is_some();
    let (list, thread) = if !thread_open {
        (Some(main), None)
    } else if state.size.0 >= SIDE_BY_SIDE {
        let [list, thread] =
            Layout::horizontal([Constraint::Percentage(42), Constraint::Percentage(58)])
                .areas(main);
        (Some(list), Some(thread))
    } else if state.focus == Focus::List {
        (Some(main), None)
    } else {
        (None, Some(main))
    };
    let composer = thread.map(|pane| {
        let lines = state.composer.textarea.lines().len().clamp(1, 6) as u16;
        let height = (lines + 2).min(pane.height.saturating_sub(4));
        Rect::new(pane.x, pane.y + pane.height - height, pane.width, height)
    });
    Areas {
        top,
        list,
        thread,
        composer,
        bottom,
    }
}

/// Conversations that fit in the list pane.
pub fn visible_rows(state: &State) -> usize {
    let height = areas(state)
        .list
        .map_or(state.size.1.saturating_sub(2), |list| list.height);
    (height.saturating_sub(2) / ROW_HEIGHT) as usize
}
