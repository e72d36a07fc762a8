//! PostgreSQL: the connection (to a configured server or to the managed local cluster), the
//! migrations, and one repository module per aggregate.
//!
//! Every query on a workspace-scoped table takes the workspace id; there is no unscoped read
//! path. Constraint violations come back as domain errors that say what was wrong in the user's
//! words, never as SQL errors.

pub mod agent;
pub mod campaign_views;
pub mod campaigns;
pub mod cluster;
pub mod contacts;
pub mod conversations;
pub mod demo;
pub mod demo_lock;
pub mod events;
pub mod inbox;
pub mod media;
pub mod members;
pub mod messages;
pub mod outbox;
pub mod phones;
pub mod probe;
pub mod team;
pub mod templates;
pub mod thread;
pub mod users;
pub mod webhooks;
pub mod workspaces;

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::{Config, Paths};
use cluster::{ClusterError, ClusterOptions, ManagedCluster};

/// The name of treeex's database in the managed cluster.
pub const MANAGED_DATABASE: &str = "treeex";

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Something already exists (a duplicate slug, wa_id, membership, ...).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
    /// A value the database's rules refuse.
    #[error("{0}")]
    Invalid(String),
    #[error(
        "the database is unavailable; check that PostgreSQL runs and that [database] url (or DATABASE_URL) points at it"
    )]
    Unavailable(#[source] sqlx::Error),
    /// A deadlock or serialization failure: the transaction did nothing and may simply be run
    /// again.
    #[error("the database asked to run the transaction again")]
    Retry(#[source] sqlx::Error),
    #[error("the database failed")]
    Database(#[source] sqlx::Error),
    #[error("cannot start the managed PostgreSQL")]
    Cluster(#[source] ClusterError),
    #[error("cannot apply the database migrations")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if is_unavailable(&error) {
            StoreError::Unavailable(error)
        } else if is_retryable(&error) {
            StoreError::Retry(error)
        } else {
            StoreError::Database(error)
        }
    }
}

/// True when the error means the server cannot be reached or is going away, rather than that
/// the query was wrong: callers answer those with "try again" (the webhook answers 503).
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exceptions; 57P01-03: shutdown; 53300: too many connections.
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// True for a deadlock (40P01) or serialization failure (40001): nothing was done, and the
/// same transaction run again will likely succeed.
pub fn is_retryable(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| matches!(&*code, "40001" | "40P01"))
}

/// The name of the constraint a database error violated, if any.
pub(crate) fn violated_constraint(error: &sqlx::Error) -> Option<&str> {
    error.as_database_error().and_then(|db| db.constraint())
}

/// treeex's database: a pool, and the managed cluster it runs on when there is no configured
/// server (kept alive as long as the pool is).
#[derive(Debug, Clone)]
pub struct Db {
    pool: PgPool,
    cluster: Option<Arc<ManagedCluster>>,
}

impl Db {
    /// Connects as the configuration says, starting the managed PostgreSQL when no URL is set,
    /// and applies pending migrations.
    pub async fn open(config: &Config, paths: &Paths) -> Result<Self, StoreError> {
        let pool_options = PgPoolOptions::new()
            .max_connections(config.database.max_connections)
            .acquire_timeout(Duration::from_secs(10));
        let db = match &config.database.url {
            Some(url) => {
                let options: PgConnectOptions = url.expose_secret().parse().map_err(|e| {
                    StoreError::Invalid(format!("[database] url is not valid: {e}"))
                })?;
                let pool = pool_options.connect_with(options).await?;
                Db {
                    pool,
                    cluster: None,
                }
            }
            None => {
                let cluster = start_cluster(managed_options(config, paths)).await?;
                Db::on_cluster(cluster, MANAGED_DATABASE, pool_options).await?
            }
        };
        db.migrate().await?;
        Ok(db)
    }

    /// Connects to `database` in the managed cluster, creating it when missing. Migrations
    /// are the caller's.
    pub async fn on_cluster(
        cluster: Arc<ManagedCluster>,
        database: &str,
        pool_options: PgPoolOptions,
    ) -> Result<Self, StoreError> {
        create_database(&cluster, database).await?;
        let pool = pool_options
            .connect_with(cluster.connect_options(database))
            .await?;
        Ok(Db {
            pool,
            cluster: Some(cluster),
        })
    }

    /// Wraps an existing pool (tests, embedding); the caller keeps its server running.
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            cluster: None,
        }
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(StoreError::Migrate)
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The managed cluster this database runs on, if any.
    pub fn cluster(&self) -> Option<&ManagedCluster> {
        self.cluster.as_deref()
    }

    /// Closes the pool and, when this was the last user of the managed cluster, stops it.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(cluster) = self.cluster {
            // Dropping a cluster may stop the server: a blocking wait for `pg_ctl stop`.
            let _ = tokio::task::spawn_blocking(move || drop(cluster)).await;
        }
    }
}

/// The managed cluster the configuration names (`[database] managed_dir`, `postgres_bin_dir`).
pub fn managed_options(config: &Config, paths: &Paths) -> ClusterOptions {
    ClusterOptions {
        dir: config
            .database
            .managed_dir
            .clone()
            .unwrap_or_else(|| cluster::default_dir(paths.data_dir())),
        bin_dir: config.database.postgres_bin_dir.clone(),
        throwaway: false,
    }
}

/// Starts (or joins) a managed cluster without blocking the runtime.
pub async fn start_cluster(options: ClusterOptions) -> Result<Arc<ManagedCluster>, StoreError> {
    tokio::task::spawn_blocking(move || ManagedCluster::start(&options))
        .await
        .map_err(|join| {
            StoreError::Cluster(ClusterError::Program {
                program: "the cluster start",
                dir: std::path::PathBuf::new(),
                detail: join.to_string(),
            })
        })?
        .map(Arc::new)
        .map_err(StoreError::Cluster)
}

/// Creates a database in the managed cluster unless it exists.
pub async fn create_database(cluster: &ManagedCluster, name: &str) -> Result<(), StoreError> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect_with(&cluster.connect_options("postgres")).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let sql = format!("CREATE DATABASE {}", quote_ident(name));
        match sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
        {
            Ok(_) => {}
            // Another treeex process created it first.
            Err(e) if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("42P04") => {}
            Err(e) => return Err(e.into()),
        }
    }
    conn.close().await?;
    Ok(())
}

/// Drops a database of the managed cluster, closing the connections other processes hold on it.
pub async fn drop_database(cluster: &ManagedCluster, name: &str) -> Result<(), StoreError> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect_with(&cluster.connect_options("postgres")).await?;
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// Quotes an SQL identifier (a database name cannot be a bind parameter).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
