//! The managed local PostgreSQL, as users meet it: no `[database] url`, and treeex runs its own
//! server. Each test has a cluster directory of its own.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::{empty_home, ok, run, treeex_command};
use sqlx::Connection;
use treeex::store::cluster::{ClusterOptions, ManagedCluster};

fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// A directory the server user can reach (tempdirs are made 700): for the cluster's parent.
fn reachable_tempdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn config_with_cluster(home: &Path, cluster: &Path, extra: &str) -> PathBuf {
    let config = home.join("treeex.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nmanaged_dir = \"{}\"\n{extra}[user]\nemail = \"ana@example.com\"\n",
            cluster.display()
        ),
    )
    .unwrap();
    config
}

fn postmaster_pid(cluster: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(cluster.join("data/postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
}

fn process_uid(pid: u32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn server_user_uid() -> u32 {
    if !is_root() {
        return nix::unistd::Uid::effective().as_raw();
    }
    ["postgres", "nobody"]
        .iter()
        .find_map(|name| nix::unistd::User::from_name(name).ok().flatten())
        .expect("a postgres or nobody user")
        .uid
        .as_raw()
}

async fn select_one(cluster: &ManagedCluster, database: &str) -> i32 {
    let mut conn = sqlx::PgConnection::connect_with(&cluster.connect_options(database))
        .await
        .unwrap();
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    one
}

#[test]
fn first_use_creates_the_cluster_and_later_commands_reuse_it() {
    let home = empty_home();
    let parent = reachable_tempdir();
    let cluster = parent.path().join("pg");
    let config = config_with_cluster(home.path(), &cluster, "");

    let created = ok(treeex_command(home.path())
        .arg("--config")
        .arg(&config)
        .args(["workspace", "create", "acme", "--name", "Acme"]));
    assert!(created.stdout.contains("api key: tx_"), "{created:?}");
    assert!(cluster.join("data/PG_VERSION").exists());
    let data = std::fs::metadata(cluster.join("data")).unwrap();
    assert_eq!(
        data.uid(),
        server_user_uid(),
        "the cluster belongs to the server's user"
    );
    assert_eq!(data.mode() & 0o777, 0o700);
    // The last treeex process to let go of the cluster stopped it.
    assert_eq!(postmaster_pid(&cluster), None);

    let listed = ok(treeex_command(home.path())
        .arg("--config")
        .arg(&config)
        .args(["workspace", "list", "--json"]))
    .json();
    assert_eq!(listed[0]["slug"], "acme");
    // The server listens on the socket in the cluster directory only.
    let conf = std::fs::read_to_string(cluster.join("data/postgresql.conf")).unwrap();
    assert!(conf.contains("listen_addresses = ''"));
    assert!(
        !conf.contains("fsync = off"),
        "a user's cluster keeps its durability"
    );
}

#[tokio::test]
async fn a_running_cluster_is_shared_and_stopped_by_its_last_user() {
    let home = empty_home();
    let parent = reachable_tempdir();
    let dir = parent.path().join("pg");
    let options = ClusterOptions {
        dir: dir.clone(),
        bin_dir: None,
        throwaway: true,
    };
    let ours = tokio::task::spawn_blocking(move || ManagedCluster::start(&options).unwrap())
        .await
        .unwrap();
    let pid = postmaster_pid(&dir).expect("the server runs");
    assert_eq!(
        process_uid(pid),
        server_user_uid(),
        "the server never runs as root"
    );

    // Another treeex process joins the running server and leaves it running for us.
    let config = config_with_cluster(home.path(), &dir, "");
    ok(treeex_command(home.path())
        .arg("--config")
        .arg(&config)
        .args(["workspace", "create", "acme", "--name", "Acme"]));
    assert_eq!(
        postmaster_pid(&dir),
        Some(pid),
        "the same server, still running"
    );
    assert_eq!(select_one(&ours, "treeex").await, 1);

    // We are the last user now: letting go stops it.
    tokio::task::spawn_blocking(move || drop(ours))
        .await
        .unwrap();
    assert_eq!(postmaster_pid(&dir), None);
}

#[tokio::test]
async fn a_stale_pid_file_after_a_crash_is_recovered() {
    let parent = reachable_tempdir();
    let dir = parent.path().join("pg");
    let options = ClusterOptions {
        dir: dir.clone(),
        bin_dir: None,
        throwaway: true,
    };
    let first = options.clone();
    tokio::task::spawn_blocking(move || drop(ManagedCluster::start(&first).unwrap()))
        .await
        .unwrap();
    assert_eq!(postmaster_pid(&dir), None);

    // What a crashed server leaves behind: a pid file naming a process that is gone.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = gone.id();
    gone.wait().unwrap();
    let pid_file = dir.join("data/postmaster.pid");
    std::fs::write(
        &pid_file,
        format!(
            "{dead_pid}\n{}\n1700000000\n5432\n{}\n\n  5432001         0\nready   \n",
            dir.join("data").display(),
            dir.display()
        ),
    )
    .unwrap();
    std::os::unix::fs::chown(&pid_file, Some(server_user_uid()), None).unwrap();

    let second = options.clone();
    let cluster = tokio::task::spawn_blocking(move || ManagedCluster::start(&second).unwrap())
        .await
        .unwrap();
    assert_ne!(postmaster_pid(&dir), Some(dead_pid));
    assert_eq!(select_one(&cluster, "postgres").await, 1);
    tokio::task::spawn_blocking(move || drop(cluster))
        .await
        .unwrap();
}

#[test]
fn missing_server_binaries_say_how_to_install_them() {
    let home = empty_home();
    let parent = reachable_tempdir();
    let empty_bin = parent.path().join("bin");
    std::fs::create_dir(&empty_bin).unwrap();
    let config = config_with_cluster(
        home.path(),
        &parent.path().join("pg"),
        &format!("postgres_bin_dir = \"{}\"\n", empty_bin.display()),
    );
    let failed = run(treeex_command(home.path())
        .arg("--config")
        .arg(&config)
        .args(["workspace", "list"]));
    assert_eq!(failed.code, 1, "{failed:?}");
    assert!(
        failed
            .stderr
            .starts_with("error: cannot start the managed PostgreSQL"),
        "{failed:?}"
    );
    assert!(
        failed.stderr.contains("apt-get install postgresql"),
        "{failed:?}"
    );
    assert!(failed.stderr.contains("[database] url"), "{failed:?}");
    assert!(
        !parent.path().join("pg/data").exists(),
        "nothing half-made is left"
    );
}

#[test]
fn a_cluster_the_server_user_cannot_reach_is_refused_with_the_way_out() {
    // A home of mode 700, like root's: the unprivileged server user cannot enter it.
    let home = empty_home();
    let cluster = home.path().join("pg");
    let config = config_with_cluster(home.path(), &cluster, "");
    let result = run(treeex_command(home.path())
        .arg("--config")
        .arg(&config)
        .args(["workspace", "list"]));
    if is_root() {
        assert_eq!(result.code, 1, "{result:?}");
        assert!(result.stderr.contains("cannot enter"), "{result:?}");
        assert!(
            result.stderr.contains(&home.path().display().to_string()),
            "{result:?}"
        );
        assert!(
            result.stderr.contains("[database] managed_dir"),
            "{result:?}"
        );
    } else {
        // Not root: the server runs as this user, who owns the home.
        assert_eq!(result.code, 0, "{result:?}");
    }
}

#[test]
fn as_root_the_default_cluster_lives_outside_the_home() {
    let data_dir = Path::new("/home/someone/.local/share/treeex");
    let dir = treeex::store::cluster::default_dir(data_dir);
    if is_root() {
        assert_eq!(dir, Path::new("/var/lib/treeex/postgres"));
    } else {
        assert_eq!(dir, data_dir.join("postgres"));
    }
}
