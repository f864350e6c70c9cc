//! Hubs and agents in this process, started through the same `app::start` as the binaries.

use crate::pki::TestPki;
use crate::procs::{write_agent_config, write_hub_config};
use sirt_hub::config::HubConfig;
use site_agent::config::AgentConfig;
use std::net::SocketAddr;
use std::path::Path;

/// Starts a hub on an ephemeral loopback port enrolling `sites`. `extra` is appended to the
/// TOML config (e.g. a `[limits]` table).
pub async fn hub(
    dir: &Path,
    pki: &TestPki,
    sites: &[&str],
    extra: &str,
) -> anyhow::Result<sirt_hub::app::RunningHub> {
    hub_on(dir, pki, "127.0.0.1:0".parse()?, sites, extra).await
}

/// Starts a hub on `listen`, for agents that were configured before the hub existed.
pub async fn hub_on(
    dir: &Path,
    pki: &TestPki,
    listen: SocketAddr,
    sites: &[&str],
    extra: &str,
) -> anyhow::Result<sirt_hub::app::RunningHub> {
    let path = write_hub_config(dir, pki, listen, sites, extra)?;
    Ok(sirt_hub::app::start(HubConfig::load(&path)?).await?)
}

/// Starts the agent of `site` on an ephemeral local API port, linked to `hub`.
pub async fn agent(
    dir: &Path,
    pki: &TestPki,
    site: &str,
    hub: SocketAddr,
    extra: &str,
) -> anyhow::Result<site_agent::app::RunningAgent> {
    let listen: SocketAddr = "127.0.0.1:0".parse()?;
    let path = write_agent_config(dir, pki, site, hub, listen, extra)?;
    Ok(site_agent::app::start(AgentConfig::load(&path)?).await?)
}
