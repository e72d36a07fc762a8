//! `treeex campaign …`: define campaigns, control them, and show their funnel.

use chrono::Utc;
use serde_json::json;

use super::commands::workspace_id;
use super::output::{self, or_dash, time};
use super::{CampaignCommand, CampaignCreateArgs, CampaignId, Failure};
use crate::app::campaigns::{self, CampaignError, Created, Definition};
use crate::config::Config;
use crate::domain::campaign::Audience;
use crate::domain::{Email, Move, Role, WorkspaceId};
use crate::store::campaigns::{Campaign, FailureReason};
use crate::store::{Db, users};

pub async fn run(db: &Db, config: &Config, command: CampaignCommand) -> Result<(), Failure> {
    let (target, attempted) = match command {
        CampaignCommand::Create(args) => return create(db, config, *args).await,
        CampaignCommand::List { workspace, json } => {
            let id = workspace_id(db, &workspace.workspace).await?;
            let list = crate::store::campaigns::list(db, id, 1000).await?;
            return print_list(&list, json.json);
        }
        CampaignCommand::Show(target) => return show(db, &target).await,
        CampaignCommand::Start(target) => (target, Move::Start),
        CampaignCommand::Pause(target) => (target, Move::Pause),
        CampaignCommand::Resume(target) => (target, Move::Resume),
        CampaignCommand::Cancel(target) => (target, Move::Cancel),
        CampaignCommand::RetryFailed(target) => (target, Move::RetryFailed),
    };
    let workspace = crate::store::campaigns::workspace_of(db, target.id).await?;
    let actor = actor(db, config, workspace).await?;
    let campaign = campaigns::control(db, workspace, target.id, actor.map(|a| a.1), attempted)
        .await
        .map_err(failure)?;
    if target.json.json {
        output::json(&campaign)?;
    } else {
        println!(
            "campaign {} is {} ({} recipients)",
            campaign.id, campaign.status, campaign.total_contacts
        );
    }
    Ok(())
}

/// Who runs the command: `[user] email` and their role in the workspace; none when no user is
/// configured (the operator, who holds the database anyway). A configured user who is not a
/// member may not act on the workspace's campaigns.
async fn actor(
    db: &Db,
    config: &Config,
    workspace: WorkspaceId,
) -> Result<Option<(uuid::Uuid, Role)>, Failure> {
    let Some(email) = config.user.email.as_deref() else {
        return Ok(None);
    };
    let email = Email::parse(email).map_err(|e| Failure::Usage(e.into()))?;
    let user = users::by_email(db, &email).await?.ok_or_else(|| {
        Failure::Work(anyhow::anyhow!(
            "{email} ([user] email) is not a member of this workspace; `treeex member add` makes them one"
        ))
    })?;
    let role = users::memberships(db, user.id)
        .await?
        .into_iter()
        .find(|m| m.workspace.workspace_id() == workspace)
        .map(|m| m.role)
        .ok_or_else(|| {
            Failure::Work(anyhow::anyhow!(
                "{email} ([user] email) is not a member of this workspace; `treeex member add` makes them one"
            ))
        })?;
    Ok(Some((user.id, role)))
}

fn failure(error: CampaignError) -> Failure {
    match error {
        CampaignError::Store(error) => error.into(),
        other => Failure::Work(other.into()),
    }
}

async fn create(db: &Db, config: &Config, args: CampaignCreateArgs) -> Result<(), Failure> {
    let workspace = workspace_id(db, &args.workspace.workspace).await?;
    let actor = actor(db, config, workspace).await?;
    let definition = Definition {
        workspace,
        name: args.name,
        phone_number_id: args.phone_number_id,
        template: args.template,
        language: args.language,
        audience: Audience::new(&args.tags, &args.require_tags, &args.exclude_tags),
        parameters: args.params,
        at: args.at.map(|at| at.with_timezone(&Utc)),
        created_by: actor.map(|a| a.0),
    };
    let created = campaigns::create(db, &definition).await.map_err(failure)?;
    if args.json.json {
        output::json(&created)?;
    } else {
        print_created(&created);
    }
    Ok(())
}

fn print_created(created: &Created) {
    let campaign = &created.campaign;
    println!("created campaign {} ({})", campaign.id, campaign.status);
    let audience: Audience = serde_json::from_value(campaign.audience.clone()).unwrap_or_default();
    println!(
        "audience: {} contacts ({}{})",
        created.audience_size,
        audience.describe(),
        if created.opt_in_required {
            ", opted in"
        } else {
            ""
        }
    );
    match &created.preview {
        Some(preview) => {
            let who = preview.name.as_deref().unwrap_or(&preview.wa_id);
            match &preview.text {
                Ok(text) => println!("preview for {who}: {text}"),
                Err(why) => println!("preview for {who}: would be skipped: {why}"),
            }
        }
        None => println!("preview: no contact in the audience yet"),
    }
    match campaign.scheduled_at {
        Some(at) => println!("starts at {}", time(at)),
        None => println!("start it with `treeex campaign start {}`", campaign.id),
    }
}

async fn show(db: &Db, target: &CampaignId) -> Result<(), Failure> {
    let workspace = crate::store::campaigns::workspace_of(db, target.id).await?;
    let campaign = crate::store::campaigns::get(db, workspace, target.id).await?;
    let reasons = crate::store::campaigns::failure_reasons(db, workspace, target.id, 20).await?;
    if target.json.json {
        let mut value = serde_json::to_value(&campaign).map_err(anyhow::Error::from)?;
        value["failure_reasons"] = json!(reasons);
        output::json(&value)?;
        return Ok(());
    }
    print_show(&campaign, &reasons);
    Ok(())
}

fn print_show(campaign: &Campaign, reasons: &[FailureReason]) {
    println!("{} · {}", campaign.name, campaign.status);
    println!("id        {}", campaign.id);
    println!(
        "template  {} ({}, {})",
        campaign.template_name, campaign.template_language, campaign.template_category
    );
    println!(
        "number    {} (cap {}/s)",
        campaign.display_phone_number, campaign.mps
    );
    println!(
        "started   {}",
        or_dash(campaign.started_at.map(time).as_deref())
    );
    if let Some(at) = campaign.scheduled_at {
        println!("scheduled {}", time(at));
    }
    if let Some(at) = campaign.completed_at {
        println!("ended     {}", time(at));
    }
    let total = campaign.total_contacts;
    let rows = std::iter::once(("recipients", total)).chain(campaign.funnel());
    print!(
        "{}",
        output::table(
            &["", "count", "of recipients"],
            rows.map(|(label, n)| vec![label.to_string(), n.to_string(), percent(n, total)])
        )
    );
    if !reasons.is_empty() {
        println!("failures:");
        print!(
            "{}",
            output::table(
                &["code", "count", "reason"],
                reasons.iter().map(|r| vec![
                    or_dash(r.error_code.map(|c| c.to_string()).as_deref()),
                    r.count.to_string(),
                    or_dash(r.error_details.as_deref()),
                ])
            )
        );
    }
}

fn percent(n: i32, total: i32) -> String {
    if total == 0 {
        return "-".into();
    }
    format!("{:.1}%", f64::from(n) * 100.0 / f64::from(total))
}

fn print_list(list: &[Campaign], json: bool) -> Result<(), Failure> {
    if json {
        output::json(list)?;
        return Ok(());
    }
    print!(
        "{}",
        output::table(
            &[
                "id",
                "name",
                "status",
                "template",
                "recipients",
                "sent",
                "delivered",
                "read",
                "replied",
                "failed",
                "skipped",
                "started",
            ],
            list.iter().map(|c| vec![
                c.id.to_string(),
                c.name.clone(),
                c.status.to_string(),
                c.template_name.clone(),
                c.total_contacts.to_string(),
                c.sent_count.to_string(),
                c.delivered_count.to_string(),
                c.read_count.to_string(),
                c.replied_count.to_string(),
                c.failed_count.to_string(),
                c.skipped_count.to_string(),
                or_dash(c.started_at.map(time).as_deref()),
            ])
        )
    );
    Ok(())
}
