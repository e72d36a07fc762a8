//! The configuration: one TOML file, environment overrides, defaults, and the platform paths.
//!
//! Owns the lookup order (`--config`, `$TREEEX_CONFIG`, the platform config directory), the rule
//! that an unknown key, a wrong type or an invalid value is an error naming the key and the file,
//! and the secrets, which live in `SecretString` so they cannot be printed or logged by accident.

mod paths;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

pub use paths::Paths;

/// Where a configuration value came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// No file was found: built-in defaults (and the environment).
    Defaults,
    File(PathBuf),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Defaults => f.write_str("the built-in defaults"),
            Source::File(path) => write!(f, "{}", path.display()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("configuration error in {source_name}{line}: `{key}`: {message}", line = line_suffix(*line))]
    Invalid {
        source_name: String,
        key: String,
        line: Option<usize>,
        message: String,
    },
    #[error("configuration error in {source_name}{line}: {message}", line = line_suffix(*line))]
    Syntax {
        source_name: String,
        line: Option<usize>,
        message: String,
    },
    #[error("no data directory: set HOME (treeex keeps its database, logs and media under it)")]
    NoHome,
}

fn line_suffix(line: Option<usize>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

/// The whole configuration, after defaults and environment overrides.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub user: UserConfig,
    pub database: DatabaseConfig,
    pub server: ServerConfig,
    pub whatsapp: WhatsappConfig,
    pub media: MediaConfig,
    pub logging: LoggingConfig,
    pub tui: TuiConfig,
    pub ingest: IngestConfig,
    pub webhook: WebhookConfig,
    pub outbox: OutboxConfig,
    /// Where the file was found; not a key.
    #[serde(skip)]
    pub source: Option<Source>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UserConfig {
    pub email: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// None: the managed local PostgreSQL.
    pub url: Option<SecretString>,
    pub max_connections: u32,
    /// Where the managed PostgreSQL cluster lives. None: `<data dir>/postgres`, or
    /// `/var/lib/treeex/postgres` when treeex runs as root (see `store::cluster`).
    pub managed_dir: Option<PathBuf>,
    /// Where the PostgreSQL server binaries of the managed cluster are. None: searched on
    /// `PATH`, then `pg_config --bindir`, then the newest `/usr/lib/postgresql/<version>/bin`.
    pub postgres_bin_dir: Option<PathBuf>,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 10,
            managed_dir: None,
            postgres_bin_dir: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub body_limit_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_limit_bytes: 3 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WhatsappConfig {
    pub app_secret: Option<SecretString>,
    pub verify_token: Option<SecretString>,
    pub graph_base_url: String,
    pub api_version: String,
}

impl Default for WhatsappConfig {
    fn default() -> Self {
        Self {
            app_secret: None,
            verify_token: None,
            graph_base_url: "https://graph.facebook.com".into(),
            api_version: "v23.0".into(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    /// None: `file://<data dir>/media`.
    pub store: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    pub level: String,
    /// None: `<data dir>/logs`.
    pub dir: Option<PathBuf>,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            dir: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TuiConfig {
    pub listener: bool,
    /// None: `xdg-open` (`open` on macOS).
    pub open_command: Option<String>,
    pub mark_read_after_ms: u64,
    pub bell: bool,
    /// Key bindings by view, then action name.
    pub keys: BTreeMap<String, BTreeMap<String, String>>,
    /// Colours by semantic role.
    pub theme: BTreeMap<String, String>,
}

impl Default for TuiConfig {
    fn default() -> Self {
        Self {
            listener: true,
            open_command: None,
            mark_read_after_ms: 1500,
            bell: true,
            keys: BTreeMap::new(),
            theme: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    pub stop_words: Vec<String>,
    pub start_words: Vec<String>,
    /// Template quick-reply button payloads that opt the contact out.
    pub stop_payloads: Vec<String>,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            stop_words: vec!["STOP".into(), "UNSUBSCRIBE".into()],
            start_words: vec!["START".into()],
            stop_payloads: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    pub archive_days: u32,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self { archive_days: 30 }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Attempts before a retryable send failure is final.
    pub max_attempts: u32,
    /// Seconds a Graph API request may take before its answer counts as lost (ambiguous).
    pub request_timeout_secs: u64,
    /// Send requests to the Graph API in flight at once in this process.
    pub max_in_flight: usize,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            request_timeout_secs: 30,
            max_in_flight: 256,
        }
    }
}

/// The environment variables treeex reads, taken once so tests can pass their own.
#[derive(Debug, Default, Clone)]
pub struct Environment {
    pub config: Option<PathBuf>,
    pub database_url: Option<String>,
    pub app_secret: Option<String>,
    pub verify_token: Option<String>,
    pub log: Option<String>,
}

impl Environment {
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            config: var("TREEEX_CONFIG").map(PathBuf::from),
            database_url: var("DATABASE_URL"),
            app_secret: var("TREEEX_APP_SECRET"),
            verify_token: var("TREEEX_VERIFY_TOKEN"),
            log: var("TREEEX_LOG"),
        }
    }
}

impl Config {
    /// Finds, reads and validates the configuration: `explicit` (`--config`), then
    /// `$TREEEX_CONFIG`, then `config.toml` in the platform config directory; no file means
    /// the built-in defaults. The environment overrides what the file says.
    pub fn load(
        explicit: Option<&Path>,
        env: &Environment,
        paths: &Paths,
    ) -> Result<Self, ConfigError> {
        let path = explicit
            .map(Path::to_path_buf)
            .or_else(|| env.config.clone())
            .or_else(|| {
                let default = paths.config_file();
                default.exists().then_some(default)
            });
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                let mut config = Self::parse(&text, &Source::File(path.clone()))?;
                config.source = Some(Source::File(path));
                config
            }
            None => Config {
                source: Some(Source::Defaults),
                ..Config::default()
            },
        };
        config.apply_environment(env);
        config.validate()?;
        Ok(config)
    }

    /// Parses the TOML text of a configuration file; `source` names it in errors.
    pub fn parse(text: &str, source: &Source) -> Result<Self, ConfigError> {
        let line_of = |span: Option<std::ops::Range<usize>>| {
            span.map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
        };
        let deserializer =
            toml::Deserializer::parse(text).map_err(|error| ConfigError::Syntax {
                source_name: source.to_string(),
                line: line_of(error.span()),
                message: error.message().trim().to_string(),
            })?;
        serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let path = error.path().to_string();
            let inner = error.inner();
            let message = inner.message().trim().to_string();
            // serde_path_to_error's path already ends with an unknown key's name.
            let key = match unknown_field(&message) {
                Some(field) if path == "." => field.to_string(),
                _ => path,
            };
            ConfigError::Invalid {
                source_name: source.to_string(),
                key,
                line: line_of(inner.span()),
                message,
            }
        })
    }

    fn apply_environment(&mut self, env: &Environment) {
        if let Some(url) = &env.database_url {
            self.database.url = Some(SecretString::from(url.clone()));
        }
        if let Some(secret) = &env.app_secret {
            self.whatsapp.app_secret = Some(SecretString::from(secret.clone()));
        }
        if let Some(token) = &env.verify_token {
            self.whatsapp.verify_token = Some(SecretString::from(token.clone()));
        }
        if let Some(level) = &env.log {
            self.logging.level = level.clone();
        }
    }

    /// Checks the values that the types alone do not: each failure names its key.
    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            source_name: self.source_name(),
            key: key.to_string(),
            line: None,
            message,
        };
        if let Some(email) = &self.user.email
            && crate::domain::Email::parse(email).is_err()
        {
            return Err(invalid(
                "user.email",
                format!("`{email}` is not an email address"),
            ));
        }
        if let Some(url) = &self.database.url {
            use secrecy::ExposeSecret;
            let url = url.expose_secret();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(invalid(
                    "database.url",
                    "must be a PostgreSQL URL (postgres://user@host/database); DATABASE_URL sets it too".into(),
                ));
            }
        }
        for (key, secret) in [
            ("whatsapp.app_secret", &self.whatsapp.app_secret),
            ("whatsapp.verify_token", &self.whatsapp.verify_token),
        ] {
            use secrecy::ExposeSecret;
            if secret
                .as_ref()
                .is_some_and(|s| s.expose_secret().trim().is_empty())
            {
                return Err(invalid(
                    key,
                    "is empty; set the real value, or leave the key out (then every webhook is refused)"
                        .into(),
                ));
            }
        }
        if self.database.max_connections == 0 {
            return Err(invalid(
                "database.max_connections",
                "must be at least 1".into(),
            ));
        }
        if self.server.body_limit_bytes == 0 {
            return Err(invalid(
                "server.body_limit_bytes",
                "must be at least 1".into(),
            ));
        }
        let base = &self.whatsapp.graph_base_url;
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() < 9 {
            return Err(invalid(
                "whatsapp.graph_base_url",
                format!("`{base}` is not an http:// or https:// URL"),
            ));
        }
        let version = &self.whatsapp.api_version;
        let valid_version = version
            .strip_prefix('v')
            .and_then(|v| v.split_once('.'))
            .is_some_and(|(major, minor)| {
                !major.is_empty()
                    && !minor.is_empty()
                    && major.bytes().all(|b| b.is_ascii_digit())
                    && minor.bytes().all(|b| b.is_ascii_digit())
            });
        if !valid_version {
            return Err(invalid(
                "whatsapp.api_version",
                format!("`{version}` is not a Graph API version like `v23.0`"),
            ));
        }
        if let Some(store) = &self.media.store {
            let scheme = store.split_once("://").map(|(scheme, _)| scheme);
            if !matches!(scheme, Some("file" | "s3" | "az" | "gs")) {
                return Err(invalid(
                    "media.store",
                    format!("`{store}` is not a file://, s3://, az:// or gs:// URL"),
                ));
            }
        }
        if let Err(error) = tracing_subscriber::EnvFilter::try_new(&self.logging.level) {
            return Err(invalid(
                "logging.level",
                format!("`{}` is not a log filter: {error}", self.logging.level),
            ));
        }
        if self.outbox.max_attempts == 0 {
            return Err(invalid("outbox.max_attempts", "must be at least 1".into()));
        }
        if self.outbox.request_timeout_secs == 0 {
            return Err(invalid(
                "outbox.request_timeout_secs",
                "must be at least 1".into(),
            ));
        }
        if self.outbox.max_in_flight == 0 {
            return Err(invalid("outbox.max_in_flight", "must be at least 1".into()));
        }
        if self.webhook.archive_days == 0 {
            return Err(invalid("webhook.archive_days", "must be at least 1".into()));
        }
        for (key, words) in [
            ("ingest.stop_words", &self.ingest.stop_words),
            ("ingest.start_words", &self.ingest.start_words),
        ] {
            if words.iter().any(|w| w.trim().is_empty()) {
                return Err(invalid(key, "must not contain an empty word".into()));
            }
        }
        Ok(())
    }

    fn source_name(&self) -> String {
        self.source.clone().unwrap_or(Source::Defaults).to_string()
    }

    /// The folder of the daily-rolling log file.
    pub fn log_dir(&self, paths: &Paths) -> PathBuf {
        self.logging
            .dir
            .clone()
            .unwrap_or_else(|| paths.data_dir().join("logs"))
    }

    /// The media store URL.
    pub fn media_store(&self, paths: &Paths) -> String {
        self.media
            .store
            .clone()
            .unwrap_or_else(|| format!("file://{}", paths.data_dir().join("media").display()))
    }
}

/// The field name in serde's "unknown field `x`, expected ..." message.
fn unknown_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(field, _)| field)
}

#[cfg(test)]
mod tests;
