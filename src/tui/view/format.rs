//! Words and symbols for what the views show: times, countdowns, ticks, failure reasons and
//! message bodies. Pure functions of their arguments (and of `now`, passed in).

use chrono::{DateTime, Duration, Local, Utc};

use crate::cloud_api::webhook::{MessageContent, parse_content};
use crate::domain::window::short_duration;
use crate::domain::{CustomerWindow, MessageStatus};
use crate::store::thread::{MediaInfo, ThreadMessage};

/// A message's time in the list: `12:41` today, `yest.`, the weekday within a week, else the date.
pub fn list_time(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let (at, today) = (
        at.with_timezone(&Local),
        now.with_timezone(&Local).date_naive(),
    );
    let day = at.date_naive();
    if day == today {
        at.format("%H:%M").to_string()
    } else if Some(day) == today.pred_opt() {
        "yest.".to_string()
    } else if today - day < Duration::days(7) {
        at.format("%a").to_string()
    } else {
        at.format("%d %b").to_string()
    }
}

/// A message's time in the thread: `12:41`, or `Mon 12:41` / `03 Nov 12:41` before today.
pub fn thread_time(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let local = at.with_timezone(&Local);
    let today = now.with_timezone(&Local).date_naive();
    if local.date_naive() == today {
        local.format("%H:%M").to_string()
    } else if today - local.date_naive() < Duration::days(7) {
        local.format("%a %H:%M").to_string()
    } else {
        local.format("%d %b %H:%M").to_string()
    }
}

/// The window in a list row: `⏱21h 14m`, `⏱ 9m` (closing), `⌛closed`.
pub fn window_label(window: CustomerWindow) -> String {
    match window {
        CustomerWindow::Open(left) | CustomerWindow::Closing(left) => {
            format!("⏱{}", short_duration(left))
        }
        CustomerWindow::Closed(_) | CustomerWindow::Never => "⌛closed".to_string(),
    }
}

/// The window in the thread's title: `window 21h 14m`, `window closed 3h ago`.
pub fn window_title(window: CustomerWindow) -> String {
    match window {
        CustomerWindow::Open(left) | CustomerWindow::Closing(left) => {
            format!("window {}", short_duration(left))
        }
        CustomerWindow::Closed(ago) => format!("window closed {} ago", short_duration(ago)),
        CustomerWindow::Never => "no window: the customer has not written".to_string(),
    }
}

/// Why a free-form reply cannot go, and what to do instead.
pub fn window_refusal(window: CustomerWindow) -> String {
    match window {
        CustomerWindow::Closed(ago) => format!(
            "the 24-hour window closed {} ago: only an approved template can be sent (t)",
            short_duration(ago)
        ),
        _ => "the customer has not written yet: only an approved template can be sent (t)"
            .to_string(),
    }
}

/// The tick of an outbound message: `⏳`, `✓`, `✓✓`, `✗`.
pub fn tick(status: MessageStatus) -> &'static str {
    match status {
        MessageStatus::Pending => "⏳",
        MessageStatus::Sent => "✓",
        MessageStatus::Delivered | MessageStatus::Read | MessageStatus::Played => "✓✓",
        MessageStatus::Failed => "✗",
        MessageStatus::Received => "",
    }
}

/// A failure in words: `131047: more than 24 hours since the customer last wrote`.
pub fn failure(code: Option<i32>, title: Option<&str>, details: Option<&str>) -> String {
    let words = code
        .and_then(known_failure)
        .map(str::to_string)
        .or_else(|| details.filter(|d| !d.is_empty()).map(str::to_string))
        .or_else(|| title.map(str::to_string))
        .unwrap_or_else(|| "not sent".to_string());
    match code {
        Some(code) => format!("{code}: {words}"),
        None => words,
    }
}

/// Meta's error codes an agent meets most, in plain words (spec §7).
fn known_failure(code: i32) -> Option<&'static str> {
    Some(match code {
        131047 => "more than 24 hours since the customer last wrote",
        131026 => "undeliverable (not on WhatsApp, or an old app)",
        131049 => "not delivered to keep engagement healthy (marketing limit)",
        131050 => "the customer stopped marketing messages",
        131051 => "message type not supported",
        131052 => "media could not be downloaded",
        131053 => "media could not be uploaded",
        130429 | 131056 => "rate limit reached",
        131048 => "spam rate limit reached",
        131042 => "payment problem on the business account",
        131031 => "business account locked",
        132000 => "wrong number of template parameters",
        132001 => "template does not exist",
        132015 | 132016 => "template paused or disabled",
        368 => "the business account is temporarily blocked",
        190 => "access token expired or invalid",
        100 => "invalid parameter",
        _ => return None,
    })
}

/// The whole text of a message as the thread shows it: a template as the customer saw it,
/// a text in full, anything else as its labelled one-line summary.
pub fn message_text(message: &ThreadMessage) -> String {
    if let Some(rendered) = &message.rendered_text {
        return rendered.clone();
    }
    match parse_content(&message.content) {
        MessageContent::Text { body } => body,
        MessageContent::Location {
            latitude,
            longitude,
            name,
            address,
            ..
        } => {
            let place: Vec<String> = [name, address].into_iter().flatten().collect();
            let place = if place.is_empty() {
                "Location".to_string()
            } else {
                place.join(", ")
            };
            format!("📍 {place} ({latitude:.5}, {longitude:.5})")
        }
        MessageContent::ListReply {
            title, description, ..
        } => match description {
            Some(description) => format!("🔘 {title} ({description})"),
            None => format!("🔘 {title}"),
        },
        content @ MessageContent::Media { .. } => {
            let mut line = content.preview();
            if let Some(media) = &message.media {
                line.push_str(&media_detail(media));
            }
            line
        }
        other => other.preview(),
    }
}

/// `  · 182 KB · open with O`, or `  · fetching…`.
fn media_detail(media: &MediaInfo) -> String {
    let size = media.size.map(human_size);
    let state = if media.storage_url.is_some() {
        "O opens it"
    } else {
        "fetching…"
    };
    match size {
        Some(size) => format!("  · {size} · {state}"),
        None => format!("  · {state}"),
    }
}

/// `182 KB`, `4.2 MB`.
pub fn human_size(bytes: i64) -> String {
    let bytes = bytes.max(0) as f64;
    if bytes < 1024.0 {
        format!("{bytes} B")
    } else if bytes < 1024.0 * 1024.0 {
        format!("{:.0} KB", bytes / 1024.0)
    } else {
        format!("{:.1} MB", bytes / (1024.0 * 1024.0))
    }
}

/// A count with thousands separated: `6,412`.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if n < 0 { format!("−{out}") } else { out }
}

/// `part` of `whole` in percent: `64%`, `1.5%` under ten, `—` of nothing.
pub fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "—".to_string();
    }
    let value = part as f64 * 100.0 / whole as f64;
    if value > 0.0 && value < 10.0 {
        format!("{value:.1}%")
    } else {
        format!("{value:.0}%")
    }
}

/// A duration to the second: `45s`, `1m 12s`, `2h 05m`, `3d 4h`.
pub fn elapsed(duration: Duration) -> String {
    let seconds = duration.num_seconds().max(0);
    let (days, hours, minutes, seconds) = (
        seconds / 86_400,
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes:02}m")
    } else if minutes > 0 {
        format!("{minutes}m {seconds:02}s")
    } else {
        format!("{seconds}s")
    }
}

/// A horizontal bar of `width` cells filled to `fraction` (0 to 1), in eighths of a cell;
/// the rest is blank.
pub fn bar(fraction: f64, width: usize) -> String {
    const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let fraction = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let eighths = (fraction * width as f64 * 8.0).round() as usize;
    let (full, part) = (eighths / 8, eighths % 8);
    let mut out = "█".repeat(full.min(width));
    if full < width {
        out.push(EIGHTHS[part]);
        out.push_str(&" ".repeat(width - full - 1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_shares_read_easily() {
        assert_eq!(count(0), "0");
        assert_eq!(count(412), "412");
        assert_eq!(count(6412), "6,412");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(percent(97, 6509), "1.5%");
        assert_eq!(percent(5980, 6412), "93%");
        assert_eq!(percent(0, 10), "0%");
        assert_eq!(percent(1, 0), "—");
    }

    #[test]
    fn durations_read_to_the_second() {
        assert_eq!(elapsed(Duration::seconds(45)), "45s");
        assert_eq!(elapsed(Duration::seconds(72)), "1m 12s");
        assert_eq!(elapsed(Duration::seconds(2 * 3600 + 5 * 60)), "2h 05m");
        assert_eq!(elapsed(Duration::seconds(-3)), "0s");
    }

    #[test]
    fn bars_fill_in_eighths() {
        assert_eq!(bar(1.0, 4), "████");
        assert_eq!(bar(0.0, 4), "    ");
        assert_eq!(bar(0.5, 4), "██  ");
        assert_eq!(bar(0.5 + 1.0 / 16.0, 4), "██▎ ");
        assert_eq!(bar(f64::NAN, 2), "  ");
        assert_eq!(text_width(&bar(0.37, 9)), 9);
    }

    fn text_width(text: &str) -> usize {
        super::super::text::width(text)
    }

    #[test]
    fn failures_read_as_words_with_their_code() {
        assert_eq!(
            failure(Some(131047), Some("Re-engagement message"), None),
            "131047: more than 24 hours since the customer last wrote"
        );
        assert_eq!(
            failure(Some(999), Some("Odd"), Some("Something odd happened")),
            "999: Something odd happened"
        );
        assert_eq!(failure(None, None, None), "not sent");
    }

    #[test]
    fn ticks_follow_the_status() {
        assert_eq!(tick(MessageStatus::Sent), "✓");
        assert_eq!(tick(MessageStatus::Read), "✓✓");
        assert_eq!(tick(MessageStatus::Failed), "✗");
    }

    #[test]
    fn sizes_are_short() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(186_000), "182 KB");
        assert_eq!(human_size(4_404_019), "4.2 MB");
    }
}
