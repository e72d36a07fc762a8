//! The terminal: raw mode, the alternate screen, mouse and paste, restored on every way out
//! (a normal exit, an error, a panic), and a keyboard reader that can step aside while
//! `$EDITOR` owns the terminal.

use std::io::{Write, stdout};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, SetTitle, disable_raw_mode, enable_raw_mode,
};
use tokio::sync::mpsc;

use super::action::Action;

/// How long the reader waits for a key before it looks at its pause flag again.
const POLL: Duration = Duration::from_millis(50);

/// Takes the terminal over; dropping the guard gives it back.
pub struct Guard {
    pub terminal: DefaultTerminal,
}

impl Guard {
    pub fn enter() -> std::io::Result<Guard> {
        let terminal = ratatui::try_init()?;
        execute!(stdout(), EnableMouseCapture, EnableBracketedPaste)?;
        // ratatui's hook restores the screen on a panic; this one also gives the mouse back.
        let restore = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = execute!(stdout(), DisableMouseCapture, DisableBracketedPaste);
            restore(info);
        }));
        Ok(Guard { terminal })
    }

    /// Hands the terminal to another program for a while (`$EDITOR`).
    pub fn suspend(&mut self) {
        let _ = execute!(
            stdout(),
            DisableMouseCapture,
            DisableBracketedPaste,
            LeaveAlternateScreen
        );
        let _ = disable_raw_mode();
    }

    /// Takes the terminal back after `suspend` (the panic hooks installed at `enter` stay).
    pub fn resume(&mut self) -> std::io::Result<()> {
        enable_raw_mode()?;
        execute!(
            stdout(),
            EnterAlternateScreen,
            EnableMouseCapture,
            EnableBracketedPaste
        )?;
        self.terminal.clear()
    }

    pub fn bell(&mut self) {
        let mut out = stdout();
        let _ = out.write_all(b"\x07");
        let _ = out.flush();
    }

    pub fn title(&mut self, title: &str) {
        let _ = execute!(stdout(), SetTitle(title));
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = execute!(stdout(), DisableMouseCapture, DisableBracketedPaste);
        ratatui::restore();
    }
}

/// Reads the keyboard, mouse and resizes on a thread of its own and sends them as actions.
pub struct Reader {
    paused: Arc<AtomicBool>,
    parked: Arc<AtomicBool>,
    stopped: Arc<AtomicBool>,
}

impl Reader {
    pub fn start(actions: mpsc::UnboundedSender<Action>) -> Reader {
        let reader = Reader {
            paused: Arc::new(AtomicBool::new(false)),
            parked: Arc::new(AtomicBool::new(false)),
            stopped: Arc::new(AtomicBool::new(false)),
        };
        let (paused, parked, stopped) = (
            reader.paused.clone(),
            reader.parked.clone(),
            reader.stopped.clone(),
        );
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Acquire) {
                if paused.load(Ordering::Acquire) {
                    parked.store(true, Ordering::Release);
                    std::thread::park_timeout(POLL);
                    continue;
                }
                parked.store(false, Ordering::Release);
                match event::poll(POLL) {
                    Ok(true) => match event::read() {
                        Ok(event) => {
                            if actions.send(Action::Input(event)).is_err() {
                                return;
                            }
                        }
                        Err(error) => tracing::warn!(%error, "cannot read the terminal"),
                    },
                    Ok(false) => {}
                    Err(error) => {
                        tracing::warn!(%error, "cannot read the terminal");
                        std::thread::sleep(POLL);
                    }
                }
            }
        });
        reader
    }

    /// Stops reading until `resume`, and returns once the reader has let go of the terminal.
    pub async fn pause(&self) {
        self.paused.store(true, Ordering::Release);
        while !self.parked.load(Ordering::Acquire) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub fn resume(&self) {
        self.paused.store(false, Ordering::Release);
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::Release);
    }
}
