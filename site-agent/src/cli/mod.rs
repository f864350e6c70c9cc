//! The `site-agent` command line: the clap tree and its dispatch. Parsing, logging and exit
//! statuses are the skeleton both binaries share (`socfed_runtime::cli`: [`main`] is
//! `socfed_runtime::cli::main`, the statuses are its table); operator commands reach the
//! agent through [`client::Conn`], the shared client flags with `--agent`.

mod client;
mod raise;
mod soc;

use crate::config::{AgentConfig, ConfigError, EXAMPLE};
use clap::{Parser, Subcommand};
use socfed_runtime::cli::{ConfigCommand, GlobalArgs};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "site-agent",
    version,
    about = "socfed site agent: the local SOC's durable link to the SIRT hub"
)]
pub struct Cli {
    #[command(flatten)]
    pub globals: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the agent.
    Serve {
        #[arg(long, short, env = "SOCFED_AGENT_CONFIG")]
        config: PathBuf,
    },
    /// Print or check configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Raise an incident at this site and queue its escalation to the hub.
    Escalate(client::EscalateArgs),
    /// Raise many incidents from a JSON-lines file, in batches (`RaiseIncidents`).
    Raise(raise::RaiseArgs),
    /// Show the agent's link to the hub: connection, outbox backlog, cap policy and counters.
    Status(client::StatusArgs),
    /// Submit alerts (JSON lines, or an OCSF JSON array) to the local SOC.
    Ingest(soc::IngestArgs),
    /// Alert groups: list, show, acknowledge, assign, comment, escalate, close, reopen.
    #[command(subcommand)]
    Alerts(soc::AlertsCommand),
    /// Local incidents: list, show, promote alert groups, escalate to the hub, update.
    #[command(subcommand)]
    Incidents(soc::IncidentsCommand),
    /// The site roster: who works here, in which role and when.
    #[command(subcommand)]
    Roster(soc::RosterCommand),
    /// Shift coverage and job-rotation duty.
    #[command(subcommand)]
    Shifts(soc::ShiftsCommand),
    /// A one-time sign-in link for the site's SOC console (web), for your operator certificate.
    Login(soc::LoginArgs),
    /// Recent notifications: unassigned alerts, SLA breaches, escalations to the hub.
    Notifications(soc::NotificationsArgs),
    /// The site's tamper-evident audit log.
    #[command(subcommand)]
    Audit(soc::AuditCommand),
    /// Directives from the SIRT hub: list, show, approve or reject destructive actions.
    #[command(subcommand)]
    Directives(soc::DirectivesCommand),
    /// Tasks from the SIRT hub: list, acknowledge, start, complete or decline.
    #[command(subcommand)]
    Tasks(soc::TasksCommand),
    /// The HTTP API's tokens for integrations: create (shown once), list, revoke.
    #[command(subcommand)]
    Tokens(soc::TokensCommand),
    /// Triage KPIs per tier, analyst, rule, shift and ISO week.
    Kpis(soc::KpisArgs),
    /// Runbooks: the site's own and the hub's, matched to alert groups and incidents.
    #[command(subcommand)]
    Runbooks(soc::RunbooksCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Back up or restore the agent store (the agent must be stopped).
    #[command(subcommand)]
    Db(socfed_runtime::cli::DbCommand),
}

impl socfed_runtime::cli::Binary for Cli {
    fn globals(&self) -> &GlobalArgs {
        &self.globals
    }

    fn run(self) -> impl std::future::Future<Output = anyhow::Result<()>> {
        run(self.command)
    }

    fn is_config_error(e: &anyhow::Error) -> bool {
        e.downcast_ref::<ConfigError>().is_some()
            || e.downcast_ref::<crate::app::StartError>()
                .is_some_and(crate::app::StartError::is_config)
    }
}

pub fn main() -> ExitCode {
    socfed_runtime::cli::main::<Cli>()
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { config } => {
            let config = AgentConfig::load(&config)?;
            let metrics = match &config.admin {
                Some(_) => {
                    Some(socfed_runtime::admin::install_recorder().map_err(anyhow::Error::msg)?)
                }
                None => None,
            };
            let admin_listen = config.admin.as_ref().map(|a| a.listen);
            let agent = crate::app::start(config).await?;
            let token = agent.shutdown_token();
            if let (Some(listen), Some(metrics)) = (admin_listen, metrics) {
                socfed_runtime::admin::serve(
                    listen,
                    metrics,
                    agent.readiness(),
                    agent.admin_gate(),
                    token.clone(),
                )
                .await
                .map_err(anyhow::Error::msg)?;
            }
            tokio::spawn(async move {
                socfed_runtime::cli::wait_for_signal().await;
                tracing::info!("shutting down");
                token.cancel();
            });
            agent.wait().await?;
            Ok(())
        }
        Command::Config(ConfigCommand::Example) => {
            socfed_runtime::outln!("{}", EXAMPLE.trim_end());
            Ok(())
        }
        Command::Config(ConfigCommand::Check { file, config }) => {
            let file = ConfigCommand::checked_file(file, config);
            let config = AgentConfig::load(&file)?;
            // What `serve` would trip over: the TLS files, opened and checked.
            let tls = socfed_runtime::tls_check::check_files(
                &config.tls,
                &config.trust_domain,
                &socfed_proto::identity::Identity::Site(config.site_id.clone()),
                socfed_proto::now_millis() / 1000,
            )
            .map_err(|e| {
                // A configuration error (exit 78), naming the file and the table.
                anyhow::Error::from(crate::app::StartError::Tls(e))
                    .context(format!("{}: [tls]", file.display()))
            })?;
            // The webhook sinks' secret, header and CA files, read as `serve` reads them.
            socfed_runtime::webhook::load_all(&config.webhooks)
                .map(drop)
                .map_err(|e| {
                    anyhow::Error::from(crate::app::StartError::Webhook(e))
                        .context(format!("{}: [[webhooks]]", file.display()))
                })?;
            socfed_runtime::outln!(
                "{}: valid (site {}, hub {}; certificate {}; {})",
                file.display(),
                config.site_id,
                config.hub.address_list().join(", "),
                tls.identity,
                tls.crl.map_or("no CRL configured".to_string(), |c| format!(
                    "CRL number {}",
                    c.number_hex()
                ))
            );
            Ok(())
        }
        Command::Escalate(args) => client::escalate(args).await,
        Command::Status(args) => client::status(args).await,
        Command::Raise(args) => raise::run(args).await,
        Command::Ingest(args) => soc::ingest::run(args).await,
        Command::Alerts(command) => soc::alerts::run(command).await,
        Command::Incidents(command) => soc::incidents::run(command).await,
        Command::Roster(command) => soc::roster::run(command).await,
        Command::Shifts(command) => soc::roster::run_shifts(command).await,
        Command::Notifications(args) => soc::notifications::run(args).await,
        Command::Login(args) => soc::login::run(args).await,
        Command::Audit(command) => soc::audit::run(command).await,
        Command::Tokens(command) => soc::tokens::run(command).await,
        Command::Kpis(args) => soc::casework::kpis(args).await,
        Command::Runbooks(command) => soc::runbooks::run(command).await,
        Command::Directives(command) => soc::directives::run(command).await,
        Command::Tasks(command) => soc::directives::run_tasks(command).await,
        Command::Completions { shell } => {
            socfed_runtime::cli::print_completions::<Cli>(shell, "site-agent")
        }
        Command::Db(command) => {
            let config = AgentConfig::load(command.config())?;
            socfed_runtime::cli::run_db(
                &command,
                &config.data_dir,
                "site-agent",
                &crate::store::check::record,
                &crate::store::samples::check_beside,
            )
        }
    }
}
