//! The customer's 24-hour window: free-form messages may be sent until 24 hours after the
//! customer last wrote; after that only approved templates (spec §6).

use chrono::{DateTime, Duration, Utc};

/// Within this much of its end, a window is shown as closing.
pub const CLOSING_WITHIN: Duration = Duration::hours(1);

/// Where a conversation's window stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerWindow {
    /// Open, with this much time left.
    Open(Duration),
    /// Open, but closing within the hour.
    Closing(Duration),
    /// Closed this long ago.
    Closed(Duration),
    /// The customer never wrote: only templates, ever.
    Never,
}

impl CustomerWindow {
    pub fn at(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Self {
        match expires_at {
            None => CustomerWindow::Never,
            Some(end) if end <= now => CustomerWindow::Closed(now - end),
            Some(end) if end - now <= CLOSING_WITHIN => CustomerWindow::Closing(end - now),
            Some(end) => CustomerWindow::Open(end - now),
        }
    }

    /// Whether a free-form message may be sent.
    pub fn is_open(self) -> bool {
        matches!(self, CustomerWindow::Open(_) | CustomerWindow::Closing(_))
    }
}

/// A duration the way a countdown shows it: `21h 14m`, `9m`, `2d 3h`.
pub fn short_duration(duration: Duration) -> String {
    let minutes = duration.num_minutes().max(0);
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes:02}m")
    } else {
        format!("{minutes}m")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
            .unwrap()
            .to_utc()
    }

    #[test]
    fn states_around_the_end() {
        let now = now();
        assert_eq!(CustomerWindow::at(None, now), CustomerWindow::Never);
        assert_eq!(
            CustomerWindow::at(Some(now + Duration::hours(5)), now),
            CustomerWindow::Open(Duration::hours(5))
        );
        assert_eq!(
            CustomerWindow::at(Some(now + Duration::minutes(59)), now),
            CustomerWindow::Closing(Duration::minutes(59))
        );
        assert_eq!(
            CustomerWindow::at(Some(now), now),
            CustomerWindow::Closed(Duration::zero())
        );
        assert!(!CustomerWindow::at(Some(now - Duration::hours(3)), now).is_open());
    }

    #[test]
    fn durations_read_like_a_countdown() {
        assert_eq!(short_duration(Duration::minutes(21 * 60 + 14)), "21h 14m");
        assert_eq!(short_duration(Duration::minutes(9)), "9m");
        assert_eq!(short_duration(Duration::hours(51)), "2d 3h");
        assert_eq!(short_duration(Duration::seconds(-5)), "0m");
    }

    proptest! {
        #[test]
        fn open_exactly_before_the_end(offset in -200_000i64..200_000) {
            let now = now();
            let window = CustomerWindow::at(Some(now + Duration::seconds(offset)), now);
            prop_assert_eq!(window.is_open(), offset > 0);
        }
    }
}
