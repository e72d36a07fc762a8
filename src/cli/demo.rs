//! `treeex demo`: the whole product on one machine with nothing to configure. The managed
//! PostgreSQL with a database of its own (`treeex_demo`, never the user's), the Cloud API
//! simulator on a free port playing the demo's customers, the webhook listener on a free port
//! wired to it, the seeded "Acme Demo" workspace, and the TUI opened on it as its OWNER (or,
//! with `--headless`, the same without a TUI until SIGINT or SIGTERM).

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use secrecy::SecretString;
use sqlx::postgres::PgPoolOptions;

use super::{DemoArgs, Failure};
use crate::app::demo;
use crate::config::{Config, Paths};
use crate::domain::Slug;
use crate::simulator::{
    BusinessNumber, CustomerPace, NamedCustomer, Simulator, SimulatorConfig, TemplateSeed,
};
use crate::store::cluster::ManagedCluster;
use crate::store::demo_lock::DemoLock;
use crate::store::{self, Db};
use crate::tui::{self, Environment, Options, StartError};

/// The demo's own database in the managed cluster.
pub const DEMO_DATABASE: &str = "treeex_demo";

/// What a customer writes a moment after the demo opens, so the inbox moves at once.
const FIRST_WORDS: &str = "Hi again! The tracking says delivered but I'm not home yet 😅";

pub async fn run(config: &Config, paths: &Paths, args: DemoArgs) -> Result<(), Failure> {
    let cluster = store::start_cluster(store::managed_options(config, paths)).await?;
    // Demos already running share the database as it is: never started over under them.
    let mut lock = DemoLock::take(&cluster).await?;
    if args.fresh && !lock.exclusive() {
        return Err(Failure::Work(anyhow::anyhow!(
            "another `treeex demo` is running on this machine's database; quit it before starting the demo over with --fresh"
        )));
    }
    let db = open_database(cluster, config, &lock, args.fresh).await?;
    let result = run_on(&db, &mut lock, config, paths, &args).await;
    db.close().await;
    drop(lock);
    result
}

async fn run_on(
    db: &Db,
    lock: &mut DemoLock,
    config: &Config,
    paths: &Paths,
    args: &DemoArgs,
) -> Result<(), Failure> {
    let tcp = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("cannot open a port for the demo's webhook listener")?;
    let listen = tcp.local_addr().context("the listener has no address")?;
    let app_secret = format!("{:032x}", rand::random::<u128>());
    let simulator = Simulator::start(simulator_config(
        format!("http://{listen}/webhook"),
        app_secret.clone(),
    ))
    .await
    .context("cannot start the Cloud API simulator")?;

    let mut config = config.clone();
    config.database.url = None;
    config.user.email = Some(demo::OWNER.0.to_string());
    config.server.listen = listen;
    config.whatsapp.app_secret = Some(SecretString::from(app_secret));
    config.whatsapp.verify_token = Some(SecretString::from("demo-verify-token"));
    config.whatsapp.graph_base_url = simulator.base_url();
    config.tui.listener = true;
    // The demo's own files (media, the TUI's last workspace) stay apart from the user's.
    let paths = Paths::new(
        paths.config_file().parent().unwrap_or(paths.data_dir()),
        paths.data_dir().join("demo"),
    );
    config.media.store = Some(format!(
        "file://{}",
        paths.data_dir().join("media").display()
    ));
    let graph = super::commands::graph_client(&config)?;
    let media = super::send::media_store(&config)?;

    if demo::seeded(db).await?.is_none() {
        if !lock.exclusive() {
            return Err(Failure::Work(anyhow::anyhow!(
                "the demo workspace is missing while another `treeex demo` runs; quit it and start again"
            )));
        }
        demo::seed(db, &graph, chrono::Utc::now())
            .await
            .context("cannot write the demo workspace")?;
    }
    lock.share().await?;
    let opener = tokio::spawn(first_words(simulator.clone()));

    let result = if args.headless {
        let url = db
            .cluster()
            .map(|c| c.url(DEMO_DATABASE))
            .unwrap_or_default();
        // The handlers exist before a script can learn the addresses and signal at once.
        let stop = super::serve::stop_on_signals()?;
        println!("database: {url}");
        println!("simulator: {}", simulator.base_url());
        println!("listener: http://{listen}");
        let _ = std::io::stdout().flush();
        super::serve::serve_on(db, &config, &graph, &media, tcp, stop)
            .await
            .map_err(Failure::Work)
    } else {
        let env = Environment {
            db: db.clone(),
            graph,
            media,
            listener: Some(tcp),
        };
        let options = Options {
            workspace: Slug::parse(demo::SLUG).ok(),
            no_listener: false,
        };
        tui::run(env, &config, &paths, options)
            .await
            .map_err(|error| match error {
                StartError::Usage(error) => Failure::Usage(error),
                StartError::Failed(error) => Failure::Work(error),
            })
    };
    opener.abort();
    simulator.shutdown().await;
    result
}

/// The demo's database, migrated; `fresh` (or a demo left half-written by an interrupted
/// start) starts it over, when `lock` says no other demo runs.
async fn open_database(
    cluster: Arc<ManagedCluster>,
    config: &Config,
    lock: &DemoLock,
    fresh: bool,
) -> Result<Db, Failure> {
    let pool = || PgPoolOptions::new().max_connections(config.database.max_connections);
    if fresh {
        store::drop_database(&cluster, DEMO_DATABASE).await?;
    }
    let db = Db::on_cluster(cluster.clone(), DEMO_DATABASE, pool()).await?;
    db.migrate().await?;
    if !lock.exclusive() || demo::seeded(&db).await?.is_some() || !demo::exists(&db).await? {
        return Ok(db);
    }
    tracing::warn!("the demo workspace was left half-written; starting it over");
    db.close().await;
    store::drop_database(&cluster, DEMO_DATABASE).await?;
    let db = Db::on_cluster(cluster, DEMO_DATABASE, pool()).await?;
    db.migrate().await?;
    Ok(db)
}

/// The simulator as the demo needs it: the demo's number and templates, its customers writing
/// in every few minutes each and answering half of what they read.
fn simulator_config(webhook_url: String, app_secret: String) -> SimulatorConfig {
    SimulatorConfig {
        webhook_url: Some(webhook_url),
        app_secret,
        numbers: vec![BusinessNumber {
            phone_number_id: demo::PHONE_NUMBER_ID.into(),
            // Webhooks carry the display number as digits.
            display_phone_number: demo::DISPLAY_PHONE_NUMBER
                .chars()
                .filter(char::is_ascii_digit)
                .collect(),
            waba_id: demo::WABA_ID.into(),
        }],
        named_customers: demo::customers()
            .into_iter()
            .map(|c| NamedCustomer {
                name: c.name,
                wa_id: c.wa_id,
            })
            .collect(),
        templates: demo::extra_templates()
            .into_iter()
            .map(|(name, language, category, components)| TemplateSeed {
                name: name.into(),
                language: language.into(),
                category: category.into(),
                components,
            })
            .collect(),
        customer_pace: CustomerPace {
            write_every: (Duration::from_secs(5 * 60), Duration::from_secs(40 * 60)),
            reply_after: (Duration::from_secs(3), Duration::from_secs(20)),
            reply_probability: 0.5,
        },
        ..SimulatorConfig::default()
    }
}

/// The first customer writes again two seconds in.
async fn first_words(simulator: Simulator) {
    tokio::time::sleep(Duration::from_secs(2)).await;
    let Some(customer) = demo::customers().into_iter().next() else {
        return;
    };
    if let Err(error) = simulator
        .inbound(
            demo::PHONE_NUMBER_ID,
            &customer.wa_id,
            &customer.name,
            FIRST_WORDS,
        )
        .await
    {
        tracing::warn!(%error, "the demo's first customer could not write");
    }
}
