//! The `clock` check: the local clock against the Graph API's and the database's.

use chrono::{DateTime, TimeZone, Utc};

use super::{Check, Status, plural};

/// Clocks further apart than this put customer windows and timestamps visibly wrong.
const MAX_CLOCK_SKEW_SECS: i64 = 60;

/// A remote clock read at a local time.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sample {
    pub(super) local: DateTime<Utc>,
    pub(super) remote: DateTime<Utc>,
}

/// The middle of a request's round trip, when the remote clock was most likely read.
pub(super) fn midpoint(before: DateTime<Utc>, after: DateTime<Utc>) -> DateTime<Utc> {
    before + (after - before) / 2
}

/// Compares the local clock with each remote one; an obviously wrong local clock fails alone.
pub(super) fn clock(now: DateTime<Utc>, samples: &[(&str, Sample)]) -> Check {
    let earliest_sane = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let shown = |time: DateTime<Utc>| time.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    if now < earliest_sane {
        return Check::new(
            "clock",
            Status::Fail,
            format!(
                "the local clock says {}, before 2024; set the system time (NTP)",
                shown(now)
            ),
        );
    }
    if samples.is_empty() {
        return Check::new(
            "clock",
            Status::Skip,
            format!(
                "the local clock says {}; no Graph API or database clock to compare it with",
                shown(now)
            ),
        );
    }
    let mut widest = 0;
    for (name, sample) in samples {
        // An HTTP Date has whole seconds: round the gap up.
        let apart = ((sample.remote - sample.local).num_milliseconds().abs() + 999) / 1000;
        if apart > MAX_CLOCK_SKEW_SECS {
            return Check::new(
                "clock",
                Status::Fail,
                format!(
                    "the local clock ({}) and {name} clock ({}) are {apart} s apart; customer windows and timestamps come out wrong: set the system time (NTP)",
                    shown(sample.local),
                    shown(sample.remote)
                ),
            );
        }
        widest = widest.max(apart);
    }
    let names: Vec<&str> = samples.iter().map(|(name, _)| *name).collect();
    let within = match widest {
        0 => "a second".to_string(),
        seconds => format!("{seconds} s"),
    };
    Check::new(
        "clock",
        Status::Ok,
        format!(
            "within {within} of {} clock{}",
            names.join(" and "),
            plural(names.len())
        ),
    )
}
