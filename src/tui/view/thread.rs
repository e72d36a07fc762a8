//! The open conversation: its header, the messages from the newest backwards, and the composer.

use chrono::{DateTime, Local, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::{format, text};
use crate::domain::{CustomerWindow, MessageStatus};
use crate::store::thread::{Entry, Header, ThreadMessage};
use crate::tui::state::{Focus, State, Thread};
use crate::tui::theme::{Role, Theme};

pub fn draw(state: &State, frame: &mut Frame, pane: Rect, composer: Option<Rect>) {
    let Some(thread) = &state.thread else {
        return;
    };
    let theme = &state.theme;
    let messages_area = match composer {
        Some(c) => Rect::new(pane.x, pane.y, pane.width, pane.height - c.height),
        None => pane,
    };
    let focused = state.focus == Focus::Thread && state.overlay.is_none();
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(if focused {
            Role::BorderFocus
        } else {
            Role::Border
        }));
    if let Some(header) = &thread.header {
        let window = CustomerWindow::at(header.window_expires_at, state.now);
        let title = title_spans(header, theme, messages_area.width as usize, window);
        block = block.title(Line::from(title));
    } else {
        block = block.title(Line::styled(" loading… ", theme.style(Role::Dim)));
    }
    if thread.loading_older {
        block = block.title_bottom(Line::styled(" loading older… ", theme.style(Role::Dim)));
    }
    let inner = block.inner(messages_area);
    frame.render_widget(block, messages_area);
    let lines = visible_lines(state, thread, inner.width as usize, inner.height as usize);
    frame.render_widget(Paragraph::new(lines), inner);
    if let Some(area) = composer {
        super::composer::draw(state, frame, area);
    }
}

fn title_spans(
    header: &Header,
    theme: &Theme,
    width: usize,
    window: CustomerWindow,
) -> Vec<Span<'static>> {
    let contact = &header.contact;
    let name = contact
        .name
        .clone()
        .or_else(|| contact.profile_name.clone())
        .unwrap_or_else(|| "unknown".into());
    let mut left = vec![Span::styled(format!(" {name}"), theme.style(Role::Title))];
    if let Some(wa_id) = &contact.wa_id {
        left.push(Span::styled(format!(" · +{wa_id}"), theme.style(Role::Dim)));
    }
    if !contact.tags.is_empty() {
        let tags: Vec<String> = contact.tags.iter().map(|t| format!("#{t}")).collect();
        left.push(Span::styled(
            format!(" · {}", tags.join(" ")),
            theme.style(Role::Tag),
        ));
    }
    if let Some(assignee) = &header.assignee_name {
        left.push(Span::styled(
            format!(" · @{assignee}"),
            theme.style(Role::Accent),
        ));
    }
    if header.status == "CLOSED" {
        left.push(Span::styled(" · resolved", theme.style(Role::Dim)));
    }
    let window_role = match window {
        CustomerWindow::Open(_) => Role::WindowOpen,
        CustomerWindow::Closing(_) => Role::WindowClosing,
        _ => Role::WindowClosed,
    };
    let right = vec![Span::styled(
        format!(" {} ", format::window_title(window)),
        theme.style(window_role),
    )];
    text::spread(left, right, width.saturating_sub(2)).spans
}

/// The lines that fit: the focused entry stays in view, with as many newer entries below it as
/// fit and older ones above.
fn visible_lines(
    state: &State,
    thread: &Thread,
    width: usize,
    height: usize,
) -> Vec<Line<'static>> {
    let Some(anchor) = thread.focused_index() else {
        let text = if thread.loading {
            " loading…"
        } else {
            " No messages yet."
        };
        return vec![Line::styled(text, state.theme.style(Role::Dim))];
    };
    let render = |i: usize| {
        let previous = i.checked_sub(1).and_then(|p| thread.entries.get(p));
        entry_lines(
            state,
            &thread.entries[i],
            previous,
            width,
            thread.selected == Some(i),
        )
    };
    let mut below: Vec<Vec<Line>> = Vec::new();
    let mut used = 0;
    for i in anchor..thread.entries.len() {
        let lines = render(i);
        if used + lines.len() > height && i > anchor {
            break;
        }
        used += lines.len();
        below.push(lines);
    }
    let mut above: Vec<Vec<Line>> = Vec::new();
    for i in (0..anchor).rev() {
        if used >= height {
            break;
        }
        let lines = render(i);
        used += lines.len();
        above.push(lines);
    }
    if !thread.complete && used < height {
        above.push(vec![Line::styled(
            "   k loads older messages",
            state.theme.style(Role::Dim),
        )]);
    }
    let mut lines: Vec<Line> = above.into_iter().rev().flatten().collect();
    lines.extend(below.into_iter().flatten());
    // Bottom-aligned: cut from the top when the anchor's entry is taller than the pane.
    if lines.len() > height {
        lines.drain(..lines.len() - height);
    } else {
        let pad = height - lines.len();
        let mut padded = vec![Line::raw(""); pad];
        padded.extend(lines);
        lines = padded;
    }
    lines
}

fn entry_lines(
    state: &State,
    entry: &Entry,
    previous: Option<&Entry>,
    width: usize,
    selected: bool,
) -> Vec<Line<'static>> {
    let theme = &state.theme;
    let mut lines = Vec::new();
    let day = |at: DateTime<Utc>| at.with_timezone(&Local).date_naive();
    if previous.is_none_or(|p| day(p.created_at()) != day(entry.created_at())) {
        let label = entry
            .created_at()
            .with_timezone(&Local)
            .format(" %a %d %b %Y ")
            .to_string();
        let side = width.saturating_sub(text::width(&label)) / 2;
        lines.push(Line::styled(
            format!("{}{label}{}", "─".repeat(side), "─".repeat(side)),
            theme.style(Role::Dim),
        ));
    }
    let marker = if selected { "▶ " } else { "  " };
    match entry {
        Entry::Note(note) => {
            let author = note.author_name.clone().unwrap_or_else(|| "someone".into());
            lines.push(Line::from(vec![
                Span::styled(marker, theme.style(Role::Accent)),
                Span::styled(
                    format!(
                        "📝 note · {author} · {}",
                        format::thread_time(note.created_at, state.now)
                    ),
                    theme.style(Role::Note),
                ),
            ]));
            for line in text::wrap(&note.body, width.saturating_sub(4)) {
                lines.push(Line::styled(format!("    {line}"), theme.style(Role::Note)));
            }
        }
        Entry::Message(message) => message_lines(state, message, width, marker, &mut lines),
    }
    lines.push(Line::raw(""));
    if selected {
        for line in &mut lines {
            if line.spans.is_empty() || line.to_string().trim().is_empty() {
                continue;
            }
            *line = line.clone().patch_style(theme.style(Role::Selected));
        }
    }
    lines
}

fn message_lines(
    state: &State,
    message: &ThreadMessage,
    width: usize,
    marker: &'static str,
    lines: &mut Vec<Line<'static>>,
) {
    let theme = &state.theme;
    let outbound = message.direction == "OUTBOUND";
    let bubble = (width * 3 / 4).max(20).min(width.saturating_sub(2));
    let role = if outbound {
        Role::Outbound
    } else {
        Role::Inbound
    };
    let at = message.wa_timestamp.unwrap_or(message.created_at);
    let mut meta = vec![Span::styled(
        format::thread_time(at, state.now),
        theme.style(Role::Dim),
    )];
    if outbound {
        if let Some(name) = &message.sent_by_name {
            meta.insert(
                0,
                Span::styled(format!("{name} · "), theme.style(Role::Dim)),
            );
        }
        let tick = format::tick(message.status);
        if !tick.is_empty() {
            let tick_role = match message.status {
                MessageStatus::Read | MessageStatus::Played => Role::TickRead,
                MessageStatus::Failed => Role::Error,
                _ => Role::Dim,
            };
            meta.push(Span::styled(format!(" {tick}"), theme.style(tick_role)));
        }
    }
    if message.edited_at.is_some() {
        meta.push(Span::styled(" (edited)", theme.style(Role::Dim)));
    }
    if message.kind == "template" || message.rendered_text.is_some() && outbound {
        meta.push(Span::styled(
            format!(" [template {}]", template_name(message)),
            theme.style(Role::Dim),
        ));
    }
    let mut body: Vec<Line<'static>> = Vec::new();
    if let Some(quoted) = &message.quoted {
        let quoted_text = quoted
            .rendered_text
            .clone()
            .unwrap_or_else(|| crate::cloud_api::webhook::parse_content(&quoted.content).preview());
        let who = if quoted.direction == "OUTBOUND" {
            "you"
        } else {
            "them"
        };
        body.push(Line::styled(
            text::truncate(&format!("│ ↪ {who}: {quoted_text}"), bubble),
            theme.style(Role::Dim),
        ));
    }
    let content = if message.revoked_at.is_some() {
        "🚫 This message was deleted".to_string()
    } else {
        format::message_text(message)
    };
    for line in text::wrap(&content, bubble) {
        body.push(Line::styled(line, theme.style(role)));
    }
    if !message.reactions.is_empty() {
        let marks: Vec<String> = message.reactions.iter().map(|r| r.emoji.clone()).collect();
        body.push(Line::styled(marks.join(" "), theme.style(Role::Text)));
    }
    if message.status == MessageStatus::Failed {
        let reason = format::failure(
            message.error_code,
            message.error_title.as_deref(),
            message.error_details.as_deref(),
        );
        for line in text::wrap(&format!("✗ {reason}"), bubble) {
            body.push(Line::styled(line, theme.style(Role::Error)));
        }
    }
    let meta_line = Line::from(meta);
    if outbound {
        // Right-aligned: each line padded to end at the right edge (the marker takes 2 cells).
        let pad = |used: usize| Span::raw(" ".repeat(width.saturating_sub(used)));
        let mut first = vec![
            Span::styled(marker, theme.style(Role::Accent)),
            pad(text::width(&meta_line.to_string()) + 2),
        ];
        first.extend(meta_line.spans);
        lines.push(Line::from(first));
        for line in body {
            let mut spans = vec![pad(text::width(&line.to_string()))];
            spans.extend(line.spans);
            lines.push(Line::from(spans));
        }
    } else {
        let mut first = vec![Span::styled(marker, theme.style(Role::Accent))];
        first.extend(meta_line.spans);
        lines.push(Line::from(first));
        lines.extend(body.into_iter().map(|line| {
            let mut spans = vec![Span::styled("  ", Style::default())];
            spans.extend(line.spans);
            Line::from(spans)
        }));
    }
}

fn template_name(message: &ThreadMessage) -> String {
    message
        .content
        .pointer("/template/name")
        .and_then(|n| n.as_str())
        .unwrap_or("template")
        .to_string()
}
