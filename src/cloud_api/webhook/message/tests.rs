//! One sample per message type, written from spec §2.4, plus the quirks real payloads show.

use super::*;
use serde_json::json;

fn parse(raw: Value) -> InboundMessage {
    match parse_message(&raw) {
        Ok(message) => message,
        Err(e) => panic!("{e}: {raw}"),
    }
}

fn content(raw: Value) -> MessageContent {
    parse(raw).content
}

#[test]
fn text_reads_every_common_field() {
    let raw = json!({ "from": "14155550123", "id": "wamid.AAA1", "timestamp": "1750090702", "type": "text",
                      "text": { "body": "Does it come in blue?" } });
    let message = parse(raw.clone());
    assert_eq!(
        message,
        InboundMessage {
            id: "wamid.AAA1".into(),
            from: Some("14155550123".into()),
            from_user_id: None,
            timestamp: DateTime::from_timestamp(1750090702, 0).unwrap(),
            type_name: "text".into(),
            context: None,
            content: MessageContent::Text {
                body: "Does it come in blue?".into()
            },
            errors: vec![],
            raw,
        }
    );
    assert_eq!(message.content.preview(), "Does it come in blue?");
}

#[test]
fn an_integer_timestamp_and_a_numeric_id_read() {
    let message = parse(
        json!({ "from": 14155550123_i64, "id": 12345, "timestamp": 1750090702, "type": "text",
                                "text": { "body": "hi" } }),
    );
    assert_eq!(message.id, "12345");
    assert_eq!(message.from.as_deref(), Some("14155550123"));
    assert_eq!(message.timestamp.timestamp(), 1750090702);
}

#[test]
fn image_reads_media_fields_and_the_url() {
    let message = parse(
        json!({ "from": "14155550123", "id": "wamid.AAA2", "timestamp": "1750090710", "type": "image",
        "image": { "caption": "Broken lid", "mime_type": "image/jpeg",
                   "sha256": "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=", "id": "1003383421387256",
                   "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1003383421387256" } }),
    );
    assert_eq!(
        message.content,
        MessageContent::Media {
            kind: MediaKind::Image,
            media_id: "1003383421387256".into(),
            mime_type: Some("image/jpeg".into()),
            sha256: Some("SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=".into()),
            caption: Some("Broken lid".into()),
            filename: None,
            voice: false,
            animated: false,
        }
    );
    assert_eq!(message.content.preview(), "📷 Photo: Broken lid");
    assert_eq!(
        message.media_url().as_deref(),
        Some("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1003383421387256")
    );
}

#[test]
fn audio_voice_video_document_and_sticker_read() {
    let voice = content(
        json!({ "from": "14155550123", "id": "wamid.AAA3", "timestamp": "1750090720", "type": "audio",
        "audio": { "mime_type": "audio/ogg; codecs=opus", "sha256": "wvqX=", "id": "1908647269898587", "voice": true } }),
    );
    assert!(matches!(
        voice,
        MessageContent::Media {
            kind: MediaKind::Audio,
            voice: true,
            ..
        }
    ));
    assert_eq!(voice.preview(), "🎤 Voice message");

    let audio = content(
        json!({ "from": "14155550123", "id": "wamid.AAA3b", "timestamp": "1750090720", "type": "audio",
        "audio": { "mime_type": "audio/mpeg", "id": "1908647269898588" } }),
    );
    assert_eq!(audio.preview(), "🎵 Audio");

    let video = content(
        json!({ "from": "14155550123", "id": "wamid.AAA4", "timestamp": "1750090730", "type": "video",
        "video": { "caption": "Unboxing", "mime_type": "video/mp4", "sha256": "vdGU=", "id": "731675419373506" } }),
    );
    assert!(matches!(
        &video,
        MessageContent::Media {
            kind: MediaKind::Video,
            filename: None,
            ..
        }
    ));
    assert_eq!(video.preview(), "🎥 Video: Unboxing");

    let document = content(
        json!({ "from": "14155550123", "id": "wamid.AAA5", "timestamp": "1750090740", "type": "document",
        "document": { "caption": "my receipt", "filename": "receipt.pdf", "mime_type": "application/pdf",
                      "sha256": "V5OP=", "id": "622684793477189" } }),
    );
    assert!(
        matches!(&document, MessageContent::Media { kind: MediaKind::Document, filename: Some(f), .. } if f == "receipt.pdf")
    );
    assert_eq!(document.preview(), "📄 receipt.pdf: my receipt");

    let sticker = content(
        json!({ "from": "14155550123", "id": "wamid.AAA6", "timestamp": "1750090750", "type": "sticker",
        "sticker": { "mime_type": "image/webp", "sha256": "OmT4=", "id": "1908647269898000", "animated": true } }),
    );
    assert!(matches!(
        sticker,
        MessageContent::Media {
            kind: MediaKind::Sticker,
            animated: true,
            ..
        }
    ));
    assert_eq!(sticker.preview(), "🙂 Sticker");
    assert_eq!(MediaKind::Sticker.as_str(), "sticker");
}

#[test]
fn location_reads_a_pin_and_a_chosen_place() {
    let place = content(
        json!({ "from": "14155550123", "id": "wamid.AAA7", "timestamp": "1750090760", "type": "location",
        "location": { "latitude": 37.44221496582, "longitude": -122.16165924072, "name": "Philz Coffee",
                      "address": "101 Forest Ave, Palo Alto, CA 94301", "url": "https://example.com/" } }),
    );
    assert_eq!(
        place,
        MessageContent::Location {
            latitude: 37.44221496582,
            longitude: -122.16165924072,
            name: Some("Philz Coffee".into()),
            address: Some("101 Forest Ave, Palo Alto, CA 94301".into()),
            url: Some("https://example.com/".into()),
        }
    );
    assert_eq!(place.preview(), "📍 Philz Coffee");

    let pin = content(
        json!({ "from": "14155550123", "id": "wamid.AAA7b", "timestamp": "1750090760", "type": "location",
        "location": { "latitude": 12.25089, "longitude": 43.90539 } }),
    );
    assert!(matches!(pin, MessageContent::Location { name: None, .. }));
    assert_eq!(pin.preview(), "📍 Location");
}

#[test]
fn contacts_are_kept_as_sent() {
    let cards = json!([ { "name": { "formatted_name": "Bruno Lima", "first_name": "Bruno", "last_name": "Lima" },
                          "org": { "company": "Acme" },
                          "phones": [ { "phone": "+1 (415) 555-0199", "wa_id": "14155550199", "type": "MOBILE" } ] },
                        { "name": { "first_name": "Monica" } } ]);
    let shared = content(
        json!({ "from": "14155550123", "id": "wamid.AAA8", "timestamp": "1750090770",
                                 "type": "contacts", "contacts": cards.clone() }),
    );
    assert_eq!(shared, MessageContent::Contacts { contacts: cards });
    assert_eq!(shared.preview(), "👤 Bruno Lima and 1 more");
}

#[test]
fn button_and_list_replies_read_with_their_context() {
    let message = parse(
        json!({ "context": { "from": "15550001111", "id": "wamid.OUT1" },
        "from": "14155550123", "id": "wamid.AAA9", "timestamp": "1750090780", "type": "interactive",
        "interactive": { "type": "button_reply", "button_reply": { "id": "reschedule", "title": "Change" } } }),
    );
    assert_eq!(
        message.context,
        Some(Context {
            id: Some("wamid.OUT1".into()),
            from: Some("15550001111".into()),
            forwarded: false,
            frequently_forwarded: false,
        })
    );
    assert_eq!(
        message.content,
        MessageContent::ButtonReply {
            id: "reschedule".into(),
            title: "Change".into()
        }
    );
    assert_eq!(message.content.preview(), "🔘 Change");

    let list = content(
        json!({ "context": { "from": "15550001111", "id": "wamid.OUT2" },
        "from": "14155550123", "id": "wamid.AAB0", "timestamp": "1750090790", "type": "interactive",
        "interactive": { "type": "list_reply",
                         "list_reply": { "id": "ship_express", "title": "Express", "description": "1-2 days" } } }),
    );
    assert_eq!(
        list,
        MessageContent::ListReply {
            id: "ship_express".into(),
            title: "Express".into(),
            description: Some("1-2 days".into()),
        }
    );
}

#[test]
fn a_flow_reply_keeps_its_response_json() {
    let flow = content(
        json!({ "from": "14155550123", "id": "wamid.AAC1", "timestamp": "1750090795", "type": "interactive",
        "interactive": { "type": "nfm_reply",
                         "nfm_reply": { "response_json": "{\"rating\":\"4\"}", "body": "Sent", "name": "flow" } } }),
    );
    assert_eq!(
        flow,
        MessageContent::FlowReply {
            response_json: "{\"rating\":\"4\"}".into(),
            body: Some("Sent".into()),
            name: Some("flow".into()),
        }
    );
    assert_eq!(flow.preview(), "📝 Form submitted");
}

#[test]
fn a_template_button_reads_with_or_without_context() {
    let message = parse(
        json!({ "context": { "from": "15550001111", "id": "wamid.OUT3" },
        "from": "14155550123", "id": "wamid.AAB1", "timestamp": "1750090800", "type": "button",
        "button": { "payload": "STOP_PROMOS", "text": "Unsubscribe" } }),
    );
    assert_eq!(
        message.content,
        MessageContent::Button {
            payload: Some("STOP_PROMOS".into()),
            text: "Unsubscribe".into()
        }
    );
    assert_eq!(message.content.preview(), "🔘 Unsubscribe");

    let bare = parse(
        json!({ "from": "14155550123", "from_user_id": "US.13491208655302741918", "id": "wamid.AAB1b",
        "timestamp": "1750090800", "type": "button", "button": { "payload": "STOP_PROMOS", "text": "Unsubscribe" } }),
    );
    assert_eq!(bare.context, None);
    assert_eq!(
        bare.from_user_id.as_deref(),
        Some("US.13491208655302741918")
    );
}

#[test]
fn a_reaction_and_both_kinds_of_unreaction_read() {
    // The emoji exactly as Meta escapes it on the wire.
    let raw: Value = serde_json::from_str(
        r#"{ "from": "14155550123", "id": "wamid.AAB2", "timestamp": "1750090810", "type": "reaction",
             "reaction": { "message_id": "wamid.OUT1", "emoji": "\ud83d\ude2e" } }"#,
    )
    .unwrap();
    let reaction = content(raw);
    assert_eq!(
        reaction,
        MessageContent::Reaction {
            message_id: "wamid.OUT1".into(),
            emoji: Some("😮".into())
        }
    );
    assert_eq!(reaction.preview(), "😮 reacted");

    for reaction in [
        json!({ "message_id": "wamid.OUT1", "emoji": "" }),
        json!({ "message_id": "wamid.OUT1" }),
    ] {
        let undo = content(
            json!({ "from": "14155550123", "id": "wamid.AAB2b", "timestamp": "1750090811",
                                   "type": "reaction", "reaction": reaction }),
        );
        assert_eq!(
            undo,
            MessageContent::Reaction {
                message_id: "wamid.OUT1".into(),
                emoji: None
            }
        );
        assert_eq!(undo.preview(), "Removed a reaction");
    }
}

#[test]
fn forwarded_context_has_no_id() {
    for (context, many) in [
        (json!({ "forwarded": true }), false),
        (json!({ "frequently_forwarded": true }), true),
    ] {
        let message = parse(
            json!({ "context": context, "from": "14155550123", "id": "wamid.AAB3",
                                    "timestamp": "1750090820", "type": "text", "text": { "body": "fwd" } }),
        );
        let context = message.context.unwrap();
        assert_eq!((context.id, context.from), (None, None));
        assert_eq!(context.forwarded, !many);
        assert_eq!(context.frequently_forwarded, many);
    }
}

#[test]
fn an_order_with_numeric_quantities_is_kept() {
    let order = json!({ "catalog_id": "354160437058781", "text": "",
                        "product_items": [ { "product_retailer_id": "HAMBURGER", "quantity": 3, "item_price": 30, "currency": "ILS" },
                                           { "product_retailer_id": "SODA", "quantity": 2, "item_price": 10.5, "currency": "ILS" } ] });
    let parsed = content(
        json!({ "from": "14155550123", "id": "wamid.AAB6", "timestamp": "1750090840",
                                 "type": "order", "order": order.clone() }),
    );
    assert_eq!(parsed, MessageContent::Order { order });
    assert_eq!(parsed.preview(), "🛒 Order (2 items)");
}

#[test]
fn system_messages_read_a_number_change_and_an_identity_change() {
    let change = content(
        json!({ "from": "14155550123", "id": "wamid.AAB5", "timestamp": "1750269342", "type": "system",
        "system": { "body": "User Ana Souza changed from 14155550123 to 14155550777",
                    "wa_id": "14155550777", "type": "user_changed_number" } }),
    );
    assert_eq!(
        change,
        MessageContent::System {
            kind: "user_changed_number".into(),
            body: Some("User Ana Souza changed from 14155550123 to 14155550777".into()),
            new_wa_id: Some("14155550777".into()),
        }
    );
    let older = content(
        json!({ "from": "14155550123", "id": "wamid.AAB5b", "timestamp": "1750269342", "type": "system",
        "system": { "body": "changed", "new_wa_id": "14155550777", "type": "user_changed_number" } }),
    );
    assert!(
        matches!(older, MessageContent::System { new_wa_id: Some(id), .. } if id == "14155550777")
    );

    let identity = content(
        json!({ "from": "14155550123", "id": "wamid.AAB5c", "timestamp": "1750269342", "type": "system",
        "identity": { "acknowledged": true, "created_timestamp": "1750269342", "hash": "abc" },
        "system": { "body": "User identity changed", "type": "customer_identity_changed" } }),
    );
    assert!(
        matches!(&identity, MessageContent::System { kind, new_wa_id: None, .. } if kind == "customer_identity_changed")
    );
    assert_eq!(identity.preview(), "User identity changed");
}

#[test]
fn edits_and_revokes_name_the_original() {
    let edit = content(
        json!({ "from": "14155550123", "id": "wamid.AAC2", "timestamp": "1750090850", "type": "edit",
        "edit": { "original_message_id": "wamid.AAB3",
                  "message": { "type": "text", "text": { "body": "Yes, confirmed" } } } }),
    );
    assert!(
        matches!(&edit, MessageContent::Edit { original_id, .. } if original_id == "wamid.AAB3")
    );
    assert_eq!(edit.preview(), "Edited: Yes, confirmed");
    if let MessageContent::Edit { message, .. } = &edit {
        assert_eq!(
            parse_content(message),
            MessageContent::Text {
                body: "Yes, confirmed".into()
            }
        );
    }

    let revoke = content(
        json!({ "from": "14155550123", "id": "wamid.AAC3", "timestamp": "1750090860", "type": "revoke",
        "revoke": { "original_message_id": "wamid.AAB3" } }),
    );
    assert_eq!(
        revoke,
        MessageContent::Revoke {
            original_id: "wamid.AAB3".into()
        }
    );
    assert_eq!(revoke.preview(), "🚫 Message deleted");
}

#[test]
fn unsupported_and_unknown_types_are_kept_with_their_errors() {
    let message = parse(
        json!({ "from": "14155550123", "id": "wamid.AAB4", "timestamp": "1750090830", "type": "unsupported",
        "errors": [ { "code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                      "error_data": { "details": "Message type is currently not supported." } } ],
        "unsupported": { "type": "edit" } }),
    );
    assert_eq!(message.type_name, "unsupported");
    assert_eq!(
        message.content,
        MessageContent::Unsupported {
            kind: Some("edit".into())
        }
    );
    assert_eq!(message.errors[0].code, 131051);
    assert_eq!(
        message.errors[0].details.as_deref(),
        Some("Message type is currently not supported.")
    );

    let old = content(
        json!({ "from": "14155550123", "id": "wamid.AAB4b", "timestamp": "1750090830", "type": "unknown" }),
    );
    assert_eq!(old, MessageContent::Unsupported { kind: None });
    assert_eq!(old.preview(), "Unsupported message");

    let new = parse(
        json!({ "from": "14155550123", "id": "wamid.AAB4c", "timestamp": "1750090830",
                            "type": "whatever-new", "whatever-new": { "x": 1 } }),
    );
    assert_eq!(new.type_name, "whatever-new");
    assert_eq!(
        new.content,
        MessageContent::Unsupported {
            kind: Some("whatever-new".into())
        }
    );
}

#[test]
fn a_known_type_with_a_missing_or_malformed_object_is_unsupported_not_an_error() {
    let cases = [
        (json!({ "type": "interactive" }), "interactive"),
        (
            json!({ "type": "interactive", "interactive": { "type": "call_permission_reply",
                 "call_permission_reply": { "response": "accept" } } }),
            "call_permission_reply",
        ),
        (
            json!({ "type": "interactive", "interactive": { "type": "button_reply" } }),
            "button_reply",
        ),
        (
            json!({ "type": "image", "image": { "mime_type": "image/jpeg" } }),
            "image",
        ),
        (
            json!({ "type": "location", "location": { "latitude": "north" } }),
            "location",
        ),
        (json!({ "type": "text", "text": 5 }), "text"),
        (
            json!({ "type": "reaction", "reaction": { "emoji": "👍" } }),
            "reaction",
        ),
        (json!({ "type": "contacts", "contacts": [] }), "contacts"),
        (json!({ "type": "revoke", "revoke": {} }), "revoke"),
        (json!({ "type": "system" }), "system"),
    ];
    for (mut raw, kind) in cases {
        raw["id"] = json!("wamid.ODD");
        raw["timestamp"] = json!("1750090830");
        let message = parse(raw);
        assert_eq!(
            message.content,
            MessageContent::Unsupported {
                kind: Some(kind.into())
            }
        );
    }
    let untyped = content(json!({ "id": "wamid.ODD", "timestamp": "1750090830" }));
    assert_eq!(untyped, MessageContent::Unsupported { kind: None });
}

#[test]
fn empty_from_is_none_and_a_referral_is_reachable() {
    let message = parse(
        json!({ "from": "", "from_user_id": "US.1", "id": "wamid.AAC4", "timestamp": "1750090870",
        "type": "text", "text": { "body": "from an ad" },
        "referral": { "source_url": "https://fb.me/ad", "source_id": "ADID", "source_type": "ad", "ctwa_clid": "CLID" } }),
    );
    assert_eq!(message.from, None);
    assert_eq!(message.referral().unwrap()["source_id"], "ADID");
}

#[test]
fn only_a_missing_id_or_timestamp_is_an_error() {
    let cases = [
        (
            json!({ "timestamp": "1750090702", "type": "text", "text": { "body": "x" } }),
            "a message has no `id`",
        ),
        (
            json!({ "id": "", "timestamp": "1750090702" }),
            "a message has no `id`",
        ),
        (
            json!({ "id": "wamid.X", "type": "text" }),
            "a message has no `timestamp`",
        ),
        (
            json!({ "id": "wamid.X", "timestamp": "" }),
            "a message has a `timestamp` that is not unix seconds: \"\"",
        ),
        (json!([1]), "a message is not a JSON object"),
    ];
    for (raw, message) in cases {
        assert_eq!(parse_message(&raw).unwrap_err().to_string(), message);
    }
}

#[test]
fn previews_are_one_line() {
    let text = MessageContent::Text {
        body: "line one\nline   two\r\n".into(),
    };
    assert_eq!(text.preview(), "line one line two");
    let order = MessageContent::Order {
        order: json!({ "product_items": [ {} ], "text": "for Friday" }),
    };
    assert_eq!(order.preview(), "🛒 Order (1 item): for Friday");
    let unsupported = MessageContent::Unsupported {
        kind: Some("pool".into()),
    };
    assert_eq!(unsupported.preview(), "Unsupported message (pool)");
}

#[test]
fn content_serialises_tagged_by_type() {
    let reaction = MessageContent::Reaction {
        message_id: "wamid.OUT1".into(),
        emoji: None,
    };
    let json = serde_json::to_value(&reaction).unwrap();
    assert_eq!(
        json,
        json!({ "type": "reaction", "message_id": "wamid.OUT1", "emoji": null })
    );
    assert_eq!(
        serde_json::from_value::<MessageContent>(json).unwrap(),
        reaction
    );
}
