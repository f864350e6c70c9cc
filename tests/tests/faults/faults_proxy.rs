//! Fault injection on the wire: every agent reaches the hub through a fault proxy that adds
//! latency, slices writes into small pieces and cuts connections after a random number of
//! bytes (TLS passes through untouched). Nothing is lost or stored twice, and every new stream
//! resumes after the last acknowledged sequence: what the hub sees again is bounded by what
//! was in flight (the agent's window) at each cut.
//!
//! Short variant in the default suite; `SOCFED_LONG_FAULTS=1` sends ten times as much.
//! `SOCFED_FAULT_SEED=N` replays the proxy's choices.

use socfed_tests::fault_proxy::Faults;
use socfed_tests::federation::{Federation, Spec};
use socfed_tests::{ledger, seed};
use std::time::{Duration, Instant};

const SITES: [&str; 3] = ["paris", "lyon", "oslo"];
/// Small, so that a stream resent from anywhere but the last ack would show.
const WINDOW: u64 = 32;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cut_sliced_and_delayed_streams_lose_nothing_and_resume_after_the_last_ack()
-> anyhow::Result<()> {
    let seed = seed::seed_for("faults_proxy");
    let per_site = seed::scale(1_000, 10_000);
    let total = (SITES.len() * per_site) as u64;
    let faults = Faults {
        latency_ms: Some((0, 2)),
        // A TLS handshake and welcome take ~5 KB; every connection carries some escalations.
        cut_after_bytes: Some((16 * 1024, 96 * 1024)),
        slice_max: Some(1_400),
    };
    let fed = Federation::start(Spec {
        proxy: Some(faults),
        proxy_seed: seed,
        agent_hub_keys: format!("window = {WINDOW}"),
        ..Spec::sites(&SITES)
    })
    .await?;
    let started = Instant::now();
    fed.raise_range(0, per_site, 8).await?;
    fed.wait_drained(total, Duration::from_secs(600)).await?;
    let drained_in = started.elapsed();
    let sites = fed.check_operator_view(per_site).await?;

    let mut report = Vec::new();
    for agent in &fed.agents {
        let stats = agent.proxy.as_ref().map(|p| p.stats()).unwrap_or_default();
        let status = fed.agent_status(agent).await?;
        let hub = sites
            .iter()
            .find(|s| s.site_id == agent.site)
            .ok_or_else(|| anyhow::anyhow!("hub does not list {}", agent.site))?;
        // The faults happened: each site's stream was cut several times mid-transfer.
        assert!(stats.cuts >= 3, "{}: only {} cuts", agent.site, stats.cuts);
        assert!(
            status.reconnects >= stats.cuts.min(3),
            "{}: {} reconnects after {} cuts",
            agent.site,
            status.reconnects,
            stats.cuts
        );
        // Each new stream starts after the last acknowledged sequence: at most one window per
        // connection comes back as an escalation the hub already held.
        assert!(
            hub.duplicates <= stats.connections * WINDOW,
            "{}: {} resent escalations over {} connections (window {WINDOW})",
            agent.site,
            hub.duplicates,
            stats.connections
        );
        report.push(format!(
            "{}: {} connections, {} cuts, {} writes, {} KiB up, {} reconnects, {} resent",
            agent.site,
            stats.connections,
            stats.cuts,
            stats.writes,
            stats.bytes_up / 1024,
            status.reconnects,
            hub.duplicates
        ));
    }
    fed.stop().await?;

    let stored = ledger::read_stopped_hub(&fed.hub_data())?;
    let verdict = ledger::check_exactly_once(&fed.ledger.entries(), &stored)?;
    assert_eq!(verdict.stored as u64, total);
    eprintln!(
        "faults_proxy: {total} escalations through fault proxies; stored {} exactly once, 0 lost, 0 duplicated, payload hashes all match; drained in {drained_in:.1?}\n  {}",
        verdict.stored,
        report.join("\n  ")
    );
    Ok(())
}
