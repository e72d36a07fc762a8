//! Error bodies from spec §5.1 and the classes of spec §5.2's table.

use super::*;
use serde_json::json;

fn body(value: Value) -> Vec<u8> {
    serde_json::to_vec(&value).unwrap()
}

#[test]
fn the_spec_131030_body_is_read_whole() {
    let raw = body(json!({ "error": {
        "message": "(#131030) Recipient phone number not in allowed list",
        "type": "OAuthException",
        "code": 131030,
        "error_data": { "messaging_product": "whatsapp",
                        "details": "Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again." },
        "fbtrace_id": "AbCdEfGh123" } }));
    let error = ApiError::from_body(400, &raw);
    assert_eq!(
        error,
        ApiError {
            http_status: 400,
            code: 131030,
            subcode: None,
            title: "Recipient phone number not in allowed list".into(),
            message: "(#131030) Recipient phone number not in allowed list".into(),
            details: Some(
                "Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again."
                    .into()
            ),
            fbtrace_id: Some("AbCdEfGh123".into()),
            is_transient: None,
        }
    );
    assert_eq!(error.class(), ErrorClass::FixRequest);
    let shown = error.to_string();
    assert!(
        shown.contains("Recipient phone number not in allowed list"),
        "{shown}"
    );
    assert!(
        shown.contains("131030") && shown.contains("HTTP 400"),
        "{shown}"
    );
    assert!(shown.contains("Add recipient phone number"), "{shown}");
}

#[test]
fn the_spec_token_error_is_token_expired() {
    let raw = body(json!({ "error": {
        "message": "Error validating access token: Session has expired on Friday, 13-Jun-25 10:00:00 PDT.",
        "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "Axyz" } }));
    let error = ApiError::from_body(401, &raw);
    assert_eq!(error.code, 190);
    assert_eq!(error.subcode, Some(463));
    assert_eq!(error.http_status, 401);
    assert_eq!(
        error.title,
        "Error validating access token: Session has expired on Friday, 13-Jun-25 10:00:00 PDT."
    );
    assert_eq!(error.title, error.message);
    assert_eq!(error.details, None);
    assert_eq!(error.class(), ErrorClass::TokenExpired);
    assert_eq!(GraphError::from(error).class(), ErrorClass::TokenExpired);
}

#[test]
fn throughput_errors_keep_their_subcode_and_transience() {
    let raw = body(json!({ "error": {
        "message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429,
        "error_subcode": 2494055, "is_transient": true,
        "error_data": { "messaging_product": "whatsapp", "details": "Cloud API message throughput has been reached." },
        "fbtrace_id": "A1" } }));
    let error = ApiError::from_body(429, &raw);
    assert_eq!(error.subcode, Some(2494055));
    assert_eq!(error.is_transient, Some(true));
    assert_eq!(error.title, "Rate limit hit");
    assert_eq!(error.class(), ErrorClass::RetryLater);
}

#[test]
fn codes_written_as_strings_are_read() {
    let raw = body(
        json!({ "error": { "message": "(#131056) Pair rate limit hit", "code": "131056", "error_subcode": "2494100" } }),
    );
    let error = ApiError::from_body(400, &raw);
    assert_eq!(error.code, 131056);
    assert_eq!(error.subcode, Some(2494100));
    assert_eq!(error.class(), ErrorClass::RetryRecipientLater);
}

#[test]
fn a_non_json_body_becomes_an_error_coded_by_its_http_status() {
    let html = b"<html><body>502 Bad Gateway</body></html>";
    let error = ApiError::from_body(502, html);
    assert_eq!(error.code, 502);
    assert_eq!(error.http_status, 502);
    assert_eq!(error.message, "<html><body>502 Bad Gateway</body></html>");
    assert_eq!(error.title, error.message);
    assert_eq!(error.details, None);
    assert_eq!(error.class(), ErrorClass::RetryNow);
}

#[test]
fn an_empty_body_is_named_by_its_status() {
    let error = ApiError::from_body(503, b"  ");
    assert_eq!(error.message, "HTTP 503 Service Unavailable");
    assert_eq!(error.class(), ErrorClass::RetryNow);
    assert_eq!(ApiError::from_body(404, b"").message, "HTTP 404 Not Found");
}

#[test]
fn json_without_an_error_object_is_kept_as_text() {
    let error = ApiError::from_body(400, br#"{"oops": 1}"#);
    assert_eq!(error.code, 400);
    assert_eq!(error.message, r#"{"oops": 1}"#);
    assert_eq!(error.class(), ErrorClass::Permanent);
    let error = ApiError::from_body(400, br#"{"error": "bad"}"#);
    assert_eq!(error.code, 400);
}

#[test]
fn a_long_text_body_is_cut() {
    let long = "x".repeat(2000);
    let error = ApiError::from_body(500, long.as_bytes());
    assert_eq!(error.message.chars().count(), MAX_TEXT_CHARS + 1);
    assert!(error.message.ends_with('…'));
}

#[test]
fn an_error_object_without_a_code_takes_the_http_status() {
    let error = ApiError::from_body(
        500,
        br#"{"error": {"message": "An unknown error occurred"}}"#,
    );
    assert_eq!(error.code, 500);
    assert_eq!(error.title, "An unknown error occurred");
    assert_eq!(error.class(), ErrorClass::RetryNow);
}

#[test]
fn the_code_prefix_is_stripped_only_when_it_is_one() {
    assert_eq!(
        strip_code_prefix("(#100) Invalid parameter"),
        "Invalid parameter"
    );
    assert_eq!(
        strip_code_prefix("(#100)Invalid parameter"),
        "Invalid parameter"
    );
    assert_eq!(strip_code_prefix("(#abc) Not a code"), "(#abc) Not a code");
    assert_eq!(strip_code_prefix("(#) Empty"), "(#) Empty");
    assert_eq!(strip_code_prefix("Plain"), "Plain");
}

fn class_of(code: i64, http_status: u16) -> ErrorClass {
    ApiError {
        http_status,
        code,
        subcode: None,
        title: String::new(),
        message: String::new(),
        details: None,
        fbtrace_id: None,
        is_transient: None,
    }
    .class()
}

#[test]
fn every_code_of_the_table_has_its_class() {
    use ErrorClass::*;
    let table: &[(i64, u16, ErrorClass)] = &[
        (0, 401, TokenExpired),
        (190, 401, TokenExpired),
        (3, 500, Permanent),
        (10, 403, Permanent),
        (200, 403, Permanent),
        (299, 403, Permanent),
        (4, 429, RetryLater),
        (80007, 429, RetryLater),
        (1, 400, RetryNow),
        (2, 503, RetryNow),
        (100, 400, FixRequest),
        (131008, 400, FixRequest),
        (131009, 400, FixRequest),
        (130429, 429, RetryLater),
        (131056, 429, RetryRecipientLater),
        (131056, 400, RetryRecipientLater),
        (131048, 429, RetryLater),
        (131047, 400, WindowClosed),
        (131026, 400, Permanent),
        (131051, 400, Permanent),
        (131000, 500, RetryNow),
        (131016, 503, RetryNow),
        (131030, 400, FixRequest),
        (131049, 400, Permanent),
        (131050, 400, Permanent),
        (131052, 400, Permanent),
        (131053, 400, Permanent),
        (131057, 500, RetryLater),
        (132000, 400, FixRequest),
        (132001, 404, FixRequest),
        (132005, 400, FixRequest),
        (132007, 400, FixRequest),
        (132012, 400, FixRequest),
        (132015, 400, Permanent),
        (132016, 400, Permanent),
        (368, 403, Permanent),
        (131031, 403, Permanent),
        (130472, 400, Permanent),
    ];
    for &(code, status, class) in table {
        assert_eq!(class_of(code, status), class, "code {code}, HTTP {status}");
    }
}

#[test]
fn the_table_wins_over_the_http_status() {
    // A permanent code stays permanent even when Meta answers 5xx; 131000 retries even on 400.
    assert_eq!(class_of(3, 500), ErrorClass::Permanent);
    assert_eq!(class_of(131057, 503), ErrorClass::RetryLater);
    assert_eq!(class_of(131000, 400), ErrorClass::RetryNow);
}

#[test]
fn unknown_codes_go_by_the_http_status() {
    assert_eq!(class_of(999_999, 500), ErrorClass::RetryNow);
    assert_eq!(class_of(999_999, 503), ErrorClass::RetryNow);
    assert_eq!(class_of(999_999, 429), ErrorClass::RetryLater);
    assert_eq!(class_of(999_999, 401), ErrorClass::TokenExpired);
    assert_eq!(class_of(999_999, 400), ErrorClass::Permanent);
    assert_eq!(class_of(999_999, 404), ErrorClass::Permanent);
    let mut transient = ApiError::from_text(400, "odd");
    transient.code = 999_999;
    transient.is_transient = Some(true);
    assert_eq!(transient.class(), ErrorClass::RetryNow);
}

#[test]
fn graph_errors_have_their_classes() {
    let invalid = GraphError::Invalid(LimitError::new("text.body", "too long"));
    assert_eq!(invalid.class(), ErrorClass::FixRequest);
    assert!(!invalid.is_ambiguous());
    assert_eq!(invalid.to_string(), "not sent: too long");

    let ambiguous = GraphError::Ambiguous("operation timed out".into());
    assert_eq!(ambiguous.class(), ErrorClass::RetryLater);
    assert!(ambiguous.is_ambiguous());

    let decode = GraphError::Decode {
        status: 200,
        detail: "not JSON".into(),
    };
    assert_eq!(decode.class(), ErrorClass::Permanent);
    assert!(!decode.is_ambiguous());
    assert!(decode.api().is_none());

    let api = GraphError::from(ApiError::from_body(
        429,
        br#"{"error":{"message":"(#4) Application request limit reached","code":4}}"#,
    ));
    assert_eq!(api.class(), ErrorClass::RetryLater);
    assert_eq!(api.api().map(|a| a.code), Some(4));
    assert!(
        api.to_string()
            .contains("Application request limit reached")
    );
}
