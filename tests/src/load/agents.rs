//! Real `site-agent` processes for a scenario: one per site, each with its own config, store,
//! certificate, local API and admin listener on fixed loopback ports, started together and
//! waited on until each has its stream to the hub open. Separate processes, as in production:
//! agents in one process would share sled's process-wide transaction lock.

use crate::bench::cpu_and_peak_rss;
use crate::pki::TestPki;
use crate::procs::{Proc, binary, write_agent_config};
use crate::{clients, eventually, free_ports};
use socfed_proto::pb::{self, site_local_client::SiteLocalClient};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tonic::transport::Channel;

pub struct AgentProcess {
    pub site: String,
    pub proc: Proc,
    /// The local API (`SiteLocal`, `SiteSoc`).
    pub local: SocketAddr,
    /// `/metrics`.
    pub admin: SocketAddr,
    /// `SiteLocal` as the scenario's operator.
    pub client: SiteLocalClient<Channel>,
}

/// CPU seconds and peak resident memory of one process, read from `/proc`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub cpu_seconds: f64,
    pub peak_rss_mib: f64,
}

impl AgentProcess {
    pub fn pid(&self) -> u32 {
        self.proc.pid().unwrap_or(0)
    }

    /// Read while the process runs (a stopped one has no `/proc` entry).
    pub fn usage(&self) -> Usage {
        let (cpu_seconds, peak_rss_mib) = cpu_and_peak_rss(self.pid()).unwrap_or_default();
        Usage {
            cpu_seconds,
            peak_rss_mib,
        }
    }

    /// The highest sequence the hub acknowledged (the agent's `GetStatus`).
    pub async fn acked_through(&self) -> anyhow::Result<u64> {
        Ok(self
            .client
            .clone()
            .get_status(pb::GetStatusRequest {})
            .await?
            .into_inner()
            .acked_through)
    }
}

/// Starts one agent per site (`extra` appended to each config), all connected to `hub` as
/// `operator`'s clients see them once this returns.
pub async fn start(
    dir: &Path,
    pki: &TestPki,
    sites: &[String],
    hub: SocketAddr,
    operator: &str,
    extra: &str,
) -> anyhow::Result<Vec<AgentProcess>> {
    let identity = pki.operator(operator)?;
    let mut agents = Vec::with_capacity(sites.len());
    for site in sites {
        let [local_port, admin_port] = free_ports()?;
        let local: SocketAddr = format!("127.0.0.1:{local_port}").parse()?;
        let admin: SocketAddr = format!("127.0.0.1:{admin_port}").parse()?;
        let extra = format!("{extra}\n[admin]\nlisten = \"{admin}\"\n");
        let config = write_agent_config(dir, pki, site, hub, local, &extra)?;
        let proc = Proc::spawn(
            &binary("site-agent")?,
            &["serve", "--config", &config.display().to_string()],
            dir.join(format!("{site}.log")),
            site,
        )?;
        agents.push(AgentProcess {
            site: site.clone(),
            proc,
            local,
            admin,
            client: clients::local(local, &identity, &pki.domain)?,
        });
    }
    for agent in &agents {
        eventually(
            "the agent to reach the hub",
            Duration::from_secs(120),
            || {
                let mut client = agent.client.clone();
                async move {
                    let status = client
                        .get_status(pb::GetStatusRequest {})
                        .await
                        .ok()?
                        .into_inner();
                    status.hub_connected.then_some(())
                }
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}; log:\n{}", agent.site, agent.proc.log_tail(20)))?;
    }
    Ok(agents)
}
