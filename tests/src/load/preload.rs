//! Filling a real hub quickly: raw site streams (no agent in front, as the hub-alone run) that
//! each open a fresh store epoch and send distinct incidents — every escalation opens its own
//! hub incident with its own correlation fingerprint, severities cycle through low..critical,
//! so the store grows by exactly one incident per escalation.

use super::sized_report;
use crate::pki::TestPki;
use socfed_proto::pb;
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

/// Sends `per_site` distinct escalations on one fresh raw stream per site and waits for every
/// ack; returns the elapsed time.
pub async fn stream_distinct(
    addr: SocketAddr,
    pki: &TestPki,
    sites: &[String],
    per_site: u64,
    bytes: usize,
    phase: &str,
) -> anyhow::Result<Duration> {
    let phase = phase.to_string();
    super::stream_reports(addr, pki, sites, per_site, move |site, n| {
        distinct_report(&phase, site, n, bytes)
    })
    .await
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
