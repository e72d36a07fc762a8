//! The agent's inbox: a ratatui TUI.
//!
//! One `State`, one `Action` enum, `update(state, action) -> effects` and `draw(&state)` that
//! does no IO. Keys, database notifications, answers of background loads and clock ticks all
//! arrive as actions on one channel; the loop applies them, runs the effects they ask for
//! (`effects::Executor`), and draws only when something visible changed. Unless told not to, the
//! TUI also runs the webhook listener, an outbox worker, a campaign runner and a media fetcher,
//! like `serve`.

pub mod action;
pub mod command_line;
mod effects;
#[cfg(test)]
mod fixtures;
pub mod keymap;
pub mod live;
mod session;
pub mod state;
mod terminal;
pub mod theme;
pub mod update;
pub mod view;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use chrono::Utc;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use self::action::{Action, Effect};
use self::effects::Executor;
use self::keymap::Keymap;
use self::state::{ListenerState, Settings, State};
use self::terminal::{Guard, Reader};
use self::theme::Theme;
use crate::app::media::MediaStore;
use crate::app::workers::Workers;
use crate::cloud_api::graph::GraphClient;
use crate::config::{Config, Paths};
use crate::domain::Slug;
use crate::server::Listener;
use crate::store::Db;

/// How often the clock moves the window countdowns (they show minutes).
const TICK: Duration = Duration::from_secs(15);
/// How long the embedded workers get to finish when the TUI quits.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How the TUI was asked to start.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub workspace: Option<Slug>,
    pub no_listener: bool,
}

/// A problem before the TUI could start: a usage error (bad keys or theme) or a failure.
#[derive(Debug)]
pub enum StartError {
    Usage(anyhow::Error),
    Failed(anyhow::Error),
}

/// What the TUI needs from outside: built by the command line (and by `demo`).
pub struct Environment {
    pub db: Db,
    pub graph: GraphClient,
    pub media: MediaStore,
    /// The embedded listener's socket, bound by the caller (`demo` binds a free port before the
    /// simulator learns it); none: `[server] listen` is bound here.
    pub listener: Option<tokio::net::TcpListener>,
}

/// Runs the TUI until the user quits.
pub async fn run(
    mut env: Environment,
    config: &Config,
    paths: &Paths,
    options: Options,
) -> Result<(), StartError> {
    let keymap = Keymap::from_config(&config.tui.keys)
        .map_err(|e| StartError::Usage(anyhow::Error::new(e)))?;
    let theme = Theme::from_config(&config.tui.theme, Theme::no_color_from_env())
        .map_err(|e| StartError::Usage(anyhow::Error::new(e)))?;
    let start = session::start(&env.db, config, paths, options.workspace.as_ref())
        .await
        .map_err(StartError::Failed)?;

    let stop = CancellationToken::new();
    let (actions, mut inbox) = mpsc::unbounded_channel::<Action>();
    let embedded = config.tui.listener && !options.no_listener;
    let (listener_state, workers) = if embedded {
        let (state, listener, workers) = start_workers(&mut env, config, &stop).await;
        (state, Some((listener, workers)))
    } else {
        (ListenerState::Off, None)
    };

    let (workspace_tx, workspace_rx) = watch::channel(None);
    let feed = tokio::spawn(live::run(
        env.db.clone(),
        workspace_rx,
        actions.clone(),
        stop.clone(),
    ));
    let clock = tokio::spawn(tick(actions.clone(), stop.clone()));
    let open_command = config.tui.open_command.clone().unwrap_or_else(|| {
        if cfg!(target_os = "macos") {
            "open".into()
        } else {
            "xdg-open".into()
        }
    });
    let settings = Settings {
        mark_read_after: Duration::from_millis(config.tui.mark_read_after_ms),
        bell: config.tui.bell,
    };
    let mut executor = Executor::new(
        env.db.clone(),
        env.graph.clone(),
        env.media.clone(),
        actions.clone(),
        start.user.id,
        settings.mark_read_after,
        open_command,
    );
    let mut state = State::new(
        start.user,
        start.memberships,
        Arc::new(keymap),
        Arc::new(theme),
        settings,
        Utc::now(),
    );
    if let ListenerState::Failed(reason) = &listener_state {
        state.fail(format!(
            "no webhook listener here ({reason}); another process must receive Meta's webhooks"
        ));
    }
    state.health.listener = listener_state;

    let result = async {
        let mut guard = Guard::enter().context("cannot take over the terminal")?;
        let reader = Reader::start(actions.clone());
        let size = guard
            .terminal
            .size()
            .context("cannot read the terminal size")?;
        state.size = (size.width, size.height);
        let mut pending: Vec<Effect> = Vec::new();
        if let Some(membership) = start.initial {
            pending.push(Effect::SwitchWorkspace(Box::new(membership)));
        }
        let mut loop_env = LoopEnv {
            guard: &mut guard,
            reader: &reader,
            executor: &mut executor,
            workspace: &workspace_tx,
            paths,
        };
        loop {
            // Effects the loop runs itself may answer at once (a workspace chosen, an edit):
            // applied before drawing, so no frame shows the state in between.
            while !pending.is_empty() {
                for effect in std::mem::take(&mut pending) {
                    if let Some(action) = loop_env.apply(effect).await {
                        pending.extend(update::update(&mut state, action));
                    }
                }
            }
            if state.quit {
                break;
            }
            if state.dirty {
                state.dirty = false;
                loop_env
                    .guard
                    .terminal
                    .draw(|frame| view::draw(&state, frame))
                    .context("cannot draw")?;
            }
            let Some(action) = inbox.recv().await else {
                break;
            };
            // Times shown are measured against the clock of the moment, not of the last tick.
            pending.extend(update::update(&mut state, Action::Tick(Utc::now())));
            pending.extend(update::update(&mut state, action));
            // Apply whatever else is waiting before drawing once for all of it.
            while pending.is_empty()
                && let Ok(action) = inbox.try_recv()
            {
                pending.extend(update::update(&mut state, action));
            }
        }
        anyhow::Ok(())
    }
    .await;

    stop.cancel();
    clock.abort();
    let _ = feed.await;
    if let Some((listener, workers)) = workers {
        workers.join(STOP_GRACE).await;
        if let Some(listener) = listener
            && tokio::time::timeout(STOP_GRACE, listener).await.is_err()
        {
            tracing::warn!("the webhook listener did not stop in time");
        }
    }
    result.map_err(StartError::Failed)
}

/// What the loop needs to run the effects that are its own.
struct LoopEnv<'a> {
    guard: &'a mut Guard,
    reader: &'a Reader,
    executor: &'a mut Executor,
    workspace: &'a watch::Sender<Option<crate::domain::WorkspaceId>>,
    paths: &'a Paths,
}

impl LoopEnv<'_> {
    /// Runs an effect; what the loop runs itself may answer with an action to apply now.
    async fn apply(&mut self, effect: Effect) -> Option<Action> {
        match effect {
            Effect::SwitchWorkspace(membership) => {
                let id = membership.workspace.workspace_id();
                self.executor.workspace = Some(id);
                let _ = self.workspace.send(Some(id));
                session::remember_workspace(self.paths, &membership.workspace.slug);
                Some(Action::WorkspaceChosen(membership))
            }
            Effect::Bell => {
                self.guard.bell();
                None
            }
            Effect::Title(title) => {
                self.guard.title(&title);
                None
            }
            Effect::Edit(text) => {
                self.reader.pause().await;
                self.guard.suspend();
                let edited = edit(&text).await;
                if let Err(error) = self.guard.resume() {
                    tracing::error!(%error, "cannot take the terminal back after the editor");
                }
                self.reader.resume();
                match edited {
                    Ok(text) => Some(Action::Edited(text)),
                    Err(error) => {
                        tracing::warn!(error = %format!("{error:#}"), "the editor failed");
                        Some(Action::Done(Err(format!("{error:#}"))))
                    }
                }
            }
            other => {
                self.executor.spawn(other);
                None
            }
        }
    }
}

/// Edits `text` in `$VISUAL` or `$EDITOR` (else `vi`), in a private temporary file.
async fn edit(text: &str) -> anyhow::Result<String> {
    let file = tempfile::Builder::new()
        .prefix("treeex-reply-")
        .suffix(".txt")
        .tempfile()
        .context("cannot create a file for the editor")?;
    std::fs::write(file.path(), text).context("cannot write the draft for the editor")?;
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    let mut words = editor.split_whitespace();
    let program = words.next().unwrap_or("vi");
    let status = tokio::process::Command::new(program)
        .args(words)
        .arg(file.path())
        .status()
        .await
        .with_context(|| format!("cannot run the editor `{editor}` ($VISUAL / $EDITOR)"))?;
    if !status.success() {
        return Err(anyhow!(
            "the editor `{editor}` exited with {status}; the draft is unchanged"
        ));
    }
    std::fs::read_to_string(file.path()).context("cannot read the edited reply")
}

/// Starts the webhook listener and the background workers. A listener address in use (a
/// `serve` already runs on it) leaves the TUI working, with the reason in the status bar.
async fn start_workers(
    env: &mut Environment,
    config: &Config,
    stop: &CancellationToken,
) -> (ListenerState, Option<tokio::task::JoinHandle<()>>, Workers) {
    let workers = Workers::start(&env.db, &env.graph, &env.media, config, stop);
    let address: SocketAddr = config.server.listen;
    let bound = match env.listener.take() {
        Some(tcp) => Ok(tcp),
        None => tokio::net::TcpListener::bind(address).await,
    };
    match bound {
        Ok(tcp) => {
            let local = tcp.local_addr().unwrap_or(address);
            tracing::info!(address = %local, "the TUI's webhook listener is listening");
            let listener = Listener::new(env.db.clone(), config);
            let stopped = stop.clone();
            let task = tokio::spawn(async move {
                if let Err(error) = listener.serve(tcp, stopped.cancelled_owned()).await {
                    tracing::error!(%error, "the webhook listener failed");
                }
            });
            (ListenerState::Listening(local), Some(task), workers)
        }
        Err(error) => {
            tracing::warn!(%error, %address, "the TUI runs without its webhook listener");
            (
                ListenerState::Failed(format!("{address}: {error}")),
                None,
                workers,
            )
        }
    }
}

/// Sends the time every `TICK`, for the countdowns.
async fn tick(actions: mpsc::UnboundedSender<Action>, stop: CancellationToken) {
    let mut every = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = every.tick() => {
                if actions.send(Action::Tick(Utc::now())).is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Source;

    #[test]
    fn the_example_configuration_builds_a_keymap_and_a_theme() {
        let text = include_str!("../../config.example.toml")
            .replace("# [tui.keys.composer]", "[tui.keys.composer]")
            .replace("# send = \"enter\"", "send = \"ctrl-s\"")
            .replace("# newline = \"alt-enter\"", "newline = \"enter\"")
            .replace("# accent = \"cyan\"", "accent = \"black on yellow bold\"");
        let config = Config::parse(&text, &Source::Defaults).unwrap();
        let keymap = Keymap::from_config(&config.tui.keys).unwrap();
        let send = keymap.keys(keymap::View::Composer, keymap::Command::Send);
        assert_eq!(
            send.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["Ctrl-S"]
        );
        Theme::from_config(&config.tui.theme, false).unwrap();
    }

    #[test]
    fn a_bad_binding_names_its_key() {
        let config = Config::parse(
            "[tui.keys.inbox]\nmove_down = \"ctrl-foo\"\n",
            &Source::Defaults,
        )
        .unwrap();
        let error = Keymap::from_config(&config.tui.keys).unwrap_err();
        assert!(
            error.to_string().contains("tui.keys.inbox.move_down"),
            "{error}"
        );
    }
}
