//! `treeex doctor`: checks what treeex needs, one line per check, and exits 1 when any failed.
//!
//! The checks, in order: `config` (which file, and that it loads); `postgres` (the server
//! binaries, for the managed cluster) and `database` (a configured server: connect, version,
//! migrations; the managed cluster: its directory, and when it runs the same as a server);
//! `listener` (`[server] listen` is free, or held by a running treeex); `graph` (the Graph API
//! answers); `token` (one line per connected number: the Graph API accepts its token); `clock`
//! (against the Graph API's `Date` and the database's `now()`); `secrets` (the webhook secrets).
//!
//! Doctor changes nothing. It applies no migrations, and it never starts or initialises the
//! managed cluster: a one-off start and stop proves little, and could run `initdb` where the user
//! did not mean to. When the cluster runs (a TUI or `serve` holds it), doctor connects over its
//! socket like any client. A configuration that does not load is a failed check like the others
//! (exit 1, not 2), and the checks that need it are skipped. Secrets are never printed: a long
//! one shows its last four characters, a short one only that it is set, and a database URL its
//! password as dots.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use secrecy::{ExposeSecret, SecretString};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use super::Failure;
use crate::app::ingest::error_chain;
use crate::cloud_api::graph::{ErrorClass, GraphClient, GraphError};
use crate::config::{Config, Environment, Paths, Source, WhatsappConfig};
use crate::store::cluster::{self, ClusterError};
use crate::store::{MANAGED_DATABASE, MIGRATOR, StoreError, phones};

/// How long a server (PostgreSQL, the Graph API) may take to answer before it counts as down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the program holding the listen address may take to answer `GET /healthz`.
const HEALTHZ_TIMEOUT: Duration = Duration::from_secs(2);
/// Clocks further apart than this put customer windows and timestamps visibly wrong.
const MAX_CLOCK_SKEW_SECS: i64 = 60;
/// The dots that stand for a password.
const DOTS: &str = "•••••";

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
            for check in ["postgres", "database", "listener", "graph", "token"] {
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
        let _ = conn.close().await;
    }
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

/// A remote clock read at a local time.
#[derive(Debug, Clone, Copy)]
struct Sample {
    local: DateTime<Utc>,
    remote: DateTime<Utc>,
}

/// The middle of a request's round trip, when the remote clock was most likely read.
fn midpoint(before: DateTime<Utc>, after: DateTime<Utc>) -> DateTime<Utc> {
    before + (after - before) / 2
}

/// What the database checks found, and the connection the token check goes on with.
struct DatabaseProbe {
    checks: Vec<Check>,
    conn: Option<PgConnection>,
    clock: Option<Sample>,
}

impl DatabaseProbe {
    /// A `database` line alone (the caller adds the `postgres` one).
    fn of(status: Status, detail: String) -> DatabaseProbe {
        DatabaseProbe {
            checks: vec![Check::new("database", status, detail)],
            conn: None,
            clock: None,
        }
    }

    fn failed(detail: String) -> DatabaseProbe {
        DatabaseProbe::of(Status::Fail, detail)
    }
}

async fn database(config: &Config, paths: &Paths, env: &Environment) -> DatabaseProbe {
    let Some(url) = &config.database.url else {
        return managed(config, paths).await;
    };
    let named = if env.database_url.is_some() {
        "DATABASE_URL"
    } else {
        "[database] url"
    };
    let shown = mask_url(url.expose_secret());
    let mut probe = match url.expose_secret().parse::<PgConnectOptions>() {
        Ok(options) => connect(&options, &shown).await,
        Err(error) => DatabaseProbe::failed(format!(
            "{shown}: {named} is not a PostgreSQL URL that treeex can use: {error}"
        )),
    };
    probe.checks.insert(
        0,
        Check::new(
            "postgres",
            Status::Skip,
            format!("server binaries not needed: {named} names the server"),
        ),
    );
    probe
}

/// The managed cluster: its binaries and its directory, and when its server runs, the server.
async fn managed(config: &Config, paths: &Paths) -> DatabaseProbe {
    let dir = config
        .database
        .managed_dir
        .clone()
        .unwrap_or_else(|| cluster::default_dir(paths.data_dir()));
    let configured = config.database.postgres_bin_dir.clone();
    let search = configured.clone();
    // The search may run `pg_config`: off the runtime's threads.
    let bin_dir = tokio::task::spawn_blocking(move || cluster::locate_bin_dir(search.as_deref()))
        .await
        .ok()
        .flatten();
    let binaries = match bin_dir {
        Some(bin_dir) => {
            let version = server_version(&bin_dir).await;
            Some((bin_dir, version))
        }
        None => None,
    };
    let mut probe = cluster_state(&dir, binaries.as_ref()).await;
    probe
        .checks
        .insert(0, binaries_check(binaries.as_ref(), configured.as_deref()));
    probe
}

/// The `database` line of the managed cluster in `dir`, given the server binaries found.
async fn cluster_state(dir: &Path, binaries: Option<&(PathBuf, Option<String>)>) -> DatabaseProbe {
    let label = format!("managed cluster in {}", dir.display());
    let made_by = match std::fs::read_to_string(dir.join("data").join("PG_VERSION")) {
        Ok(version) => version.trim().to_string(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return match binaries {
                Some(_) => DatabaseProbe::of(
                    Status::Ok,
                    format!(
                        "{label}: not created yet (the first treeex command runs initdb there)"
                    ),
                ),
                None => DatabaseProbe::of(
                    Status::Skip,
                    format!("{label}: not created yet, and no server binaries to create it"),
                ),
            };
        }
        Err(error) => {
            return DatabaseProbe::failed(format!(
                "{label}: cannot read it: {error}; set [database] managed_dir to a directory treeex can use"
            ));
        }
    };
    if let Some((_, Some(version))) = binaries
        && major(version) != made_by
    {
        return DatabaseProbe::failed(format!(
            "{label}: made by PostgreSQL {made_by}, but the server binaries are PostgreSQL {version}; point [database] postgres_bin_dir at PostgreSQL {made_by}'s, or upgrade the cluster (pg_upgrade)"
        ));
    }
    // The server listens on this socket only while it runs (PostgreSQL's default port).
    if !dir.join(".s.PGSQL.5432").exists() {
        return DatabaseProbe::of(
            Status::Ok,
            format!(
                "{label}: PostgreSQL {made_by}, not running (every treeex command starts it while it runs; doctor does not)"
            ),
        );
    }
    let options = PgConnectOptions::new()
        .socket(dir)
        .username(cluster::SUPERUSER)
        .database(MANAGED_DATABASE);
    let label = format!("{label} (running)");
    match open(&options).await {
        Ok(conn) => examine(conn, &label).await,
        Err(unconnected) if unconnected.missing_database => DatabaseProbe::of(
            Status::Ok,
            format!(
                "{label}: its {MANAGED_DATABASE} database is not created yet (the next treeex command creates it)"
            ),
        ),
        Err(unconnected) => DatabaseProbe::failed(format!(
            "{label}: {}; its log is {}",
            unconnected.detail,
            dir.join("postgres.log").display()
        )),
    }
}

/// The `postgres` line: the server binaries found, their version, or how to get them.
fn binaries_check(found: Option<&(PathBuf, Option<String>)>, configured: Option<&Path>) -> Check {
    match found {
        Some((dir, Some(version))) if major(version).parse::<u32>().is_ok_and(|m| m < 13) => {
            Check::new(
                "postgres",
                Status::Fail,
                format!(
                    "the server binaries in {} are PostgreSQL {version}; treeex needs 13 or newer (Debian/Ubuntu: `apt-get install postgresql`), or set [database] url",
                    dir.display()
                ),
            )
        }
        Some((dir, Some(version))) => Check::new(
            "postgres",
            Status::Ok,
            format!(
                "server binaries in {} (PostgreSQL {version})",
                dir.display()
            ),
        ),
        Some((dir, None)) => Check::new(
            "postgres",
            Status::Warn,
            format!(
                "server binaries in {}, but `postgres --version` did not say which version",
                dir.display()
            ),
        ),
        None => Check::new(
            "postgres",
            Status::Fail,
            match configured {
                Some(dir) => format!(
                    "[database] postgres_bin_dir {} does not hold initdb, pg_ctl and postgres; point it at PostgreSQL's bin directory, or leave it out to search",
                    dir.display()
                ),
                None => ClusterError::NoBinaries.to_string(),
            },
        ),
    }
}

/// `postgres --version` says e.g. `postgres (PostgreSQL) 16.4 (Debian 16.4-1)`: `16.4`. It
/// answers before refusing root, so it is safe to run as anyone.
async fn server_version(bin_dir: &Path) -> Option<String> {
    let output = tokio::time::timeout(
        PROBE_TIMEOUT,
        tokio::process::Command::new(bin_dir.join("postgres"))
            .arg("--version")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .ok()?
    .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let (_, rest) = text.split_once("(PostgreSQL)")?;
    rest.split_whitespace().next().map(str::to_string)
}

/// `16.4` → `16`, as PG_VERSION names a cluster's version (releases before 10 are not supported).
fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

/// Why doctor could not connect.
struct Unconnected {
    /// The server answered, but has no such database (3D000).
    missing_database: bool,
    detail: String,
}

/// Connects within PROBE_TIMEOUT.
async fn open(options: &PgConnectOptions) -> Result<PgConnection, Unconnected> {
    match tokio::time::timeout(PROBE_TIMEOUT, PgConnection::connect_with(options)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(error)) => Err(Unconnected {
            missing_database: has_sql_state(&error, "3D000"),
            detail: format!("cannot connect: {}", sql_error(&error)),
        }),
        Err(_) => Err(Unconnected {
            missing_database: false,
            detail: format!("no answer within {} s", PROBE_TIMEOUT.as_secs()),
        }),
    }
}

/// A configured server: connects and reads its version, clock and migrations.
async fn connect(options: &PgConnectOptions, label: &str) -> DatabaseProbe {
    match open(options).await {
        Ok(conn) => examine(conn, label).await,
        Err(unconnected) => DatabaseProbe::failed(format!(
            "{label}: {}; check that PostgreSQL runs there and that the URL is right",
            unconnected.detail
        )),
    }
}

/// Reads the server's version, clock and migrations over an open connection.
async fn examine(mut conn: PgConnection, label: &str) -> DatabaseProbe {
    match tokio::time::timeout(PROBE_TIMEOUT, inspect(&mut conn)).await {
        Ok(Ok(facts)) => {
            let (status, migrations) = migration_state(&facts.applied);
            DatabaseProbe {
                checks: vec![Check::new(
                    "database",
                    status,
                    format!("{label}: PostgreSQL {}, {migrations}", facts.version),
                )],
                conn: Some(conn),
                clock: Some(facts.clock),
            }
        }
        Ok(Err(error)) => DatabaseProbe::failed(format!(
            "{label}: connected, but a query failed: {}",
            sql_error(&error)
        )),
        Err(_) => DatabaseProbe::failed(format!(
            "{label}: connected, but no answer to a query within {} s",
            PROBE_TIMEOUT.as_secs()
        )),
    }
}

/// PostgreSQL's own message for a database error (without sqlx's decoration), else sqlx's.
fn sql_error(error: &sqlx::Error) -> String {
    match error.as_database_error() {
        Some(db) => db.message().to_string(),
        None => error.to_string(),
    }
}

fn has_sql_state(error: &sqlx::Error, state: &str) -> bool {
    error
        .as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code == state)
}

/// What the server says of itself.
struct Facts {
    version: String,
    clock: Sample,
    /// `_sqlx_migrations`: version, checksum, success.
    applied: Vec<(i64, Vec<u8>, bool)>,
}

async fn inspect(conn: &mut PgConnection) -> Result<Facts, sqlx::Error> {
    let before = Utc::now();
    let (version, remote): (String, DateTime<Utc>) =
        sqlx::query_as("SELECT current_setting('server_version'), now()")
            .fetch_one(&mut *conn)
            .await?;
    let local = midpoint(before, Utc::now());
    let applied = match sqlx::query_as(
        "SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version",
    )
    .fetch_all(&mut *conn)
    .await
    {
        Ok(rows) => rows,
        // No migration ever ran here: an empty database.
        Err(error) if is_undefined_table(&error) => Vec::new(),
        Err(error) => return Err(error),
    };
    Ok(Facts {
        // `16.4 (Debian 16.4-1.pgdg120+2)`: the number is what matters.
        version: version
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
        clock: Sample { local, remote },
        applied,
    })
}

fn is_undefined_table(error: &sqlx::Error) -> bool {
    has_sql_state(error, "42P01")
}

/// The applied migrations against those this treeex carries, as sqlx's migrator would judge
/// them: a failed, unknown or changed one stops every command; a missing one is applied by the
/// next command.
fn migration_state(applied: &[(i64, Vec<u8>, bool)]) -> (Status, String) {
    let known: Vec<&sqlx::migrate::Migration> = MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .collect();
    if let Some((version, ..)) = applied.iter().find(|(.., success)| !success) {
        return (
            Status::Fail,
            format!(
                "migration {version} failed part-way and left the database dirty; repair it by hand, then run `treeex migrate`"
            ),
        );
    }
    for (version, checksum, _) in applied {
        match known.iter().find(|m| m.version == *version) {
            None => {
                return (
                    Status::Fail,
                    format!(
                        "migration {version} was applied by a newer treeex than this one; upgrade treeex"
                    ),
                );
            }
            Some(migration) if *migration.checksum != **checksum => {
                return (
                    Status::Fail,
                    format!(
                        "migration {version} differs from the one this treeex carries (it changed after it was applied)"
                    ),
                );
            }
            Some(_) => {}
        }
    }
    let pending = known
        .iter()
        .filter(|m| !applied.iter().any(|(version, ..)| *version == m.version))
        .count();
    match pending {
        0 => (Status::Ok, "migrations up to date".to_string()),
        n => (
            Status::Warn,
            format!(
                "{n} migration{} pending (the next treeex command applies them; `treeex migrate` does only that)",
                if n == 1 { "" } else { "s" }
            ),
        ),
    }
}

/// `[server] listen`: free, or held by a running treeex (fine: TUIs work beside one `serve`).
async fn listener(addr: SocketAddr) -> Check {
    if addr.port() == 0 {
        return Check::new(
            "listener",
            Status::Warn,
            format!(
                "{addr}: port 0 is a new port at every start, and Meta's callback URL needs a fixed one; set [server] listen"
            ),
        );
    }
    match tokio::net::TcpListener::bind(addr).await {
        Ok(bound) => {
            drop(bound);
            Check::new("listener", Status::Ok, format!("{addr} is free"))
        }
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
            if answers_like_treeex(addr).await {
                Check::new(
                    "listener",
                    Status::Ok,
                    format!("{addr} is in use by a running treeex (its /healthz answers)"),
                )
            } else {
                Check::new(
                    "listener",
                    Status::Fail,
                    format!(
                        "{addr} is taken by another program; stop it, or set [server] listen to a free address"
                    ),
                )
            }
        }
        Err(error) => Check::new(
            "listener",
            Status::Fail,
            format!("cannot listen on {addr}: {error}; set [server] listen"),
        ),
    }
}

/// True when `GET http://ADDR/healthz` answers 200 `ok`, as treeex's listener does.
async fn answers_like_treeex(addr: SocketAddr) -> bool {
    let mut target = addr;
    // A listener on every address is reached on the loopback one.
    if target.ip().is_unspecified() {
        target.set_ip(match target {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    crate::install_tls_provider();
    let Ok(client) = reqwest::Client::builder()
        .timeout(HEALTHZ_TIMEOUT)
        .no_proxy()
        .build()
    else {
        return false;
    };
    match client.get(format!("http://{target}/healthz")).send().await {
        Ok(response) if response.status() == reqwest::StatusCode::OK => {
            response.text().await.is_ok_and(|body| body == "ok\n")
        }
        _ => false,
    }
}

/// Whether the Graph API answers, and its clock.
struct GraphProbe {
    check: Check,
    reachable: bool,
    clock: Option<Sample>,
}

/// Any HTTP answer from `[whatsapp] graph_base_url` counts: the base alone is no API call.
async fn graph(config: &Config) -> GraphProbe {
    let base = config.whatsapp.graph_base_url.trim();
    let shown = mask_url(base);
    let unreachable = |detail: String| GraphProbe {
        check: Check::new("graph", Status::Fail, detail),
        reachable: false,
        clock: None,
    };
    crate::install_tls_provider();
    let client = match reqwest::Client::builder()
        .timeout(PROBE_TIMEOUT)
        .user_agent(concat!("treeex/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(error) => return unreachable(format!("cannot make an HTTP client: {error}")),
    };
    let started = Instant::now();
    let before = Utc::now();
    match client.get(base).send().await {
        Ok(response) => {
            let elapsed = started.elapsed();
            let local = midpoint(before, Utc::now());
            let clock = response
                .headers()
                .get(reqwest::header::DATE)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| DateTime::parse_from_rfc2822(value).ok())
                .map(|remote| Sample {
                    local,
                    remote: remote.with_timezone(&Utc),
                });
            GraphProbe {
                check: Check::new(
                    "graph",
                    Status::Ok,
                    format!(
                        "{shown} answers (HTTP {} in {} ms)",
                        response.status().as_u16(),
                        elapsed.as_millis()
                    ),
                ),
                reachable: true,
                clock,
            }
        }
        Err(error) if error.is_timeout() => unreachable(format!(
            "{shown}: no answer within {} s; check the network, a proxy (HTTPS_PROXY), or [whatsapp] graph_base_url",
            PROBE_TIMEOUT.as_secs()
        )),
        // Without the URL: it is shown masked already.
        Err(error) => unreachable(format!(
            "{shown} does not answer: {}; check the network, a proxy (HTTPS_PROXY), or [whatsapp] graph_base_url",
            error_chain(&error.without_url())
        )),
    }
}

/// One line per connected number: the Graph API looks the number up with its token. Returns
/// how many numbers there are, when the database said.
async fn tokens(
    config: &Config,
    conn: Option<&mut PgConnection>,
    graph_reachable: bool,
    report: &mut Report,
) -> Option<usize> {
    let Some(conn) = conn else {
        report.add("token", Status::Skip, "needs the database (see above)");
        return None;
    };
    let credentials = match phones::credentials(conn).await {
        Ok(credentials) => credentials,
        Err(StoreError::Database(error)) if is_undefined_table(&error) => {
            report.add(
                "token",
                Status::Skip,
                "the database has no tables yet (the next treeex command applies the migrations)",
            );
            return None;
        }
        Err(error) => {
            report.add(
                "token",
                Status::Fail,
                format!("cannot read the phone numbers: {}", error_chain(&error)),
            );
            return None;
        }
    };
    let count = credentials.len();
    if credentials.is_empty() {
        report.add(
            "token",
            Status::Skip,
            "no phone numbers connected yet (`treeex phone add`)",
        );
        return Some(0);
    }
    if !graph_reachable {
        report.add(
            "token",
            Status::Skip,
            format!(
                "{count} access token{} not checked: the Graph API does not answer (see above)",
                plural(count)
            ),
        );
        return Some(count);
    }
    let client = match GraphClient::new(
        &config.whatsapp.graph_base_url,
        &config.whatsapp.api_version,
        PROBE_TIMEOUT,
    ) {
        Ok(client) => client,
        Err(error) => {
            report.add("token", Status::Fail, error_chain(&error));
            return Some(count);
        }
    };
    for credential in &credentials {
        report.push(token_check(&client, credential).await);
    }
    Some(count)
}

async fn token_check(client: &GraphClient, credential: &phones::Credential) -> Check {
    let who = format!(
        "{} {}",
        credential.workspace_slug, credential.phone_number_id
    );
    match client
        .phone_number(&credential.access_token, &credential.phone_number_id)
        .await
    {
        Ok(info) => {
            let display = info
                .display_phone_number
                .unwrap_or_else(|| credential.display_phone_number.clone());
            let name = info
                .verified_name
                .map(|name| format!(" ({name})"))
                .unwrap_or_default();
            Check::new(
                "token",
                Status::Ok,
                format!("{who}: accepted; Meta knows it as {display}{name}"),
            )
        }
        Err(GraphError::Api(api)) if api.code == 190 || api.class() == ErrorClass::TokenExpired => {
            Check::new(
                "token",
                Status::Fail,
                format!(
                    "{who}: the Graph API refused the access token ({}: {}); the number sends nothing until it has a valid one",
                    api.code, api.title
                ),
            )
        }
        Err(error) => Check::new(
            "token",
            Status::Fail,
            format!("{who}: {}", error_chain(&error)),
        ),
    }
}

/// Compares the local clock with each remote one; an obviously wrong local clock fails alone.
fn clock(now: DateTime<Utc>, samples: &[(&str, Sample)]) -> Check {
    let earliest_sane = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let shown = |time: DateTime<Utc>| time.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    if now < earliest_sane {
        return Check::new(
            "clock",
            Status::Fail,
            format!(
                "the local clock says {}, before 2024; set the system time (NTP)",
                shown(now)
            ),
        );
    }
    if samples.is_empty() {
        return Check::new(
            "clock",
            Status::Skip,
            format!(
                "the local clock says {}; no Graph API or database clock to compare it with",
                shown(now)
            ),
        );
    }
    let mut widest = 0;
    for (name, sample) in samples {
        // An HTTP Date has whole seconds: round the gap up.
        let apart = ((sample.remote - sample.local).num_milliseconds().abs() + 999) / 1000;
        if apart > MAX_CLOCK_SKEW_SECS {
            return Check::new(
                "clock",
                Status::Fail,
                format!(
                    "the local clock ({}) and {name} clock ({}) are {apart} s apart; customer windows and timestamps come out wrong: set the system time (NTP)",
                    shown(sample.local),
                    shown(sample.remote)
                ),
            );
        }
        widest = widest.max(apart);
    }
    let names: Vec<&str> = samples.iter().map(|(name, _)| *name).collect();
    let within = match widest {
        0 => "a second".to_string(),
        seconds => format!("{seconds} s"),
    };
    Check::new(
        "clock",
        Status::Ok,
        format!(
            "within {within} of {} clock{}",
            names.join(" and "),
            plural(names.len())
        ),
    )
}

/// The webhook secrets, set or not, never shown whole.
fn secrets(whatsapp: &WhatsappConfig, tokens: Option<usize>) -> Check {
    let mut parts = Vec::new();
    let mut status = Status::Ok;
    for (key, secret, without) in [
        (
            "app_secret",
            &whatsapp.app_secret,
            "POST /webhook will be refused with 401",
        ),
        (
            "verify_token",
            &whatsapp.verify_token,
            "Meta's verification (GET /webhook) will be refused",
        ),
    ] {
        match secret {
            Some(secret) => parts.push(format!("{key} {}", masked(secret))),
            None => {
                status = Status::Warn;
                parts.push(format!("{key} not set: {without}"));
            }
        }
    }
    if let Some(count) = tokens.filter(|count| *count > 0) {
        parts.push(format!("{count} access token{} (see token)", plural(count)));
    }
    Check::new("secrets", status, parts.join("; "))
}

/// `set`, with the last four characters of a secret long enough to keep its strength.
fn masked(secret: &SecretString) -> String {
    let secret = secret.expose_secret();
    let length = secret.chars().count();
    if length >= 16 {
        let tail: String = secret.chars().skip(length - 4).collect();
        format!("set (…{tail})")
    } else {
        "set".to_string()
    }
}

/// A URL with its password (and any `password` query parameter) as dots; one that does not
/// parse is not shown at all.
fn mask_url(raw: &str) -> String {
    let Ok(url) = reqwest::Url::parse(raw.trim()) else {
        return "(the URL, not shown: it does not parse)".to_string();
    };
    let mut shown = format!("{}://", url.scheme());
    if !url.username().is_empty() || url.password().is_some() {
        shown.push_str(url.username());
        if url.password().is_some() {
            shown.push(':');
            shown.push_str(DOTS);
        }
        shown.push('@');
    }
    shown.push_str(url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        let _ = write!(shown, ":{port}");
    }
    shown.push_str(url.path());
    let query: Vec<String> = url
        .query_pairs()
        .map(|(key, value)| {
            if key.to_ascii_lowercase().contains("password") {
                format!("{key}={DOTS}")
            } else {
                format!("{key}={value}")
            }
        })
        .collect();
    if !query.is_empty() {
        shown.push('?');
        shown.push_str(&query.join("&"));
    }
    shown
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests;
