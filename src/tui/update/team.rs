//! The team tab: open work per agent and response times, reloaded at most every `TEAM_EVERY`
//! while changes stream in (one load in flight), and drawn again only when a figure changed.

use super::*;
use crate::domain::WorkspaceId;
use crate::store::team::TeamSnapshot;
use crate::tui::state::TEAM_EVERY;

/// Reloads the team view if it is shown; `urgent` when the user asked.
pub(super) fn refresh(state: &mut State, urgent: bool) -> Vec<Effect> {
    if state.session.is_none() || state.screen != Screen::Team {
        return Vec::new();
    }
    state
        .team
        .reload
        .request(state.now, TEAM_EVERY, urgent)
        .map(|after| Effect::LoadTeam { after })
        .into_iter()
        .collect()
}

/// The commands of the team tab: scrolling the agents, and back to the inbox.
pub(super) fn run(state: &mut State, command: Command) -> Vec<Effect> {
    match command {
        Command::Back => show(state, Screen::Inbox),
        Command::MoveDown
        | Command::MoveUp
        | Command::PageDown
        | Command::PageUp
        | Command::Top
        | Command::Bottom => {
            let visible = layout::agent_rows(state).max(1);
            let team = &mut state.team;
            let len = team.snapshot.as_ref().map_or(0, |s| s.agents.len());
            let last = len.saturating_sub(visible);
            team.offset = step(team.offset, last + 1, command, visible);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

pub(super) fn team_loaded(
    state: &mut State,
    workspace: WorkspaceId,
    snapshot: TeamSnapshot,
) -> Vec<Effect> {
    if state.session.as_ref().map(|s| s.workspace()) != Some(workspace) {
        return Vec::new();
    }
    let shown = state.screen == Screen::Team;
    let team = &mut state.team;
    if team.snapshot.as_ref() != Some(&snapshot) {
        team.offset = team.offset.min(snapshot.agents.len().saturating_sub(1));
        team.snapshot = Some(snapshot);
        state.dirty |= shown;
    }
    let team = &mut state.team;
    if !shown {
        team.reload.stop();
        return Vec::new();
    }
    team.reload
        .answered(state.now, TEAM_EVERY)
        .map(|after| Effect::LoadTeam { after })
        .into_iter()
        .collect()
}

pub(super) fn team_failed(state: &mut State, workspace: WorkspaceId, error: String) {
    if state.session.as_ref().map(|s| s.workspace()) == Some(workspace) {
        state.team.reload.stop();
        state.fail(error);
    }
}
