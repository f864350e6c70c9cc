//! Filling a real hub quickly: raw site streams (no agent in front, as the hub-alone run) that
//! each open a fresh store epoch and send distinct incidents — every escalation opens its own
//! hub incident with its own correlation fingerprint, severities cycle through low..critical,
//! so the store grows by exactly one incident per escalation.

use super::sized_report;
use crate::clients::{self, RawStream, hello};
use crate::pki::TestPki;
use socfed_proto::pb::{self, hub_message, site_message};
use socfed_proto::tls::ExpectedServer;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Severities the preload cycles through, so severity filters select a known share.
pub const SEVERITIES: [pb::Severity; 4] = [
    pb::Severity::Low,
    pb::Severity::Medium,
    pb::Severity::High,
    pb::Severity::Critical,
];

/// A distinct incident: `phase` tells runs apart, `site` and `n` the escalation.
pub fn distinct_report(phase: &str, site: usize, n: u64, bytes: usize) -> pb::IncidentReport {
    let id = format!("{phase}-{site}-{n}");
    pb::IncidentReport {
        rule_id: format!("R-{id}"),
        severity: SEVERITIES[(n % 4) as usize] as i32,
        indicators: vec![pb::Indicator {
            kind: pb::IndicatorKind::Domain as i32,
            value: format!("h{n}.s{site}.{phase}.example"),
        }],
        ..sized_report(&id, &format!("incident {id}"), bytes)
    }
}

/// Sends `per_site` distinct escalations on one fresh raw stream per site (up to `window`
/// unacknowledged per stream) and waits for every ack; returns the elapsed time.
pub async fn stream_distinct(
    addr: SocketAddr,
    pki: &TestPki,
    sites: &[String],
    per_site: u64,
    bytes: usize,
    phase: &str,
) -> anyhow::Result<Duration> {
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
        let phase = phase.to_string();
        tasks.push(tokio::spawn(async move {
            let sender = tokio::spawn(async move {
                for seq in 1..=per_site {
                    let message = pb::SiteMessage {
                        body: Some(site_message::Body::Escalation(pb::Escalation {
                            seq,
                            report: Some(distinct_report(&phase, i, seq, bytes)),
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

/// Grows the hub's store to `target` distinct incidents in chunks (one stream per site and
/// chunk), reporting progress through `say`.
pub async fn grow_to(
    addr: SocketAddr,
    pki: &TestPki,
    sites: &[String],
    have: u64,
    target: u64,
    bytes: usize,
    say: &dyn Fn(String),
) -> anyhow::Result<()> {
    const CHUNK_PER_SITE: u64 = 25_000;
    let from = have;
    let mut have = have;
    let mut chunk = 0;
    let started = Instant::now();
    while have < target {
        let per_site = ((target - have) / sites.len() as u64).clamp(1, CHUNK_PER_SITE);
        let phase = format!("pre{have}c{chunk}");
        stream_distinct(addr, pki, sites, per_site, bytes, &phase).await?;
        have += per_site * sites.len() as u64;
        chunk += 1;
        say(format!(
            "  preloaded {have} incidents ({:.0}/s)",
            (have - from) as f64 / started.elapsed().as_secs_f64()
        ));
    }
    Ok(())
}
