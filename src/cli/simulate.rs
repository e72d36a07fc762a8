//! `treeex simulate`: the Cloud API simulator on its own, until SIGINT or SIGTERM.

use anyhow::Context;
use secrecy::ExposeSecret;
use tokio::signal::unix::{SignalKind, signal};

use super::{Failure, SimulateArgs};
use crate::config::Config;
use crate::simulator::{Simulator, SimulatorConfig};

pub async fn run(config: &Config, args: SimulateArgs) -> Result<(), Failure> {
    let app_secret = match (args.app_secret, &config.whatsapp.app_secret) {
        (Some(secret), _) => secret,
        (None, Some(secret)) => secret.expose_secret().to_string(),
        (None, None) if args.webhook_url.is_some() => {
            return Err(Failure::Usage(anyhow::anyhow!(
                "webhooks need a signing secret: pass --app-secret S or set [whatsapp] app_secret"
            )));
        }
        (None, None) => String::new(),
    };
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    crate::install_tls_provider();
    let simulator = Simulator::start(SimulatorConfig {
        listen: args.listen,
        webhook_url: args.webhook_url.clone(),
        app_secret,
        mps: args.mps,
        customers: args.customers,
        ..SimulatorConfig::default()
    })
    .await
    .with_context(|| format!("cannot start the simulator on {}", args.listen))?;
    println!("treeex simulate: Graph API on {}", simulator.base_url());
    match &args.webhook_url {
        Some(url) => println!("treeex simulate: webhooks to {url}"),
        None => println!("treeex simulate: no --webhook-url, so no webhooks are sent"),
    }
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
    simulator.shutdown().await;
    Ok(())
}
