//! The managed local PostgreSQL: the embedded default when no `[database] url` is configured.
//!
//! treeex runs the machine's PostgreSQL server binaries on a cluster of its own: `initdb` on first
//! use, the server listening on a Unix socket inside the cluster directory only (no TCP port, so
//! it never collides with another server). PostgreSQL refuses to run as root, so when treeex is
//! root the server binaries run as the `postgres` system user (or `nobody`), which owns the
//! cluster directory.
//!
//! Who stops it: every treeex process that uses the cluster holds a shared lock on
//! `<dir>/users.lock` for as long as it runs. When a process lets go of the cluster it tries to
//! take that lock exclusively; if it can, nobody else is using the server and it stops it. A
//! process that crashes loses its lock with it, and the server it leaves running is simply reused
//! by the next treeex (PostgreSQL itself clears a stale `postmaster.pid`). Starting is serialised
//! by `<dir>/start.lock`, so two processes never run `initdb` or start the server at once.
//!
//! This module blocks (it runs programs and waits on file locks): call it from
//! `spawn_blocking`.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use nix::unistd::{Gid, Uid, User};

/// The database superuser `initdb` creates; connections over the socket are trusted.
pub const SUPERUSER: &str = "treeex";

/// Unix socket paths are limited to about 107 bytes, and PostgreSQL adds `/.s.PGSQL.5432`.
const MAX_SOCKET_DIR_LEN: usize = 90;

/// The programs treeex needs from a PostgreSQL installation.
const SERVER_PROGRAMS: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "the PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH, through `pg_config --bindir` or under /usr/lib/postgresql; install them (Debian/Ubuntu: `apt-get install postgresql`) or set [database] url (or DATABASE_URL) to a PostgreSQL server"
    )]
    NoBinaries,
    #[error(
        "the managed PostgreSQL must run as an unprivileged user when treeex runs as root, and neither `postgres` nor `nobody` exists; create a `postgres` user or set [database] url"
    )]
    NoServerUser,
    #[error(
        "the managed PostgreSQL runs as user `{user}` (PostgreSQL refuses to run as root) and cannot enter {blocked}; set [database] managed_dir to a directory it can reach, or set [database] url"
    )]
    Unreachable { user: String, blocked: PathBuf },
    #[error(
        "the managed PostgreSQL directory {0} is too long for a Unix socket path; set [database] managed_dir to a shorter path"
    )]
    PathTooLong(PathBuf),
    #[error("cannot prepare the managed PostgreSQL directory {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{program} failed for the managed PostgreSQL in {dir}: {detail}")]
    Program {
        program: &'static str,
        dir: PathBuf,
        detail: String,
    },
}

/// How to run the managed cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The cluster directory: `data/` (PGDATA), the socket, the log and the locks live in it.
    pub dir: PathBuf,
    /// Where the server binaries are; None: searched (PATH, `pg_config --bindir`,
    /// `/usr/lib/postgresql/<newest>/bin`).
    pub bin_dir: Option<PathBuf>,
    /// A throwaway cluster (tests): durability off for speed. Never for a user's data.
    pub throwaway: bool,
}

/// The default cluster directory: under the data directory, except as root, whose home the
/// unprivileged server user cannot enter; root's cluster lives in `/var/lib/treeex/postgres`.
pub fn default_dir(data_dir: &Path) -> PathBuf {
    if Uid::effective().is_root() {
        PathBuf::from("/var/lib/treeex/postgres")
    } else {
        data_dir.join("postgres")
    }
}

/// A running managed cluster that this process uses. Dropping it lets go of the cluster, and
/// stops the server when no other treeex process is using it.
#[derive(Debug)]
pub struct ManagedCluster {
    dir: PathBuf,
    bin_dir: PathBuf,
    server_user: Option<ServerUser>,
    /// Held shared for the life of this value: the "someone uses this cluster" mark.
    users_lock: File,
}

#[derive(Debug, Clone)]
struct ServerUser {
    name: String,
    uid: Uid,
    gid: Gid,
}

impl ManagedCluster {
    /// Starts the cluster, or joins it when it is already running: `initdb` on first use, then
    /// the server, waiting until it accepts connections.
    pub fn start(options: &ClusterOptions) -> Result<Self, ClusterError> {
        let bin_dir = locate_bin_dir(options.bin_dir.as_deref()).ok_or(ClusterError::NoBinaries)?;
        let dir = absolute(&options.dir)?;
        if dir.as_os_str().len() > MAX_SOCKET_DIR_LEN {
            return Err(ClusterError::PathTooLong(dir));
        }
        let server_user = server_user()?;
        prepare_dir(&dir, server_user.as_ref())?;

        let users_lock = open_lock(&dir.join("users.lock"))?;
        // Blocks while another process is stopping the server, so it is never stopped under us.
        users_lock
            .lock_shared()
            .map_err(|source| io_error(&dir, source))?;
        let cluster = Self {
            dir,
            bin_dir,
            server_user,
            users_lock,
        };
        let start_lock = open_lock(&cluster.dir.join("start.lock"))?;
        start_lock
            .lock()
            .map_err(|source| io_error(&cluster.dir, source))?;
        if !cluster.data_dir().join("PG_VERSION").exists() {
            cluster.initdb(options.throwaway)?;
        }
        if !cluster.is_running() {
            cluster.start_server()?;
        }
        drop(start_lock);
        Ok(cluster)
    }

    /// The cluster directory; it is also the directory of the server's Unix socket.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Connection options for one database of the cluster, over its Unix socket.
    pub fn connect_options(&self, database: &str) -> sqlx::postgres::PgConnectOptions {
        sqlx::postgres::PgConnectOptions::new()
            .socket(&self.dir)
            .username(SUPERUSER)
            .database(database)
    }

    /// The URL of one database of the cluster, for tools such as `psql`.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}@localhost/{database}?host={}",
            self.dir.display()
        )
    }

    /// `initdb` into a scratch directory that is renamed into place only when complete, so a
    /// crash during `initdb` never leaves a half-made cluster that looks whole.
    fn initdb(&self, throwaway: bool) -> Result<(), ClusterError> {
        let scratch = self.dir.join("data.init");
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch).map_err(|source| io_error(&scratch, source))?;
        }
        let output = self.run(
            "initdb",
            &[
                "-D".as_ref(),
                scratch.as_os_str(),
                "-U".as_ref(),
                SUPERUSER.as_ref(),
                "--auth=trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--no-locale".as_ref(),
                "--no-instructions".as_ref(),
            ],
        )?;
        self.check("initdb", &output)?;

        let mut settings = format!(
            "\n# Set by treeex: a Unix socket in the cluster directory only, no TCP port.\n\
             listen_addresses = ''\n\
             unix_socket_directories = '{}'\n",
            self.dir.display().to_string().replace('\'', "''")
        );
        if throwaway {
            settings.push_str(
                "# A throwaway cluster (tests): durability traded for speed.\n\
                 fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n\
                 max_connections = 300\n",
            );
        }
        let conf = scratch.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).map_err(|source| io_error(&conf, source))?;
        text.push_str(&settings);
        std::fs::write(&conf, text).map_err(|source| io_error(&conf, source))?;
        std::fs::rename(&scratch, self.data_dir()).map_err(|source| io_error(&scratch, source))
    }

    fn is_running(&self) -> bool {
        // `pg_ctl status` exits 0 when a live postmaster owns the data directory.
        self.run(
            "pg_ctl",
            &[
                "status".as_ref(),
                "-D".as_ref(),
                self.data_dir().as_os_str(),
            ],
        )
        .is_ok_and(|output| output.status.success())
    }

    fn start_server(&self) -> Result<(), ClusterError> {
        let log = self.dir.join("postgres.log");
        let output = self.run(
            "pg_ctl",
            &[
                "start".as_ref(),
                "-D".as_ref(),
                self.data_dir().as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "-s".as_ref(),
            ],
        )?;
        if output.status.success() {
            return Ok(());
        }
        let mut detail = String::from_utf8_lossy(&output.stderr).trim().to_string();
        if let Some(tail) = log_tail(&log) {
            detail.push_str(&format!(
                "; the server log {} ends with: {tail}",
                log.display()
            ));
        }
        Err(ClusterError::Program {
            program: "pg_ctl start",
            dir: self.dir.clone(),
            detail,
        })
    }

    fn stop_server(&self) {
        let result = self.run(
            "pg_ctl",
            &[
                "stop".as_ref(),
                "-D".as_ref(),
                self.data_dir().as_os_str(),
                "-m".as_ref(),
                "fast".as_ref(),
                "-w".as_ref(),
                "-s".as_ref(),
            ],
        );
        match result {
            Ok(output) if output.status.success() => {
                tracing::info!(dir = %self.dir.display(), "stopped the managed PostgreSQL");
            }
            Ok(output) => tracing::warn!(
                dir = %self.dir.display(),
                stderr = %String::from_utf8_lossy(&output.stderr).trim(),
                "could not stop the managed PostgreSQL"
            ),
            Err(error) => tracing::warn!(%error, "could not stop the managed PostgreSQL"),
        }
    }

    /// Runs one server program, as the unprivileged server user when treeex is root.
    fn run(
        &self,
        program: &'static str,
        args: &[&std::ffi::OsStr],
    ) -> Result<Output, ClusterError> {
        let mut command = Command::new(self.bin_dir.join(program));
        command
            .args(args)
            .current_dir(&self.dir)
            .env_remove("PGDATA")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(user) = &self.server_user {
            // std drops root's supplementary groups when it changes the uid, so the server holds
            // only its own user's rights.
            command.uid(user.uid.as_raw()).gid(user.gid.as_raw());
        }
        command.output().map_err(|source| ClusterError::Program {
            program,
            dir: self.dir.clone(),
            detail: format!(
                "cannot run {}: {source}",
                self.bin_dir.join(program).display()
            ),
        })
    }

    fn check(&self, program: &'static str, output: &Output) -> Result<(), ClusterError> {
        if output.status.success() {
            return Ok(());
        }
        Err(ClusterError::Program {
            program,
            dir: self.dir.clone(),
            detail: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

impl Drop for ManagedCluster {
    fn drop(&mut self) {
        // Exclusive only when no other treeex process holds its shared lock: we are the last.
        if self.users_lock.try_lock().is_ok() {
            self.stop_server();
            let _ = self.users_lock.unlock();
        }
    }
}

/// The server binaries this machine offers: `configured` (`[database] postgres_bin_dir`) when
/// it holds them, and nothing else then; unset, searched as [`find_bin_dir`] says, with this
/// process's `PATH` and `pg_config`.
pub fn locate_bin_dir(configured: Option<&Path>) -> Option<PathBuf> {
    match configured {
        Some(dir) => has_server_programs(dir).then(|| dir.to_path_buf()),
        None => find_bin_dir(
            std::env::var_os("PATH").as_deref(),
            pg_config_bindir().as_deref(),
            Path::new("/usr/lib/postgresql"),
        ),
    }
}

/// Finds a directory holding `initdb`, `pg_ctl` and `postgres`: on `path_var` first, then the
/// directory `pg_config --bindir` named, then the newest `<lib_root>/<version>/bin`.
pub fn find_bin_dir(
    path_var: Option<&std::ffi::OsStr>,
    pg_config_bindir: Option<&Path>,
    lib_root: &Path,
) -> Option<PathBuf> {
    let on_path = path_var
        .into_iter()
        .flat_map(std::env::split_paths)
        .find(|dir| has_server_programs(dir));
    if on_path.is_some() {
        return on_path;
    }
    if let Some(dir) = pg_config_bindir.filter(|dir| has_server_programs(dir)) {
        return Some(dir.to_path_buf());
    }
    let mut versions: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(lib_root)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version = name
                .split('.')
                .map(str::parse)
                .collect::<Result<Vec<u32>, _>>()
                .ok()?;
            let bin = entry.path().join("bin");
            has_server_programs(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn has_server_programs(dir: &Path) -> bool {
    SERVER_PROGRAMS.iter().all(|program| {
        std::fs::metadata(dir.join(program))
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    })
}

fn pg_config_bindir() -> Option<PathBuf> {
    let output = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let dir = String::from_utf8(output.stdout).ok()?;
    let dir = dir.trim();
    (output.status.success() && !dir.is_empty()).then(|| PathBuf::from(dir))
}

/// The unprivileged user the server runs as when treeex is root; None when treeex is not root.
fn server_user() -> Result<Option<ServerUser>, ClusterError> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    for name in ["postgres", "nobody"] {
        if let Ok(Some(user)) = User::from_name(name) {
            return Ok(Some(ServerUser {
                name: name.to_string(),
                uid: user.uid,
                gid: user.gid,
            }));
        }
    }
    Err(ClusterError::NoServerUser)
}

/// Creates the cluster directory (mode 700), gives it to the server user, and checks that user
/// can reach it through every parent.
fn prepare_dir(dir: &Path, server_user: Option<&ServerUser>) -> Result<(), ClusterError> {
    std::fs::create_dir_all(dir).map_err(|source| io_error(dir, source))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|source| io_error(dir, source))?;
    let Some(user) = server_user else {
        return Ok(());
    };
    if let Some(blocked) = dir.ancestors().skip(1).find(|parent| {
        std::fs::metadata(parent).is_ok_and(|meta| !searchable_by(&meta, user.uid, user.gid))
    }) {
        return Err(ClusterError::Unreachable {
            user: user.name.clone(),
            blocked: blocked.to_path_buf(),
        });
    }
    std::os::unix::fs::chown(dir, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
        .map_err(|source| io_error(dir, source))?;
    // The lock files and log may have been made by an earlier root-owned run.
    for entry in ["users.lock", "start.lock", "postgres.log"] {
        let path = dir.join(entry);
        if path.exists() {
            std::os::unix::fs::chown(&path, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                .map_err(|source| io_error(&path, source))?;
        }
    }
    Ok(())
}

fn searchable_by(meta: &std::fs::Metadata, uid: Uid, gid: Gid) -> bool {
    let mode = meta.mode();
    if meta.uid() == uid.as_raw() {
        mode & 0o100 != 0
    } else if meta.gid() == gid.as_raw() {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

fn open_lock(path: &Path) -> Result<File, ClusterError> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|source| io_error(path, source))
}

fn absolute(dir: &Path) -> Result<PathBuf, ClusterError> {
    std::path::absolute(dir).map_err(|source| io_error(dir, source))
}

fn io_error(path: &Path, source: std::io::Error) -> ClusterError {
    ClusterError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The last lines of the server log, to explain a failed start.
fn log_tail(log: &Path) -> Option<String> {
    let mut text = String::new();
    File::open(log).ok()?.read_to_string(&mut text).ok()?;
    let lines: Vec<&str> = text.lines().rev().take(3).collect();
    (!lines.is_empty()).then(|| lines.into_iter().rev().collect::<Vec<_>>().join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_install(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        for program in SERVER_PROGRAMS {
            let path = dir.join(program);
            std::fs::write(&path, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    #[test]
    fn finds_nothing_without_binaries() {
        let empty = tempfile::tempdir().unwrap();
        let path = std::env::join_paths([empty.path()]).unwrap();
        assert_eq!(find_bin_dir(Some(&path), None, empty.path()), None);
    }

    #[test]
    fn prefers_path_then_pg_config_then_the_newest_version() {
        let root = tempfile::tempdir().unwrap();
        let on_path = root.path().join("path-bin");
        let pg_config = root.path().join("pg-config-bin");
        let lib = root.path().join("lib");
        fake_install(&lib.join("9.6/bin"));
        fake_install(&lib.join("15/bin"));
        fake_install(&lib.join("13/bin"));
        assert_eq!(find_bin_dir(None, None, &lib), Some(lib.join("15/bin")));

        fake_install(&pg_config);
        assert_eq!(
            find_bin_dir(None, Some(&pg_config), &lib),
            Some(pg_config.clone())
        );

        fake_install(&on_path);
        let path = std::env::join_paths([root.path().join("nothing"), on_path.clone()]).unwrap();
        assert_eq!(
            find_bin_dir(Some(&path), Some(&pg_config), &lib),
            Some(on_path)
        );
    }

    #[test]
    fn a_directory_missing_one_program_does_not_count() {
        let root = tempfile::tempdir().unwrap();
        fake_install(root.path());
        std::fs::remove_file(root.path().join("postgres")).unwrap();
        assert!(!has_server_programs(root.path()));
    }
}
