//! Every limit of spec §5: at the limit accepted, one over refused with a message naming it.

use super::*;
use crate::cloud_api::graph::send::ListRow;

const TO: &str = "14155550123";

fn msg(body: OutboundBody) -> OutboundMessage {
    OutboundMessage::new(TO, body)
}

fn text(body: &str) -> OutboundBody {
    OutboundBody::Text {
        body: body.into(),
        preview_url: false,
    }
}

fn ok(message: &OutboundMessage) {
    if let Err(e) = message.validate() {
        panic!("refused: {e}");
    }
}

/// Refused, and the message contains `says`.
fn refused(message: &OutboundMessage, says: &str) -> LimitError {
    match message.validate() {
        Ok(()) => panic!("accepted, expected: {says}"),
        Err(e) => {
            assert!(
                e.message.contains(says),
                "`{}` does not say `{says}`",
                e.message
            );
            e
        }
    }
}

fn n(count: usize) -> String {
    "a".repeat(count)
}

#[test]
fn the_recipient_is_7_to_15_digits() {
    for to in ["1234567", "123456789012345", "+14155550123"] {
        ok(&OutboundMessage::new(to, text("hi")));
    }
    for to in [
        "123456",
        "1234567890123456",
        "",
        "+",
        "1415 555 0123",
        "abc1234567",
        "US.1349",
    ] {
        let e = refused(&OutboundMessage::new(to, text("hi")), "7 to 15 digits");
        assert_eq!(e.field, "to");
    }
}

#[test]
fn a_text_body_is_at_most_4096_characters() {
    ok(&msg(text(&n(4096))));
    let e = refused(
        &msg(text(&n(4097))),
        "a text body is at most 4096 characters (this one has 4097)",
    );
    assert_eq!(e.field, "text.body");
    // Characters, not bytes.
    ok(&msg(text(&"é".repeat(4096))));
    refused(&msg(text("  ")), "a text body cannot be empty");
}

fn media(kind: MediaKind, caption: Option<String>, filename: Option<&str>) -> OutboundMessage {
    msg(OutboundBody::Media {
        kind,
        source: MediaSource::Id("1037543291543636".into()),
        caption,
        filename: filename.map(str::to_string),
    })
}

#[test]
fn a_caption_is_at_most_1024_characters_on_image_video_and_document() {
    for kind in [MediaKind::Image, MediaKind::Video, MediaKind::Document] {
        ok(&media(kind, Some(n(1024)), None));
        refused(
            &media(kind, Some(n(1025)), None),
            "a caption is at most 1024 characters (this one has 1025)",
        );
    }
}

#[test]
fn audio_and_stickers_take_no_caption() {
    refused(
        &media(MediaKind::Audio, Some("hi".into()), None),
        "an audio message takes no caption",
    );
    refused(
        &media(MediaKind::Sticker, Some("hi".into()), None),
        "a sticker takes no caption",
    );
    ok(&media(MediaKind::Audio, None, None));
    ok(&media(MediaKind::Sticker, Some(String::new()), None));
}

#[test]
fn only_a_document_takes_a_filename() {
    ok(&media(MediaKind::Document, None, Some("inv-42.pdf")));
    for kind in [
        MediaKind::Image,
        MediaKind::Video,
        MediaKind::Audio,
        MediaKind::Sticker,
    ] {
        let e = refused(
            &media(kind, None, Some("x.bin")),
            "only a document takes a filename",
        );
        assert_eq!(e.field, format!("{}.filename", kind.as_str()));
    }
}

#[test]
fn a_media_source_is_a_non_empty_id_or_an_http_link() {
    let with = |source| {
        msg(OutboundBody::Media {
            kind: MediaKind::Image,
            source,
            caption: None,
            filename: None,
        })
    };
    ok(&with(MediaSource::Link(
        "https://files.example.com/a.jpg".into(),
    )));
    ok(&with(MediaSource::Link("http://127.0.0.1:9/a.jpg".into())));
    refused(
        &with(MediaSource::Id(" ".into())),
        "a media id cannot be empty",
    );
    refused(
        &with(MediaSource::Link("files/a.jpg".into())),
        "a media link is an http(s) URL",
    );
}

fn buttons(
    header: Option<&str>,
    body: &str,
    footer: Option<&str>,
    list: &[(&str, &str)],
) -> OutboundMessage {
    msg(OutboundBody::Buttons {
        header: header.map(str::to_string),
        body: body.into(),
        footer: footer.map(str::to_string),
        buttons: list
            .iter()
            .map(|(id, t)| (id.to_string(), t.to_string()))
            .collect(),
    })
}

#[test]
fn at_most_3_reply_buttons_and_at_least_one() {
    ok(&buttons(
        None,
        "Pick",
        None,
        &[("a", "A"), ("b", "B"), ("c", "C")],
    ));
    refused(
        &buttons(
            None,
            "Pick",
            None,
            &[("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")],
        ),
        "reply buttons are at most 3 (this message has 4)",
    );
    refused(&buttons(None, "Pick", None, &[]), "at least 1 button");
}

#[test]
fn a_button_title_is_at_most_20_and_unique() {
    ok(&buttons(None, "Pick", None, &[("a", &n(20))]));
    let e = refused(
        &buttons(None, "Pick", None, &[("a", "A"), ("b", &n(21))]),
        "a button title is at most 20 characters (this one has 21)",
    );
    assert_eq!(e.field, "interactive.action.buttons[1].reply.title");
    refused(
        &buttons(None, "Pick", None, &[("a", "Same"), ("b", "Same")]),
        "button titles must be unique (`Same` appears twice)",
    );
    refused(
        &buttons(None, "Pick", None, &[("a", " ")]),
        "a button title cannot be empty",
    );
}

#[test]
fn a_button_id_is_at_most_256_and_unique() {
    ok(&buttons(None, "Pick", None, &[(&n(256), "A")]));
    refused(
        &buttons(None, "Pick", None, &[(&n(257), "A")]),
        "a button id is at most 256 characters (this one has 257)",
    );
    refused(
        &buttons(None, "Pick", None, &[("x", "A"), ("x", "B")]),
        "button ids must be unique",
    );
}

#[test]
fn a_buttons_message_body_footer_and_header_have_their_limits() {
    let one = [("a", "A")];
    ok(&buttons(Some(&n(60)), &n(1024), Some(&n(60)), &one));
    refused(
        &buttons(None, &n(1025), None, &one),
        "the body of a buttons message is at most 1024 characters (this one has 1025)",
    );
    refused(
        &buttons(None, "", None, &one),
        "the body of a buttons message cannot be empty",
    );
    refused(
        &buttons(None, "Pick", Some(&n(61)), &one),
        "an interactive footer is at most 60 characters (this one has 61)",
    );
    refused(
        &buttons(Some(&n(61)), "Pick", None, &one),
        "an interactive header is at most 60 characters (this one has 61)",
    );
}

fn row(id: &str, title: &str, description: Option<&str>) -> ListRow {
    ListRow {
        id: id.into(),
        title: title.into(),
        description: description.map(str::to_string),
    }
}

fn section(title: Option<&str>, rows: Vec<ListRow>) -> ListSection {
    ListSection {
        title: title.map(str::to_string),
        rows,
    }
}

fn list(body: &str, button: &str, sections: Vec<ListSection>) -> OutboundMessage {
    msg(OutboundBody::List {
        header: None,
        body: body.into(),
        footer: None,
        button: button.into(),
        sections,
    })
}

fn one_row() -> Vec<ListSection> {
    vec![section(None, vec![row("r1", "Row", None)])]
}

#[test]
fn a_list_button_is_at_most_20() {
    ok(&list("Pick", &n(20), one_row()));
    refused(
        &list("Pick", &n(21), one_row()),
        "the button of a list message is at most 20 characters (this one has 21)",
    );
    refused(
        &list("Pick", "", one_row()),
        "the button of a list message cannot be empty",
    );
}

#[test]
fn a_list_body_header_and_footer_have_their_limits() {
    ok(&list(&n(4096), "Go", one_row()));
    refused(
        &list(&n(4097), "Go", one_row()),
        "the body of a list message is at most 4096 characters (this one has 4097)",
    );
    let framed = |header: usize, footer: usize| {
        msg(OutboundBody::List {
            header: Some(n(header)),
            body: "Pick".into(),
            footer: Some(n(footer)),
            button: "Go".into(),
            sections: one_row(),
        })
    };
    ok(&framed(60, 60));
    refused(
        &framed(61, 60),
        "an interactive header is at most 60 characters",
    );
    refused(
        &framed(60, 61),
        "an interactive footer is at most 60 characters",
    );
}

#[test]
fn at_most_10_sections_and_10_rows_in_all() {
    let sections = |count: usize| -> Vec<ListSection> {
        (0..count)
            .map(|i| {
                section(
                    Some(&format!("S{i}")),
                    vec![row(&format!("r{i}"), "Row", None)],
                )
            })
            .collect()
    };
    ok(&list("Pick", "Go", sections(10)));
    refused(
        &list("Pick", "Go", sections(11)),
        "list sections are at most 10 (this list has 11)",
    );
    refused(&list("Pick", "Go", vec![]), "at least 1 section");

    let rows = |count: usize| -> Vec<ListRow> {
        (0..count)
            .map(|i| row(&format!("r{i}"), "Row", None))
            .collect()
    };
    ok(&list("Pick", "Go", vec![section(None, rows(10))]));
    refused(
        &list("Pick", "Go", vec![section(None, rows(11))]),
        "list rows, counted over all sections, are at most 10 (this list has 11)",
    );
    // Counted over all sections: 6 + 5.
    let mut split = rows(11);
    let second = split.split_off(6);
    refused(
        &list(
            "Pick",
            "Go",
            vec![section(Some("A"), split), section(Some("B"), second)],
        ),
        "list rows, counted over all sections, are at most 10",
    );
}

#[test]
fn rows_have_their_limits() {
    let with_row = |r: ListRow| list("Pick", "Go", vec![section(None, vec![r])]);
    ok(&with_row(row(&n(200), &n(24), Some(&n(72)))));
    refused(
        &with_row(row(&n(201), "Row", None)),
        "a row id is at most 200 characters (this one has 201)",
    );
    refused(
        &with_row(row("r", &n(25), None)),
        "a row title is at most 24 characters (this one has 25)",
    );
    refused(
        &with_row(row("r", "Row", Some(&n(73)))),
        "a row description is at most 72 characters (this one has 73)",
    );
    refused(&with_row(row("r", "", None)), "a row title cannot be empty");
    refused(
        &list(
            "Pick",
            "Go",
            vec![section(
                None,
                vec![row("r", "A", None), row("r", "B", None)],
            )],
        ),
        "row ids must be unique (`r` appears twice)",
    );
}

#[test]
fn sections_have_their_limits() {
    let titled = |title: &str| {
        list(
            "Pick",
            "Go",
            vec![section(Some(title), vec![row("r", "Row", None)])],
        )
    };
    ok(&titled(&n(24)));
    refused(
        &titled(&n(25)),
        "a section title is at most 24 characters (this one has 25)",
    );
    refused(
        &list(
            "Pick",
            "Go",
            vec![
                section(Some("A"), vec![row("a", "A", None)]),
                section(None, vec![row("b", "B", None)]),
            ],
        ),
        "needs a title (section 2 has none)",
    );
    refused(
        &list("Pick", "Go", vec![section(None, vec![])]),
        "every list section needs at least 1 row",
    );
}

#[test]
fn a_reaction_cannot_quote_a_message() {
    let reaction = |emoji: &str| {
        msg(OutboundBody::Reaction {
            message_id: "wamid.AAB3".into(),
            emoji: emoji.into(),
        })
    };
    ok(&reaction("\u{1f44d}"));
    ok(&reaction(""));
    let mut quoting = reaction("\u{1f44d}");
    quoting.reply_to = Some("wamid.AAB3".into());
    let e = refused(&quoting, "a reaction cannot quote a message");
    assert_eq!(e.field, "context");
    refused(
        &msg(OutboundBody::Reaction {
            message_id: String::new(),
            emoji: "x".into(),
        }),
        "the message a reaction is for cannot be empty",
    );
}

#[test]
fn a_quoted_message_id_cannot_be_blank() {
    let mut m = msg(text("hi"));
    m.reply_to = Some("wamid.AAB3".into());
    ok(&m);
    m.reply_to = Some(" ".into());
    refused(&m, "a quoted message id cannot be empty");
}

#[test]
fn callback_data_is_at_most_512_characters() {
    let mut m = msg(text("hi"));
    m.callback_data = Some(n(512));
    ok(&m);
    m.callback_data = Some(n(513));
    refused(&m, "is at most 512 characters (this one has 513)");
}

#[test]
fn a_location_is_on_the_globe() {
    let at = |latitude: f64, longitude: f64| {
        msg(OutboundBody::Location {
            latitude,
            longitude,
            name: None,
            address: None,
        })
    };
    ok(&at(90.0, 180.0));
    ok(&at(-90.0, -180.0));
    refused(&at(90.5, 0.0), "a latitude is between -90 and 90");
    refused(&at(0.0, -180.5), "a longitude is between -180 and 180");
    refused(&at(f64::NAN, 0.0), "a latitude is between -90 and 90");
}

#[test]
fn a_template_needs_a_name_a_language_and_object_components() {
    let template = |name: &str, language: &str, components: Vec<serde_json::Value>| {
        msg(OutboundBody::Template {
            name: name.into(),
            language: language.into(),
            components,
        })
    };
    ok(&template(
        "order_update",
        "en_US",
        vec![serde_json::json!({ "type": "body", "parameters": [] })],
    ));
    ok(&template(&n(512), "en_US", vec![]));
    refused(
        &template(&n(513), "en_US", vec![]),
        "a template name is at most 512 characters",
    );
    refused(
        &template("", "en_US", vec![]),
        "a template name cannot be empty",
    );
    refused(
        &template("x", "", vec![]),
        "a template language cannot be empty",
    );
    refused(
        &template("x", "en_US", vec![serde_json::json!("body")]),
        "a template component is an object with a `type` (component 1 is not)",
    );
}
