//! `treeex send`: one message through the outbox. Without `--wait` it is queued and a running
//! `treeex serve` (or TUI) sends it; with `--wait` this process sends it too, and prints what
//! Meta answered. An `--image` or `--document` is checked and put in the media store first
//! (`app::media`); the worker uploads it to Meta when the message leaves.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{Failure, SendArgs, output};
use crate::app::media::{self, FileToSend, MediaError, MediaStore, MediaStoreError, OutgoingFile};
use crate::app::outbox::{self, Content, OutboxError, OutboxWorker, Outgoing, WorkerSettings};
use crate::cloud_api::webhook::MediaKind;
use crate::config::{Config, Paths};
use crate::store::{Db, workspaces};

/// How long `--wait` waits for the first answer.
const WAIT: Duration = Duration::from_secs(120);

pub async fn run(db: &Db, config: &Config, args: SendArgs) -> Result<(), Failure> {
    let workspace = workspaces::by_slug(db, &args.workspace.workspace)
        .await?
        .workspace_id();
    let file = match (args.image, args.document) {
        (Some(path), _) => Some((MediaKind::Image, path)),
        (None, Some(path)) => Some((MediaKind::Document, path)),
        (None, None) => None,
    };
    let mut store = None;
    let queued = if let Some((kind, path)) = file {
        let opened = media_store(config)?;
        let outgoing = OutgoingFile {
            workspace,
            phone_number_id: args.phone_number_id,
            to: args.to,
            file: FileToSend {
                kind,
                path,
                caption: args.caption,
            },
            reply_to: None,
            sent_by: None,
        };
        let queued = media::enqueue_file(db, &opened, &outgoing)
            .await
            .map_err(media_failure)?;
        store = Some(opened);
        queued
    } else {
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
                    "say what to send: --text TEXT, --template NAME --language CODE, --image FILE or --document FILE"
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
        outbox::enqueue(db, &outgoing)
            .await
            .map_err(outbox_failure)?
    };
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
    let mut worker = OutboxWorker::new(db.clone(), graph, settings);
    if let Some(store) = store {
        worker = worker.with_media(store);
    }
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

/// The media store `[media] store` names (default `file://<data dir>/media`), open.
pub(super) fn media_store(config: &Config) -> Result<MediaStore, Failure> {
    let paths = Paths::from_platform()?;
    MediaStore::open(&config.media_store(&paths)).map_err(|error| match error {
        MediaStoreError::Config { .. } => Failure::Usage(error.into()),
        other => Failure::Work(other.into()),
    })
}

fn outbox_failure(error: OutboxError) -> Failure {
    match error {
        OutboxError::Refused(refusal) => {
            Failure::Work(anyhow::Error::new(refusal).context("not sent"))
        }
        OutboxError::Store(store) => store.into(),
    }
}

/// A file that cannot be read is bad usage (exit 2); one that breaks a limit, or a message the
/// rules refuse, is refused work (exit 1).
fn media_failure(error: MediaError) -> Failure {
    match error {
        MediaError::Unreadable { .. } => {
            Failure::Usage(anyhow::Error::new(error).context("not sent"))
        }
        MediaError::Refused(_) => Failure::Work(anyhow::Error::new(error).context("not sent")),
        MediaError::Store(MediaStoreError::Config { .. }) => Failure::Usage(error.into()),
        MediaError::Store(_) => Failure::Work(anyhow::Error::new(error).context("not sent")),
        MediaError::Outbox(outbox) => outbox_failure(outbox),
    }
}
