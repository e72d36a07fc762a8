//! The rules Meta applies to a send that is well formed: the customer service window (spec §6),
//! the throughput per business number and the pair rate limit (§7), and templates: known,
//! approved, the right number of parameters (§5, §8). It decides; the caller answers and counts.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::PairLimit;
use super::error::GraphFailure;
use super::templates::TemplateStore;
use super::validate::TemplateCall;

/// (phone number id, customer wa_id).
type Pair = (String, String);

/// Above this many tracked pairs, idle ones are forgotten.
const PAIRS_KEPT: usize = 10_000;

#[derive(Debug, Default)]
pub(crate) struct Rules {
    /// When each customer last wrote to each number.
    last_inbound: HashMap<Pair, Instant>,
    /// Accepted sends of the last second, per number.
    per_number: HashMap<String, VecDeque<Instant>>,
    /// Accepted sends within the pair limit's period, per pair.
    per_pair: HashMap<Pair, VecDeque<Instant>>,
}

impl Rules {
    /// A customer message: opens (or refreshes) the window.
    pub fn customer_wrote(&mut self, phone_number_id: &str, wa_id: &str, at: Instant) {
        self.last_inbound
            .insert((phone_number_id.to_string(), wa_id.to_string()), at);
    }

    /// Whether the customer wrote to the number within `window` before `now`.
    pub fn window_open(
        &self,
        phone_number_id: &str,
        wa_id: &str,
        now: Instant,
        window: Duration,
    ) -> bool {
        self.last_inbound
            .get(&(phone_number_id.to_string(), wa_id.to_string()))
            .is_some_and(|at| now.saturating_duration_since(*at) < window)
    }

    /// Admits one send under the throughput (`mps`, 0 for none) and the pair limit, or refuses
    /// it with 130429 or 131056. Admitted, it returns how many sends the number has had in the
    /// last second, this one included.
    pub fn admit(
        &mut self,
        phone_number_id: &str,
        wa_id: &str,
        now: Instant,
        mps: u32,
        pair_limit: PairLimit,
    ) -> Result<usize, GraphFailure> {
        let recent = self
            .per_number
            .entry(phone_number_id.to_string())
            .or_default();
        forget_before(recent, now, Duration::from_secs(1));
        if mps > 0 && recent.len() >= mps as usize {
            return Err(GraphFailure::throughput());
        }
        if pair_limit.burst > 0 {
            if self.per_pair.len() > PAIRS_KEPT {
                self.per_pair.retain(|_, sends| {
                    sends
                        .back()
                        .is_some_and(|t| now.saturating_duration_since(*t) < pair_limit.per)
                });
            }
            let pair = self
                .per_pair
                .entry((phone_number_id.to_string(), wa_id.to_string()))
                .or_default();
            forget_before(pair, now, pair_limit.per);
            if pair.len() >= pair_limit.burst as usize {
                return Err(GraphFailure::pair_limit());
            }
            pair.push_back(now);
        }
        recent.push_back(now);
        Ok(recent.len())
    }
}

/// Drops the instants `span` or more before `now`.
fn forget_before(instants: &mut VecDeque<Instant>, now: Instant, span: Duration) {
    while instants
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= span)
    {
        instants.pop_front();
    }
}

/// Checks a template send against the templates of `waba` (`None`: any WABA the simulator
/// knows, for unconfigured numbers) and returns the template's category (`MARKETING`...).
pub(crate) fn check_template(
    templates: &mut TemplateStore,
    waba: Option<&str>,
    call: &TemplateCall,
) -> Result<String, GraphFailure> {
    let Some(template) = templates.find(waba, &call.name, &call.language) else {
        return Err(GraphFailure::template_missing(format!(
            "template name ({}) does not exist in {}",
            call.name, call.language
        )));
    };
    if template.status != "APPROVED" {
        return Err(GraphFailure::template_missing(format!(
            "template name ({}) in {} is {}, not APPROVED",
            call.name, call.language, template.status
        )));
    }
    let expected = template.variables();
    for (part, given, wanted) in [
        ("header", call.header_params, expected.header),
        ("body", call.body_params, expected.body),
    ] {
        if given != wanted {
            return Err(GraphFailure::template_params(format!(
                "{part}: number of localizable_params ({given}) does not match the expected number of params ({wanted})"
            )));
        }
    }
    Ok(template.category)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_is_a_sliding_second() {
        let mut rules = Rules::default();
        let start = Instant::now();
        let none = PairLimit {
            burst: 0,
            per: Duration::ZERO,
        };
        for i in 0..3 {
            assert_eq!(
                rules.admit("n", &format!("c{i}"), start, 3, none),
                Ok(i + 1)
            );
        }
        let refused = rules.admit("n", "c9", start + Duration::from_millis(999), 3, none);
        assert_eq!(refused.map_err(|f| f.code), Err(130429));
        assert!(
            rules
                .admit("n", "c9", start + Duration::from_secs(1), 3, none)
                .is_ok()
        );
    }

    #[test]
    fn the_pair_limit_counts_one_recipient() {
        let mut rules = Rules::default();
        let now = Instant::now();
        let pair = PairLimit {
            burst: 2,
            per: Duration::from_secs(6),
        };
        assert!(rules.admit("n", "a", now, 0, pair).is_ok());
        assert!(rules.admit("n", "a", now, 0, pair).is_ok());
        assert_eq!(
            rules.admit("n", "a", now, 0, pair).map_err(|f| f.code),
            Err(131056)
        );
        assert!(rules.admit("n", "b", now, 0, pair).is_ok());
    }

    #[test]
    fn the_window_closes_after_its_length() {
        let mut rules = Rules::default();
        let now = Instant::now();
        let day = Duration::from_secs(86_400);
        assert!(!rules.window_open("n", "a", now, day));
        rules.customer_wrote("n", "a", now);
        assert!(rules.window_open("n", "a", now + day / 2, day));
        assert!(!rules.window_open("n", "a", now + day, day));
        assert!(!rules.window_open("m", "a", now, day));
    }
}
