//! Webhook ingest throughput and latency, end to end, against the physical limit of the database.
//!
//! One run starts a PostgreSQL cluster with treeex's own `store::cluster` in a fresh temporary
//! directory (or uses the server `DATABASE_URL` names, in a database of its own that it drops at
//! the end), migrates a new database, creates a workspace with one phone number, and starts the
//! real webhook listener in-process on a loopback port. Then it measures:
//!
//! - **raw INSERT**: single-row autocommit `INSERT`s into a scratch table from [`CLIENTS`]
//!   connections for [`RAW_SECONDS`] seconds: how many commits per second this server can take,
//!   the ceiling any ingest is compared with;
//! - **(a) single messages**: signed bodies of one inbound text message each (distinct wamids,
//!   spread over [`CUSTOMERS`] customers), posted by [`CLIENTS`] concurrent tasks;
//! - **(b) batched statuses**: signed bodies of [`STATUSES_PER_BODY`] statuses each, `delivered`
//!   then `read`, for [`OUTBOUND`] outbound messages inserted beforehand in one statement.
//!
//! Each scenario runs a short warm-up, then a fixed number of bodies. Every answer must be 200,
//! and after each scenario the database must hold exactly what was sent (rows, statuses, no kept
//! failures, no parked statuses, every archived body applied); otherwise the run fails instead of
//! timing failures. Latency is client-side, per request; percentiles are nearest-rank over all
//! samples. The table at the end gives events/s (messages or statuses applied, not requests),
//! requests/s, p50/p99, and events/s as a share of the raw INSERT rate, against the target:
//! ingest at least [`TARGET_SHARE`] of the raw rate with a p99 of at most [`TARGET_P99_MS`] ms.
//!
//! Run it with `cargo bench --bench ingest`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::task::JoinSet;
use treeex::cloud_api::signature;
use treeex::domain::{Slug, WorkspaceId};
use treeex::store::cluster::{ClusterOptions, ManagedCluster};
use treeex::store::{Db, phones, quote_ident, workspaces};
use uuid::Uuid;

/// Concurrent clients: HTTP tasks in the scenarios, connections in the raw INSERT run.
const CLIENTS: usize = 16;
/// The listener's connection pool.
const POOL_CONNECTIONS: u32 = 20;
const SECRET: &str = "bench-secret";
const PHONE_NUMBER_ID: &str = "100200300400500";
const WABA_ID: &str = "102290129340398";
/// Unix seconds of the first webhook event.
const BASE_TIME: i64 = 1_760_000_000;

const RAW_SECONDS: u64 = 5;

/// Scenario (a): bodies of one message each.
const WARMUP_MESSAGES: usize = 300;
const MESSAGES: usize = 10_000;
const CUSTOMERS: usize = 500;

/// Scenario (b): outbound messages whose statuses come in batches.
const OUTBOUND: usize = 40_000;
const WARMUP_OUTBOUND: usize = 1_000;
const STATUSES_PER_BODY: usize = 100;
const OUTBOUND_CONTACTS: usize = 1_000;

const TARGET_SHARE: f64 = 0.5;
const TARGET_P99_MS: f64 = 50.0;

fn main() -> Result<()> {
    let server = Server::start()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(run(&server));
    drop(runtime);
    // Stops the managed server (a blocking `pg_ctl stop`) outside the runtime, then removes it.
    drop(server);
    let report = result?;
    report.print();
    Ok(())
}

/// Everything between a running server and the report.
async fn run(server: &Server) -> Result<Report> {
    let database = format!("treeex_bench_{}", Uuid::new_v4().simple());
    server.create_database(&database).await?;
    let measured = measure_all(server, &database).await;
    server.drop_database(&database).await?;
    measured
}

async fn measure_all(server: &Server, database: &str) -> Result<Report> {
    let pool = PgPoolOptions::new()
        .max_connections(POOL_CONNECTIONS)
        .connect_with(server.options(database))
        .await
        .context("connecting to the benchmark database")?;
    let db = Db::from_pool(pool.clone());
    db.migrate().await?;
    let (workspace, phone_number) = tenant(&db).await?;

    let raw = raw_inserts(&pool).await?;
    let listener = RunningListener::start(db).await?;
    let bench = Bench::new(listener.url.clone(), pool.clone());
    let scenarios = async {
        let messages = single_messages(&bench).await?;
        let statuses = batched_statuses(&bench, workspace, phone_number).await?;
        anyhow::Ok(vec![messages, statuses])
    }
    .await;
    listener.stop().await?;
    pool.close().await;
    Ok(Report {
        server: server.describe(),
        raw,
        scenarios: scenarios?,
    })
}

/// Where PostgreSQL runs: a managed cluster of our own, or the server `DATABASE_URL` names.
enum Server {
    // Field order matters: the cluster stops before its directory is removed.
    Managed {
        cluster: ManagedCluster,
        _parent: tempfile::TempDir,
    },
    External(Box<PgConnectOptions>),
}

impl Server {
    fn start() -> Result<Server> {
        if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            let options = url
                .parse()
                .context("DATABASE_URL is not a PostgreSQL URL")?;
            return Ok(Server::External(Box::new(options)));
        }
        // The server runs as `postgres` when we are root: it must be able to enter the parent.
        let parent = tempfile::tempdir()?;
        std::fs::set_permissions(
            parent.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )?;
        let cluster = ManagedCluster::start(&ClusterOptions {
            dir: parent.path().join("pg"),
            bin_dir: None,
            throwaway: false,
        })
        .context("starting the managed PostgreSQL")?;
        Ok(Server::Managed {
            cluster,
            _parent: parent,
        })
    }

    fn options(&self, database: &str) -> PgConnectOptions {
        match self {
            Server::Managed { cluster, .. } => cluster.connect_options(database),
            Server::External(options) => (**options).clone().database(database),
        }
    }

    fn describe(&self) -> String {
        match self {
            Server::Managed { cluster, .. } => format!(
                "managed cluster in {} (durable: fsync and synchronous_commit on)",
                cluster.dir().display()
            ),
            Server::External(_) => "the server DATABASE_URL names".into(),
        }
    }

    async fn create_database(&self, name: &str) -> Result<()> {
        match self {
            Server::Managed { cluster, .. } => {
                treeex::store::create_database(cluster, name).await?
            }
            Server::External(_) => {
                self.admin_sql(&format!("CREATE DATABASE {}", quote_ident(name)))
                    .await?
            }
        }
        Ok(())
    }

    /// A managed cluster goes away whole; on another server, the database is dropped.
    async fn drop_database(&self, name: &str) -> Result<()> {
        match self {
            Server::Managed { .. } => Ok(()),
            Server::External(_) => {
                let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
                self.admin_sql(&sql).await
            }
        }
    }

    async fn admin_sql(&self, sql: &str) -> Result<()> {
        let mut admin = PgConnection::connect_with(&self.options("postgres")).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        Ok(())
    }
}

/// The workspace and the phone number every webhook is routed to.
async fn tenant(db: &Db) -> Result<(WorkspaceId, Uuid)> {
    let slug = Slug::parse("bench")?;
    let workspace = workspaces::create(
        db,
        workspaces::NewWorkspace {
            slug: &slug,
            name: "Bench",
            owner: None,
        },
    )
    .await?
    .workspace
    .workspace_id();
    let phone = phones::add(
        db,
        workspace,
        phones::NewPhoneNumber {
            phone_number_id: PHONE_NUMBER_ID,
            display_phone_number: "+1 555 000 1111",
            waba_id: WABA_ID,
            access_token: &SecretString::from("bench-token"),
            mps: 80,
        },
    )
    .await?;
    Ok((workspace, phone.id))
}

/// The listener serving on a loopback port until stopped.
struct RunningListener {
    url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningListener {
    async fn start(db: Db) -> Result<Self> {
        let mut config = treeex::config::Config::default();
        config.whatsapp.app_secret = Some(SecretString::from(SECRET));
        let listener = treeex::server::Listener::new(db, &config);
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/webhook", tcp.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            listener
                .serve(tcp, async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Self { url, stop, task })
    }

    async fn stop(self) -> Result<()> {
        let _ = self.stop.send(());
        self.task.await??;
        Ok(())
    }
}

/// One signed webhook body and how many events it carries.
struct Signed {
    body: Vec<u8>,
    signature: String,
    events: usize,
}

impl Signed {
    fn new(notification: &Value, events: usize) -> Self {
        let body = serde_json::to_vec(notification).expect("JSON values serialise");
        let signature = signature::sign(SECRET.as_bytes(), &body);
        Self {
            body,
            signature,
            events,
        }
    }
}

/// A `messages` change for our number, wrapped in a whole notification.
fn notification(value: Value) -> Value {
    let mut value = value;
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] = json!({
        "display_phone_number": "15550001111",
        "phone_number_id": PHONE_NUMBER_ID,
    });
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": WABA_ID, "changes": [{ "field": "messages", "value": value }] }],
    })
}

fn customer_wa_id(n: usize) -> String {
    format!("1415{:07}", n % CUSTOMERS)
}

/// The wa_id of outbound contact `n`; the same as the SQL in [`insert_outbound`] makes.
fn outbound_wa_id(n: usize) -> String {
    format!("1650{:07}", n % OUTBOUND_CONTACTS)
}

fn outbound_wamid(n: usize) -> String {
    format!("wamid.OUT.{n:06}")
}

fn unix_seconds(offset: usize) -> String {
    (BASE_TIME + offset as i64).to_string()
}

/// Inbound text message number `n`, from customer `n % CUSTOMERS`.
fn message_body(n: usize) -> Signed {
    let wa_id = customer_wa_id(n);
    let value = json!({
        "contacts": [{ "profile": { "name": format!("Customer {}", n % CUSTOMERS) }, "wa_id": wa_id }],
        "messages": [{
            "from": wa_id,
            "id": format!("wamid.IN.{n:08}"),
            "timestamp": unix_seconds(n),
            "type": "text",
            "text": { "body": "Does it come in blue?" },
        }],
    });
    Signed::new(&notification(value), 1)
}

/// One `status` for each outbound message in `range`.
fn status_body(range: std::ops::Range<usize>, status: &str, at: usize) -> Signed {
    let statuses: Vec<Value> = range
        .map(|n| {
            json!({
                "id": outbound_wamid(n),
                "status": status,
                "timestamp": unix_seconds(at),
                "recipient_id": outbound_wa_id(n),
            })
        })
        .collect();
    let events = statuses.len();
    Signed::new(&notification(json!({ "statuses": statuses })), events)
}

/// Bodies of [`STATUSES_PER_BODY`] `status` items covering the outbound messages in `range`.
fn status_bodies(range: std::ops::Range<usize>, status: &str, at: usize) -> Vec<Signed> {
    range
        .clone()
        .step_by(STATUSES_PER_BODY)
        .map(|start| {
            status_body(
                start..(start + STATUSES_PER_BODY).min(range.end),
                status,
                at,
            )
        })
        .collect()
}

/// The client side: one HTTP client posting signed bodies, and the database to check.
struct Bench {
    client: reqwest::Client,
    url: String,
    pool: PgPool,
}

impl Bench {
    fn new(url: String, pool: PgPool) -> Self {
        treeex::install_tls_provider();
        let client = reqwest::Client::builder()
            .build()
            .expect("an HTTP client without TLS settings builds");
        Self { client, url, pool }
    }

    /// Posts every body from [`CLIENTS`] concurrent tasks; each answer must be 200.
    async fn post_all(&self, name: &str, bodies: Vec<Signed>) -> Result<Measurement> {
        let events = bodies.iter().map(|b| b.events).sum();
        let bodies = Arc::new(bodies);
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = JoinSet::new();
        for _ in 0..CLIENTS {
            let (client, url) = (self.client.clone(), self.url.clone());
            let (bodies, next) = (bodies.clone(), next.clone());
            tasks.spawn(async move {
                let mut latencies = Vec::new();
                while let Some(body) = bodies.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let sent = Instant::now();
                    post(&client, &url, body).await?;
                    latencies.push(sent.elapsed());
                }
                anyhow::Ok(latencies)
            });
        }
        let latencies = join_latencies(tasks).await?;
        Ok(Measurement::new(name, events, started.elapsed(), latencies))
    }

    /// Fails the run when any check's SQL (one bigint) does not give what it expects.
    async fn expect(&self, checks: &[Check]) -> Result<()> {
        for (what, sql, expected) in checks {
            let found: i64 = sqlx::query_scalar(*sql).fetch_one(&self.pool).await?;
            ensure!(
                found == *expected as i64,
                "{what}: the database holds {found}, expected {expected} ({sql})"
            );
        }
        Ok(())
    }
}

/// What a count in the database must be: what is counted, the query, the expected count.
type Check = (&'static str, &'static str, usize);

/// What every scenario must leave: each archived body applied, nothing kept or parked.
fn clean(bodies: usize, events: usize) -> [Check; 4] {
    [
        (
            "archived bodies",
            "SELECT count(*) FROM webhook_archive WHERE outcome = 'applied'",
            bodies,
        ),
        (
            "archived events",
            "SELECT coalesce(sum(events), 0)::bigint FROM webhook_archive",
            events,
        ),
        ("kept failures", "SELECT count(*) FROM webhook_failures", 0),
        ("parked statuses", "SELECT count(*) FROM parked_statuses", 0),
    ]
}

async fn post(client: &reqwest::Client, url: &str, body: &Signed) -> Result<()> {
    let response = client
        .post(url)
        .header(signature::SIGNATURE_HEADER, &body.signature)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.body.clone())
        .send()
        .await?;
    let status = response.status();
    // Read the answer whole, so the connection is reused.
    let text = response.text().await?;
    if status != reqwest::StatusCode::OK {
        bail!("the listener answered {status}: {text}");
    }
    Ok(())
}

async fn join_latencies(mut tasks: JoinSet<Result<Vec<Duration>>>) -> Result<Vec<Duration>> {
    let mut all = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        all.extend(joined??);
    }
    Ok(all)
}

/// Scenario (a): one inbound text message per body.
async fn single_messages(bench: &Bench) -> Result<Measurement> {
    let warmup = (0..WARMUP_MESSAGES).map(message_body).collect();
    bench.post_all("warm-up", warmup).await?;
    let total = WARMUP_MESSAGES + MESSAGES;
    let bodies = (WARMUP_MESSAGES..total).map(message_body).collect();
    let measured = bench
        .post_all("(a) single messages, 1/body", bodies)
        .await?;

    let checks = [
        (
            "inbound messages",
            "SELECT count(*) FROM messages WHERE direction = 'INBOUND'",
            total,
        ),
        (
            "unread messages",
            "SELECT coalesce(sum(unread_count), 0)::bigint FROM conversations",
            total,
        ),
        ("customers", "SELECT count(*) FROM contacts", CUSTOMERS),
    ];
    bench.expect(&checks).await?;
    bench.expect(&clean(total, total)).await?;
    Ok(measured)
}

/// Scenario (b): `delivered` then `read` for every outbound message, in batched bodies.
async fn batched_statuses(
    bench: &Bench,
    workspace: WorkspaceId,
    phone_number: Uuid,
) -> Result<Measurement> {
    let outbound = OUTBOUND + WARMUP_OUTBOUND;
    insert_outbound(&bench.pool, workspace, phone_number, outbound).await?;
    // The warm-up delivers the messages past the measured ones.
    let warmup = status_bodies(OUTBOUND..outbound, "delivered", 100);
    let warmup_bodies = warmup.len();
    bench.post_all("warm-up", warmup).await?;
    let mut bodies = status_bodies(0..OUTBOUND, "delivered", 100);
    bodies.extend(status_bodies(0..OUTBOUND, "read", 200));
    let measured_bodies = bodies.len();
    let name = format!("(b) statuses, {STATUSES_PER_BODY}/body");
    let measured = bench.post_all(&name, bodies).await?;

    let checks = [
        (
            "read outbound messages",
            "SELECT count(*) FROM messages WHERE direction = 'OUTBOUND' AND status = 'read' \
             AND delivered_at IS NOT NULL AND read_at IS NOT NULL",
            OUTBOUND,
        ),
        (
            "delivered outbound messages",
            "SELECT count(*) FROM messages WHERE direction = 'OUTBOUND' AND status = 'delivered'",
            WARMUP_OUTBOUND,
        ),
    ];
    bench.expect(&checks).await?;
    let inbound = WARMUP_MESSAGES + MESSAGES;
    let bodies = inbound + warmup_bodies + measured_bodies;
    let events = inbound + WARMUP_OUTBOUND + 2 * OUTBOUND;
    bench.expect(&clean(bodies, events)).await?;
    Ok(measured)
}

/// `count` OUTBOUND messages with status `sent` and wamids [`outbound_wamid`], spread over
/// [`OUTBOUND_CONTACTS`] contacts with one conversation each, in one statement.
async fn insert_outbound(
    pool: &PgPool,
    workspace: WorkspaceId,
    phone_number: Uuid,
    count: usize,
) -> Result<()> {
    let inserted = sqlx::query(
        "WITH new_contacts AS ( \
             INSERT INTO contacts (id, workspace_id, wa_id, profile_name) \
             SELECT gen_random_uuid(), $1, '1650' || lpad(n::text, 7, '0'), 'Recipient ' || n \
             FROM generate_series(0, $3 - 1) AS n \
             RETURNING id, wa_id), \
         new_conversations AS ( \
             INSERT INTO conversations (id, workspace_id, phone_number_id, contact_id) \
             SELECT gen_random_uuid(), $1, $2, id FROM new_contacts \
             RETURNING id, contact_id), \
         numbered AS ( \
             SELECT v.id, row_number() OVER (ORDER BY c.wa_id) - 1 AS n \
             FROM new_conversations v JOIN new_contacts c ON c.id = v.contact_id) \
         INSERT INTO messages (id, workspace_id, conversation_id, phone_number_id, wa_message_id, \
                               direction, type, content, status, wa_timestamp, sent_at) \
         SELECT gen_random_uuid(), $1, v.id, $2, 'wamid.OUT.' || lpad(m::text, 6, '0'), \
                'OUTBOUND', 'text', '{\"body\": \"Your order has shipped\"}', 'sent', \
                to_timestamp($5), to_timestamp($5) \
         FROM generate_series(0, $4 - 1) AS m JOIN numbered v ON v.n = m % $3",
    )
    .bind(workspace.0)
    .bind(phone_number)
    .bind(i32::try_from(OUTBOUND_CONTACTS)?)
    .bind(i32::try_from(count)?)
    .bind(BASE_TIME as f64)
    .execute(pool)
    .await?
    .rows_affected();
    ensure!(
        inserted == count as u64,
        "inserted {inserted} outbound messages, expected {count}"
    );
    // Fresh statistics, as autovacuum would give a table this size.
    sqlx::raw_sql("ANALYZE contacts, conversations, messages")
        .execute(pool)
        .await?;
    Ok(())
}

/// The ceiling: single-row autocommit INSERTs from [`CLIENTS`] connections.
async fn raw_inserts(pool: &PgPool) -> Result<Measurement> {
    sqlx::raw_sql(
        "CREATE TABLE bench_raw_inserts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
                                         payload text NOT NULL)",
    )
    .execute(pool)
    .await?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(RAW_SECONDS);
    let mut tasks = JoinSet::new();
    for _ in 0..CLIENTS {
        let pool = pool.clone();
        tasks.spawn(async move {
            let mut conn = pool.acquire().await?;
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                sqlx::query("INSERT INTO bench_raw_inserts (payload) VALUES ($1)")
                    .bind("one row, one commit")
                    .execute(&mut *conn)
                    .await?;
                latencies.push(sent.elapsed());
            }
            anyhow::Ok(latencies)
        });
    }
    let latencies = join_latencies(tasks).await?;
    let elapsed = started.elapsed();
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM bench_raw_inserts")
        .fetch_one(pool)
        .await?;
    ensure!(
        rows == latencies.len() as i64,
        "the scratch table holds {rows} rows, {} were inserted",
        latencies.len()
    );
    Ok(Measurement::new(
        "raw INSERT, 1 row/commit",
        latencies.len(),
        elapsed,
        latencies,
    ))
}

/// What one scenario did: events applied and each request's answer time, sorted.
struct Measurement {
    name: String,
    events: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Measurement {
    fn new(name: &str, events: usize, elapsed: Duration, mut latencies: Vec<Duration>) -> Self {
        latencies.sort_unstable();
        Self {
            name: name.to_string(),
            events,
            elapsed,
            latencies,
        }
    }

    fn requests(&self) -> usize {
        self.latencies.len()
    }

    fn events_per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }

    fn requests_per_second(&self) -> f64 {
        self.requests() as f64 / self.elapsed.as_secs_f64()
    }

    /// Nearest-rank percentile, in milliseconds.
    fn percentile_ms(&self, quantile: f64) -> f64 {
        let count = self.latencies.len();
        if count == 0 {
            return f64::NAN;
        }
        let rank = ((quantile * count as f64).ceil() as usize).clamp(1, count);
        self.latencies[rank - 1].as_secs_f64() * 1000.0
    }
}

struct Report {
    server: String,
    raw: Measurement,
    scenarios: Vec<Measurement>,
}

impl Report {
    fn print(&self) {
        println!();
        println!(
            "webhook ingest: {CLIENTS} concurrent clients over loopback, listener pool of {POOL_CONNECTIONS}"
        );
        println!("database: {}", self.server);
        println!(
            "target: events/s >= {:.0}% of raw INSERT rows/s, and p99 <= {TARGET_P99_MS:.0} ms",
            TARGET_SHARE * 100.0
        );
        println!();
        println!(
            "{:<30} {:>8} {:>8} {:>10} {:>10} {:>8} {:>8} {:>7}  target",
            "scenario", "events", "requests", "events/s", "req/s", "p50 ms", "p99 ms", "÷ raw",
        );
        self.print_row(&self.raw, "(reference)".into());
        for scenario in &self.scenarios {
            self.print_row(scenario, self.verdict(scenario));
        }
        println!();
        println!(
            "verified: every answer was 200, and after each scenario the database held exactly the \
             messages and statuses sent, every body archived as applied, no failure kept, no \
             status parked"
        );
    }

    fn print_row(&self, m: &Measurement, verdict: String) {
        println!(
            "{:<30} {:>8} {:>8} {:>10.0} {:>10.0} {:>8.2} {:>8.2} {:>6.0}%  {verdict}",
            m.name,
            m.events,
            m.requests(),
            m.events_per_second(),
            m.requests_per_second(),
            m.percentile_ms(0.50),
            m.percentile_ms(0.99),
            self.share(m) * 100.0,
        )
    }

    fn share(&self, m: &Measurement) -> f64 {
        m.events_per_second() / self.raw.events_per_second()
    }

    fn verdict(&self, m: &Measurement) -> String {
        let rate = self.share(m) >= TARGET_SHARE;
        let p99 = m.percentile_ms(0.99) <= TARGET_P99_MS;
        match (rate, p99) {
            (true, true) => "met".into(),
            (false, true) => "MISSED (rate)".into(),
            (true, false) => "MISSED (p99)".into(),
            (false, false) => "MISSED (rate and p99)".into(),
        }
    }
}
