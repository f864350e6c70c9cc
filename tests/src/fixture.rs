//! The set-up most scenarios share, in one place: test logs, a temp dir, the organisation's
//! PKI (`corp.example`) in it, hubs and agents started in-process there (the same
//! `app::start` the binaries call), and clients presenting a named operator's or site's
//! certificate. A scenario that needs something else (another trust domain, a small disk,
//! real processes) builds it from [`crate::pki`], [`crate::inproc`] and [`crate::procs`].

use crate::clients;
use crate::inproc;
use crate::pki::TestPki;
use socfed_proto::pb;
use socfed_proto::pb::operator_client::OperatorClient;
use socfed_proto::pb::response_client::ResponseClient;
use socfed_proto::pb::site_local_client::SiteLocalClient;
use socfed_proto::pb::site_response_client::SiteResponseClient;
use socfed_runtime::tls::ExpectedServer;
use std::net::SocketAddr;
use std::path::Path;
use tonic::transport::Channel;

/// One organisation under test: its temp dir (removed when dropped) and its PKI in `DIR/pki`.
/// Hubs and agents it starts write their configs and stores under the same dir, as
/// [`inproc`] lays them out, so a scenario may restart them on the same data.
pub struct Org {
    pub tmp: tempfile::TempDir,
    pub pki: TestPki,
}

impl Org {
    /// Test logs on, a fresh temp dir and a `corp.example` CA with a hub certificate.
    pub fn new() -> anyhow::Result<Self> {
        crate::init_logs();
        let tmp = tempfile::tempdir()?;
        let pki = TestPki::create(&tmp.path().join("pki"), "corp.example")?;
        Ok(Self { tmp, pki })
    }

    /// The temp dir everything of this organisation lives in.
    pub fn dir(&self) -> &Path {
        self.tmp.path()
    }

    /// A hub on an ephemeral loopback port enrolling `sites`; `extra` is appended to its
    /// config (`[[operators]]` roles, limits).
    pub async fn hub(
        &self,
        sites: &[&str],
        extra: &str,
    ) -> anyhow::Result<sirt_hub::app::RunningHub> {
        inproc::hub(self.dir(), &self.pki, sites, extra).await
    }

    /// A hub on `listen`: for agents configured before it, or a restart on the same address.
    pub async fn hub_on(
        &self,
        listen: SocketAddr,
        sites: &[&str],
        extra: &str,
    ) -> anyhow::Result<sirt_hub::app::RunningHub> {
        inproc::hub_on(self.dir(), &self.pki, listen, sites, extra).await
    }

    /// The agent of `site`, linked to the hub at `hub`; `extra` is appended to its config.
    pub async fn agent(
        &self,
        site: &str,
        hub: SocketAddr,
        extra: &str,
    ) -> anyhow::Result<site_agent::app::RunningAgent> {
        inproc::agent(self.dir(), &self.pki, site, hub, extra).await
    }

    /// The hub's `Operator` API as operator `name`.
    pub fn operator(&self, hub: SocketAddr, name: &str) -> anyhow::Result<OperatorClient<Channel>> {
        clients::operator(hub, &self.pki.operator(name)?, &self.pki.domain)
    }

    /// The hub's `Response` API as operator `name`.
    pub fn response(&self, hub: SocketAddr, name: &str) -> anyhow::Result<ResponseClient<Channel>> {
        clients::response(hub, &self.pki.operator(name)?, &self.pki.domain)
    }

    /// An agent's `SiteLocal` API as operator `name`.
    pub fn local(&self, agent: SocketAddr, name: &str) -> anyhow::Result<SiteLocalClient<Channel>> {
        clients::local(agent, &self.pki.operator(name)?, &self.pki.domain)
    }

    /// An agent's `SiteResponse` API as operator `name`.
    pub fn site_response(
        &self,
        agent: SocketAddr,
        name: &str,
    ) -> anyhow::Result<SiteResponseClient<Channel>> {
        clients::site_response(agent, &self.pki.operator(name)?, &self.pki.domain)
    }

    /// A channel to the hub presenting `site`'s certificate (issued now), as its agent would.
    pub fn site_channel(&self, hub: SocketAddr, site: &str) -> anyhow::Result<Channel> {
        clients::channel(
            hub,
            &self.pki.site(site)?,
            &self.pki.domain,
            ExpectedServer::Hub,
        )
    }

    /// [`clients::raise_at_site`]: raised at the agent, returned once the hub holds it.
    pub async fn raise_at_site(
        &self,
        agent: SocketAddr,
        hub: SocketAddr,
        title: &str,
    ) -> anyhow::Result<String> {
        clients::raise_at_site(agent, hub, &self.pki, title).await
    }

    /// [`clients::escalate_once`]: `site` escalates `report` once, acknowledged.
    pub async fn escalate_once(
        &self,
        hub: SocketAddr,
        site: &str,
        report: pb::IncidentReport,
    ) -> anyhow::Result<()> {
        clients::escalate_once(hub, &self.pki, site, report).await
    }
}
