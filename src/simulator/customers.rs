//! Customers: a customer message becomes a signed inbound webhook (`messages` with
//! `contacts[].profile.name`) and opens the customer window. Simulated customers (`customers:
//! N`, with names and numbers like "Ana Souza" 14155550100) write in now and then to the numbers
//! the simulator knows (configured, or seen sending), and sometimes answer what they read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::state::{Shared, lock};
use super::webhooks::Update;
use super::{BusinessNumber, NamedCustomer, SimError, ids};

const NAMES: &[&str] = &[
    "Ana Souza",
    "Bruno Lima",
    "Chloé Martin",
    "Diego Fernández",
    "Emma Johnson",
    "Farah Haddad",
    "Giulia Rossi",
    "Hiroshi Tanaka",
    "Ingrid Larsen",
    "João Pereira",
    "Kwame Mensah",
    "Lena Müller",
    "Mateo García",
    "Nadia Petrova",
    "Omar Khalil",
    "Priya Sharma",
];

const OPENERS: &[&str] = &[
    "Hi! Is my order on its way?",
    "Do you have this in blue?",
    "Olá! Vocês entregam no sábado? 🙂",
    "Can I change my delivery address?",
    "What time do you open tomorrow?",
    "Is the spring sale still on?",
    "¿Tienen envío gratis?",
    "My parcel arrived damaged 😕",
];

const ANSWERS: &[&str] = &[
    "Thanks!",
    "Great, thank you 😊",
    "Perfect.",
    "Can you tell me more?",
    "OK 👍",
    "When will it arrive?",
    "Merci beaucoup !",
];

/// The simulated customers.
#[derive(Debug, Default)]
pub(crate) struct Customers {
    people: Vec<Customer>,
}

#[derive(Debug, Clone)]
struct Customer {
    name: String,
    wa_id: String,
}

impl Customers {
    pub fn new(count: usize, named: &[NamedCustomer]) -> Customers {
        let generated = (0..count).map(|i| Customer {
            name: match i / NAMES.len() {
                0 => NAMES[i].to_string(),
                round => format!("{} {}", NAMES[i % NAMES.len()], round + 1),
            },
            wa_id: (14_155_550_100u64 + i as u64).to_string(),
        });
        let people = named
            .iter()
            .map(|c| Customer {
                name: c.name.clone(),
                wa_id: c.wa_id.clone(),
            })
            .chain(generated)
            .collect();
        Customers { people }
    }

    fn find(&self, wa_id: &str) -> Option<&Customer> {
        self.people.iter().find(|c| c.wa_id == wa_id)
    }
}

/// A customer writes `text` to the number, replying to `context` when given: opens the window,
/// queues the signed webhook and returns the message's wamid.
pub(crate) fn write_in(
    shared: &Shared,
    phone_number_id: &str,
    from: &str,
    name: &str,
    text: &str,
    context: Option<&str>,
) -> Result<String, SimError> {
    let phone_number_id = phone_number_id.trim();
    if phone_number_id.is_empty() {
        return Err(SimError::Invalid("phone_number_id is required".into()));
    }
    let wa_id = ids::wa_id(from).ok_or_else(|| {
        SimError::Invalid(format!(
            "`from` is not a phone number (7 to 15 digits): {from:?}"
        ))
    })?;
    if text.trim().is_empty() {
        return Err(SimError::Invalid("text is required".into()));
    }
    let number = shared.number(phone_number_id);
    lock(&shared.rules).customer_wrote(phone_number_id, &wa_id, Instant::now());
    lock(&shared.ledger).inbound(phone_number_id);
    shared.remember_number(phone_number_id);
    let wamid = ids::wamid(&wa_id);
    let mut message = json!({
        "from": wa_id,
        "id": wamid,
        "timestamp": ids::unix_now().to_string(),
        "type": "text",
        "text": { "body": text },
    });
    if let Some(replied_to) = context {
        message["context"] = json!({ "from": number.display_phone_number, "id": replied_to });
    }
    let mut contact = json!({ "wa_id": wa_id });
    if !name.trim().is_empty() {
        contact["profile"] = json!({ "name": name });
    }
    shared.webhooks.send(Update {
        waba_id: number.waba_id.clone(),
        time: None,
        field: "messages",
        value: json!({
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": number.display_phone_number,
                "phone_number_id": number.phone_number_id,
            },
            "contacts": [contact],
            "messages": [message],
        }),
    });
    Ok(wamid)
}

/// Starts one task per simulated customer.
pub(crate) fn start(shared: &Arc<Shared>) {
    for customer in &shared.customers.people {
        tokio::spawn(write_now_and_then(shared.clone(), customer.clone()));
    }
}

/// Writes an opener to a known number once in every `write_every` (the first time sooner).
async fn write_now_and_then(shared: Arc<Shared>, customer: Customer) {
    let pace = shared.config.customer_pace.write_every;
    let mut wait = ids::between((Duration::ZERO, pace.1));
    loop {
        tokio::select! {
            () = shared.cancel.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = ids::between(pace).max(Duration::from_millis(10));
        let numbers = shared.known_numbers();
        if numbers.is_empty() {
            continue;
        }
        let number = &numbers[rand::random_range(0..numbers.len())];
        let text = OPENERS[rand::random_range(0..OPENERS.len())];
        if let Err(error) = write_in(&shared, number, &customer.wa_id, &customer.name, text, None) {
            tracing::warn!(%error, "a simulated customer could not write");
        }
    }
}

/// A customer read a business message: a simulated one answers it, sometimes, a little later.
pub(crate) fn answer(shared: &Arc<Shared>, number: &BusinessNumber, wa_id: &str, wamid: &str) {
    let Some(customer) = shared.customers.find(wa_id).cloned() else {
        return;
    };
    let pace = shared.config.customer_pace;
    if !ids::chance(pace.reply_probability) {
        return;
    }
    let (shared, number, wamid) = (
        shared.clone(),
        number.phone_number_id.clone(),
        wamid.to_string(),
    );
    let delay = ids::between(pace.reply_after);
    tokio::spawn(async move {
        tokio::select! {
            () = shared.cancel.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
        let text = ANSWERS[rand::random_range(0..ANSWERS.len())];
        let written = write_in(
            &shared,
            &number,
            &customer.wa_id,
            &customer.name,
            text,
            Some(&wamid),
        );
        if let Err(error) = written {
            tracing::warn!(%error, "a simulated customer could not answer");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_have_distinct_names_and_numbers() {
        let named = [NamedCustomer {
            name: "ليلى حداد".into(),
            wa_id: "971501234567".into(),
        }];
        let customers = Customers::new(NAMES.len() + 2, &named);
        assert_eq!(customers.people.len(), NAMES.len() + 3);
        assert!(customers.find("971501234567").is_some());
        assert_eq!(customers.people[1].name, "Ana Souza");
        assert_eq!(customers.people[1].wa_id, "14155550100");
        assert_eq!(customers.people[NAMES.len() + 1].name, "Ana Souza 2");
        assert!(customers.find("14155550101").is_some());
    }
}
