//! What follows an accepted send (spec §2.5): its status webhooks, one at a time, each after a
//! random delay and only once the previous one was acknowledged, so they arrive in order unless
//! `faults.shuffle` mixes them: sent, delivered, read (read without delivered per
//! `faults.skip_delivered`); only sent for a reaction; only `failed` (131047) for a free-form
//! send outside the window. Timestamps are the true times, whatever the order of arrival.

use std::sync::Arc;
use std::time::Duration;

use rand::seq::SliceRandom;
use serde_json::{Value, json};

use super::BusinessNumber;
use super::customers;
use super::error::webhook_error;
use super::ids;
use super::state::{Shared, lock};
use super::webhooks::Update;

/// One accepted message's statuses to come.
#[derive(Debug, Clone)]
pub(crate) struct Sequence {
    pub number: BusinessNumber,
    pub wa_id: String,
    pub wamid: String,
    /// `pricing.category` / `conversation.origin.type`: `service`, `marketing`, `utility`...
    pub pricing: String,
    /// Free of charge (service messages, utility templates inside the window).
    pub free: bool,
    /// Whether statuses carry `conversation` (webhooks before v24).
    pub with_conversation: bool,
    pub callback_data: Option<String>,
    pub ending: Ending,
}

/// Where a message's statuses end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// sent, (delivered,) read.
    Read,
    /// sent only (reactions).
    Sent,
    /// Only a `failed` status with this code.
    Failed(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Sent,
    Delivered,
    Read,
    Failed(i64),
}

impl Step {
    fn word(self) -> &'static str {
        match self {
            Step::Sent => "sent",
            Step::Delivered => "delivered",
            Step::Read => "read",
            Step::Failed(_) => "failed",
        }
    }
}

pub(crate) fn spawn(shared: Arc<Shared>, sequence: Sequence) {
    tokio::spawn(run(shared, sequence));
}

async fn run(shared: Arc<Shared>, sequence: Sequence) {
    let faults = &shared.config.faults;
    let steps = match sequence.ending {
        Ending::Failed(code) => vec![Step::Failed(code)],
        Ending::Sent => vec![Step::Sent],
        Ending::Read if ids::chance(faults.skip_delivered) => vec![Step::Sent, Step::Read],
        Ending::Read => vec![Step::Sent, Step::Delivered, Step::Read],
    };
    let delays: Vec<Duration> = steps
        .iter()
        .map(|_| ids::between(shared.config.delays))
        .collect();
    let start = ids::unix_now();
    let mut elapsed = Duration::ZERO;
    let timestamps: Vec<i64> = delays
        .iter()
        .map(|delay| {
            elapsed += *delay;
            start + i64::try_from(elapsed.as_secs()).unwrap_or_default()
        })
        .collect();
    let conversation_id = ids::hex(16);
    let mut order: Vec<usize> = (0..steps.len()).collect();
    if faults.shuffle {
        order.shuffle(&mut rand::rng());
    }
    for at in order {
        tokio::select! {
            () = shared.cancel.cancelled() => return,
            () = tokio::time::sleep(delays[at]) => {}
        }
        let step = steps[at];
        // Pricing (and conversation) go on `sent` and on the one of delivered/read that follows.
        let priced = at <= 1;
        let item = status(
            &sequence,
            step,
            timestamps[at],
            priced.then_some(&conversation_id),
        );
        if let Step::Failed(code) = step {
            lock(&shared.ledger).fail(&sequence.number.phone_number_id, code);
        }
        let update = Update {
            waba_id: sequence.number.waba_id.clone(),
            time: None,
            field: "messages",
            value: json!({
                "messaging_product": "whatsapp",
                "metadata": {
                    "display_phone_number": sequence.number.display_phone_number,
                    "phone_number_id": sequence.number.phone_number_id,
                },
                "statuses": [item],
            }),
        };
        shared.webhooks.deliver(update).await;
        if step == Step::Read {
            customers::answer(&shared, &sequence.number, &sequence.wa_id, &sequence.wamid);
        }
    }
}

/// One `statuses[]` item; `priced` carries the conversation id when pricing goes on it.
fn status(sequence: &Sequence, step: Step, timestamp: i64, priced: Option<&String>) -> Value {
    let mut item = json!({
        "id": sequence.wamid,
        "status": step.word(),
        "timestamp": timestamp.to_string(),
        "recipient_id": sequence.wa_id,
    });
    if let Some(data) = &sequence.callback_data {
        item["biz_opaque_callback_data"] = json!(data);
    }
    if let Step::Failed(code) = step {
        item["errors"] = json!([webhook_error(code)]);
        return item;
    }
    let Some(conversation_id) = priced else {
        return item;
    };
    if sequence.with_conversation {
        let mut conversation = json!({
            "id": conversation_id,
            "origin": { "type": sequence.pricing },
        });
        if step == Step::Sent {
            conversation["expiration_timestamp"] = json!((timestamp + 24 * 60 * 60).to_string());
        }
        item["conversation"] = conversation;
    }
    item["pricing"] = json!({
        "billable": !sequence.free,
        "pricing_model": "PMP",
        "type": if sequence.free { "free_customer_service" } else { "regular" },
        "category": sequence.pricing,
    });
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sequence(with_conversation: bool) -> Sequence {
        Sequence {
            number: BusinessNumber {
                phone_number_id: "1".into(),
                display_phone_number: "15550001111".into(),
                waba_id: "2".into(),
            },
            wa_id: "14155550123".into(),
            wamid: "wamid.X".into(),
            pricing: "marketing".into(),
            free: false,
            with_conversation,
            callback_data: Some("cb".into()),
            ending: Ending::Read,
        }
    }

    #[test]
    fn sent_carries_conversation_and_pricing_before_v24() {
        let conv = "c".to_string();
        let sent = status(&sequence(true), Step::Sent, 1_760_659_225, Some(&conv));
        assert_eq!(sent["timestamp"], "1760659225");
        assert_eq!(sent["conversation"]["expiration_timestamp"], "1760745625");
        assert_eq!(sent["pricing"]["category"], "marketing");
        assert_eq!(sent["pricing"]["type"], "regular");
        assert_eq!(sent["biz_opaque_callback_data"], "cb");
        let delivered = status(&sequence(true), Step::Delivered, 1, Some(&conv));
        assert!(
            delivered["conversation"]
                .get("expiration_timestamp")
                .is_none()
        );
        let read = status(&sequence(false), Step::Read, 1, None);
        assert!(read.get("pricing").is_none() && read.get("conversation").is_none());
    }

    #[test]
    fn failed_carries_the_error() {
        let failed = status(&sequence(false), Step::Failed(131047), 1, Some(&"c".into()));
        assert_eq!(failed["errors"][0]["code"], 131047);
        assert!(failed.get("pricing").is_none());
    }
}
