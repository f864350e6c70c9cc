//! A federation of real processes for delivery and fault tests: one `sirt-hub` and N
//! `site-agent`s as separate binaries on loopback, real mTLS, real sled directories, each agent
//! optionally behind its own [`FaultProxy`]. It raises escalations through the agents' local API
//! and keeps a [`Ledger`] of every one an agent committed, so the tests can compare it with what
//! the hub stored (see [`crate::ledger`]).

use crate::fault_proxy::{FaultProxy, Faults};
use crate::ledger::{Committed, Ledger, payload_hash};
use crate::procs::{Proc, binary, write_agent_config, write_hub_config};
use crate::{clients, eventually, free_port, pki::TestPki};
use socfed_proto::pb;
use socfed_runtime::tls::TlsFiles;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// What to start.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub sites: Vec<String>,
    /// Appended to the hub config.
    pub hub_extra: String,
    /// Appended to every agent config (after the `[local_api]` table).
    pub agent_extra: String,
    /// Extra `[hub]` keys for every agent (`window = 64`).
    pub agent_hub_keys: String,
    /// Put a fault proxy with these faults, seeded from `proxy_seed`, in front of each agent.
    pub proxy: Option<Faults>,
    pub proxy_seed: u64,
    /// Hub replicas over one store (the PostgreSQL `[store]` in `hub_extra`): one entry per
    /// hub process, appended to that replica's config only (its `[dashboard]`). Empty: one
    /// hub. Agents are given every replica's address (`[hub] addresses`).
    pub replicas: Vec<String>,
}

impl Spec {
    pub fn sites(names: &[&str]) -> Self {
        Self {
            sites: names.iter().map(|s| s.to_string()).collect(),
            ..Self::default()
        }
    }
}

pub struct Agent {
    pub site: String,
    /// The agent's local API.
    pub addr: SocketAddr,
    pub proc: Mutex<Proc>,
    pub proxy: Option<FaultProxy>,
}

pub struct Federation {
    pub tmp: tempfile::TempDir,
    pub pki: TestPki,
    pub operator: TlsFiles,
    pub hub_addr: SocketAddr,
    pub hub: Mutex<Proc>,
    pub agents: Vec<Agent>,
    /// The hub replicas after the first (`hub_addr`, `hub`), when [`Spec::replicas`] asks.
    pub replicas: Vec<crate::replicas::Replica>,
    /// Every escalation an agent accepted (RaiseIncident returned OK).
    pub ledger: Ledger,
}

impl Federation {
    /// Starts the hub and the agents and waits until every agent answers.
    pub async fn start(spec: Spec) -> anyhow::Result<Arc<Self>> {
        let crate::fixture::Org { tmp, pki } = crate::fixture::Org::new()?;
        let operator = pki.operator("tester")?;
        let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
        let sites: Vec<&str> = spec.sites.iter().map(String::as_str).collect();
        let first_extra = spec.replicas.first().map_or("", String::as_str);
        let hub_config = write_hub_config(
            tmp.path(),
            &pki,
            hub_addr,
            &sites,
            &format!("{}\n{first_extra}", spec.hub_extra),
        )?;
        let hub = Proc::spawn(
            &binary("sirt-hub")?,
            &["serve", "--config", &hub_config.display().to_string()],
            tmp.path().join("hub.log"),
            "hub",
        )?;
        let replicas = crate::replicas::spawn(tmp.path(), &pki, &sites, &spec)?;
        let hub_list: Vec<String> = std::iter::once(hub_addr)
            .chain(replicas.iter().map(|r| r.addr))
            .map(|a| format!("\"{a}\""))
            .collect();
        let agent_bin = binary("site-agent")?;
        let mut agents = Vec::new();
        for (index, site) in spec.sites.iter().enumerate() {
            let proxy = match &spec.proxy {
                Some(faults) => Some(
                    FaultProxy::start(
                        hub_addr,
                        faults.clone(),
                        spec.proxy_seed ^ (index as u64 + 1),
                    )
                    .await?,
                ),
                None => None,
            };
            let uplink = proxy.as_ref().map_or(hub_addr, FaultProxy::addr);
            let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
            let config = write_agent_config(tmp.path(), &pki, site, uplink, addr, "")?;
            add_to_config(&config, &spec.agent_hub_keys, &spec.agent_extra)?;
            if !replicas.is_empty() {
                crate::replicas::list_hubs(&config, uplink, &hub_list)?;
            }
            let proc = Proc::spawn(
                &agent_bin,
                &["serve", "--config", &config.display().to_string()],
                tmp.path().join(format!("{site}.log")),
                site,
            )?;
            agents.push(Agent {
                site: site.clone(),
                addr,
                proc: Mutex::new(proc),
                proxy,
            });
        }
        let fed = Arc::new(Self {
            tmp,
            pki,
            operator,
            hub_addr,
            hub: Mutex::new(hub),
            agents,
            replicas,
            ledger: Ledger::default(),
        });
        for agent in &fed.agents {
            fed.agent_status(agent).await?;
        }
        Ok(fed)
    }

    /// The hub's data directory (read it only once the hub is stopped).
    pub fn hub_data(&self) -> PathBuf {
        self.tmp.path().join("hub-data")
    }

    pub fn op(
        &self,
    ) -> anyhow::Result<pb::operator_client::OperatorClient<tonic::transport::Channel>> {
        clients::operator(self.hub_addr, &self.operator, &self.pki.domain)
    }

    /// Waits (up to 60 s) for the agent's local API and returns its status.
    pub async fn agent_status(&self, agent: &Agent) -> anyhow::Result<pb::AgentStatus> {
        let client = clients::local(agent.addr, &self.operator, &self.pki.domain)?;
        eventually(
            &format!("agent {} to answer", agent.site),
            Duration::from_secs(60),
            || {
                let mut client = client.clone();
                async move {
                    client
                        .get_status(pb::GetStatusRequest {})
                        .await
                        .ok()
                        .map(|r| r.into_inner())
                }
            },
        )
        .await
    }

    /// The hub's view of every site (None while the hub is down): the first replica that
    /// answers.
    pub async fn sites(&self) -> Option<Vec<pb::SiteSummary>> {
        for addr in self.hub_addrs() {
            let Ok(mut op) = clients::operator(addr, &self.operator, &self.pki.domain) else {
                continue;
            };
            if let Ok(sites) = clients::sites(&mut op).await {
                return Some(sites);
            }
        }
        None
    }

    /// Every hub replica's address, the first hub's first.
    pub fn hub_addrs(&self) -> Vec<SocketAddr> {
        std::iter::once(self.hub_addr)
            .chain(self.replicas.iter().map(|r| r.addr))
            .collect()
    }

    /// Escalations stored at the hub, all sites together (None while the hub is down).
    pub async fn stored(&self) -> Option<u64> {
        Some(
            self.sites()
                .await?
                .iter()
                .map(|s| s.escalations_stored)
                .sum(),
        )
    }

    /// Raises escalations `from..to` at every site with `workers` concurrent callers per site.
    /// Each call carries a request id and is retried until the agent answers (agents may be
    /// down while a test kills them), so the ledger ends up holding each index exactly once.
    pub async fn raise_range(
        self: &Arc<Self>,
        from: usize,
        to: usize,
        workers: usize,
    ) -> anyhow::Result<()> {
        let mut tasks = Vec::new();
        for index in 0..self.agents.len() {
            for worker in 0..workers {
                let fed = self.clone();
                tasks.push(tokio::spawn(async move {
                    let agent = &fed.agents[index];
                    let client = clients::local(agent.addr, &fed.operator, &fed.pki.domain)?;
                    for i in (from + worker..to).step_by(workers) {
                        fed.raise_one(&client, &agent.site, i).await?;
                    }
                    anyhow::Ok(())
                }));
            }
        }
        for task in tasks {
            task.await??;
        }
        Ok(())
    }

    async fn raise_one(
        &self,
        client: &pb::site_local_client::SiteLocalClient<tonic::transport::Channel>,
        site: &str,
        i: usize,
    ) -> anyhow::Result<()> {
        let (title, description) = payload(site, i);
        let severity = pb::Severity::Medium as i32;
        let request = pb::RaiseIncidentRequest {
            request_id: format!("{site}-{i}"),
            title: title.clone(),
            description: description.clone(),
            severity,
            ..Default::default()
        };
        let answer = eventually(
            &format!("agent {site} to accept escalation {i}"),
            Duration::from_secs(120),
            || {
                let mut client = client.clone();
                let request = request.clone();
                async move { client.raise_incident(request).await.ok() }
            },
        )
        .await?
        .into_inner();
        self.ledger.record(Committed {
            site: site.to_string(),
            index: i,
            local_incident_id: answer.local_incident_id,
            seq: answer.seq,
            replayed: answer.replayed,
            payload_hash: payload_hash(&title, &description, severity),
        });
        Ok(())
    }

    /// Waits until every agent's outbox is empty and the hub holds `total` escalations.
    pub async fn wait_drained(&self, total: u64, deadline: Duration) -> anyhow::Result<()> {
        let drained = eventually("every escalation to be acknowledged", deadline, || async {
            for agent in &self.agents {
                let client = clients::local(agent.addr, &self.operator, &self.pki.domain).ok()?;
                let status = client
                    .clone()
                    .get_status(pb::GetStatusRequest {})
                    .await
                    .ok()?
                    .into_inner();
                if status.backlog != 0 {
                    return None;
                }
            }
            (self.stored().await? == total).then_some(())
        })
        .await;
        if let Err(e) = drained {
            let hub = self.hub.lock().await.log_tail(30);
            anyhow::bail!("{e}\nhub log:\n{hub}");
        }
        Ok(())
    }

    /// What an operator sees once everything drained: one hub incident per escalation raised
    /// (`per_site` at every site, titles as [`payload`] makes them), and per site exactly
    /// `per_site` stored, all acknowledged, no conflicts, no rejections. Returns the hub's site
    /// summaries for the test's report.
    pub async fn check_operator_view(
        &self,
        per_site: usize,
    ) -> anyhow::Result<Vec<pb::SiteSummary>> {
        self.check_operator_view_at(self.hub_addr, per_site).await
    }

    /// [`Federation::check_operator_view`] as the hub (replica) at `hub` answers it.
    pub async fn check_operator_view_at(
        &self,
        hub: SocketAddr,
        per_site: usize,
    ) -> anyhow::Result<Vec<pb::SiteSummary>> {
        let mut op = clients::operator(hub, &self.operator, &self.pki.domain)?;
        let incidents = clients::all_incidents(&mut op).await?;
        let titles: std::collections::BTreeSet<&str> =
            incidents.iter().map(|i| i.title.as_str()).collect();
        let expected = self.agents.len() * per_site;
        anyhow::ensure!(
            incidents.len() == expected && titles.len() == expected,
            "{} hub incidents with {} distinct titles, expected {expected}",
            incidents.len(),
            titles.len()
        );
        for agent in &self.agents {
            for i in [0, per_site / 2, per_site - 1] {
                let title = payload(&agent.site, i).0;
                anyhow::ensure!(titles.contains(title.as_str()), "no incident {title:?}");
            }
        }
        anyhow::ensure!(
            incidents.iter().all(|i| i.sightings.len() == 1),
            "an escalation joined another site's incident"
        );
        let sites = clients::sites(&mut op).await?;
        for site in &sites {
            let summary = (
                site.escalations_stored,
                site.acked_through,
                site.conflicts,
                site.rejected,
                site.sequence_gaps,
                site.sequence_regression,
            );
            anyhow::ensure!(
                summary == (per_site as u64, per_site as u64, 0, 0, 0, false),
                "site {}: (stored, acked through, conflicts, rejected, gaps, regression) = {summary:?}",
                site.site_id
            );
        }
        Ok(sites)
    }

    /// SIGTERM to every agent, then the hub; each must exit 0.
    pub async fn stop(&self) -> anyhow::Result<()> {
        for agent in &self.agents {
            let code = agent.proc.lock().await.terminate()?;
            anyhow::ensure!(code == Some(0), "agent {} exited {code:?}", agent.site);
        }
        let code = self.hub.lock().await.terminate()?;
        anyhow::ensure!(code == Some(0), "hub exited {code:?} on SIGTERM");
        for replica in &self.replicas {
            let code = replica.proc.lock().await.terminate()?;
            anyhow::ensure!(code == Some(0), "hub replica exited {code:?} on SIGTERM");
        }
        Ok(())
    }
}

/// The escalation raised as number `i` at `site`: a title naming it and a ~500-byte body
/// derived from it, so that every payload differs.
pub fn payload(site: &str, i: usize) -> (String, String) {
    let title = format!("{site} incident {i}");
    let seed = blake3::hash(title.as_bytes());
    let mut body = String::with_capacity(512);
    let mut block = *seed.as_bytes();
    while body.len() < 448 {
        body.push_str(&blake3::Hash::from(block).to_hex());
        block = *blake3::hash(&block).as_bytes();
    }
    (title, format!("evidence for {site}/{i}: {body}"))
}

/// Adds `hub_keys` to the `[hub]` table and `extra` at the end of an agent config written by
/// [`write_agent_config`].
fn add_to_config(path: &std::path::Path, hub_keys: &str, extra: &str) -> anyhow::Result<()> {
    if hub_keys.is_empty() && extra.is_empty() {
        return Ok(());
    }
    let text = std::fs::read_to_string(path)?;
    let text = text.replacen("[hub]\n", &format!("[hub]\n{hub_keys}\n"), 1);
    std::fs::write(path, format!("{text}\n{extra}\n"))?;
    Ok(())
}
