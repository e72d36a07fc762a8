//! Doctor's pure parts (masking, migrations, clocks) and a whole run against servers that are
//! not there, read for secrets. Runs against real servers are in `tests/doctor.rs`.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::clock::{Sample, clock};
use super::database::migrations;
use super::secrets::{mask_url, masked};
use super::*;
use crate::store::MIGRATOR;
use crate::store::probe::{Applied, MigrationState};

const PASSWORD: &str = "pg-pass-Zq81xW";
const APP_SECRET: &str = "app-secret-0123456789abcdef";
const VERIFY_TOKEN: &str = "verify-tok-987";

#[test]
fn a_database_url_shows_its_password_as_dots() {
    assert_eq!(
        mask_url(&format!(
            "postgres://treeex:{PASSWORD}@db.example.com:5433/treeex"
        )),
        "postgres://treeex:•••••@db.example.com:5433/treeex"
    );
    assert_eq!(
        mask_url(&format!(
            "postgresql://db.example.com/treeex?sslmode=require&password={PASSWORD}"
        )),
        "postgresql://db.example.com/treeex?sslmode=require&password=•••••"
    );
    assert_eq!(
        mask_url("postgres://treeex@localhost/treeex?host=/tmp/pg"),
        "postgres://treeex@localhost/treeex?host=/tmp/pg"
    );
    assert_eq!(
        mask_url("https://graph.facebook.com"),
        "https://graph.facebook.com/"
    );
    let broken = mask_url(&format!("postgres://treeex:{PASSWORD}@db:notaport/x"));
    assert!(!broken.contains(PASSWORD), "{broken}");
}

#[test]
fn a_secret_shows_at_most_its_last_four_characters_and_only_when_long() {
    assert_eq!(masked(&SecretString::from(APP_SECRET)), "set (…cdef)");
    assert_eq!(masked(&SecretString::from("fifteen-chars-x")), "set");
    assert_eq!(
        masked(&SecretString::from("sixteen-chars-xy")),
        "set (…s-xy)"
    );
}

/// Doctor's verdict on these applied migrations.
fn migration_state(applied: &[Applied]) -> (Status, String) {
    migrations(MigrationState::of(applied))
}

fn all_applied() -> Vec<Applied> {
    MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| (m.version, m.checksum.to_vec(), true))
        .collect()
}

#[test]
fn migrations_are_up_to_date_pending_or_wrong() {
    let applied = all_applied();
    assert_eq!(migration_state(&applied).0, Status::Ok);

    let (status, detail) = migration_state(&applied[..applied.len() - 1]);
    assert_eq!(status, Status::Warn);
    assert!(detail.starts_with("1 migration pending"), "{detail}");
    assert_eq!(migration_state(&[]).0, Status::Warn);

    let mut newer = applied.clone();
    newer.push((99_999_999, vec![1, 2, 3], true));
    let (status, detail) = migration_state(&newer);
    assert_eq!(status, Status::Fail);
    assert!(
        detail.contains("migration 99999999 was applied by a newer treeex"),
        "{detail}"
    );

    let mut changed = applied.clone();
    changed[0].1 = vec![0; 48];
    let (status, detail) = migration_state(&changed);
    assert_eq!(status, Status::Fail);
    assert!(detail.contains("differs"), "{detail}");

    let mut dirty = applied;
    dirty[0].2 = false;
    let (status, detail) = migration_state(&dirty);
    assert_eq!(status, Status::Fail);
    assert!(detail.contains("dirty"), "{detail}");
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn clocks_apart_by_more_than_a_minute_fail_naming_both_times() {
    let local = at("2026-03-01T10:00:00Z");
    let close = Sample {
        local,
        remote: at("2026-03-01T10:00:01Z"),
    };
    let far = Sample {
        local,
        remote: at("2026-03-01T10:02:00Z"),
    };
    let ok = clock(
        local,
        &[("the Graph API's", close), ("the database's", close)],
    );
    assert_eq!(ok.status, Status::Ok, "{ok:?}");
    assert_eq!(
        ok.detail,
        "within 1 s of the Graph API's and the database's clocks"
    );

    let skewed = clock(
        local,
        &[("the Graph API's", close), ("the database's", far)],
    );
    assert_eq!(skewed.status, Status::Fail, "{skewed:?}");
    assert!(
        skewed.detail.contains("2026-03-01 10:00:00 UTC"),
        "{skewed:?}"
    );
    assert!(
        skewed.detail.contains("2026-03-01 10:02:00 UTC"),
        "{skewed:?}"
    );
    assert!(skewed.detail.contains("the database's clock"), "{skewed:?}");

    let nothing = clock(local, &[]);
    assert_eq!(nothing.status, Status::Skip, "{nothing:?}");
}

#[test]
fn a_local_clock_before_2024_fails_on_its_own() {
    let check = clock(at("2001-01-01T00:00:00Z"), &[]);
    assert_eq!(check.status, Status::Fail, "{check:?}");
    assert!(check.detail.contains("before 2024"), "{check:?}");
}

#[tokio::test]
async fn no_secret_appears_in_the_output() {
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::new(home.path().join("config"), home.path().join("data"));
    // Nothing listens there (bound a moment ago, then let go): the database and the Graph API
    // refuse at once, and the listener finds it free.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port();
    let mut config = Config::default();
    config.database.url = Some(SecretString::from(format!(
        "postgres://treeex:{PASSWORD}@127.0.0.1:{port}/treeex?password={PASSWORD}"
    )));
    config.whatsapp.app_secret = Some(SecretString::from(APP_SECRET));
    config.whatsapp.verify_token = Some(SecretString::from(VERIFY_TOKEN));
    config.whatsapp.graph_base_url = format!("http://user:{PASSWORD}@127.0.0.1:{port}");
    config.server.listen = SocketAddr::from(([127, 0, 0, 1], port));
    let env = Environment {
        database_url: config
            .database
            .url
            .as_ref()
            .map(|url| url.expose_secret().to_string()),
        app_secret: Some(APP_SECRET.into()),
        verify_token: Some(VERIFY_TOKEN.into()),
        ..Environment::default()
    };
    let mut report = Report {
        checks: Vec::new(),
        echo: false,
    };
    report.add("config", Status::Ok, describe_source(&config, None, &env));
    checks(&config, &paths, &env, &mut report).await;

    let lines: Vec<String> = report.checks.iter().map(Check::line).collect();
    let text = lines.join("\n");
    let json = serde_json::to_string(&report.checks).unwrap();
    for secret in [PASSWORD, APP_SECRET, VERIFY_TOKEN, &VERIFY_TOKEN[4..]] {
        assert!(!text.contains(secret), "{secret} shows in:\n{text}");
        assert!(!json.contains(secret), "{secret} shows in:\n{json}");
    }
    // What is there instead, so the test reads the lines it means to.
    let line = |name: &str| {
        report
            .checks
            .iter()
            .find(|c| c.check == name)
            .unwrap_or_else(|| panic!("no {name} line in:\n{text}"))
    };
    assert_eq!(line("database").status, Status::Fail, "{text}");
    assert!(
        line("database").detail.contains("treeex:•••••@127.0.0.1"),
        "{text}"
    );
    assert_eq!(line("graph").status, Status::Fail, "{text}");
    assert_eq!(
        line("secrets").detail,
        "app_secret set (…cdef); verify_token set",
        "{text}"
    );
    assert_eq!(report.failed(), 2, "{text}");
}
