//! The Cloud API simulator over real HTTP, as treeex meets it: the simulator on port 0 driven with
//! reqwest, and its webhooks received by a small axum receiver that checks every signature over
//! the exact bytes. Covers the send success body, every error code the simulator enforces, the
//! signed status sequence, retries and give-up, duplicates, batching, bad signatures, read
//! without delivered, template paging/creation/deletion, media, `/_sim/*` and simulated
//! customers. Waits are bounded polls, never fixed sleeps.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::Query;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use serde_json::{Value, json};
use treeex::cloud_api::signature::{SIGNATURE_HEADER, verify};
use treeex::simulator::{
    BusinessNumber, CustomerPace, Faults, PairLimit, RetryPolicy, Simulator, SimulatorConfig,
    WindowFailure,
};

const SECRET: &str = "simulator-test-app-secret";
const PNID: &str = "106540352242922";
const WABA: &str = "102290129340398";
const DISPLAY: &str = "15550100000";
const OTHER_PNID: &str = "106540352249999";
const OTHER_WABA: &str = "102290129349999";
const CUSTOMER: &str = "14155550123";
const TOKEN: &str = "test-token";
const VERIFY_TOKEN: &str = "test-verify-token";
/// Download URLs expire this soon in the media test.
const MEDIA_URL_TTL: Duration = Duration::from_secs(1);
/// How long any one wait may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(15);

// ---- the webhook receiver ----------------------------------------------------------------------

/// One POST the receiver got.
#[derive(Debug, Clone)]
struct Received {
    bytes: Vec<u8>,
    signed: bool,
    answer: u16,
}

/// Records every webhook; answers 401 for a bad signature, else 500 for the first `fail_next`
/// requests, 503 while `always_fail`, and 200.
#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    fail_next: Arc<AtomicUsize>,
    always_fail: Arc<AtomicBool>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let app = Router::new()
            .route("/webhook", get(challenge).post(receive))
            .with_state(receiver.clone());
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhook", tcp.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(tcp, app).await });
        (receiver, url)
    }

    fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The bodies answered 200, parsed, in arrival order.
    fn accepted(&self) -> Vec<Value> {
        self.all()
            .iter()
            .filter(|r| r.answer == 200)
            .map(|r| serde_json::from_slice(&r.bytes).unwrap())
            .collect()
    }

    /// Every `value` of every change of the accepted bodies whose field is `field`.
    fn values(&self, field: &str) -> Vec<Value> {
        self.accepted()
            .iter()
            .flat_map(|body| body["entry"].as_array().unwrap().clone())
            .flat_map(|entry| entry["changes"].as_array().unwrap().clone())
            .filter(|change| change["field"] == field)
            .map(|change| change["value"].clone())
            .collect()
    }

    /// Every status item accepted, in arrival order.
    fn statuses(&self) -> Vec<Value> {
        items(&self.values("messages"), "statuses")
    }

    /// The status words of `wamid`, in arrival order.
    fn statuses_of(&self, wamid: &str) -> Vec<String> {
        self.statuses()
            .iter()
            .filter(|s| s["id"] == wamid)
            .map(|s| s["status"].as_str().unwrap().to_string())
            .collect()
    }

    /// Every inbound message item accepted.
    fn messages(&self) -> Vec<Value> {
        items(&self.values("messages"), "messages")
    }
}

fn items(values: &[Value], key: &str) -> Vec<Value> {
    values
        .iter()
        .flat_map(|v| v[key].as_array().cloned().unwrap_or_default())
        .collect()
}

/// Meta's verification GET, as treeex answers it: the challenge when the token matches.
async fn challenge(Query(query): Query<HashMap<String, String>>) -> (StatusCode, String) {
    let subscribe = query.get("hub.mode").map(String::as_str) == Some("subscribe");
    match (query.get("hub.verify_token"), query.get("hub.challenge")) {
        (Some(token), Some(challenge)) if subscribe && token == VERIFY_TOKEN => {
            (StatusCode::OK, challenge.clone())
        }
        _ => (StatusCode::FORBIDDEN, String::new()),
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let signed = verify(SECRET.as_bytes(), header, &body).is_ok();
    let answer = if !signed {
        StatusCode::UNAUTHORIZED
    } else if receiver.always_fail.load(Ordering::SeqCst) {
        StatusCode::SERVICE_UNAVAILABLE
    } else if receiver
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    };
    receiver.received.lock().unwrap().push(Received {
        bytes: body.to_vec(),
        signed,
        answer: answer.as_u16(),
    });
    answer
}

// ---- the simulator and a client ---------------------------------------------------------------

struct Harness {
    sim: Simulator,
    receiver: Receiver,
    client: reqwest::Client,
}

/// Quick settings for tests: no status delays, short retries and reviews, two known numbers.
fn test_config(webhook_url: Option<String>) -> SimulatorConfig {
    SimulatorConfig {
        webhook_url,
        app_secret: SECRET.into(),
        delays: (Duration::ZERO, Duration::ZERO),
        numbers: vec![
            BusinessNumber {
                phone_number_id: PNID.into(),
                display_phone_number: DISPLAY.into(),
                waba_id: WABA.into(),
            },
            BusinessNumber {
                phone_number_id: OTHER_PNID.into(),
                display_phone_number: "15550109999".into(),
                waba_id: OTHER_WABA.into(),
            },
        ],
        retry: RetryPolicy {
            first_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            give_up_after: Duration::from_secs(5),
            timeout: Duration::from_secs(5),
        },
        template_review: Duration::from_millis(50),
        ..SimulatorConfig::default()
    }
}

async fn start(configure: impl FnOnce(&mut SimulatorConfig)) -> Harness {
    let (receiver, url) = Receiver::start().await;
    let mut config = test_config(Some(url));
    configure(&mut config);
    let sim = Simulator::start(config).await.unwrap();
    treeex::install_tls_provider();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    Harness {
        sim,
        receiver,
        client,
    }
}

impl Harness {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    /// POSTs `body` to `/v23.0/{pnid}/messages` with `token` (none when `None`).
    async fn send_as(&self, pnid: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut request = self
            .client
            .post(self.url(&format!("/v23.0/{pnid}/messages")))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        answer(request.send().await.unwrap()).await
    }

    async fn send(&self, body: Value) -> (u16, Value) {
        self.send_as(PNID, Some(TOKEN), body).await
    }

    async fn get(&self, url: &str) -> (u16, Value) {
        answer(
            self.client
                .get(url)
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn stats(&self) -> Value {
        self.get(&self.url("/_sim/stats")).await.1
    }
}

async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn text_to(to: &str, body: &str) -> Value {
    json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "text", "text": { "body": body } })
}

fn template_to(to: &str, name: &str, params: &[&str]) -> Value {
    let parameters: Vec<Value> = params
        .iter()
        .map(|p| json!({ "type": "text", "text": p }))
        .collect();
    json!({ "messaging_product": "whatsapp", "to": to, "type": "template",
            "template": { "name": name, "language": { "policy": "deterministic", "code": "en_US" },
                          "components": [{ "type": "body", "parameters": parameters }] } })
}

/// Polls `check` every 10 ms until it gives a value; fails the test after [`PATIENCE`].
async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Asserts a Graph error answer: HTTP status, code, and §5.1's shape.
fn assert_graph_error(answer: &(u16, Value), http: u16, code: i64) {
    let (status, body) = answer;
    assert_eq!(*status, http, "{body}");
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert_eq!(error["type"], "OAuthException", "{body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        error["fbtrace_id"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    // 190 and Graph's "object does not exist" (100/33) carry messages of their own.
    if code != 190 && error.get("error_subcode").is_none() {
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("(#{code}) ")),
            "{body}"
        );
        assert!(error["error_data"]["details"].is_string(), "{body}");
    }
}

fn wamid_of(body: &Value) -> String {
    body["messages"][0]["id"].as_str().unwrap().to_string()
}

// ---- sends and statuses -----------------------------------------------------------------------

#[tokio::test]
async fn a_send_in_the_window_gets_metas_body_then_signed_escaped_statuses_in_order() {
    let h = start(|_| {}).await;
    h.sim
        .inbound(PNID, CUSTOMER, "Zoë Lima", "Olá 😮")
        .await
        .unwrap();

    let mut body = text_to("+1 415 555 0123", "Your order shipped");
    body["biz_opaque_callback_data"] = json!("café ☕");
    let (status, sent) = h.send(body).await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["messaging_product"], "whatsapp");
    assert_eq!(
        sent["contacts"],
        json!([{ "input": "+1 415 555 0123", "wa_id": CUSTOMER }])
    );
    let wamid = wamid_of(&sent);
    assert!(wamid.starts_with("wamid."), "{wamid}");
    assert!(
        sent["messages"][0].get("message_status").is_none(),
        "only templates are paced"
    );

    eventually("sent, delivered, read", async || {
        (h.receiver.statuses_of(&wamid).len() == 3).then_some(())
    })
    .await;
    assert_eq!(
        h.receiver.statuses_of(&wamid),
        ["sent", "delivered", "read"]
    );

    // Every POST was signed over its exact bytes, which are ASCII with Meta's escapes.
    let all = h.receiver.all();
    assert!(all.iter().all(|r| r.signed && r.answer == 200));
    assert!(all.iter().all(|r| r.bytes.is_ascii()));
    let raw: Vec<String> = all
        .iter()
        .map(|r| String::from_utf8(r.bytes.clone()).unwrap())
        .collect();
    assert!(
        raw.iter()
            .any(|r| r.contains(r#""body":"Ol\u00e1 \ud83d\ude2e""#)),
        "{raw:?}"
    );
    assert!(
        raw.iter().any(|r| r.contains(r#""name":"Zo\u00eb Lima""#)),
        "{raw:?}"
    );
    assert_eq!(
        raw.iter()
            .filter(|r| r.contains(r#""biz_opaque_callback_data":"caf\u00e9 \u2615""#))
            .count(),
        3
    );

    // The envelope and the items as §2.2/§2.5 give them.
    let body = h.receiver.accepted().pop().unwrap();
    assert_eq!(body["object"], "whatsapp_business_account");
    assert_eq!(body["entry"][0]["id"], WABA);
    let value = &body["entry"][0]["changes"][0]["value"];
    assert_eq!(body["entry"][0]["changes"][0]["field"], "messages");
    assert_eq!(value["messaging_product"], "whatsapp");
    assert_eq!(
        value["metadata"],
        json!({ "display_phone_number": DISPLAY, "phone_number_id": PNID })
    );
    let statuses: Vec<Value> = h
        .receiver
        .statuses()
        .into_iter()
        .filter(|s| s["id"] == wamid)
        .collect();
    for status in &statuses {
        assert_eq!(status["recipient_id"], CUSTOMER);
        assert!(status["timestamp"].as_str().unwrap().parse::<i64>().is_ok());
    }
    let sent = &statuses[0];
    assert_eq!(sent["pricing"]["category"], "service");
    assert_eq!(sent["pricing"]["pricing_model"], "PMP");
    assert_eq!(sent["pricing"]["type"], "free_customer_service");
    assert!(
        sent["conversation"]["expiration_timestamp"].is_string(),
        "v23: {sent}"
    );
    assert!(
        statuses[2].get("pricing").is_none(),
        "pricing on sent and delivered only"
    );

    let inbound = &h.receiver.values("messages")[0];
    assert_eq!(
        inbound["contacts"][0],
        json!({ "wa_id": CUSTOMER, "profile": { "name": "Zoë Lima" } })
    );
    assert_eq!(inbound["messages"][0]["type"], "text");
    assert_eq!(inbound["messages"][0]["from"], CUSTOMER);
    assert!(inbound["messages"][0]["timestamp"].is_string());
    h.sim.shutdown().await;
}

#[tokio::test]
async fn v24_statuses_carry_no_conversation_and_mark_as_read_succeeds() {
    let h = start(|_| {}).await;
    let inbound = h.sim.inbound(PNID, CUSTOMER, "Ana", "hi").await.unwrap();
    let request = h
        .client
        .post(h.url(&format!("/v24.0/{PNID}/messages")))
        .bearer_auth(TOKEN)
        .json(&text_to(CUSTOMER, "hello"));
    let (status, sent) = answer(request.send().await.unwrap()).await;
    assert_eq!(status, 200);
    let wamid = wamid_of(&sent);
    let sent_status = eventually("sent", async || {
        h.receiver
            .statuses()
            .into_iter()
            .find(|s| s["id"] == wamid.as_str() && s["status"] == "sent")
    })
    .await;
    assert!(sent_status.get("conversation").is_none(), "{sent_status}");
    assert!(sent_status.get("pricing").is_some(), "{sent_status}");

    let read = json!({ "messaging_product": "whatsapp", "status": "read", "message_id": inbound });
    assert_eq!(h.send(read).await, (200, json!({ "success": true })));
}

#[tokio::test]
async fn tokens_missing_or_invalid_get_190_with_401() {
    let h = start(|_| {}).await;
    let missing = h.send_as(PNID, None, text_to(CUSTOMER, "x")).await;
    assert_graph_error(&missing, 401, 190);
    let expired = h
        .send_as(PNID, Some("invalid-expired"), text_to(CUSTOMER, "x"))
        .await;
    assert_graph_error(&expired, 401, 190);
    let listing = answer(
        h.client
            .get(h.url(&format!("/v23.0/{WABA}/message_templates")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_graph_error(&listing, 401, 190);
    let stats = h.stats().await;
    assert_eq!(stats["phone_numbers"][PNID]["rejected"]["190"], 2);
}

#[tokio::test]
async fn malformed_sends_get_100_131008_or_131009() {
    let h = start(|_| {}).await;
    h.sim.inbound(PNID, CUSTOMER, "Ana", "hi").await.unwrap();
    let cases = [
        (
            json!({ "to": CUSTOMER, "type": "text", "text": { "body": "x" } }),
            100,
        ),
        (
            json!({ "messaging_product": "sms", "to": CUSTOMER, "text": { "body": "x" } }),
            100,
        ),
        (
            json!({ "messaging_product": "whatsapp", "type": "text", "text": { "body": "x" } }),
            100,
        ),
        (
            json!({ "messaging_product": "whatsapp", "to": CUSTOMER, "text": { "body": "x" }, "colour": 1 }),
            100,
        ),
        (
            json!({ "messaging_product": "whatsapp", "to": CUSTOMER, "type": "telegram" }),
            100,
        ),
        (
            json!({ "messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": {} }),
            131008,
        ),
        (
            json!({ "messaging_product": "whatsapp", "to": CUSTOMER, "type": "image", "image": { "caption": "c" } }),
            131008,
        ),
        (
            json!({ "messaging_product": "whatsapp", "to": "12", "type": "text", "text": { "body": "x" } }),
            131009,
        ),
        (
            json!({ "messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": { "body": "x".repeat(4097) } }),
            131009,
        ),
        (
            json!({ "messaging_product": "whatsapp", "to": CUSTOMER, "type": "interactive", "interactive": {
            "type": "button", "body": { "text": "b" }, "action": { "buttons": [
                { "type": "reply", "reply": { "id": "a", "title": "This title is far too long" } }] } } }),
            131009,
        ),
    ];
    for (body, code) in cases {
        let answer = h.send(body.clone()).await;
        assert_graph_error(&answer, 400, code);
    }
    let (status, _) = h
        .client
        .post(h.url(&format!("/v23.0/{PNID}/messages")))
        .bearer_auth(TOKEN)
        .body("not json")
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 400);
    assert!(
        h.get(&h.url("/_sim/messages"))
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn templates_pass_outside_the_window_but_must_exist_and_match_their_parameters() {
    let h = start(|_| {}).await;
    let (status, sent) = h
        .send(template_to(CUSTOMER, "order_update", &["Ana", "#4521"]))
        .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["messages"][0]["message_status"], "accepted");
    let wamid = wamid_of(&sent);

    assert_graph_error(
        &h.send(template_to(CUSTOMER, "no_such_template", &[])).await,
        404,
        132001,
    );
    let mut wrong_language = template_to(CUSTOMER, "hello_world", &[]);
    wrong_language["template"]["language"]["code"] = json!("pt_BR");
    assert_graph_error(&h.send(wrong_language).await, 404, 132001);
    assert_graph_error(
        &h.send(template_to(CUSTOMER, "order_update", &["Ana"]))
            .await,
        400,
        132000,
    );
    assert_graph_error(
        &h.send(template_to(CUSTOMER, "spring_sale", &["a", "b"]))
            .await,
        400,
        132000,
    );

    eventually("the template's read", async || {
        (h.receiver.statuses_of(&wamid).len() == 3).then_some(())
    })
    .await;
    let sent_status = &h.receiver.statuses()[0];
    assert_eq!(sent_status["pricing"]["category"], "utility");
    assert_eq!(sent_status["pricing"]["type"], "regular");
    let stats = h.stats().await;
    assert_eq!(stats["phone_numbers"][PNID]["accepted"], 1);
    assert_eq!(stats["rejected"]["132001"], 2);
    assert_eq!(stats["rejected"]["132000"], 2);
}

#[tokio::test]
async fn a_free_form_send_outside_the_window_fails_async_with_131047() {
    let h = start(|_| {}).await;
    let (status, sent) = h.send(text_to(CUSTOMER, "Are you there?")).await;
    assert_eq!(status, 200, "{sent}");
    let wamid = wamid_of(&sent);
    let failed = eventually("the failed status", async || {
        h.receiver
            .statuses()
            .into_iter()
            .find(|s| s["id"] == wamid.as_str())
    })
    .await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["errors"][0]["code"], 131047);
    assert_eq!(failed["errors"][0]["title"], "Re-engagement message");
    assert!(failed["errors"][0]["error_data"]["details"].is_string());
    let stats = h.stats().await;
    assert_eq!(stats["phone_numbers"][PNID]["failed"]["131047"], 1);
    assert_eq!(h.receiver.statuses_of(&wamid), ["failed"]);
}

#[tokio::test]
async fn a_free_form_send_outside_the_window_fails_sync_when_configured() {
    let h = start(|c| c.window_failure = WindowFailure::Sync).await;
    assert_graph_error(&h.send(text_to(CUSTOMER, "hello?")).await, 400, 131047);
    // Another number's window does not count; this number's does, once the customer wrote.
    h.sim
        .inbound(OTHER_PNID, CUSTOMER, "Ana", "hi")
        .await
        .unwrap();
    assert_graph_error(&h.send(text_to(CUSTOMER, "hello?")).await, 400, 131047);
    h.sim.inbound(PNID, CUSTOMER, "Ana", "hi").await.unwrap();
    assert_eq!(h.send(text_to(CUSTOMER, "hello!")).await.0, 200);
    assert_eq!(
        h.stats().await["phone_numbers"][PNID]["rejected"]["131047"],
        2
    );
}

#[tokio::test]
async fn above_mps_sends_get_130429_and_no_second_holds_more_than_mps() {
    let h = start(|c| {
        c.webhook_url = None;
        c.mps = 5;
    })
    .await;
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..40 {
        let request = h
            .client
            .post(h.url(&format!("/v23.0/{PNID}/messages")))
            .bearer_auth(TOKEN)
            .json(&template_to(&format!("1415555{i:04}"), "hello_world", &[]));
        sends.spawn(async move { answer(request.send().await.unwrap()).await });
    }
    let answers = sends.join_all().await;
    let accepted = answers.iter().filter(|a| a.0 == 200).count();
    let limited: Vec<_> = answers.iter().filter(|a| a.0 != 200).collect();
    assert!(
        !limited.is_empty(),
        "40 sends at once must exceed 5 per second"
    );
    for answer in &limited {
        assert_graph_error(answer, 429, 130429);
    }
    let stats = h.stats().await;
    let number = &stats["phone_numbers"][PNID];
    assert_eq!(number["accepted"], accepted);
    assert_eq!(number["rejected"]["130429"], limited.len());
    let max = number["max_per_second"].as_u64().unwrap();
    assert!((1..=5).contains(&max), "{stats}");
}

#[tokio::test]
async fn more_than_the_pair_burst_to_one_customer_gets_131056() {
    let h = start(|c| {
        c.webhook_url = None;
        c.mps = 1000;
        c.pair_limit = PairLimit {
            burst: 45,
            per: Duration::from_secs(60),
        };
    })
    .await;
    for i in 0..45 {
        let (status, body) = h.send(template_to(CUSTOMER, "hello_world", &[])).await;
        assert_eq!(status, 200, "send {i}: {body}");
    }
    assert_graph_error(
        &h.send(template_to(CUSTOMER, "hello_world", &[])).await,
        429,
        131056,
    );
    // Another customer is not held back.
    assert_eq!(
        h.send(template_to("14155550999", "hello_world", &[]))
            .await
            .0,
        200
    );
    assert_eq!(h.stats().await["rejected"]["131056"], 1);
}

// ---- webhook delivery -------------------------------------------------------------------------

#[tokio::test]
async fn a_webhook_answered_non_200_is_retried_until_acknowledged() {
    let h = start(|_| {}).await;
    h.receiver.fail_next.store(3, Ordering::SeqCst);
    let wamid = h.sim.inbound(PNID, CUSTOMER, "Ana", "hello").await.unwrap();
    eventually("the retried delivery", async || {
        h.receiver
            .messages()
            .iter()
            .any(|m| m["id"] == wamid.as_str())
            .then_some(())
    })
    .await;
    let all = h.receiver.all();
    let answers: Vec<u16> = all.iter().map(|r| r.answer).collect();
    assert_eq!(answers, [500, 500, 500, 200]);
    assert!(
        all.windows(2).all(|w| w[0].bytes == w[1].bytes),
        "the same bytes each time"
    );
    let webhooks = &h.stats().await["webhooks"];
    assert_eq!(webhooks["failed_posts"], 3);
    assert_eq!(webhooks["delivered"], 1);
}

#[tokio::test]
async fn a_webhook_never_acknowledged_is_given_up_after_the_bound() {
    let h = start(|c| c.retry.give_up_after = Duration::from_millis(200)).await;
    h.receiver.always_fail.store(true, Ordering::SeqCst);
    h.sim.inbound(PNID, CUSTOMER, "Ana", "hello").await.unwrap();
    let webhooks = eventually("the give-up", async || {
        let stats = h.stats().await;
        (stats["webhooks"]["given_up"] == 1).then(|| stats["webhooks"].clone())
    })
    .await;
    let posts = webhooks["posts"].as_u64().unwrap();
    assert!(posts >= 3, "retried before giving up: {webhooks}");
    assert_eq!(h.receiver.all().len() as u64, posts);
    assert_eq!(webhooks["delivered"], 0);
}

#[tokio::test]
async fn duplicates_and_batches_carry_several_entries_and_changes() {
    let h = start(|c| {
        c.faults = Faults {
            duplicate: 1.0,
            batch: 10,
            ..Faults::default()
        };
    })
    .await;
    let mut wamids = BTreeSet::new();
    for (i, number) in [PNID, OTHER_PNID, PNID, OTHER_PNID, PNID, OTHER_PNID]
        .iter()
        .enumerate()
    {
        wamids.insert(
            h.sim
                .inbound(number, CUSTOMER, "Ana", &format!("message {i}"))
                .await
                .unwrap(),
        );
    }
    eventually("every message twice", async || {
        let seen: Vec<String> = h
            .receiver
            .messages()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect();
        wamids
            .iter()
            .all(|w| seen.iter().filter(|s| *s == w).count() == 2)
            .then_some(())
    })
    .await;
    let all = h.receiver.all();
    let mut copies: HashMap<&[u8], usize> = HashMap::new();
    for received in &all {
        *copies.entry(&received.bytes).or_default() += 1;
    }
    assert!(
        copies.values().all(|n| *n == 2),
        "each body posted twice, byte for byte"
    );
    let bodies = h.receiver.accepted();
    let updates = |body: &Value| -> usize {
        body["entry"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|e| e["changes"].as_array().unwrap())
            .map(|c| c["value"]["messages"].as_array().map_or(0, Vec::len))
            .sum()
    };
    assert!(
        bodies.iter().any(|b| updates(b) > 1),
        "some POST carried several updates"
    );
    assert!(
        bodies
            .iter()
            .any(|b| b["entry"].as_array().unwrap().len() > 1),
        "some POST carried several entries"
    );
    for body in &bodies {
        for entry in body["entry"].as_array().unwrap() {
            let waba = entry["id"].as_str().unwrap();
            for change in entry["changes"].as_array().unwrap() {
                let number = change["value"]["metadata"]["phone_number_id"]
                    .as_str()
                    .unwrap();
                assert_eq!(waba, if number == PNID { WABA } else { OTHER_WABA });
            }
        }
    }
    assert_eq!(
        h.stats().await["webhooks"]["duplicates"].as_u64().unwrap(),
        copies.len() as u64
    );
}

#[tokio::test]
async fn a_bad_signature_is_refused_then_the_retry_is_signed_right() {
    let h = start(|c| c.faults.bad_signature = 1.0).await;
    let wamid = h.sim.inbound(PNID, CUSTOMER, "Ana", "hi").await.unwrap();
    eventually("the good retry", async || {
        h.receiver
            .messages()
            .iter()
            .any(|m| m["id"] == wamid.as_str())
            .then_some(())
    })
    .await;
    let all = h.receiver.all();
    assert_eq!(all.len(), 2);
    assert!(!all[0].signed && all[0].answer == 401);
    assert!(all[1].signed && all[1].answer == 200);
    assert_eq!(all[0].bytes, all[1].bytes);
}

#[tokio::test]
async fn read_can_come_without_delivered_and_shuffled_statuses_all_arrive() {
    let h = start(|c| {
        c.faults.skip_delivered = 1.0;
        c.faults.shuffle = true;
    })
    .await;
    h.sim.inbound(PNID, CUSTOMER, "Ana", "hi").await.unwrap();
    let wamid = wamid_of(&h.send(text_to(CUSTOMER, "hello")).await.1);
    eventually("two statuses", async || {
        (h.receiver.statuses_of(&wamid).len() == 2).then_some(())
    })
    .await;
    let mut words = h.receiver.statuses_of(&wamid);
    words.sort();
    assert_eq!(words, ["read", "sent"]);
    let read = h
        .receiver
        .statuses()
        .into_iter()
        .find(|s| s["id"] == wamid.as_str() && s["status"] == "read")
        .unwrap();
    assert!(
        read.get("pricing").is_some(),
        "read carries the pricing delivered would have"
    );
}

// ---- templates --------------------------------------------------------------------------------

#[tokio::test]
async fn templates_page_with_cursors_and_are_created_reviewed_and_deleted() {
    let h = start(|_| {}).await;
    let templates_url = h.url(&format!("/v23.0/{WABA}/message_templates"));
    let create = |name: &str, body: &str| {
        h.client
            .post(&templates_url)
            .bearer_auth(TOKEN)
            .json(&json!({
            "name": name, "language": "en_US", "category": "utility",
            "components": [{ "type": "BODY", "text": body,
                             "example": { "body_text": [["Ana", "#1"]] } }] }))
    };
    let (status, created) = answer(
        create("delivery_eta", "Hi {{1}}, order {{2}} arrives today.")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["status"], "PENDING");
    assert_eq!(created["category"], "UTILITY");
    let id = created["id"].as_str().unwrap().to_string();
    let (_, rejected) = answer(
        create("adjacent_vars", "Hi {{1}}{{2}}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let duplicate = answer(
        create("delivery_eta", "Hi {{1}} {{2}}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_graph_error(&duplicate, 400, 100);

    // The verdicts arrive as signed template webhooks.
    let verdicts = eventually("two verdicts", async || {
        let values = h.receiver.values("message_template_status_update");
        (values.len() == 2).then_some(values)
    })
    .await;
    let approved = verdicts
        .iter()
        .find(|v| v["message_template_name"] == "delivery_eta")
        .unwrap();
    assert_eq!(approved["event"], "APPROVED");
    assert_eq!(approved["reason"], "NONE");
    assert_eq!(
        approved["message_template_id"]
            .as_u64()
            .unwrap()
            .to_string(),
        id
    );
    assert_eq!(approved["message_template_language"], "en_US");
    let refused = verdicts
        .iter()
        .find(|v| v["message_template_name"] == "adjacent_vars")
        .unwrap();
    assert_eq!(refused["event"], "REJECTED");
    assert_eq!(
        refused["message_template_id"].as_u64().unwrap().to_string(),
        rejected["id"].as_str().unwrap()
    );
    let entry = h
        .receiver
        .accepted()
        .iter()
        .flat_map(|b| b["entry"].as_array().unwrap().clone())
        .find(|e| e["changes"][0]["field"] == "message_template_status_update")
        .unwrap();
    assert_eq!(entry["id"], WABA);
    assert!(
        entry["time"].is_i64(),
        "template entries carry an integer time"
    );

    // Paging one at a time, following `paging.next` to the end.
    let mut names = Vec::new();
    let mut next = Some(format!("{templates_url}?limit=2"));
    let mut pages = 0;
    while let Some(url) = next {
        let (status, page) = h.get(&url).await;
        assert_eq!(status, 200, "{page}");
        assert!(page["data"].as_array().unwrap().len() <= 2);
        for template in page["data"].as_array().unwrap() {
            names.push(template["name"].as_str().unwrap().to_string());
            assert!(template["id"].is_string() && template["components"].is_array());
        }
        assert!(page["paging"]["cursors"]["after"].is_string());
        next = page["paging"]["next"].as_str().map(str::to_string);
        if let Some(url) = &next {
            assert!(url.starts_with(&h.sim.base_url()), "{url}");
        }
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(
        names,
        [
            "hello_world",
            "order_update",
            "spring_sale",
            "delivery_eta",
            "adjacent_vars"
        ]
    );
    let (_, approved_only) = h
        .get(&format!("{templates_url}?status=APPROVED&limit=100"))
        .await;
    assert_eq!(approved_only["data"].as_array().unwrap().len(), 4);
    assert!(approved_only["paging"].get("next").is_none());

    // The approved template can be sent; the rejected one cannot.
    let (status, body) = h
        .send(template_to(CUSTOMER, "delivery_eta", &["Ana", "#7"]))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_graph_error(
        &h.send(template_to(CUSTOMER, "adjacent_vars", &["a", "b"]))
            .await,
        404,
        132001,
    );

    // Deleting by name removes it; then it is gone from the list and from sends.
    let deleted = h
        .client
        .delete(format!("{templates_url}?name=delivery_eta"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(answer(deleted).await, (200, json!({ "success": true })));
    let (_, all) = h.get(&format!("{templates_url}?limit=100")).await;
    assert!(
        all["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["name"] != "delivery_eta")
    );
    assert_graph_error(
        &h.send(template_to(CUSTOMER, "delivery_eta", &["Ana", "#7"]))
            .await,
        404,
        132001,
    );
    let again = h
        .client
        .delete(format!("{templates_url}?name=delivery_eta"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_graph_error(&answer(again).await, 400, 100);
    // Another WABA still has only its seeds.
    let (_, other) = h
        .get(&h.url(&format!("/v23.0/{OTHER_WABA}/message_templates")))
        .await;
    assert_eq!(other["data"].as_array().unwrap().len(), 3);
}

// ---- media ------------------------------------------------------------------------------------

#[tokio::test]
async fn media_uploads_then_downloads_with_the_token_and_not_without() {
    let h = start(|c| c.media_url_ttl = MEDIA_URL_TTL).await;
    let png: Vec<u8> = b"\x89PNG\r\n\x1a\nnot really a picture".to_vec();
    let upload = |bytes: Vec<u8>, mime: &str| {
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes)
                    .file_name("x.png")
                    .mime_str(mime)
                    .unwrap(),
            );
        h.client
            .post(h.url(&format!("/v23.0/{PNID}/media")))
            .bearer_auth(TOKEN)
            .multipart(form)
            .send()
    };
    let (status, uploaded) = answer(upload(png.clone(), "image/png").await.unwrap()).await;
    assert_eq!(status, 200, "{uploaded}");
    let id = uploaded["id"].as_str().unwrap().to_string();
    assert_graph_error(
        &answer(
            upload(b"MZ".to_vec(), "application/x-msdownload")
                .await
                .unwrap(),
        )
        .await,
        400,
        131053,
    );

    // Taken before the URL is issued, so the expiry is never seen early.
    let issued = Instant::now();
    let (status, info) = h.get(&h.url(&format!("/v23.0/{id}"))).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["messaging_product"], "whatsapp");
    assert_eq!(info["mime_type"], "image/png");
    assert_eq!(info["file_size"], png.len());
    assert_eq!(info["id"], id.as_str());
    use sha2::Digest as _;
    assert_eq!(info["sha256"], hex::encode(sha2::Sha256::digest(&png)));
    let wrong_number = h
        .get(&h.url(&format!("/v23.0/{id}?phone_number_id={OTHER_PNID}")))
        .await;
    assert_graph_error(&wrong_number, 400, 100);
    assert_eq!(
        h.get(&h.url(&format!("/v23.0/{id}?phone_number_id={PNID}")))
            .await
            .0,
        200
    );

    let url = info["url"].as_str().unwrap().to_string();
    let download = h.client.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "image/png");
    assert_eq!(download.bytes().await.unwrap().to_vec(), png);
    assert_eq!(
        h.client.get(&url).send().await.unwrap().status(),
        404,
        "no token"
    );
    assert_eq!(
        h.client
            .get(&url)
            .bearer_auth("invalid-x")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // The URL expires (here after a second; Meta's after 5 minutes).
    eventually("the URL to expire", async || {
        let status = h
            .client
            .get(&url)
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .status();
        (status == 404).then_some(())
    })
    .await;
    assert!(issued.elapsed() >= MEDIA_URL_TTL);

    let deleted = h
        .client
        .delete(h.url(&format!("/v23.0/{id}")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(answer(deleted).await, (200, json!({ "success": true })));
    assert_graph_error(&h.get(&h.url(&format!("/v23.0/{id}"))).await, 400, 100);
}

// ---- /_sim and customers ----------------------------------------------------------------------

#[tokio::test]
async fn the_control_endpoints_show_what_was_sent_and_let_customers_write() {
    let h = start(|_| {}).await;
    let inbound = |body: Value| h.client.post(h.url("/_sim/inbound")).json(&body).send();
    let (status, written) = answer(
        inbound(json!({ "phone_number_id": PNID, "from": CUSTOMER, "name": "Ana", "text": "hi" }))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{written}");
    let wamid = written["wamid"].as_str().unwrap().to_string();
    let (status, refused) = answer(
        inbound(json!({ "phone_number_id": PNID, "from": "abc", "text": "hi" }))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(refused["error"].is_string());
    assert_eq!(
        inbound(json!({ "from": CUSTOMER })).await.unwrap().status(),
        400
    );
    eventually("the inbound webhook", async || {
        h.receiver
            .messages()
            .iter()
            .any(|m| m["id"] == wamid.as_str())
            .then_some(())
    })
    .await;

    let first = text_to(CUSTOMER, "one");
    assert_eq!(h.send(first.clone()).await.0, 200);
    assert_eq!(
        h.send(template_to("14155550999", "hello_world", &[]))
            .await
            .0,
        200
    );
    let (_, all) = h.get(&h.url("/_sim/messages")).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (_, to_ana) = h.get(&h.url("/_sim/messages?to=%2B14155550123")).await;
    let to_ana = to_ana.as_array().unwrap();
    assert_eq!(to_ana.len(), 1);
    assert_eq!(to_ana[0]["body"], first);
    assert_eq!(to_ana[0]["phone_number_id"], PNID);
    assert!(to_ana[0]["wamid"].as_str().unwrap().starts_with("wamid."));
    assert!(chrono::DateTime::parse_from_rfc3339(to_ana[0]["time"].as_str().unwrap()).is_ok());

    let stats = h.stats().await;
    assert_eq!(stats["accepted"], 2);
    assert_eq!(stats["phone_numbers"][PNID]["accepted"], 2);
    assert!(
        stats["phone_numbers"][PNID]["max_per_second"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert_eq!(stats["inbound"], 1);
}

#[tokio::test]
async fn simulated_customers_write_in_and_answer_what_they_read() {
    let h = start(|c| {
        c.customers = 2;
        c.customer_pace = CustomerPace {
            write_every: (Duration::from_millis(20), Duration::from_millis(50)),
            reply_after: (Duration::ZERO, Duration::ZERO),
            reply_probability: 1.0,
        };
    })
    .await;
    let ana = "14155550100";
    eventually("Ana writing in to this number", async || {
        let values = h.receiver.values("messages");
        values
            .iter()
            .any(|v| {
                v["metadata"]["phone_number_id"] == PNID
                    && v["contacts"][0]
                        == json!({ "wa_id": ana, "profile": { "name": "Ana Souza" } })
            })
            .then_some(())
    })
    .await;
    let (status, sent) = h.send(text_to(ana, "How can we help?")).await;
    assert_eq!(status, 200, "{sent}");
    let wamid = wamid_of(&sent);
    let reply = eventually("Ana's answer", async || {
        h.receiver
            .messages()
            .into_iter()
            .find(|m| m["context"]["id"] == wamid.as_str())
    })
    .await;
    assert_eq!(reply["from"], ana);
    assert_eq!(reply["context"]["from"], DISPLAY);
    h.sim.shutdown().await;
}

// ---- verification, allowed lists, phone numbers -------------------------------------------------

#[tokio::test]
async fn the_simulator_verifies_the_webhook_endpoint_as_meta_does() {
    let h = start(|c| c.verify_token = Some(VERIFY_TOKEN.into())).await;
    h.sim.verify_webhook().await.unwrap();
    assert_eq!(h.stats().await["webhooks"]["verified"], true);
    let wrong = start(|c| c.verify_token = Some("another-token".into())).await;
    assert!(matches!(
        wrong.sim.verify_webhook().await,
        Err(treeex::simulator::SimError::Verification(_))
    ));
    assert_eq!(wrong.stats().await["webhooks"]["verified"], false);
}

#[tokio::test]
async fn a_recipient_off_the_allowed_list_gets_131030_and_numbers_answer_their_throughput() {
    let h = start(|c| c.allowed_recipients = Some(vec!["+1 415 555 0123".into()])).await;
    assert_eq!(
        h.send(template_to(CUSTOMER, "hello_world", &[])).await.0,
        200
    );
    let refused = h.send(template_to("14155550999", "hello_world", &[])).await;
    assert_graph_error(&refused, 400, 131030);

    let (status, number) = h
        .get(&h.url(&format!("/v23.0/{PNID}?fields=throughput")))
        .await;
    assert_eq!(status, 200, "{number}");
    assert_eq!(number["id"], PNID);
    assert_eq!(number["throughput"]["level"], "STANDARD");
}
