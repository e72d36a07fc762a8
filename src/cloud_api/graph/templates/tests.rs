//! Template listings, creation bodies and their checks (spec §8).

use super::*;

fn spec_page() -> Value {
    json!({ "data": [
        { "name": "order_update", "parameter_format": "POSITIONAL", "language": "en_US", "status": "APPROVED",
          "category": "UTILITY", "id": "1387372356726668",
          "components": [
            { "type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": { "header_text": [ "#4521" ] } },
            { "type": "BODY", "text": "Hi {{1}}, order {{2}} has shipped.",
              "example": { "body_text": [ [ "Ana", "#4521" ] ] } },
            { "type": "FOOTER", "text": "Acme Store" },
            { "type": "BUTTONS", "buttons": [
                { "type": "QUICK_REPLY", "text": "Track" },
                { "type": "URL", "text": "Details", "url": "https://example.com/o/{{1}}", "example": [ "https://example.com/o/4521" ] },
                { "type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550001111" } ] } ] } ],
      "paging": { "cursors": { "before": "QVFIUaaa", "after": "QVFIUbbb" },
                  "next": "https://graph.facebook.com/v23.0/109876543210987/message_templates?limit=5&after=QVFIUbbb" } })
}

#[test]
fn the_spec_listing_is_read() {
    let page: TemplatePage = serde_json::from_value(spec_page()).unwrap();
    assert_eq!(page.data.len(), 1);
    let t = &page.data[0];
    assert_eq!(t.id, "1387372356726668");
    assert_eq!(t.name, "order_update");
    assert_eq!(t.language, "en_US");
    assert_eq!(t.status, "APPROVED");
    assert_eq!(t.category, "UTILITY");
    assert_eq!(t.parameter_format.as_deref(), Some("POSITIONAL"));
    assert_eq!(t.components, spec_page()["data"][0]["components"]);
    assert_eq!(
        page.next(),
        Some(
            "https://graph.facebook.com/v23.0/109876543210987/message_templates?limit=5&after=QVFIUbbb"
        )
    );
}

#[test]
fn the_last_page_has_no_next() {
    let last: TemplatePage = serde_json::from_value(
        json!({ "data": [], "paging": { "cursors": { "before": "a", "after": "b" } } }),
    )
    .unwrap();
    assert_eq!(last.next(), None);
    let bare: TemplatePage = serde_json::from_value(json!({ "data": [] })).unwrap();
    assert_eq!(bare.next(), None);
    let blank: TemplatePage = serde_json::from_value(json!({ "paging": { "next": "" } })).unwrap();
    assert_eq!(blank.next(), None);
}

#[test]
fn a_sparse_template_gets_defaults_and_a_numeric_id_is_text() {
    let t: TemplateInfo = serde_json::from_value(
        json!({ "id": 1689556908129835_u64, "name": "n", "language": "en" }),
    )
    .unwrap();
    assert_eq!(t.id, "1689556908129835");
    assert_eq!(t.status, "");
    assert_eq!(t.components, json!([]));
    assert_eq!(t.parameter_format, None);
    assert!(
        serde_json::from_value::<TemplateInfo>(json!({ "name": "n", "language": "en" })).is_err()
    );
}

#[test]
fn the_spec_creation_answer_is_read() {
    let created: CreatedTemplate = serde_json::from_value(
        json!({ "id": "546151681022936", "status": "PENDING", "category": "UTILITY" }),
    )
    .unwrap();
    assert_eq!(
        created,
        CreatedTemplate {
            id: "546151681022936".into(),
            status: "PENDING".into(),
            category: Some("UTILITY".into()),
        }
    );
}

fn spec_new() -> NewTemplate {
    NewTemplate {
        name: "order_update".into(),
        language: "en_US".into(),
        category: "UTILITY".into(),
        components: json!([
            { "type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": { "header_text": [ "#4521" ] } },
            { "type": "BODY", "text": "Hi {{1}}, order {{2}} has shipped.", "example": { "body_text": [ [ "Ana", "#4521" ] ] } },
            { "type": "FOOTER", "text": "Acme Store" },
            { "type": "BUTTONS", "buttons": [ { "type": "QUICK_REPLY", "text": "Track" } ] } ]),
        parameter_format: Some("POSITIONAL".into()),
    }
}

#[test]
fn the_creation_body_is_the_spec_example() {
    let expected = json!({ "name": "order_update", "language": "en_US", "category": "UTILITY", "parameter_format": "POSITIONAL",
      "components": [
        { "type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": { "header_text": [ "#4521" ] } },
        { "type": "BODY", "text": "Hi {{1}}, order {{2}} has shipped.", "example": { "body_text": [ [ "Ana", "#4521" ] ] } },
        { "type": "FOOTER", "text": "Acme Store" },
        { "type": "BUTTONS", "buttons": [ { "type": "QUICK_REPLY", "text": "Track" } ] } ] });
    let template = spec_new();
    assert_eq!(template.validate(), Ok(()));
    assert_eq!(template.to_json(), expected);
}

#[test]
fn category_and_parameter_format_go_upper_case() {
    let mut template = spec_new();
    template.category = "utility".into();
    template.parameter_format = Some("named".into());
    assert_eq!(template.validate(), Ok(()));
    assert_eq!(template.to_json()["category"], json!("UTILITY"));
    assert_eq!(template.to_json()["parameter_format"], json!("NAMED"));
    template.parameter_format = None;
    assert!(template.to_json().get("parameter_format").is_none());
}

fn refused(template: &NewTemplate, says: &str) {
    match template.validate() {
        Ok(()) => panic!("accepted, expected: {says}"),
        Err(e) => assert!(
            e.message.contains(says),
            "`{}` does not say `{says}`",
            e.message
        ),
    }
}

#[test]
fn a_name_is_lowercase_letters_digits_and_underscores_up_to_512() {
    let mut template = spec_new();
    template.name = "a".repeat(512);
    assert_eq!(template.validate(), Ok(()));
    template.name = "a".repeat(513);
    refused(
        &template,
        "a template name is at most 512 characters (this one has 513)",
    );
    for bad in ["Order_update", "order-update", "order update", "pedido_ñ"] {
        template.name = bad.into();
        refused(
            &template,
            "a template name is lowercase letters, digits and _ only",
        );
    }
    template.name = String::new();
    refused(&template, "a template name cannot be empty");
}

#[test]
fn category_language_and_parameter_format_are_checked() {
    let mut template = spec_new();
    template.category = "PROMO".into();
    refused(
        &template,
        "a template category is one of MARKETING, UTILITY, AUTHENTICATION (this one is `PROMO`)",
    );
    let mut template = spec_new();
    template.language = " ".into();
    refused(&template, "a template language cannot be empty");
    let mut template = spec_new();
    template.parameter_format = Some("ORDERED".into());
    refused(&template, "a parameter format is one of POSITIONAL, NAMED");
}

#[test]
fn component_texts_have_their_limits() {
    let with = |header: usize, body: usize, footer: usize| NewTemplate {
        components: json!([
            { "type": "HEADER", "format": "TEXT", "text": "h".repeat(header) },
            { "type": "BODY", "text": "b".repeat(body) },
            { "type": "FOOTER", "text": "f".repeat(footer) } ]),
        ..spec_new()
    };
    assert_eq!(with(60, 1024, 60).validate(), Ok(()));
    refused(
        &with(61, 1024, 60),
        "a template header is at most 60 characters (this one has 61)",
    );
    refused(
        &with(60, 1025, 60),
        "a template body is at most 1024 characters (this one has 1025)",
    );
    refused(
        &with(60, 1024, 61),
        "a template footer is at most 60 characters (this one has 61)",
    );
}

#[test]
fn components_are_an_array_with_one_body() {
    let with = |components: Value| NewTemplate {
        components,
        ..spec_new()
    };
    refused(
        &with(json!({ "type": "BODY" })),
        "template components are a JSON array",
    );
    refused(
        &with(json!([ { "type": "FOOTER", "text": "x" } ])),
        "a template needs a BODY component",
    );
    refused(
        &with(json!([ { "text": "x" } ])),
        "a template component is an object with a `type` (component 1 is not)",
    );
    refused(
        &with(json!([ { "type": "BODY", "text": "a" }, { "type": "body", "text": "b" } ])),
        "a template has at most one BODY component",
    );
    assert_eq!(
        with(json!([ { "type": "body", "text": "lower case type" } ])).validate(),
        Ok(())
    );
}
