//! `treeex send`: one message through the outbox. Without `--wait` it is queued and a running
//! `treeex serve` (or TUI) sends it; with `--wait` this process sends it too, and prints what
//! Meta answered.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{Failure, SendArgs, output};
use crate::app::outbox::{self, Content, OutboxError, OutboxWorker, Outgoing, WorkerSettings};
use crate::config::Config;
use crate::store::{Db, workspaces};

/// How long `--wait` waits for the first answer.
const WAIT: Duration = Duration::from_secs(120);

pub async fn run(db: &Db, config: &Config, args: SendArgs) -> Result<(), Failure> {
    let workspace = workspaces::by_slug(db, &args.workspace.workspace)
        .await?
        .workspace_id();
    let content = match (args.text, args.template) {
        (Some(body), _) => Content::Text {
            preview_url: body.contains("https://") || body.contains("http://"),
            body,
        },
        (None, Some(name)) => Content::Template {
            name,
            language: args.language.unwrap_or_default(),
            params: args.params,
        },
        (None, None) => {
            return Err(Failure::Usage(anyhow::anyhow!(
                "say what to send: --text TEXT or --template NAME --language CODE"
            )));
        }
    };
    let outgoing = Outgoing {
        workspace,
        phone_number_id: args.phone_number_id,
        to: args.to,
        content,
        reply_to: None,
        sent_by: None,
    };
    let queued = outbox::enqueue(db, &outgoing).await.map_err(|e| match e {
        OutboxError::Refused(refusal) => {
            Failure::Work(anyhow::Error::new(refusal).context("not sent"))
        }
        OutboxError::Store(store) => store.into(),
    })?;
    if !args.wait {
        if args.json.json {
            output::json(&queued)?;
        } else {
            println!("{}", queued.id);
        }
        return Ok(());
    }

    let graph = super::commands::graph_client(config)?;
    let settings = WorkerSettings {
        max_attempts: config.outbox.max_attempts,
        ..WorkerSettings::default()
    };
    let worker = OutboxWorker::new(db.clone(), graph, settings);
    let started = Instant::now();
    let (status, outbox_state) = loop {
        worker.send_now(queued.id).await?;
        let progress = crate::store::outbox::progress(db, queued.id).await?;
        match progress {
            Some((status, state))
                if status != "pending" || state.as_deref() == Some("ambiguous") =>
            {
                break (status, state);
            }
            Some(_) if started.elapsed() < WAIT => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Some((status, state)) => break (status, state),
            None => {
                return Err(Failure::Work(anyhow::anyhow!(
                    "message {} disappeared",
                    queued.id
                )));
            }
        }
    };
    let detail = crate::store::messages::outcome(db, queued.id).await?;
    if args.json.json {
        output::json(&json!({
            "id": queued.id,
            "conversation_id": queued.conversation_id,
            "status": status,
            "outbox_state": outbox_state,
            "wa_message_id": detail.wa_message_id,
            "error_code": detail.error_code,
            "error_title": detail.error_title,
            "error_details": detail.error_details,
        }))?;
    } else {
        println!("{}", queued.id);
        match (status.as_str(), outbox_state.as_deref()) {
            ("failed", _) => println!(
                "failed: {}{}",
                detail
                    .error_code
                    .map(|c| format!("{c}: "))
                    .unwrap_or_default(),
                detail.error_title.clone().unwrap_or_default()
            ),
            (_, Some("ambiguous")) => println!(
                "unknown: the request left and no answer came; its status webhook will settle it"
            ),
            ("pending", _) => println!("pending: Meta has not accepted it yet; it will be retried"),
            (status, _) => println!("{status}"),
        }
    }
    if status == "failed" {
        return Err(Failure::Work(anyhow::anyhow!(
            "Meta refused the message: {}",
            detail.error_title.unwrap_or_default()
        )));
    }
    Ok(())
}
