//! The outbox end to end, against real PostgreSQL and the Cloud API simulator: messages go out
//! through the worker, statuses come back through the listener, the rules refuse before anything
//! leaves, and no message is ever sent twice or lost.

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use common::TestDb;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use treeex::app::outbox::{
    self, Content, OutboxError, OutboxWorker, Outgoing, Refusal, WorkerSettings,
};
use treeex::cloud_api::graph::GraphClient;
use treeex::domain::{WaId, WorkspaceId};
use treeex::simulator::{BusinessNumber, Simulator, SimulatorConfig};
use treeex::store::Db;
use uuid::Uuid;

const NUMBER: &str = "106540352242922";
const WABA: &str = "102290129340398";
const SECRET: &str = "outbox-test-secret";
const CUSTOMER: &str = "14155550123";

struct World {
    db: TestDb,
    workspace: WorkspaceId,
    sim: Simulator,
    graph: GraphClient,
    http: reqwest::Client,
    stop: CancellationToken,
}

impl World {
    /// A workspace with one number (`mps` its send cap), the listener, and the simulator
    /// posting its webhooks to the listener.
    async fn start(mps: i32, token: &str, configure: impl FnOnce(&mut SimulatorConfig)) -> World {
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
                token,
                mps,
            },
        )
        .await;

        let stop = CancellationToken::new();
        let webhook_url = common::start_listener(&db.db, SECRET, &stop).await;

        let mut sim_config = SimulatorConfig {
            webhook_url: Some(webhook_url),
            app_secret: SECRET.into(),
            delays: (Duration::from_millis(1), Duration::from_millis(5)),
            numbers: vec![BusinessNumber {
                phone_number_id: NUMBER.into(),
                display_phone_number: "15550100000".into(),
                waba_id: WABA.into(),
            }],
            ..SimulatorConfig::default()
        };
        configure(&mut sim_config);
        let sim = Simulator::start(sim_config).await.unwrap();
        let graph = GraphClient::new(&sim.base_url(), "v23.0", Duration::from_secs(10)).unwrap();
        World {
            db,
            workspace,
            sim,
            graph,
            http: reqwest::Client::new(),
            stop,
        }
    }

    fn db(&self) -> &Db {
        &self.db.db
    }

    fn worker(&self) -> OutboxWorker {
        OutboxWorker::new(
            self.db().clone(),
            self.graph.clone(),
            WorkerSettings {
                retry_unit: Duration::from_millis(20),
                max_attempts: 30,
                ..WorkerSettings::default()
            },
        )
    }

    /// Runs a worker until the test ends.
    fn run_worker(&self) {
        tokio::spawn(self.worker().run(self.stop.clone()));
    }

    async fn sync_templates(&self) {
        let synced = treeex::app::templates::sync(self.db(), &self.graph, self.workspace, None)
            .await
            .unwrap();
        assert_eq!(synced[0].waba_id, WABA);
    }

    /// The customer writes in (through the simulator, so both sides know the window is open).
    async fn customer_writes(&self, wa_id: &str) {
        self.sim
            .inbound(NUMBER, wa_id, "Ana Souza", "hello")
            .await
            .unwrap();
        let db = self.db.pool().clone();
        let wa_id = wa_id.to_string();
        wait_for("the customer's message to land", || {
            let db = db.clone();
            let wa_id = wa_id.clone();
            async move {
                sqlx::query_scalar::<_, bool>(
                    "SELECT EXISTS (SELECT 1 FROM conversations v JOIN contacts c ON c.id = v.contact_id \
                     WHERE c.wa_id = $1 AND v.window_expires_at > now())",
                )
                .bind(wa_id)
                .fetch_one(&db)
                .await
                .unwrap()
            }
        })
        .await;
    }

    fn outgoing(&self, to: &str, content: Content) -> Outgoing {
        Outgoing {
            workspace: self.workspace,
            phone_number_id: NUMBER.into(),
            to: WaId::parse(to).unwrap(),
            content,
            reply_to: None,
            sent_by: None,
        }
    }

    /// Queues hello_world to `count` customers, `prefix` followed by four digits.
    async fn hello_to_many(&self, prefix: &str, count: usize) -> Vec<Uuid> {
        let mut ids = Vec::new();
        for n in 0..count {
            let to = format!("{prefix}{n:04}");
            ids.push(self.send(&to, template("hello_world", &[])).await.unwrap());
        }
        ids
    }

    /// Asserts that the number's busiest second held no more than `cap` sends.
    async fn assert_cap_held(&self, sends: usize, cap: u64) {
        let stats = self.sim_json("/_sim/stats").await;
        let number = &stats["phone_numbers"][NUMBER];
        assert_eq!(number["accepted"], sends, "{stats}");
        let busiest = number["max_per_second"].as_u64().unwrap();
        assert!(
            busiest <= cap,
            "at most the number's mps in any one second: {stats}"
        );
    }

    async fn send(&self, to: &str, content: Content) -> Result<Uuid, OutboxError> {
        outbox::enqueue(self.db(), &self.outgoing(to, content))
            .await
            .map(|queued| queued.id)
    }

    async fn status(&self, message: Uuid) -> (String, Option<i32>, Option<String>) {
        sqlx::query_as("SELECT status::text, error_code, wa_message_id FROM messages WHERE id = $1")
            .bind(message)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    /// Waits until the message has reached `wanted`, or gone past it on the way to read.
    async fn wait_status(&self, message: Uuid, wanted: &str) {
        const PROGRESS: [&str; 4] = ["sent", "delivered", "read", "played"];
        let rank = |s: &str| PROGRESS.iter().position(|p| *p == s);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, ..) = self.status(message).await;
            let reached = match (rank(&status), rank(wanted)) {
                (Some(now), Some(goal)) => now >= goal,
                _ => status == wanted,
            };
            if reached {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "message {message} is {status}, never {wanted}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
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

    /// How often the simulator received each message of ours (by the id the outbox sends).
    async fn deliveries_of(&self, message: Uuid) -> usize {
        let sent = self.sim_json("/_sim/messages").await;
        sent.as_array()
            .unwrap()
            .iter()
            .filter(|m| m.to_string().contains(&message.to_string()))
            .count()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn wait_for<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn text(body: &str) -> Content {
    Content::Text {
        body: body.into(),
        preview_url: false,
    }
}

fn template(name: &str, params: &[&str]) -> Content {
    Content::Template {
        name: name.into(),
        language: "en_US".into(),
        params: params.iter().map(|p| p.to_string()).collect(),
    }
}

#[tokio::test]
async fn a_text_goes_out_and_its_statuses_carry_it_to_read() {
    let world = World::start(80, "token", |_| {}).await;
    world.run_worker();
    world.customer_writes(CUSTOMER).await;
    let message = world
        .send(CUSTOMER, text("Yes, it comes in blue."))
        .await
        .unwrap();
    world.wait_status(message, "read").await;
    let (_, _, wamid) = world.status(message).await;
    assert!(wamid.unwrap().starts_with("wamid."));
    let sent = world
        .sim_json(&format!("/_sim/messages?to={CUSTOMER}"))
        .await;
    assert_eq!(sent.as_array().unwrap().len(), 1);
    assert!(sent.to_string().contains("Yes, it comes in blue."));
}

#[tokio::test]
async fn the_outbox_depth_counts_a_workspaces_waiting_messages_only() {
    let world = World::start(80, "token", |_| {}).await;
    world.customer_writes(CUSTOMER).await;
    // No worker runs: the messages wait.
    for body in ["one", "two"] {
        world.send(CUSTOMER, text(body)).await.unwrap();
    }
    let other = WorkspaceId(uuid::Uuid::now_v7());
    assert_eq!(
        treeex::store::outbox::workspace_depth(world.db(), world.workspace)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        treeex::store::outbox::workspace_depth(world.db(), other)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn free_form_outside_the_window_is_refused_and_a_template_goes_through() {
    let world = World::start(80, "token", |_| {}).await;
    world.run_worker();
    world.sync_templates().await;
    let never = world.send(CUSTOMER, text("hi")).await.unwrap_err();
    assert!(
        matches!(never, OutboxError::Refused(Refusal::WindowNeverOpened(_))),
        "{never:?}"
    );

    world.customer_writes(CUSTOMER).await;
    sqlx::query("UPDATE conversations SET window_expires_at = now() - interval '1 hour'")
        .execute(world.db.pool())
        .await
        .unwrap();
    let closed = world.send(CUSTOMER, text("hi")).await.unwrap_err();
    assert!(
        closed
            .to_string()
            .starts_with("the customer's 24-hour window closed at ")
            && closed.to_string().ends_with("; send an approved template"),
        "{closed}"
    );
    let message = world
        .send(CUSTOMER, template("hello_world", &[]))
        .await
        .unwrap();
    world.wait_status(message, "read").await;
    assert_eq!(world.deliveries_of(message).await, 1);
}

#[tokio::test]
async fn template_rules_refuse_before_anything_leaves() {
    let world = World::start(80, "token", |_| {}).await;
    world.sync_templates().await;
    let refusal = |result: Result<Uuid, OutboxError>| match result {
        Err(OutboxError::Refused(refusal)) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert!(matches!(
        refusal(
            world
                .send(CUSTOMER, template("no_such_template", &[]))
                .await
        ),
        Refusal::UnknownTemplate { .. }
    ));
    let count = refusal(
        world
            .send(CUSTOMER, template("order_update", &["Ana"]))
            .await,
    );
    assert_eq!(
        count.to_string(),
        "template `order_update` takes 2 parameters and 1 was given"
    );
    let marketing = refusal(
        world
            .send(CUSTOMER, template("spring_sale", &["Ana"]))
            .await,
    );
    assert_eq!(
        marketing.to_string(),
        "14155550123 has not opted in to marketing messages; `spring_sale` is a MARKETING template"
    );
    sqlx::query("UPDATE templates SET status = 'PAUSED' WHERE name = 'order_update'")
        .execute(world.db.pool())
        .await
        .unwrap();
    let paused = refusal(
        world
            .send(CUSTOMER, template("order_update", &["Ana", "#1"]))
            .await,
    );
    assert!(paused.to_string().contains("is PAUSED"), "{paused}");
    // Nothing was written, and nothing reached Meta.
    let messages: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(world.db.pool())
        .await
        .unwrap();
    assert_eq!(messages, 0);

    sqlx::query(
        "INSERT INTO contacts (id, workspace_id, wa_id, opted_in) \
         VALUES (gen_random_uuid(), $1, $2, true)",
    )
    .bind(world.workspace.0)
    .bind(CUSTOMER)
    .execute(world.db.pool())
    .await
    .unwrap();
    world.run_worker();
    let allowed = world
        .send(CUSTOMER, template("spring_sale", &["Ana"]))
        .await
        .unwrap();
    world.wait_status(allowed, "read").await;
    let rendered: String = sqlx::query_scalar("SELECT rendered_text FROM messages WHERE id = $1")
        .bind(allowed)
        .fetch_one(world.db.pool())
        .await
        .unwrap();
    assert_eq!(rendered, "Hello Ana, our spring sale starts today.");
}

#[tokio::test]
async fn template_sync_follows_every_page() {
    let world = World::start(80, "token", |_| {}).await;
    let token = SecretString::from("token");
    for n in 0..130 {
        let new = treeex::cloud_api::graph::NewTemplate {
            name: format!("notice_{n:03}"),
            language: "en_US".into(),
            category: "UTILITY".into(),
            components: json!([{ "type": "BODY", "text": "Notice {{1}}", "example": { "body_text": [["x"]] } }]),
            parameter_format: None,
        };
        world
            .graph
            .create_template(&token, WABA, &new)
            .await
            .unwrap();
    }
    world.sync_templates().await;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM templates")
        .fetch_one(world.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 133, "130 created and the 3 every WABA starts with");
}

#[tokio::test]
async fn an_invalid_token_fails_the_message_with_its_code() {
    let world = World::start(80, "token", |_| {}).await;
    world.sync_templates().await;
    // The token expired (the simulator refuses any that starts with `invalid`).
    sqlx::query("UPDATE phone_numbers SET access_token = 'invalid-token'")
        .execute(world.db.pool())
        .await
        .unwrap();
    world.run_worker();
    let message = world
        .send(CUSTOMER, template("hello_world", &[]))
        .await
        .unwrap();
    world.wait_status(message, "failed").await;
    let (_, code, _) = world.status(message).await;
    assert_eq!(code, Some(190));
}

#[tokio::test]
async fn a_window_only_meta_knows_is_closed_fails_asynchronously_with_131047() {
    let world = World::start(80, "token", |_| {}).await;
    world.run_worker();
    // The customer's message reached treeex but not the simulator's window (another path).
    let body = json!({ "object": "whatsapp_business_account", "entry": [{ "id": WABA, "changes": [{ "field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "15550100000", "phone_number_id": NUMBER },
        "contacts": [{ "profile": { "name": "Ana" }, "wa_id": CUSTOMER }],
        "messages": [{ "from": CUSTOMER, "id": "wamid.IN1", "timestamp": Utc::now().timestamp().to_string(), "type": "text", "text": { "body": "hi" } }] } }] }] });
    treeex::app::ingest::receive(world.db(), &Default::default(), body.to_string().as_bytes())
        .await
        .unwrap();
    let message = world.send(CUSTOMER, text("hello")).await.unwrap();
    world.wait_status(message, "failed").await;
    let (_, code, wamid) = world.status(message).await;
    assert_eq!(code, Some(131047));
    assert!(wamid.is_some(), "Meta accepted it first");
}

#[tokio::test]
async fn two_workers_racing_send_each_message_once() {
    let world = World::start(1000, "token", |sim| sim.mps = 0).await;
    world.sync_templates().await;
    let ids = world.hello_to_many("1415555", 40).await;
    world.run_worker();
    world.run_worker();
    for id in &ids {
        world.wait_status(*id, "read").await;
    }
    let sent = world.sim_json("/_sim/messages").await;
    assert_eq!(sent.as_array().unwrap().len(), 40);
    for id in ids {
        assert_eq!(world.deliveries_of(id).await, 1, "message {id}");
    }
}

#[tokio::test]
async fn the_number_rate_cap_holds() {
    // The simulator takes any rate here: only treeex's pacing keeps the number at 5 a second.
    let world = World::start(5, "token", |sim| sim.mps = 0).await;
    world.sync_templates().await;
    let ids = world.hello_to_many("1415557", 15).await;
    world.run_worker();
    for id in &ids {
        world.wait_status(*id, "sent").await;
    }
    world.assert_cap_held(15, 5).await;
}

#[tokio::test]
async fn one_worker_at_a_time_sends_for_a_number() {
    use treeex::store::{outbox as queue, phones};
    let world = World::start(10, "token", |_| {}).await;
    world.sync_templates().await;
    let number: Uuid = sqlx::query_scalar("SELECT id FROM phone_numbers")
        .fetch_one(world.db.pool())
        .await
        .unwrap();
    let tail = Duration::from_secs(2);
    let first = phones::reserve_slots(world.db(), number, "worker-a", 10, 10.0, tail)
        .await
        .unwrap();
    assert_eq!(first, Some(Duration::ZERO), "a free number starts now");
    assert_eq!(
        phones::reserve_slots(world.db(), number, "worker-b", 1, 10.0, tail)
            .await
            .unwrap(),
        None,
        "worker-a sends for the number until after its last slot"
    );
    let message = world
        .send(CUSTOMER, template("hello_world", &[]))
        .await
        .unwrap();
    assert!(
        queue::claim(world.db(), "worker-b", 10, 60.0, None)
            .await
            .unwrap()
            .is_empty(),
        "another worker's number is left to it"
    );
    let mine = phones::reserve_slots(world.db(), number, "worker-a", 1, 10.0, tail)
        .await
        .unwrap()
        .expect("worker-a reserves again");
    assert!(
        mine > Duration::from_millis(800),
        "after its first 10 slots: {mine:?}"
    );

    // Given back (a worker stopping, nothing of it leaving any more), the number is free at
    // once, and so are the slots it reserved: the next worker starts within a period of the cap.
    phones::give_back_sending(world.db(), "worker-a")
        .await
        .unwrap();
    let claimed = queue::claim(world.db(), "worker-b", 10, 60.0, None)
        .await
        .unwrap();
    assert_eq!(
        claimed.iter().map(|c| c.message_id).collect::<Vec<_>>(),
        vec![message]
    );
    let after = phones::reserve_slots(world.db(), number, "worker-b", 1, 10.0, tail)
        .await
        .unwrap()
        .expect("worker-b takes the number over");
    assert!(
        after <= Duration::from_millis(100),
        "worker-b starts within a tenth of a second, not after worker-a's unused slots: {after:?}"
    );

    // A worker that died without giving it back holds the number until its tail is over, and
    // the next one starts after its last slot.
    sqlx::query(
        "UPDATE phone_numbers SET send_slot_at = now() + interval '1 second', \
         sending_until = now() - interval '1 second'",
    )
    .execute(world.db.pool())
    .await
    .unwrap();
    let taken = phones::reserve_slots(world.db(), number, "worker-c", 1, 10.0, tail)
        .await
        .unwrap()
        .expect("a lapsed worker's number is free");
    assert!(
        taken > Duration::from_millis(800),
        "worker-c starts after the dead worker's last slot: {taken:?}"
    );
}

#[tokio::test]
async fn two_workers_racing_for_one_number_hold_its_rate_cap() {
    // The simulator takes any rate here: treeex's pacing alone keeps the number at 20 a second,
    // whichever of the two workers sends.
    let world = World::start(20, "token", |sim| sim.mps = 0).await;
    world.sync_templates().await;
    let ids = world.hello_to_many("1415558", 60).await;
    // Small batches, so that the two keep meeting at the claim.
    for _ in 0..2 {
        let worker = OutboxWorker::new(
            world.db().clone(),
            world.graph.clone(),
            WorkerSettings {
                batch: 5,
                ..WorkerSettings::default()
            },
        );
        tokio::spawn(worker.run(world.stop.clone()));
    }
    for id in &ids {
        world.wait_status(*id, "sent").await;
    }
    world.assert_cap_held(60, 20).await;
}

#[tokio::test]
async fn a_stopping_worker_gives_back_at_once_what_waits_for_its_slot() {
    // At a cap of 1 the sends leave 2 s apart: four of the five still wait when it stops.
    let world = World::start(1, "token", |_| {}).await;
    world.sync_templates().await;
    let ids = world.hello_to_many("1415559", 5).await;
    let stop = CancellationToken::new();
    let worker = tokio::spawn(world.worker().run(stop.clone()));
    world.wait_status(ids[0], "sent").await;
    stop.cancel();
    // Waiting out the next slot alone would take about 2 s, the last one 8 s.
    tokio::time::timeout(Duration::from_millis(1500), worker)
        .await
        .expect("the worker stops without waiting for its slots")
        .unwrap();
    let (queued, given_back): (i64, bool) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM outbox WHERE state = 'queued' AND claimed_by IS NULL), \
                (SELECT sending_worker IS NULL FROM phone_numbers)",
    )
    .fetch_one(world.db.pool())
    .await
    .unwrap();
    assert_eq!(queued, 4, "the unsent are back in the queue");
    assert!(given_back, "the number is free for another worker");
    assert_eq!(
        world
            .sim_json("/_sim/messages")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn meta_rate_limits_are_retried_until_sent() {
    // treeex would send at 50 a second; the simulator (Meta) takes 3, and answers 130429 above.
    let world = World::start(50, "token", |sim| sim.mps = 3).await;
    world.sync_templates().await;
    let ids = world.hello_to_many("1415556", 8).await;
    world.run_worker();
    for id in &ids {
        world.wait_status(*id, "read").await;
    }
    let stats = world.sim_json("/_sim/stats").await;
    assert!(
        stats["rejected"]["130429"].as_u64().unwrap_or(0) > 0,
        "some sends were refused and retried: {stats}"
    );
    for id in ids {
        assert_eq!(world.deliveries_of(id).await, 1);
    }
}

#[tokio::test]
async fn a_claim_that_expired_before_sending_is_sent_once_by_another_worker() {
    let world = World::start(80, "token", |_| {}).await;
    world.sync_templates().await;
    let message = world
        .send(CUSTOMER, template("hello_world", &[]))
        .await
        .unwrap();
    // A worker claims it and dies before sending.
    let claimed = treeex::store::outbox::claim(world.db(), "crashed-worker", 10, 60.0, None)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let other = world.worker();
    assert!(
        !other.send_now(message).await.unwrap(),
        "a live claim is never taken"
    );
    sqlx::query("UPDATE outbox SET claim_expires_at = now() - interval '1 second'")
        .execute(world.db.pool())
        .await
        .unwrap();
    assert_eq!(
        treeex::store::outbox::sweep(world.db()).await.unwrap(),
        (1, 0)
    );
    assert!(other.send_now(message).await.unwrap());
    world.wait_status(message, "read").await;
    assert_eq!(world.deliveries_of(message).await, 1);
}

#[tokio::test]
async fn a_send_that_left_without_an_answer_is_never_resent_and_its_webhook_settles_it() {
    let world = World::start(80, "token", |_| {}).await;
    world.sync_templates().await;
    let message = world
        .send(CUSTOMER, template("hello_world", &[]))
        .await
        .unwrap();
    let claimed = treeex::store::outbox::claim(world.db(), "lost-worker", 10, 60.0, None)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        treeex::store::outbox::mark_sending(world.db(), "lost-worker", message)
            .await
            .unwrap()
    );
    sqlx::query("UPDATE outbox SET claim_expires_at = now() - interval '1 second'")
        .execute(world.db.pool())
        .await
        .unwrap();
    assert_eq!(
        treeex::store::outbox::sweep(world.db()).await.unwrap(),
        (0, 1)
    );
    assert!(
        !world.worker().send_now(message).await.unwrap(),
        "never resent on its own"
    );
    assert_eq!(world.status(message).await.0, "pending");

    // Meta did get it: its status webhook names the message by the id the outbox sent along.
    let status = json!({ "object": "whatsapp_business_account", "entry": [{ "id": WABA, "changes": [{ "field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "15550100000", "phone_number_id": NUMBER },
        "statuses": [{ "id": "wamid.LOST1", "status": "delivered", "timestamp": Utc::now().timestamp().to_string(),
                       "recipient_id": CUSTOMER, "biz_opaque_callback_data": message.to_string() }] } }] }] });
    treeex::app::ingest::receive(
        world.db(),
        &Default::default(),
        status.to_string().as_bytes(),
    )
    .await
    .unwrap();
    let (status, _, wamid) = world.status(message).await;
    assert_eq!(
        (status.as_str(), wamid.as_deref()),
        ("delivered", Some("wamid.LOST1"))
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(world.db.pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_created_template_is_pending_until_metas_verdict_arrives() {
    let world = World::start(80, "token", |sim| {
        sim.template_review = Duration::from_millis(50)
    })
    .await;
    let new = treeex::cloud_api::graph::NewTemplate {
        name: "delivery_window".into(),
        language: "en_US".into(),
        category: "UTILITY".into(),
        components: json!([{ "type": "BODY", "text": "Your delivery arrives between {{1}} and {{2}}.",
                             "example": { "body_text": [["9am", "11am"]] } }]),
        parameter_format: None,
    };
    let created =
        treeex::app::templates::create(world.db(), &world.graph, world.workspace, NUMBER, &new)
            .await
            .unwrap();
    assert_eq!(created.status, "PENDING");
    assert!(created.wa_template_id.is_some());
    // The review's verdict comes as a signed webhook through the listener.
    let pool = world.db.pool().clone();
    wait_for("the template to be approved", || {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT status::text FROM templates WHERE name = 'delivery_window'",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
                == "APPROVED"
        }
    })
    .await;
}
