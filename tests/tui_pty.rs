//! The inbox end to end, as an agent sees it: the real `treeex` binary in a pseudo-terminal
//! (its screen read back with a terminal emulator), on a real PostgreSQL, talking to the Cloud
//! API simulator, whose webhooks go to the TUI's embedded listener.
//!
//! The scenario: a customer writes, the conversation appears, the agent opens it, replies, and
//! the simulator receives the reply; then the window is closed, the free-form reply is refused
//! on screen, and a template goes out instead. Two shorter tests pin what the screen must show
//! of the inbox's own state: an empty inbox once loaded, and the outbox count once a reply left.
//! The supervisor's: a running campaign's dashboard follows its sends live, and its owner
//! pauses and resumes it from there until it completes; the team view shows the team.
//!
//! Every step waits for what the screen (or the simulator) must show, with a deadline, and a
//! failure prints the whole screen and the end of the TUI's log. `TUI_PTY_SHOW=1` (with
//! `--nocapture`) prints the screen each wait was satisfied with.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::pty::{DEADLINE, POLL, Screen, Tui, wait_for, wait_for_within};
use common::{TestDb, empty_home, free_port};
use serde_json::Value;
use treeex::app::campaigns::{self, Definition};
use treeex::cloud_api::graph::GraphClient;
use treeex::domain::campaign::Audience;
use treeex::domain::{Move, Tag, WaId, WorkspaceId};
use treeex::simulator::{BusinessNumber, RetryPolicy, Simulator, SimulatorConfig};
use treeex::store::events;
use uuid::Uuid;

const NUMBER: &str = "106540352242922";
const WABA: &str = "102290129340398";
const SECRET: &str = "tui-pty-secret";
const CUSTOMER: &str = "14155550123";
const OWNER: &str = "agent@example.com";
const WORKSPACE_NAME: &str = "Acme Shoes";

const QUESTION: &str = "Does it come in blue?";
const REPLY: &str = "It does! Blue ships next week";

const ENTER: &str = "\r";
const ESC: &str = "\x1b";
const TAB: &str = "\t";
const DOWN: &str = "\x1b[B";

fn write_config(dir: &Path, database_url: &str, listen: &str, graph: &str) -> PathBuf {
    let path = dir.join("treeex.toml");
    let text = format!(
        r#"[user]
email = "{OWNER}"

[database]
url = "{database_url}"
max_connections = 5

[server]
listen = "{listen}"

[whatsapp]
app_secret = "{SECRET}"
graph_base_url = "{graph}"

[media]
store = "file://{media}"

[logging]
level = "info"
dir = "{logs}"

[tui]
mark_read_after_ms = 300
bell = false

[outbox]
request_timeout_secs = 10
"#,
        media = dir.join("media").display(),
        logs = dir.join("logs").display(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// What the simulator received for the customer, in order.
async fn sim_messages(http: &reqwest::Client, graph: &str) -> Vec<Value> {
    let answer = http
        .get(format!("{graph}/_sim/messages"))
        .query(&[("to", CUSTOMER)])
        .send()
        .await
        .expect("ask the simulator what it received");
    assert!(answer.status().is_success(), "{answer:?}");
    let messages: Value = answer.json().await.unwrap();
    messages.as_array().cloned().unwrap_or_default()
}

/// Polls the simulator until it received a message matching `predicate`.
async fn wait_for_sim(
    http: &reqwest::Client,
    graph: &str,
    screen: &Screen,
    predicate: impl Fn(&[Value]) -> bool,
    what: &str,
) -> Vec<Value> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let messages = sim_messages(http, graph).await;
        if predicate(&messages) {
            return messages;
        }
        if Instant::now() >= deadline {
            panic!(
                "timed out after {DEADLINE:?} waiting for the simulator to receive {what}; it has \
                 {}\n{}",
                serde_json::to_string_pretty(&messages).unwrap(),
                screen.report()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

fn is_text(message: &Value, body: &str) -> bool {
    message["type"] == "text" && message["body"]["text"]["body"] == body
}

/// The template's name and its parameters' texts, in order, if `message` is a template.
fn template_call(message: &Value) -> Option<(String, Vec<String>)> {
    if message["type"] != "template" {
        return None;
    }
    let template = &message["body"]["template"];
    let name = template["name"].as_str()?.to_string();
    let params = template["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["parameters"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p["text"].as_str().map(str::to_string))
        .collect();
    Some((name, params))
}

/// The name of the template the picker has selected (`▸ NAME (en_US, …)`), if it shows one.
fn selected_template(contents: &str) -> Option<String> {
    contents.lines().find_map(|line| {
        let rest = &line[line.find("▸ ")? + "▸ ".len()..];
        let (name, after) = rest.split_once(' ')?;
        after.starts_with("(en_US").then(|| name.to_string())
    })
}

/// The tick on the thread's line just above the line that shows `body` (the message's time,
/// sender and status), if the thread shows one.
fn tick_above(contents: &str, body: &str) -> Option<&'static str> {
    let lines: Vec<&str> = contents.lines().collect();
    lines.windows(2).find_map(|pair| {
        if !pair[1].contains(body) {
            return None;
        }
        let meta = pair[0].trim_end_matches(['│', ' ']);
        ["✓✓", "✓", "⏳", "✗"]
            .into_iter()
            .find(|tick| meta.ends_with(tick))
    })
}

/// The outbox count the top bar shows (`⇡N`).
fn outbox_count(contents: &str) -> Option<String> {
    let top = contents.lines().next()?;
    let after = &top[top.rfind('⇡')? + '⇡'.len_utf8()..];
    Some(after.trim().to_string())
}

/// A workspace with its owner (the agent at the keyboard) and one number, its templates
/// synced, the simulator posting webhooks to the port the TUI's listener takes, and the TUI.
///
/// Fields drop in this order: the TUI stops before its database and its home go.
struct World {
    tui: Tui,
    screen: Screen,
    sim: Simulator,
    http: reqwest::Client,
    graph_url: String,
    workspace: WorkspaceId,
    db: TestDb,
    _home: tempfile::TempDir,
}

impl World {
    async fn start() -> World {
        World::start_sending_at(80).await
    }

    /// A world whose number sends at most `mps` messages a second.
    async fn start_sending_at(mps: i32) -> World {
        let db = TestDb::new().await;
        let home = empty_home();
        let workspace = common::workspace_with_number(
            &db.db,
            common::Tenant {
                name: WORKSPACE_NAME,
                owner: OWNER,
                owner_name: Some("Maria Agent"),
                number: NUMBER,
                waba: WABA,
                token: "EAAG-test-token",
                mps,
            },
        )
        .await;

        // The simulator posts its webhooks to the port the TUI's listener will take.
        let listen = format!("127.0.0.1:{}", free_port());
        let sim = Simulator::start(SimulatorConfig {
            webhook_url: Some(format!("http://{listen}/webhook")),
            app_secret: SECRET.into(),
            delays: (Duration::from_millis(10), Duration::from_millis(50)),
            numbers: vec![BusinessNumber {
                phone_number_id: NUMBER.into(),
                display_phone_number: "15550100000".into(),
                waba_id: WABA.into(),
            }],
            // A webhook posted before the TUI listens is retried soon, not in a second.
            retry: RetryPolicy {
                first_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_millis(500),
                ..RetryPolicy::default()
            },
            ..SimulatorConfig::default()
        })
        .await
        .unwrap();
        let graph_url = sim.base_url();
        let graph = GraphClient::new(&graph_url, "v23.0", Duration::from_secs(10)).unwrap();
        let synced = treeex::app::templates::sync(&db.db, &graph, workspace, None)
            .await
            .unwrap();
        assert_eq!(synced[0].waba_id, WABA);
        let order_update: Vec<String> = sqlx::query_scalar(
            "SELECT status::text FROM templates WHERE waba_id = $1 AND name = 'order_update'",
        )
        .bind(WABA)
        .fetch_all(db.pool())
        .await
        .unwrap();
        assert_eq!(order_update, ["APPROVED"], "order_update after the sync");

        let config = write_config(home.path(), &db.url, &listen, &graph_url);
        let tui = Tui::start(&config, home.path(), home.path().join("logs"));
        let screen = tui.screen.clone();
        World {
            db,
            workspace,
            sim,
            graph_url,
            http: reqwest::Client::new(),
            tui,
            screen,
            _home: home,
        }
    }

    /// The inbox of the only workspace is on screen.
    async fn inbox_shown(&self) {
        wait_for(
            &self.screen,
            |s| s.contains(WORKSPACE_NAME) && s.contains("Conversations"),
            "the inbox of the workspace",
        )
        .await;
    }

    /// The customer writes (through the simulator, which posts the signed webhook to the
    /// TUI's listener) and the conversation shows in the list, with no key pressed.
    async fn customer_writes(&self) {
        self.sim
            .inbound(NUMBER, CUSTOMER, "Ana Souza", QUESTION)
            .await
            .unwrap();
        wait_for(
            &self.screen,
            |s| s.contains("Ana Souza") && s.contains(QUESTION),
            "the customer's conversation to appear in the list",
        )
        .await;
    }

    /// Enter opens the conversation: the message in the thread pane (besides the list's
    /// preview), the window in the title.
    async fn open_conversation(&self) {
        self.tui.press(ENTER);
        wait_for(
            &self.screen,
            |s| s.matches(QUESTION).count() >= 2 && s.contains(" window "),
            "the thread to open with the message and the window in its title",
        )
        .await;
    }

    /// r, the reply, Enter: the simulator receives it as one text message, and the thread
    /// shows the read tick on it (the status webhooks came back through the listener).
    async fn reply(&self) {
        self.tui.press("r");
        self.tui.press(REPLY);
        wait_for(
            &self.screen,
            |s| s.contains(REPLY),
            "the reply typed in the composer",
        )
        .await;
        self.tui.press(ENTER);
        wait_for_sim(
            &self.http,
            &self.graph_url,
            &self.screen,
            |m| m.len() == 1 && is_text(&m[0], REPLY),
            "the reply as one text message",
        )
        .await;
        wait_for(
            &self.screen,
            |s| tick_above(s, REPLY) == Some("✓✓"),
            "the delivered/read tick ✓✓ on the reply in the thread",
        )
        .await;
    }

    /// Stops the TUI with `q` from the inbox list, and insists on a clean exit. Esc steps back
    /// from the composer and the thread (in the composer `q` is a letter); each Esc changes the
    /// bottom line (a notice goes, or the hints of the next view come), which is waited for so
    /// that the next key is never read together with the Esc as an Alt key.
    async fn quit(mut self) {
        for _ in 0..3 {
            let before = self.screen.bottom_line();
            if before.contains("j/k move") {
                break;
            }
            self.tui.press(ESC);
            wait_for(
                &self.screen,
                |_| self.screen.bottom_line() != before,
                "Esc to step back towards the inbox list",
            )
            .await;
        }
        self.tui.press("q");
        let status = self.tui.wait_exit(Duration::from_secs(10)).await;
        assert!(
            status.success(),
            "treeex exited with {status:?}\n{}",
            self.screen.report()
        );
        drop(self.tui);
        self.sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_answers_a_customer_then_sends_a_template_once_the_window_closed() {
    let started = Instant::now();
    let world = World::start().await;
    let screen = world.screen.clone();
    let tui = &world.tui;

    // 1. The inbox of the only workspace.
    world.inbox_shown().await;
    // 2. The customer writes; the conversation appears with no key pressed.
    world.customer_writes().await;
    // 3. Enter opens it.
    world.open_conversation().await;
    // 4. r, the reply, Enter: it reaches the simulator, and its read tick comes back.
    world.reply().await;

    // 5. The window closes (as if two hours passed), changed by another process: the open
    // TUI hears of it (LISTEN/NOTIFY) and shows it.
    let conversation: Uuid = sqlx::query_scalar(
        "UPDATE conversations v SET window_expires_at = now() - interval '2 hours' \
         FROM contacts c WHERE c.id = v.contact_id AND c.wa_id = $1 RETURNING v.id",
    )
    .bind(CUSTOMER)
    .fetch_one(world.db.pool())
    .await
    .unwrap();
    events::announce(&world.db.db, &[(world.workspace, conversation)]).await;
    wait_for(
        &screen,
        |s| s.contains("window closed"),
        "the thread to show the window closed",
    )
    .await;

    // 6. A free-form reply is refused on screen, and nothing leaves.
    // The composer still has the focus after the send: Esc gives it back to the thread first
    // (and clears the `queued` notice), so that `r` is the reply key, not a letter. Each Esc
    // is followed by a wait for its effect, so that the next key is never read with it as Alt.
    tui.press(ESC);
    wait_for(
        &screen,
        |_| screen.bottom_line().contains("r reply"),
        "Esc to leave the composer (the thread's hints in the bottom line)",
    )
    .await;
    tui.press("r");
    wait_for(
        &screen,
        |_| screen.bottom_line().contains("Enter send"),
        "r to focus the composer (the composer's hints in the bottom line)",
    )
    .await;
    tui.press("hello?");
    wait_for(
        &screen,
        |s| s.contains("hello?"),
        "hello? typed in the composer",
    )
    .await;
    tui.press(ENTER);
    wait_for(
        &screen,
        |_| screen.bottom_line().contains("only an approved template"),
        "the refusal of a free-form reply outside the window (in the bottom line)",
    )
    .await;
    let received = sim_messages(&world.http, &world.graph_url).await;
    assert_eq!(
        received.len(),
        1,
        "nothing may leave after the refusal: {received:#?}\n{}",
        screen.report()
    );
    let outbound: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM messages WHERE conversation_id = $1 AND direction = 'OUTBOUND'",
    )
    .bind(conversation)
    .fetch_one(world.db.pool())
    .await
    .unwrap();
    assert_eq!(
        outbound,
        1,
        "the refused reply was stored\n{}",
        screen.report()
    );

    // 7. Esc, t: the template picker; order_update with its two values goes out.
    tui.press(ESC);
    wait_for(
        &screen,
        |_| screen.bottom_line().contains("r reply"),
        "Esc to leave the composer after the refusal",
    )
    .await;
    tui.press("t");
    wait_for(
        &screen,
        |s| selected_template(s).is_some(),
        "the template picker to list the approved templates",
    )
    .await;
    let mut moves = 0;
    loop {
        let selected = selected_template(&screen.contents());
        if selected.as_deref() == Some("order_update") {
            break;
        }
        assert!(
            moves < 5,
            "Down never selected order_update\n{}",
            screen.report()
        );
        tui.press(DOWN);
        moves += 1;
        wait_for(
            &screen,
            |s| selected_template(s) != selected,
            "Down to move the template selection",
        )
        .await;
    }
    wait_for(
        &screen,
        |s| s.contains("Hi {{1}}, your order {{2}} has shipped."),
        "the preview of order_update with its two empty values",
    )
    .await;
    tui.press("Ana");
    wait_for(
        &screen,
        |s| s.contains("Hi Ana, your order {{2}} has shipped."),
        "{{1}} filled with Ana",
    )
    .await;
    tui.press(TAB);
    tui.press("#4521");
    wait_for(
        &screen,
        |s| s.contains("Hi Ana, your order #4521 has shipped."),
        "{{2}} filled with #4521",
    )
    .await;
    tui.press(ENTER);
    let received = wait_for_sim(
        &world.http,
        &world.graph_url,
        &screen,
        |m| {
            m.iter().any(|message| {
                template_call(message)
                    == Some((
                        "order_update".to_string(),
                        vec!["Ana".to_string(), "#4521".to_string()],
                    ))
            })
        },
        "order_update with Ana and #4521",
    )
    .await;
    assert_eq!(
        received.len(),
        2,
        "the reply and the template, nothing else: {received:#?}"
    );
    wait_for(
        &screen,
        |s| !s.contains("Preview:") && s.contains("[template order_update]"),
        "the picker to close and the template to show in the thread",
    )
    .await;

    // 8. q quits, cleanly.
    world.quit().await;
    eprintln!("the TUI scenario took {:?}", started.elapsed());
}

/// Once its first load is back, an empty inbox says so (and its footer stops saying
/// `loading…`) without waiting for a key or a clock tick.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_inbox_says_so_once_loaded() {
    let world = World::start().await;
    world.inbox_shown().await;
    // Shorter than the TUI's 15 s clock tick, whose redraw would hide a missing one.
    wait_for_within(
        Duration::from_secs(10),
        &world.screen,
        |s| s.contains("No conversations yet") && !s.contains("loading…"),
        "the empty inbox to finish loading and say so (no key pressed)",
    )
    .await;
    world.quit().await;
}

/// The top bar's outbox count (`⇡N`) goes back to 0 once the reply left and was read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_count_goes_back_to_zero_once_the_reply_left() {
    let world = World::start().await;
    world.inbox_shown().await;
    world.customer_writes().await;
    world.open_conversation().await;
    world.reply().await;
    let depth = treeex::store::outbox::depth(&world.db.db).await.unwrap();
    assert_eq!(depth, 0, "the outbox holds the reply that was read");
    wait_for(
        &world.screen,
        |s| outbox_count(s).as_deref() == Some("0"),
        "the top bar's outbox count back to ⇡0 (the database's outbox is empty)",
    )
    .await;
    world.quit().await;
}

/// The number after `label` at the start of a dashboard's funnel line (`│ sent  1,234  ███`).
fn funnel_count(contents: &str, label: &str) -> Option<i64> {
    contents.lines().find_map(|line| {
        let rest = line
            .trim_start_matches(['│', ' '])
            .strip_prefix(label)?
            .strip_prefix(' ')?;
        rest.split_whitespace()
            .next()?
            .replace(',', "")
            .parse()
            .ok()
    })
}

/// The dashboard's header line (`Campaigns ▸ NAME · … · STATUS …`), if it is on screen.
fn dashboard_header(contents: &str) -> Option<&str> {
    contents.lines().find(|line| line.contains("Campaigns ▸ "))
}

/// A campaign of `recipients` opted-in contacts, running from the number of `world`.
async fn running_campaign(world: &World, recipients: usize) -> Uuid {
    let promo = Tag::parse("promo").unwrap();
    for n in 0..recipients {
        treeex::store::contacts::add(
            &world.db.db,
            world.workspace,
            &treeex::store::contacts::NewContact {
                wa_id: WaId::parse(&format!("1415600{n:04}")).unwrap(),
                name: Some(format!("Customer {n}")),
                tags: vec![promo.clone()],
                opted_in: Some(true),
                custom_fields: Default::default(),
            },
        )
        .await
        .unwrap();
    }
    let created = campaigns::create(
        &world.db.db,
        &Definition {
            workspace: world.workspace,
            name: "Spring sale".into(),
            phone_number_id: NUMBER.into(),
            template: "hello_world".into(),
            language: "en_US".into(),
            audience: Audience::new(&[promo], &[], &[]),
            parameters: Vec::new(),
            at: None,
            created_by: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(created.audience_size, recipients as i64);
    let id = created.campaign.id;
    campaigns::control(&world.db.db, world.workspace, id, None, Move::Start)
        .await
        .unwrap();
    id
}

/// The supervisor opens a running campaign's dashboard (2, Enter) and watches it advance with
/// no key pressed: its sends come back through the TUI's own runner, outbox worker and
/// listener, and every change reaches the screen through LISTEN/NOTIFY. Then p pauses it, R
/// resumes it, and it completes with every recipient sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_campaign_advances_live_on_its_dashboard() {
    const RECIPIENTS: i64 = 24;
    // Two a second: the campaign runs for about twelve seconds, long enough to watch.
    let world = World::start_sending_at(2).await;
    let screen = world.screen.clone();
    let tui = &world.tui;
    world.inbox_shown().await;
    running_campaign(&world, RECIPIENTS as usize).await;

    // 1. 2: the campaign tab lists it, running.
    tui.press("2");
    wait_for(
        &screen,
        |s| {
            s.lines()
                .any(|l| l.contains("Spring sale") && l.contains("RUNNING"))
        },
        "the campaign list with Spring sale RUNNING",
    )
    .await;
    // 2. Enter: its dashboard, with the number's cap in the send rate's title.
    tui.press(ENTER);
    let shown = wait_for(
        &screen,
        |s| {
            dashboard_header(s).is_some_and(|h| h.contains("Spring sale") && h.contains("RUNNING"))
                && s.contains("(cap 2/s)")
                && funnel_count(s, "sent").is_some()
        },
        "the dashboard of the running campaign",
    )
    .await;
    let first = funnel_count(&shown, "sent").unwrap();
    assert!(
        first < RECIPIENTS,
        "the campaign finished before its dashboard opened\n{}",
        screen.report()
    );
    // 3. It advances with no key pressed.
    let advanced = wait_for(
        &screen,
        |s| funnel_count(s, "sent").is_some_and(|sent| sent > first),
        "the sent count to grow on its own",
    )
    .await;
    let before_pause = funnel_count(&advanced, "sent").unwrap();
    assert!(
        screen.bottom_line().contains("p pause"),
        "the owner is offered the pause\n{}",
        screen.report()
    );

    // 4. p pauses it (through the same control as `treeex campaign pause`).
    tui.press("p");
    wait_for(
        &screen,
        |s| dashboard_header(s).is_some_and(|h| h.contains("PAUSED")),
        "the dashboard to show the campaign PAUSED",
    )
    .await;
    let status: String =
        sqlx::query_scalar("SELECT status::text FROM campaigns WHERE name = 'Spring sale'")
            .fetch_one(world.db.pool())
            .await
            .unwrap();
    assert_eq!(status, "PAUSED");
    // 5. R resumes it; it completes with everyone sent, and the screen says so.
    tui.press("R");
    wait_for(
        &screen,
        |s| dashboard_header(s).is_some_and(|h| h.contains("RUNNING")),
        "the dashboard to show the campaign RUNNING again",
    )
    .await;
    let done = wait_for_within(
        Duration::from_secs(40),
        &screen,
        |s| {
            dashboard_header(s).is_some_and(|h| h.contains("COMPLETED"))
                && funnel_count(s, "sent") == Some(RECIPIENTS)
        },
        "the campaign to complete with every recipient sent",
    )
    .await;
    assert!(funnel_count(&done, "sent").unwrap() >= before_pause);
    assert!(
        done.contains(&format!("{RECIPIENTS} / {RECIPIENTS}")),
        "the progress says all are done\n{}",
        screen.report()
    );

    // 6. Esc back to the list; 3 shows the team (the campaign opened no conversation that
    // waits for an agent); 1 the inbox; q quits.
    tui.press(ESC);
    wait_for(
        &screen,
        |_| screen.bottom_line().contains("Enter open"),
        "Esc to go back to the campaign list",
    )
    .await;
    tui.press("3");
    wait_for(
        &screen,
        |s| s.contains("Response times") && s.contains("unattended 0") && s.contains("Maria Agent"),
        "3 to show the team view with its owner",
    )
    .await;
    tui.press("1");
    wait_for(
        &screen,
        |s| s.contains("Conversations"),
        "1 to show the inbox again",
    )
    .await;
    world.quit().await;
}
