//! The conversation list: two lines per conversation, unread first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::{format, text};
use crate::domain::{CustomerWindow, MessageStatus};
use crate::store::inbox::{InboxFilter, InboxRow};
use crate::tui::state::{Focus, State};
use crate::tui::theme::Role;

pub fn draw(state: &State, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let inbox = &state.inbox;
    let counts = inbox.counts;
    let focused = state.focus == Focus::List && state.overlay.is_none();
    let position = if inbox.rows.is_empty() {
        "0".to_string()
    } else {
        let more = if inbox.complete { "" } else { "+" };
        format!("{}/{}{more}", inbox.selected + 1, inbox.rows.len())
    };
    let mut footer = format!(" {position} · {}", filter_label(&inbox.query.filter));
    if let Some(search) = &inbox.query.search {
        footer.push_str(&format!(" · “{search}”"));
    }
    if inbox.loading && inbox.rows.is_empty() {
        footer.push_str(" · loading…");
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(if focused {
            Role::BorderFocus
        } else {
            Role::Border
        }))
        .title(Line::styled(
            format!(
                " Conversations · mine {} · unassigned {} · open {} ",
                counts.mine, counts.unassigned, counts.open
            ),
            theme.style(Role::Title),
        ))
        .title_bottom(Line::styled(format!("{footer} "), theme.style(Role::Dim)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width as usize;
    let visible = (inner.height / super::layout::ROW_HEIGHT) as usize;
    let mut lines: Vec<Line> = Vec::new();
    if inbox.rows.is_empty() && !inbox.loading {
        lines.push(Line::styled(
            if inbox.query.search.is_some() || inbox.query.filter != InboxFilter::All {
                " Nothing matches. f changes the filter, / the search."
            } else {
                " No conversations yet: they appear here as customers write in."
            },
            theme.style(Role::Dim),
        ));
    }
    for (index, row) in inbox
        .rows
        .iter()
        .enumerate()
        .skip(inbox.offset)
        .take(visible)
    {
        let [first, second] = row_lines(state, row, width);
        let selected = index == inbox.selected;
        let style = if selected {
            theme.style(Role::Selected)
        } else {
            ratatui::style::Style::default()
        };
        lines.push(first.patch_style(style));
        lines.push(second.patch_style(style));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

pub fn filter_label(filter: &InboxFilter) -> String {
    match filter {
        InboxFilter::All => "all".into(),
        InboxFilter::Mine(_) => "mine".into(),
        InboxFilter::Unassigned => "unassigned".into(),
        InboxFilter::Open => "open".into(),
        InboxFilter::Closed => "closed".into(),
        InboxFilter::Expired => "window closed".into(),
        InboxFilter::Tag(tag) => format!("#{tag}"),
    }
}

fn row_lines(state: &State, row: &InboxRow, width: usize) -> [Line<'static>; 2] {
    let theme = &state.theme;
    let unread = row.unread_count > 0;
    let name = row
        .contact_name
        .clone()
        .or_else(|| row.wa_id.as_ref().map(|w| format!("+{w}")))
        .unwrap_or_else(|| "unknown".into());
    let mut left = vec![
        Span::styled(
            if unread { " ● " } else { "   " },
            theme.style(Role::Unread),
        ),
        Span::styled(
            name,
            theme.style(if unread { Role::Unread } else { Role::Text }),
        ),
    ];
    if !row.tags.is_empty() {
        left.push(Span::styled(
            format!(
                " {}",
                row.tags
                    .iter()
                    .map(|t| format!("#{t}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            theme.style(Role::Tag),
        ));
    }
    let mut right = Vec::new();
    if unread {
        right.push(Span::styled(
            format!("{}  ", row.unread_count),
            theme.style(Role::Unread),
        ));
    }
    right.push(Span::styled(
        row.last_message_at
            .map(|at| format::list_time(at, state.now))
            .unwrap_or_default(),
        theme.style(Role::Dim),
    ));
    right.push(Span::raw(" "));
    let first = text::spread(left, right, width);

    let mut left = vec![Span::raw("   ")];
    if row.last_direction.as_deref() == Some("OUTBOUND")
        && let Some(status) = row.last_status
    {
        if status == MessageStatus::Failed {
            left.push(Span::styled(
                format!(
                    "✗ {} ",
                    row.last_error_code
                        .map(|c| c.to_string())
                        .unwrap_or_default()
                ),
                theme.style(Role::Error),
            ));
        } else {
            left.push(Span::styled(
                format!("{} ", format::tick(status)),
                theme.style(if status.rank() >= MessageStatus::Read.rank() {
                    Role::TickRead
                } else {
                    Role::Dim
                }),
            ));
        }
    }
    left.push(Span::styled(
        row.last_message_preview.clone().unwrap_or_default(),
        theme.style(Role::Dim),
    ));
    let window = CustomerWindow::at(row.window_expires_at, state.now);
    let window_role = match window {
        CustomerWindow::Open(_) => Role::WindowOpen,
        CustomerWindow::Closing(_) => Role::WindowClosing,
        _ => Role::WindowClosed,
    };
    let mut right = Vec::new();
    if row.status == "CLOSED" {
        right.push(Span::styled("resolved  ", theme.style(Role::Dim)));
    }
    right.push(Span::styled(
        format::window_label(window),
        theme.style(window_role),
    ));
    if let Some(assignee) = &row.assignee_name {
        right.push(Span::styled(
            format!("  @{}", text::truncate(first_word(assignee), 10)),
            theme.style(Role::Accent),
        ));
    }
    right.push(Span::raw(" "));
    [first, text::spread(left, right, width)]
}

fn first_word(name: &str) -> &str {
    let name = name.split('@').next().unwrap_or(name);
    name.split_whitespace().next().unwrap_or(name)
}
