//! What the business sent and how it went: every accepted message as received (for
//! `GET /_sim/messages`) and the counters behind `GET /_sim/stats` (accepted, rejected and
//! failed by code, the busiest second, per phone number id). Written by the Graph endpoints and
//! the status sequences; read only by `control`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

/// One accepted send, as the business posted it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SentMessage {
    pub phone_number_id: String,
    pub wamid: String,
    /// The recipient as a wa_id (digits only).
    pub to: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The request body, verbatim.
    pub body: Value,
    /// When it was accepted (RFC 3339, UTC).
    pub time: String,
}

#[derive(Debug, Default)]
pub(crate) struct Ledger {
    sent: Vec<SentMessage>,
    numbers: BTreeMap<String, NumberStats>,
    inbound: u64,
}

#[derive(Debug, Default, Serialize)]
struct NumberStats {
    accepted: u64,
    /// Answered with an error, by code.
    rejected: BTreeMap<i64, u64>,
    /// Accepted, then a `failed` status, by code.
    failed: BTreeMap<i64, u64>,
    /// The most sends accepted within any one second (a sliding second).
    max_per_second: usize,
    /// Customer messages to this number.
    inbound: u64,
}

impl Ledger {
    /// Records an accepted send; `in_last_second` counts it and those accepted in the second
    /// before it.
    pub fn accept(&mut self, message: SentMessage, in_last_second: usize) {
        let stats = self.number(&message.phone_number_id);
        stats.accepted += 1;
        stats.max_per_second = stats.max_per_second.max(in_last_second);
        self.sent.push(message);
    }

    pub fn reject(&mut self, phone_number_id: &str, code: i64) {
        *self
            .number(phone_number_id)
            .rejected
            .entry(code)
            .or_default() += 1;
    }

    pub fn fail(&mut self, phone_number_id: &str, code: i64) {
        *self.number(phone_number_id).failed.entry(code).or_default() += 1;
    }

    pub fn inbound(&mut self, phone_number_id: &str) {
        self.inbound += 1;
        self.number(phone_number_id).inbound += 1;
    }

    /// The messages sent, in the order accepted, to `to` (any number form) when given.
    pub fn messages(&self, to: Option<&str>) -> Vec<SentMessage> {
        let to = to.map(|t| t.chars().filter(char::is_ascii_digit).collect::<String>());
        self.sent
            .iter()
            .filter(|m| to.as_deref().is_none_or(|to| m.to == to))
            .cloned()
            .collect()
    }

    /// The stats document: totals, then `phone_numbers` by id; `webhooks` is the sender's.
    pub fn stats(&self, webhooks: Value) -> Value {
        let mut rejected: BTreeMap<i64, u64> = BTreeMap::new();
        let mut failed: BTreeMap<i64, u64> = BTreeMap::new();
        for stats in self.numbers.values() {
            for (code, n) in &stats.rejected {
                *rejected.entry(*code).or_default() += n;
            }
            for (code, n) in &stats.failed {
                *failed.entry(*code).or_default() += n;
            }
        }
        json!({
            "accepted": self.numbers.values().map(|s| s.accepted).sum::<u64>(),
            "rejected": rejected,
            "failed": failed,
            "inbound": self.inbound,
            "phone_numbers": self.numbers,
            "webhooks": webhooks,
        })
    }

    fn number(&mut self, phone_number_id: &str) -> &mut NumberStats {
        self.numbers.entry(phone_number_id.to_string()).or_default()
    }
}
