//! The commands together, as an operator runs them: `treeex simulate` and `treeex serve` (its
//! Graph API pointed at the simulator) carry a `treeex send` to `read`; a free-form send to a
//! customer whose window is closed is refused before it leaves, and a template goes through.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{TestDb, empty_home, ok, run};

const NUMBER: &str = "106540352242922";
const SECRET: &str = "send-cli-secret";

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
            // Keep reading in the background so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return (running, line);
        }
    }
}

fn config(home: &Path, graph: &str) -> std::path::PathBuf {
    let path = home.join("treeex.toml");
    std::fs::write(
        &path,
        format!(
            "[whatsapp]\napp_secret = \"{SECRET}\"\ngraph_base_url = \"{graph}\"\n\
             [outbox]\nrequest_timeout_secs = 10\n"
        ),
    )
    .unwrap();
    path
}

async fn wait_status(db: &TestDb, id: &str, wanted: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status: String =
            sqlx::query_scalar("SELECT status::text FROM messages WHERE id = $1::uuid")
                .bind(id)
                .fetch_one(db.pool())
                .await
                .unwrap();
        if status == wanted {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "message {id} is {status}, never {wanted}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn simulate_serve_and_send_carry_a_message_to_read() {
    let db = TestDb::new().await;
    let home = empty_home();
    let sim_port = common::free_port();
    let graph = format!("http://127.0.0.1:{sim_port}");
    let config = config(home.path(), &graph);
    let treeex = || {
        let mut command = db.treeex(home.path());
        command.arg("--config").arg(&config);
        command
    };

    let mut serve = treeex();
    serve.args(["serve", "--listen", "127.0.0.1:0"]);
    let (_serve, line) = start(serve, "listening on");
    let listener = line.rsplit(' ').next().unwrap().to_string();

    let mut simulate = common::treeex_command(home.path());
    simulate.args([
        "simulate",
        "--listen",
        &format!("127.0.0.1:{sim_port}"),
        "--webhook-url",
        &format!("{listener}/webhook"),
        "--app-secret",
        SECRET,
    ]);
    let (_simulate, _) = start(simulate, "Graph API on");

    ok(treeex().args([
        "workspace",
        "create",
        "acme",
        "--name",
        "Acme",
        "--owner",
        "ana@example.com",
    ]));
    ok(treeex().args([
        "phone",
        "add",
        "--workspace",
        "acme",
        "--phone-number-id",
        NUMBER,
        "--display-phone-number",
        "+1 555 010 0000",
        "--waba-id",
        "102290129340398",
        "--access-token",
        "EAAG-token",
    ]));
    let synced = ok(treeex().args(["template", "sync", "--workspace", "acme", "--json"])).json();
    assert_eq!(synced[0]["templates"], 3);

    // A customer writes in (through the simulator, which posts the signed webhook to serve).
    treeex::install_tls_provider();
    let client = reqwest::Client::new();
    let inbound = client
        .post(format!("{graph}/_sim/inbound"))
        .json(&serde_json::json!({ "phone_number_id": NUMBER, "from": "14155550123", "name": "Ana", "text": "hi" }))
        .send()
        .await
        .unwrap();
    assert!(inbound.status().is_success());
    let deadline = Instant::now() + Duration::from_secs(30);
    while sqlx::query_scalar::<_, i64>("SELECT count(*) FROM messages WHERE direction = 'INBOUND'")
        .fetch_one(db.pool())
        .await
        .unwrap()
        == 0
    {
        assert!(
            Instant::now() < deadline,
            "the customer's message never arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let sent = ok(treeex().args([
        "send",
        "--workspace",
        "acme",
        "--phone-number-id",
        NUMBER,
        "--to",
        "14155550123",
        "--text",
        "Thanks, Ana!",
        "--wait",
        "--json",
    ]))
    .json();
    // Meta accepted it (serve's worker may have sent it first; statuses may already be in).
    assert!(
        ["sent", "delivered", "read"].contains(&sent["status"].as_str().unwrap()),
        "{sent}"
    );
    assert!(
        sent["wa_message_id"]
            .as_str()
            .unwrap()
            .starts_with("wamid."),
        "{sent}"
    );
    wait_status(&db, sent["id"].as_str().unwrap(), "read").await;

    // Another customer never wrote: free-form is refused before anything leaves.
    let refused = run(treeex().args([
        "send",
        "--workspace",
        "acme",
        "--phone-number-id",
        NUMBER,
        "--to",
        "14155550999",
        "--text",
        "Hello?",
    ]));
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("only an approved template can be sent"),
        "{refused:?}"
    );
    let templated = ok(treeex().args([
        "send",
        "--workspace",
        "acme",
        "--phone-number-id",
        NUMBER,
        "--to",
        "14155550999",
        "--template",
        "order_update",
        "--language",
        "en_US",
        "--param",
        "Bo",
        "--param",
        "#42",
        "--json",
    ]))
    .json();
    wait_status(&db, templated["id"].as_str().unwrap(), "read").await;

    let messages = common::get_json(&client, &format!("{graph}/_sim/messages")).await;
    assert_eq!(
        messages.as_array().unwrap().len(),
        2,
        "exactly the two accepted sends: {messages}"
    );
}
