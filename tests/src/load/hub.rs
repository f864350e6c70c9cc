//! The real `sirt-hub` process every scenario measures: config with the enrolled sites and an
//! operator allowed to run lifecycle commands, started on a fixed loopback port (so a restart
//! keeps the address) and waited on until its operator API answers.

use crate::bench::{cpu_and_peak_rss, rss_mib};
use crate::pki::TestPki;
use crate::procs::{Proc, binary, write_hub_config};
use crate::{clients, eventually, free_port};
use socfed_proto::pb::operator_client::OperatorClient;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tonic::transport::Channel;

/// The operator every scenario queries and transitions as (`ir-lead` at the hub).
pub const OPERATOR: &str = "tester";

pub struct HubProcess {
    pub proc: Proc,
    pub addr: SocketAddr,
    pub op: OperatorClient<Channel>,
    pub data_dir: PathBuf,
    config: PathBuf,
}

impl HubProcess {
    /// Writes the config (enrolling `sites`) and starts the hub on a free port.
    pub async fn start(
        dir: &Path,
        pki: &TestPki,
        sites: &[String],
        extra: &str,
    ) -> anyhow::Result<Self> {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
        Self::start_at(dir, pki, sites, extra, addr).await
    }

    /// As [`HubProcess::start`], on `addr` (a scenario that starts the hub late picks it first).
    pub async fn start_at(
        dir: &Path,
        pki: &TestPki,
        sites: &[String],
        extra: &str,
        addr: SocketAddr,
    ) -> anyhow::Result<Self> {
        let refs: Vec<&str> = sites.iter().map(String::as_str).collect();
        let extra = format!("{extra}\n[[operators]]\nname = \"{OPERATOR}\"\nrole = \"ir-lead\"\n");
        let config = write_hub_config(dir, pki, addr, &refs, &extra)?;
        let proc = Proc::spawn(
            &binary("sirt-hub")?,
            &["serve", "--config", &config.display().to_string()],
            dir.join("hub.log"),
            "hub",
        )?;
        let op = clients::operator(addr, &pki.operator(OPERATOR)?, &pki.domain)?;
        let this = Self {
            proc,
            addr,
            op,
            data_dir: dir.join("hub-data"),
            config,
        };
        this.ready().await?;
        Ok(this)
    }

    async fn ready(&self) -> anyhow::Result<()> {
        eventually("the hub to answer", Duration::from_secs(120), || {
            let mut op = self.op.clone();
            async move { clients::sites(&mut op).await.ok() }
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}; hub log:\n{}", self.proc.log_tail(20)))?;
        Ok(())
    }

    pub fn pid(&self) -> u32 {
        self.proc.pid().unwrap_or(0)
    }

    /// CPU seconds used so far.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_and_peak_rss(self.pid()).map(|c| c.0).unwrap_or(0.0)
    }

    pub fn rss_mib(&self) -> f64 {
        rss_mib(self.pid()).unwrap_or(0.0)
    }

    pub fn peak_rss_mib(&self) -> f64 {
        cpu_and_peak_rss(self.pid()).map(|c| c.1).unwrap_or(0.0)
    }

    /// Escalations stored at the hub, summed over sites.
    pub async fn stored(&self) -> anyhow::Result<u64> {
        let mut op = self.op.clone();
        Ok(clients::sites(&mut op)
            .await?
            .iter()
            .map(|s| s.escalations_stored)
            .sum())
    }

    pub fn config(&self) -> &Path {
        &self.config
    }
}
