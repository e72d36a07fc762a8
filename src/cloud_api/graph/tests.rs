//! The client's pure parts (paths, paging URLs, answers) and how it sorts transport failures.
//! Real exchanges with a Graph API are tested against the simulator.

use super::*;

use std::net::TcpListener;

fn client(base: &str) -> GraphClient {
    GraphClient::new(base, "v23.0", Duration::from_secs(5)).unwrap()
}

fn token() -> SecretString {
    SecretString::from("EAAG-test-token".to_string())
}

fn invalid(result: Result<impl std::fmt::Debug, GraphError>) -> LimitError {
    match result {
        Err(GraphError::Invalid(limit)) => limit,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn answer(status: u16, body: &str) -> Answer {
    Answer {
        status,
        content_type: Some("application/json".into()),
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn paths_are_base_version_ids_and_tail() {
    let graph = client("https://graph.facebook.com");
    let messages = graph
        .endpoint(&[("phone number id", "106540352242922")], Some("messages"))
        .unwrap();
    assert_eq!(
        messages.as_str(),
        "https://graph.facebook.com/v23.0/106540352242922/messages"
    );
    let media = graph
        .endpoint(&[("media id", "1037543291543636")], None)
        .unwrap();
    assert_eq!(
        media.as_str(),
        "https://graph.facebook.com/v23.0/1037543291543636"
    );
    let templates = client("http://127.0.0.1:8089/")
        .endpoint(&[("WABA id", "102290129340398")], Some("message_templates"))
        .unwrap();
    assert_eq!(
        templates.as_str(),
        "http://127.0.0.1:8089/v23.0/102290129340398/message_templates"
    );
}

#[test]
fn a_base_with_a_path_keeps_it_and_odd_ids_are_encoded() {
    let graph = client("http://127.0.0.1:8089/graph");
    let url = graph.endpoint(&[("media id", "a/b?c")], None).unwrap();
    assert_eq!(url.as_str(), "http://127.0.0.1:8089/graph/v23.0/a%2Fb%3Fc");
}

#[test]
fn a_blank_id_is_refused_before_anything_is_sent() {
    let graph = client("http://127.0.0.1:1");
    let limit = invalid(graph.endpoint(&[("phone number id", " ")], Some("messages")));
    assert_eq!(limit.message, "a phone number id cannot be empty");
    assert_eq!(limit.field, "phone_number_id");
}

#[test]
fn the_base_url_and_version_are_checked() {
    let bad_base = |base: &str| invalid(GraphClient::new(base, "v23.0", Duration::from_secs(1)));
    assert!(
        bad_base("graph.facebook.com")
            .message
            .contains("absolute http(s) URL")
    );
    assert!(
        bad_base("ftp://graph.facebook.com")
            .message
            .contains("absolute http(s) URL")
    );
    assert!(bad_base("").message.contains("absolute http(s) URL"));
    for version in ["23.0", "v23", "v23.x", "", "v.0", "v23.0/x"] {
        let limit = invalid(GraphClient::new(
            "https://graph.facebook.com",
            version,
            Duration::from_secs(1),
        ));
        assert!(
            limit.message.contains("looks like v23.0"),
            "{version}: {}",
            limit.message
        );
    }
    let graph = client("https://graph.facebook.com");
    assert_eq!(graph.api_version(), "v23.0");
    assert_eq!(graph.base_url(), "https://graph.facebook.com/");
}

#[test]
fn the_media_timeout_has_a_floor_and_can_be_set() {
    let graph = client("https://graph.facebook.com");
    assert_eq!(graph.media_timeout, MEDIA_TIMEOUT_FLOOR);
    let graph = graph.with_media_timeout(Duration::from_secs(7));
    assert_eq!(graph.media_timeout, Duration::from_secs(7));
}

#[test]
fn paging_next_is_read_from_the_configured_host_without_a_token() {
    let graph = client("http://127.0.0.1:8089");
    let next = graph
        .rebase("https://graph.facebook.com/v23.0/109876543210987/message_templates?limit=5&after=QVFIUbbb&access_token=SECRET")
        .unwrap();
    assert_eq!(
        next.as_str(),
        "http://127.0.0.1:8089/v23.0/109876543210987/message_templates?limit=5&after=QVFIUbbb"
    );
    assert!(graph.rebase("not a url").is_none());
}

#[test]
fn the_read_receipt_is_the_spec_body() {
    assert_eq!(
        read_receipt("wamid.AAB3"),
        json!({ "messaging_product": "whatsapp", "status": "read", "message_id": "wamid.AAB3" })
    );
}

#[test]
fn an_error_object_in_a_2xx_is_still_metas_error() {
    let error = answer(
        200,
        r#"{"error":{"message":"(#100) Invalid parameter","code":100}}"#,
    )
    .json()
    .unwrap_err();
    let api = error.api().unwrap();
    assert_eq!(
        (api.code, api.http_status, api.title.as_str()),
        (100, 200, "Invalid parameter")
    );
    assert_eq!(error.class(), ErrorClass::FixRequest);
}

#[test]
fn a_2xx_that_is_not_json_is_a_decode_error() {
    match answer(200, "<html>").json() {
        Err(GraphError::Decode {
            status: 200,
            detail,
        }) => assert!(detail.contains("not JSON"), "{detail}"),
        other => panic!("{other:?}"),
    }
    match decode::<MediaInfo>(&answer(200, r#"{"id":"1"}"#)) {
        Err(GraphError::Decode {
            status: 200,
            detail,
        }) => assert!(detail.contains("url"), "{detail}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn success_answers_are_read() {
    assert!(expect_success(&answer(200, r#"{"success": true}"#)).is_ok());
    assert!(expect_success(&answer(200, "")).is_ok());
    assert!(expect_success(&answer(200, "{}")).is_ok());
    assert!(matches!(
        expect_success(&answer(200, r#"{"success": false}"#)),
        Err(GraphError::Decode { .. })
    ));
}

#[tokio::test]
async fn a_message_over_a_limit_is_refused_before_it_leaves() {
    // Port 1 has no server: reaching the network would fail differently.
    let graph = client("http://127.0.0.1:1");
    let message = OutboundMessage::new(
        "14155550123",
        OutboundBody::Text {
            body: "x".repeat(5000),
            preview_url: false,
        },
    );
    let limit = invalid(
        graph
            .send_message(&token(), "106540352242922", &message)
            .await,
    );
    assert_eq!(
        limit.message,
        "a text body is at most 4096 characters (this one has 5000)"
    );
    let limit = invalid(
        graph
            .send_body(&token(), "106540352242922", &json!({ "type": "text" }))
            .await,
    );
    assert_eq!(limit.field, "to");
    let limit = invalid(
        graph
            .upload_media(&token(), "1", vec![1], "image/gif", "a.gif")
            .await,
    );
    assert!(limit.message.contains("image/gif"), "{}", limit.message);
    let limit = invalid(
        graph
            .upload_media(&token(), "1", vec![0; 5_000_001], "image/png", "a.png")
            .await,
    );
    assert!(limit.message.contains("at most 5 MB"), "{}", limit.message);
    let limit = invalid(graph.download_media(&token(), "lookaside/x").await);
    assert!(limit.message.contains("http(s) URL"), "{}", limit.message);
    let limit = invalid(graph.delete_template(&token(), "1", " ", None).await);
    assert!(
        limit.message.contains("cannot be empty"),
        "{}",
        limit.message
    );
    let mut template = NewTemplate {
        name: "Bad Name".into(),
        language: "en_US".into(),
        category: "UTILITY".into(),
        components: json!([{ "type": "BODY", "text": "Hi" }]),
        parameter_format: None,
    };
    invalid(graph.create_template(&token(), "1", &template).await);
    template.name = "ok".into();
    let limit = invalid(graph.create_template(&token(), " ", &template).await);
    assert_eq!(limit.message, "a WABA id cannot be empty");
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_refused_connection_is_not_sent() {
    let graph = client(&format!("http://127.0.0.1:{}", closed_port()));
    let error = graph
        .mark_read(&token(), "106540352242922", "wamid.AAB3")
        .await
        .unwrap_err();
    assert!(matches!(error, GraphError::NotSent(_)), "{error:?}");
    assert_eq!(error.class(), ErrorClass::RetryNow);
    assert!(!error.is_ambiguous());
    assert!(!format!("{error:?}").contains("EAAG-test-token"));
}

#[tokio::test]
async fn no_answer_after_connecting_is_ambiguous() {
    // Connections complete in the kernel's backlog and nothing ever answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let graph = GraphClient::new(
        &format!("http://127.0.0.1:{port}"),
        "v23.0",
        Duration::from_millis(300),
    )
    .unwrap();
    let message = OutboundMessage::new(
        "14155550123",
        OutboundBody::Text {
            body: "Hi".into(),
            preview_url: false,
        },
    );
    let error = graph
        .send_message(&token(), "106540352242922", &message)
        .await
        .unwrap_err();
    assert!(error.is_ambiguous(), "{error:?}");
    assert!(!error.to_string().contains("EAAG-test-token"));
    drop(listener);
}
