//! The `sirt-hub` command line: parse, dispatch, map errors to exit codes.
//!
//! Exit codes: 0 success, 1 failure, 2 usage, 78 configuration error (EX_CONFIG).

mod comms;
mod operators;
mod pki;
mod query;
pub(crate) mod render;
mod report;
mod response;

use crate::config::{ConfigError, EXAMPLE, HubConfig};
use clap::{Parser, Subcommand};
use socfed_runtime::cli::{ClientTlsArgs, ConfigCommand, LogFormat, OutputFormat};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "sirt-hub",
    version,
    about = "socfed SIRT hub: federated incident escalation across SOC sites"
)]
pub struct Cli {
    /// Log format on stderr (filter with RUST_LOG).
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the hub.
    Serve {
        #[arg(long, short, env = "SOCFED_HUB_CONFIG")]
        config: PathBuf,
    },
    /// Print or check configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Organisation PKI: CA, hub, site and operator certificates.
    #[command(subcommand)]
    Pki(pki::PkiCommand),
    /// Cross-site incidents.
    Incidents(query::IncidentsArgs),
    /// Per-site federation status.
    Sites(query::SitesArgs),
    /// Escalations kept for review (conflicting replays, rejected reports).
    Conflicts(query::ConflictsArgs),
    /// The hub's hash-chained audit log.
    Audit(query::AuditArgs),
    /// One incident as a report (summary, sites, regulatory clocks, timeline).
    Report(report::ReportArgs),
    /// Response KPIs overall and per site: median time to triage, to contain, to resolve.
    Kpis(report::KpisArgs),
    /// A sign-in link for the web dashboard, made with your operator certificate.
    Login(operators::LoginArgs),
    /// The hub's operator roster: who holds which role (changes: admin or CISO).
    Operators(operators::OperatorsArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Back up or restore the hub store (the hub must be stopped).
    #[command(subcommand)]
    Db(socfed_runtime::cli::DbCommand),
    /// Threat hunts: sweep sites for indicators and follow per-site progress and hits.
    Hunt(response::HuntArgs),
    /// Run a local federation (PKI, hub, three site agents on loopback) and show cross-site status.
    Demo(crate::demo::DemoArgs),
}

/// Where operator commands connect.
#[derive(Debug, Clone, clap::Args)]
pub struct HubTarget {
    /// Hub gRPC address (host:port).
    #[arg(
        long,
        env = "SOCFED_HUB",
        default_value = "127.0.0.1:7443",
        global = true
    )]
    pub hub: String,
    /// Name the hub certificate must carry; defaults to the host of --hub.
    #[arg(long, global = true)]
    pub server_name: Option<String>,
    #[command(flatten)]
    pub tls: ClientTlsArgs,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table", global = true)]
    pub output: OutputFormat,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    socfed_runtime::cli::init_logging(cli.log_format, "info");
    socfed_runtime::cli::run_main(run(cli.command), |e| {
        e.downcast_ref::<ConfigError>().is_some()
            || e.downcast_ref::<crate::app::StartError>()
                .is_some_and(crate::app::StartError::is_config)
    })
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { config } => serve(HubConfig::load(&config)?).await,
        Command::Config(ConfigCommand::Example) => {
            socfed_runtime::outln!("{}", EXAMPLE.trim_end());
            Ok(())
        }
        Command::Config(ConfigCommand::Check { file, config }) => {
            let file = ConfigCommand::checked_file(file, config);
            let config = HubConfig::load(&file)?;
            // What `serve` would trip over: the TLS files, opened and checked.
            let tls = socfed_runtime::tls_check::check_files(
                &config.tls,
                &config.trust_domain,
                &socfed_proto::identity::Identity::Hub,
                socfed_proto::now_millis() / 1000,
            )
            .map_err(|e| {
                // A configuration error (exit 78), naming the file and the table.
                anyhow::Error::from(crate::app::StartError::Tls(e))
                    .context(format!("{}: [tls]", file.display()))
            })?;
            socfed_runtime::outln!(
                "{}: valid ({} enrolled sites; certificate {}; {})",
                file.display(),
                config.sites.len(),
                tls.identity,
                tls.crl.map_or("no CRL configured".to_string(), |c| format!(
                    "CRL number {}",
                    c.number_hex()
                ))
            );
            Ok(())
        }
        Command::Pki(command) => pki::run(command),
        Command::Incidents(args) => query::incidents(args).await,
        Command::Sites(args) => query::sites(args).await,
        Command::Conflicts(args) => query::conflicts(args).await,
        Command::Audit(args) => query::audit(args).await,
        Command::Report(args) => report::report(args).await,
        Command::Kpis(args) => report::kpis(args).await,
        Command::Hunt(args) => response::hunt(args).await,
        Command::Operators(args) => operators::run(args).await,
        Command::Login(args) => operators::login(args).await,
        Command::Completions { shell } => {
            socfed_runtime::cli::print_completions::<Cli>(shell, "sirt-hub")
        }
        Command::Db(command) => {
            let config = HubConfig::load(command.config())?;
            socfed_runtime::cli::run_db(
                &command,
                &config.data_dir,
                "sirt-hub",
                &crate::store::check::record,
            )
        }
        Command::Demo(args) => crate::demo::run(args).await,
    }
}

async fn serve(config: HubConfig) -> anyhow::Result<()> {
    let metrics = match &config.admin {
        Some(_) => Some(socfed_runtime::admin::install_recorder().map_err(anyhow::Error::msg)?),
        None => None,
    };
    let admin_listen = config.admin.as_ref().map(|a| a.listen);
    // The admin listener publishes the CRL the hub itself enforces (the URL
    // `pki init --crl-url` writes into certificates).
    let crl = config.tls.crl.clone();
    let hub = crate::app::start(config).await?;
    let token = hub.shutdown_token();
    if let (Some(listen), Some(metrics)) = (admin_listen, metrics) {
        socfed_runtime::admin::serve_with_crl(
            listen,
            metrics,
            hub.readiness(),
            crl,
            hub.admin_gate(),
            token.clone(),
        )
        .await
        .map_err(anyhow::Error::msg)?;
    }
    tokio::spawn(async move {
        socfed_runtime::cli::wait_for_signal().await;
        tracing::info!("shutting down: finishing in-flight acknowledgements");
        token.cancel();
    });
    hub.wait().await?;
    Ok(())
}
