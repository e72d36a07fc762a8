//! Whole webhook bodies: our own samples written from spec §2 and §8, and the outside fixture set
//! when `TREEEX_OUTSIDE_FIXTURES` names it.

use super::*;
use serde_json::json;

fn body(value: Value) -> Vec<u8> {
    serde_json::to_vec(&value).unwrap()
}

fn messages_change(value: Value) -> Value {
    json!({ "object": "whatsapp_business_account",
            "entry": [ { "id": "109876543210987", "changes": [ { "field": "messages", "value": value } ] } ] })
}

fn only_messages_value(notification: &Notification) -> MessagesValue {
    match notification.entry[0].changes[0].parse() {
        Ok(ChangeKind::Messages(value)) => value,
        other => panic!("not a messages change: {other:?}"),
    }
}

#[test]
fn an_inbound_text_reads_through_every_layer() {
    let raw = body(messages_change(json!({
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "15550001111", "phone_number_id": "100200300400500" },
        "contacts": [ { "profile": { "name": "Ana Souza" }, "wa_id": "14155550123" } ],
        "messages": [ { "from": "14155550123", "id": "wamid.AAA1", "timestamp": "1750090702", "type": "text",
                        "text": { "body": "Does it come in blue?" } } ] })));
    let notification = Notification::parse(&raw).unwrap();
    assert_eq!(notification.object, "whatsapp_business_account");
    assert_eq!(notification.entry[0].id, "109876543210987");
    assert_eq!(notification.entry[0].time, None);
    assert_eq!(notification.changes().count(), 1);

    let value = only_messages_value(&notification);
    assert_eq!(
        value.metadata,
        Metadata {
            display_phone_number: Some("15550001111".into()),
            phone_number_id: "100200300400500".into(),
        }
    );
    assert_eq!(
        value.contacts,
        vec![Profile {
            wa_id: Some("14155550123".into()),
            user_id: None,
            name: Some("Ana Souza".into()),
            username: None,
        }]
    );
    assert!(value.statuses.is_empty() && value.errors.is_empty());
    let message = parse_message(&value.messages[0]).unwrap();
    assert_eq!(message.content.preview(), "Does it come in blue?");
    assert_eq!(
        value.profile_of(&message).and_then(|p| p.name.as_deref()),
        Some("Ana Souza")
    );
}

#[test]
fn username_only_customers_have_no_wa_id_and_match_by_user_id() {
    let raw = body(messages_change(json!({
        "metadata": { "phone_number_id": 100200300400500_i64 },
        "contacts": [ { "profile": { "name": "Ana", "username": "ana.s" }, "wa_id": "",
                        "user_id": "US.13491208655302741918", "parent_user_id": "US.ENT.1" } ],
        "messages": [ { "from": "", "from_user_id": "US.13491208655302741918", "id": "wamid.U1",
                        "timestamp": 1750090702, "type": "text", "text": { "body": "hi" } } ] })));
    let value = only_messages_value(&Notification::parse(&raw).unwrap());
    assert_eq!(value.metadata.phone_number_id, "100200300400500");
    assert_eq!(value.metadata.display_phone_number, None);
    let profile = &value.contacts[0];
    assert_eq!(profile.wa_id, None);
    assert_eq!(profile.username.as_deref(), Some("ana.s"));
    let message = parse_message(&value.messages[0]).unwrap();
    assert_eq!(message.from, None);
    assert_eq!(value.profile_of(&message), Some(profile));
}

#[test]
fn statuses_may_carry_contacts_and_a_system_message_may_have_none() {
    let raw = body(messages_change(json!({
        "metadata": { "display_phone_number": "15550001111", "phone_number_id": "100200300400500" },
        "contacts": [ { "profile": { "name": "Ana Souza" }, "wa_id": "14155550123" } ],
        "statuses": [ { "id": "wamid.OUT5", "status": "read", "timestamp": "1760659400", "recipient_id": "14155550123" } ] })));
    let value = only_messages_value(&Notification::parse(&raw).unwrap());
    assert_eq!(value.contacts.len(), 1);
    assert!(value.messages.is_empty());
    assert_eq!(
        parse_status(&value.statuses[0]).unwrap().status,
        DeliveryStatus::Read
    );

    let raw = body(messages_change(json!({
        "metadata": { "display_phone_number": "15550001111", "phone_number_id": "100200300400500" },
        "messages": [ { "from": "14155550123", "id": "wamid.AAB5", "timestamp": "1750269342", "type": "system",
                        "system": { "body": "changed", "wa_id": "14155550777", "type": "user_changed_number" } } ] })));
    let value = only_messages_value(&Notification::parse(&raw).unwrap());
    assert!(value.contacts.is_empty());
    assert_eq!(value.messages.len(), 1);
}

#[test]
fn value_errors_sit_beside_an_interactive_message_without_its_object() {
    let raw = body(messages_change(json!({
        "metadata": { "display_phone_number": "15550001111", "phone_number_id": "100200300400500" },
        "contacts": [ { "profile": { "name": "Ana Souza" }, "wa_id": "14155550123" } ],
        "messages": [ { "context": { "from": "15550001111", "id": "wamid.OUT1" }, "from": "14155550123",
                        "id": "wamid.AAC5", "timestamp": "1700505494", "type": "interactive" } ],
        "errors": [ { "code": 131000, "title": "Something went wrong", "message": "Something went wrong",
                      "error_data": { "details": "Unsupported webhook payload" } } ] })));
    let value = only_messages_value(&Notification::parse(&raw).unwrap());
    assert_eq!(value.errors[0].code, 131000);
    assert_eq!(
        value.errors[0].details.as_deref(),
        Some("Unsupported webhook payload")
    );
    let message = parse_message(&value.messages[0]).unwrap();
    assert_eq!(
        message.content,
        MessageContent::Unsupported {
            kind: Some("interactive".into())
        }
    );
}

#[test]
fn an_async_error_alone_reads() {
    let raw = body(messages_change(json!({
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "15550001111", "phone_number_id": "100200300400500" },
        "errors": [ { "code": 130429, "title": "Rate limit hit", "message": "Rate limit hit",
                      "error_data": { "details": "Too many messages" },
                      "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/" } ] })));
    let value = only_messages_value(&Notification::parse(&raw).unwrap());
    assert_eq!(
        value.errors[0].summary(),
        "130429 Rate limit hit: Too many messages"
    );
}

#[test]
fn one_bad_item_does_not_sink_its_neighbours() {
    let raw = body(messages_change(json!({
        "metadata": { "phone_number_id": "100200300400500" },
        "messages": [ { "from": "14155550123", "timestamp": "1750090702", "type": "text", "text": { "body": "no id" } },
                      { "from": "14155550123", "id": "wamid.OK", "timestamp": "1750090703", "type": "text", "text": { "body": "fine" } } ],
        "statuses": null })));
    let value = only_messages_value(&Notification::parse(&raw).unwrap());
    let parsed: Vec<_> = value.messages.iter().map(parse_message).collect();
    assert!(parsed[0].is_err());
    assert_eq!(parsed[1].as_ref().unwrap().id, "wamid.OK");
    assert!(value.statuses.is_empty());
}

#[test]
fn a_messages_change_without_its_phone_number_id_is_an_error() {
    let change = Change {
        field: "messages".into(),
        value: json!({ "metadata": {} }),
    };
    assert_eq!(
        change.parse().unwrap_err().to_string(),
        "a `messages` change has no `metadata.phone_number_id`"
    );
    let change = Change {
        field: "messages".into(),
        value: json!("nope"),
    };
    assert_eq!(
        change.parse().unwrap_err().to_string(),
        "a `messages` change is not a JSON object"
    );
}

#[test]
fn template_events_carry_integer_time_and_ids() {
    let raw = body(json!({ "object": "whatsapp_business_account",
        "entry": [ { "id": 109876543210987_i64, "time": 1751247548,
            "changes": [ { "field": "message_template_status_update",
                "value": { "event": "APPROVED", "message_template_id": 1689556908129832_i64,
                           "message_template_name": "order_update", "message_template_language": "en_US",
                           "reason": "NONE", "message_template_category": "UTILITY" } },
                         { "field": "template_category_update",
                "value": { "message_template_id": 12345678, "message_template_name": "order_update",
                           "message_template_language": "en_US", "previous_category": "UTILITY",
                           "new_category": "MARKETING" } } ] } ] }));
    let notification = Notification::parse(&raw).unwrap();
    let entry = &notification.entry[0];
    assert_eq!(entry.id, "109876543210987");
    assert_eq!(entry.time, Some(1751247548));
    match entry.changes[0].parse().unwrap() {
        ChangeKind::TemplateStatus(update) => {
            assert_eq!(update.event, "APPROVED");
            assert_eq!(update.template_id, "1689556908129832");
            assert_eq!(update.category.as_deref(), Some("UTILITY"));
        }
        other => panic!("{other:?}"),
    }
    match entry.changes[1].parse().unwrap() {
        ChangeKind::TemplateCategory(update) => {
            assert_eq!(update.template_id, "12345678");
            assert_eq!(update.new_category.as_deref(), Some("MARKETING"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn other_fields_are_other_and_kept_raw() {
    let value =
        json!({ "event": "ACCOUNT_VIOLATION", "violation_info": { "violation_type": "ADULT" } });
    let raw = body(json!({ "object": "whatsapp_business_account",
        "entry": [ { "id": "102290129340398", "time": "1743451903",
                     "changes": [ { "field": "account_update", "value": value.clone() },
                                  { "value": { "a": 1 } } ] } ] }));
    let notification = Notification::parse(&raw).unwrap();
    assert_eq!(notification.entry[0].time, Some(1743451903));
    let change = &notification.entry[0].changes[0];
    assert_eq!(change.parse().unwrap(), ChangeKind::Other);
    assert_eq!(change.value, value);
    assert_eq!(notification.entry[0].changes[1].field, "");
    assert_eq!(
        notification.entry[0].changes[1].parse().unwrap(),
        ChangeKind::Other
    );
}

#[test]
fn a_sparse_envelope_reads_and_a_non_object_does_not() {
    let notification = Notification::parse(br#"{"entry": null}"#).unwrap();
    assert_eq!(
        notification,
        Notification {
            object: String::new(),
            entry: vec![]
        }
    );
    let notification =
        Notification::parse(br#"{"object": "page", "entry": [{"changes": null}]}"#).unwrap();
    assert_eq!(notification.entry[0].id, "");
    assert!(notification.entry[0].changes.is_empty());
    assert!(Notification::parse(b"[]").is_err());
    assert!(Notification::parse(b"not json").is_err());
}

#[test]
fn escaped_unicode_in_a_body_reads_as_text() {
    let raw = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"2"},"messages":[{"from":"14155550123","id":"wamid.E","timestamp":"1750090810","type":"text","text":{"body":"\u00e4\u00f6\u00e5 \ud83d\ude2e"}}]}}]}]}"#;
    let value = only_messages_value(&Notification::parse(raw).unwrap());
    let message = parse_message(&value.messages[0]).unwrap();
    assert_eq!(
        message.content,
        MessageContent::Text {
            body: "äöå 😮".into()
        }
    );
}

/// Runs the outside fixture set (README: `../shared/fixtures/cloud-api/pywa`, named by
/// `TREEEX_OUTSIDE_FIXTURES`): every body must read, every change must read, every item with an
/// id and a timestamp must read, and no message may be lost.
#[test]
fn the_outside_fixture_set_reads_without_losing_a_message() {
    let Some(folder) = std::env::var_os("TREEEX_OUTSIDE_FIXTURES") else {
        println!("TREEEX_OUTSIDE_FIXTURES is not set: the outside fixture set was not run");
        return;
    };
    let folder = std::path::PathBuf::from(folder);
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .json files in {}", folder.display());

    let (mut cases, mut messages_seen, mut messages_read, mut statuses_read) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read(file).unwrap();
        let cases_in_file: serde_json::Map<String, Value> = serde_json::from_slice(&text)
            .unwrap_or_else(|e| panic!("{} is not a JSON object: {e}", file.display()));
        for (name, case) in &cases_in_file {
            cases += 1;
            let label = format!("{}:{name}", file.file_name().unwrap().to_string_lossy());
            let notification = match Notification::parse(&body(case.clone())) {
                Ok(notification) => notification,
                Err(e) => {
                    failures.push(format!("{label}: body: {e}"));
                    continue;
                }
            };
            // Count the message items straight from the JSON, independently of our types.
            let raw_messages: usize = case["entry"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|entry| entry["changes"].as_array().into_iter().flatten())
                .filter(|change| change["field"] == "messages")
                .map(|change| change["value"]["messages"].as_array().map_or(0, Vec::len))
                .sum();
            messages_seen += raw_messages;
            let mut read_here = 0;
            for change in notification.changes() {
                let value = match change.parse() {
                    Ok(ChangeKind::Messages(value)) => value,
                    Ok(_) => continue,
                    Err(e) => {
                        failures.push(format!("{label}: change `{}`: {e}", change.field));
                        continue;
                    }
                };
                for item in &value.messages {
                    match parse_message(item) {
                        Ok(message) => {
                            assert!(!message.content.preview().is_empty(), "{label}");
                            read_here += 1;
                        }
                        Err(e) if identified(item) => failures.push(format!("{label}: {e}")),
                        Err(_) => {}
                    }
                }
                for item in &value.statuses {
                    match parse_status(item) {
                        Ok(_) => statuses_read += 1,
                        Err(e) if identified(item) => failures.push(format!("{label}: {e}")),
                        Err(_) => {}
                    }
                }
            }
            if read_here != raw_messages {
                failures.push(format!(
                    "{label}: {raw_messages} messages sent, {read_here} read"
                ));
            }
            messages_read += read_here;
        }
    }
    println!(
        "outside fixtures: {} files, {cases} cases, {messages_read}/{messages_seen} messages and {statuses_read} statuses read",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "outside fixtures failed:\n{}",
        failures.join("\n")
    );
}

/// An item with what identifies it: an id and a timestamp.
fn identified(item: &Value) -> bool {
    item.get("id").is_some_and(|id| !id.is_null()) && item.get("timestamp").is_some()
}
