//! Exactly-once escalation with real processes: three site agents and a hub as separate
//! binaries on loopback, real mTLS, real sled directories; hub and agents SIGKILLed mid-run.

use socfed_proto::pb;
use socfed_proto::tls::TlsFiles;
use socfed_tests::clients;
use socfed_tests::procs::{Proc, binary, write_agent_config, write_hub_config};
use socfed_tests::{eventually, free_port, pki::TestPki};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

const SITES: [&str; 3] = ["paris", "lyon", "oslo"];
const PER_SITE: usize = 1000;
const SUBMITTERS_PER_SITE: usize = 8;

struct Agent {
    site: &'static str,
    addr: SocketAddr,
    proc: Mutex<Proc>,
}

struct Federation {
    _tmp: tempfile::TempDir,
    pki: TestPki,
    operator: TlsFiles,
    hub_addr: SocketAddr,
    hub: Mutex<Proc>,
    agents: Vec<Agent>,
}

impl Federation {
    async fn start() -> anyhow::Result<Arc<Self>> {
        socfed_tests::init_logs();
        let tmp = tempfile::tempdir()?;
        let pki = TestPki::create(&tmp.path().join("pki"), "corp.example")?;
        let operator = pki.operator("tester")?;
        let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
        let hub_config = write_hub_config(tmp.path(), &pki, hub_addr, &SITES, "")?;
        let hub_bin = binary("sirt-hub")?;
        let agent_bin = binary("site-agent")?;
        let hub = Proc::spawn(
            &hub_bin,
            &["serve", "--config", &hub_config.display().to_string()],
            tmp.path().join("hub.log"),
            "hub",
        )?;
        let mut agents = Vec::new();
        for site in SITES {
            let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
            let config = write_agent_config(tmp.path(), &pki, site, hub_addr, addr, "")?;
            let proc = Proc::spawn(
                &agent_bin,
                &["serve", "--config", &config.display().to_string()],
                tmp.path().join(format!("{site}.log")),
                site,
            )?;
            agents.push(Agent {
                site,
                addr,
                proc: Mutex::new(proc),
            });
        }
        let fed = Arc::new(Self {
            _tmp: tmp,
            pki,
            operator,
            hub_addr,
            hub: Mutex::new(hub),
            agents,
        });
        for agent in &fed.agents {
            fed.agent_status(agent).await?;
        }
        Ok(fed)
    }

    fn op(&self) -> anyhow::Result<pb::operator_client::OperatorClient<tonic::transport::Channel>> {
        clients::operator(self.hub_addr, &self.operator, &self.pki.domain)
    }

    /// Waits for the agent's local API and returns its status.
    async fn agent_status(&self, agent: &Agent) -> anyhow::Result<pb::AgentStatus> {
        let client = clients::local(agent.addr, &self.operator, &self.pki.domain)?;
        eventually(
            &format!("agent {} to answer", agent.site),
            Duration::from_secs(30),
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

    /// Escalations stored at the hub, per site (None while the hub is down).
    async fn stored(&self) -> Option<u64> {
        let mut op = self.op().ok()?;
        let sites = clients::sites(&mut op).await.ok()?;
        Some(sites.iter().map(|s| s.escalations_stored).sum())
    }

    /// Raises `PER_SITE` incidents at every site, retrying each with its request id until
    /// the agent answers (agents may be down while a test kills them).
    async fn raise_everything(self: &Arc<Self>) -> anyhow::Result<()> {
        let mut tasks = Vec::new();
        for index in 0..self.agents.len() {
            for worker in 0..SUBMITTERS_PER_SITE {
                let fed = self.clone();
                tasks.push(tokio::spawn(async move {
                    let agent = &fed.agents[index];
                    let client = clients::local(agent.addr, &fed.operator, &fed.pki.domain)?;
                    for i in (worker..PER_SITE).step_by(SUBMITTERS_PER_SITE) {
                        let request = pb::RaiseIncidentRequest {
                            request_id: format!("{}-{i}", agent.site),
                            title: format!("{} incident {i}", agent.site),
                            severity: pb::Severity::Medium as i32,
                            ..Default::default()
                        };
                        eventually(
                            &format!("agent {} to accept incident {i}", agent.site),
                            Duration::from_secs(60),
                            || {
                                let mut client = client.clone();
                                let request = request.clone();
                                async move { client.raise_incident(request).await.ok() }
                            },
                        )
                        .await?;
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

    /// The hub holds exactly one record per raised incident, none lost, none duplicated, no
    /// conflicts, and every agent's outbox drained.
    async fn assert_exactly_once(&self) -> anyhow::Result<()> {
        let total = (SITES.len() * PER_SITE) as u64;
        eventually(
            "every escalation to be acknowledged",
            Duration::from_secs(120),
            || async {
                for agent in &self.agents {
                    let status = self.agent_status(agent).await.ok()?;
                    if status.backlog != 0 {
                        return None;
                    }
                }
                (self.stored().await? == total).then_some(())
            },
        )
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "{e}\nhub log:\n{}",
                futures_util::FutureExt::now_or_never(self.hub.lock())
                    .map(|h| h.log_tail(30))
                    .unwrap_or_default()
            )
        })?;

        let mut op = self.op()?;
        let incidents = clients::all_incidents(&mut op).await?;
        let titles: BTreeSet<String> = incidents.iter().map(|i| i.title.clone()).collect();
        let expected: BTreeSet<String> = SITES
            .iter()
            .flat_map(|s| (0..PER_SITE).map(move |i| format!("{s} incident {i}")))
            .collect();
        assert_eq!(
            incidents.len(),
            expected.len(),
            "one hub incident per raised incident, no duplicates"
        );
        assert_eq!(titles, expected, "no escalation lost");
        assert!(incidents.iter().all(|i| i.sightings.len() == 1));
        for site in clients::sites(&mut op).await? {
            eprintln!(
                "{}: stored {} duplicates {} epoch changes {}",
                site.site_id, site.escalations_stored, site.duplicates, site.epoch_changes
            );
            assert_eq!(
                site.escalations_stored, PER_SITE as u64,
                "site {}",
                site.site_id
            );
            assert_eq!(
                (site.conflicts, site.rejected),
                (0, 0),
                "site {}",
                site.site_id
            );
            assert_eq!(
                site.acked_through, PER_SITE as u64,
                "site {}: sequences 1..={PER_SITE} all acknowledged",
                site.site_id
            );
        }
        Ok(())
    }

    async fn stop(&self) -> anyhow::Result<()> {
        for agent in &self.agents {
            assert_eq!(
                agent.proc.lock().await.terminate()?,
                Some(0),
                "agent {} exits cleanly on SIGTERM",
                agent.site
            );
        }
        assert_eq!(
            self.hub.lock().await.terminate()?,
            Some(0),
            "hub exits cleanly on SIGTERM"
        );
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_sites_thousand_escalations_each_arrive_exactly_once() -> anyhow::Result<()> {
    let fed = Federation::start().await?;
    fed.raise_everything().await?;
    fed.assert_exactly_once().await?;
    fed.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hub_killed_and_restarted_three_times_mid_run_loses_and_duplicates_nothing()
-> anyhow::Result<()> {
    let fed = Federation::start().await?;
    let killer = {
        let fed = fed.clone();
        tokio::spawn(async move {
            for threshold in [400u64, 1200, 2000] {
                eventually(
                    &format!("{threshold} stored before the next kill"),
                    Duration::from_secs(60),
                    || async { (fed.stored().await? >= threshold).then_some(()) },
                )
                .await?;
                fed.hub.lock().await.restart()?;
            }
            anyhow::Ok(())
        })
    };
    fed.raise_everything().await?;
    killer.await??;
    fed.assert_exactly_once().await?;
    fed.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agent_killed_and_restarted_mid_stream_loses_and_duplicates_nothing() -> anyhow::Result<()>
{
    let fed = Federation::start().await?;
    let killer = {
        let fed = fed.clone();
        tokio::spawn(async move {
            let victim = &fed.agents[0];
            for threshold in [200u64, 500, 800] {
                eventually(
                    &format!("{} to queue {threshold}", victim.site),
                    Duration::from_secs(60),
                    || async {
                        let status = fed.agent_status(victim).await.ok()?;
                        (status.next_seq > threshold).then_some(())
                    },
                )
                .await?;
                victim.proc.lock().await.restart()?;
            }
            anyhow::Ok(())
        })
    };
    fed.raise_everything().await?;
    killer.await??;
    fed.assert_exactly_once().await?;
    fed.stop().await
}
