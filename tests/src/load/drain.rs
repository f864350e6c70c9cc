//! Scenario `drain`: the outbox after an outage. Site agents (in this process, each with its
//! own certificate, fsync'd sled outbox and stream) accumulate the backlog of a one-hour hub
//! outage at a stated site rate while the hub's port is closed; then the real hub process
//! starts and the time until every outbox is acknowledged is measured. Same run, same hub:
//! the hub alone (raw site streams, the same number of escalations) and the two ceilings.

use super::hub::{HubProcess, OPERATOR};
use super::preload::stream_distinct;
use super::{StorageSettings, null_hub, sized_report, storage_ceiling, transport_ceiling};
use crate::bench::machine;
use crate::pki::TestPki;
use crate::procs::write_agent_config;
use crate::{clients, free_port};
use futures_util::StreamExt;
use socfed_proto::pb;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct DrainArgs {
    /// Sites with a backlog.
    #[arg(long, default_value_t = 1)]
    pub sites: usize,
    /// Escalations per second one site raises (the backlog is rate × outage).
    #[arg(long, default_value_t = 20)]
    pub site_rate: u64,
    /// Length of the simulated outage, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub outage_secs: u64,
    /// Approximate size of each escalation, in bytes.
    #[arg(long, default_value_t = 500)]
    pub bytes: usize,
}

pub async fn run(
    args: &DrainArgs,
    dir: &Path,
    say: &dyn Fn(String),
) -> anyhow::Result<serde_json::Value> {
    let pki = TestPki::create(&dir.join("pki"), "corp.example")?;
    let sites: Vec<String> = (0..args.sites).map(|i| format!("site-{i:03}")).collect();
    let baseline_sites: Vec<String> = (0..args.sites).map(|i| format!("base-{i:03}")).collect();
    let per_site = args.site_rate * args.outage_secs;
    let total = per_site * args.sites as u64;

    say("measuring the ceilings (raw mTLS stream; raw sled insert + flush and fdatasync per 1024, the hub's cache)...".into());
    let null = null_hub(&pki).await?;
    let transport = transport_ceiling(null, &pki, &baseline_sites, per_site, args.bytes).await?;
    let storage = storage_ceiling(
        &dir.join("sled-baseline"),
        total,
        args.bytes,
        1024,
        StorageSettings::hub(),
    )?;
    let _ = std::fs::remove_dir_all(dir.join("sled-baseline"));

    // The hub's port is chosen now and stays closed until the backlog is built.
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let mut agents = Vec::new();
    for site in &sites {
        let extra = format!("[outbox]\nmax_entries = {}\n", per_site * 2);
        let config = write_agent_config(dir, &pki, site, hub_addr, "127.0.0.1:0".parse()?, &extra)?;
        let agent = site_agent::app::start(site_agent::config::AgentConfig::load(&config)?).await?;
        agents.push(Arc::new(agent));
    }
    say(format!(
        "hub down: building the backlog, {per_site} per site ({} /s × {} s) on {} sites...",
        args.site_rate, args.outage_secs, args.sites
    ));
    let operator = pki.operator(OPERATOR)?;
    let started = Instant::now();
    let mut fills = Vec::new();
    for (i, agent) in agents.iter().enumerate() {
        let local = clients::local(agent.local_addr, &operator, &pki.domain)?;
        let bytes = args.bytes;
        fills.push(tokio::spawn(async move {
            let raises = (0..per_site).map(|n| {
                let mut local = local.clone();
                async move {
                    let report = sized_report("", "", bytes);
                    local
                        .raise_incident(pb::RaiseIncidentRequest {
                            request_id: format!("drain-{n}"),
                            title: format!("site {i} outage incident {n}"),
                            description: report.description,
                            severity: pb::Severity::High as i32,
                            rule_id: format!("R-{i}-{n}"),
                            indicators: vec![pb::Indicator {
                                kind: pb::IndicatorKind::Domain as i32,
                                value: format!("h{n}.site{i}.example"),
                            }],
                            ..Default::default()
                        })
                        .await
                        .map(|_| ())
                }
            });
            let mut results = futures_util::stream::iter(raises).buffer_unordered(32);
            while let Some(result) = results.next().await {
                result?;
            }
            anyhow::Ok(())
        }));
    }
    for fill in fills {
        fill.await??;
    }
    let fill_secs = started.elapsed().as_secs_f64();
    for agent in &agents {
        let c = agent.store.counters()?;
        anyhow::ensure!(
            c.next_seq - 1 - c.acked_through == per_site,
            "backlog is {} not {per_site}",
            c.next_seq - 1 - c.acked_through
        );
    }
    say(format!(
        "backlog of {total} built in {fill_secs:.0} s; starting the hub..."
    ));

    let all: Vec<String> = sites.iter().chain(&baseline_sites).cloned().collect();
    let spawned = Instant::now();
    let hub = HubProcess::start_at(dir, &pki, &all, "", hub_addr).await?;
    let up = Instant::now();
    let cpu_before = hub.cpu_seconds();
    let mut first_ack = None;
    let mut half = None;
    loop {
        let mut acked = 0u64;
        for agent in &agents {
            acked += agent.store.counters()?.acked_through;
        }
        if acked > 0 && first_ack.is_none() {
            first_ack = Some(up.elapsed());
        }
        if acked * 2 >= total && half.is_none() {
            half = Some(up.elapsed());
        }
        if acked >= total {
            break;
        }
        anyhow::ensure!(
            up.elapsed() < Duration::from_secs(3600),
            "backlog not drained after an hour ({acked} of {total})"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let drained = up.elapsed();
    let drain_cpu = hub.cpu_seconds() - cpu_before;
    let stored = hub.stored().await?;
    anyhow::ensure!(stored == total, "hub stored {stored} of {total}");
    for agent in agents {
        if let Ok(agent) = Arc::try_unwrap(agent) {
            agent.stop().await?;
        }
    }

    say("the hub alone on the same hub: raw site streams, the same count...".into());
    let alone = stream_distinct(
        hub.addr,
        &pki,
        &baseline_sites,
        per_site,
        args.bytes,
        "alone",
    )
    .await?;
    let alone_rate = total as f64 / alone.as_secs_f64();
    let rate = total as f64 / drained.as_secs_f64();
    let steady = half.map(|h| (total / 2) as f64 / (drained - h).as_secs_f64().max(1e-9));
    Ok(serde_json::json!({
        "scenario": "drain",
        "machine": machine(),
        "sites": args.sites, "site_rate": args.site_rate, "outage_secs": args.outage_secs,
        "backlog": total, "bytes": args.bytes,
        "backlog_fill_seconds": fill_secs,
        "hub_start_seconds": (up - spawned).as_secs_f64(),
        "first_ack_after_hub_up_seconds": first_ack.map(|d| d.as_secs_f64()),
        "time_to_empty_seconds": drained.as_secs_f64(),
        "drain_per_second": rate,
        "second_half_per_second": steady,
        "hub_cpu_seconds_draining": drain_cpu,
        "hub_alone_per_second": alone_rate,
        "drain_ratio_to_hub_alone": rate / alone_rate,
        "ceilings": {"transport_per_second": transport, "storage_per_second": storage},
        "drain_ratio_to_storage_ceiling": rate / storage,
        "exact": stored == total,
    }))
}

pub fn print(summary: &serde_json::Value) {
    let f = |k: &str| summary[k].as_f64().unwrap_or(0.0);
    let c = &summary["ceilings"];
    println!(
        "machine: {}; ceilings this run: transport {:.0}/s, storage {:.0}/s",
        summary["machine"].as_str().unwrap_or(""),
        c["transport_per_second"].as_f64().unwrap_or(0.0),
        c["storage_per_second"].as_f64().unwrap_or(0.0)
    );
    println!(
        "| backlog | time to empty (from hub up) | drain rate | second half | hub alone, same run | ÷ hub alone | ÷ storage ceiling | first ack after hub up |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {} ({} site(s) × {}/s × {} s) | {:.1} s | {:.0}/s | {:.0}/s | {:.0}/s | {:.0} % | {:.0} % | {:.2} s |",
        summary["backlog"],
        summary["sites"],
        summary["site_rate"],
        summary["outage_secs"],
        f("time_to_empty_seconds"),
        f("drain_per_second"),
        f("second_half_per_second"),
        f("hub_alone_per_second"),
        100.0 * f("drain_ratio_to_hub_alone"),
        100.0 * f("drain_ratio_to_storage_ceiling"),
        f("first_ack_after_hub_up_seconds")
    );
    println!(
        "backlog built in {:.0} s with the hub down; hub started in {:.2} s; exact: {}",
        f("backlog_fill_seconds"),
        f("hub_start_seconds"),
        summary["exact"]
    );
}
