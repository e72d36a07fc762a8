//! A look at a PostgreSQL server that changes nothing, for `treeex doctor`: connect within a
//! time limit, read the server's version and clock, compare the applied migrations with those
//! this treeex carries, and list the connected numbers' credentials.
//!
//! Nothing here applies migrations or creates anything; the answers are typed facts, and the
//! wording is the caller's.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use super::{MIGRATOR, StoreError, phones};

/// Why a probe came to nothing.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// No answer within the time allowed.
    #[error("no answer within {} s", .0.as_secs())]
    Timeout(Duration),
    /// The server answered, but has no such database (3D000); PostgreSQL's message.
    #[error("{0}")]
    NoDatabase(String),
    /// The database has no tables yet (42P01): no migration ever ran there.
    #[error("the database has no tables yet")]
    NoTables,
    /// Any other failure to connect or to query: PostgreSQL's own message (without sqlx's
    /// decoration), else sqlx's.
    #[error("{0}")]
    Failed(String),
    /// A read of the store failed.
    #[error(transparent)]
    Store(StoreError),
}

/// One row of `_sqlx_migrations`: version, checksum, success.
pub type Applied = (i64, Vec<u8>, bool);

/// The applied migrations against those this treeex carries, as sqlx's migrator would judge
/// them: a failed, unknown or changed one stops every command; a missing one is applied by the
/// next command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationState {
    UpToDate,
    /// This many are not applied yet.
    Pending(usize),
    /// This one failed part-way and left the database dirty.
    Dirty(i64),
    /// This one was applied by a newer treeex.
    Unknown(i64),
    /// This one differs from the one this treeex carries.
    Changed(i64),
}

impl MigrationState {
    pub fn of(applied: &[Applied]) -> MigrationState {
        let known: Vec<&sqlx::migrate::Migration> = MIGRATOR
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .collect();
        if let Some((version, ..)) = applied.iter().find(|(.., success)| !success) {
            return MigrationState::Dirty(*version);
        }
        for (version, checksum, _) in applied {
            match known.iter().find(|m| m.version == *version) {
                None => return MigrationState::Unknown(*version),
                Some(migration) if *migration.checksum != **checksum => {
                    return MigrationState::Changed(*version);
                }
                Some(_) => {}
            }
        }
        match known
            .iter()
            .filter(|m| !applied.iter().any(|(version, ..)| *version == m.version))
            .count()
        {
            0 => MigrationState::UpToDate,
            pending => MigrationState::Pending(pending),
        }
    }
}

/// What the server says of itself.
#[derive(Debug, Clone)]
pub struct Facts {
    /// `16.4`: the number alone.
    pub version: String,
    /// The server's `now()`.
    pub now: DateTime<Utc>,
    /// The local time when the server most likely read its clock (the round trip's middle).
    pub read_at: DateTime<Utc>,
    pub migrations: MigrationState,
}

/// An open connection to the server probed.
pub struct Probe {
    conn: PgConnection,
}

impl Probe {
    /// Connects within `timeout`.
    pub async fn connect(
        options: &PgConnectOptions,
        timeout: Duration,
    ) -> Result<Probe, ProbeError> {
        match tokio::time::timeout(timeout, PgConnection::connect_with(options)).await {
            Ok(Ok(conn)) => Ok(Probe { conn }),
            Ok(Err(error)) if has_sql_state(&error, "3D000") => {
                Err(ProbeError::NoDatabase(sql_error(&error)))
            }
            Ok(Err(error)) => Err(ProbeError::Failed(sql_error(&error))),
            Err(_) => Err(ProbeError::Timeout(timeout)),
        }
    }

    /// Reads the server's version, clock and migrations within `timeout`.
    pub async fn facts(&mut self, timeout: Duration) -> Result<Facts, ProbeError> {
        match tokio::time::timeout(timeout, self.inspect()).await {
            Ok(Ok(facts)) => Ok(facts),
            Ok(Err(error)) => Err(ProbeError::Failed(sql_error(&error))),
            Err(_) => Err(ProbeError::Timeout(timeout)),
        }
    }

    async fn inspect(&mut self) -> Result<Facts, sqlx::Error> {
        let before = Utc::now();
        let (version, now): (String, DateTime<Utc>) =
            sqlx::query_as("SELECT current_setting('server_version'), now()")
                .fetch_one(&mut self.conn)
                .await?;
        let after = Utc::now();
        let applied: Vec<Applied> = match sqlx::query_as(
            "SELECT version, checksum, success FROM _sqlx_migrations ORDER BY version",
        )
        .fetch_all(&mut self.conn)
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
            now,
            read_at: before + (after - before) / 2,
            migrations: MigrationState::of(&applied),
        })
    }

    /// Every connected number of every workspace with its token ([`phones::credentials`]);
    /// [`ProbeError::NoTables`] when the database has no tables yet.
    pub async fn credentials(&mut self) -> Result<Vec<phones::Credential>, ProbeError> {
        match phones::credentials(&mut self.conn).await {
            Ok(credentials) => Ok(credentials),
            Err(StoreError::Database(error)) if is_undefined_table(&error) => {
                Err(ProbeError::NoTables)
            }
            Err(error) => Err(ProbeError::Store(error)),
        }
    }

    /// Closes the connection; a failure to say goodbye is no failure of the probe.
    pub async fn close(self) {
        let _ = self.conn.close().await;
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

fn is_undefined_table(error: &sqlx::Error) -> bool {
    has_sql_state(error, "42P01")
}
