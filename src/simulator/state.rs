//! The simulator's shared state: the configuration, its base URL, the stop signal, the webhook
//! sender, and one lock per part (ledger, rules, templates, media), each owned by its module.
//! Locks are std mutexes held for a few statements and never across an await.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio_util::sync::CancellationToken;

use super::customers::Customers;
use super::ledger::Ledger;
use super::media::MediaStore;
use super::rules::Rules;
use super::templates::TemplateStore;
use super::webhooks::WebhookSender;
use super::{BusinessNumber, SimulatorConfig};

pub(crate) struct Shared {
    pub config: SimulatorConfig,
    /// `http://ADDR`.
    pub base_url: String,
    /// Cancelled once, at shutdown; every task watches it.
    pub cancel: CancellationToken,
    pub webhooks: WebhookSender,
    pub ledger: Mutex<Ledger>,
    pub rules: Mutex<Rules>,
    pub templates: Mutex<TemplateStore>,
    pub media: Mutex<MediaStore>,
    pub customers: Customers,
    /// Numbers that sent or received something, for the customers to write to.
    seen_numbers: Mutex<BTreeSet<String>>,
}

impl Shared {
    pub fn new(config: SimulatorConfig, base_url: String) -> std::io::Result<Arc<Shared>> {
        let cancel = CancellationToken::new();
        let webhooks = WebhookSender::start(&config, cancel.clone())?;
        Ok(Arc::new(Shared {
            customers: Customers::new(config.customers, &config.named_customers),
            templates: Mutex::new(TemplateStore::with_seeds(&config.templates)),
            config,
            base_url,
            cancel,
            webhooks,
            ledger: Mutex::default(),
            rules: Mutex::default(),
            media: Mutex::default(),
            seen_numbers: Mutex::default(),
        }))
    }

    /// The number as configured, or with a display number and WABA id derived from its id.
    pub fn number(&self, phone_number_id: &str) -> BusinessNumber {
        self.configured(phone_number_id)
            .cloned()
            .unwrap_or_else(|| derived_number(phone_number_id))
    }

    /// The number when it is configured (it then belongs to one known WABA).
    pub fn configured(&self, phone_number_id: &str) -> Option<&BusinessNumber> {
        self.config
            .numbers
            .iter()
            .find(|n| n.phone_number_id == phone_number_id)
    }

    pub fn remember_number(&self, phone_number_id: &str) {
        lock(&self.seen_numbers).insert(phone_number_id.to_string());
    }

    /// The configured numbers and every number seen since, for customers to write to.
    pub fn known_numbers(&self) -> Vec<String> {
        let mut numbers: BTreeSet<String> = self
            .config
            .numbers
            .iter()
            .map(|n| n.phone_number_id.clone())
            .collect();
        numbers.extend(lock(&self.seen_numbers).iter().cloned());
        numbers.into_iter().collect()
    }
}

/// Locks `mutex`, going on with the data when a holder panicked (the data stays usable: every
/// update under these locks is a few plain assignments).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A stable display number (`1555` + 7 digits) and WABA id (15 digits) for an unconfigured
/// number, derived from its id (FNV-1a), so webhooks about it always agree.
fn derived_number(phone_number_id: &str) -> BusinessNumber {
    let hash = phone_number_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    BusinessNumber {
        phone_number_id: phone_number_id.to_string(),
        display_phone_number: format!("1555{:07}", hash % 10_000_000),
        waba_id: (100_000_000_000_000 + (hash >> 8) % 900_000_000_000_000).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_numbers_are_stable_and_well_formed() {
        let a = derived_number("106540352242922");
        assert_eq!(a, derived_number("106540352242922"));
        assert_eq!(a.display_phone_number.len(), 11);
        assert_eq!(a.waba_id.len(), 15);
        assert_ne!(a.waba_id, derived_number("106540352242923").waba_id);
    }
}
