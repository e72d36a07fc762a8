//! Media in and out, against real PostgreSQL, the Cloud API simulator and a file media store in
//! a temp dir: an inbound image is fetched into the store with its bytes and sha256; a media id
//! Meta does not know is retried, given up and recorded; an outbound image is uploaded and sent
//! by media id all the way to `read`; a file too large or of the wrong type is refused before
//! anything leaves; and `treeex send --document` and `serve`'s fetcher work through the binary.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use common::{TestDb, empty_home, run};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use treeex::app::media::{
    self, FetcherSettings, FileToSend, MediaError, MediaFetcher, MediaStore, OutgoingFile,
};
use treeex::app::outbox::{OutboxError, OutboxWorker, Refusal, WorkerSettings};
use treeex::cloud_api::graph::GraphClient;
use treeex::cloud_api::webhook::MediaKind;
use treeex::domain::{WaId, WorkspaceId};
use treeex::simulator::{BusinessNumber, Simulator, SimulatorConfig};
use treeex::store::Db;
use treeex::store::media::MediaFile;
use uuid::Uuid;

const NUMBER: &str = "106540352242922";
const WABA: &str = "102290129340398";
const SECRET: &str = "media-test-secret";
const CUSTOMER: &str = "14155550123";
const TOKEN: &str = "EAAG-media-token";

struct World {
    db: TestDb,
    workspace: WorkspaceId,
    sim: Simulator,
    graph: GraphClient,
    webhook_url: String,
    http: reqwest::Client,
    /// The media store's directory.
    media_dir: tempfile::TempDir,
    store: MediaStore,
    stop: CancellationToken,
}

impl World {
    /// A workspace with one number, the listener, the simulator posting its webhooks to the
    /// listener, and a file media store in a temp dir.
    async fn start() -> World {
        treeex::install_tls_provider();
        let db = TestDb::new().await;
        let workspace = common::workspace_with_number(
            &db.db,
            common::Tenant {
                name: "Acme",
                owner: "owner@example.com",
                owner_name: None,
                number: NUMBER,
                waba: WABA,
                token: TOKEN,
                mps: 80,
            },
        )
        .await;

        let stop = CancellationToken::new();
        let webhook_url = common::start_listener(&db.db, SECRET, &stop).await;

        let sim = Simulator::start(SimulatorConfig {
            webhook_url: Some(webhook_url.clone()),
            app_secret: SECRET.into(),
            delays: (Duration::from_millis(1), Duration::from_millis(5)),
            numbers: vec![BusinessNumber {
                phone_number_id: NUMBER.into(),
                display_phone_number: "15550100000".into(),
                waba_id: WABA.into(),
            }],
            ..SimulatorConfig::default()
        })
        .await
        .unwrap();
        let graph = GraphClient::new(&sim.base_url(), "v23.0", Duration::from_secs(10)).unwrap();
        let media_dir = tempfile::tempdir().unwrap();
        let store = MediaStore::open(&format!("file://{}", media_dir.path().display())).unwrap();
        World {
            db,
            workspace,
            sim,
            graph,
            webhook_url,
            http: reqwest::Client::new(),
            media_dir,
            store,
            stop,
        }
    }

    fn db(&self) -> &Db {
        &self.db.db
    }

    /// Runs a media fetcher (`max_attempts`, quick retries) until the test ends.
    fn run_fetcher(&self, max_attempts: u32) {
        let settings = FetcherSettings {
            max_attempts,
            retry_unit: Duration::from_millis(2),
            ..FetcherSettings::default()
        };
        let fetcher = MediaFetcher::new(
            self.db().clone(),
            self.graph.clone(),
            self.store.clone(),
            settings,
        );
        tokio::spawn(fetcher.run(self.stop.clone()));
    }

    /// Runs an outbox worker that reads files from the media store until the test ends.
    fn run_worker(&self) {
        let worker = OutboxWorker::new(
            self.db().clone(),
            self.graph.clone(),
            WorkerSettings {
                retry_unit: Duration::from_millis(20),
                ..WorkerSettings::default()
            },
        )
        .with_media(self.store.clone());
        tokio::spawn(worker.run(self.stop.clone()));
    }

    /// A customer writes a text (through the simulator, so both sides know the window is open).
    async fn customer_writes(&self) {
        self.sim
            .inbound(NUMBER, CUSTOMER, "Ana Souza", "hello")
            .await
            .unwrap();
        let pool = self.db.pool().clone();
        wait_for("the customer's message to land", || {
            let pool = pool.clone();
            async move {
                sqlx::query_scalar::<_, bool>(
                    "SELECT EXISTS (SELECT 1 FROM conversations WHERE window_expires_at > now())",
                )
                .fetch_one(&pool)
                .await
                .unwrap()
            }
        })
        .await;
    }

    /// Uploads a file to the simulator as the customer's phone would have (Meta holds inbound
    /// media under a media id) and returns its id.
    async fn simulator_holds(&self, bytes: &[u8], mime_type: &str) -> String {
        self.graph
            .upload_media(
                &SecretString::from(TOKEN),
                NUMBER,
                bytes.to_vec(),
                mime_type,
                "from-the-phone",
            )
            .await
            .unwrap()
    }

    /// Posts a signed webhook with one inbound message, as Meta does, and insists on 200.
    async fn inbound_webhook(&self, message: Value) {
        post_inbound(&self.http, &self.webhook_url, message).await;
    }

    /// The media files of the workspace, oldest first.
    async fn files(&self) -> Vec<MediaFile> {
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT message_id FROM media_files WHERE workspace_id = $1 \
             GROUP BY message_id ORDER BY min(created_at)",
        )
        .bind(self.workspace.0)
        .fetch_all(self.db.pool())
        .await
        .unwrap();
        let mut files = Vec::new();
        for id in ids {
            files.extend(
                treeex::store::media::for_message(self.db(), self.workspace, id)
                    .await
                    .unwrap(),
            );
        }
        files
    }

    async fn file_where(&self, what: &str, done: impl Fn(&MediaFile) -> bool) -> MediaFile {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(file) = self.files().await.into_iter().find(|f| done(f)) {
                return file;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {:?}",
                self.files().await
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn status(&self, message: Uuid) -> String {
        sqlx::query_scalar("SELECT status::text FROM messages WHERE id = $1")
            .bind(message)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    async fn wait_status(&self, message: Uuid, wanted: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let status = self.status(message).await;
            if status == wanted {
                return;
            }
            assert!(
                status != "failed" && Instant::now() < deadline,
                "message {message} is {status}, never {wanted}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn sim_messages(&self) -> Value {
        self.http
            .get(format!("{}/_sim/messages", self.sim.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    fn outgoing(&self, kind: MediaKind, path: PathBuf, caption: Option<&str>) -> OutgoingFile {
        OutgoingFile {
            workspace: self.workspace,
            phone_number_id: NUMBER.into(),
            to: WaId::parse(CUSTOMER).unwrap(),
            file: FileToSend {
                kind,
                path,
                caption: caption.map(str::to_string),
            },
            reply_to: None,
            sent_by: None,
        }
    }

    /// Every file in the media store's directory.
    fn stored_files(&self) -> Vec<PathBuf> {
        files_under(self.media_dir.path())
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Meta's webhook envelope around one inbound message (spec §2.2), signed and posted.
async fn post_inbound(http: &reqwest::Client, webhook_url: &str, message: Value) {
    let body = json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": WABA,
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": { "display_phone_number": "15550100000", "phone_number_id": NUMBER },
                    "contacts": [{ "profile": { "name": "Ana Souza" }, "wa_id": CUSTOMER }],
                    "messages": [message],
                },
            }],
        }],
    })
    .to_string();
    let answer = http
        .post(webhook_url)
        .header(
            "X-Hub-Signature-256",
            treeex::cloud_api::signature::sign(SECRET.as_bytes(), body.as_bytes()),
        )
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
}

/// An inbound image message naming `media_id` (spec §2.4), with Meta's base64 sha256.
fn image_message(media_id: &str, bytes: &[u8]) -> Value {
    let digest = hex::decode(media::sha256_hex(bytes)).unwrap();
    json!({
        "from": CUSTOMER,
        "id": format!("wamid.IMG{}", Uuid::new_v4().simple()),
        "timestamp": chrono::Utc::now().timestamp().to_string(),
        "type": "image",
        "image": {
            "caption": "Broken lid",
            "mime_type": "image/jpeg",
            "sha256": base64::engine::general_purpose::STANDARD.encode(digest),
            "id": media_id,
        },
    })
}

/// Bytes that are not all alike, so a truncated or shuffled copy would show.
fn sample(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[tokio::test]
async fn an_inbound_image_is_fetched_into_the_store_with_its_bytes_and_hash() {
    let world = World::start().await;
    world.run_fetcher(5);
    let bytes = sample(180_000, 7);
    let media_id = world.simulator_holds(&bytes, "image/jpeg").await;
    let item = image_message(&media_id, &bytes);
    world.inbound_webhook(item.clone()).await;

    let file = world
        .file_where("the image to be stored", |f| f.storage_url.is_some())
        .await;
    let message = file.message_id.unwrap();
    assert_eq!(file.wa_media_id.as_deref(), Some(media_id.as_str()));
    assert_eq!(file.mime_type, "image/jpeg");
    assert_eq!(file.size_bytes, Some(bytes.len() as i64));
    assert_eq!(
        file.sha256.as_deref(),
        Some(media::sha256_hex(&bytes).as_str())
    );
    assert_eq!(file.attempts, 1);
    assert_eq!(file.last_error, None);

    // Where it says, under <workspace>/<message>/<media id>.jpg, byte for byte.
    let key = format!("{}/{message}/{media_id}.jpg", world.workspace.0);
    let url = file.storage_url.unwrap();
    assert_eq!(url, format!("{}/{key}", world.store.url()));
    assert_eq!(
        std::fs::read(world.media_dir.path().join(&key)).unwrap(),
        bytes
    );
    assert_eq!(world.store.get(&url).await.unwrap(), bytes);

    // The message itself is the inbound image, as ingest keeps it.
    let (kind, direction): (String, String) =
        sqlx::query_as("SELECT type, direction::text FROM messages WHERE id = $1")
            .bind(message)
            .fetch_one(world.db.pool())
            .await
            .unwrap();
    assert_eq!((kind.as_str(), direction.as_str()), ("image", "INBOUND"));

    // Redelivered by Meta: still one message and one file, fetched once.
    world.inbound_webhook(item).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let files = world.files().await;
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].attempts, 1);
}

#[tokio::test]
async fn a_media_id_meta_does_not_know_is_retried_then_given_up() {
    let world = World::start().await;
    world.run_fetcher(3);
    world
        .inbound_webhook(image_message("999000111222333", b"never served"))
        .await;

    let file = world
        .file_where("the download to be given up", |f| f.given_up_at.is_some())
        .await;
    assert_eq!(file.storage_url, None);
    assert_eq!(file.attempts, 3, "{file:?}");
    let reason = file.last_error.unwrap();
    assert!(reason.starts_with("gave up after 3 attempts: "), "{reason}");
    assert!(world.stored_files().is_empty());

    // Given up stays given up: nothing claims it again.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let again = world.files().await;
    assert_eq!(again[0].attempts, 3);
    // The message itself is in the thread as it came.
    let inbound: i64 =
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE direction = 'INBOUND'")
            .fetch_one(world.db.pool())
            .await
            .unwrap();
    assert_eq!(inbound, 1);
}

#[tokio::test]
async fn an_outbound_image_is_uploaded_and_sent_by_media_id_to_read() {
    let world = World::start().await;
    world.run_worker();
    world.customer_writes().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lid.png");
    let bytes = sample(250_000, 3);
    std::fs::write(&path, &bytes).unwrap();

    let queued = media::enqueue_file(
        world.db(),
        &world.store,
        &world.outgoing(MediaKind::Image, path, Some("The new lid")),
    )
    .await
    .unwrap();
    world.wait_status(queued.id, "read").await;

    let files = treeex::store::media::for_message(world.db(), world.workspace, queued.id)
        .await
        .unwrap();
    assert_eq!(files.len(), 1);
    let file = &files[0];
    let wa_media_id = file.wa_media_id.clone().expect("the upload's media id");
    assert_eq!(file.mime_type, "image/png");
    assert_eq!(file.size_bytes, Some(bytes.len() as i64));
    assert_eq!(
        file.sha256.as_deref(),
        Some(media::sha256_hex(&bytes).as_str())
    );
    assert_eq!(
        world
            .store
            .get(file.storage_url.as_deref().unwrap())
            .await
            .unwrap(),
        bytes
    );

    // The simulator got one image by that media id, with the caption, and holds our bytes.
    let sent = world.sim_messages().await;
    let sent = sent.as_array().unwrap();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let body = sent[0].to_string();
    assert!(
        body.contains(&format!("\"id\":\"{wa_media_id}\"")),
        "{body}"
    );
    assert!(body.contains("The new lid"), "{body}");
    assert!(body.contains("\"image\""), "{body}");
    let info = world
        .graph
        .media_info(&SecretString::from(TOKEN), &wa_media_id, Some(NUMBER))
        .await
        .unwrap();
    assert_eq!(
        info.sha256.as_deref(),
        Some(media::sha256_hex(&bytes).as_str())
    );

    // The stored body now names the media id, so a retried send would not upload again.
    let content: Value = sqlx::query_scalar("SELECT content FROM messages WHERE id = $1")
        .bind(queued.id)
        .fetch_one(world.db.pool())
        .await
        .unwrap();
    assert_eq!(content["image"]["id"], wa_media_id.as_str());
    assert_eq!(content["image"]["caption"], "The new lid");
}

#[tokio::test]
async fn files_too_large_or_of_the_wrong_type_are_refused_before_anything_leaves() {
    let world = World::start().await;
    world.run_worker();
    world.customer_writes().await;
    let dir = tempfile::tempdir().unwrap();
    let send = |name: &str, len: usize, kind: MediaKind| {
        let path = dir.path().join(name);
        std::fs::write(&path, sample(len, 1)).unwrap();
        world.outgoing(kind, path, None)
    };

    let large = send("big.jpg", 7_200_000, MediaKind::Image);
    match media::enqueue_file(world.db(), &world.store, &large).await {
        Err(MediaError::Refused(reason)) => {
            assert_eq!(reason, "an image is at most 5 MB (this one is 7.2 MB)")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let gif = send("cat.gif", 1_000, MediaKind::Image);
    match media::enqueue_file(world.db(), &world.store, &gif).await {
        Err(MediaError::Refused(reason)) => assert!(
            reason.contains("image/jpeg, image/png") && reason.contains("image/gif"),
            "{reason}"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let program = send("setup.exe", 1_000, MediaKind::Document);
    assert!(matches!(
        media::enqueue_file(world.db(), &world.store, &program).await,
        Err(MediaError::Refused(_))
    ));
    let missing = world.outgoing(MediaKind::Document, dir.path().join("nope.pdf"), None);
    assert!(matches!(
        media::enqueue_file(world.db(), &world.store, &missing).await,
        Err(MediaError::Unreadable { .. })
    ));

    // A good file to a customer who never wrote: the window rule refuses, and the stored file
    // is taken out again.
    let pdf = dir.path().join("invoice.pdf");
    std::fs::write(&pdf, sample(2_000, 9)).unwrap();
    let mut stranger = world.outgoing(MediaKind::Document, pdf, Some("Invoice"));
    stranger.to = WaId::parse("14155550999").unwrap();
    match media::enqueue_file(world.db(), &world.store, &stranger).await {
        Err(MediaError::Outbox(OutboxError::Refused(Refusal::WindowNeverOpened(_)))) => {}
        other => panic!("expected the window rule, got {other:?}"),
    }

    // Nothing was written, stored or sent.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let outbound: i64 =
        sqlx::query_scalar("SELECT count(*) FROM messages WHERE direction = 'OUTBOUND'")
            .fetch_one(world.db.pool())
            .await
            .unwrap();
    assert_eq!(outbound, 0);
    assert!(world.files().await.is_empty());
    assert!(
        world.stored_files().is_empty(),
        "{:?}",
        world.stored_files()
    );
    assert_eq!(world.sim_messages().await, json!([]));
}

/// A child process stopped (SIGTERM) when the test ends, whatever happens.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.0.wait();
    }
}

/// Starts a long-running treeex command and returns it with the first stdout line that
/// contains `marker`.
fn start(mut command: std::process::Command, marker: &str) -> (Running, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let running = Running(child);
    loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("the process ended before printing {marker:?}"))
            .unwrap();
        if line.contains(marker) {
            std::thread::spawn(move || for _ in lines {});
            return (running, line);
        }
    }
}

/// Runs the binary on a blocking thread and returns what it printed.
async fn finish(mut command: std::process::Command) -> common::Run {
    tokio::task::spawn_blocking(move || run(&mut command))
        .await
        .unwrap()
}

/// [`finish`], insisting on exit 0.
async fn finish_ok(command: std::process::Command) -> common::Run {
    let done = finish(command).await;
    assert_eq!(done.code, 0, "{done:?}");
    done
}

/// The simulator runs in this process: the binary is run off the runtime's threads, so the
/// simulator keeps answering while a command waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_document_and_the_fetcher_of_serve_through_the_binary() {
    treeex::install_tls_provider();
    let db = TestDb::new().await;
    let home = empty_home();
    let sim_port = common::free_port();
    let graph = format!("http://127.0.0.1:{sim_port}");
    let media_dir = home.path().join("media store");
    let config = home.path().join("treeex.toml");
    std::fs::write(
        &config,
        format!(
            "[whatsapp]\napp_secret = \"{SECRET}\"\ngraph_base_url = \"{graph}\"\n\
             [media]\nstore = \"file://{}\"\n[outbox]\nrequest_timeout_secs = 10\n",
            media_dir.display()
        ),
    )
    .unwrap();
    let treeex = || {
        let mut command = db.treeex(home.path());
        command.arg("--config").arg(&config);
        command
    };

    let mut serve = treeex();
    serve.args(["serve", "--listen", "127.0.0.1:0"]);
    let (_serve, line) = start(serve, "listening on");
    let listener = line.rsplit(' ').next().unwrap().to_string();
    let webhook_url = format!("{listener}/webhook");
    let sim = Simulator::start(SimulatorConfig {
        listen: ([127, 0, 0, 1], sim_port).into(),
        webhook_url: Some(webhook_url.clone()),
        app_secret: SECRET.into(),
        delays: (Duration::from_millis(1), Duration::from_millis(5)),
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();

    let mut create = treeex();
    create.args([
        "workspace",
        "create",
        "acme",
        "--name",
        "Acme",
        "--owner",
        "ana@example.com",
    ]);
    finish_ok(create).await;
    let mut phone = treeex();
    phone.args([
        "phone",
        "add",
        "--workspace",
        "acme",
        "--phone-number-id",
        NUMBER,
        "--display-phone-number",
        "+1 555 010 0000",
        "--waba-id",
        WABA,
        "--access-token",
        TOKEN,
    ]);
    finish_ok(phone).await;
    sim.inbound(NUMBER, CUSTOMER, "Ana", "hi").await.unwrap();
    let pool = db.pool().clone();
    wait_for("the customer's message", || {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM messages WHERE direction = 'INBOUND'",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
                > 0
        }
    })
    .await;

    let files = tempfile::tempdir().unwrap();
    let pdf = files.path().join("invoice 42.pdf");
    let bytes = sample(40_000, 5);
    std::fs::write(&pdf, &bytes).unwrap();
    let send = |extra: &[&str]| {
        let mut command = treeex();
        command.args([
            "send",
            "--workspace",
            "acme",
            "--phone-number-id",
            NUMBER,
            "--to",
            CUSTOMER,
        ]);
        command.args(extra);
        command
    };
    let pdf_arg = pdf.to_str().unwrap();
    let sent = finish_ok(send(&[
        "--document",
        pdf_arg,
        "--caption",
        "Invoice 42",
        "--wait",
        "--json",
    ]))
    .await
    .json();
    // Sent by this command's worker or by serve's, whichever claimed it first.
    assert!(
        ["sent", "delivered", "read"].contains(&sent["status"].as_str().unwrap_or_default()),
        "{sent}"
    );
    let id = sent["id"].as_str().unwrap().to_string();
    wait_for("the document to be read", || {
        let pool = pool.clone();
        let id = id.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT status::text FROM messages WHERE id = $1::uuid")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
                == "read"
        }
    })
    .await;
    let http = reqwest::Client::new();
    let messages = common::get_json(&http, &format!("{graph}/_sim/messages")).await;
    let body = messages.to_string();
    assert_eq!(messages.as_array().unwrap().len(), 1, "{body}");
    assert!(body.contains("\"document\""), "{body}");
    assert!(body.contains("invoice 42.pdf"), "{body}");
    assert!(body.contains("Invoice 42"), "{body}");
    let (wa_media_id, storage_url): (String, String) = sqlx::query_as(
        "SELECT wa_media_id, storage_url FROM media_files WHERE message_id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert!(
        body.contains(&format!("\"id\":\"{wa_media_id}\"")),
        "{body}"
    );
    assert!(storage_url.starts_with("file://"), "{storage_url}");
    assert_eq!(files_under(&media_dir).len(), 1);

    // Too large, through the binary: exit 1, the limit named, nothing sent.
    let big = files.path().join("big.jpg");
    std::fs::write(&big, sample(5_500_000, 2)).unwrap();
    let refused = finish(send(&["--image", big.to_str().unwrap()])).await;
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("an image is at most 5 MB (this one is 5.5 MB)"),
        "{refused:?}"
    );
    // A caption needs a file; a file that does not exist is bad usage.
    let caption_alone = finish(send(&["--text", "hi", "--caption", "x"])).await;
    assert_eq!(caption_alone.code, 2, "{caption_alone:?}");
    let missing = finish(send(&["--document", "/no/such/file.pdf"])).await;
    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(missing.stderr.contains("/no/such/file.pdf"), "{missing:?}");

    // serve's fetcher: a customer's image lands in the media store.
    let photo = sample(60_000, 11);
    let graph_client = GraphClient::new(&graph, "v23.0", Duration::from_secs(10)).unwrap();
    let media_id = graph_client
        .upload_media(
            &SecretString::from(TOKEN),
            NUMBER,
            photo.clone(),
            "image/jpeg",
            "photo.jpg",
        )
        .await
        .unwrap();
    post_inbound(&http, &webhook_url, image_message(&media_id, &photo)).await;
    wait_for("serve to fetch the image", || {
        let pool = pool.clone();
        let media_id = media_id.clone();
        async move {
            sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM media_files \
                 WHERE wa_media_id = $1 AND storage_url IS NOT NULL)",
            )
            .bind(media_id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    })
    .await;
    let stored: Vec<PathBuf> = files_under(&media_dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(&format!("{media_id}.jpg")))
        .collect();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(std::fs::read(&stored[0]).unwrap(), photo);
    sim.shutdown().await;
}
