//! The real `treeex` binary in a pseudo-terminal, its screen read back with a terminal
//! emulator (vt100), for the end-to-end tests of the TUI and the demo.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

pub const ROWS: u16 = 40;
pub const COLS: u16 = 120;
/// How long any one thing may take to show.
pub const DEADLINE: Duration = Duration::from_secs(20);
pub const POLL: Duration = Duration::from_millis(50);

/// The terminal's screen as the TUI drew it, and where the TUI logs (shown when a wait fails).
#[derive(Clone)]
pub struct Screen {
    parser: Arc<Mutex<vt100::Parser>>,
    log_dir: PathBuf,
}

impl Screen {
    pub fn contents(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// The screen as an SVG picture.
    pub fn svg(&self) -> String {
        super::svg::render(self.parser.lock().unwrap().screen())
    }

    /// The bottom line: a notice, or the hints of the focused view.
    pub fn bottom_line(&self) -> String {
        let parser = self.parser.lock().unwrap();
        parser
            .screen()
            .rows(0, COLS)
            .nth(usize::from(ROWS) - 1)
            .unwrap_or_default()
    }

    /// The screen and the end of the log, for a failure message.
    pub fn report(&self) -> String {
        format!(
            "--- screen ({COLS}x{ROWS})\n{}\n--- end of the TUI's log\n{}",
            self.contents(),
            log_tail(&self.log_dir)
        )
    }
}

fn log_tail(dir: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return format!("(no log directory {})", dir.display());
    };
    let mut text = String::new();
    for entry in entries.flatten() {
        if let Ok(file) = std::fs::read_to_string(entry.path()) {
            text.push_str(&file);
        }
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// Polls the screen until `predicate` holds for its contents, and returns them; panics with
/// `what` and the whole screen at the deadline.
pub async fn wait_for(screen: &Screen, predicate: impl Fn(&str) -> bool, what: &str) -> String {
    wait_for_within(DEADLINE, screen, predicate, what).await
}

pub async fn wait_for_within(
    within: Duration,
    screen: &Screen,
    predicate: impl Fn(&str) -> bool,
    what: &str,
) -> String {
    let deadline = Instant::now() + within;
    loop {
        let contents = screen.contents();
        if predicate(&contents) {
            if std::env::var_os("TUI_PTY_SHOW").is_some() {
                eprintln!("--- {what}\n{contents}");
            }
            return contents;
        }
        if Instant::now() >= deadline {
            panic!(
                "timed out after {within:?} waiting for {what}\n{}",
                screen.report()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The `treeex` TUI running in a pseudo-terminal; killed when dropped if still running.
pub struct Tui {
    pub screen: Screen,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
}

impl Tui {
    /// `treeex --config CONFIG` in a pseudo-terminal, at home in `home`.
    pub fn start(config: &Path, home: &Path, log_dir: PathBuf) -> Tui {
        Tui::start_with(config, home, log_dir, &[])
    }

    /// `treeex --config CONFIG ARGS...` in a pseudo-terminal.
    pub fn start_with(config: &Path, home: &Path, log_dir: PathBuf, args: &[&str]) -> Tui {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pseudo-terminal");
        let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_treeex"));
        command.arg("--config");
        command.arg(config);
        command.args(args);
        command.cwd(home);
        command.env("HOME", home);
        command.env("TERM", "xterm-256color");
        for variable in [
            "NO_COLOR",
            "XDG_CONFIG_HOME",
            "XDG_DATA_HOME",
            "TREEEX_CONFIG",
            "DATABASE_URL",
            "TREEEX_APP_SECRET",
            "TREEEX_VERIFY_TOKEN",
            "TREEEX_LOG",
            "VISUAL",
            "EDITOR",
        ] {
            command.env_remove(variable);
        }
        let child = pty.slave.spawn_command(command).expect("start treeex");
        // Only the child holds the terminal's other end: its exit ends the reader.
        drop(pty.slave);

        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            NonZeroU16::new(ROWS).unwrap(),
            NonZeroU16::new(COLS).unwrap(),
            0,
        )));
        let writer = Arc::new(Mutex::new(pty.master.take_writer().unwrap()));
        let mut reader = pty.master.try_clone_reader().unwrap();
        {
            let parser = parser.clone();
            let writer = writer.clone();
            std::thread::spawn(move || {
                let mut buffer = [0u8; 8192];
                // The end of the previous read, so that a query split across reads is seen.
                let mut tail: Vec<u8> = Vec::new();
                loop {
                    let n = match reader.read(&mut buffer) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    parser.lock().unwrap().process(&buffer[..n]);
                    // crossterm may ask where the cursor is; a terminal answers.
                    let mut seen = std::mem::take(&mut tail);
                    seen.extend_from_slice(&buffer[..n]);
                    let queries = seen.windows(4).filter(|w| w == b"\x1b[6n").count();
                    for _ in 0..queries {
                        let mut writer = writer.lock().unwrap();
                        let _ = writer.write_all(b"\x1b[1;1R");
                        let _ = writer.flush();
                    }
                    // Three bytes can start a query but never hold a whole one (counted once).
                    tail = seen[seen.len() - seen.len().min(3)..].to_vec();
                }
            });
        }
        Tui {
            screen: Screen { parser, log_dir },
            writer,
            child,
            _master: pty.master,
        }
    }

    /// Types `keys` as the terminal would send them.
    pub fn press(&self, keys: &str) {
        let mut writer = self.writer.lock().unwrap();
        writer
            .write_all(keys.as_bytes())
            .expect("write to the terminal");
        writer.flush().unwrap();
    }

    /// Waits for the process to end; kills it and fails at the deadline.
    pub async fn wait_exit(&mut self, within: Duration) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait on treeex") {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "treeex did not exit within {within:?} after `q`\n{}",
                    self.screen.report()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
