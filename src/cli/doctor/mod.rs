//! `treeex doctor`: checks what treeex needs, one line per check, and exits 1 when any failed.
//!
//! The checks, in order: `config` (which file, and that it loads); `postgres` (the server
//! binaries, for the managed cluster) and `database` (a configured server: connect, version,
//! migrations; the managed cluster: its directory, and when it runs the same as a server);
//! `listener` (`[server] listen` is free, or held by a running treeex); `graph` (the Graph API
//! answers); `token` (one line per connected number: the Graph API accepts its token); `media`
//! (the media store is writable, or answers); `clock` (against the Graph API's `Date` and the
//! database's `now()`); `secrets` (the webhook secrets).
//!
//! Doctor changes nothing. It applies no migrations, and it never starts or initialises the
//! managed cluster: a one-off start and stop proves little, and could run `initdb` where the user
//! did not mean to. When the cluster runs (a TUI or `serve` holds it), doctor connects over its
//! socket like any client. A configuration that does not load is a failed check like the others
//! (exit 1, not 2), and the checks that need it are skipped. Secrets are never printed: a long
//! one shows its last four characters, a short one only that it is set, and a database URL its
//! password as dots.

mod clock;
mod database;
mod media;
mod network;
mod secrets;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;

use super::Failure;
use crate::app::ingest::error_chain;
use crate::config::{Config, Environment, Paths, Source};
use clock::{Sample, clock};
use database::database;
use media::media;
use network::{graph, listener, tokens};
use secrets::secrets;

/// How long a server (PostgreSQL, the Graph API) may take to answer before it counts as down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// How a check came out. Only `Fail` makes doctor exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Ok,
    Warn,
    Skip,
    Fail,
}

impl Status {
    fn mark(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Skip => "skip",
            Status::Fail => "FAIL",
        }
    }
}

/// One line of the report (one element of `--json`).
#[derive(Debug, Clone, serde::Serialize)]
struct Check {
    check: &'static str,
    status: Status,
    detail: String,
}

impl Check {
    fn new(check: &'static str, status: Status, detail: impl Into<String>) -> Check {
        Check {
            check,
            status,
            detail: detail.into(),
        }
    }

    fn line(&self) -> String {
        format!("{:<6}{:<10}{}", self.status.mark(), self.check, self.detail)
    }
}

/// The checks so far; each line is printed as it is added unless the report goes out as JSON.
struct Report {
    checks: Vec<Check>,
    echo: bool,
}

impl Report {
    fn push(&mut self, check: Check) {
        if self.echo {
            // A closed stdout is no reason to stop checking; the exit status still tells.
            let _ = writeln!(std::io::stdout().lock(), "{}", check.line());
        }
        self.checks.push(check);
    }

    fn add(&mut self, check: &'static str, status: Status, detail: impl Into<String>) {
        self.push(Check::new(check, status, detail));
    }

    fn failed(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .count()
    }
}

/// Runs every check. `explicit` is `--config`; nothing before this has loaded the configuration,
/// so that a bad one is reported here rather than stopping treeex.
pub async fn run(explicit: Option<&Path>, env: &Environment, json: bool) -> Result<(), Failure> {
    let mut report = Report {
        checks: Vec::new(),
        echo: !json,
    };
    let loaded = Paths::from_platform()
        .and_then(|paths| Config::load(explicit, env, &paths).map(|config| (config, paths)));
    match loaded {
        Ok((config, paths)) => {
            report.add(
                "config",
                Status::Ok,
                describe_source(&config, explicit, env),
            );
            // The log file only: stdout is the report.
            let _log = crate::logging::init(&config, &paths, crate::logging::Echo::FileOnly);
            checks(&config, &paths, env, &mut report).await;
        }
        Err(error) => {
            report.add("config", Status::Fail, error_chain(&error));
            for check in [
                "postgres", "database", "listener", "graph", "token", "media",
            ] {
                report.add(check, Status::Skip, "needs a configuration that loads");
            }
            report.push(clock(Utc::now(), &[]));
            report.add("secrets", Status::Skip, "needs a configuration that loads");
        }
    }
    if json {
        super::output::json(&report.checks)?;
    }
    match report.failed() {
        0 => Ok(()),
        failed => {
            eprintln!("{failed} check{} failed", plural(failed));
            Err(Failure::Reported)
        }
    }
}

/// The checks after `config`, given a configuration that loaded.
async fn checks(config: &Config, paths: &Paths, env: &Environment, report: &mut Report) {
    // The two network waits overlap: each may take up to PROBE_TIMEOUT.
    let (database, graph) = tokio::join!(database(config, paths, env), graph(config));
    for check in database.checks {
        report.push(check);
    }
    report.push(listener(config.server.listen).await);
    report.push(graph.check);
    let mut conn = database.conn;
    let tokens = tokens(config, conn.as_mut(), graph.reachable, report).await;
    if let Some(conn) = conn {
        conn.close().await;
    }
    report.push(media(&config.media_store(paths)).await);
    let samples: Vec<(&str, Sample)> = [
        ("the Graph API's", graph.clock),
        ("the database's", database.clock),
    ]
    .into_iter()
    .filter_map(|(name, sample)| sample.map(|s| (name, s)))
    .collect();
    report.push(clock(Utc::now(), &samples));
    report.push(secrets(&config.whatsapp, tokens));
}

/// Which file was used, how it was found, and which environment variables override it.
fn describe_source(config: &Config, explicit: Option<&Path>, env: &Environment) -> String {
    let mut detail = match &config.source {
        Some(Source::File(path)) => {
            let how = if explicit.is_some() {
                "--config"
            } else if env.config.is_some() {
                "$TREEEX_CONFIG"
            } else {
                "the platform's config file"
            };
            format!("{} (valid; from {how})", path.display())
        }
        _ => "none: built-in defaults (no --config, no $TREEEX_CONFIG, no config.toml in the platform's config directory)".to_string(),
    };
    let overrides: Vec<&str> = [
        ("DATABASE_URL", env.database_url.is_some()),
        ("TREEEX_APP_SECRET", env.app_secret.is_some()),
        ("TREEEX_VERIFY_TOKEN", env.verify_token.is_some()),
        ("TREEEX_LOG", env.log.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    if !overrides.is_empty() {
        let _ = write!(detail, "; overridden by {}", overrides.join(", "));
    }
    detail
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests;
