//! The campaign screens: the list, a campaign's dashboard with its controls (a cancel asks
//! first), and their reloads. Reloads are paced by `Reload`: a stream of changes costs at most
//! one load in flight and one start per `CAMPAIGNS_EVERY`, and an answer that changes nothing
//! draws nothing. Moves go to `app::campaigns::control`, which checks the role and the status
//! again and words any refusal.

use super::*;
use crate::app::campaigns::CampaignError;
use crate::domain::{Move, WorkspaceId};
use crate::store::campaign_views::{Dashboard, RecipientFilter};
use crate::store::campaigns::Campaign;
use crate::tui::state::{CAMPAIGNS_EVERY, CampaignDashboard, Confirm, Screen};

/// Reloads what the campaign tab shows, if it is shown: the dashboard, or the list. `urgent`
/// when the user asked (no waiting for the interval).
pub(super) fn refresh(state: &mut State, urgent: bool) -> Vec<Effect> {
    if state.session.is_none() || state.screen != Screen::Campaigns {
        return Vec::new();
    }
    let now = state.now;
    let campaigns = &mut state.campaigns;
    let effect = match campaigns.dashboard.as_mut() {
        Some(dashboard) => dashboard
            .reload
            .request(now, CAMPAIGNS_EVERY, urgent)
            .map(|after| Effect::LoadDashboard {
                campaign: dashboard.campaign,
                filter: dashboard.filter,
                after,
            }),
        None => campaigns
            .reload
            .request(now, CAMPAIGNS_EVERY, urgent)
            .map(|after| Effect::LoadCampaigns { after }),
    };
    effect.into_iter().collect()
}

/// A campaign moved: the list reloads, and a dashboard when it is this campaign's.
pub(super) fn campaign_changed(state: &mut State, campaign: Uuid) -> Vec<Effect> {
    if state
        .campaigns
        .dashboard
        .as_ref()
        .is_some_and(|d| d.campaign != campaign)
    {
        return Vec::new();
    }
    refresh(state, false)
}

/// The commands of the campaign list and the dashboard.
pub(super) fn run(
    state: &mut State,
    view: View,
    command: Command,
    args: Vec<String>,
) -> Vec<Effect> {
    if command.campaign_move().is_some() {
        return control(state, command);
    }
    match (view, command) {
        (View::Campaign, Command::Back) => {
            state.campaigns.dashboard = None;
            refresh(state, true)
        }
        (View::Campaigns, Command::Back) => show(state, Screen::Inbox),
        (View::Campaigns, Command::Open) => match state.campaigns.selected_row() {
            Some(row) => {
                let id = row.id;
                state.campaigns.dashboard = Some(CampaignDashboard::new(id));
                refresh(state, true)
            }
            None => Vec::new(),
        },
        (
            View::Campaigns,
            Command::MoveDown
            | Command::MoveUp
            | Command::PageDown
            | Command::PageUp
            | Command::Top
            | Command::Bottom,
        ) => {
            let page = layout::campaign_rows(state).max(1);
            let list = &mut state.campaigns;
            list.selected = step(list.selected, list.rows.len(), command, page);
            keep_campaign_visible(state);
            Vec::new()
        }
        (
            View::Campaign,
            Command::MoveDown
            | Command::MoveUp
            | Command::PageDown
            | Command::PageUp
            | Command::Top
            | Command::Bottom,
        ) => {
            let visible = layout::recipient_rows(state).max(1);
            if let Some(dashboard) = state.campaigns.dashboard.as_mut() {
                let len = dashboard.recipients().map_or(0, <[_]>::len);
                let last = len.saturating_sub(visible);
                dashboard.offset = step(dashboard.offset, last + 1, command, visible);
            }
            Vec::new()
        }
        (View::Campaign, Command::Filter) => filter(state, args.first().map(String::as_str)),
        _ => Vec::new(),
    }
}

/// The next recipient filter, or the one named (`:filter failed`).
fn filter(state: &mut State, name: Option<&str>) -> Vec<Effect> {
    let Some(dashboard) = state.campaigns.dashboard.as_mut() else {
        return Vec::new();
    };
    let next = match name {
        None => dashboard.filter.next(),
        Some(name) => match RecipientFilter::parse(name) {
            Some(filter) => filter,
            None => {
                let names: Vec<&str> = RecipientFilter::ALL.iter().map(|f| f.name()).collect();
                state.fail(format!(
                    "unknown filter `{name}`; recipients are filtered by {}",
                    names.join(", ")
                ));
                return Vec::new();
            }
        },
    };
    if next == dashboard.filter {
        return Vec::new();
    }
    dashboard.filter = next;
    dashboard.offset = 0;
    refresh(state, true)
}

/// A control key: asks `control` for the move (a cancel asks the user first).
fn control(state: &mut State, command: Command) -> Vec<Effect> {
    let (Some(movement), Some(session)) = (command.campaign_move(), state.session.as_ref()) else {
        return Vec::new();
    };
    let actor = session.role();
    let Some(campaign) = state.target_campaign() else {
        state.fail("no campaign selected");
        return Vec::new();
    };
    let (id, name, status) = (campaign.id, campaign.name.clone(), campaign.status);
    if movement == Move::Cancel {
        // Asking is pointless when the status already says no: the same rule says why.
        if let Err(illegal) = status.apply(movement) {
            state.fail(illegal.to_string());
            return Vec::new();
        }
        state.overlay = Some(Overlay::Confirm(Confirm {
            campaign: id,
            name,
            movement,
        }));
        return Vec::new();
    }
    vec![Effect::ControlCampaign {
        campaign: id,
        name,
        actor,
        movement,
    }]
}

/// The answer to the confirmation: yes asks for the move, anything else leaves it.
pub(super) fn on_confirm_key(state: &mut State, confirm: Confirm, key: KeyEvent) -> Vec<Effect> {
    state.dirty = true;
    let Some(session) = state.session.as_ref() else {
        return Vec::new();
    };
    match state.keymap.command(View::Confirm, &key) {
        Some(Command::Confirm) => vec![Effect::ControlCampaign {
            campaign: confirm.campaign,
            name: confirm.name,
            actor: session.role(),
            movement: confirm.movement,
        }],
        _ => {
            state.notify(format!("“{}” was left as it is", confirm.name));
            Vec::new()
        }
    }
}

/// Why the user's role may not use `command`: for a campaign move, the sentence `control`
/// itself would answer.
pub(super) fn refusal(state: &State, command: Command) -> String {
    match (command.campaign_move(), state.session.as_ref()) {
        (Some(movement), Some(session)) => {
            CampaignError::NotAllowed(movement.verb(), session.role()).to_string()
        }
        _ => "your role may not do that in this workspace".into(),
    }
}

/// Scrolls the campaign list just enough to show the selected row.
pub(super) fn keep_campaign_visible(state: &mut State) {
    let height = layout::campaign_rows(state).max(1);
    let list = &mut state.campaigns;
    if list.selected < list.offset {
        list.offset = list.selected;
    } else if list.selected >= list.offset + height {
        list.offset = list.selected + 1 - height;
    }
}

pub(super) fn campaigns_loaded(
    state: &mut State,
    workspace: WorkspaceId,
    rows: Vec<Campaign>,
) -> Vec<Effect> {
    if state.session.as_ref().map(|s| s.workspace()) != Some(workspace) {
        return Vec::new();
    }
    let shown = state.screen == Screen::Campaigns;
    let list = &mut state.campaigns;
    if !list.loaded || rows != list.rows {
        let selected = list.selected_row().map(|c| c.id);
        list.rows = rows;
        list.loaded = true;
        if let Some(index) = selected.and_then(|id| list.rows.iter().position(|c| c.id == id)) {
            list.selected = index;
        }
        list.selected = list.selected.min(list.rows.len().saturating_sub(1));
        keep_campaign_visible(state);
        state.dirty |= shown;
    }
    let list = &mut state.campaigns;
    if !shown || list.dashboard.is_some() {
        list.reload.stop();
        return Vec::new();
    }
    list.reload
        .answered(state.now, CAMPAIGNS_EVERY)
        .map(|after| Effect::LoadCampaigns { after })
        .into_iter()
        .collect()
}

pub(super) fn campaigns_failed(state: &mut State, workspace: WorkspaceId, error: String) {
    if state.session.as_ref().map(|s| s.workspace()) == Some(workspace) {
        state.campaigns.reload.stop();
        state.campaigns.loaded = true;
        state.fail(error);
    }
}

pub(super) fn dashboard_loaded(state: &mut State, campaign: Uuid, fresh: Dashboard) -> Vec<Effect> {
    let shown = state.screen == Screen::Campaigns;
    let now = state.now;
    let Some(dashboard) = state
        .campaigns
        .dashboard
        .as_mut()
        .filter(|d| d.campaign == campaign)
    else {
        return Vec::new();
    };
    // The list shows the fresh counters too when the user goes back to it.
    if let Some(row) = state.campaigns.rows.iter_mut().find(|c| c.id == campaign) {
        *row = fresh.campaign.clone();
    }
    let changed = dashboard
        .data
        .as_ref()
        .is_none_or(|old| !old.same_figures(&fresh));
    dashboard.data = Some(fresh);
    let len = dashboard.recipients().map_or(0, <[_]>::len);
    dashboard.offset = dashboard.offset.min(len.saturating_sub(1));
    state.dirty |= changed && shown;
    let next = if shown {
        dashboard.reload.answered(now, CAMPAIGNS_EVERY)
    } else {
        dashboard.reload.stop();
        None
    };
    next.map(|after| Effect::LoadDashboard {
        campaign,
        filter: dashboard.filter,
        after,
    })
    .into_iter()
    .collect()
}

pub(super) fn dashboard_failed(state: &mut State, campaign: Uuid, error: String) {
    if let Some(dashboard) = state
        .campaigns
        .dashboard
        .as_mut()
        .filter(|d| d.campaign == campaign)
    {
        dashboard.reload.stop();
        state.fail(error);
    }
}
