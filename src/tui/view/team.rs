//! The team tab: the open work now, how fast the team answers and resolves (today against
//! yesterday, the last 7 days against the 7 before, with the change in percent), and each
//! agent's open load.

use chrono::Duration;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::format;
use super::layout;
use super::text::{self, Part};
use crate::store::team::{PeriodTimes, TeamSnapshot};
use crate::tui::state::State;
use crate::tui::theme::Role;

pub fn draw(state: &State, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let areas = layout::team(area);
    let header = text::parts(
        vec![
            Part {
                separator: "",
                spans: vec![
                    Span::styled(" Team ▸ ", theme.style(Role::Dim)),
                    Span::styled("today vs yesterday", theme.style(Role::Title)),
                ],
                gives_way: 0,
            },
            Part {
                separator: " · ",
                spans: vec![Span::styled(
                    "the last 7 days vs the 7 before",
                    theme.style(Role::Title),
                )],
                gives_way: 1,
            },
            Part {
                separator: " · ",
                spans: vec![Span::styled(
                    "times are medians, days in UTC",
                    theme.style(Role::Dim),
                )],
                gives_way: 2,
            },
        ],
        area.width as usize,
    );
    frame.render_widget(Paragraph::new(header), areas.header);
    let Some(snapshot) = &state.team.snapshot else {
        let block = panel(state, " Now ");
        let inner = block.inner(areas.now);
        frame.render_widget(block, areas.now);
        frame.render_widget(
            Paragraph::new(Line::styled(" loading…", theme.style(Role::Dim))),
            inner,
        );
        return;
    };
    now(state, frame, areas.now, snapshot);
    times(state, frame, areas.times, snapshot);
    agents(state, frame, areas.agents, snapshot);
}

fn panel(state: &State, title: &str) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(state.theme.style(Role::Border))
        .title(Line::styled(
            title.to_string(),
            state.theme.style(Role::Title),
        ))
}

fn now(state: &State, frame: &mut Frame, area: Rect, snapshot: &TeamSnapshot) {
    let theme = &state.theme;
    let block = panel(state, " Now ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let figure = |label: &str, n: i64, warn: bool| {
        vec![
            Span::styled(format!(" {label} "), theme.style(Role::Dim)),
            Span::styled(
                format::count(n),
                theme.style(if warn && n > 0 {
                    Role::Warn
                } else {
                    Role::Title
                }),
            ),
            Span::raw("  "),
        ]
    };
    let mut spans = figure("open", snapshot.open, false);
    spans.extend(figure("unassigned", snapshot.unassigned, true));
    spans.extend(figure("unattended", snapshot.unattended, true));
    spans.extend(figure(
        "conversations today",
        snapshot.today.conversations,
        false,
    ));
    frame.render_widget(
        Paragraph::new(text::spread(spans, Vec::new(), inner.width as usize)),
        inner,
    );
}

/// `4m 10s`, or `—` when the period has nothing to measure.
fn seconds(value: Option<f64>) -> String {
    value.map_or_else(
        || "—".to_string(),
        |secs| format::elapsed(Duration::seconds(secs.round() as i64)),
    )
}

/// The change from `before` to `now` in percent, when both are known and `before` is not 0.
fn change(now: Option<f64>, before: Option<f64>) -> Option<f64> {
    match (now, before) {
        (Some(now), Some(before)) if before > 0.0 => Some((now - before) / before * 100.0),
        _ => None,
    }
}

/// `+8%`, `−35%`, `±0%`, or `—`.
fn change_text(change: Option<f64>) -> String {
    match change {
        None => "—".to_string(),
        Some(c) if c.abs() < 0.5 => "±0%".to_string(),
        Some(c) if c > 0.0 => format!("+{c:.0}%"),
        Some(c) => format!("−{:.0}%", c.abs()),
    }
}

/// Widths of the columns of the times table: the label, then per pair of periods the current,
/// the previous and the change; wider from 100 cells.
struct Widths {
    label: usize,
    current: usize,
    previous: usize,
    change: usize,
}

impl Widths {
    fn for_width(width: usize) -> Widths {
        if width >= 100 {
            Widths {
                label: 18,
                current: 15,
                previous: 13,
                change: 10,
            }
        } else {
            Widths {
                label: 16,
                current: 12,
                previous: 11,
                change: 8,
            }
        }
    }
}

fn times(state: &State, frame: &mut Frame, area: Rect, snapshot: &TeamSnapshot) {
    let theme = &state.theme;
    let block = panel(state, " Response times ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let dim = theme.style(Role::Dim);
    let w = Widths::for_width(inner.width as usize);
    let mut titles = vec![Span::styled(text::fit(" ", w.label), dim)];
    for (current, previous) in [("today", "yesterday"), ("last 7 days", "7 before")] {
        titles.push(Span::styled(text::fit_right(current, w.current), dim));
        titles.push(Span::styled(text::fit_right(previous, w.previous), dim));
        titles.push(Span::styled(text::fit_right("change", w.change), dim));
    }
    let mut lines = vec![Line::from(titles)];
    type Measure = fn(&PeriodTimes) -> Option<f64>;
    let rows: [(&str, Measure, bool); 3] = [
        ("first response", |p| p.first_response_secs, true),
        ("resolution", |p| p.resolution_secs, true),
        ("conversations", |p| Some(p.conversations as f64), false),
    ];
    for (label, measure, is_time) in rows {
        let mut spans = vec![Span::styled(
            text::fit(&format!(" {label}"), w.label),
            theme.style(Role::Text),
        )];
        for (current, previous) in [
            (&snapshot.today, &snapshot.yesterday),
            (&snapshot.last_7_days, &snapshot.previous_7_days),
        ] {
            let (now, before) = (measure(current), measure(previous));
            let shown = |value: Option<f64>| {
                if is_time {
                    seconds(value)
                } else {
                    format::count(value.unwrap_or(0.0) as i64)
                }
            };
            let delta = change(now, before);
            // Shorter times are better; a count is neither good nor bad.
            let role = match delta {
                Some(d) if is_time && d <= -0.5 => Role::Ok,
                Some(d) if is_time && d >= 0.5 => Role::Warn,
                _ => Role::Dim,
            };
            spans.push(Span::styled(
                text::fit_right(&shown(now), w.current),
                theme.style(Role::Title),
            ));
            spans.push(Span::styled(
                text::fit_right(&shown(before), w.previous),
                theme.style(Role::Text),
            ));
            spans.push(Span::styled(
                text::fit_right(&change_text(delta), w.change),
                theme.style(role),
            ));
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn agents(state: &State, frame: &mut Frame, area: Rect, snapshot: &TeamSnapshot) {
    let theme = &state.theme;
    let team = &state.team;
    let visible = (area.height as usize).saturating_sub(3);
    let total = snapshot.agents.len();
    let footer = if total > visible {
        format!(
            " {}–{} of {total} ",
            team.offset + 1,
            (team.offset + visible).min(total)
        )
    } else {
        format!(" {total} ")
    };
    let width = area.width.saturating_sub(2) as usize;
    // Each member's day so far, when the panel is wide enough to keep the load bar readable.
    let (replied, first, resolved) = if width >= 100 { (9, 14, 10) } else { (0, 0, 0) };
    let title = if replied > 0 {
        " Agents · open conversations now · their day so far (UTC) "
    } else {
        " Agents · open conversations "
    };
    let block = panel(state, title)
        .border_style(theme.style(Role::BorderFocus))
        .title_bottom(Line::styled(footer, theme.style(Role::Dim)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let name = if width >= 100 { 26 } else { 18 };
    let (role, open, unattended) = (8, 6, 12);
    let bar = width
        .saturating_sub(1 + name + role + open + 2 + unattended + replied + first + resolved + 1);
    let mut header = format!(
        " {}{}{}  {}{}",
        text::fit("name", name),
        text::fit("role", role),
        text::fit_right("open", open),
        " ".repeat(bar),
        text::fit_right("unattended", unattended)
    );
    if replied > 0 {
        header.push_str(&text::fit_right("replied", replied));
        header.push_str(&text::fit_right("1st response", first));
        header.push_str(&text::fit_right("resolved", resolved));
    }
    let mut lines = vec![Line::styled(header, theme.style(Role::Dim))];
    if snapshot.agents.is_empty() {
        lines.push(Line::styled(
            " no members in this workspace",
            theme.style(Role::Dim),
        ));
    }
    let most = snapshot
        .agents
        .iter()
        .map(|a| a.open)
        .max()
        .unwrap_or(0)
        .max(1);
    for agent in snapshot.agents.iter().skip(team.offset).take(visible) {
        let mut spans = vec![
            Span::styled(
                format!(" {}", text::fit(&agent.name, name.saturating_sub(1))),
                theme.style(Role::Text),
            ),
            Span::raw(" "),
            Span::styled(text::fit(agent.role.as_str(), role), theme.style(Role::Dim)),
            Span::styled(
                text::fit_right(&format::count(agent.open), open),
                theme.style(Role::Title),
            ),
            Span::raw("  "),
            Span::styled(
                format::bar(agent.open as f64 / most as f64, bar),
                theme.style(Role::Accent),
            ),
            Span::styled(
                text::fit_right(&format::count(agent.unattended), unattended),
                theme.style(if agent.unattended > 0 {
                    Role::Warn
                } else {
                    Role::Dim
                }),
            ),
        ];
        if replied > 0 {
            spans.extend([
                Span::styled(
                    text::fit_right(&format::count(agent.replied_today), replied),
                    theme.style(Role::Text),
                ),
                Span::styled(
                    text::fit_right(&seconds(agent.first_response_today_secs), first),
                    theme.style(Role::Text),
                ),
                Span::styled(
                    text::fit_right(&format::count(agent.resolved_today), resolved),
                    theme.style(Role::Text),
                ),
            ]);
        }
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_as_signed_percentages() {
        assert_eq!(change_text(change(Some(250.0), Some(385.0))), "−35%");
        assert_eq!(change_text(change(Some(3720.0), Some(3450.0))), "+8%");
        assert_eq!(change_text(change(Some(10.0), Some(10.0))), "±0%");
        assert_eq!(change_text(change(Some(10.0), None)), "—");
        assert_eq!(change_text(change(Some(10.0), Some(0.0))), "—");
        assert_eq!(seconds(Some(250.4)), "4m 10s");
        assert_eq!(seconds(None), "—");
    }
}
