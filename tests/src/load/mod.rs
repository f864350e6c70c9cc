//! End-to-end load scenarios of `socfed-load`, and the two ceilings every result is reported
//! against, measured in the same run on the same machine: the transport (a raw tonic
//! bidirectional stream over the same mutual TLS, acknowledging every message, storing nothing)
//! and the storage (raw sled inserts with a flush per batch, as the hub's group commit does,
//! with the hub store's cache and fdatasync: [`StorageSettings::hub`]).
//!
//! One module per scenario: [`escalate`] (the default: the escalation rate, hub alone and
//! through agent processes), [`stored`] (cost per escalation and query latency as the store
//! grows, with [`query`]), [`visible`] (alert at a site → visible at the hub), [`idle`]
//! (concurrent idle site streams and hub memory), [`drain`] (outbox after an outage).
//! [`hub`] starts the real hub process (on sled, or on PostgreSQL with [`pg_store`], which
//! also measures the database's same-run ceiling) and [`preload`] fills it; [`agents`] starts real agent
//! processes, [`pipeline`] raises through them, [`ops`] reads the stores' operation counts.

pub mod agents;
pub mod drain;
pub mod escalate;
pub mod hub;
pub mod idle;
pub mod ops;
pub mod pg_store;
pub mod pipeline;
pub mod preload;
pub mod query;
pub mod sled_keys;
pub mod stored;
pub mod visible;

use crate::clients::{self, RawStream, hello};
use crate::pki::TestPki;
use socfed_proto::pb::{self, federation_server::Federation, hub_message, site_message};
use socfed_runtime::config::Durability;
use socfed_runtime::tls::{ExpectedServer, Swappable, TlsMaterial, tls_incoming};
use std::net::SocketAddr;
use std::time::Instant;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

/// A report of about `bytes` bytes on the wire.
pub fn sized_report(local_id: &str, title: &str, bytes: usize) -> pb::IncidentReport {
    pb::IncidentReport {
        description: "x".repeat(bytes.saturating_sub(60)),
        ..clients::report(local_id, title)
    }
}

/// Answers every stream with a welcome, then one ack per escalation. No storage.
struct NullHub;

#[tonic::async_trait]
impl Federation for NullHub {
    type EscalateStream = ReceiverStream<Result<pb::HubMessage, Status>>;

    async fn escalate(
        &self,
        request: Request<Streaming<pb::SiteMessage>>,
    ) -> Result<Response<Self::EscalateStream>, Status> {
        let mut inbound = request.into_inner();
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(async move {
            while let Ok(Some(message)) = inbound.message().await {
                let reply = match message.body {
                    Some(site_message::Body::Hello(_)) => hub_message::Body::Welcome(pb::Welcome {
                        max_message_bytes: 4 << 20,
                        ..Default::default()
                    }),
                    Some(site_message::Body::Escalation(e)) => hub_message::Body::Ack(pb::Ack {
                        acked_through: e.seq,
                        notices: vec![],
                    }),
                    _ => continue,
                };
                if tx
                    .send(Ok(pb::HubMessage { body: Some(reply) }))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// Starts the raw transport server with the hub's certificate on a loopback port.
pub async fn null_hub(pki: &TestPki) -> anyhow::Result<SocketAddr> {
    let material = TlsMaterial::load(&pki.hub(), pki.domain.clone())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let incoming = tls_incoming(
        listener,
        Swappable::new(material.server_config()?),
        pki.domain.clone(),
        socfed_runtime::listen::Gate::new(
            "null_hub",
            socfed_runtime::listen::ListenLimits::default(),
            socfed_runtime::listen::DescriptorBudget::from_rlimit(),
            true,
            &tokio_util::sync::CancellationToken::new(),
        ),
    );
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(
                pb::federation_server::FederationServer::new(NullHub)
                    .max_decoding_message_size(4 << 20),
            )
            .serve_with_incoming(incoming),
    );
    Ok(addr)
}

/// Messages per second through `sites` raw streams of `per_site` escalations each, all the
/// same report (the null hub stores nothing, so content does not matter to it).
pub async fn transport_ceiling(
    addr: SocketAddr,
    pki: &TestPki,
    sites: &[String],
    per_site: u64,
    bytes: usize,
) -> anyhow::Result<f64> {
    let report = sized_report("base", "baseline", bytes);
    let elapsed = stream_reports(addr, pki, sites, per_site, move |_, _| report.clone()).await?;
    Ok((per_site * sites.len() as u64) as f64 / elapsed.as_secs_f64())
}

/// Opens one fresh raw stream per site, sends `per_site` escalations on each (sequence `n`
/// carries `report(site index, n)`) as fast as the stream takes them, and waits until each is
/// acknowledged through its last; returns the time from the first send.
pub async fn stream_reports(
    addr: SocketAddr,
    pki: &TestPki,
    sites: &[String],
    per_site: u64,
    report: impl Fn(usize, u64) -> pb::IncidentReport + Send + Sync + 'static,
) -> anyhow::Result<std::time::Duration> {
    let report = std::sync::Arc::new(report);
    let mut streams = Vec::new();
    for site in sites {
        let channel = clients::channel(addr, &pki.site(site)?, &pki.domain, ExpectedServer::Hub)?;
        let (stream, _) =
            RawStream::open_welcomed(channel, hello(site, ulid::Ulid::new(), 1)).await?;
        streams.push(stream);
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, RawStream { tx, mut inbound }) in streams.into_iter().enumerate() {
        let report = report.clone();
        tasks.push(tokio::spawn(async move {
            let sender = tokio::spawn(async move {
                for seq in 1..=per_site {
                    let message = pb::SiteMessage {
                        body: Some(site_message::Body::Escalation(pb::Escalation {
                            seq,
                            report: Some(report(i, seq)),
                            enqueued_at_ms: 0,
                            dropped_before: 0,
                        })),
                    };
                    if tx.send(message).await.is_err() {
                        break;
                    }
                }
                tx
            });
            let mut acked = 0;
            while acked < per_site {
                match inbound.message().await? {
                    Some(pb::HubMessage {
                        body: Some(hub_message::Body::Ack(ack)),
                    }) => acked = ack.acked_through,
                    Some(_) => {}
                    None => anyhow::bail!("stream {i} ended at ack {acked} of {per_site}"),
                }
            }
            drop(sender.await);
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(started.elapsed())
}

/// How the storage ceiling opens and syncs sled.
#[derive(Debug, Clone, Copy)]
pub struct StorageSettings {
    /// sled's page cache; `None` = sled's default (1 GiB).
    pub cache_bytes: Option<u64>,
    pub durability: Durability,
}

impl StorageSettings {
    /// As the hub store is opened with its default config (`[ingest]`: cache and durability),
    /// which is how every scenario starts the hub.
    pub fn hub() -> Self {
        let ingest = sirt_hub::config::IngestConfig::default();
        Self {
            cache_bytes: Some(ingest.cache_bytes),
            durability: ingest.durability,
        }
    }

    /// The ceiling as first measured: sled's default cache and its flush only, which flatters
    /// sled against the product (kept to compare runs with earlier ones).
    pub fn sled_defaults_flush_only() -> Self {
        Self {
            cache_bytes: None,
            durability: Durability::Flush,
        }
    }
}

/// Records per second for `n` inserts of `bytes` into one tree, with a flush every `batch`
/// (and, with `Durability::Fsync`, the stores' own fdatasync after each flush,
/// `store_files::DataSync`).
pub fn storage_ceiling(
    dir: &std::path::Path,
    n: u64,
    bytes: usize,
    batch: u64,
    settings: StorageSettings,
) -> anyhow::Result<f64> {
    socfed_runtime::store_files::private_dir(dir)?;
    let mut config = socfed_runtime::store_files::sled_config(dir)?;
    if let Some(cache) = settings.cache_bytes {
        config = config.cache_capacity(cache);
    }
    let db = config.open()?;
    let sync = socfed_runtime::store_files::DataSync::open(dir, settings.durability)?;
    let tree = db.open_tree("baseline")?;
    let value = vec![7u8; bytes];
    let flush = || -> anyhow::Result<()> {
        db.flush()?;
        sync.after_flush()?;
        Ok(())
    };
    let started = Instant::now();
    for i in 0..n {
        tree.insert(i.to_be_bytes(), value.as_slice())?;
        if (i + 1) % batch == 0 {
            flush()?;
        }
    }
    flush()?;
    let rate = n as f64 / started.elapsed().as_secs_f64().max(f64::MIN_POSITIVE);
    Ok(rate)
}
