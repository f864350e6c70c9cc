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

/// A real binary (`sirt-hub`, `site-agent`) run as an operator against a service on loopback,
/// the way an operator's shell holds it: the certificate in `SOCFED_CA`/`SOCFED_CERT`/
/// `SOCFED_KEY`, the address flag and `--server-name 127.0.0.1` after the command's own
/// arguments.
pub struct OperatorCli {
    binary: &'static str,
    target: [String; 4],
    files: socfed_runtime::tls::TlsFiles,
}

impl OperatorCli {
    /// `sirt-hub ARGS --hub ADDR` as the holder of `files`.
    pub fn hub(addr: SocketAddr, files: socfed_runtime::tls::TlsFiles) -> Self {
        Self::new("sirt-hub", "--hub", addr, files)
    }

    /// `site-agent ARGS --agent ADDR` as the holder of `files`.
    pub fn agent(addr: SocketAddr, files: socfed_runtime::tls::TlsFiles) -> Self {
        Self::new("site-agent", "--agent", addr, files)
    }

    fn new(
        binary: &'static str,
        flag: &str,
        addr: SocketAddr,
        files: socfed_runtime::tls::TlsFiles,
    ) -> Self {
        let target = [
            flag.to_string(),
            addr.to_string(),
            "--server-name".to_string(),
            "127.0.0.1".to_string(),
        ];
        Self {
            binary,
            target,
            files,
        }
    }

    /// Runs `ARGS` and returns what it did.
    pub fn run(&self, args: &[&str]) -> anyhow::Result<std::process::Output> {
        Ok(self.command(args)?.output()?)
    }

    /// Starts `ARGS` with its stdout piped, for a command that runs until stopped (`incidents
    /// watch`); the caller kills the child.
    pub fn spawn(&self, args: &[&str]) -> anyhow::Result<std::process::Child> {
        Ok(self
            .command(args)?
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?)
    }

    /// The binary with `ARGS`, the target flags and the certificate in the environment.
    fn command(&self, args: &[&str]) -> anyhow::Result<std::process::Command> {
        let mut command = std::process::Command::new(crate::procs::binary(self.binary)?);
        command
            .args(args)
            .args(&self.target)
            .env("SOCFED_CA", &self.files.ca)
            .env("SOCFED_CERT", &self.files.cert)
            .env("SOCFED_KEY", &self.files.key);
        Ok(command)
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = self.run(args)?;
        anyhow::ensure!(
            out.status.success(),
            "{} {args:?} failed: {}",
            self.binary,
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs and expects failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = self.run(args)?;
        anyhow::ensure!(
            !out.status.success(),
            "{} {args:?} succeeded: {}",
            self.binary,
            String::from_utf8_lossy(&out.stdout)
        );
        Ok(String::from_utf8_lossy(&out.stderr).into_owned())
    }

    /// Runs with `--output json`, expects success and parses stdout.
    pub fn json(&self, args: &[&str]) -> anyhow::Result<serde_json::Value> {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        Ok(serde_json::from_str(&self.ok(&all)?)?)
    }
}

impl Org {
    /// `sirt-hub` as operator `name` against the hub at `hub`.
    pub fn hub_cli(&self, hub: SocketAddr, name: &str) -> anyhow::Result<OperatorCli> {
        Ok(OperatorCli::hub(hub, self.pki.operator(name)?))
    }

    /// `site-agent` as operator `name` against the agent at `agent`.
    pub fn agent_cli(&self, agent: SocketAddr, name: &str) -> anyhow::Result<OperatorCli> {
        Ok(OperatorCli::agent(agent, self.pki.operator(name)?))
    }
}
