//! The `sirt-hub` command line: the clap tree and its dispatch. Parsing, logging and exit
//! statuses are the skeleton both binaries share (`socfed_runtime::cli`: [`main`] is
//! `socfed_runtime::cli::main`, the statuses are its table); operator commands reach the hub
//! through [`HubTarget`], the shared client flags with `--hub`.

pub(crate) mod comms;
mod db_migrate;
mod export;
pub(crate) mod hunt_library;
mod notes;
pub(crate) mod observables;
mod operators;
mod pki;
mod query;
pub(crate) mod render;
mod report;
pub(crate) mod response;
pub(crate) mod runbooks;
mod search;
pub(crate) mod sites;
mod tokens;
mod watch;

use crate::config::{ConfigError, EXAMPLE, HubConfig};
use clap::{Parser, Subcommand};
use socfed_runtime::cli::{ClientArgs, ConfigCommand, Endpoint, GlobalArgs};
use socfed_runtime::tls::ExpectedServer;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "sirt-hub",
    version,
    about = "socfed SIRT hub: federated incident escalation across SOC sites"
)]
pub struct Cli {
    #[command(flatten)]
    pub globals: GlobalArgs,
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
    /// Per-site federation status; `list`, `enrol`, `remove`: the enrolled sites.
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
    /// API tokens for the hub's HTTP API `/api/v1` (admin or CISO).
    Tokens(tokens::TokensArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Back up, restore or check the hub store, or migrate it to PostgreSQL (the hub must be stopped).
    #[command(subcommand)]
    Db(db_migrate::HubDbCommand),
    /// Observables across incidents: which incidents hold an indicator.
    Observables(observables::ObservablesArgs),
    /// Threat hunts: sweep sites for indicators and follow per-site progress and hits.
    Hunt(response::HuntArgs),
    /// Runbooks: what to do next, matched to alerts and incidents, sent to every site.
    Runbooks(runbooks::RunbooksArgs),
    /// Search every site's alert groups (a hunt over the sites' search indexes).
    Search(search::SearchArgs),
    /// Run a local federation (PKI, hub, three site agents on loopback) and show cross-site status.
    Demo(crate::demo::DemoArgs),
}

/// The hub as operator commands name it: `--hub` (`SOCFED_HUB`) and the name its certificate
/// must carry. Global, so they may follow a nested subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct HubEndpoint {
    /// Hub gRPC address (host:port). Several (repeat the flag, or separate with commas) are
    /// hub replicas, tried in order until one accepts the connection.
    #[arg(
        long,
        env = "SOCFED_HUB",
        default_value = "127.0.0.1:7443",
        value_delimiter = ',',
        global = true
    )]
    pub hub: Vec<String>,
    /// Name the hub certificate must carry; defaults to the host of each --hub address.
    #[arg(long, global = true)]
    pub server_name: Option<String>,
}

impl Endpoint for HubEndpoint {
    fn address(&self) -> &str {
        self.hub.first().map_or("127.0.0.1:7443", String::as_str)
    }
    fn addresses(&self) -> Vec<&str> {
        self.hub.iter().map(String::as_str).collect()
    }
    fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }
    fn expected(&self) -> ExpectedServer {
        ExpectedServer::Hub
    }
    fn describe(&self) -> String {
        match self.hub.as_slice() {
            [one] => format!("the hub at {one}"),
            several => format!("the hub at {} (tried in turn)", several.join(", ")),
        }
    }
}

/// Where operator commands connect and how they print (the flags both binaries share).
pub type HubTarget = ClientArgs<HubEndpoint>;

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
            // The webhook sinks' secret, header and CA files, read as `serve` reads them.
            socfed_runtime::webhook::load_all(&config.webhooks)
                .map(drop)
                .map_err(|e| {
                    anyhow::Error::from(crate::app::StartError::Webhook(e))
                        .context(format!("{}: [[webhooks]]", file.display()))
                })?;
            socfed_runtime::outln!(
                "{}: valid ({} sites to seed the enrolled sites with; certificate {}; {})",
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
        Command::Observables(args) => observables::run(args).await,
        Command::Search(args) => search::run(args).await,
        Command::Operators(args) => operators::run(args).await,
        Command::Tokens(args) => tokens::run(args).await,
        Command::Runbooks(args) => runbooks::run(args).await,
        Command::Login(args) => operators::login(args).await,
        Command::Completions { shell } => {
            socfed_runtime::cli::print_completions::<Cli>(shell, "sirt-hub")
        }
        // Blocking store work (sled, and PostgreSQL's blocking client) off the runtime.
        Command::Db(command) => {
            tokio::task::spawn_blocking(move || db_migrate::run(command)).await?
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::HubError;
    use socfed_runtime::cli::{ClientError, OutputFormat, explain};

    #[test]
    fn the_command_tree_is_well_formed() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }

    #[test]
    fn the_client_flags_go_before_or_after_the_nested_subcommand() -> anyhow::Result<()> {
        for args in [
            [
                "sirt-hub",
                "incidents",
                "--hub",
                "10.0.0.5:7443",
                "-o",
                "json",
                "list",
            ],
            [
                "sirt-hub",
                "incidents",
                "list",
                "--hub",
                "10.0.0.5:7443",
                "-o",
                "json",
            ],
        ] {
            let cli = Cli::try_parse_from(args)?;
            let Command::Incidents(incidents) = cli.command else {
                anyhow::bail!("parsed as {:?}", cli.command);
            };
            assert_eq!(incidents.target.endpoint.hub, ["10.0.0.5:7443"]);
            assert_eq!(incidents.target.format(), OutputFormat::Json);
            assert_eq!(incidents.target.name(), "the hub at 10.0.0.5:7443");
        }
        Ok(())
    }

    /// Hub replicas: `--hub` repeated or comma-separated gives every address, in order.
    #[test]
    fn several_hub_addresses_parse_in_order() -> anyhow::Result<()> {
        let cli = Cli::try_parse_from([
            "sirt-hub",
            "incidents",
            "list",
            "--hub",
            "hub-a:7443,hub-b:7443",
            "--hub",
            "hub-c:7443",
        ])?;
        let Command::Incidents(incidents) = cli.command else {
            anyhow::bail!("parsed as {:?}", cli.command);
        };
        assert_eq!(
            incidents.target.endpoint.addresses(),
            ["hub-a:7443", "hub-b:7443", "hub-c:7443"]
        );
        assert_eq!(
            incidents.target.name(),
            "the hub at hub-a:7443, hub-b:7443, hub-c:7443 (tried in turn)"
        );
        Ok(())
    }

    /// The hub's refusals reach an operator as their message plus a next step chosen by the
    /// stable code in the metadata.
    #[test]
    fn hub_refusals_are_explained_from_their_stable_code() {
        let hub = "the hub at h:1";
        for (error, next) in [
            (HubError::invalid("bad id"), "--help"),
            (HubError::not_found("no incident X"), "`list`"),
            (HubError::denied("needs ir-lead or ciso"), "role"),
            (HubError::refused("incident X is closed"), "`show`"),
            (HubError::unavailable("the hub is stopping"), "retry"),
        ] {
            let message = error.to_string();
            let status = tonic::Status::from(error);
            let ClientError::Call(text) = explain(&status, hub) else {
                panic!("{message}: not a call failure");
            };
            assert!(text.contains(&message) && text.contains(next), "{text}");
        }
    }
}
