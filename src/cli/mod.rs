//! The command line: clap commands, each calling one use case and printing its result as a
//! table or, with `--json`, as one JSON document on stdout and nothing else.
//!
//! Exit status: 0 done; 1 the work failed; 2 bad usage or bad configuration. An error is one
//! line on stderr saying what was wrong and what to do, then its causes.

mod campaign;
mod commands;
mod demo;
mod doctor;
mod output;
mod send;
mod serve;
mod simulate;
mod tui;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{Config, ConfigError, Environment, Paths};
use crate::domain::{Email, Role, Slug, Tag, WaId};
use crate::store::{Db, StoreError};

#[derive(Debug, Parser)]
#[command(
    name = "treeex",
    version,
    about = "A terminal inbox for the WhatsApp Business Platform"
)]
pub struct Cli {
    /// The configuration file (default: $TREEEX_CONFIG, then config.toml in the platform's
    /// config directory).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// No command: the inbox TUI (`treeex --workspace acme` works as `treeex tui` does).
    #[command(flatten)]
    pub tui: TuiArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct TuiArgs {
    /// Open this workspace (default: the one used last, or a picker).
    #[arg(long, value_name = "SLUG")]
    pub workspace: Option<Slug>,
    /// Run without the embedded webhook listener and outbox worker (when `treeex serve` runs
    /// them for the team).
    #[arg(long)]
    pub no_listener: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The inbox TUI (also what `treeex` alone opens).
    Tui(TuiArgs),
    /// Run headless: the webhook listener for a whole team; logs to stdout and the log file;
    /// stops cleanly on SIGINT and SIGTERM.
    Serve {
        /// The listen address (default: [server] listen).
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
    },
    /// Everything local, nothing to configure: the managed PostgreSQL (a database of its own),
    /// the Cloud API simulator, the seeded "Acme Demo" workspace with customers writing in,
    /// and the inbox on it.
    Demo(DemoArgs),
    /// The Cloud API simulator alone: Meta's Graph API subset, signed webhooks and simulated
    /// customers, for integrating and testing without a Meta account.
    Simulate(SimulateArgs),
    /// Apply the database migrations (every command also applies pending ones at start).
    Migrate,
    /// Check the configuration, the database, the PostgreSQL server binaries, the listener
    /// address, the Graph API and the access tokens; one line per check, exit 1 if any fails.
    Doctor {
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Workspaces: the tenants.
    #[command(subcommand, arg_required_else_help = true)]
    Workspace(WorkspaceCommand),
    /// Members of a workspace and their roles.
    #[command(subcommand, arg_required_else_help = true)]
    Member(MemberCommand),
    /// Connected WhatsApp business phone numbers.
    #[command(subcommand, arg_required_else_help = true)]
    Phone(PhoneCommand),
    /// Contacts: the customers of a workspace.
    #[command(subcommand, arg_required_else_help = true)]
    Contact(ContactCommand),
    /// Signed webhook bodies that could not be applied, and re-applying them.
    #[command(subcommand, arg_required_else_help = true)]
    Webhook(WebhookCommand),
    /// Message templates: pull them from the Graph API, list them.
    #[command(subcommand, arg_required_else_help = true)]
    Template(TemplateCommand),
    /// Queue one message through the outbox; prints its id.
    Send(SendArgs),
    /// Campaigns: one approved template to an audience of contacts, paced and tracked.
    #[command(subcommand, arg_required_else_help = true)]
    Campaign(CampaignCommand),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Run without the TUI until interrupted; first print `database: URL`, `simulator:
    /// http://ADDR` and `listener: http://ADDR`, one per line.
    #[arg(long)]
    pub headless: bool,
    /// Start the demo data over.
    #[arg(long)]
    pub fresh: bool,
}

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Define a campaign: a DRAFT, or SCHEDULED with --at. Prints the audience size and a
    /// preview for one of its contacts.
    Create(Box<CampaignCreateArgs>),
    /// The workspace's campaigns with status and counters, newest first.
    List {
        #[command(flatten)]
        workspace: WorkspaceArg,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// One campaign: status, counters and failure reasons.
    Show(CampaignId),
    /// Start a DRAFT or SCHEDULED campaign now: its audience is taken and sending begins.
    Start(CampaignId),
    /// Pause a RUNNING campaign; what has not left yet is held back.
    Pause(CampaignId),
    /// Resume a PAUSED campaign.
    Resume(CampaignId),
    /// Cancel a campaign that is not finished; nothing more is sent.
    Cancel(CampaignId),
    /// Send the failed recipients again (a COMPLETED campaign runs again for them).
    RetryFailed(CampaignId),
}

#[derive(Debug, Args)]
pub struct CampaignId {
    /// The campaign's id, as `campaign list` shows it.
    pub id: uuid::Uuid,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Args)]
pub struct CampaignCreateArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// What the supervisors call it.
    #[arg(long)]
    pub name: String,
    /// The business number to send from (Meta's phone number id).
    #[arg(long, value_name = "ID", value_parser = meta_id)]
    pub phone_number_id: String,
    /// An APPROVED template, by name.
    #[arg(long, value_name = "NAME")]
    pub template: String,
    /// The template's language code, e.g. en_US.
    #[arg(long, value_name = "CODE")]
    pub language: String,
    /// Contacts with this tag; repeat for any of several (none: every contact).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<Tag>,
    /// Only contacts that also have this tag; repeat to require several.
    #[arg(long = "require-tag", value_name = "TAG")]
    pub require_tags: Vec<Tag>,
    /// Leave out contacts with this tag; repeat for several.
    #[arg(long = "exclude-tag", value_name = "TAG")]
    pub exclude_tags: Vec<Tag>,
    /// A template parameter in the template's order: a literal, or `{name}`, `{wa_id}` or
    /// `{<custom field>}` from each contact (`{name|there}` for contacts without one).
    #[arg(long = "param", value_name = "VALUE")]
    pub params: Vec<String>,
    /// Start at this time (RFC 3339, e.g. 2026-12-24T09:00:00Z).
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<chrono::DateTime<chrono::FixedOffset>>,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Where the simulated Graph API and its /_sim endpoints listen.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8090")]
    pub listen: SocketAddr,
    /// Where to post signed webhooks (treeex's listener: http://ADDR/webhook).
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// The app secret that signs the webhooks (default: [whatsapp] app_secret).
    #[arg(long, value_name = "S", hide_env_values = true)]
    pub app_secret: Option<String>,
    /// Simulated customers who write in and answer.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub customers: usize,
    /// Sends accepted per second per number; above it Meta's 130429.
    #[arg(long, value_name = "N", default_value_t = 80)]
    pub mps: u32,
}

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Pull every template of the workspace's WhatsApp Business Accounts (or of one number's).
    Sync {
        #[command(flatten)]
        workspace: WorkspaceArg,
        #[arg(long, value_name = "ID", value_parser = meta_id)]
        phone_number_id: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// List the workspace's templates with their status.
    List {
        #[command(flatten)]
        workspace: WorkspaceArg,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").required(true).multiple(false))]
#[command(group = clap::ArgGroup::new("file").multiple(false))]
pub struct SendArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// The business number to send from (Meta's phone number id).
    #[arg(long, value_name = "ID", value_parser = meta_id)]
    pub phone_number_id: String,
    /// The customer's WhatsApp number.
    #[arg(long, value_name = "WA_ID")]
    pub to: WaId,
    /// A free-form text (only inside the customer's 24-hour window).
    #[arg(long, group = "what")]
    pub text: Option<String>,
    /// An approved template, by name.
    #[arg(long, group = "what", value_name = "NAME", requires = "language")]
    pub template: Option<String>,
    /// The template's language code, e.g. en_US.
    #[arg(long, value_name = "CODE", requires = "template")]
    pub language: Option<String>,
    /// A template parameter, in the template's order; repeat for more.
    #[arg(long = "param", value_name = "VALUE", requires = "template")]
    pub params: Vec<String>,
    /// An image (JPEG or PNG, at most 5 MB), only inside the customer's 24-hour window.
    #[arg(long, value_name = "FILE", groups = ["what", "file"])]
    pub image: Option<std::path::PathBuf>,
    /// A document (PDF, text, Word, Excel or PowerPoint, at most 100 MB), only inside the
    /// customer's 24-hour window.
    #[arg(long, value_name = "FILE", groups = ["what", "file"])]
    pub document: Option<std::path::PathBuf>,
    /// The caption of an --image or --document.
    #[arg(long, value_name = "TEXT", requires = "file")]
    pub caption: Option<String>,
    /// Wait for the Graph API's answer and print the status.
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// The parts of signed webhooks that could not be applied and are not resolved yet, newest
    /// first: of one workspace, or without --workspace every one, including those of numbers
    /// no workspace has.
    Failures {
        #[arg(long, value_name = "SLUG")]
        workspace: Option<Slug>,
        /// At most this many.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(1..))]
        limit: i64,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Apply a kept failure again (after connecting its number, syncing its template, or
    /// upgrading treeex); exits 1 when it still cannot be applied.
    Replay {
        /// The failure's id, as `webhook failures` shows it.
        id: uuid::Uuid,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print one JSON document and nothing else.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WorkspaceArg {
    /// The workspace's slug.
    #[arg(long, value_name = "SLUG")]
    pub workspace: Slug,
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace; prints its id and api key. The owner becomes its OWNER.
    Create {
        /// Lowercase letters, digits and `-`.
        slug: Slug,
        #[arg(long)]
        name: String,
        /// The owner's email (default: [user] email).
        #[arg(long, value_name = "EMAIL")]
        owner: Option<Email>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// List the workspaces.
    List {
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Add a person to a workspace with a role (the user is created on first use).
    Add {
        #[command(flatten)]
        workspace: WorkspaceArg,
        #[arg(long, value_name = "EMAIL")]
        email: Email,
        /// owner, admin or member.
        #[arg(long)]
        role: Role,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// List a workspace's members.
    List {
        #[command(flatten)]
        workspace: WorkspaceArg,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum PhoneCommand {
    /// Connect a WhatsApp business number to a workspace.
    Add {
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// Meta's phone number id (digits).
        #[arg(long, value_name = "ID", value_parser = meta_id)]
        phone_number_id: String,
        /// The number as people see it, e.g. "+1 555 010 0000".
        #[arg(long, value_name = "NUMBER")]
        display_phone_number: String,
        /// The WhatsApp Business Account id (digits).
        #[arg(long, value_name = "ID", value_parser = meta_id)]
        waba_id: String,
        /// The access token for the Graph API (stored, never printed).
        #[arg(long, value_name = "TOKEN", hide_env_values = true)]
        access_token: String,
        /// The number's send rate cap, in messages a second.
        #[arg(long, value_name = "N", default_value_t = 80, value_parser = clap::value_parser!(i32).range(1..=1000))]
        mps: i32,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// List a workspace's numbers (without their tokens).
    List {
        #[command(flatten)]
        workspace: WorkspaceArg,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// Add one contact.
    Add {
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// The customer's WhatsApp number, with country code (`+` and separators are fine).
        #[arg(long, value_name = "NUMBER")]
        wa_id: WaId,
        #[arg(long)]
        name: Option<String>,
        /// A tag; repeat for more.
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<Tag>,
        /// The customer agreed to receive marketing messages.
        #[arg(long)]
        opted_in: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// List contacts, optionally only those with every given tag.
    List {
        #[command(flatten)]
        workspace: WorkspaceArg,
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<Tag>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Import contacts from a CSV file (columns: phone, name, tags, opted_in, and any other
    /// column as a custom field); reports every row's outcome.
    Import {
        #[command(flatten)]
        workspace: WorkspaceArg,
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
        #[command(flatten)]
        json: JsonFlag,
    },
}

fn meta_id(raw: &str) -> Result<String, String> {
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        Ok(raw.to_string())
    } else {
        Err(format!(
            "`{raw}` is not a Meta id: Meta's ids are digits only"
        ))
    }
}

/// Why a command did not finish, and the exit status that says so.
#[derive(Debug)]
pub enum Failure {
    /// Bad usage or bad configuration: exit 2.
    Usage(anyhow::Error),
    /// The work failed: exit 1.
    Work(anyhow::Error),
    /// The work failed and the command has said how itself (doctor's failed checks): exit 1,
    /// nothing more printed.
    Reported,
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Work(_) | Failure::Reported => 1,
        }
    }

    fn error(&self) -> Option<&anyhow::Error> {
        match self {
            Failure::Usage(e) | Failure::Work(e) => Some(e),
            Failure::Reported => None,
        }
    }
}

impl From<ConfigError> for Failure {
    fn from(error: ConfigError) -> Self {
        Failure::Usage(error.into())
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Invalid(_) => Failure::Usage(error.into()),
            _ => Failure::Work(error.into()),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure::Work(error)
    }
}

/// The whole program behind `main`: parse, configure, run, report.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version go to stdout with 0; usage errors to stderr with 2.
        Err(error) => error.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            report(&Failure::Work(
                anyhow::Error::new(error).context("cannot start the async runtime"),
            ));
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            report(&failure);
            ExitCode::from(failure.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let env = Environment::from_process();
    // Before the configuration is loaded: a bad one is one of the things doctor reports.
    if let Some(Command::Doctor { json }) = &cli.command
        && cli.tui.workspace.is_none()
        && !cli.tui.no_listener
    {
        return doctor::run(cli.config.as_deref(), &env, json.json).await;
    }
    let paths = Paths::from_platform()?;
    let config = Config::load(cli.config.as_deref(), &env, &paths)?;
    let echo = match cli.command {
        Some(Command::Serve { .. } | Command::Simulate(_)) => crate::logging::Echo::Stdout,
        _ => crate::logging::Echo::FileOnly,
    };
    let _log = crate::logging::init(&config, &paths, echo);
    let command = match cli.command {
        None => Command::Tui(cli.tui),
        Some(_) if cli.tui.workspace.is_some() || cli.tui.no_listener => {
            return Err(Failure::Usage(anyhow::anyhow!(
                "--workspace and --no-listener before a command belong to the inbox; give them after `tui`, or leave the command out"
            )));
        }
        Some(command) => command,
    };
    if matches!(command, Command::Tui(_))
        || matches!(&command, Command::Demo(args) if !args.headless)
    {
        // Before any database is opened: a script that runs `treeex` alone learns at once.
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
            let instead = if matches!(command, Command::Demo(_)) {
                "`treeex demo --headless` runs the demo without one"
            } else {
                "`treeex --help` lists the other commands"
            };
            return Err(Failure::Usage(anyhow::anyhow!(
                "the inbox needs a terminal; {instead}"
            )));
        }
    }
    if let Command::Simulate(args) = command {
        return simulate::run(&config, args).await;
    }
    // The demo opens a database of its own.
    if let Command::Demo(args) = command {
        return demo::run(&config, &paths, args).await;
    }
    let db = Db::open(&config, &paths).await?;
    let result = commands::run(&db, &config, command).await;
    db.close().await;
    result
}

/// One line saying what went wrong, then its causes, each on its own line.
fn report(failure: &Failure) {
    let Some(error) = failure.error() else {
        return;
    };
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
}
