//! One function per command: resolve the arguments, call the use case, print the result.

use std::io::Write;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::output::{self, or_dash, time};
use super::{
    Command, ContactCommand, Failure, MemberCommand, PhoneCommand, TemplateCommand, WebhookCommand,
    WorkspaceCommand,
};
use crate::app::contact_import::{self, ImportError, Outcome};
use crate::config::Config;
use crate::domain::{Email, Slug, Tag, WorkspaceId};
use crate::store::contacts::{self, NewContact};
use crate::store::phones::{self, NewPhoneNumber};
use crate::store::{Db, members, workspaces};

pub async fn run(db: &Db, config: &Config, command: Command) -> Result<(), Failure> {
    match command {
        // Db::open has applied the migrations already.
        Command::Migrate => {
            let applied = crate::store::MIGRATOR.iter().count();
            println!("the database is up to date ({applied} migrations)");
            Ok(())
        }
        Command::Workspace(command) => workspace(db, config, command).await,
        Command::Member(command) => member(db, command).await,
        Command::Phone(command) => phone(db, command).await,
        Command::Contact(command) => contact(db, command).await,
        Command::Webhook(command) => webhook(db, config, command).await,
        Command::Serve { listen } => super::serve::run(db, config, listen).await,
        Command::Template(command) => template(db, config, command).await,
        Command::Send(args) => super::send::run(db, config, args).await,
        Command::Campaign(command) => super::campaign::run(db, config, command).await,
        Command::Tui(args) => super::tui::run(db, config, args).await,
        // Need no configured database; `cli::run` starts them before opening one.
        Command::Simulate(args) => super::simulate::run(config, args).await,
        // `cli::run` runs it before loading the configuration, so it never comes here.
        Command::Doctor { .. } => Err(Failure::Work(anyhow::anyhow!(
            "doctor runs before the configuration is loaded"
        ))),
        Command::Demo(args) => {
            let paths = crate::config::Paths::from_platform()?;
            super::demo::run(config, &paths, args).await
        }
    }
}

/// The Graph API client the configuration names.
pub(super) fn graph_client(
    config: &Config,
) -> Result<crate::cloud_api::graph::GraphClient, Failure> {
    crate::cloud_api::graph::GraphClient::new(
        &config.whatsapp.graph_base_url,
        &config.whatsapp.api_version,
        std::time::Duration::from_secs(config.outbox.request_timeout_secs),
    )
    .map_err(|e| Failure::Work(anyhow::Error::new(e).context("cannot build the Graph API client")))
}

async fn template(db: &Db, config: &Config, command: TemplateCommand) -> Result<(), Failure> {
    match command {
        TemplateCommand::Sync {
            workspace,
            phone_number_id,
            json,
        } => {
            let id = workspace_id(db, &workspace.workspace).await?;
            let graph = graph_client(config)?;
            let synced = crate::app::templates::sync(db, &graph, id, phone_number_id.as_deref())
                .await
                .map_err(|e| Failure::Work(e.into()))?;
            if json.json {
                output::json(&synced)?;
            } else {
                for waba in &synced {
                    println!(
                        "synced {} templates of WABA {}",
                        waba.templates, waba.waba_id
                    );
                }
            }
            Ok(())
        }
        TemplateCommand::List { workspace, json } => {
            let id = workspace_id(db, &workspace.workspace).await?;
            let list = crate::store::templates::list(db, id).await?;
            if json.json {
                output::json(&list)?;
            } else {
                print!(
                    "{}",
                    output::table(
                        &[
                            "NAME", "LANGUAGE", "CATEGORY", "STATUS", "PARAMS", "WABA ID"
                        ],
                        list.iter().map(|t| vec![
                            t.name.clone(),
                            t.language.clone(),
                            t.category.clone(),
                            t.status.clone(),
                            crate::domain::template::variables(&t.components)
                                .total()
                                .to_string(),
                            t.waba_id.clone(),
                        ]),
                    )
                );
            }
            Ok(())
        }
    }
}

async fn webhook(db: &Db, config: &Config, command: WebhookCommand) -> Result<(), Failure> {
    match command {
        WebhookCommand::Failures {
            workspace,
            limit,
            json,
        } => {
            let id = match &workspace {
                Some(slug) => Some(workspace_id(db, slug).await?),
                None => None,
            };
            let failures = crate::store::webhooks::open_failures(db, id, limit).await?;
            if json.json {
                output::json(&failures)?;
            } else {
                print!(
                    "{}",
                    output::table(
                        &["ID", "RECEIVED", "PHONE NUMBER ID", "FIELD", "REASON"],
                        failures.iter().map(|f| vec![
                            f.id.to_string(),
                            time(f.received_at),
                            or_dash(f.phone_number_id.as_deref()),
                            f.field.clone(),
                            f.reason.clone(),
                        ]),
                    )
                );
            }
            Ok(())
        }
        WebhookCommand::Replay { id, json } => {
            let settings = crate::app::ingest::IngestSettings::from_config(&config.ingest);
            let replay = crate::app::ingest::replay(db, &settings, id).await?;
            if json.json {
                output::json(&json!({
                    "id": id,
                    "resolved": replay.resolved,
                    "reason": replay.reason,
                }))?;
            } else if replay.resolved {
                println!("applied webhook failure {id}; it is resolved");
            }
            if replay.resolved {
                Ok(())
            } else {
                Err(Failure::Work(anyhow::anyhow!(
                    "webhook failure {id} still cannot be applied: {}",
                    replay.reason.unwrap_or_default()
                )))
            }
        }
    }
}

pub(super) async fn workspace_id(db: &Db, slug: &Slug) -> Result<WorkspaceId, Failure> {
    Ok(workspaces::by_slug(db, slug).await?.workspace_id())
}

async fn workspace(db: &Db, config: &Config, command: WorkspaceCommand) -> Result<(), Failure> {
    match command {
        WorkspaceCommand::Create {
            slug,
            name,
            owner,
            json,
        } => {
            // The owner: --owner, else the configured user; with neither, the workspace starts
            // without members and the output says how to add its owner.
            let owner = match (owner, config.user.email.as_deref()) {
                (Some(owner), _) => Some(owner),
                (None, Some(configured)) => {
                    Some(Email::parse(configured).map_err(|e| Failure::Usage(e.into()))?)
                }
                (None, None) => None,
            };
            let owner_name = owner
                .as_ref()
                .filter(|o| config.user.email.as_deref() == Some(o.as_str()))
                .and(config.user.name.as_deref());
            let created = workspaces::create(
                db,
                workspaces::NewWorkspace {
                    slug: &slug,
                    name: &name,
                    owner: owner.as_ref().map(|email| (email, owner_name)),
                },
            )
            .await?;
            let api_key: &SecretString = &created.api_key;
            if json.json {
                let ws = &created.workspace;
                output::json(&json!({
                    "id": ws.id,
                    "slug": ws.slug,
                    "name": ws.name,
                    "api_key": api_key.expose_secret(),
                    "created_at": ws.created_at,
                    "owner": created.owner,
                }))?;
            } else {
                let ws = &created.workspace;
                println!("created workspace {} ({})", ws.slug, ws.name);
                println!("id:      {}", ws.id);
                println!("api key: {}", api_key.expose_secret());
                match &created.owner {
                    Some(owner) => println!("owner:   {}", owner.email),
                    None => println!(
                        "owner:   none yet; add one with `treeex member add --workspace {} --email EMAIL --role owner`, or set [user] email",
                        ws.slug
                    ),
                }
            }
            Ok(())
        }
        WorkspaceCommand::List { json } => {
            let list = workspaces::list(db).await?;
            if json.json {
                output::json(&list)?;
            } else {
                print!(
                    "{}",
                    output::table(
                        &["SLUG", "NAME", "ID", "CREATED"],
                        list.iter().map(|w| vec![
                            w.slug.clone(),
                            w.name.clone(),
                            w.id.to_string(),
                            time(w.created_at),
                        ]),
                    )
                );
            }
            Ok(())
        }
    }
}

async fn member(db: &Db, command: MemberCommand) -> Result<(), Failure> {
    match command {
        MemberCommand::Add {
            workspace,
            email,
            role,
            name,
            json,
        } => {
            let id = workspace_id(db, &workspace.workspace).await?;
            let member = members::add(db, id, &email, name.as_deref(), role).await?;
            if json.json {
                output::json(&member)?;
            } else {
                println!(
                    "added {} to {} as {}",
                    member.email, workspace.workspace, member.role
                );
            }
            Ok(())
        }
        MemberCommand::List { workspace, json } => {
            let id = workspace_id(db, &workspace.workspace).await?;
            let list = members::list(db, id).await?;
            if json.json {
                output::json(&list)?;
            } else {
                print!(
                    "{}",
                    output::table(
                        &["EMAIL", "NAME", "ROLE", "SINCE"],
                        list.iter().map(|m| vec![
                            m.email.clone(),
                            or_dash(m.name.as_deref()),
                            m.role.to_string(),
                            time(m.created_at),
                        ]),
                    )
                );
            }
            Ok(())
        }
    }
}

async fn phone(db: &Db, command: PhoneCommand) -> Result<(), Failure> {
    match command {
        PhoneCommand::Add {
            workspace,
            phone_number_id,
            display_phone_number,
            waba_id,
            access_token,
            mps,
            json,
        } => {
            let id = workspace_id(db, &workspace.workspace).await?;
            let access_token = SecretString::from(access_token);
            let phone = phones::add(
                db,
                id,
                NewPhoneNumber {
                    phone_number_id: &phone_number_id,
                    display_phone_number: &display_phone_number,
                    waba_id: &waba_id,
                    access_token: &access_token,
                    mps,
                },
            )
            .await?;
            if json.json {
                output::json(&phone)?;
            } else {
                println!(
                    "connected {} (phone number id {}) to {}",
                    phone.display_phone_number, phone.phone_number_id, workspace.workspace
                );
            }
            Ok(())
        }
        PhoneCommand::List { workspace, json } => {
            let id = workspace_id(db, &workspace.workspace).await?;
            let list = phones::list(db, id).await?;
            if json.json {
                output::json(&list)?;
            } else {
                print!(
                    "{}",
                    output::table(
                        &["NUMBER", "PHONE NUMBER ID", "WABA ID", "MPS"],
                        list.iter().map(|p| vec![
                            p.display_phone_number.clone(),
                            p.phone_number_id.clone(),
                            p.waba_id.clone(),
                            p.mps.to_string(),
                        ]),
                    )
                );
            }
            Ok(())
        }
    }
}

async fn contact(db: &Db, command: ContactCommand) -> Result<(), Failure> {
    match command {
        ContactCommand::Add {
            workspace,
            wa_id,
            name,
            tags,
            opted_in,
            json,
        } => {
            let id = workspace_id(db, &workspace.workspace).await?;
            let mut tags = tags;
            tags.sort();
            tags.dedup();
            let contact = contacts::add(
                db,
                id,
                &NewContact {
                    wa_id,
                    name: name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
                    tags,
                    opted_in: Some(opted_in),
                    custom_fields: Default::default(),
                },
            )
            .await?;
            if json.json {
                output::json(&contact)?;
            } else {
                println!(
                    "added contact {} to {}",
                    contact.wa_id.as_deref().unwrap_or_default(),
                    workspace.workspace
                );
            }
            Ok(())
        }
        ContactCommand::List {
            workspace,
            tags,
            json,
        } => contact_list(db, &workspace.workspace, &tags, json.json).await,
        ContactCommand::Import {
            workspace,
            file,
            json,
        } => {
            let id = workspace_id(db, &workspace.workspace).await?;
            let input = std::fs::File::open(&file)
                .with_context(|| format!("cannot open {}", file.display()))?;
            let report = contact_import::import(db, id, std::io::BufReader::new(input))
                .await
                .map_err(|e| match e {
                    ImportError::Store(e) => Failure::from(e),
                    other => Failure::Work(
                        anyhow::Error::new(other)
                            .context(format!("cannot import {}", file.display())),
                    ),
                })?;
            if json.json {
                output::json(&report)?;
            } else {
                for row in report
                    .rows
                    .iter()
                    .filter(|r| r.outcome == Outcome::Rejected)
                {
                    println!(
                        "line {}: rejected{}: {}",
                        row.line,
                        row.wa_id
                            .as_deref()
                            .map(|w| format!(" ({w})"))
                            .unwrap_or_default(),
                        row.reason.as_deref().unwrap_or_default()
                    );
                }
                println!(
                    "{} imported, {} updated, {} rejected",
                    report.imported, report.updated, report.rejected
                );
            }
            Ok(())
        }
    }
}

/// Lists contacts a page at a time, printing each page as it comes, so a workspace of a
/// million contacts never sits in memory at once.
async fn contact_list(db: &Db, slug: &Slug, tags: &[Tag], json: bool) -> Result<(), Failure> {
    const PAGE: i64 = 1000;
    let id = workspace_id(db, slug).await?;
    let tags: Vec<String> = tags.iter().map(|t| t.as_str().to_string()).collect();
    let mut out = std::io::stdout().lock();
    let mut after: Option<String> = None;
    let mut first = true;
    if json {
        write!(out, "[").map_err(anyhow::Error::from)?;
    }
    loop {
        let page = contacts::page(db, id, &tags, after.as_deref(), PAGE).await?;
        if json {
            for contact in &page {
                let sep = if first { "\n" } else { ",\n" };
                write!(
                    out,
                    "{sep}{}",
                    serde_json::to_string(contact).map_err(anyhow::Error::from)?
                )
                .map_err(anyhow::Error::from)?;
                first = false;
            }
        } else {
            let rows = page.iter().map(|c| {
                vec![
                    c.wa_id.clone().unwrap_or_default(),
                    or_dash(c.name.as_deref()),
                    if c.opted_in { "yes" } else { "no" }.to_string(),
                    c.tags.join(","),
                ]
            });
            let text = output::table(&["WA_ID", "NAME", "OPTED_IN", "TAGS"], rows);
            // The header once, at the top of the first page.
            let text = if first {
                text
            } else {
                text.lines().skip(1).map(|l| format!("{l}\n")).collect()
            };
            if !page.is_empty() || first {
                write!(out, "{text}").map_err(anyhow::Error::from)?;
            }
            first = false;
        }
        if page.len() < PAGE as usize {
            break;
        }
        after = page.last().and_then(|c| c.wa_id.clone());
    }
    if json {
        writeln!(out, "{}]", if first { "" } else { "\n" }).map_err(anyhow::Error::from)?;
    }
    Ok(())
}
