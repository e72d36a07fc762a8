//! Runs the effects `update` asks for, each in a task of its own, and reports every outcome back
//! as an action. This is where the TUI's IO lives (the database, the Graph API for read
//! receipts, the media store); nothing here touches the state.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::{Semaphore, mpsc};
use uuid::Uuid;

use super::action::{Action, Effect, Outgoing, Sendable};
use crate::app::campaigns::control;
use crate::app::media::{FileToSend, MediaStore, OutgoingFile, enqueue_file};
use crate::app::outbox::{self, Content, OutboxError};
use crate::cloud_api::graph::GraphClient;
use crate::cloud_api::webhook::MediaKind;
use crate::domain::{CampaignStatus, Move, WaId, WorkspaceId};
use crate::store::{Db, agent, campaign_views, campaigns, inbox, members, team, templates, thread};

/// Loads that may run at once: enough to overlap a page, the counts and a thread, few enough
/// that a burst of notifications never queues work on the pool.
const PARALLEL_LOADS: usize = 4;

/// What the effects need, shared by every task.
#[derive(Clone)]
pub struct Executor {
    pub db: Db,
    pub graph: GraphClient,
    pub media: MediaStore,
    pub actions: mpsc::UnboundedSender<Action>,
    pub workspace: Option<WorkspaceId>,
    pub user: Uuid,
    pub dwell: Duration,
    pub open_command: String,
    loads: Arc<Semaphore>,
}

impl Executor {
    pub fn new(
        db: Db,
        graph: GraphClient,
        media: MediaStore,
        actions: mpsc::UnboundedSender<Action>,
        user: Uuid,
        dwell: Duration,
        open_command: String,
    ) -> Self {
        Self {
            db,
            graph,
            media,
            actions,
            workspace: None,
            user,
            dwell,
            open_command,
            loads: Arc::new(Semaphore::new(PARALLEL_LOADS)),
        }
    }

    /// Starts one effect. Terminal effects (bell, title, editor) are the loop's own.
    pub fn spawn(&self, effect: Effect) {
        let this = self.clone();
        tokio::spawn(async move {
            if let Some(action) = this.run(effect).await {
                let _ = this.actions.send(action);
            }
        });
    }

    async fn run(&self, effect: Effect) -> Option<Action> {
        let workspace = self.workspace?;
        let db = &self.db;
        // A paced reload waits for its interval before it takes a place among the loads.
        if let Effect::LoadCampaigns { after }
        | Effect::LoadDashboard { after, .. }
        | Effect::LoadTeam { after } = &effect
            && !after.is_zero()
        {
            tokio::time::sleep(*after).await;
        }
        let _permit = self.loads.acquire().await.ok()?;
        let failed = |what: &str, error: &dyn std::fmt::Display| {
            tracing::warn!(%error, "{what}");
            Some(Action::Done(Err(format!("{what}: {error}"))))
        };
        match effect {
            Effect::LoadInbox {
                generation,
                query,
                after,
                limit,
            } => match inbox::page(db, workspace, &query, after.as_ref(), limit).await {
                Ok(rows) => Some(Action::InboxLoaded {
                    generation,
                    append: after.is_some(),
                    rows,
                    limit,
                }),
                Err(error) => {
                    tracing::warn!(%error, "could not load the conversations");
                    Some(Action::InboxFailed {
                        generation,
                        error: format!("could not load the conversations: {error}"),
                    })
                }
            },
            Effect::LoadCounts => match inbox::counts(db, workspace, self.user).await {
                Ok(counts) => Some(Action::CountsLoaded(counts)),
                Err(error) => failed("could not count the conversations", &error),
            },
            Effect::LoadThread {
                conversation,
                limit,
            } => {
                let header = thread::header(db, workspace, conversation);
                let page = thread::page(db, workspace, conversation, None, limit);
                match tokio::try_join!(header, page) {
                    Ok((header, entries)) => Some(Action::ThreadLoaded {
                        conversation,
                        header: Box::new(header),
                        entries,
                        limit,
                    }),
                    Err(error) => thread_failed(conversation, "the conversation", &error),
                }
            }
            Effect::LoadOlder {
                conversation,
                before,
            } => {
                let limit = super::state::THREAD_PAGE;
                match thread::page(db, workspace, conversation, Some(&before), limit).await {
                    Ok(entries) => Some(Action::OlderLoaded {
                        conversation,
                        entries,
                        limit,
                    }),
                    Err(error) => thread_failed(conversation, "older messages", &error),
                }
            }
            Effect::LoadTemplates => match templates::list(db, workspace).await {
                Ok(list) => Some(Action::TemplatesLoaded(list)),
                Err(error) => failed("could not load the templates", &error),
            },
            Effect::LoadMembers => match members::list(db, workspace).await {
                Ok(list) => Some(Action::MembersLoaded(list)),
                Err(error) => failed("could not load the members", &error),
            },
            Effect::LoadCanned => match agent::canned_replies(db, workspace).await {
                Ok(list) => Some(Action::CannedLoaded(list)),
                Err(error) => failed("could not load the canned replies", &error),
            },
            Effect::LoadOutboxDepth => {
                match crate::store::outbox::workspace_depth(db, workspace).await {
                    Ok(depth) => Some(Action::OutboxDepth(depth)),
                    Err(error) => failed("could not read the outbox", &error),
                }
            }
            Effect::LoadCampaigns { .. } => {
                match campaigns::list(db, workspace, super::state::CAMPAIGNS).await {
                    Ok(rows) => Some(Action::CampaignsLoaded { workspace, rows }),
                    Err(error) => {
                        tracing::warn!(%error, "could not load the campaigns");
                        Some(Action::CampaignsFailed {
                            workspace,
                            error: format!("could not load the campaigns: {error}"),
                        })
                    }
                }
            }
            Effect::LoadDashboard {
                campaign, filter, ..
            } => {
                let page = super::state::RECIPIENT_PAGE;
                match campaign_views::dashboard(db, workspace, campaign, filter, page).await {
                    Ok(dashboard) => Some(Action::DashboardLoaded {
                        campaign,
                        dashboard: Box::new(dashboard),
                    }),
                    Err(error) => {
                        tracing::warn!(%error, "could not load the campaign");
                        Some(Action::DashboardFailed {
                            campaign,
                            error: format!("could not load the campaign: {error}"),
                        })
                    }
                }
            }
            Effect::LoadTeam { .. } => {
                match team::snapshot(db, workspace, chrono::Utc::now()).await {
                    Ok(snapshot) => Some(Action::TeamLoaded {
                        workspace,
                        snapshot: Box::new(snapshot),
                    }),
                    Err(error) => {
                        tracing::warn!(%error, "could not load the team view");
                        Some(Action::TeamFailed {
                            workspace,
                            error: format!("could not load the team view: {error}"),
                        })
                    }
                }
            }
            Effect::ControlCampaign {
                campaign,
                name,
                actor,
                movement,
            } => Some(Action::Done(
                match control(db, workspace, campaign, Some(actor), movement).await {
                    Ok(moved) => Ok(controlled(&name, movement, moved.status)),
                    Err(error) => {
                        tracing::info!(%error, "a campaign move was refused or failed");
                        Err(error.to_string())
                    }
                },
            )),
            Effect::MarkRead(conversation) => {
                match agent::mark_read(db, workspace, conversation).await {
                    Ok(Some(receipt)) => {
                        // The receipt is a courtesy to the customer: a failure is logged only.
                        let token = SecretString::from(receipt.access_token);
                        if let Err(error) = self
                            .graph
                            .mark_read(&token, &receipt.phone_number_id, &receipt.wa_message_id)
                            .await
                        {
                            tracing::warn!(%error, "the read receipt was not sent");
                        }
                        None
                    }
                    Ok(None) => None,
                    Err(error) => failed("could not mark the conversation read", &error),
                }
            }
            Effect::MarkUnread(conversation) => done(
                agent::mark_unread(db, workspace, conversation).await,
                "marked unread",
            ),
            Effect::Assign {
                conversation,
                to,
                name,
            } => done(
                agent::assign(db, workspace, conversation, to).await,
                &format!("assigned to {name}"),
            ),
            Effect::Close(conversation) => done(
                agent::close(db, workspace, conversation, Some(self.user)).await,
                "resolved",
            ),
            Effect::Reopen(conversation) => {
                done(agent::reopen(db, workspace, conversation).await, "reopened")
            }
            Effect::SetTags { contact, tags } => done(
                agent::set_tags(db, workspace, contact, &tags).await,
                "tags saved",
            ),
            Effect::SetOptedIn { contact, opted_in } => done(
                agent::set_opted_in(db, workspace, contact, opted_in).await,
                if opted_in { "opted in" } else { "opted out" },
            ),
            Effect::AddNote { conversation, body } => done(
                agent::add_note(db, workspace, conversation, Some(self.user), &body)
                    .await
                    .map(|_| ()),
                "note saved",
            ),
            Effect::SaveCanned { code, body } => done(
                agent::save_canned_reply(db, workspace, &code, &body).await,
                &format!("canned reply `{code}` saved"),
            ),
            Effect::DeleteCanned(code) => {
                match agent::delete_canned_reply(db, workspace, &code).await {
                    Ok(true) => Some(Action::Done(Ok(format!("canned reply `{code}` deleted")))),
                    Ok(false) => Some(Action::Done(Err(format!("no canned reply `{code}`")))),
                    Err(error) => failed("could not delete the canned reply", &error),
                }
            }
            Effect::Send(outgoing) => {
                let conversation = outgoing.conversation;
                let from_composer = !matches!(outgoing.what, Sendable::Template { .. });
                let result = self.send(workspace, outgoing).await;
                Some(Action::Sent {
                    conversation,
                    from_composer,
                    result,
                })
            }
            Effect::StartDwell(conversation) => {
                drop(_permit);
                tokio::time::sleep(self.dwell).await;
                Some(Action::Dwell(conversation))
            }
            Effect::OpenMedia {
                storage_url,
                filename,
            } => match self.open_media(&storage_url, filename.as_deref()).await {
                Ok(()) => None,
                Err(error) => Some(Action::Done(Err(error))),
            },
            // The loop runs these itself.
            Effect::SwitchWorkspace(_) | Effect::Edit(_) | Effect::Bell | Effect::Title(_) => None,
        }
    }

    async fn send(&self, workspace: WorkspaceId, outgoing: Outgoing) -> Result<(), String> {
        let result = self.queue(workspace, outgoing).await;
        if let Err(error) = &result {
            tracing::info!(%error, "a reply was not queued");
        }
        result
    }

    async fn queue(&self, workspace: WorkspaceId, outgoing: Outgoing) -> Result<(), String> {
        let to = WaId::parse(&outgoing.to).map_err(|e| e.to_string())?;
        let content = match outgoing.what {
            Sendable::File { path, caption } => {
                let kind = kind_of(&path);
                let file = OutgoingFile {
                    workspace,
                    phone_number_id: outgoing.phone_number_id,
                    to,
                    file: FileToSend {
                        kind,
                        path,
                        caption: caption.filter(|_| kind != MediaKind::Audio),
                    },
                    reply_to: outgoing.reply_to,
                    sent_by: Some(self.user),
                };
                return enqueue_file(&self.db, &self.media, &file)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("not sent: {e}"));
            }
            Sendable::Text(body) => Content::Text {
                preview_url: body.contains("https://") || body.contains("http://"),
                body,
            },
            Sendable::Template {
                name,
                language,
                params,
            } => Content::Template {
                name,
                language,
                params,
            },
        };
        let message = outbox::Outgoing {
            workspace,
            phone_number_id: outgoing.phone_number_id,
            to,
            content,
            reply_to: outgoing.reply_to,
            sent_by: Some(self.user),
        };
        outbox::enqueue(&self.db, &message)
            .await
            .map(|_| ())
            .map_err(|error| match error {
                OutboxError::Refused(refusal) => format!("not sent: {refusal}"),
                OutboxError::Store(error) => format!("not sent: {error}"),
            })
    }

    /// Opens a fetched file with the configured program: a local file directly, anything else
    /// copied to a temporary file first.
    async fn open_media(&self, storage_url: &str, filename: Option<&str>) -> Result<(), String> {
        let path = match storage_url.strip_prefix("file://") {
            Some(path) => std::path::PathBuf::from(path),
            None => {
                let bytes = self
                    .media
                    .get(storage_url)
                    .await
                    .map_err(|e| format!("could not fetch the file: {e}"))?;
                let name = filename
                    .map(str::to_string)
                    .unwrap_or_else(|| storage_url.rsplit('/').next().unwrap_or("media").into());
                let path = std::env::temp_dir().join(format!("treeex-{}", sanitize(&name)));
                tokio::fs::write(&path, bytes)
                    .await
                    .map_err(|e| format!("could not write {}: {e}", path.display()))?;
                path
            }
        };
        let mut words = self.open_command.split_whitespace();
        let program = words.next().unwrap_or("xdg-open");
        tokio::process::Command::new(program)
            .args(words)
            .arg(&path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map(|_| ())
            .map_err(|e| format!("could not run `{program}` ([tui] open_command): {e}"))
    }
}

/// What the status bar says after a campaign moved.
fn controlled(name: &str, movement: Move, status: CampaignStatus) -> String {
    match movement {
        Move::RetryFailed => format!("“{name}”: the failed recipients are queued again"),
        _ => format!("“{name}” is {status} now"),
    }
}

fn thread_failed(conversation: Uuid, what: &str, error: &dyn std::fmt::Display) -> Option<Action> {
    tracing::warn!(%error, "could not load {what}");
    Some(Action::ThreadFailed {
        conversation,
        error: format!("could not load {what}: {error}"),
    })
}

fn done(result: Result<(), crate::store::StoreError>, success: &str) -> Option<Action> {
    Some(Action::Done(match result {
        Ok(()) => Ok(success.to_string()),
        Err(error) => Err(error.to_string()),
    }))
}

/// The kind of message a file goes as, from its extension.
fn kind_of(path: &std::path::Path) -> MediaKind {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    match (mime.type_().as_str(), mime.subtype().as_str()) {
        ("image", "jpeg" | "png") => MediaKind::Image,
        ("image", "webp") => MediaKind::Sticker,
        ("video", _) => MediaKind::Video,
        ("audio", _) => MediaKind::Audio,
        _ => MediaKind::Document,
    }
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}
