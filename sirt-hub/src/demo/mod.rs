//! `sirt-hub demo`: a whole federation on loopback, as real processes: a fresh PKI, one hub,
//! three site agents, a few incidents raised at the sites (one threat at two sites), an alert
//! at a third site that a hunt finds, and the cross-site status printed from the hub.
//! Everything is shut down with SIGTERM at the end, or left running with `--keep-running`,
//! which prints a dashboard sign-in link and commands that work as printed.
//!
//! `setup.rs` writes the PKI and configs (the demo operator's roles, the sites' playbooks, the
//! dashboard and admin listeners), `procs.rs` runs the processes, `story.rs` tells the story
//! through the APIs and `guide.rs` prints what to try next.

mod guide;
mod procs;
mod setup;
mod story;

use procs::{Children, retry};
use setup::{DOMAIN, SITES};
use socfed_proto::identity::TrustDomain;
use socfed_proto::pb::{
    self, operator_client::OperatorClient, operator_roster_client::OperatorRosterClient,
    site_local_client::SiteLocalClient, site_soc_client::SiteSocClient,
};
use socfed_proto::vocab::SiteId;
use socfed_runtime::tls::{ExpectedServer, TlsMaterial};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tonic::transport::Channel;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Keep PKI, configs, data and logs here (default: a temporary directory, removed at the end).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Leave the federation running and print a dashboard sign-in link and the commands to
    /// use it; Ctrl-C stops it.
    #[arg(long, requires = "dir")]
    pub keep_running: bool,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let temp;
    let dir = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => {
            temp = tempfile::Builder::new().prefix("socfed-demo-").tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let hub_bin = std::env::current_exe()?;
    let agent_bin = hub_bin.with_file_name("site-agent");
    anyhow::ensure!(
        agent_bin.exists(),
        "{} not found next to sirt-hub; build both binaries first: cargo build --bins",
        agent_bin.display()
    );
    std::fs::create_dir_all(dir.join("logs"))?;

    // 1. PKI and configs.
    let (hub_config, layout) = setup::write(&dir)?;
    socfed_runtime::outln!(
        "PKI: organisation CA for {DOMAIN}, hub, {} site and 1 operator certificates in {}",
        SITES.len(),
        layout.pki_dir.display()
    );

    // 2. Hub and agents as processes.
    let mut children = Children::new();
    children.spawn(&hub_bin, &hub_config, &dir.join("logs/hub.log"), "hub")?;
    for agent in &layout.agents {
        let log = dir.join(format!("logs/{}.log", agent.site));
        children.spawn(&agent_bin, &agent.config, &log, agent.site)?;
    }
    socfed_runtime::outln!(
        "federation: hub on {}, agents {}; dashboard on https://{}",
        layout.hub.grpc,
        layout
            .agents
            .iter()
            .map(|a| format!(
                "{} on {} (console https://{})",
                a.site, a.at.grpc, a.console
            ))
            .collect::<Vec<_>>()
            .join(", "),
        layout.dashboard
    );

    let material = TlsMaterial::load(&layout.operator, TrustDomain::parse(DOMAIN)?)?;
    let channel = |addr: SocketAddr, expected| -> anyhow::Result<Channel> {
        Ok(socfed_runtime::tls::channel(
            &addr.to_string(),
            "127.0.0.1",
            material.client_config(expected)?,
            Duration::from_secs(5),
        )?)
    };
    let hub_channel = channel(layout.hub.grpc, ExpectedServer::Hub)?;
    let hub = OperatorClient::new(hub_channel.clone());
    let mut locals = Vec::new();
    let mut socs = Vec::new();
    for agent in &layout.agents {
        let site_channel = channel(
            agent.at.grpc,
            ExpectedServer::Site(SiteId::parse(agent.site)?),
        )?;
        let local = SiteLocalClient::new(site_channel.clone());
        retry(
            &format!(
                "agent {} did not come up (see {}/logs)",
                agent.site,
                dir.display()
            ),
            Duration::from_secs(30),
            || {
                let mut local = local.clone();
                async move { local.get_status(pb::GetStatusRequest {}).await }
            },
        )
        .await?;
        locals.push((agent.site, local));
        socs.push(SiteSocClient::new(site_channel));
    }

    // 3. Incidents at the sites: the same phishing campaign hits Paris and Lyon, and Oslo's
    //    proxy saw its domain without anyone escalating it.
    let (escalations, incidents) = story::raise_incidents(&hub, &locals).await?;
    story::proxy_alert(SITES[2], socs[2].clone()).await?;

    // 4. Show cross-site status.
    story::print_status(&hub, escalations, &incidents).await?;

    if args.keep_running {
        let incident = story::shared(&incidents)
            .map(|i| i.id.clone())
            .ok_or_else(|| anyhow::anyhow!("the hub joined no incident across sites"))?;
        let link = guide::sign_in_link(OperatorRosterClient::new(hub_channel)).await?;
        let mut consoles = Vec::new();
        for (agent, soc) in layout.agents.iter().zip(&socs) {
            consoles.push((agent.site, guide::console_link(soc.clone()).await?));
        }
        guide::print(
            &guide::Context {
                hub_bin: &hub_bin,
                agent_bin: &agent_bin,
                dir: &dir,
                layout: &layout,
                incident: &incident,
            },
            &link,
            &consoles,
        )?;
        socfed_runtime::cli::wait_for_signal().await;
    }
    children.terminate()?;
    socfed_runtime::outln!("\nfederation stopped cleanly");
    Ok(())
}
