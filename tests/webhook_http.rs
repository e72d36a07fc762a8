//! The webhook listener over real HTTP against real PostgreSQL, as Meta meets it: the verification
//! GET, the signature over the exact bytes (Meta's `\uXXXX`-escaped JSON), the body limit, signed
//! bodies that are not JSON, numbers no workspace has (kept, listed and replayed with the real
//! binary), the outside fixture set, health and metrics, a database that goes away and comes back
//! (503, then the retry lands once), concurrent deliveries for one contact, and `treeex serve`
//! stopping on SIGTERM under load without losing a body it answered 200.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{TestDb, empty_home, ok, run};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use treeex::cloud_api::signature::{SIGNATURE_HEADER, sign};
use treeex::config::Config;
use treeex::domain::{Slug, WorkspaceId};
use treeex::server::Listener;
use treeex::store::cluster::{ClusterOptions, ManagedCluster};
use treeex::store::phones::{self, NewPhoneNumber};
use treeex::store::{Db, workspaces};

const APP_SECRET: &str = "webhook-http-test-app-secret";
const VERIFY_TOKEN: &str = "webhook-http-verify-token";
const PHONE_NUMBER_ID: &str = "106540352242922";
const WABA_ID: &str = "102290129340398";
const CUSTOMER: &str = "14155550123";

// ---- HTTP -------------------------------------------------------------------------------------

/// A listener's base URL and a client to talk to it.
#[derive(Clone)]
struct Http {
    base: String,
    client: reqwest::Client,
}

impl Http {
    /// An in-process listener on a free port, with the app secret and verify token set and then
    /// `configure` applied; it serves until the test ends.
    async fn start(db: &Db, configure: impl FnOnce(&mut Config)) -> Http {
        let mut config = Config::default();
        config.whatsapp.app_secret = Some(SecretString::from(APP_SECRET));
        config.whatsapp.verify_token = Some(SecretString::from(VERIFY_TOKEN));
        configure(&mut config);
        let listener = Listener::new(db.clone(), &config);
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", tcp.local_addr().unwrap());
        tokio::spawn(async move { listener.serve(tcp, std::future::pending()).await });
        Http::at(base)
    }

    fn at(base: String) -> Http {
        treeex::install_tls_provider();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Http { base, client }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// `GET /webhook` with these query parameters: status, content type and body.
    async fn verify(&self, params: &[(&str, &str)]) -> (StatusCode, String, String) {
        let mut url = reqwest::Url::parse(&format!("{}/webhook", self.base)).unwrap();
        url.query_pairs_mut().extend_pairs(params);
        let response = self.client.get(url).send().await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, content_type, response.text().await.unwrap())
    }

    /// `POST /webhook` with this signature header (None: no header).
    async fn try_post(
        &self,
        body: &[u8],
        signature: Option<&str>,
    ) -> reqwest::Result<reqwest::Response> {
        let mut request = self
            .client
            .post(format!("{}/webhook", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        request.send().await
    }

    async fn post(&self, body: &[u8], signature: Option<&str>) -> StatusCode {
        self.try_post(body, signature).await.unwrap().status()
    }

    /// `POST /webhook` signed as Meta signs it.
    async fn post_signed(&self, body: &[u8]) -> StatusCode {
        self.post(body, Some(&signed(body))).await
    }
}

fn signed(body: &[u8]) -> String {
    sign(APP_SECRET.as_bytes(), body)
}

// ---- Bodies (spec §2) -------------------------------------------------------------------------

/// A body as Meta serialises it: ASCII only, every other character a `\uXXXX` escape in
/// lowercase hex (surrogate pairs beyond the BMP), so the signature covers exactly these bytes.
fn meta_bytes(value: &Value) -> Vec<u8> {
    let mut out = String::new();
    for c in value.to_string().chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                write!(out, "\\u{unit:04x}").unwrap();
            }
        }
    }
    out.into_bytes()
}

/// A `messages` notification of one inbound item from `wa_id` to `phone_number_id`.
fn inbound(phone_number_id: &str, wa_id: &str, item: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": WABA_ID,
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {
                        "display_phone_number": "15550001111",
                        "phone_number_id": phone_number_id,
                    },
                    "contacts": [{ "profile": { "name": "Ana Souza" }, "wa_id": wa_id }],
                    "messages": [item],
                },
            }],
        }],
    })
}

fn item(wamid: &str, wa_id: &str, kind: &str, object: Value) -> Value {
    json!({
        "from": wa_id,
        "id": wamid,
        "timestamp": chrono::Utc::now().timestamp().to_string(),
        "type": kind,
        kind: object,
    })
}

fn text_value(phone_number_id: &str, wamid: &str, wa_id: &str, text: &str) -> Value {
    inbound(
        phone_number_id,
        wa_id,
        item(wamid, wa_id, "text", json!({ "body": text })),
    )
}

fn text_message(phone_number_id: &str, wamid: &str, wa_id: &str) -> Vec<u8> {
    meta_bytes(&text_value(
        phone_number_id,
        wamid,
        wa_id,
        "Does it come in blue?",
    ))
}

fn image_message(phone_number_id: &str, wamid: &str, wa_id: &str, media_id: &str) -> Vec<u8> {
    let image = json!({
        "mime_type": "image/jpeg",
        "sha256": "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
        "id": media_id,
    });
    meta_bytes(&inbound(
        phone_number_id,
        wa_id,
        item(wamid, wa_id, "image", image),
    ))
}

// ---- Database ---------------------------------------------------------------------------------

async fn workspace(db: &Db, slug: &str) -> WorkspaceId {
    workspaces::create(
        db,
        workspaces::NewWorkspace {
            slug: &Slug::parse(slug).unwrap(),
            name: slug,
            owner: None,
        },
    )
    .await
    .unwrap()
    .workspace
    .workspace_id()
}

async fn connect_number(db: &Db, workspace: WorkspaceId, phone_number_id: &str, waba_id: &str) {
    phones::add(
        db,
        workspace,
        NewPhoneNumber {
            phone_number_id,
            display_phone_number: "+1 555 010 0000",
            waba_id,
            access_token: &SecretString::from("token"),
            mps: 80,
        },
    )
    .await
    .unwrap_or_else(|e| panic!("connect {phone_number_id}: {e}"));
}

/// A workspace with `PHONE_NUMBER_ID` connected.
async fn connected(db: &Db) {
    let ws = workspace(db, "acme").await;
    connect_number(db, ws, PHONE_NUMBER_ID, WABA_ID).await;
}

async fn count(pool: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

async fn messages_with(pool: &PgPool, wamid: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM messages WHERE wa_message_id = $1")
        .bind(wamid)
        .fetch_one(pool)
        .await
        .unwrap()
}

// ---- Tests ------------------------------------------------------------------------------------

#[tokio::test]
async fn verification_answers_the_challenge_only_for_the_configured_token() {
    let db = TestDb::new().await;
    let http = Http::start(&db.db, |_| {}).await;
    let challenge = "1158201444-opaque_Chal.lenge";

    let (status, content_type, body) = http
        .verify(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", VERIFY_TOKEN),
            ("hub.challenge", challenge),
        ])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, challenge, "the body is exactly the challenge");
    assert!(content_type.starts_with("text/plain"), "{content_type}");

    for (what, params) in [
        (
            "wrong token",
            vec![
                ("hub.mode", "subscribe"),
                ("hub.verify_token", "not-the-token"),
                ("hub.challenge", challenge),
            ],
        ),
        (
            "missing token",
            vec![("hub.mode", "subscribe"), ("hub.challenge", challenge)],
        ),
        (
            "wrong mode",
            vec![
                ("hub.mode", "unsubscribe"),
                ("hub.verify_token", VERIFY_TOKEN),
                ("hub.challenge", challenge),
            ],
        ),
    ] {
        let (status, _, body) = http.verify(&params).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
        assert!(
            !body.contains(challenge),
            "{what}: the challenge is not echoed"
        );
    }

    let unconfigured = Http::start(&db.db, |c| c.whatsapp.verify_token = None).await;
    for params in [
        vec![("hub.mode", "subscribe"), ("hub.challenge", challenge)],
        vec![
            ("hub.mode", "subscribe"),
            ("hub.verify_token", ""),
            ("hub.challenge", challenge),
        ],
        vec![
            ("hub.mode", "subscribe"),
            ("hub.verify_token", VERIFY_TOKEN),
            ("hub.challenge", challenge),
        ],
    ] {
        let (status, _, _) = unconfigured.verify(&params).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "no verify token configured: {params:?}"
        );
    }
}

#[tokio::test]
async fn a_missing_or_bad_signature_is_401_and_stores_nothing() {
    let db = TestDb::new().await;
    connected(&db.db).await;
    let http = Http::start(&db.db, |_| {}).await;
    let body = text_message(PHONE_NUMBER_ID, "wamid.UNSIGNED1", CUSTOMER);
    let digest = signed(&body)["sha256=".len()..].to_string();

    for (what, signature) in [
        ("missing header", None),
        ("sha1= prefix", Some(format!("sha1={digest}"))),
        (
            "non-hex digest",
            Some(format!("sha256={}", "zz".repeat(32))),
        ),
        ("wrong digest", Some(sign(b"another-app-secret", &body))),
    ] {
        assert_eq!(
            http.post(&body, signature.as_deref()).await,
            StatusCode::UNAUTHORIZED,
            "{what}"
        );
    }
    assert_eq!(
        count(db.pool(), "SELECT count(*) FROM webhook_archive").await,
        0
    );
    assert_eq!(count(db.pool(), "SELECT count(*) FROM messages").await, 0);
    assert_eq!(
        count(db.pool(), "SELECT count(*) FROM webhook_failures").await,
        0
    );
}

#[tokio::test]
async fn a_body_with_unicode_escapes_is_verified_on_its_exact_bytes() {
    let db = TestDb::new().await;
    connected(&db.db).await;
    let http = Http::start(&db.db, |_| {}).await;
    let mut value = text_value(
        PHONE_NUMBER_ID,
        "wamid.EMOJI1",
        CUSTOMER,
        "Wow \u{1F62E} s\u{e4}h",
    );
    *value
        .pointer_mut("/entry/0/changes/0/value/contacts/0/profile/name")
        .unwrap() = json!("Jos\u{e9} \u{e4}\u{f6}\u{e5}");
    let body = meta_bytes(&value);
    let text = String::from_utf8(body.clone()).unwrap();
    assert!(
        text.is_ascii() && text.contains(r"Wow \ud83d\ude2e s\u00e4h"),
        "{text}"
    );

    assert_eq!(http.post_signed(&body).await, StatusCode::OK);
    let stored: String = sqlx::query_scalar(
        "SELECT content -> 'text' ->> 'body' FROM messages WHERE wa_message_id = 'wamid.EMOJI1'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(stored, "Wow 😮 säh");
    assert!(stored.contains('😮'));
    let name: Option<String> = sqlx::query_scalar("SELECT profile_name FROM contacts")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(name.as_deref(), Some("José äöå"));
    let archived: Vec<u8> = sqlx::query_scalar("SELECT body FROM webhook_archive")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(archived, body, "the archive keeps the exact bytes");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_not_archived() {
    let db = TestDb::new().await;
    connected(&db.db).await;
    let http = Http::start(&db.db, |c| c.server.body_limit_bytes = 1024).await;

    let small = text_message(PHONE_NUMBER_ID, "wamid.SMALL1", CUSTOMER);
    assert!(small.len() < 1024);
    assert_eq!(
        http.post_signed(&small).await,
        StatusCode::OK,
        "under the limit"
    );

    let large = meta_bytes(&text_value(
        PHONE_NUMBER_ID,
        "wamid.LARGE1",
        CUSTOMER,
        &"x".repeat(2048),
    ));
    assert_eq!(
        http.post_signed(&large).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        count(db.pool(), "SELECT count(*) FROM webhook_archive").await,
        1
    );
    assert_eq!(messages_with(db.pool(), "wamid.LARGE1").await, 0);
    let metrics = http.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("treeex_webhook_requests_total{outcome=\"too_large\"}"),
        "the refusal is counted: {metrics}"
    );
}

#[tokio::test]
async fn a_signed_body_that_is_not_json_is_400_and_archived_as_invalid() {
    let db = TestDb::new().await;
    let http = Http::start(&db.db, |_| {}).await;
    let body = b"this is not {json".to_vec();

    assert_eq!(http.post_signed(&body).await, StatusCode::BAD_REQUEST);
    let rows: Vec<(Vec<u8>, String)> =
        sqlx::query_as("SELECT body, outcome::text FROM webhook_archive")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert_eq!(rows, vec![(body, "invalid".to_string())]);
}

#[tokio::test]
async fn an_unknown_number_is_kept_listed_and_replayed_once_connected() {
    let db = TestDb::new().await;
    let http = Http::start(&db.db, |_| {}).await;
    let home = empty_home();
    let unknown = "109999999999999";
    let wamid = "wamid.UNKNOWNNUMBER1";

    assert_eq!(
        http.post_signed(&text_message(unknown, wamid, CUSTOMER))
            .await,
        StatusCode::OK
    );
    let failures: Vec<(uuid::Uuid, Option<String>)> =
        sqlx::query_as("SELECT id, phone_number_id FROM webhook_failures")
            .fetch_all(db.pool())
            .await
            .unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    let (failure_id, number) = failures[0].clone();
    assert_eq!(number.as_deref(), Some(unknown));
    assert_eq!(count(db.pool(), "SELECT count(*) FROM messages").await, 0);

    let open_failures = |home: &Path| {
        ok(db.treeex(home).args(["webhook", "failures", "--json"]))
            .json()
            .as_array()
            .expect("a JSON array")
            .clone()
    };
    let listed = open_failures(home.path());
    let entry = listed
        .iter()
        .find(|f| f["id"] == json!(failure_id.to_string()))
        .unwrap_or_else(|| panic!("failure {failure_id} is listed: {listed:?}"));
    assert_eq!(entry["phone_number_id"], json!(unknown));
    assert_eq!(entry["field"], json!("messages"));

    ok(db
        .treeex(home.path())
        .args(["workspace", "create", "acme", "--name", "Acme"]));
    ok(db.treeex(home.path()).args([
        "phone",
        "add",
        "--workspace",
        "acme",
        "--phone-number-id",
        unknown,
        "--display-phone-number",
        "+1 555 010 0000",
        "--waba-id",
        WABA_ID,
        "--access-token",
        "token",
    ]));
    let replay = run(db
        .treeex(home.path())
        .args(["webhook", "replay", &failure_id.to_string()]));
    assert_eq!(replay.code, 0, "{replay:?}");

    assert_eq!(messages_with(db.pool(), wamid).await, 1);
    let resolved: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT resolved_at FROM webhook_failures WHERE id = $1")
            .bind(failure_id)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert!(resolved.is_some(), "the failure is resolved");
    let listed = open_failures(home.path());
    assert!(
        listed
            .iter()
            .all(|f| f["id"] != json!(failure_id.to_string())),
        "a resolved failure is no longer listed: {listed:?}"
    );
}

/// One case of the outside set: `file/case` and its body.
fn outside_cases(dir: &Path) -> Vec<(String, Value)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("TREEEX_OUTSIDE_FIXTURES={}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let file: serde_json::Map<String, Value> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
        cases.extend(
            file.into_iter()
                .map(|(case, body)| (format!("{file_name}/{case}"), body)),
        );
    }
    cases
}

/// Every change of a body, with its entry's id (the WABA id).
fn changes(body: &Value) -> Vec<(&str, &Value)> {
    let mut out = Vec::new();
    for entry in body["entry"].as_array().into_iter().flatten() {
        let waba = entry["id"].as_str().unwrap_or_default();
        for change in entry["changes"].as_array().into_iter().flatten() {
            out.push((waba, change));
        }
    }
    out
}

fn is_meta_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

#[tokio::test]
async fn every_outside_fixture_is_accepted_and_lands_or_is_kept() {
    let Some(dir) = std::env::var_os("TREEEX_OUTSIDE_FIXTURES").filter(|d| !d.is_empty()) else {
        println!("TREEEX_OUTSIDE_FIXTURES is not set: the outside fixture set was not run");
        return;
    };
    let cases = outside_cases(Path::new(&dir));
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    let db = TestDb::new().await;
    let ws = workspace(&db.db, "outside").await;

    // Every number the bodies name, with its WABA; placeholders such as
    // `<BUSINESS_PHONE_NUMBER_ID>` are not Meta ids, cannot be connected and stay failures.
    let mut numbers: BTreeMap<&str, &str> = BTreeMap::new();
    let mut template_wabas: BTreeSet<&str> = BTreeSet::new();
    for (_, body) in &cases {
        for (waba, change) in changes(body) {
            let waba = if is_meta_id(waba) { waba } else { WABA_ID };
            if let Some(number) = change["value"]["metadata"]["phone_number_id"].as_str()
                && is_meta_id(number)
            {
                numbers.entry(number).or_insert(waba);
            }
            if matches!(
                change["field"].as_str(),
                Some("message_template_status_update" | "template_category_update")
            ) {
                template_wabas.insert(waba);
            }
        }
    }
    for (number, waba) in &numbers {
        connect_number(&db.db, ws, number, waba).await;
    }
    let covered: BTreeSet<&str> = numbers.values().copied().collect();
    for (i, waba) in template_wabas.difference(&covered).enumerate() {
        connect_number(&db.db, ws, &format!("77700000000{i:04}"), waba).await;
    }

    let http = Http::start(&db.db, |_| {}).await;
    let mut wrong = Vec::new();
    for (name, body) in &cases {
        let status = http.post_signed(&meta_bytes(body)).await;
        let expected = if body.is_object() {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        if status != expected {
            wrong.push(format!("{name}: {status}, expected {expected}"));
        }
    }
    assert!(wrong.is_empty(), "answers:\n{}", wrong.join("\n"));
    assert_eq!(
        count(db.pool(), "SELECT count(*) FROM webhook_archive").await,
        i64::try_from(cases.len()).unwrap(),
        "every signed body is archived"
    );

    // Every message item of a connected number is a row (several cases share one wamid).
    let mut expected: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
    for (name, body) in &cases {
        for (_, change) in changes(body) {
            let value = &change["value"];
            let Some(number) = value["metadata"]["phone_number_id"].as_str() else {
                continue;
            };
            if change["field"] != "messages" || !numbers.contains_key(number) {
                continue;
            }
            for message in value["messages"].as_array().into_iter().flatten() {
                let (Some(id), Some(kind)) = (message["id"].as_str(), message["type"].as_str())
                else {
                    continue;
                };
                if !id.is_empty() && !matches!(kind, "reaction" | "edit" | "revoke") {
                    expected
                        .entry((number.to_string(), id.to_string()))
                        .or_default()
                        .push(name);
                }
            }
        }
    }
    let stored: BTreeSet<(String, String)> = sqlx::query_as(
        "SELECT p.phone_number_id, m.wa_message_id FROM messages m \
         JOIN phone_numbers p ON p.id = m.phone_number_id WHERE m.wa_message_id IS NOT NULL",
    )
    .fetch_all(db.pool())
    .await
    .unwrap()
    .into_iter()
    .collect();
    let missing: Vec<_> = expected
        .iter()
        .filter(|(key, _)| !stored.contains(*key))
        .map(|((number, id), names)| format!("{number} {id} (from {})", names.join(", ")))
        .collect();
    assert!(
        missing.is_empty(),
        "messages not stored:\n{}",
        missing.join("\n")
    );

    // Every change of a field treeex does not apply is kept, verbatim.
    let kept: Vec<(String, Value)> = sqlx::query_as("SELECT field, payload FROM webhook_failures")
        .fetch_all(db.pool())
        .await
        .unwrap();
    let mut not_kept = Vec::new();
    for (name, body) in &cases {
        for (_, change) in changes(body) {
            let field = change["field"].as_str().unwrap_or_default();
            if matches!(
                field,
                "messages" | "message_template_status_update" | "template_category_update"
            ) {
                continue;
            }
            let is_kept = kept.iter().any(|(kept_field, payload)| {
                kept_field == field
                    && payload.pointer("/entry/0/changes/0/value") == Some(&change["value"])
            });
            if !is_kept {
                not_kept.push(format!("{name}: {field}"));
            }
        }
    }
    assert!(
        not_kept.is_empty(),
        "changes not kept:\n{}",
        not_kept.join("\n")
    );
    println!(
        "outside set: {} cases answered, {} messages stored, {} changes kept as failures",
        cases.len(),
        expected.len(),
        kept.len()
    );
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let db = TestDb::new().await;
    connected(&db.db).await;
    let http = Http::start(&db.db, |_| {}).await;

    assert_eq!(http.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(http.get("/readyz").await.status(), StatusCode::OK);
    let body = text_message(PHONE_NUMBER_ID, "wamid.METRICS1", CUSTOMER);
    assert_eq!(http.post_signed(&body).await, StatusCode::OK);
    assert_eq!(http.post(&body, None).await, StatusCode::UNAUTHORIZED);

    let metrics = http.get("/metrics").await;
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.unwrap();
    for wanted in [
        r#"treeex_webhook_requests_total{outcome="applied"}"#,
        r#"treeex_webhook_requests_total{outcome="unauthorized"}"#,
        "treeex_ingest_seconds_bucket{",
        r#"treeex_webhook_events_total{kind="message"}"#,
    ] {
        assert!(text.contains(wanted), "/metrics lacks {wanted}:\n{text}");
    }
}

/// A directory the unprivileged server user can reach (tempdirs are made 700).
fn reachable_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

async fn start_cluster(options: &ClusterOptions) -> ManagedCluster {
    let options = options.clone();
    tokio::task::spawn_blocking(move || ManagedCluster::start(&options).unwrap())
        .await
        .unwrap()
}

/// Lets go of a cluster; as its only user, that stops the server.
async fn stop_cluster(cluster: ManagedCluster) {
    tokio::task::spawn_blocking(move || drop(cluster))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_database_that_goes_away_is_503_and_the_retry_lands_once() {
    let parent = reachable_tempdir();
    let options = ClusterOptions {
        dir: parent.path().join("pg"),
        bin_dir: None,
        throwaway: true,
    };
    let cluster = start_cluster(&options).await;
    treeex::store::create_database(&cluster, "treeex")
        .await
        .unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(2))
        .connect_with(cluster.connect_options("treeex"))
        .await
        .unwrap();
    let db = Db::from_pool(pool);
    db.migrate().await.unwrap();
    connected(&db).await;
    let http = Http::start(&db, |_| {}).await;

    let before = text_message(PHONE_NUMBER_ID, "wamid.BEFORE1", CUSTOMER);
    assert_eq!(http.post_signed(&before).await, StatusCode::OK);
    assert_eq!(http.get("/readyz").await.status(), StatusCode::OK);

    stop_cluster(cluster).await;
    let retried = text_message(PHONE_NUMBER_ID, "wamid.RETRIED1", CUSTOMER);
    let asked = Instant::now();
    assert_eq!(
        http.post_signed(&retried).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "{:?}",
        asked.elapsed()
    );
    assert_eq!(
        http.get("/readyz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    let cluster = start_cluster(&options).await;
    assert_eq!(http.post_signed(&retried).await, StatusCode::OK);
    assert_eq!(http.get("/readyz").await.status(), StatusCode::OK);
    assert_eq!(messages_with(db.pool(), "wamid.RETRIED1").await, 1);
    assert_eq!(messages_with(db.pool(), "wamid.BEFORE1").await, 1);
    assert_eq!(count(db.pool(), "SELECT count(*) FROM messages").await, 2);

    db.pool().close().await;
    stop_cluster(cluster).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_album_posted_concurrently_is_ten_messages_in_one_conversation() {
    let db = TestDb::new().await;
    connected(&db.db).await;
    let http = Http::start(&db.db, |_| {}).await;

    let mut posts = tokio::task::JoinSet::new();
    for i in 0..10 {
        let http = http.clone();
        let body = image_message(
            PHONE_NUMBER_ID,
            &format!("wamid.ALBUM{i:02}"),
            CUSTOMER,
            &format!("10033834213872{i:02}"),
        );
        posts.spawn(async move { http.post_signed(&body).await });
    }
    while let Some(status) = posts.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }

    assert_eq!(
        count(
            db.pool(),
            "SELECT count(*) FROM messages WHERE type = 'image'"
        )
        .await,
        10
    );
    assert_eq!(count(db.pool(), "SELECT count(*) FROM contacts").await, 1);
    assert_eq!(
        count(db.pool(), "SELECT count(*) FROM conversations").await,
        1
    );
    let unread: i32 = sqlx::query_scalar("SELECT unread_count FROM conversations")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(unread, 10);
    assert_eq!(
        count(db.pool(), "SELECT count(*) FROM webhook_failures").await,
        0
    );
}

/// Every line `reader` gives, as it comes, read on a thread of its own (so the pipe never fills).
fn lines_of(reader: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    receiver
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn serve_stops_on_sigterm_under_load_and_keeps_every_answered_body() {
    const REQUESTS: usize = 200;
    const SIGNAL_AFTER: usize = 50;
    let db = TestDb::new().await;
    connected(&db.db).await;
    let home = empty_home();
    let config = home.path().join("treeex.toml");
    std::fs::write(
        &config,
        format!("[whatsapp]\napp_secret = \"{APP_SECRET}\"\n"),
    )
    .unwrap();

    let mut child = db
        .treeex(home.path())
        .arg("--config")
        .arg(&config)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = lines_of(child.stdout.take().unwrap());
    let stderr = lines_of(child.stderr.take().unwrap());
    let stderr_text = || stderr.try_iter().collect::<Vec<_>>().join("\n");
    let first = tokio::task::block_in_place(|| stdout.recv_timeout(Duration::from_secs(60)))
        .unwrap_or_else(|e| panic!("no first line from serve ({e}); stderr:\n{}", stderr_text()));
    let address = first
        .strip_prefix("treeex serve: listening on ")
        .unwrap_or_else(|| panic!("the first line names the address: {first:?}"));
    let http = Http::at(address.to_string());

    let next = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut load = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (http, next, answered) = (http.clone(), next.clone(), answered.clone());
        load.spawn(async move {
            let mut stored_ok = Vec::new();
            let mut other = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= REQUESTS {
                    return (stored_ok, other);
                }
                let wamid = format!("wamid.LOAD{i:04}");
                let body = text_message(PHONE_NUMBER_ID, &wamid, CUSTOMER);
                // A request that fails to connect or loses its answer is fine: Meta retries it.
                if let Ok(response) = http.try_post(&body, Some(&signed(&body))).await {
                    answered.fetch_add(1, Ordering::SeqCst);
                    match response.status() {
                        StatusCode::OK => stored_ok.push(wamid),
                        status => other.push(format!("{wamid}: {status}")),
                    }
                }
            }
        });
    }

    let deadline = Instant::now() + Duration::from_secs(60);
    while answered.load(Ordering::SeqCst) < SIGNAL_AFTER {
        assert!(
            Instant::now() < deadline,
            "fewer than {SIGNAL_AFTER} answers in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let signalled = Instant::now();
    let (status, took) = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break (status, signalled.elapsed());
        }
        if signalled.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "serve did not exit within 10 s of SIGTERM; stderr:\n{}",
                stderr_text()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status.code(), Some(0), "stderr:\n{}", stderr_text());

    let mut answered_ok = Vec::new();
    let mut other = Vec::new();
    while let Some(result) = load.join_next().await {
        let (ok, not_ok) = result.unwrap();
        answered_ok.extend(ok);
        other.extend(not_ok);
    }
    // The database was up throughout: whatever was answered was answered 200.
    assert!(other.is_empty(), "answers other than 200: {other:?}");
    assert!(answered_ok.len() >= SIGNAL_AFTER, "{}", answered_ok.len());
    let stored: BTreeSet<String> =
        sqlx::query_scalar("SELECT wa_message_id FROM messages WHERE wa_message_id IS NOT NULL")
            .fetch_all(db.pool())
            .await
            .unwrap()
            .into_iter()
            .collect();
    let lost: Vec<_> = answered_ok
        .iter()
        .filter(|w| !stored.contains(*w))
        .collect();
    assert!(lost.is_empty(), "answered 200 but not stored: {lost:?}");
    println!(
        "serve: {} of {REQUESTS} answered 200, exited {:?} after SIGTERM",
        answered_ok.len(),
        took
    );
}
