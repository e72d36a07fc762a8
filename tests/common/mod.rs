//! The test harness: a real PostgreSQL for every test.
//!
//! Once per test process it starts the managed cluster (the product's own `store::cluster`, in a
//! throwaway directory under the system temp dir, shared by every test binary and run), or uses
//! the server `DATABASE_URL` names. It builds a template database with the real migrations once
//! per migration set, and gives each test a fresh database copied from it (fast: no migrations
//! per test), dropped again when the test ends, even when it fails.

#![allow(dead_code)]

pub mod pty;
pub mod svg;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection};
use treeex::store::cluster::{ClusterOptions, ManagedCluster};
use treeex::store::{Db, MIGRATOR, quote_ident};

enum Server {
    Managed(Arc<ManagedCluster>),
    External(Box<PgConnectOptions>),
}

impl Server {
    fn options(&self, database: &str) -> PgConnectOptions {
        match self {
            Server::Managed(cluster) => cluster.connect_options(database),
            Server::External(base) => (**base).clone().database(database),
        }
    }

    fn url(&self, database: &str) -> String {
        match self {
            Server::Managed(cluster) => cluster.url(database),
            Server::External(_) => {
                let url = std::env::var("DATABASE_URL").expect("DATABASE_URL was set");
                replace_database(&url, database)
            }
        }
    }
}

struct Shared {
    server: Server,
    template: String,
}

static SHARED: OnceLock<Shared> = OnceLock::new();

/// The directory of the tests' managed cluster.
pub fn test_cluster_dir() -> PathBuf {
    std::env::temp_dir().join("treeex-test-pg")
}

fn shared() -> &'static Shared {
    SHARED.get_or_init(|| {
        // Called from inside a test's runtime: set up on a thread with a runtime of its own.
        std::thread::spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let server = match std::env::var("DATABASE_URL") {
                    Ok(url) if !url.is_empty() => Server::External(Box::new(
                        url.parse().expect("DATABASE_URL is a PostgreSQL URL"),
                    )),
                    _ => {
                        let cluster = ManagedCluster::start(&ClusterOptions {
                            dir: test_cluster_dir(),
                            bin_dir: None,
                            throwaway: true,
                        })
                        .unwrap_or_else(|e| panic!("cannot start the test cluster: {e:?}"));
                        Server::Managed(Arc::new(cluster))
                    }
                };
                let template = ensure_template(&server).await;
                Shared { server, template }
            })
        })
        .join()
        .expect("test database setup")
    })
}

/// The template database for the current migrations, named by their checksums so that a
/// changed migration gets a new template.
async fn ensure_template(server: &Server) -> String {
    let mut hash: u64 = 0xcbf29ce484222325;
    for migration in MIGRATOR.iter() {
        for byte in migration
            .checksum
            .iter()
            .chain(migration.description.as_bytes())
        {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(0x100000001b3);
        }
    }
    let template = format!("treeex_tpl_{:016x}", hash);
    let mut admin = PgConnection::connect_with(&server.options("postgres"))
        .await
        .expect("connect to the test server");
    // Several test processes may start at once: one builds, the others wait.
    sqlx::query("SELECT pg_advisory_lock(7041981)")
        .execute(&mut admin)
        .await
        .unwrap();
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&template)
            .fetch_one(&mut admin)
            .await
            .unwrap();
    if !exists {
        let building = format!("{template}_building");
        execute(
            &mut admin,
            &format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&building)
            ),
        )
        .await;
        execute(
            &mut admin,
            &format!("CREATE DATABASE {}", quote_ident(&building)),
        )
        .await;
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(server.options(&building))
            .await
            .unwrap();
        MIGRATOR.run(&pool).await.expect("migrations apply");
        pool.close().await;
        execute(
            &mut admin,
            &format!(
                "ALTER DATABASE {} RENAME TO {}",
                quote_ident(&building),
                quote_ident(&template)
            ),
        )
        .await;
    }
    sqlx::query("SELECT pg_advisory_unlock(7041981)")
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    template
}

async fn execute(conn: &mut PgConnection, sql: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// A fresh, migrated database for one test, dropped when the value is.
pub struct TestDb {
    pub db: Db,
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn new() -> Self {
        let shared = shared();
        let name = format!("treeex_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect_with(&shared.server.options("postgres"))
            .await
            .unwrap();
        execute(
            &mut admin,
            &format!(
                "CREATE DATABASE {} TEMPLATE {}",
                quote_ident(&name),
                quote_ident(&shared.template)
            ),
        )
        .await;
        admin.close().await.unwrap();
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .connect_with(shared.server.options(&name))
            .await
            .unwrap();
        TestDb {
            db: Db::from_pool(pool),
            url: shared.server.url(&name),
            name,
        }
    }

    pub fn pool(&self) -> &sqlx::PgPool {
        self.db.pool()
    }

    /// The real `treeex` binary, configured for this database and an empty home, so nothing
    /// of the machine's own configuration leaks in.
    pub fn treeex(&self, home: &Path) -> Command {
        let mut command = treeex_command(home);
        command.env("DATABASE_URL", &self.url);
        command
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let options = shared().server.options("postgres");
        // Drop runs inside the test's runtime: do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut admin) = PgConnection::connect_with(&options).await {
                    let sql = format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        quote_ident(&name)
                    );
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut admin)
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// The `treeex` binary with a clean environment: `HOME` is `home`, and none of the variables
/// treeex reads are inherited.
pub fn treeex_command(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_treeex"));
    command
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("TREEEX_CONFIG")
        .env_remove("DATABASE_URL")
        .env_remove("TREEEX_APP_SECRET")
        .env_remove("TREEEX_VERIFY_TOKEN")
        .env_remove("TREEEX_LOG");
    command
}

/// A local port that was free a moment ago: bound, read and let go. For an address a test must
/// name before something listens there, or one where nothing does.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A new empty home directory of mode 700, like root's.
pub fn empty_home() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    home
}

/// What a finished command printed, and its exit status.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", self.stdout))
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn run(command: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("run treeex");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Runs the binary and insists on exit 0.
pub fn ok(command: &mut Command) -> Run {
    let run = run(command);
    assert_eq!(run.code, 0, "{run:?}");
    run
}

/// Who owns a test workspace and the one business number it connects.
pub struct Tenant<'a> {
    pub name: &'a str,
    pub owner: &'a str,
    pub owner_name: Option<&'a str>,
    /// Meta's phone number id and WABA id.
    pub number: &'a str,
    pub waba: &'a str,
    pub token: &'a str,
    pub mps: i32,
}

/// The workspace `acme` with its OWNER and one business number; its id.
pub async fn workspace_with_number(db: &Db, tenant: Tenant<'_>) -> treeex::domain::WorkspaceId {
    use treeex::domain::{Email, Slug};
    use treeex::store::{phones, workspaces};
    let workspace = workspaces::create(
        db,
        workspaces::NewWorkspace {
            slug: &Slug::parse("acme").unwrap(),
            name: tenant.name,
            owner: Some((&Email::parse(tenant.owner).unwrap(), tenant.owner_name)),
        },
    )
    .await
    .unwrap()
    .workspace
    .workspace_id();
    phones::add(
        db,
        workspace,
        phones::NewPhoneNumber {
            phone_number_id: tenant.number,
            display_phone_number: "+1 555 010 0000",
            waba_id: tenant.waba,
            access_token: &secrecy::SecretString::from(tenant.token),
            mps: tenant.mps,
        },
    )
    .await
    .unwrap();
    workspace
}

/// The webhook listener on port 0, taking webhooks signed with `app_secret` until `stop`; the
/// URL to post them to.
pub async fn start_listener(
    db: &Db,
    app_secret: &str,
    stop: &tokio_util::sync::CancellationToken,
) -> String {
    let mut config = treeex::config::Config::default();
    config.whatsapp.app_secret = Some(secrecy::SecretString::from(app_secret));
    let listener = treeex::server::Listener::new(db.clone(), &config);
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhook", tcp.local_addr().unwrap());
    tokio::spawn(listener.serve(tcp, stop.clone().cancelled_owned()));
    url
}

/// A GET answered with JSON (the simulator's control endpoints, the listener's).
pub async fn get_json(http: &reqwest::Client, url: &str) -> serde_json::Value {
    http.get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}
