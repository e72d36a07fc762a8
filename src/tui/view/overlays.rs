//! What covers the screen for a moment: help, prompts, the template form, pickers, the contact
//! panel, and the workspace picker.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::layout::Areas;
use super::text;
use crate::domain::Move;
use crate::domain::template;
use crate::tui::keymap::{Command, View};
use crate::tui::state::{Confirm, Overlay, State, TemplateForm};
use crate::tui::theme::Role;

pub fn draw(state: &State, frame: &mut Frame, areas: &Areas) {
    match &state.overlay {
        None => {}
        Some(Overlay::Help(view)) => help(state, frame, *view),
        Some(Overlay::Prompt(prompt, input)) => {
            let line = Line::from(vec![
                Span::styled(
                    if prompt.label() == ":" {
                        ":".to_string()
                    } else {
                        format!(" {}: ", prompt.label())
                    },
                    state.theme.style(Role::Accent),
                ),
                Span::styled(input.text.clone(), state.theme.style(Role::Text)),
                Span::styled("▏", state.theme.style(Role::Accent)),
            ]);
            frame.render_widget(Paragraph::new(line), areas.bottom);
        }
        Some(Overlay::Templates(form)) => templates(state, frame, form),
        Some(Overlay::Members {
            members, selected, ..
        }) => {
            let items: Vec<String> = members
                .iter()
                .map(|m| {
                    format!(
                        "{} <{}> {}",
                        m.name.clone().unwrap_or_default(),
                        m.email,
                        m.role
                    )
                })
                .collect();
            list(
                state,
                frame,
                " Assign to ",
                &items,
                *selected,
                members.is_empty(),
            );
        }
        Some(Overlay::Canned {
            replies,
            filter,
            selected,
        }) => {
            let items: Vec<String> = replies
                .iter()
                .filter(|r| r.code.starts_with(filter.text.as_str()))
                .map(|r| format!("{:<12} {}", r.code, r.body.replace('\n', " ")))
                .collect();
            let title = format!(" Canned replies · code: {}▏ ", filter.text);
            list(state, frame, &title, &items, *selected, replies.is_empty());
        }
        Some(Overlay::Contact) => contact(state, frame),
        Some(Overlay::Confirm(confirm)) => confirmation(state, frame, confirm),
    }
}

/// The question before a move that cannot be undone, with its two answers' keys.
fn confirmation(state: &State, frame: &mut Frame, confirm: &Confirm) {
    let theme = &state.theme;
    let width = frame.area().width.saturating_sub(8).min(64);
    let what = match confirm.movement {
        Move::Cancel => format!(
            "“{}” stops for good: recipients not sent yet never get it; what was sent stays sent.",
            confirm.name
        ),
        other => format!("{} “{}”?", other.verb(), confirm.name),
    };
    let mut lines: Vec<Line> = text::wrap(&what, width.saturating_sub(4) as usize)
        .into_iter()
        .map(|line| Line::styled(format!(" {line}"), theme.style(Role::Text)))
        .collect();
    lines.push(Line::raw(""));
    let key = |command| {
        state
            .keymap
            .keys(View::Confirm, command)
            .first()
            .map_or_else(|| command.name().to_string(), ToString::to_string)
    };
    lines.push(Line::from(vec![
        Span::styled(
            format!(" {} ", key(Command::Confirm)),
            theme.style(Role::Accent),
        ),
        Span::styled(
            format!("yes, {} it", confirm.movement.verb()),
            theme.style(Role::Text),
        ),
        Span::styled("   ", theme.style(Role::Dim)),
        Span::styled(
            format!("{} ", key(Command::Back)),
            theme.style(Role::Accent),
        ),
        Span::styled("no, leave it", theme.style(Role::Text)),
    ]));
    let area = centered(frame, width, lines.len() as u16 + 2);
    frame.render_widget(Clear, area);
    let title = match confirm.movement {
        Move::Cancel => " Cancel the campaign? ".to_string(),
        other => format!(" {} the campaign? ", other.verb()),
    };
    frame.render_widget(Paragraph::new(lines).block(panel(state, &title)), area);
}

fn centered(frame: &Frame, width: u16, height: u16) -> Rect {
    let area = frame.area();
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}

fn panel(state: &State, title: &str) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(state.theme.style(Role::BorderFocus))
        .title(Line::styled(
            title.to_string(),
            state.theme.style(Role::Title),
        ))
}

fn help(state: &State, frame: &mut Frame, view: crate::tui::keymap::View) {
    let bindings = state.keymap.bindings(view);
    let entries: Vec<(String, &str)> = bindings
        .iter()
        .filter(|(command, _)| state.offers(*command))
        .map(|(command, keys)| {
            let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
            (keys.join(" "), command.describe())
        })
        .collect();
    // One column when it fits the screen, else two side by side.
    let room = frame.area().height.saturating_sub(4) as usize;
    let columns = if entries.len() > room { 2 } else { 1 };
    let per_column = entries.len().div_ceil(columns).max(1);
    let width = if columns == 2 { 78 } else { 64 };
    let area = centered(frame, width, per_column as u16 + 2);
    frame.render_widget(Clear, area);
    let block = panel(state, &format!(" Keys · {view:?} · any key closes "));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let column_width = inner.width as usize / columns;
    let key_width = if columns == 2 { 12 } else { 18 };
    for (index, chunk) in entries.chunks(per_column).enumerate() {
        let lines: Vec<Line> = chunk
            .iter()
            .map(|(keys, describe)| {
                Line::from(vec![
                    Span::styled(
                        format!(" {:<key_width$}", text::truncate(keys, key_width - 1)),
                        state.theme.style(Role::Accent),
                    ),
                    Span::styled(
                        text::truncate_words(describe, column_width.saturating_sub(key_width + 2)),
                        state.theme.style(Role::Text),
                    ),
                ])
            })
            .collect();
        let x = inner.x + (index * column_width) as u16;
        let column = Rect::new(x, inner.y, column_width as u16, inner.height);
        frame.render_widget(Paragraph::new(lines), column);
    }
}

fn list(
    state: &State,
    frame: &mut Frame,
    title: &str,
    items: &[String],
    selected: usize,
    loading: bool,
) {
    let area = centered(frame, 70, 14);
    frame.render_widget(Clear, area);
    let width = area.width.saturating_sub(4) as usize;
    let height = area.height.saturating_sub(2) as usize;
    let offset = selected.saturating_sub(height.saturating_sub(1));
    let lines: Vec<Line> = if items.is_empty() {
        vec![Line::styled(
            if loading {
                " loading…"
            } else {
                " nothing here"
            },
            state.theme.style(Role::Dim),
        )]
    } else {
        items
            .iter()
            .enumerate()
            .skip(offset)
            .take(height)
            .map(|(i, item)| {
                let line = Line::raw(format!(" {}", text::truncate(item, width)));
                if i == selected {
                    line.style(state.theme.style(Role::Selected))
                } else {
                    line
                }
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines).block(panel(state, title)), area);
}

fn templates(state: &State, frame: &mut Frame, form: &TemplateForm) {
    let theme = &state.theme;
    let area = centered(frame, frame.area().width.saturating_sub(4).min(100), 18);
    frame.render_widget(Clear, area);
    let width = area.width.saturating_sub(4) as usize;
    let mut lines = Vec::new();
    if form.loading {
        lines.push(Line::styled(" loading templates…", theme.style(Role::Dim)));
    } else if form.templates.is_empty() {
        lines.push(Line::styled(
            " This number has no APPROVED template. `treeex template sync` fetches them.",
            theme.style(Role::Warn),
        ));
    }
    let start = form.selected.saturating_sub(3);
    for (i, t) in form.templates.iter().enumerate().skip(start).take(5) {
        let line = Line::raw(format!(
            " {} {} ({}, {})",
            if i == form.selected { "▸" } else { " " },
            t.name,
            t.language,
            t.category
        ));
        lines.push(if i == form.selected {
            line.style(theme.style(Role::Selected))
        } else {
            line
        });
    }
    if let Some(chosen) = form.template() {
        lines.push(Line::raw(""));
        for (i, value) in form.values.iter().enumerate() {
            let focused = form.field == Some(i);
            lines.push(Line::from(vec![
                Span::styled(
                    format!("   {{{{{}}}}}  ", i + 1),
                    theme.style(if focused { Role::Accent } else { Role::Dim }),
                ),
                Span::styled(value.clone(), theme.style(Role::Text)),
                Span::styled(if focused { "▏" } else { "" }, theme.style(Role::Accent)),
            ]));
        }
        let filled: Vec<String> = form
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                if v.is_empty() {
                    format!("{{{{{}}}}}", i + 1)
                } else {
                    v.clone()
                }
            })
            .collect();
        let preview = template::render(&chosen.components, &filled);
        lines.push(Line::raw(""));
        lines.push(Line::styled(" Preview:", theme.style(Role::Dim)));
        for line in text::wrap(&preview, width.saturating_sub(2)) {
            lines.push(Line::styled(
                format!("  {line}"),
                theme.style(Role::Outbound),
            ));
        }
    }
    let title = format!(
        " Template · {} ",
        state.keymap.hints(
            crate::tui::keymap::View::Templates,
            &[
                crate::tui::keymap::Command::MoveDown,
                crate::tui::keymap::Command::NextField,
                crate::tui::keymap::Command::Send,
                crate::tui::keymap::Command::Back
            ]
        )
    );
    frame.render_widget(
        Paragraph::new(lines)
            .block(panel(state, &title))
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn contact(state: &State, frame: &mut Frame) {
    let theme = &state.theme;
    let Some(header) = state.thread.as_ref().and_then(|t| t.header.as_ref()) else {
        return;
    };
    let card = &header.contact;
    let area = centered(frame, 60, 18);
    frame.render_widget(Clear, area);
    let field = |label: &str, value: String| {
        Line::from(vec![
            Span::styled(format!(" {label:<12}"), theme.style(Role::Dim)),
            Span::styled(value, theme.style(Role::Text)),
        ])
    };
    let mut lines = vec![
        field("name", card.name.clone().unwrap_or_else(|| "—".into())),
        field(
            "profile",
            card.profile_name.clone().unwrap_or_else(|| "—".into()),
        ),
        field(
            "number",
            card.wa_id.as_ref().map_or("—".into(), |w| format!("+{w}")),
        ),
        field(
            "opted in",
            match (card.opted_in, card.opted_out_at) {
                (true, _) => "yes".into(),
                (false, Some(at)) => format!("no (opted out {})", at.format("%Y-%m-%d")),
                (false, None) => "no".into(),
            },
        ),
        field(
            "tags",
            if card.tags.is_empty() {
                "—".into()
            } else {
                card.tags.join(", ")
            },
        ),
    ];
    if let Some(fields) = card.custom_fields.as_object() {
        for (key, value) in fields {
            let value = value
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| value.to_string());
            lines.push(field(key, value));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(" Recent campaigns", theme.style(Role::Title)));
    if card.recent_campaigns.is_empty() {
        lines.push(Line::styled("   none", theme.style(Role::Dim)));
    }
    for campaign in &card.recent_campaigns {
        lines.push(Line::raw(format!(
            "   {} · {}{}",
            campaign.name,
            campaign.status,
            campaign
                .at
                .map(|at| format!(" · {}", at.format("%Y-%m-%d")))
                .unwrap_or_default()
        )));
    }
    let commands: Vec<_> = [
        crate::tui::keymap::Command::ToggleOptIn,
        crate::tui::keymap::Command::Tag,
        crate::tui::keymap::Command::Back,
    ]
    .into_iter()
    .filter(|c| state.offers(*c))
    .collect();
    let title = format!(
        " Contact · {} ",
        state
            .keymap
            .hints(crate::tui::keymap::View::Contact, &commands)
    );
    frame.render_widget(Paragraph::new(lines).block(panel(state, &title)), area);
}

/// The workspace picker: the workspaces the user is a member of.
pub fn picker(state: &State, frame: &mut Frame, _area: Rect) {
    let items: Vec<String> = state
        .picker
        .memberships
        .iter()
        .map(|m| {
            format!(
                "{:<24} {:<20} {}",
                m.workspace.name, m.workspace.slug, m.role
            )
        })
        .collect();
    list(
        state,
        frame,
        " Choose a workspace ",
        &items,
        state.picker.selected,
        false,
    );
}
