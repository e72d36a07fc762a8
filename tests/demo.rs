//! `treeex demo`, as a newcomer runs it: the real binary on a managed PostgreSQL of its own (in
//! a directory per test), the simulator and the listener on free ports.
//!
//! Headless, it prints where its parts are, seeds "Acme Demo", and from then on customers write
//! in and the running campaign advances, in the database the printed URL names; it stops
//! cleanly on SIGINT; a second start keeps the data and `--fresh` starts it over, unless
//! another demo is running (a demo beside it shares the data as it is). In a
//! pseudo-terminal it opens the inbox on the seeded conversations, and a customer's new message
//! arrives on screen.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::pty::{Tui, wait_for, wait_for_within};
use common::{empty_home, treeex_command};
use sqlx::{Connection, PgConnection};

/// How long the demo may take to start (the cluster's first `initdb` included) and to show
/// each sign of life.
const START: Duration = Duration::from_secs(60);
const ALIVE: Duration = Duration::from_secs(45);
const POLL: Duration = Duration::from_millis(200);

/// A home for treeex and a directory the PostgreSQL server user can reach for the cluster.
struct Place {
    home: tempfile::TempDir,
    /// Removed when the test ends; each demo stops its server on the way out.
    _cluster: tempfile::TempDir,
    config: PathBuf,
    logs: PathBuf,
}

impl Place {
    fn new() -> Place {
        let home = empty_home();
        let cluster = tempfile::tempdir().unwrap();
        std::fs::set_permissions(cluster.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let logs = home.path().join("logs");
        let config = home.path().join("treeex.toml");
        std::fs::write(
            &config,
            format!(
                "[database]\nmanaged_dir = \"{}\"\n\n[logging]\ndir = \"{}\"\n",
                cluster.path().join("pg").display(),
                logs.display()
            ),
        )
        .unwrap();
        Place {
            home,
            _cluster: cluster,
            config,
            logs,
        }
    }

    fn home(&self) -> &Path {
        self.home.path()
    }
}

/// A headless demo and the addresses it printed.
struct Headless {
    child: Child,
    database: String,
    simulator: String,
    listener: String,
}

impl Headless {
    fn start(place: &Place, fresh: bool) -> Headless {
        let mut command = treeex_command(place.home());
        command
            .arg("--config")
            .arg(&place.config)
            .args(["demo", "--headless"]);
        if fresh {
            command.arg("--fresh");
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start treeex demo");
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut printed = Vec::new();
        let deadline = Instant::now() + START;
        while printed.len() < 3 {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => printed.push(line),
                Err(_) => {
                    let _ = child.kill();
                    let output = child.wait_with_output().unwrap();
                    panic!(
                        "the demo printed {printed:?} and no more within {START:?}\n--- stderr\n{}",
                        String::from_utf8_lossy(&output.stderr)
                    );
                }
            }
        }
        let value = |key: &str, line: &str| {
            line.strip_prefix(key)
                .unwrap_or_else(|| panic!("expected `{key}...` as printed, got {line:?}"))
                .to_string()
        };
        Headless {
            database: value("database: ", &printed[0]),
            simulator: value("simulator: ", &printed[1]),
            listener: value("listener: ", &printed[2]),
            child,
        }
    }

    async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.database)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the printed {}: {e}", self.database))
    }

    /// SIGINT, then the exit status (killed and failed after 20 s).
    fn interrupt(mut self) -> i32 {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
        exit_within(
            &mut self.child,
            Duration::from_secs(20),
            "the demo did not stop within 20 s of SIGINT",
        )
    }
}

/// The exit code of `child` once it exits; killed and failed with `otherwise` after `within`.
fn exit_within(child: &mut Child, within: Duration, otherwise: &str) -> i32 {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("{otherwise}");
        }
        std::thread::sleep(POLL);
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

const INBOUND: &str = "SELECT count(*) FROM messages WHERE direction = 'INBOUND'";
const SALE_SENT: &str = "SELECT sent_count::bigint FROM campaigns WHERE name = 'Spring sale'";

/// Polls `sql` until its count is above `above`; fails with `what` at the deadline.
async fn wait_above(conn: &mut PgConnection, sql: &str, above: i64, what: &str) -> i64 {
    let deadline = Instant::now() + ALIVE;
    loop {
        let now = count(conn, sql).await;
        if now > above {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still {now} after {ALIVE:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

#[tokio::test]
async fn headless_demo_seeds_acme_and_stays_alive() {
    let place = Place::new();
    let demo = Headless::start(&place, false);
    assert!(
        demo.database.starts_with("postgres://"),
        "{}",
        demo.database
    );
    assert!(demo.simulator.starts_with("http://127.0.0.1:"));
    assert!(demo.listener.starts_with("http://127.0.0.1:"));
    treeex::install_tls_provider();
    let http = reqwest::Client::new();
    let health = http
        .get(format!("{}/healthz", demo.listener))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let mut db = demo.connect().await;
    let workspace: (String, String) =
        sqlx::query_as("SELECT slug, name FROM workspaces WHERE slug = 'acme-demo'")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(workspace.1, "Acme Demo");
    let roles: Vec<(String, String)> = sqlx::query_as(
        "SELECT u.email, m.role::text FROM workspace_members m JOIN users u ON u.id = m.user_id \
         ORDER BY m.role, u.email",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    assert_eq!(roles[0], ("demo@acme.example".into(), "OWNER".into()));
    assert_eq!(roles.iter().filter(|(_, r)| r == "MEMBER").count(), 2);
    assert_eq!(
        count(&mut db, "SELECT count(*) FROM phone_numbers").await,
        1
    );
    assert_eq!(count(&mut db, "SELECT count(*) FROM contacts").await, 200);
    let opted_out = count(&mut db, "SELECT count(*) FROM contacts WHERE NOT opted_in").await;
    assert!((3..=20).contains(&opted_out), "{opted_out} opted out");
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM templates WHERE status = 'APPROVED'"
        )
        .await,
        5
    );
    assert_eq!(
        count(
            &mut db,
            "SELECT count(*) FROM templates WHERE components @> '[{\"type\": \"HEADER\", \"format\": \"IMAGE\"}]'"
        )
        .await,
        1
    );
    // The 40 conversations with a history, besides those the campaigns opened.
    assert_eq!(
        count(
            &mut db,
            "SELECT count(DISTINCT conversation_id) FROM messages WHERE sent_by IS NOT NULL"
        )
        .await,
        40
    );
    let closed_windows = count(
        &mut db,
        "SELECT count(*) FROM conversations WHERE window_expires_at < now()",
    )
    .await;
    assert!(closed_windows >= 5, "{closed_windows} windows closed");
    let scripts = count(
        &mut db,
        "SELECT count(*) FROM messages WHERE content::text ~ '[\u{0600}-\u{06FF}]' \
         OR content::text ~ '[\u{0590}-\u{05FF}]'",
    )
    .await;
    assert!(scripts > 0, "no right-to-left message");
    let failed: (i32, String) = sqlx::query_as(
        "SELECT error_code, error_title FROM messages WHERE sent_by IS NOT NULL AND status = 'failed'",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(failed, (131047, "Re-engagement message".into()));
    let campaigns: Vec<(String, String, i32, i32)> = sqlx::query_as(
        "SELECT name, status::text, total_contacts, sent_count FROM campaigns ORDER BY name",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let status = |name: &str| {
        campaigns
            .iter()
            .find(|c| c.0 == name)
            .unwrap_or_else(|| panic!("no campaign {name}: {campaigns:?}"))
    };
    let sale = status("Spring sale");
    assert_eq!(sale.1, "RUNNING");
    assert!(
        sale.3 >= sale.2 / 3 && sale.3 < sale.2,
        "the sale is not half-way: {sale:?}"
    );
    assert_eq!(status("Weekend delivery slots").1, "SCHEDULED");
    assert_eq!(status("Welcome, VIPs").1, "COMPLETED");

    // Alive: customers write in and the campaign goes on sending, at the number's pace.
    let inbound = count(&mut db, INBOUND).await;
    let sent = count(&mut db, SALE_SENT).await;
    wait_above(&mut db, INBOUND, inbound, "no new customer message").await;
    wait_above(
        &mut db,
        SALE_SENT,
        sent,
        "the running campaign did not advance",
    )
    .await;
    let sim = common::get_json(&http, &format!("{}/_sim/stats", demo.simulator)).await;
    assert!(sim.to_string().contains("106540352242922"), "{sim}");

    assert_eq!(demo.interrupt(), 0, "the demo's exit status after SIGINT");
}

async fn workspace_name(db: &mut PgConnection) -> String {
    sqlx::query_scalar("SELECT name FROM workspaces WHERE slug = 'acme-demo'")
        .fetch_one(db)
        .await
        .unwrap()
}

/// Renames Acme Demo to Acme Renamed: a change a start over would undo.
async fn rename_workspace(db: &mut PgConnection) {
    sqlx::query("UPDATE workspaces SET name = 'Acme Renamed' WHERE slug = 'acme-demo'")
        .execute(db)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_second_start_keeps_the_demo_and_fresh_starts_it_over() {
    let place = Place::new();
    let first = Headless::start(&place, false);
    let mut db = first.connect().await;
    rename_workspace(&mut db).await;
    db.close().await.unwrap();
    assert_eq!(first.interrupt(), 0);

    let again = Headless::start(&place, false);
    let mut db = again.connect().await;
    let name = workspace_name(&mut db).await;
    assert_eq!(
        name, "Acme Renamed",
        "a second start must keep the demo's data"
    );
    assert_eq!(count(&mut db, "SELECT count(*) FROM campaigns").await, 3);
    db.close().await.unwrap();
    assert_eq!(again.interrupt(), 0);

    let fresh = Headless::start(&place, true);
    let mut db = fresh.connect().await;
    let name = workspace_name(&mut db).await;
    assert_eq!(name, "Acme Demo", "--fresh must start the demo over");
    assert_eq!(count(&mut db, "SELECT count(*) FROM contacts").await, 200);
    db.close().await.unwrap();
    assert_eq!(fresh.interrupt(), 0);
}

#[tokio::test]
async fn a_demo_beside_a_running_one_shares_its_data_and_fresh_is_refused_meanwhile() {
    let place = Place::new();
    let first = Headless::start(&place, false);
    let mut db = first.connect().await;
    rename_workspace(&mut db).await;

    let mut fresh = treeex_command(place.home())
        .arg("--config")
        .arg(&place.config)
        .args(["demo", "--headless", "--fresh"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start treeex demo --fresh");
    let code = exit_within(
        &mut fresh,
        START,
        "demo --fresh ran beside a running demo instead of refusing",
    );
    let refused = fresh.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("another `treeex demo` is running"),
        "{stderr}"
    );
    assert!(
        refused.stdout.is_empty(),
        "nothing started: {:?}",
        String::from_utf8_lossy(&refused.stdout)
    );
    assert_eq!(
        workspace_name(&mut db).await,
        "Acme Renamed",
        "the running demo's data is untouched"
    );

    let second = Headless::start(&place, false);
    assert_eq!(second.database, first.database);
    assert_eq!(
        workspace_name(&mut db).await,
        "Acme Renamed",
        "the second demo shares the data as it is"
    );
    assert_eq!(count(&mut db, "SELECT count(*) FROM campaigns").await, 3);
    db.close().await.unwrap();
    assert_eq!(second.interrupt(), 0);
    assert_eq!(first.interrupt(), 0);
}

#[tokio::test]
async fn the_demo_opens_the_inbox_on_the_seeded_conversations() {
    let place = Place::new();
    let mut tui = Tui::start_with(&place.config, place.home(), place.logs.clone(), &["demo"]);
    let screen = wait_for_within(
        START,
        &tui.screen,
        |s| s.contains("Acme Demo") && s.contains("Emma Johnson") && s.contains("Lena Müller"),
        "the inbox of Acme Demo with its seeded conversations",
    )
    .await;
    assert!(
        screen.contains("demo@acme.example") || screen.contains("Alex Morgan"),
        "{screen}"
    );
    // The first customer writes again a moment after the demo opens.
    wait_for(
        &tui.screen,
        |s| s.contains("The tracking says delivered"),
        "a customer's new message on screen",
    )
    .await;
    tui.press("q");
    let status = tui.wait_exit(Duration::from_secs(20)).await;
    assert!(status.success(), "{status:?}");
}

/// Draws the README's screenshots from the real screens: the inbox with a conversation open,
/// and the running campaign's dashboard. Run it by hand after a change to those screens:
/// `cargo test --test demo -- --ignored readme_screenshots`.
#[tokio::test]
#[ignore = "writes assets/*.svg; run by hand to refresh the README's screenshots"]
async fn readme_screenshots() {
    let place = Place::new();
    let mut tui = Tui::start_with(&place.config, place.home(), place.logs.clone(), &["demo"]);
    wait_for_within(
        START,
        &tui.screen,
        |s| s.contains("The tracking says delivered"),
        "the inbox with the first customer's new message",
    )
    .await;
    tui.press("\r");
    wait_for(
        &tui.screen,
        |s| s.contains("Quero trocar") && s.contains("The tracking says"),
        "Ana's conversation open beside the list",
    )
    .await;
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    std::fs::create_dir_all(&assets).unwrap();
    std::fs::write(assets.join("inbox.svg"), tui.screen.svg()).unwrap();

    tui.press("2");
    wait_for(
        &tui.screen,
        |s| s.contains("Spring sale") && s.contains("Weekend delivery slots"),
        "the campaign list",
    )
    .await;
    // The running campaign is the newest, at the top.
    tui.press("\r");
    wait_for(
        &tui.screen,
        |s| s.contains("Spring sale") && s.contains("Funnel") && s.contains("Send rate"),
        "the running campaign's dashboard",
    )
    .await;
    std::fs::write(assets.join("campaign.svg"), tui.screen.svg()).unwrap();
    tui.press("q");
    tui.wait_exit(Duration::from_secs(20)).await;
}

#[test]
fn the_demo_without_a_terminal_points_to_headless() {
    let home = empty_home();
    let run = common::run(treeex_command(home.path()).arg("demo").stdin(Stdio::null()));
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("treeex demo --headless"), "{run:?}");
}
