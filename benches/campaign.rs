//! A campaign at full speed: [`RECIPIENTS`] opted-in contacts, the number and the simulator at
//! [`MPS`] messages a second.
//!
//! The real `treeex serve` (release build) runs as a child process: webhook listener, outbox
//! worker and campaign runner, against a fresh database on the benchmark's PostgreSQL
//! ([`common::Server`]: a managed cluster under `$CARGO_TARGET_TMPDIR/treeex-bench-campaign`
//! with durability off, or `DATABASE_URL`). The simulator runs in this process with Meta's
//! behaviour at that cap (130429 above it), batching up to 100 status updates per webhook POST
//! as Meta does under load (spec §4: up to 1000), and posting them to that listener. The
//! campaign (spring_sale with `{name}`) is created and started through `app::campaigns`, as the
//! CLI does; the bench then waits for COMPLETED.
//!
//! It prints: the achieved send rate (messages accepted by the simulator over the span from the
//! first to the last accepted one) against the cap and the target (≥ 95% of it), the highest
//! count in any one second (the simulator's sliding second, `/_sim/stats`; must never exceed
//! the cap), messages refused by the simulator, the time from start to COMPLETED, the CPU time
//! (user + system, from `/proc/<pid>/stat`) `treeex serve` used per 1,000 messages, and whether
//! every contact got exactly one message and the counters equal the recipient rows.
//!
//! Run it with `cargo bench --bench campaign` (about two minutes on 2 cores after the build).
//! It exits 0 when everything was measured, whatever the verdicts, and non-zero only when
//! something broke.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use common::Server;
use secrecy::SecretString;
use serde_json::Value;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection};
use treeex::app::campaigns::{self, Definition};
use treeex::cloud_api::graph::GraphClient;
use treeex::domain::campaign::Audience;
use treeex::domain::{CampaignStatus, Email, Move, Slug, Tag, WorkspaceId};
use treeex::simulator::{BusinessNumber, Faults, Simulator, SimulatorConfig};
use treeex::store::{Db, campaigns as stored, phones, quote_ident, workspaces};

const RECIPIENTS: i64 = 100_000;
const MPS: u32 = 1000;
const TARGET_SHARE: f64 = 0.95;
const NUMBER: &str = "109000000000001";
const WABA: &str = "209000000000001";
const SECRET: &str = "bench-app-secret";
const DATABASE: &str = "treeex_bench_campaign";
const GIVE_UP: Duration = Duration::from_secs(900);

fn main() -> Result<()> {
    let server = Server::start("treeex-bench-campaign")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(measure(&server));
    drop(runtime);
    drop(server);
    result?.print();
    Ok(())
}

struct Report {
    server: String,
    seeded: Duration,
    accepted: u64,
    rejected: Value,
    span: Duration,
    max_per_second: u64,
    to_completed: Duration,
    cpu: Duration,
    distinct: usize,
    counters: String,
    rows: String,
}

impl Report {
    fn print(&self) {
        let rate = (self.accepted.saturating_sub(1)) as f64 / self.span.as_secs_f64().max(1e-9);
        let share = rate / f64::from(MPS);
        let verdict = |ok: bool| if ok { "✔" } else { "✘" };
        println!("campaign benchmark: {RECIPIENTS} recipients, number and simulator at {MPS}/s");
        println!("  server                 {}", self.server);
        println!(
            "  seeding                {:.1} s",
            self.seeded.as_secs_f64()
        );
        println!(
            "  achieved rate          {rate:.1}/s = {:.1}% of the cap (target ≥ {:.0}%) {}",
            share * 100.0,
            TARGET_SHARE * 100.0,
            verdict(share >= TARGET_SHARE)
        );
        println!(
            "  busiest second         {} (cap {MPS}) {}",
            self.max_per_second,
            verdict(self.max_per_second <= u64::from(MPS))
        );
        println!("  refused by Meta        {}", self.rejected);
        println!(
            "  start → COMPLETED      {:.1} s (first → last send {:.1} s)",
            self.to_completed.as_secs_f64(),
            self.span.as_secs_f64()
        );
        println!(
            "  treeex CPU             {:.1} s = {:.0} ms per 1,000 messages",
            self.cpu.as_secs_f64(),
            self.cpu.as_secs_f64() * 1e6 / self.accepted.max(1) as f64
        );
        println!(
            "  messages / contacts    {} accepted, {} distinct recipients {}",
            self.accepted,
            self.distinct,
            verdict(self.accepted as usize == self.distinct && self.distinct as i64 == RECIPIENTS)
        );
        println!(
            "  counters / rows        {} / {} {}",
            self.counters,
            self.rows,
            verdict(self.counters == self.rows)
        );
    }
}

async fn measure(server: &Server) -> Result<Report> {
    let seeding = Instant::now();
    fresh_database(server).await?;
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(server.options(DATABASE))
        .await?;
    let db = Db::from_pool(pool);
    db.migrate().await?;
    let workspace = seed(&db).await?;
    let seeded = seeding.elapsed();

    // The listener's port is chosen first so that the simulator can post to it.
    let listen = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let sim = Simulator::start(SimulatorConfig {
        webhook_url: Some(format!("http://{listen}/webhook")),
        app_secret: SECRET.into(),
        mps: MPS,
        faults: Faults {
            batch: 100,
            ..Faults::default()
        },
        numbers: vec![BusinessNumber {
            phone_number_id: NUMBER.into(),
            display_phone_number: "15550100000".into(),
            waba_id: WABA.into(),
        }],
        ..SimulatorConfig::default()
    })
    .await?;
    let graph = GraphClient::new(&sim.base_url(), "v23.0", Duration::from_secs(10))?;
    treeex::app::templates::sync(&db, &graph, workspace, None)
        .await
        .map_err(|e| anyhow!("template sync: {e}"))?;

    let home = tempfile::tempdir()?;
    let mut serve = spawn_serve(&home, &server.url(DATABASE), listen, &sim.base_url())?;
    let outcome = run_campaign(&db, workspace, &sim, serve.id()).await;
    let _ = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status();
    let _ = serve.wait();
    sim.shutdown().await;
    let (accepted, rejected, span, max_per_second, to_completed, cpu, distinct) = outcome?;
    let (counters, rows) = funnel(&db).await?;
    db.close().await;
    Ok(Report {
        server: server.describe(),
        seeded,
        accepted,
        rejected,
        span,
        max_per_second,
        to_completed,
        cpu,
        distinct,
        counters,
        rows,
    })
}

type Outcome = (u64, Value, Duration, u64, Duration, Duration, usize);

async fn run_campaign(
    db: &Db,
    workspace: WorkspaceId,
    sim: &Simulator,
    pid: u32,
) -> Result<Outcome> {
    let created = campaigns::create(
        db,
        &Definition {
            workspace,
            name: "Bench sale".into(),
            phone_number_id: NUMBER.into(),
            template: "spring_sale".into(),
            language: "en_US".into(),
            audience: Audience::new(&[Tag::parse("bench")?], &[], &[]),
            parameters: vec!["{name}".into()],
            at: None,
            created_by: None,
        },
    )
    .await?;
    if created.audience_size != RECIPIENTS {
        bail!(
            "the audience holds {} contacts, not {RECIPIENTS}",
            created.audience_size
        );
    }
    let id = created.campaign.id;
    let cpu_before = cpu_time(pid)?;
    let started = Instant::now();
    campaigns::control(db, workspace, id, None, Move::Start).await?;
    loop {
        let campaign = stored::get(db, workspace, id).await?;
        if campaign.status == CampaignStatus::Completed {
            break;
        }
        if started.elapsed() > GIVE_UP {
            bail!(
                "not COMPLETED after {} s: {} sent, {} failed",
                GIVE_UP.as_secs(),
                campaign.sent_count,
                campaign.failed_count
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let to_completed = started.elapsed();
    let cpu = cpu_time(pid)? - cpu_before;

    let http = reqwest::Client::new();
    let stats: Value = http
        .get(format!("{}/_sim/stats", sim.base_url()))
        .send()
        .await?
        .json()
        .await?;
    let number = &stats["phone_numbers"][NUMBER];
    let accepted = number["accepted"].as_u64().unwrap_or(0);
    let max_per_second = number["max_per_second"].as_u64().unwrap_or(0);
    let messages: Vec<Value> = http
        .get(format!("{}/_sim/messages", sim.base_url()))
        .send()
        .await?
        .json()
        .await?;
    let times: Vec<chrono::DateTime<chrono::Utc>> = messages
        .iter()
        .filter_map(|m| m["time"].as_str())
        .filter_map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.to_utc())
        .collect();
    let span = match (times.iter().min(), times.iter().max()) {
        (Some(first), Some(last)) => (*last - *first).to_std().unwrap_or_default(),
        _ => Duration::ZERO,
    };
    let distinct: HashSet<&str> = messages.iter().filter_map(|m| m["to"].as_str()).collect();
    Ok((
        accepted,
        number["rejected"].clone(),
        span,
        max_per_second,
        to_completed,
        cpu,
        distinct.len(),
    ))
}

/// The campaign's counters and the same figures counted from its recipient rows.
async fn funnel(db: &Db) -> Result<(String, String)> {
    let counters: (i32, i32, i32, i32, i32, i32) = sqlx::query_as(
        "SELECT total_contacts, sent_count, delivered_count, read_count, failed_count, \
                skipped_count FROM campaigns",
    )
    .fetch_one(db.pool())
    .await?;
    let rows: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE status IN ('sent', 'delivered', 'read')), \
                count(*) FILTER (WHERE status IN ('delivered', 'read')), \
                count(*) FILTER (WHERE status = 'read'), \
                count(*) FILTER (WHERE status = 'failed'), \
                count(*) FILTER (WHERE status = 'skipped') FROM campaign_messages",
    )
    .fetch_one(db.pool())
    .await?;
    let show = |v: [i64; 6]| {
        format!(
            "total {} sent {} delivered {} read {} failed {} skipped {}",
            v[0], v[1], v[2], v[3], v[4], v[5]
        )
    };
    Ok((
        show([
            counters.0.into(),
            counters.1.into(),
            counters.2.into(),
            counters.3.into(),
            counters.4.into(),
            counters.5.into(),
        ]),
        show([rows.0, rows.1, rows.2, rows.3, rows.4, rows.5]),
    ))
}

async fn fresh_database(server: &Server) -> Result<()> {
    let mut admin = PgConnection::connect_with(&server.options("postgres")).await?;
    let name = quote_ident(DATABASE);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok(())
}

/// The workspace, its number at [`MPS`] and [`RECIPIENTS`] opted-in contacts tagged `bench`.
async fn seed(db: &Db) -> Result<WorkspaceId> {
    let workspace = workspaces::create(
        db,
        workspaces::NewWorkspace {
            slug: &Slug::parse("bench")?,
            name: "Bench",
            owner: Some((&Email::parse("owner@example.com")?, Some("Owner"))),
        },
    )
    .await?
    .workspace
    .workspace_id();
    phones::add(
        db,
        workspace,
        phones::NewPhoneNumber {
            phone_number_id: NUMBER,
            display_phone_number: "+1 555 010 0000",
            waba_id: WABA,
            access_token: &SecretString::from("bench-token"),
            mps: MPS as i32,
        },
    )
    .await?;
    sqlx::query(
        "INSERT INTO contacts (id, workspace_id, wa_id, name, opted_in, opted_in_at, tags) \
         SELECT gen_random_uuid(), $1, (15550000000 + i)::text, 'Customer ' || i, true, now(), \
                '{bench}' \
         FROM generate_series(1, $2) AS i",
    )
    .bind(workspace.0)
    .bind(RECIPIENTS)
    .execute(db.pool())
    .await?;
    sqlx::query("VACUUM (ANALYZE) contacts")
        .execute(db.pool())
        .await?;
    Ok(workspace)
}

fn spawn_serve(
    home: &tempfile::TempDir,
    url: &str,
    listen: std::net::SocketAddr,
    graph: &str,
) -> Result<Child> {
    let config = home.path().join("treeex.toml");
    let quoted = |s: &str| toml::Value::from(s).to_string();
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = {}\n\n[server]\nlisten = {}\n\n[whatsapp]\napp_secret = {}\n\
             graph_base_url = {}\n\n[logging]\nlevel = \"warn\"\ndir = {}\n",
            quoted(url),
            quoted(&listen.to_string()),
            quoted(SECRET),
            quoted(graph),
            quoted(&home.path().join("logs").display().to_string()),
        ),
    )?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_treeex"))
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env("HOME", home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting treeex serve")?;
    let stdout = child.stdout.take().context("treeex serve has no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    match lines.next() {
        Some(Ok(line)) if line.contains("listening on") => {}
        other => bail!("treeex serve did not start: {other:?}"),
    }
    // Keep reading, so that its log lines never fill the pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok(child)
}

/// User + system CPU time of a process.
fn cpu_time(pid: u32) -> Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("an unreadable /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> Result<u64> {
        fields
            .get(i)
            .context("a short /proc stat")?
            .parse::<u64>()
            .context("a /proc stat field")
    };
    // utime and stime are fields 14 and 15 of the line: indices 11 and 12 after the name.
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_secs_f64(total as f64 / USER_HZ))
}

/// The unit of `/proc/<pid>/stat` times: Linux reports them in USER_HZ, 100 on every platform.
const USER_HZ: f64 = 100.0;
