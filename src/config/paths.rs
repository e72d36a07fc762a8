//! The platform directories of treeex (`directories`): where its configuration file and its data
//! (the managed PostgreSQL, logs, media) live.

use std::path::{Path, PathBuf};

use super::ConfigError;

#[derive(Debug, Clone)]
pub struct Paths {
    config_dir: PathBuf,
    data_dir: PathBuf,
}

impl Paths {
    /// The platform's directories for `treeex` (on Linux `~/.config/treeex` and
    /// `~/.local/share/treeex`, following `XDG_*`).
    pub fn from_platform() -> Result<Self, ConfigError> {
        let dirs = directories::ProjectDirs::from("", "", "treeex").ok_or(ConfigError::NoHome)?;
        Ok(Self {
            config_dir: dirs.config_dir().to_path_buf(),
            data_dir: dirs.data_dir().to_path_buf(),
        })
    }

    /// Explicit directories, for tests and embedding.
    pub fn new(config_dir: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            config_dir: config_dir.into(),
            data_dir: data_dir.into(),
        }
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}
