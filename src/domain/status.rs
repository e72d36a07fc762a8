//! The status lattice of a message: statuses only move forward, whatever order Meta's webhooks
//! arrive in and however often they repeat.
//!
//! The order is pending < sent < failed < delivered < read < played. `failed` ends a message that
//! was not yet delivered; a failure reported for a message already delivered changes nothing,
//! and a delivery reported after a failure means the failure was not the last word. Because it is
//! a total order, applying a set of statuses in any order, with any duplicates, ends in the same
//! place: the highest of them.

use super::InvalidValue;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, sqlx::Type,
)]
#[sqlx(type_name = "message_status", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    Pending,
    Sent,
    Delivered,
    Read,
    Played,
    Failed,
    /// An inbound message: outside the lattice.
    Received,
}

impl MessageStatus {
    /// The place of an outbound status in the lattice; None for `received`.
    pub fn rank(self) -> Option<u8> {
        match self {
            MessageStatus::Pending => Some(0),
            MessageStatus::Sent => Some(1),
            MessageStatus::Failed => Some(2),
            MessageStatus::Delivered => Some(3),
            MessageStatus::Read => Some(4),
            MessageStatus::Played => Some(5),
            MessageStatus::Received => None,
        }
    }

    /// The status after `self` learns of `incoming`: the higher of the two.
    pub fn join(self, incoming: MessageStatus) -> MessageStatus {
        match (self.rank(), incoming.rank()) {
            (Some(current), Some(new)) if new > current => incoming,
            _ => self,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Pending => "pending",
            MessageStatus::Sent => "sent",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Read => "read",
            MessageStatus::Played => "played",
            MessageStatus::Failed => "failed",
            MessageStatus::Received => "received",
        }
    }
}

impl std::str::FromStr for MessageStatus {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "pending" => MessageStatus::Pending,
            "sent" => MessageStatus::Sent,
            "delivered" => MessageStatus::Delivered,
            "read" => MessageStatus::Read,
            "played" => MessageStatus::Played,
            "failed" => MessageStatus::Failed,
            "received" => MessageStatus::Received,
            _ => return Err(InvalidValue(format!("`{s}` is not a message status"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::MessageStatus::{self, *};
    use proptest::prelude::*;

    #[test]
    fn moves_forward_only() {
        assert_eq!(Sent.join(Delivered), Delivered);
        assert_eq!(Read.join(Delivered), Read);
        assert_eq!(Sent.join(Read), Read, "read without delivered");
        assert_eq!(Read.join(Played), Played);
    }

    #[test]
    fn failed_ends_only_what_was_not_delivered() {
        assert_eq!(Pending.join(Failed), Failed);
        assert_eq!(Sent.join(Failed), Failed);
        assert_eq!(Delivered.join(Failed), Delivered);
        assert_eq!(Read.join(Failed), Read);
        assert_eq!(Failed.join(Sent), Failed);
    }

    fn outbound() -> impl Strategy<Value = MessageStatus> {
        prop_oneof![
            Just(Sent),
            Just(Delivered),
            Just(Read),
            Just(Played),
            Just(Failed)
        ]
    }

    proptest! {
        #[test]
        fn any_order_and_duplication_ends_in_the_same_place(
            statuses in proptest::collection::vec(outbound(), 1..12),
            seed in any::<u64>(),
        ) {
            let in_order = statuses.iter().fold(Pending, |s, &n| s.join(n));
            let mut shuffled = statuses.clone();
            shuffled.extend(statuses.iter().take((seed % 4) as usize));
            // A deterministic shuffle from the seed.
            let len = shuffled.len();
            for i in 0..len {
                let j = ((seed >> (i % 32)) as usize + i * 7) % len;
                shuffled.swap(i, j);
            }
            let any_order = shuffled.iter().fold(Pending, |s, &n| s.join(n));
            prop_assert_eq!(in_order, any_order);
        }
    }
}
