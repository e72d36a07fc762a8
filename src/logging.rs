//! Logs: a daily-rolling file under `[logging] dir`, filtered by `[logging] level` (`TREEEX_LOG`).
//! Commands keep stdout for their output and stderr for their one error line, so logs go to the
//! file only.

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, Paths};

/// Starts logging to the file; the guard flushes it when dropped. A log folder that cannot be
/// made is not a reason to fail a command: it is said once on stderr and logging is off.
pub fn to_file(config: &Config, paths: &Paths) -> Option<WorkerGuard> {
    let dir = config.log_dir(paths);
    if let Err(error) = std::fs::create_dir_all(&dir) {
        eprintln!(
            "warning: cannot create the log folder {} ({error}); logging is off; set [logging] dir",
            dir.display()
        );
        return None;
    }
    let appender = tracing_appender::rolling::daily(&dir, "treeex.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    // The level was validated with the configuration.
    let filter =
        EnvFilter::try_new(&config.logging.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .is_ok();
    installed.then_some(guard)
}
