//! Clients that speak the real protocol over mutual TLS: operator queries, the agent's local
//! API, and a raw escalation stream for protocol-level tests.

use socfed_proto::identity::TrustDomain;
use socfed_proto::pb::{
    self, federation_client::FederationClient, hub_message, operator_client::OperatorClient,
    site_local_client::SiteLocalClient, site_message,
};
use socfed_runtime::tls::{ExpectedServer, TlsFiles, TlsMaterial};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

pub fn channel(
    addr: SocketAddr,
    files: &TlsFiles,
    domain: &TrustDomain,
    expected: ExpectedServer,
) -> anyhow::Result<Channel> {
    let material = TlsMaterial::load(files, domain.clone())?;
    Ok(socfed_runtime::tls::channel(
        &addr.to_string(),
        "127.0.0.1",
        material.client_config(expected)?,
        Duration::from_secs(5),
    )?)
}

/// A channel presenting no client certificate at all.
pub fn channel_without_client_cert(
    addr: SocketAddr,
    ca: &std::path::Path,
) -> anyhow::Result<Channel> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca)? {
        roots.add(cert?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(socfed_runtime::tls::channel(
        &addr.to_string(),
        "127.0.0.1",
        Arc::new(config),
        Duration::from_secs(5),
    )?)
}

pub fn operator(
    addr: SocketAddr,
    files: &TlsFiles,
    domain: &TrustDomain,
) -> anyhow::Result<OperatorClient<Channel>> {
    Ok(OperatorClient::new(channel(
        addr,
        files,
        domain,
        ExpectedServer::Hub,
    )?))
}

pub fn local(
    addr: SocketAddr,
    files: &TlsFiles,
    domain: &TrustDomain,
) -> anyhow::Result<SiteLocalClient<Channel>> {
    Ok(SiteLocalClient::new(channel(
        addr,
        files,
        domain,
        ExpectedServer::AnySite,
    )?))
}

/// Every incident at the hub, following page tokens.
pub async fn all_incidents(
    client: &mut OperatorClient<Channel>,
) -> Result<Vec<pb::HubIncident>, tonic::Status> {
    let mut out = Vec::new();
    let mut request = pb::ListIncidentsRequest {
        page_size: 1000,
        ..Default::default()
    };
    loop {
        let page = client.list_incidents(request.clone()).await?.into_inner();
        out.extend(page.incidents);
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        request.page_token = page.next_page_token;
    }
}

pub async fn sites(
    client: &mut OperatorClient<Channel>,
) -> Result<Vec<pb::SiteSummary>, tonic::Status> {
    Ok(client
        .list_sites(pb::ListSitesRequest {})
        .await?
        .into_inner()
        .sites)
}

/// A report with just a title and severity, unique by `local_id`.
/// Wire indicators of `(kind, value)` pairs, as a site reports them.
pub fn indicators(list: &[(pb::IndicatorKind, &str)]) -> Vec<pb::Indicator> {
    list.iter()
        .map(|(kind, value)| pb::Indicator {
            kind: *kind as i32,
            value: (*value).into(),
        })
        .collect()
}

pub fn report(local_id: &str, title: &str) -> pb::IncidentReport {
    pb::IncidentReport {
        local_incident_id: local_id.to_string(),
        revision: 1,
        title: title.to_string(),
        severity: pb::Severity::High as i32,
        ..Default::default()
    }
}

/// A raw escalation stream, as a site agent would open it.
pub struct RawStream {
    pub tx: mpsc::Sender<pb::SiteMessage>,
    pub inbound: tonic::Streaming<pb::HubMessage>,
}

impl RawStream {
    /// Opens the stream and sends `hello`; the hub's first answer is read by the caller.
    pub async fn open(
        channel: Channel,
        hello: pb::Hello,
        max_message_bytes: usize,
    ) -> Result<Self, tonic::Status> {
        let (tx, rx) = mpsc::channel(1024);
        tx.send(pb::SiteMessage {
            body: Some(site_message::Body::Hello(hello)),
        })
        .await
        .map_err(|_| tonic::Status::internal("send"))?;
        let inbound = FederationClient::new(channel)
            .max_encoding_message_size(max_message_bytes)
            .escalate(ReceiverStream::new(rx))
            .await?
            .into_inner();
        Ok(Self { tx, inbound })
    }

    /// Opens and expects a welcome.
    pub async fn open_welcomed(
        channel: Channel,
        hello: pb::Hello,
    ) -> Result<(Self, pb::Welcome), tonic::Status> {
        let mut stream = Self::open(channel, hello, 64 * 1024 * 1024).await?;
        match stream.inbound.message().await? {
            Some(pb::HubMessage {
                body: Some(hub_message::Body::Welcome(w)),
            }) => Ok((stream, w)),
            other => Err(tonic::Status::internal(format!(
                "expected welcome, got {other:?}"
            ))),
        }
    }

    pub async fn send(&self, seq: u64, report: pb::IncidentReport) -> anyhow::Result<()> {
        let message = pb::Escalation {
            seq,
            report: Some(report),
            enqueued_at_ms: 1,
            dropped_before: 0,
        };
        self.tx
            .send(pb::SiteMessage {
                body: Some(site_message::Body::Escalation(message)),
            })
            .await
            .map_err(|_| anyhow::anyhow!("stream closed"))
    }

    /// Sends an escalation declaring `dropped_before` sequences before it as never to be sent.
    pub async fn send_declaring(
        &self,
        seq: u64,
        dropped_before: u64,
        report: pb::IncidentReport,
    ) -> anyhow::Result<()> {
        let message = pb::Escalation {
            seq,
            report: Some(report),
            enqueued_at_ms: 1,
            dropped_before,
        };
        self.tx
            .send(pb::SiteMessage {
                body: Some(site_message::Body::Escalation(message)),
            })
            .await
            .map_err(|_| anyhow::anyhow!("stream closed"))
    }

    /// The next ack's high-water mark.
    pub async fn next_ack(&mut self) -> Result<u64, tonic::Status> {
        loop {
            match tokio::time::timeout(Duration::from_secs(20), self.inbound.message()).await {
                Err(_) => return Err(tonic::Status::deadline_exceeded("no ack within 20 s")),
                Ok(message) => match message? {
                    Some(pb::HubMessage {
                        body: Some(hub_message::Body::Ack(ack)),
                    }) => return Ok(ack.acked_through),
                    Some(_) => {}
                    None => return Err(tonic::Status::aborted("stream ended before an ack")),
                },
            }
        }
    }

    /// Reads acks until one covers `seq`; returns every notice seen on the way.
    pub async fn ack_through(&mut self, seq: u64) -> Result<Vec<pb::AckNotice>, tonic::Status> {
        let mut notices = Vec::new();
        loop {
            match tokio::time::timeout(Duration::from_secs(20), self.inbound.message()).await {
                Err(_) => return Err(tonic::Status::deadline_exceeded("no ack within 20 s")),
                Ok(message) => match message? {
                    Some(pb::HubMessage {
                        body: Some(hub_message::Body::Ack(ack)),
                    }) => {
                        notices.extend(ack.notices);
                        if ack.acked_through >= seq {
                            return Ok(notices);
                        }
                    }
                    Some(_) => {}
                    None => return Err(tonic::Status::aborted("stream ended before the ack")),
                },
            }
        }
    }
}

pub fn hello(site: &str, epoch: ulid::Ulid, next_seq: u64) -> pb::Hello {
    pb::Hello {
        site_id: site.to_string(),
        store_epoch: epoch.to_bytes().to_vec(),
        next_seq,
        agent_version: "test".into(),
        // Like an older agent: no incident states (a raw stream reads only what it expects).
        incident_states_after: None,
        runbooks_after: None,
    }
}

/// Opens a fresh escalation stream as `site` (a new store epoch), sends `report` as sequence 1
/// and waits for its acknowledgement: "this site escalates this, once".
pub async fn escalate_once(
    hub: SocketAddr,
    pki: &crate::pki::TestPki,
    site: &str,
    report: pb::IncidentReport,
) -> anyhow::Result<()> {
    let channel = channel(hub, &pki.site(site)?, &pki.domain, ExpectedServer::Hub)?;
    let (mut stream, _) =
        RawStream::open_welcomed(channel, hello(site, ulid::Ulid::new(), 1)).await?;
    stream.send(1, report).await?;
    stream.ack_through(1).await?;
    Ok(())
}

/// The hub's `Response` API as an operator.
pub fn response(
    addr: SocketAddr,
    files: &TlsFiles,
    domain: &TrustDomain,
) -> anyhow::Result<socfed_proto::pb::response_client::ResponseClient<Channel>> {
    Ok(socfed_proto::pb::response_client::ResponseClient::new(
        channel(addr, files, domain, ExpectedServer::Hub)?,
    ))
}

/// An agent's `SiteResponse` API (directives and tasks) as a site operator.
pub fn site_response(
    addr: SocketAddr,
    files: &TlsFiles,
    domain: &TrustDomain,
) -> anyhow::Result<socfed_proto::pb::site_response_client::SiteResponseClient<Channel>> {
    Ok(
        socfed_proto::pb::site_response_client::SiteResponseClient::new(channel(
            addr,
            files,
            domain,
            ExpectedServer::AnySite,
        )?),
    )
}

/// Raises an incident at the agent on `agent` and returns its hub incident id once the hub
/// holds it.
pub async fn raise_at_site(
    agent: SocketAddr,
    hub: SocketAddr,
    pki: &crate::pki::TestPki,
    title: &str,
) -> anyhow::Result<String> {
    let request = pb::RaiseIncidentRequest {
        title: title.into(),
        severity: pb::Severity::High as i32,
        ..Default::default()
    };
    raise_and_find(agent, hub, pki, request, "tester").await
}

/// Raises `request` at the agent on `agent` (as operator `tester`) and returns its hub
/// incident id once operator `watcher` sees it at the hub (a TLP:RED one needs a watcher the
/// RED rule lets read it, e.g. an IR lead while no lead is assigned).
pub async fn raise_and_find(
    agent: SocketAddr,
    hub: SocketAddr,
    pki: &crate::pki::TestPki,
    request: pb::RaiseIncidentRequest,
    watcher: &str,
) -> anyhow::Result<String> {
    let mut local = local(agent, &pki.operator("tester")?, &pki.domain)?;
    let raised = local.raise_incident(request).await?.into_inner();
    let hub_client = self::operator(hub, &pki.operator(watcher)?, &pki.domain)?;
    crate::eventually(
        "the hub to hold the raised incident",
        Duration::from_secs(20),
        || {
            let mut hub_client = hub_client.clone();
            let local_id = raised.local_incident_id.clone();
            async move {
                all_incidents(&mut hub_client)
                    .await
                    .ok()?
                    .into_iter()
                    .find(|i| {
                        i.sightings
                            .iter()
                            .any(|s| s.local_incident_ids.contains(&local_id))
                    })
                    .map(|i| i.id)
            }
        },
    )
    .await
}

/// Operator `op` runs `command` (with `argument`) on hub incident `id`.
pub async fn transition(
    op: &mut OperatorClient<Channel>,
    id: &str,
    command: pb::LifecycleCommand,
    argument: &str,
) -> anyhow::Result<()> {
    op.transition_incident(pb::TransitionIncidentRequest {
        id: id.into(),
        command: command as i32,
        argument: argument.into(),
        ..Default::default()
    })
    .await?;
    Ok(())
}

/// Submits native alert `lines` to the agent at `agent` as the operator `tester` (every
/// line must be accepted).
pub async fn submit_alerts(
    agent: std::net::SocketAddr,
    pki: &crate::pki::TestPki,
    lines: Vec<String>,
) -> anyhow::Result<()> {
    let mut soc = pb::site_soc_client::SiteSocClient::new(channel(
        agent,
        &pki.operator("tester")?,
        &pki.domain,
        socfed_runtime::tls::ExpectedServer::AnySite,
    )?);
    let batch = pb::AlertBatch {
        format: pb::AlertFormat::Native as i32,
        lines: lines
            .into_iter()
            .enumerate()
            .map(|(i, text)| pb::RawLine {
                line_no: i as u64 + 1,
                text,
            })
            .collect(),
    };
    let summary = soc
        .submit_alerts(tokio_stream::iter(vec![batch]))
        .await?
        .into_inner();
    anyhow::ensure!(summary.rejected == 0, "alerts rejected: {summary:?}");
    Ok(())
}
