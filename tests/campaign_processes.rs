//! Campaigns across real `treeex serve` processes sharing one database, sending to the Cloud API
//! simulator (run in the test, without a throughput limit of its own, so that only treeex's
//! pacing holds the number's cap): two processes run one campaign with each contact messaged
//! once and the cap held; a process killed with SIGKILL mid-campaign is taken over by a new one,
//! and no contact is messaged twice or forgotten.
//!
//! The two tests run one at a time: each times its sends, and two at once would share the
//! machine's cores.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Run, TestDb};
use serde_json::Value;
use treeex::app::campaigns::{self, Definition};
use treeex::cloud_api::graph::GraphClient;
use treeex::domain::campaign::Audience;
use treeex::simulator::{BusinessNumber, RetryPolicy, Simulator, SimulatorConfig};
use uuid::Uuid;

const NUMBER: &str = "106540352242922";
const WABA: &str = "102290129340398";
const SECRET: &str = "campaign-processes-secret";
/// How long any one wait may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(60);

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A `treeex serve` child, stopped with SIGTERM when the test ends unless it was killed.
struct Serve {
    child: Child,
    ended: bool,
}

impl Serve {
    /// Starts it and waits for its `listening on` line.
    fn start(mut command: Command) -> Serve {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let serve = Serve {
            child,
            ended: false,
        };
        loop {
            let line = lines
                .next()
                .expect("treeex serve ended before it listened")
                .unwrap();
            if line.contains("listening on") {
                // Keep reading in the background so the child never blocks on a full pipe.
                std::thread::spawn(move || for _ in lines {});
                return serve;
            }
        }
    }

    fn signal(&mut self, signal: nix::sys::signal::Signal) {
        if self.ended {
            return;
        }
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, signal);
        let _ = self.child.wait();
        self.ended = true;
    }

    /// SIGKILL: no goodbye, no lease given back, requests in flight cut off.
    fn kill(&mut self) {
        self.signal(nix::sys::signal::Signal::SIGKILL);
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.signal(nix::sys::signal::Signal::SIGTERM);
    }
}

/// A workspace whose number has the cap `mps`, `contacts` opted-in contacts, one DRAFT campaign
/// to all of them, the simulator posting its webhooks to `port`, and a configuration for the
/// processes.
struct Setup {
    db: TestDb,
    sim: Simulator,
    home: tempfile::TempDir,
    config: PathBuf,
    /// The listener port the simulator posts its webhooks to.
    port: u16,
    campaign: Uuid,
    wa_ids: Vec<String>,
    http: reqwest::Client,
}

impl Setup {
    async fn new(contacts: usize, mps: i32) -> Setup {
        treeex::install_tls_provider();
        let db = TestDb::new().await;
        let workspace = common::workspace_with_number(
            &db.db,
            common::Tenant {
                name: "Acme",
                owner: "owner@example.com",
                owner_name: None,
                number: NUMBER,
                waba: WABA,
                token: "process-token",
                mps,
            },
        )
        .await;
        let port = common::free_port();
        let sim = Simulator::start(SimulatorConfig {
            webhook_url: Some(format!("http://127.0.0.1:{port}/webhook")),
            app_secret: SECRET.into(),
            mps: 0,
            delays: (Duration::from_millis(1), Duration::from_millis(5)),
            numbers: vec![BusinessNumber {
                phone_number_id: NUMBER.into(),
                display_phone_number: "15550100000".into(),
                waba_id: WABA.into(),
            }],
            // Webhooks to a listener that is down are retried quickly until one is up again.
            retry: RetryPolicy {
                first_backoff: Duration::from_millis(20),
                max_backoff: Duration::from_millis(250),
                give_up_after: Duration::from_secs(120),
                timeout: Duration::from_secs(10),
            },
            ..SimulatorConfig::default()
        })
        .await
        .unwrap();
        let graph = GraphClient::new(&sim.base_url(), "v23.0", Duration::from_secs(10)).unwrap();
        treeex::app::templates::sync(&db.db, &graph, workspace, None)
            .await
            .unwrap();

        let mut csv = String::from("phone,name,opted_in\n");
        let wa_ids: Vec<String> = (0..contacts).map(|n| format!("3519800{n:05}")).collect();
        for (n, wa_id) in wa_ids.iter().enumerate() {
            csv.push_str(&format!("{wa_id},Customer {n},yes\n"));
        }
        let report = treeex::app::contact_import::import(&db.db, workspace, csv.as_bytes())
            .await
            .unwrap();
        assert_eq!(report.imported, contacts, "{report:?}");
        let campaign = campaigns::create(
            &db.db,
            &Definition {
                workspace,
                name: "spread".into(),
                phone_number_id: NUMBER.into(),
                template: "order_update".into(),
                language: "en_US".into(),
                audience: Audience::default(),
                parameters: vec!["{name}".into(), "#S-1".into()],
                at: None,
                created_by: None,
            },
        )
        .await
        .unwrap()
        .campaign
        .id;

        let home = common::empty_home();
        let config = home.path().join("treeex.toml");
        std::fs::write(
            &config,
            format!(
                "[whatsapp]\napp_secret = \"{SECRET}\"\ngraph_base_url = \"{}\"\n\
                 [outbox]\nrequest_timeout_secs = 10\n[logging]\nlevel = \"warn\"\n",
                sim.base_url()
            ),
        )
        .unwrap();
        Setup {
            db,
            sim,
            home,
            config,
            port,
            campaign,
            wa_ids,
            http: reqwest::Client::new(),
        }
    }

    fn treeex(&self) -> Command {
        let mut command = self.db.treeex(self.home.path());
        command.arg("--config").arg(&self.config);
        command
    }

    /// `treeex serve` listening on `port` (0: any).
    async fn serve(&self, port: u16) -> Serve {
        let mut command = self.treeex();
        command.args(["serve", "--listen", &format!("127.0.0.1:{port}")]);
        tokio::task::spawn_blocking(move || Serve::start(command))
            .await
            .unwrap()
    }

    /// A `treeex campaign …` command on the campaign, with `--json`; it must succeed.
    async fn campaign_command(&self, verb: &str) -> Value {
        let mut command = self.treeex();
        command.args(["campaign", verb, &self.campaign.to_string(), "--json"]);
        let run: Run = tokio::task::spawn_blocking(move || common::run(&mut command))
            .await
            .unwrap();
        assert_eq!(run.code, 0, "{run:?}");
        run.json()
    }

    async fn status(&self) -> String {
        sqlx::query_scalar("SELECT status::text FROM campaigns WHERE id = $1")
            .bind(self.campaign)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    async fn sim_json(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.sim.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// How many messages the simulator accepted for each recipient.
    async fn sim_recipients(&self) -> BTreeMap<String, usize> {
        let messages = self.sim_json("/_sim/messages").await;
        let mut counts = BTreeMap::new();
        for message in messages.as_array().expect("an array") {
            let to = message["to"].as_str().expect("`to`").to_string();
            *counts.entry(to).or_insert(0) += 1;
        }
        counts
    }

    async fn sim_count(&self) -> usize {
        self.sim_json("/_sim/messages")
            .await
            .as_array()
            .expect("an array")
            .len()
    }

    /// Each recipient: its status, and the state of its message's outbox row if it has one.
    async fn recipients(&self) -> BTreeMap<String, (String, Option<Uuid>, Option<String>)> {
        let rows: Vec<(String, String, Option<Uuid>, Option<String>)> = sqlx::query_as(
            "SELECT k.wa_id, cm.status::text, cm.message_id, o.state::text \
             FROM campaign_messages cm JOIN contacts k ON k.id = cm.contact_id \
             LEFT JOIN outbox o ON o.message_id = cm.message_id \
             WHERE cm.campaign_id = $1",
        )
        .bind(self.campaign)
        .fetch_all(self.db.pool())
        .await
        .unwrap();
        rows.into_iter()
            .map(|(wa_id, status, message, state)| (wa_id, (status, message, state)))
            .collect()
    }

    /// The counters and the same numbers counted from the recipient rows, in one statement:
    /// (sent, delivered, read, failed, skipped) each.
    async fn counters_and_rows(&self) -> ([i64; 5], [i64; 5]) {
        let row: (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT c.sent_count::int8, c.delivered_count::int8, c.read_count::int8, \
                    c.failed_count::int8, c.skipped_count::int8, \
                    count(cm.id) FILTER (WHERE cm.status IN ('sent', 'delivered', 'read')), \
                    count(cm.id) FILTER (WHERE cm.status IN ('delivered', 'read')), \
                    count(cm.id) FILTER (WHERE cm.status = 'read'), \
                    count(cm.id) FILTER (WHERE cm.status = 'failed'), \
                    count(cm.id) FILTER (WHERE cm.status = 'skipped') \
             FROM campaigns c LEFT JOIN campaign_messages cm ON cm.campaign_id = c.id \
             WHERE c.id = $1 GROUP BY c.id",
        )
        .bind(self.campaign)
        .fetch_one(self.db.pool())
        .await
        .unwrap();
        (
            [row.0, row.1, row.2, row.3, row.4],
            [row.5, row.6, row.7, row.8, row.9],
        )
    }

    /// Waits until the campaign is COMPLETED; on the way, `watch` sees every poll.
    async fn until_completed(&self, mut watch: impl AsyncFnMut()) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            watch().await;
            let status = self.status().await;
            if status == "COMPLETED" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the campaign is still {status} after {PATIENCE:?}, {} of {} sent",
                self.sim_count().await,
                self.wa_ids.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_send_one_campaign_once_per_contact_within_the_rate_cap() {
    let _one_at_a_time = SERIAL.lock().await;
    const CONTACTS: usize = 200;
    const CAP: i32 = 40;
    let setup = Setup::new(CONTACTS, CAP).await;
    let _first = setup.serve(setup.port).await;
    let _second = setup.serve(0).await;

    let started = setup.campaign_command("start").await;
    assert_eq!(started["status"], "RUNNING", "{started}");
    assert_eq!(started["total_contacts"], CONTACTS, "{started}");
    // Which processes' workers claimed the campaign's sends (for the log: one at a time sends
    // for the number, and either may be that one).
    let mut claimers = BTreeSet::new();
    setup
        .until_completed(async || {
            let now: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT split_part(claimed_by, '-', 1) FROM outbox \
                 WHERE claimed_by IS NOT NULL",
            )
            .fetch_all(setup.db.pool())
            .await
            .unwrap();
            claimers.extend(now);
        })
        .await;
    eprintln!("outbox claims seen from processes {claimers:?}");

    let shown = setup.campaign_command("show").await;
    assert_eq!(shown["status"], "COMPLETED", "{shown}");
    assert_eq!(shown["sent_count"], CONTACTS, "{shown}");
    assert_eq!(shown["failed_count"], 0, "{shown}");
    assert_eq!(shown["skipped_count"], 0, "{shown}");

    let sent = setup.sim_recipients().await;
    let twice: Vec<_> = sent.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "messaged more than once: {twice:?}");
    assert_eq!(
        sent.keys().collect::<BTreeSet<_>>(),
        setup.wa_ids.iter().collect::<BTreeSet<_>>(),
        "every contact messaged"
    );
    let stats = setup.sim_json("/_sim/stats").await;
    let number = &stats["phone_numbers"][NUMBER];
    assert_eq!(number["accepted"], CONTACTS, "{stats}");
    let busiest = number["max_per_second"].as_u64().expect("max_per_second");
    eprintln!("the busiest second held {busiest} sends, the cap is {CAP}");
    assert!(
        busiest <= CAP as u64,
        "{busiest} sends within one second, the number's cap is {CAP}: {stats}"
    );
    let (counters, rows) = setup.counters_and_rows().await;
    assert_eq!(
        counters, rows,
        "counters (left) against recipient rows (right)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serve_killed_mid_campaign_is_taken_over_and_no_contact_is_messaged_twice_or_forgotten() {
    let _one_at_a_time = SERIAL.lock().await;
    const CONTACTS: usize = 200;
    const CAP: i32 = 40;
    let setup = Setup::new(CONTACTS, CAP).await;
    let mut first = setup.serve(setup.port).await;
    let started = setup.campaign_command("start").await;
    assert_eq!(started["status"], "RUNNING", "{started}");

    let deadline = Instant::now() + PATIENCE;
    while setup.sim_count().await < CONTACTS / 4 {
        assert!(Instant::now() < deadline, "the first process never sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Kill it, if it can be caught in the act, while a request is leaving: that send's outcome
    // is unknown to treeex.
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        let leaving: i64 =
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE state = 'sending'")
                .fetch_one(setup.db.pool())
                .await
                .unwrap();
        if leaving > 0 {
            break;
        }
    }
    first.kill();
    let at_kill = setup.sim_count().await;
    assert!(
        at_kill < CONTACTS,
        "the kill came after the last send ({at_kill})"
    );
    let left: Vec<(String, i64)> =
        sqlx::query_as("SELECT state::text, count(*) FROM outbox GROUP BY state ORDER BY state")
            .fetch_all(setup.db.pool())
            .await
            .unwrap();
    let leaving: BTreeSet<Uuid> =
        sqlx::query_scalar("SELECT message_id FROM outbox WHERE state = 'sending'")
            .fetch_all(setup.db.pool())
            .await
            .unwrap()
            .into_iter()
            .collect();
    eprintln!("killed after {at_kill} sends; the outbox held {left:?}");

    // The dead process's outbox claims would lapse after their 60 s lease; age them instead of
    // waiting. (Its campaign lease is left to lapse on its own.)
    sqlx::query(
        "UPDATE outbox SET claim_expires_at = now() - interval '1 second' \
         WHERE state IN ('claimed', 'sending')",
    )
    .execute(setup.db.pool())
    .await
    .unwrap();
    // The new process takes over the sending. The listener address Meta posts to stays down
    // for now, so a send that was leaving when the first process died stays unknown to treeex
    // while the campaign finishes: it must not be sent again.
    let _second = setup.serve(0).await;
    setup.until_completed(async || {}).await;

    let sent = setup.sim_recipients().await;
    let twice: Vec<_> = sent.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "messaged more than once: {twice:?}");
    let recipients = setup.recipients().await;
    assert_eq!(recipients.len(), CONTACTS);
    // None forgotten: every recipient's message was written and left, or is a send of unknown
    // outcome (pending, its outbox row ambiguous), and only a send that was leaving at the kill
    // can be one.
    for (wa_id, (status, message, state)) in &recipients {
        let message = message.unwrap_or_else(|| panic!("{wa_id} was never sent: {status}"));
        match (status.as_str(), state.as_deref()) {
            ("sent" | "delivered" | "read", None) => {
                assert!(
                    sent.contains_key(wa_id),
                    "{wa_id} is {status}, Meta never got it"
                )
            }
            ("pending", Some("ambiguous")) => assert!(
                leaving.contains(&message),
                "{wa_id}'s send is unknown and was not leaving at the kill"
            ),
            other => panic!("{wa_id} is {other:?} in a COMPLETED campaign"),
        }
    }
    let unknown = recipients
        .values()
        .filter(|(status, ..)| status == "pending")
        .count();
    eprintln!("{unknown} send(s) of unknown outcome at completion");

    // The listener is back: each unknown send that reached Meta is reconciled by its status
    // webhooks; one that never arrived stays unknown.
    let _listener = setup.serve(setup.port).await;
    let deadline = Instant::now() + PATIENCE;
    let recipients = loop {
        let recipients = setup.recipients().await;
        let unsettled: Vec<(&String, &String)> = recipients
            .iter()
            .filter(|(wa_id, (status, ..))| {
                sent.contains_key(*wa_id) && !["delivered", "read"].contains(&status.as_str())
            })
            .map(|(wa_id, (status, ..))| (wa_id, status))
            .collect();
        if unsettled.is_empty() {
            break recipients;
        }
        assert!(
            Instant::now() < deadline,
            "Meta's statuses never reached these recipients: {unsettled:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let still_unknown: Vec<&String> = recipients
        .iter()
        .filter(|(wa_id, _)| !sent.contains_key(*wa_id))
        .map(|(wa_id, _)| wa_id)
        .collect();
    for wa_id in &still_unknown {
        let (status, _, state) = &recipients[*wa_id];
        assert_eq!(
            (status.as_str(), state.as_deref()),
            ("pending", Some("ambiguous"))
        );
    }
    eprintln!(
        "{} reconciled, {} never reached Meta",
        unknown - still_unknown.len(),
        still_unknown.len()
    );
    assert_eq!(sent.len() + still_unknown.len(), CONTACTS);
    assert_eq!(setup.sim_recipients().await, sent, "nothing was sent again");

    let shown = setup.campaign_command("show").await;
    assert_eq!(shown["status"], "COMPLETED", "{shown}");
    assert_eq!(shown["sent_count"], sent.len(), "{shown}");
    assert_eq!(shown["failed_count"], 0, "{shown}");
    let (counters, rows) = setup.counters_and_rows().await;
    assert_eq!(
        counters, rows,
        "counters (left) against recipient rows (right)"
    );
}
