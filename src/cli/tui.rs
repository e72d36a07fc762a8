//! `treeex` and `treeex tui`: the inbox TUI on the configured database.

use super::Failure;
use super::TuiArgs;
use crate::config::{Config, Paths};
use crate::store::Db;
use crate::tui::{self, Environment, Options, StartError};

pub async fn run(db: &Db, config: &Config, args: TuiArgs) -> Result<(), Failure> {
    let paths = Paths::from_platform()?;
    let env = Environment {
        db: db.clone(),
        graph: super::commands::graph_client(config)?,
        media: super::send::media_store(config)?,
        listener: None,
    };
    let options = Options {
        workspace: args.workspace,
        no_listener: args.no_listener,
    };
    tui::run(env, config, &paths, options)
        .await
        .map_err(|error| match error {
            StartError::Usage(error) => Failure::Usage(error),
            StartError::Failed(error) => Failure::Work(error),
        })
}
