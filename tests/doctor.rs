//! `treeex doctor`, run as users run it: the real binary against a fresh database and the Cloud
//! API simulator running in this process. Each test breaks one thing and reads that doctor names
//! it on a FAIL line (and only it), with exit status 1; the good setup passes with 0.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Run, TestDb, empty_home, free_port};
use treeex::simulator::{BusinessNumber, Simulator, SimulatorConfig};

const NUMBER: &str = "106540352242922";
const OTHER_NUMBER: &str = "106540352242923";
const WABA: &str = "102290129340398";
const APP_SECRET: &str = "doctor-app-secret-0123456789";
const VERIFY_TOKEN: &str = "doctor-verify";
const GOOD_TOKEN: &str = "good-token-123";
const REFUSED_TOKEN: &str = "invalid-token";

/// The configuration file of a test: database, listen address and Graph API, both secrets.
fn write_config(home: &Path, database_url: &str, listen: &str, graph: &str) -> PathBuf {
    let path = home.join("treeex.toml");
    std::fs::write(
        &path,
        format!(
            "[database]\nurl = \"{database_url}\"\n\
             [server]\nlisten = \"{listen}\"\n\
             [whatsapp]\napp_secret = \"{APP_SECRET}\"\nverify_token = \"{VERIFY_TOKEN}\"\n\
             graph_base_url = \"{graph}\"\n"
        ),
    )
    .unwrap();
    path
}

/// The simulator, knowing both business numbers.
async fn simulator() -> Simulator {
    let number = |phone_number_id: &str| BusinessNumber {
        phone_number_id: phone_number_id.into(),
        display_phone_number: "15550100000".into(),
        waba_id: WABA.into(),
    };
    Simulator::start(SimulatorConfig {
        numbers: vec![number(NUMBER), number(OTHER_NUMBER)],
        ..SimulatorConfig::default()
    })
    .await
    .unwrap()
}

/// A home, the simulator, and a configuration naming them, `database_url` and `listen`.
struct Setup {
    home: tempfile::TempDir,
    sim: Simulator,
    config: PathBuf,
}

impl Setup {
    async fn new(database_url: &str, listen: &str) -> Setup {
        let home = empty_home();
        let sim = simulator().await;
        let config = write_config(home.path(), database_url, listen, &sim.base_url());
        Setup { home, sim, config }
    }

    /// [`Setup::new`] with a free listen address.
    async fn free(database_url: &str) -> Setup {
        Setup::new(database_url, &format!("127.0.0.1:{}", free_port())).await
    }

    async fn connect_number(&self, slug: &str, number: &str, token: &str) {
        connect_number(self.home.path(), &self.config, slug, number, token).await;
    }

    /// `treeex doctor` with `args`.
    async fn doctor(&self, args: &[&str]) -> Run {
        let mut command = treeex(self.home.path(), &self.config);
        command.arg("doctor").args(args);
        finish(command).await
    }
}

/// The binary with a clean environment, reading `config`.
fn treeex(home: &Path, config: &Path) -> Command {
    let mut command = common::treeex_command(home);
    command.arg("--config").arg(config);
    command
}

/// Runs the binary off the runtime's threads, so the simulator in this process keeps answering.
async fn finish(mut command: Command) -> Run {
    tokio::task::spawn_blocking(move || common::run(&mut command))
        .await
        .unwrap()
}

async fn finish_ok(command: Command) -> Run {
    let done = finish(command).await;
    assert_eq!(done.code, 0, "{done:?}");
    done
}

/// `workspace create SLUG` and `phone add` of one number with `token`.
async fn connect_number(home: &Path, config: &Path, slug: &str, number: &str, token: &str) {
    let mut create = treeex(home, config);
    create.args(["workspace", "create", slug, "--name", slug]);
    finish_ok(create).await;
    let mut phone = treeex(home, config);
    phone.args([
        "phone",
        "add",
        "--workspace",
        slug,
        "--phone-number-id",
        number,
        "--display-phone-number",
        "+1 555 010 0000",
        "--waba-id",
        WABA,
        "--access-token",
        token,
    ]);
    finish_ok(phone).await;
}

/// The lines of one check: `MARK  NAME  detail`.
fn lines<'a>(run: &'a Run, check: &str) -> Vec<&'a str> {
    run.stdout
        .lines()
        .filter(|line| line.split_whitespace().nth(1) == Some(check))
        .collect()
}

/// The one line of `check`, insisting on its mark.
fn only_line<'a>(run: &'a Run, check: &str, mark: &str) -> &'a str {
    let found = lines(run, check);
    assert_eq!(found.len(), 1, "one {check} line\n{run:?}");
    assert!(
        found[0].starts_with(&format!("{mark} ")),
        "{check} is not {mark}\n{run:?}"
    );
    found[0]
}

/// Insists that doctor exited 1 with one FAIL line, of `check`, and returns it.
fn only_failure<'a>(run: &'a Run, check: &str) -> &'a str {
    assert_eq!(run.code, 1, "{run:?}");
    let failed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|line| line.starts_with("FAIL"))
        .collect();
    assert_eq!(failed.len(), 1, "one failed check\n{run:?}");
    assert_eq!(
        failed[0].split_whitespace().nth(1),
        Some(check),
        "{check} failed\n{run:?}"
    );
    assert!(run.stderr.contains("1 check failed"), "{run:?}");
    // The lines are the report: no error line from the command line's own reporting.
    assert!(!run.stderr.contains("error:"), "{run:?}");
    failed[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_on_a_good_setup() {
    let db = TestDb::new().await;
    let listen = format!("127.0.0.1:{}", free_port());
    let setup = Setup::new(&db.url, &listen).await;
    setup.connect_number("acme", NUMBER, GOOD_TOKEN).await;

    let run = setup.doctor(&[]).await;

    assert_eq!(run.code, 0, "{run:?}");
    let config = setup.config.display().to_string();
    assert!(only_line(&run, "config", "ok").contains(&config), "{run:?}");
    assert!(
        only_line(&run, "database", "ok").contains("migrations up to date"),
        "{run:?}"
    );
    assert!(
        only_line(&run, "listener", "ok").contains(&format!("{listen} is free")),
        "{run:?}"
    );
    assert!(
        only_line(&run, "graph", "ok").contains(&setup.sim.base_url()),
        "{run:?}"
    );
    let token = only_line(&run, "token", "ok");
    assert!(token.contains(&format!("acme {NUMBER}")), "{run:?}");
    assert!(token.contains("Simulated Business"), "{run:?}");
    // The default store, under a data directory no treeex has used yet: left uncreated.
    let media = only_line(&run, "media", "ok");
    let dir = media
        .split_whitespace()
        .nth(2)
        .unwrap_or_else(|| panic!("no directory on {media:?}"));
    assert!(
        media.contains("created on first use") && !Path::new(dir).exists(),
        "{run:?}"
    );
    only_line(&run, "clock", "ok");
    let secrets = only_line(&run, "secrets", "ok");
    assert!(secrets.contains("app_secret set (…6789)"), "{run:?}");
    assert!(secrets.contains("verify_token set"), "{run:?}");
    for secret in [APP_SECRET, VERIFY_TOKEN, GOOD_TOKEN] {
        assert!(!run.stdout.contains(secret), "{secret} printed\n{run:?}");
        assert!(!run.stderr.contains(secret), "{secret} printed\n{run:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_the_database_when_it_is_unreachable() {
    let port = free_port();
    let url = format!("postgres://treeex:doctor-db-password@127.0.0.1:{port}/treeex");
    let setup = Setup::free(&url).await;

    let run = setup.doctor(&[]).await;

    let database = only_failure(&run, "database");
    assert!(
        database.contains(&format!("postgres://treeex:•••••@127.0.0.1:{port}/treeex")),
        "{run:?}"
    );
    assert!(database.contains("cannot connect"), "{run:?}");
    assert!(!run.stdout.contains("doctor-db-password"), "{run:?}");
    // Tokens are read from the database: not checked without it.
    only_line(&run, "token", "skip");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_a_media_store_that_cannot_be_written() {
    let db = TestDb::new().await;
    let setup = Setup::free(&db.url).await;
    // A file where the store's directory would have to be.
    let blocker = setup.home.path().join("blocker");
    std::fs::write(&blocker, "not a directory").unwrap();
    let mut config = std::fs::read_to_string(&setup.config).unwrap();
    config.push_str(&format!(
        "[media]\nstore = \"file://{}/media\"\n",
        blocker.display()
    ));
    std::fs::write(&setup.config, config).unwrap();

    let run = setup.doctor(&[]).await;

    let media = only_failure(&run, "media");
    assert!(media.contains(&blocker.display().to_string()), "{run:?}");
    assert!(media.contains("is a file"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_a_refused_token() {
    let db = TestDb::new().await;
    let setup = Setup::free(&db.url).await;
    setup.connect_number("acme", NUMBER, REFUSED_TOKEN).await;
    setup.connect_number("bolt", OTHER_NUMBER, GOOD_TOKEN).await;

    let run = setup.doctor(&[]).await;

    let refused = only_failure(&run, "token");
    let tokens = lines(&run, "token");
    assert_eq!(tokens.len(), 2, "one line per number\n{run:?}");
    assert!(refused.contains(&format!("acme {NUMBER}")), "{run:?}");
    assert!(refused.contains("refused the access token (190"), "{run:?}");
    let accepted = tokens.iter().find(|line| line.starts_with("ok")).unwrap();
    assert!(
        accepted.contains(&format!("bolt {OTHER_NUMBER}")),
        "{run:?}"
    );
    assert!(!run.stdout.contains(REFUSED_TOKEN), "{run:?}");
}

#[test]
fn doctor_names_a_bad_config_key() {
    let home = empty_home();
    let config = home.path().join("treeex.toml");
    std::fs::write(&config, "[server]\nlisen = \"127.0.0.1:8080\"\n").unwrap();

    let mut command = treeex(home.path(), &config);
    command.arg("doctor");
    let run = common::run(&mut command);

    let line = only_failure(&run, "config");
    assert!(line.contains("`server.lisen`"), "{run:?}");
    assert!(line.contains(&config.display().to_string()), "{run:?}");
    // What needs the configuration is skipped, not guessed.
    only_line(&run, "database", "skip");
    only_line(&run, "graph", "skip");

    // Every other command still stops with 2 on the same file.
    let mut other = treeex(home.path(), &config);
    other.args(["workspace", "list"]);
    let other = common::run(&mut other);
    assert_eq!(other.code, 2, "{other:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_a_listen_address_taken_by_another_program() {
    let db = TestDb::new().await;
    // Not treeex: it never answers GET /healthz.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let setup = Setup::new(&db.url, &listen).await;

    let run = setup.doctor(&[]).await;

    let line = only_failure(&run, "listener");
    assert!(
        line.contains(&format!("{listen} is taken by another program")),
        "{run:?}"
    );
    drop(taken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_accepts_a_listen_address_held_by_a_running_treeex() {
    let db = TestDb::new().await;
    let stop = tokio_util::sync::CancellationToken::new();
    let webhook = common::start_listener(&db.db, APP_SECRET, &stop).await;
    let listen = webhook
        .trim_start_matches("http://")
        .trim_end_matches("/webhook");
    let setup = Setup::new(&db.url, listen).await;

    let run = setup.doctor(&[]).await;

    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        only_line(&run, "listener", "ok").contains("in use by a running treeex"),
        "{run:?}"
    );
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_json_is_one_document_of_every_check() {
    let db = TestDb::new().await;
    let setup = Setup::free(&db.url).await;

    let run = setup.doctor(&["--json"]).await;

    assert_eq!(run.code, 0, "{run:?}");
    let checks = run.json();
    let names: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "config", "postgres", "database", "listener", "graph", "token", "media", "clock",
            "secrets"
        ],
        "{run:?}"
    );
    assert_eq!(checks[2]["status"], "ok", "{run:?}");
    // No number connected yet: nothing to check.
    assert_eq!(checks[5]["status"], "skip", "{run:?}");
}
