//! Where each pane goes for a terminal size: shared by `draw` and by `update` (mouse clicks,
//! how many rows a page is), so both agree without drawing.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::tui::state::{Focus, Screen, State};

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
    /// Between the top bar and the bottom line: the screen of the tab shown.
    pub main: Rect,
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
    let (list, thread) = if state.screen != Screen::Inbox {
        (None, None)
    } else if !thread_open {
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
        main,
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

/// The panels of a campaign's dashboard. Below `ROOMY` rows the progress loses its frame and
/// the panels their spare lines, so the recipients keep room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DashboardAreas {
    pub header: Rect,
    pub progress: Rect,
    pub funnel: Rect,
    pub rate: Rect,
    pub failures: Rect,
    pub recipients: Rect,
    pub compact: bool,
}

/// From this height the dashboard's panels get their frames and spare lines.
const ROOMY: u16 = 30;

pub fn dashboard(main: Rect) -> DashboardAreas {
    let compact = main.height < ROOMY;
    let (progress, middle, rate) = if compact { (1, 8, 4) } else { (3, 10, 5) };
    let [header, progress, middle, recipients] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(progress),
        Constraint::Length(middle),
        Constraint::Min(3),
    ])
    .areas(main);
    let funnel_width = (main.width * 2 / 5).clamp(40, 48);
    let [funnel, right] =
        Layout::horizontal([Constraint::Length(funnel_width), Constraint::Min(1)]).areas(middle);
    let [rate, failures] =
        Layout::vertical([Constraint::Length(rate), Constraint::Min(1)]).areas(right);
    DashboardAreas {
        header,
        progress,
        funnel,
        rate,
        failures,
        recipients,
        compact,
    }
}

/// Campaigns that fit in the list (inside its frame, under its column titles).
pub fn campaign_rows(state: &State) -> usize {
    areas(state).main.height.saturating_sub(3) as usize
}

/// Recipients that fit in the dashboard's table (inside its frame, under its column titles).
pub fn recipient_rows(state: &State) -> usize {
    dashboard(areas(state).main)
        .recipients
        .height
        .saturating_sub(3) as usize
}

/// The panels of the team tab: the header line, the open work now, the response times, the
/// agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamAreas {
    pub header: Rect,
    pub now: Rect,
    pub times: Rect,
    pub agents: Rect,
}

pub fn team(main: Rect) -> TeamAreas {
    let [header, now, times, agents] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(6),
        Constraint::Min(3),
    ])
    .areas(main);
    TeamAreas {
        header,
        now,
        times,
        agents,
    }
}

/// Agents that fit in the team tab's list (inside its frame, under its column titles).
pub fn agent_rows(state: &State) -> usize {
    team(areas(state).main).agents.height.saturating_sub(3) as usize
}
