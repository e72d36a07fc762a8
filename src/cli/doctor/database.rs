//! The database checks: `postgres` (the server binaries, for the managed cluster) and
//! `database` (a configured server, or the managed cluster: its directory, and when it runs the
//! same as a server). What the server says comes from [`crate::store::probe`].

use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use sqlx::postgres::PgConnectOptions;

use super::clock::Sample;
use super::secrets::mask_url;
use super::{Check, PROBE_TIMEOUT, Status, plural};
use crate::config::{Config, Environment, Paths};
use crate::store::MANAGED_DATABASE;
use crate::store::cluster::{self, ClusterError};
use crate::store::probe::{MigrationState, Probe, ProbeError};

/// What the database checks found, and the connection the token check goes on with.
pub(super) struct DatabaseProbe {
    pub(super) checks: Vec<Check>,
    pub(super) conn: Option<Probe>,
    pub(super) clock: Option<Sample>,
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

pub(super) async fn database(config: &Config, paths: &Paths, env: &Environment) -> DatabaseProbe {
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
    match Probe::connect(&options, PROBE_TIMEOUT).await {
        Ok(conn) => examine(conn, &label).await,
        Err(ProbeError::NoDatabase(_)) => DatabaseProbe::of(
            Status::Ok,
            format!(
                "{label}: its {MANAGED_DATABASE} database is not created yet (the next treeex command creates it)"
            ),
        ),
        Err(error) => DatabaseProbe::failed(format!(
            "{label}: {}; its log is {}",
            unconnected(&error),
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

/// Why doctor could not connect, in the words of a `database` line.
fn unconnected(error: &ProbeError) -> String {
    match error {
        ProbeError::Timeout(limit) => format!("no answer within {} s", limit.as_secs()),
        error => format!("cannot connect: {error}"),
    }
}

/// A configured server: connects and reads its version, clock and migrations.
async fn connect(options: &PgConnectOptions, label: &str) -> DatabaseProbe {
    match Probe::connect(options, PROBE_TIMEOUT).await {
        Ok(conn) => examine(conn, label).await,
        Err(error) => DatabaseProbe::failed(format!(
            "{label}: {}; check that PostgreSQL runs there and that the URL is right",
            unconnected(&error)
        )),
    }
}

/// Reads the server's version, clock and migrations over an open connection.
async fn examine(mut conn: Probe, label: &str) -> DatabaseProbe {
    match conn.facts(PROBE_TIMEOUT).await {
        Ok(facts) => {
            let (status, migrations) = migrations(facts.migrations);
            DatabaseProbe {
                checks: vec![Check::new(
                    "database",
                    status,
                    format!("{label}: PostgreSQL {}, {migrations}", facts.version),
                )],
                conn: Some(conn),
                clock: Some(Sample {
                    local: facts.read_at,
                    remote: facts.now,
                }),
            }
        }
        Err(ProbeError::Timeout(limit)) => DatabaseProbe::failed(format!(
            "{label}: connected, but no answer to a query within {} s",
            limit.as_secs()
        )),
        Err(error) => {
            DatabaseProbe::failed(format!("{label}: connected, but a query failed: {error}"))
        }
    }
}

/// The applied migrations as sqlx's migrator would judge them: a failed, unknown or changed one
/// stops every command; a missing one is applied by the next command.
pub(super) fn migrations(state: MigrationState) -> (Status, String) {
    match state {
        MigrationState::Dirty(version) => (
            Status::Fail,
            format!(
                "migration {version} failed part-way and left the database dirty; repair it by hand, then run `treeex migrate`"
            ),
        ),
        MigrationState::Unknown(version) => (
            Status::Fail,
            format!(
                "migration {version} was applied by a newer treeex than this one; upgrade treeex"
            ),
        ),
        MigrationState::Changed(version) => (
            Status::Fail,
            format!(
                "migration {version} differs from the one this treeex carries (it changed after it was applied)"
            ),
        ),
        MigrationState::UpToDate => (Status::Ok, "migrations up to date".to_string()),
        MigrationState::Pending(n) => (
            Status::Warn,
            format!(
                "{n} migration{} pending (the next treeex command applies them; `treeex migrate` does only that)",
                plural(n)
            ),
        ),
    }
}
