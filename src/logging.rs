//! Logs: a daily-rolling file under `[logging] dir`, filtered by `[logging] level` (`TREEEX_LOG`),
//! and for the headless `serve` also stdout. The one-shot commands keep stdout for their output
//! and stderr for their one error line, so they log to the file only.

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{Config, Paths};

/// Where logs go besides the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    FileOnly,
    Stdout,
}

/// Starts logging; the guard flushes the file when dropped. A log folder that cannot be made is
/// not a reason to fail: it is said once on stderr and the file is left out.
pub fn init(config: &Config, paths: &Paths, echo: Echo) -> Option<WorkerGuard> {
    // The level was validated with the configuration. PostgreSQL's notices ("relation already
    // exists, skipping" on every start) are noise below warnings.
    let filter = || {
        EnvFilter::try_new(format!(
            "sqlx::postgres::notice=warn,{}",
            config.logging.level
        ))
        .unwrap_or_else(|_| EnvFilter::new("info"))
    };
    let dir = config.log_dir(paths);
    let file = match std::fs::create_dir_all(&dir) {
        Ok(()) => {
            let (writer, guard) = tracing_appender::non_blocking(tracing_appender::rolling::daily(
                &dir,
                "treeex.log",
            ));
            Some((writer, guard))
        }
        Err(error) => {
            eprintln!(
                "warning: cannot create the log folder {} ({error}); logging to a file is off; set [logging] dir",
                dir.display()
            );
            None
        }
    };
    let (file_layer, guard) = match file {
        Some((writer, guard)) => (
            Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(writer)
                    .with_ansi(false)
                    .with_filter(filter()),
            ),
            Some(guard),
        ),
        None => (None, None),
    };
    let stdout_layer = (echo == Echo::Stdout).then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stdout)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .with_filter(filter())
    });
    let _ = tracing_subscriber::registry()
        .with(file_layer)
        .with(stdout_layer)
        .try_init();
    guard
}
