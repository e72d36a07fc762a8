//! Each body against spec §5's examples. treeex always sends `recipient_type: "individual"`, so
//! it is added to the examples that leave it out; everything else is the spec's JSON verbatim.

use super::*;

fn message(to: &str, body: OutboundBody) -> OutboundMessage {
    OutboundMessage::new(to, body)
}

fn with_recipient_type(mut example: Value) -> Value {
    example["recipient_type"] = json!("individual");
    example
}

#[test]
fn text_with_a_link_preview() {
    let m = message(
        "+14155550123",
        OutboundBody::Text {
            body: "Tracking: https://example.com/t/123".into(),
            preview_url: true,
        },
    );
    let expected = json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "+14155550123", "type": "text",
      "text": { "preview_url": true, "body": "Tracking: https://example.com/t/123" } });
    assert_eq!(m.to_json(), expected);
    assert_eq!(m.type_name(), "text");
}

#[test]
fn image_by_id_with_a_caption() {
    let m = message(
        "14155550123",
        OutboundBody::Media {
            kind: MediaKind::Image,
            source: MediaSource::Id("1037543291543636".into()),
            caption: Some("Your invoice".into()),
            filename: None,
        },
    );
    let expected = json!({ "messaging_product": "whatsapp", "to": "14155550123", "type": "image",
      "image": { "id": "1037543291543636", "caption": "Your invoice" } });
    assert_eq!(m.to_json(), with_recipient_type(expected));
    assert_eq!(m.type_name(), "image");
}

#[test]
fn document_by_link_with_a_filename_and_caption() {
    let m = message(
        "14155550123",
        OutboundBody::Media {
            kind: MediaKind::Document,
            source: MediaSource::Link("https://files.example.com/inv-42.pdf".into()),
            caption: Some("Invoice 42".into()),
            filename: Some("inv-42.pdf".into()),
        },
    );
    let expected = json!({ "messaging_product": "whatsapp", "to": "14155550123", "type": "document",
      "document": { "link": "https://files.example.com/inv-42.pdf", "filename": "inv-42.pdf", "caption": "Invoice 42" } });
    assert_eq!(m.to_json(), with_recipient_type(expected));
    assert_eq!(m.type_name(), "document");
}

#[test]
fn audio_by_id() {
    let m = message(
        "14155550123",
        OutboundBody::Media {
            kind: MediaKind::Audio,
            source: MediaSource::Id("1908647269898587".into()),
            caption: None,
            filename: None,
        },
    );
    let expected = json!({ "messaging_product": "whatsapp", "to": "14155550123", "type": "audio", "audio": { "id": "1908647269898587" } });
    assert_eq!(m.to_json(), with_recipient_type(expected));
}

#[test]
fn video_by_link_with_a_caption() {
    let m = message(
        "14155550123",
        OutboundBody::Media {
            kind: MediaKind::Video,
            source: MediaSource::Link("https://files.example.com/a.mp4".into()),
            caption: Some("Demo".into()),
            filename: None,
        },
    );
    let expected = json!({ "messaging_product": "whatsapp", "to": "14155550123", "type": "video", "video": { "link": "https://files.example.com/a.mp4", "caption": "Demo" } });
    assert_eq!(m.to_json(), with_recipient_type(expected));
}

#[test]
fn sticker_by_id() {
    let m = message(
        "14155550123",
        OutboundBody::Media {
            kind: MediaKind::Sticker,
            source: MediaSource::Id("77".into()),
            caption: None,
            filename: None,
        },
    );
    assert_eq!(m.type_name(), "sticker");
    assert_eq!(m.to_json()["sticker"], json!({ "id": "77" }));
}

#[test]
fn template_with_header_body_and_button_parameters() {
    let components = vec![
        json!({ "type": "header", "parameters": [ { "type": "image", "image": { "id": "2871834006348767" } } ] }),
        json!({ "type": "body", "parameters": [
            { "type": "text", "text": "Ana" },
            { "type": "text", "text": "#4521" } ] }),
        json!({ "type": "button", "sub_type": "quick_reply", "index": "0",
            "parameters": [ { "type": "payload", "payload": "TRACK_4521" } ] }),
        json!({ "type": "button", "sub_type": "url", "index": "1",
            "parameters": [ { "type": "text", "text": "4521" } ] }),
    ];
    let m = message(
        "14155550123",
        OutboundBody::Template {
            name: "order_update".into(),
            language: "en_US".into(),
            components,
        },
    );
    let expected = json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "14155550123", "type": "template",
      "template": {
        "name": "order_update",
        "language": { "policy": "deterministic", "code": "en_US" },
        "components": [
          { "type": "header", "parameters": [ { "type": "image", "image": { "id": "2871834006348767" } } ] },
          { "type": "body", "parameters": [
              { "type": "text", "text": "Ana" },
              { "type": "text", "text": "#4521" } ] },
          { "type": "button", "sub_type": "quick_reply", "index": "0",
            "parameters": [ { "type": "payload", "payload": "TRACK_4521" } ] },
          { "type": "button", "sub_type": "url", "index": "1",
            "parameters": [ { "type": "text", "text": "4521" } ] } ] } });
    assert_eq!(m.to_json(), expected);
    assert_eq!(m.type_name(), "template");
}

#[test]
fn a_template_without_parameters_has_no_components() {
    let m = message(
        "14155550123",
        OutboundBody::Template {
            name: "hello_world".into(),
            language: "en_US".into(),
            components: vec![],
        },
    );
    assert_eq!(
        m.to_json()["template"],
        json!({ "name": "hello_world", "language": { "policy": "deterministic", "code": "en_US" } })
    );
}

#[test]
fn reply_buttons() {
    let m = message(
        "14155550123",
        OutboundBody::Buttons {
            header: Some("Workshop".into()),
            body: "Your workshop is tomorrow at 9am.".into(),
            footer: Some("Reply below".into()),
            buttons: vec![
                ("confirm".into(), "Confirm".into()),
                ("reschedule".into(), "Change".into()),
            ],
        },
    );
    let expected = json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "14155550123", "type": "interactive",
      "interactive": { "type": "button",
        "header": { "type": "text", "text": "Workshop" },
        "body": { "text": "Your workshop is tomorrow at 9am." },
        "footer": { "text": "Reply below" },
        "action": { "buttons": [
          { "type": "reply", "reply": { "id": "confirm", "title": "Confirm" } },
          { "type": "reply", "reply": { "id": "reschedule", "title": "Change" } } ] } } });
    assert_eq!(m.to_json(), expected);
    assert_eq!(m.type_name(), "interactive");
}

#[test]
fn a_list() {
    let m = message(
        "14155550123",
        OutboundBody::List {
            header: Some("Shipping".into()),
            body: "Which option do you prefer?".into(),
            footer: None,
            button: "Options".into(),
            sections: vec![
                ListSection {
                    title: Some("Fast".into()),
                    rows: vec![ListRow {
                        id: "ship_express".into(),
                        title: "Express".into(),
                        description: Some("1-2 days".into()),
                    }],
                },
                ListSection {
                    title: Some("Cheap".into()),
                    rows: vec![ListRow {
                        id: "ship_std".into(),
                        title: "Standard".into(),
                        description: None,
                    }],
                },
            ],
        },
    );
    let expected = json!({ "messaging_product": "whatsapp", "to": "14155550123", "type": "interactive",
      "interactive": { "type": "list",
        "header": { "type": "text", "text": "Shipping" },
        "body": { "text": "Which option do you prefer?" },
        "action": { "button": "Options", "sections": [
          { "title": "Fast", "rows": [ { "id": "ship_express", "title": "Express", "description": "1-2 days" } ] },
          { "title": "Cheap", "rows": [ { "id": "ship_std", "title": "Standard" } ] } ] } } });
    assert_eq!(m.to_json(), with_recipient_type(expected));
    assert_eq!(m.type_name(), "interactive");
}

#[test]
fn a_reaction_and_its_removal() {
    let m = message(
        "14155550123",
        OutboundBody::Reaction {
            message_id: "wamid.AAB3".into(),
            emoji: "\u{1f44d}".into(),
        },
    );
    let expected: Value = serde_json::from_str(
        r#"{ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "14155550123", "type": "reaction",
             "reaction": { "message_id": "wamid.AAB3", "emoji": "\ud83d\udc4d" } }"#,
    )
    .unwrap();
    assert_eq!(m.to_json(), expected);
    assert_eq!(m.type_name(), "reaction");

    let removal = message(
        "14155550123",
        OutboundBody::Reaction {
            message_id: "wamid.AAB3".into(),
            emoji: String::new(),
        },
    );
    assert_eq!(
        removal.to_json()["reaction"],
        json!({ "message_id": "wamid.AAB3", "emoji": "" })
    );
}

#[test]
fn a_reply_carries_its_context() {
    let mut m = message(
        "14155550123",
        OutboundBody::Text {
            body: "Confirmed, thanks!".into(),
            preview_url: false,
        },
    );
    m.reply_to = Some("wamid.AAB3".into());
    let expected = json!({ "messaging_product": "whatsapp", "to": "14155550123", "context": { "message_id": "wamid.AAB3" },
      "type": "text", "text": { "body": "Confirmed, thanks!" } });
    assert_eq!(m.to_json(), with_recipient_type(expected));
}

#[test]
fn callback_data_is_sent_as_biz_opaque_callback_data() {
    let mut m = message(
        "14155550123",
        OutboundBody::Text {
            body: "Hi".into(),
            preview_url: false,
        },
    );
    m.callback_data = Some("outbox:42".into());
    assert_eq!(m.to_json()["biz_opaque_callback_data"], json!("outbox:42"));
}

#[test]
fn a_location() {
    let m = message(
        "14155550123",
        OutboundBody::Location {
            latitude: 37.483307,
            longitude: -122.148981,
            name: Some("Pablo Morales".into()),
            address: Some("1 Hacker Way, Menlo Park, CA 94025".into()),
        },
    );
    let expected = json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "14155550123", "type": "location",
      "location": { "latitude": 37.483307, "longitude": -122.148981, "name": "Pablo Morales",
                    "address": "1 Hacker Way, Menlo Park, CA 94025" } });
    assert_eq!(m.to_json(), expected);
    assert_eq!(m.type_name(), "location");
}

#[test]
fn blank_optional_texts_are_left_out() {
    let mut m = message(
        "14155550123",
        OutboundBody::Buttons {
            header: Some(" ".into()),
            body: "Pick one".into(),
            footer: Some(String::new()),
            buttons: vec![("a".into(), "A".into())],
        },
    );
    m.reply_to = Some(String::new());
    m.callback_data = Some(String::new());
    let json = m.to_json();
    assert!(json.get("context").is_none());
    assert!(json.get("biz_opaque_callback_data").is_none());
    assert!(json["interactive"].get("header").is_none());
    assert!(json["interactive"].get("footer").is_none());

    let image = message(
        "14155550123",
        OutboundBody::Media {
            kind: MediaKind::Image,
            source: MediaSource::Id("1".into()),
            caption: Some(String::new()),
            filename: None,
        },
    );
    assert_eq!(image.to_json()["image"], json!({ "id": "1" }));
}

#[test]
fn the_spec_success_answer_is_accepted() {
    let answer = json!({ "messaging_product": "whatsapp",
      "contacts": [ { "input": "+14155550123", "wa_id": "14155550123" } ],
      "messages": [ { "id": "wamid.HBgLMTQxNTU1NTAxMjMVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA", "message_status": "accepted" } ] });
    assert_eq!(
        Accepted::from_json(&answer),
        Some(Accepted {
            wa_message_id: "wamid.HBgLMTQxNTU1NTAxMjMVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA".into(),
            wa_id: Some("14155550123".into()),
            message_status: Some("accepted".into()),
        })
    );
}

#[test]
fn an_answer_for_a_username_has_no_wa_id() {
    let answer = json!({ "messaging_product": "whatsapp",
      "contacts": [ { "input": "US.1349", "user_id": "US.1349" } ],
      "messages": [ { "id": "wamid.X" } ] });
    assert_eq!(
        Accepted::from_json(&answer),
        Some(Accepted {
            wa_message_id: "wamid.X".into(),
            wa_id: None,
            message_status: None,
        })
    );
}

#[test]
fn an_answer_without_a_message_id_is_not_accepted() {
    assert_eq!(Accepted::from_json(&json!({ "messages": [] })), None);
    assert_eq!(
        Accepted::from_json(&json!({ "messages": [ { "id": "" } ] })),
        None
    );
    assert_eq!(Accepted::from_json(&json!({ "success": true })), None);
}
