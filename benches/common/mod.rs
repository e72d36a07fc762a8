//! What the benchmarks share: the PostgreSQL server they run on.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sqlx::postgres::PgConnectOptions;
use treeex::store::cluster::{ClusterOptions, ManagedCluster};

/// Where PostgreSQL runs: a managed cluster of our own that outlives the run, or the server
/// `DATABASE_URL` names.
pub enum Server {
    Managed(ManagedCluster),
    External {
        options: Box<PgConnectOptions>,
        url: String,
    },
}

impl Server {
    /// `dir_name`: the cluster's directory under `$CARGO_TARGET_TMPDIR`.
    pub fn start(dir_name: &str) -> Result<Server> {
        if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            let options = url
                .parse()
                .context("DATABASE_URL is not a PostgreSQL URL")?;
            return Ok(Server::External {
                options: Box::new(options),
                url,
            });
        }
        let dir = std::env::var_os("TREEEX_BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join(dir_name));
        let cluster = ManagedCluster::start(&ClusterOptions {
            dir,
            bin_dir: None,
            throwaway: true,
        })
        .context("starting the managed PostgreSQL")?;
        Ok(Server::Managed(cluster))
    }

    pub fn options(&self, database: &str) -> PgConnectOptions {
        match self {
            Server::Managed(cluster) => cluster.connect_options(database),
            Server::External { options, .. } => (**options).clone().database(database),
        }
    }

    /// A URL of one database, for the TUI's configuration.
    pub fn url(&self, database: &str) -> String {
        match self {
            Server::Managed(cluster) => cluster.url(database),
            Server::External { url, .. } => replace_database(url, database),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Server::Managed(cluster) => format!(
                "managed cluster in {} (kept between runs)",
                cluster.dir().display()
            ),
            Server::External { .. } => "the server DATABASE_URL names".into(),
        }
    }
}

pub fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}
