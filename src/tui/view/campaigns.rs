//! The campaign tab: the list of the workspace's campaigns, and one campaign's dashboard
//! (header, progress, funnel, send rate, failure reasons, a page of recipients).

use chrono::{DateTime, Duration, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Sparkline};

use super::format;
use super::layout::{self, DashboardAreas};
use super::text::{self, Part};
use crate::domain::CampaignStatus;
use crate::store::campaign_views::{Dashboard, RATE_WINDOW_SECS, RecipientFilter, RecipientRow};
use crate::store::campaigns::Campaign;
use crate::tui::keymap::{Command, View};
use crate::tui::state::{CampaignDashboard, State};
use crate::tui::theme::Role;

/// From this width the list is a table with a column per counter; below, each campaign takes
/// two lines.
pub const TABLE_WIDTH: u16 = 100;
/// The seconds before the last read over which the current send rate is measured.
const RATE_SECS: i64 = 30;

pub fn draw(state: &State, frame: &mut Frame, area: Rect) {
    match &state.campaigns.dashboard {
        Some(dashboard) => draw_dashboard(state, frame, area, dashboard),
        None => list(state, frame, area),
    }
}

fn block(state: &State, title: Line<'static>) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(state.theme.style(Role::Border))
        .title(title)
}

fn title(state: &State, text: String) -> Line<'static> {
    Line::styled(text, state.theme.style(Role::Title))
}

pub fn status_role(status: CampaignStatus) -> Role {
    match status {
        CampaignStatus::Running => Role::Ok,
        CampaignStatus::Paused | CampaignStatus::Scheduled => Role::Warn,
        CampaignStatus::Cancelled => Role::Error,
        CampaignStatus::Draft | CampaignStatus::Completed => Role::Dim,
    }
}

/// Recipients with a final answer: sent (or beyond), failed or skipped.
fn done(campaign: &Campaign) -> i64 {
    i64::from(campaign.sent_count)
        + i64::from(campaign.failed_count)
        + i64::from(campaign.skipped_count)
}

fn share(part: i64, whole: i64) -> f64 {
    if whole > 0 {
        part as f64 / whole as f64
    } else {
        0.0
    }
}

// ---------------------------------------------------------------------------------------------
// The list

fn list(state: &State, frame: &mut Frame, area: Rect) {
    let theme = &state.theme;
    let campaigns = &state.campaigns;
    let position = if campaigns.rows.is_empty() {
        "0".to_string()
    } else {
        format!("{}/{}", campaigns.selected + 1, campaigns.rows.len())
    };
    let footer = if campaigns.loaded {
        format!(" {position} ")
    } else {
        " loading… ".to_string()
    };
    let frame_block = block(
        state,
        title(state, format!(" Campaigns · {} ", campaigns.rows.len())),
    )
    .border_style(theme.style(Role::BorderFocus))
    .title_bottom(Line::styled(footer, theme.style(Role::Dim)));
    let inner = frame_block.inner(area);
    frame.render_widget(frame_block, area);
    let width = inner.width as usize;
    let table = area.width >= TABLE_WIDTH;
    let mut lines: Vec<Line> = Vec::new();
    if campaigns.rows.is_empty() {
        if campaigns.loaded {
            lines.push(Line::styled(
                " No campaigns yet: `treeex campaign create` defines one.",
                theme.style(Role::Dim),
            ));
        }
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    let visible = layout::campaign_rows(state);
    if table {
        lines.push(Line::styled(
            table_row(&TableCells::titles(), width),
            theme.style(Role::Dim),
        ));
    }
    for (index, campaign) in campaigns
        .rows
        .iter()
        .enumerate()
        .skip(campaigns.offset)
        .take(visible)
    {
        let style = if index == campaigns.selected {
            theme.style(Role::Selected)
        } else {
            Style::default()
        };
        if table {
            lines.push(table_line(state, campaign, width).patch_style(style));
        } else {
            for line in two_lines(state, campaign, width) {
                lines.push(line.patch_style(style));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The cells of one table row, as text.
struct TableCells {
    name: String,
    status: String,
    progress: String,
    counters: [String; 6],
}

impl TableCells {
    fn titles() -> TableCells {
        TableCells {
            name: "name".into(),
            status: "status".into(),
            progress: "progress".into(),
            counters: ["sent", "delivered", "read", "replied", "failed", "skipped"]
                .map(str::to_string),
        }
    }

    fn of(campaign: &Campaign) -> TableCells {
        let total = i64::from(campaign.total_contacts);
        let share = share(done(campaign), total);
        TableCells {
            name: campaign.name.clone(),
            status: campaign.status.to_string(),
            progress: format!(
                "{} {:>4}",
                format::bar(share, 10),
                format::percent(done(campaign), total)
            ),
            counters: [
                campaign.sent_count,
                campaign.delivered_count,
                campaign.read_count,
                campaign.replied_count,
                campaign.failed_count,
                campaign.skipped_count,
            ]
            .map(|n| format::count(n.into())),
        }
    }
}

const STATUS: usize = 10;
const PROGRESS: usize = 16;
const COUNTER: usize = 10;

fn table_row(cells: &TableCells, width: usize) -> String {
    let name = width.saturating_sub(1 + STATUS + PROGRESS + 6 * COUNTER + 1);
    let mut row = format!(
        " {}{}{}",
        text::fit(&cells.name, name),
        text::fit(&format!(" {}", cells.status), STATUS),
        text::fit(&format!(" {}", cells.progress), PROGRESS)
    );
    for counter in &cells.counters {
        row.push_str(&text::fit_right(counter, COUNTER));
    }
    row.push(' ');
    row
}

fn table_line(state: &State, campaign: &Campaign, width: usize) -> Line<'static> {
    let theme = &state.theme;
    let cells = TableCells::of(campaign);
    let name = width.saturating_sub(1 + STATUS + PROGRESS + 6 * COUNTER + 1);
    let mut spans = vec![
        Span::raw(format!(" {}", text::fit(&cells.name, name))),
        Span::styled(
            text::fit(&format!(" {}", cells.status), STATUS),
            theme.style(status_role(campaign.status)),
        ),
        Span::styled(
            text::fit(&format!(" {}", cells.progress), PROGRESS),
            theme.style(Role::Accent),
        ),
    ];
    for (index, counter) in cells.counters.iter().enumerate() {
        let role = match index {
            4 if campaign.failed_count > 0 => Role::Error,
            _ => Role::Text,
        };
        spans.push(Span::styled(
            text::fit_right(counter, COUNTER),
            theme.style(role),
        ));
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

/// A campaign in two lines, for a narrow list: name, status and progress; then the counters.
fn two_lines(state: &State, campaign: &Campaign, width: usize) -> [Line<'static>; 2] {
    let theme = &state.theme;
    let total = i64::from(campaign.total_contacts);
    let first = text::spread(
        vec![Span::styled(
            format!(" {}", campaign.name),
            theme.style(Role::Unread),
        )],
        vec![
            Span::styled(
                format!("{}  ", campaign.status),
                theme.style(status_role(campaign.status)),
            ),
            Span::styled(
                format!(
                    "{} {:>4} ",
                    format::bar(share(done(campaign), total), 10),
                    format::percent(done(campaign), total)
                ),
                theme.style(Role::Accent),
            ),
        ],
        width,
    );
    let mut parts = Vec::new();
    for (index, (label, n)) in campaign.funnel().into_iter().enumerate() {
        parts.push(Part {
            separator: "  ",
            spans: vec![
                Span::styled(format!("{label} "), theme.style(Role::Dim)),
                Span::styled(
                    format::count(n.into()),
                    theme.style(if label == "failed" && n > 0 {
                        Role::Error
                    } else {
                        Role::Text
                    }),
                ),
            ],
            // The counters further down the funnel go first when the line is short.
            gives_way: index as u8,
        });
    }
    parts.insert(
        0,
        Part {
            separator: "",
            spans: vec![Span::raw(" ")],
            gives_way: 0,
        },
    );
    [first, text::parts(parts, width)]
}

// ---------------------------------------------------------------------------------------------
// The dashboard

fn draw_dashboard(state: &State, frame: &mut Frame, area: Rect, dashboard: &CampaignDashboard) {
    let areas = layout::dashboard(area);
    let data = dashboard.data.as_ref();
    let Some(campaign) = state.target_campaign() else {
        frame.render_widget(
            Paragraph::new(Line::styled(
                " Campaigns ▸ loading…",
                state.theme.style(Role::Dim),
            )),
            areas.header,
        );
        return;
    };
    header(state, frame, areas.header, campaign, data);
    progress(state, frame, &areas, campaign, data);
    funnel(state, frame, &areas, campaign);
    rate(state, frame, areas.rate, campaign, data);
    failures(state, frame, areas.failures, campaign, data);
    recipients(state, frame, areas.recipients, campaign, dashboard);
}

fn header(
    state: &State,
    frame: &mut Frame,
    area: Rect,
    campaign: &Campaign,
    data: Option<&Dashboard>,
) {
    let theme = &state.theme;
    let when = |label: &str, at: Option<DateTime<Utc>>| {
        at.map(|at| format!("{label} {}", format::thread_time(at, state.now)))
    };
    let moment = match campaign.status {
        CampaignStatus::Running => when("since", campaign.started_at),
        CampaignStatus::Paused => when("started", campaign.started_at),
        CampaignStatus::Completed | CampaignStatus::Cancelled => when("at", campaign.completed_at),
        CampaignStatus::Scheduled => when("for", campaign.scheduled_at),
        CampaignStatus::Draft => when("created", Some(campaign.created_at)),
    };
    let mut parts = vec![
        Part {
            separator: "",
            spans: vec![
                Span::styled(" Campaigns ▸ ", theme.style(Role::Dim)),
                Span::styled(campaign.name.clone(), theme.style(Role::Title)),
            ],
            gives_way: 0,
        },
        Part {
            separator: " · ",
            spans: vec![Span::styled(
                format!(
                    "{} ({}, {})",
                    campaign.template_name, campaign.template_category, campaign.template_language
                ),
                theme.style(Role::Text),
            )],
            gives_way: 3,
        },
        Part {
            separator: " · ",
            spans: vec![Span::styled(
                campaign.display_phone_number.clone(),
                theme.style(Role::Text),
            )],
            gives_way: 4,
        },
        Part {
            separator: " · ",
            spans: vec![Span::styled(
                campaign.status.to_string(),
                theme.style(status_role(campaign.status)),
            )],
            gives_way: 0,
        },
    ];
    if let Some(moment) = moment {
        parts.push(Part {
            separator: " ",
            spans: vec![Span::styled(moment, theme.style(Role::Text))],
            gives_way: 2,
        });
    }
    if let Some(by) = data.and_then(|d| d.created_by.clone()) {
        parts.push(Part {
            separator: " · ",
            spans: vec![Span::styled(format!("by {by}"), theme.style(Role::Dim))],
            gives_way: 5,
        });
    }
    frame.render_widget(
        Paragraph::new(text::parts(parts, area.width as usize)),
        area,
    );
}

/// Messages per second over the last `RATE_SECS` of the read, from the first send in them.
fn current_rate(data: &Dashboard) -> f64 {
    let since = data.as_of - Duration::seconds(RATE_SECS);
    let recent: Vec<_> = data.sends.iter().filter(|s| s.second > since).collect();
    let Some(first) = recent.first() else {
        return 0.0;
    };
    let span = (data.as_of - first.second)
        .num_seconds()
        .clamp(1, RATE_SECS);
    recent.iter().map(|s| f64::from(s.sent)).sum::<f64>() / span as f64
}

/// `ETA 1m 12s at 49.8/s`, or what the status says instead.
fn outlook(campaign: &Campaign, data: Option<&Dashboard>) -> String {
    let remaining = i64::from(campaign.total_contacts) - done(campaign);
    match campaign.status {
        CampaignStatus::Running => {
            let rate = data.map_or(0.0, current_rate);
            if remaining <= 0 {
                "finishing".into()
            } else if rate > 0.0 {
                let eta = Duration::seconds((remaining as f64 / rate).ceil() as i64);
                format!("ETA {} at {rate:.1}/s", format::elapsed(eta))
            } else {
                "waiting for the first sends".into()
            }
        }
        CampaignStatus::Paused => "paused".into(),
        CampaignStatus::Completed => match (campaign.started_at, campaign.completed_at) {
            (Some(start), Some(end)) => format!("done in {}", format::elapsed(end - start)),
            _ => "done".into(),
        },
        CampaignStatus::Cancelled => "cancelled".into(),
        CampaignStatus::Scheduled => "scheduled".into(),
        CampaignStatus::Draft => "not started".into(),
    }
}

fn progress(
    state: &State,
    frame: &mut Frame,
    areas: &DashboardAreas,
    campaign: &Campaign,
    data: Option<&Dashboard>,
) {
    let theme = &state.theme;
    let total = i64::from(campaign.total_contacts);
    let done = done(campaign);
    let figures = format!(
        "  {} / {}  {:>4}   {} ",
        format::count(done),
        format::count(total),
        format::percent(done, total),
        outlook(campaign, data)
    );
    let (inner, label) = if areas.compact {
        (areas.progress, " Progress ")
    } else {
        let frame_block = block(state, title(state, " Progress ".into()));
        let inner = frame_block.inner(areas.progress);
        frame.render_widget(frame_block, areas.progress);
        (inner, " ")
    };
    let room = (inner.width as usize).saturating_sub(text::width(label) + text::width(&figures));
    let line = Line::from(vec![
        Span::styled(label, theme.style(Role::Title)),
        Span::styled(
            format::bar(share(done, total), room),
            theme.style(Role::Accent),
        ),
        Span::styled(figures, theme.style(Role::Text)),
    ]);
    frame.render_widget(Paragraph::new(line), inner);
}

fn funnel(state: &State, frame: &mut Frame, areas: &DashboardAreas, campaign: &Campaign) {
    let theme = &state.theme;
    let frame_block = block(state, title(state, " Funnel ".into()));
    let inner = frame_block.inner(areas.funnel);
    frame.render_widget(frame_block, areas.funnel);
    let n = |v: i32| i64::from(v);
    let (sent, failed, total) = (
        n(campaign.sent_count),
        n(campaign.failed_count),
        n(campaign.total_contacts),
    );
    let mut stages = vec![
        ("sent", sent, sent, Role::Accent),
        ("delivered", n(campaign.delivered_count), sent, Role::Accent),
        ("read", n(campaign.read_count), sent, Role::Accent),
        ("replied", n(campaign.replied_count), sent, Role::Accent),
        ("failed", failed, sent + failed, Role::Error),
        ("skipped", n(campaign.skipped_count), total, Role::Dim),
    ];
    if !areas.compact {
        stages.push((
            "waiting",
            RecipientFilter::Waiting.count(campaign),
            total,
            Role::Dim,
        ));
    }
    let count_width = stages
        .iter()
        .map(|(_, count, _, _)| format::count(*count).len())
        .max()
        .unwrap_or(1)
        .max(5);
    let bar_width = (inner.width as usize).saturating_sub(1 + 10 + count_width + 2 + 5 + 1);
    let mut lines: Vec<Line> = Vec::new();
    for (index, (label, count, base, role)) in stages.into_iter().enumerate() {
        if index == 6 {
            lines.push(Line::raw(""));
        }
        lines.push(Line::from(vec![
            Span::styled(format!(" {label:<10}"), theme.style(Role::Text)),
            Span::styled(
                text::fit_right(&format::count(count), count_width),
                theme.style(Role::Text),
            ),
            Span::raw("  "),
            Span::styled(
                format::bar(share(count, base), bar_width),
                theme.style(role),
            ),
            Span::styled(
                text::fit_right(&format::percent(count, base), 5),
                theme.style(Role::Dim),
            ),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn rate(
    state: &State,
    frame: &mut Frame,
    area: Rect,
    campaign: &Campaign,
    data: Option<&Dashboard>,
) {
    let theme = &state.theme;
    let minutes = RATE_WINDOW_SECS / 60;
    let frame_block = block(
        state,
        title(
            state,
            format!(
                " Send rate, last {minutes} min (cap {}/s) ",
                format::count(campaign.mps.into())
            ),
        ),
    );
    let inner = frame_block.inner(area);
    frame.render_widget(frame_block, area);
    let columns = inner.width.max(1) as i64;
    let bars: Vec<u64> = match data {
        Some(data) => {
            let start = data.as_of - Duration::seconds(RATE_WINDOW_SECS);
            let mut per_column = vec![0u64; columns as usize];
            let mut seconds = vec![0i64; columns as usize];
            let last = per_column.len() - 1;
            for column in 0..columns {
                let from = column * RATE_WINDOW_SECS / columns;
                let to = (column + 1) * RATE_WINDOW_SECS / columns;
                seconds[column as usize] = (to - from).max(1);
            }
            for send in &data.sends {
                let offset = (send.second - start).num_seconds();
                if (0..RATE_WINDOW_SECS).contains(&offset) {
                    let column = ((offset * columns / RATE_WINDOW_SECS) as usize).min(last);
                    per_column[column] += send.sent.max(0) as u64;
                }
            }
            // Sends per second of each column, in thousandths.
            per_column
                .iter()
                .zip(&seconds)
                .map(|(sent, seconds)| sent * 1000 / *seconds as u64)
                .collect()
        }
        None => Vec::new(),
    };
    if bars.iter().all(|b| *b == 0) {
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(" no sends in the last {minutes} minutes"),
                theme.style(Role::Dim),
            )),
            inner,
        );
        return;
    }
    let cap = u64::try_from(campaign.mps.max(1)).unwrap_or(1) * 1000;
    let top = bars.iter().copied().max().unwrap_or(0).max(cap);
    frame.render_widget(
        Sparkline::default()
            .data(&bars)
            .max(top)
            .style(theme.style(Role::Accent)),
        inner,
    );
}

fn failures(
    state: &State,
    frame: &mut Frame,
    area: Rect,
    campaign: &Campaign,
    data: Option<&Dashboard>,
) {
    let theme = &state.theme;
    let frame_block = block(
        state,
        title(
            state,
            format!(
                " Failures · {} ",
                format::count(campaign.failed_count.into())
            ),
        ),
    );
    let inner = frame_block.inner(area);
    frame.render_widget(frame_block, area);
    let width = inner.width as usize;
    let reasons = data.map(|d| d.failures.as_slice()).unwrap_or_default();
    let lines: Vec<Line> = if campaign.failed_count == 0 {
        vec![Line::styled(" none", theme.style(Role::Dim))]
    } else {
        reasons
            .iter()
            .take(inner.height as usize)
            .map(|reason| {
                let count = format!("{} ", format::count(reason.count));
                let words =
                    format::failure(reason.error_code, None, reason.error_details.as_deref());
                let room = width.saturating_sub(text::width(&count) + 2);
                text::spread(
                    vec![Span::styled(
                        format!(" {}", text::truncate_words(&words, room)),
                        theme.style(Role::Text),
                    )],
                    vec![Span::styled(count, theme.style(Role::Error))],
                    width,
                )
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The recipients' title: the filters, the one shown marked; only it and the next when the
/// line is short.
fn filter_title(state: &State, current: RecipientFilter, width: usize) -> Line<'static> {
    let theme = &state.theme;
    let key = state
        .keymap
        .keys(View::Campaign, Command::Filter)
        .first()
        .map(ToString::to_string);
    let mut spans = vec![Span::styled(" Recipients · ", theme.style(Role::Title))];
    let mut all = spans.clone();
    for filter in RecipientFilter::ALL {
        if filter == current {
            all.push(Span::styled(
                format!("[{}]", filter.name()),
                theme.style(Role::Selected),
            ));
        } else {
            all.push(Span::styled(filter.name(), theme.style(Role::Dim)));
        }
        all.push(Span::raw(" "));
    }
    if let Some(key) = &key {
        all.push(Span::styled(
            format!("· {key} next "),
            theme.style(Role::Dim),
        ));
    }
    let all_width: usize = all.iter().map(|s| text::width(&s.content)).sum();
    if all_width + 2 <= width {
        return Line::from(all);
    }
    spans.push(Span::styled(
        format!("[{}]", current.name()),
        theme.style(Role::Selected),
    ));
    if let Some(key) = key {
        spans.push(Span::styled(
            format!(" · {key}: {} ", current.next().name()),
            theme.style(Role::Dim),
        ));
    }
    Line::from(spans)
}

struct Columns {
    name: usize,
    number: usize,
    status: usize,
    at: usize,
}

impl Columns {
    fn for_width(width: usize) -> Columns {
        Columns {
            name: if width >= 100 { 22 } else { 16 },
            number: 16,
            status: 10,
            at: 10,
        }
    }
}

fn recipients(
    state: &State,
    frame: &mut Frame,
    area: Rect,
    campaign: &Campaign,
    dashboard: &CampaignDashboard,
) {
    let theme = &state.theme;
    let expected = dashboard.filter.count(campaign);
    let rows = dashboard.recipients();
    let visible = (area.height as usize).saturating_sub(3);
    let footer = match rows {
        None => " loading… ".to_string(),
        Some([]) => " 0 ".to_string(),
        Some(rows) => {
            let last = (dashboard.offset + visible).min(rows.len());
            let more = if (rows.len() as i64) < expected {
                format!(" · the first {} shown", rows.len())
            } else {
                String::new()
            };
            format!(
                " {}–{last} of {}{more} ",
                dashboard.offset + 1,
                format::count(expected)
            )
        }
    };
    let frame_block = block(
        state,
        filter_title(state, dashboard.filter, area.width as usize),
    )
    .border_style(theme.style(Role::BorderFocus))
    .title_bottom(Line::styled(footer, theme.style(Role::Dim)));
    let inner = frame_block.inner(area);
    frame.render_widget(frame_block, area);
    let width = inner.width as usize;
    let columns = Columns::for_width(width);
    let mut lines: Vec<Line> = vec![Line::styled(
        text::fit(
            &format!(
                " {}{}{}{}{}",
                text::fit("name", columns.name),
                text::fit("number", columns.number),
                text::fit("status", columns.status),
                text::fit("at", columns.at),
                "note"
            ),
            width,
        ),
        theme.style(Role::Dim),
    )];
    match rows {
        Some([]) => lines.push(Line::styled(
            match dashboard.filter {
                RecipientFilter::All => {
                    " no recipients: the audience is taken when it starts".to_string()
                }
                filter => format!(" no recipient is {} now", filter.name()),
            },
            theme.style(Role::Dim),
        )),
        Some(rows) => {
            for row in rows.iter().skip(dashboard.offset).take(visible) {
                lines.push(recipient_line(state, row, &columns, width));
            }
        }
        None => {}
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn recipient_line(
    state: &State,
    row: &RecipientRow,
    columns: &Columns,
    width: usize,
) -> Line<'static> {
    let theme = &state.theme;
    let name = row.name.clone().unwrap_or_else(|| "—".into());
    let number = row
        .wa_id
        .as_ref()
        .map_or_else(|| "—".to_string(), |w| format!("+{w}"));
    let replied = row.replied_at.is_some();
    let (status, role) = match row.status.as_str() {
        _ if replied => ("replied", Role::Ok),
        "failed" => ("failed", Role::Error),
        "read" => ("read", Role::TickRead),
        "delivered" => ("delivered", Role::Text),
        "sent" => ("sent", Role::Text),
        "skipped" => ("skipped", Role::Warn),
        "pending" => ("sending", Role::Dim),
        _ => ("queued", Role::Dim),
    };
    let at = row.replied_at.unwrap_or(row.updated_at);
    let local = at.with_timezone(&chrono::Local);
    let today = state.now.with_timezone(&chrono::Local).date_naive();
    let at = if local.date_naive() == today {
        local.format("%H:%M:%S").to_string()
    } else {
        format::thread_time(at, state.now)
    };
    let note = match row.status.as_str() {
        "failed" => format::failure(row.error_code, None, row.error_details.as_deref()),
        "skipped" => row.error_details.clone().unwrap_or_default(),
        _ => String::new(),
    };
    let used = 1 + columns.name + columns.number + columns.status + columns.at;
    Line::from(vec![
        Span::styled(
            format!(" {}", text::fit(&name, columns.name.saturating_sub(1))),
            theme.style(Role::Text),
        ),
        Span::raw(" "),
        Span::styled(text::fit(&number, columns.number), theme.style(Role::Dim)),
        Span::styled(text::fit(status, columns.status), theme.style(role)),
        Span::styled(text::fit(&at, columns.at), theme.style(Role::Dim)),
        Span::styled(
            text::truncate_words(&note, width.saturating_sub(used)),
            theme.style(if row.status == "failed" {
                Role::Error
            } else {
                Role::Dim
            }),
        ),
    ])
}
