//! The site agent's HTTP/JSON API served as the agent's web listener serves it: its router
//! nested under `/api/v1`, over HTTPS with the agent's own TLS material (client certificates
//! optional) through `socfed_runtime::listen::http::serve`, on a loopback port; and HTTPS
//! clients with or without an operator certificate; requests and what the scenarios read of
//! the answers.

use crate::fixture::Org;
use crate::pki::TestPki;
use crate::procs::write_agent_config;
use serde_json::Value;
use site_agent::app::RunningAgent;
use site_agent::service::ManualClock;
use site_agent::store::schema::{self, TreeId};
use socfed_runtime::audit::AuditEntry;
use socfed_runtime::listen::{DescriptorBudget, Gate, ListenLimits};
use socfed_runtime::tls::{Swappable, TlsMaterial, tls_incoming};
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The API of one in-process agent, served until [`ServedApi::stop`].
pub struct ServedApi {
    /// `https://127.0.0.1:PORT/api/v1`
    pub base: String,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl ServedApi {
    /// `base` + `path` (`/alerts`, …).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.task).await??;
        Ok(())
    }
}

/// Serves `agent`'s API (site `site` of `pki`) on a loopback port.
pub async fn serve(agent: &RunningAgent, pki: &TestPki, site: &str) -> anyhow::Result<ServedApi> {
    let material = TlsMaterial::load(&pki.site_paths(site), pki.domain.clone())?;
    let tls = Swappable::new(material.https_server_config()?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let shutdown = CancellationToken::new();
    let limits = ListenLimits::default();
    // Integrations bring no certificate: connections are admitted without one.
    let gate = Gate::new(
        "web",
        limits.clone(),
        DescriptorBudget::from_rlimit(),
        false,
        &shutdown,
    );
    let incoming = tokio_stream::StreamExt::filter_map(
        tls_incoming(listener, tls, pki.domain.clone(), gate),
        Result::ok,
    );
    let app = axum::Router::new().nest("/api/v1", site_agent::api::router(agent.api.clone()));
    let task = socfed_runtime::listen::http::serve(incoming, app, &limits, shutdown.clone());
    Ok(ServedApi {
        base: format!("https://127.0.0.1:{}/api/v1", addr.port()),
        shutdown,
        task,
    })
}

/// An HTTPS client trusting the test CA, presenting `operator`'s certificate if given.
pub fn client(pki: &TestPki, operator: Option<&str>) -> anyhow::Result<reqwest::Client> {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(pki.ca())?)?;
    let mut builder = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .timeout(Duration::from_secs(30));
    if let Some(name) = operator {
        let files = pki.operator(name)?;
        let mut pem = std::fs::read(&files.cert)?;
        pem.extend_from_slice(&std::fs::read(&files.key)?);
        builder = builder.identity(reqwest::Identity::from_pem(&pem)?);
    }
    Ok(builder.build()?)
}

pub const NDJSON: &str = "application/x-ndjson";

/// An in-process agent on a manual clock (tokens expire without waiting), and its API.
pub async fn agent(
    org: &Org,
    clock: Arc<ManualClock>,
) -> anyhow::Result<(site_agent::app::RunningAgent, ServedApi)> {
    let hub = format!("127.0.0.1:{}", crate::free_port()?).parse()?;
    let listen = "127.0.0.1:0".parse()?;
    let path = write_agent_config(org.dir(), &org.pki, "paris", hub, listen, "")?;
    let config = site_agent::config::AgentConfig::load(&path)?;
    let agent = site_agent::app::start_with_clock(config, clock).await?;
    let api = serve(&agent, &org.pki, "paris").await?;
    Ok((agent, api))
}

pub fn native(id: &str, rule: &str, at_ms: i64) -> String {
    format!(
        r#"{{"id":"{id}","observed_at":{at_ms},"product":"edr","rule_id":"{rule}","severity":"high","hosts":["ws-{id}"]}}"#
    )
}

/// `POST /alerts?format=FORMAT` with `body`; the status and the JSON answer.
pub async fn post(
    http: &reqwest::Client,
    api: &ServedApi,
    token: Option<&str>,
    format: &str,
    content_type: &str,
    gzip: bool,
    body: Vec<u8>,
) -> anyhow::Result<(u16, Value)> {
    let mut request = http
        .post(api.url(&format!("/alerts?format={format}")))
        .header("content-type", content_type);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let body = if gzip {
        request = request.header("content-encoding", "gzip");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&body)?;
        encoder.finish()?
    } else {
        body
    };
    let response = request.body(body).send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

pub async fn get(
    http: &reqwest::Client,
    api: &ServedApi,
    token: Option<&str>,
    path: &str,
) -> anyhow::Result<(u16, Value)> {
    let mut request = http.get(api.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

/// `site-agent tokens create NAME --scope SCOPE --expires 30d -o json` as the SOC manager.
pub fn mint(
    org: &Org,
    agent: &site_agent::app::RunningAgent,
    name: &str,
    scope: &str,
) -> anyhow::Result<String> {
    mint_with(&org.agent_cli(agent.local_addr, "tester")?, name, scope)
}

/// `site-agent tokens create NAME --scope SCOPE --expires 30d -o json` through `cli` (the
/// certificate it presents is the one that mints the token).
pub fn mint_with(
    cli: &crate::fixture::OperatorCli,
    name: &str,
    scope: &str,
) -> anyhow::Result<String> {
    let minted = cli.json(&[
        "tokens",
        "create",
        name,
        "--scope",
        scope,
        "--expires",
        "30d",
    ])?;
    minted["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no token printed: {minted}"))
}

pub fn audit(agent: &site_agent::app::RunningAgent) -> anyhow::Result<Vec<AuditEntry>> {
    let tree = agent
        .store
        .raw_tree("audit")
        .ok_or_else(|| anyhow::anyhow!("no audit tree"))?;
    tree.iter()
        .values()
        .map(|v| Ok(schema::decode::<AuditEntry>(TreeId::Audit, &v?)?))
        .collect()
}

pub fn code(answer: &Value) -> &str {
    answer["error"]["code"].as_str().unwrap_or_default()
}

/// A fresh agent, its API and an intake token (minted through the CLI).
pub async fn intake_agent(
    org: &Org,
) -> anyhow::Result<(site_agent::app::RunningAgent, ServedApi, String)> {
    let clock = Arc::new(ManualClock::new(socfed_proto::now_millis()));
    let (agent, api) = agent(org, clock).await?;
    let token = mint(org, &agent, "shipper", "intake,read")?;
    Ok((agent, api, token))
}

pub async fn group_count(
    http: &reqwest::Client,
    api: &ServedApi,
    token: &str,
) -> anyhow::Result<usize> {
    let (status, groups) = get(http, api, Some(token), "/alerts?status=all&limit=10000").await?;
    anyhow::ensure!(status == 200, "{groups}");
    Ok(groups.as_array().map_or(0, Vec::len))
}

pub fn counts(answer: &Value) -> [u64; 6] {
    [
        "lines",
        "accepted",
        "aggregated",
        "duplicates",
        "rejected",
        "skipped",
    ]
    .map(|k| answer[k].as_u64().unwrap_or(u64::MAX))
}

/// `POST PATH` without a body (a triage action); the status and the JSON answer.
pub async fn post_empty(
    http: &reqwest::Client,
    api: &ServedApi,
    token: Option<&str>,
    path: &str,
) -> anyhow::Result<(u16, Value)> {
    let mut request = http.post(api.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}
