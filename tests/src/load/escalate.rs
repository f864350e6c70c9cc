//! `socfed-load` without a subcommand: the escalation rate from N sites against a real hub
//! process, hub alone (raw site streams, every escalation a new incident) and through the full
//! pipeline (one real `site-agent` process per site, raising through its local API). Same run,
//! same machine: the transport and storage ceilings, two storage ceilings (with the hub store's
//! cache and fdatasync, the one ratios are taken against, and sled's defaults with a flush
//! only, as first measured), CPU and peak memory of every process, and the stores' operations
//! per escalation and tree read from the admin `/metrics` before and after each phase.

use super::agents::{self, AgentProcess, Usage};
use super::hub::{HubProcess, OPERATOR};
use super::ops::{AGENT_METRIC, HUB_METRIC, StoreOps};
use super::pipeline::{self, Raises};
use super::{StorageSettings, null_hub, storage_ceiling, transport_ceiling};
use crate::bench::{cpu_and_peak_rss, machine, millis_percentiles};
use crate::pki::TestPki;
use crate::{clients, free_ports};
use serde_json::json;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct EscalateArgs {
    /// Simulated sites (each a real agent process with its own store and stream).
    #[arg(long, default_value_t = 8)]
    pub sites: usize,
    /// Escalations per site.
    #[arg(long, default_value_t = 2000)]
    pub per_site: u64,
    /// Approximate size of each escalation on the wire, in bytes.
    #[arg(long, default_value_t = 500)]
    pub bytes: usize,
    /// Share of escalations that report a campaign other sites report too (cross-site
    /// duplicates the hub correlates into one incident).
    #[arg(long, default_value_t = 0.2)]
    pub duplicates: f64,
    /// Escalations per second across all sites; 0 = as fast as the agents take them.
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// Agent store durability: fsync (power-safe, the default in production) or flush.
    #[arg(long, default_value = "fsync")]
    pub agent_durability: String,
    /// Raises in flight per site at once (detectors and analysts submitting concurrently);
    /// the agent's group commit shares one flush among the raises that overlap it.
    #[arg(long, default_value_t = 1)]
    pub in_flight: usize,
    /// Raises per `RaiseIncidents` batch call (one store unit, one audit entry each at the
    /// agent); 0 = one unary `RaiseIncident` per raise, as before batches existed.
    #[arg(long, default_value_t = 100)]
    pub raise_batch: usize,
    /// How often each agent's acknowledged sequence is polled, in ms: the ack latency's
    /// resolution, and a cost to the agents (reported as `polled_idle_cpu_per_second`).
    #[arg(long, default_value_t = pipeline::ACK_POLL.as_millis() as u64)]
    pub ack_poll_ms: u64,
    /// The hub's store (sled, or PostgreSQL with its own same-run ceiling).
    #[command(flatten)]
    pub store: super::pg_store::StoreArgs,
}

/// The agents' store operations summed, as their `/metrics` show them now.
async fn agent_ops(agents: &[AgentProcess]) -> StoreOps {
    let mut sum = StoreOps::default();
    for agent in agents {
        sum.add(&StoreOps::scrape(agent.admin, AGENT_METRIC).await);
    }
    sum
}

/// Per escalation, or `null` when the service exports no such counter.
fn ops_json(ops: &StoreOps) -> serde_json::Value {
    if ops.is_empty() {
        serde_json::Value::Null
    } else {
        ops.to_json()
    }
}

pub async fn run(
    args: &EscalateArgs,
    dir: &Path,
    say: &dyn Fn(String),
) -> anyhow::Result<serde_json::Value> {
    let pki = TestPki::create(&dir.join("pki"), "corp.example")?;
    let sites: Vec<String> = (0..args.sites).map(|i| format!("site-{i:03}")).collect();
    let total = args.per_site * args.sites as u64;

    say("measuring the transport ceiling (raw mTLS stream, no storage)...".into());
    let null = null_hub(&pki).await?;
    let transport = transport_ceiling(null, &pki, &sites, args.per_site, args.bytes).await?;
    let hub_like = StorageSettings::hub();
    // On PostgreSQL the storage ceiling is the database's, measured after the hub alone (it
    // writes as many rows per escalation as the hub was seen to write).
    let pg = args.store.postgres(dir)?;
    let (mut storage, mut storage_flush_only) = (f64::INFINITY, f64::INFINITY);
    if pg.is_none() {
        say("measuring the storage ceiling (raw sled insert + flush and fdatasync per 1024, the hub store's cache)...".into());
        storage = storage_ceiling(&dir.join("sled-ceiling"), total, args.bytes, 1024, hub_like)?;
        say(
            "measuring the storage ceiling as first measured (sled's default cache, flush only)..."
                .into(),
        );
        storage_flush_only = storage_ceiling(
            &dir.join("sled-ceiling-defaults"),
            total,
            args.bytes,
            1024,
            StorageSettings::sled_defaults_flush_only(),
        )?;
        for ceiling_dir in ["sled-ceiling", "sled-ceiling-defaults"] {
            let _ = std::fs::remove_dir_all(dir.join(ceiling_dir));
        }
    }

    let [hub_port, admin_port] = free_ports()?;
    let hub_admin: SocketAddr = format!("127.0.0.1:{admin_port}").parse()?;
    let mut hub = HubProcess::start_at(
        dir,
        &pki,
        &sites,
        &format!(
            "[admin]\nlisten = \"{hub_admin}\"\n{}",
            pg.as_ref().map(|p| p.hub_section()).unwrap_or_default()
        ),
        format!("127.0.0.1:{hub_port}").parse()?,
    )
    .await?;

    // The hub alone: raw site streams (no agent outbox in front), every escalation a new
    // incident with its own fingerprint, stored, correlated and acknowledged durably.
    say("measuring the hub alone (raw site streams, distinct incidents, durable acks)...".into());
    let (hub_ops_0, hub_cpu_0) = (
        StoreOps::scrape(hub_admin, HUB_METRIC).await,
        hub.cpu_seconds(),
    );
    let took =
        super::preload::stream_distinct(hub.addr, &pki, &sites, args.per_site, args.bytes, "alone")
            .await?;
    let hub_only = total as f64 / took.as_secs_f64();
    let (hub_ops_1, hub_cpu_1) = (
        StoreOps::scrape(hub_admin, HUB_METRIC).await,
        hub.cpu_seconds(),
    );
    let mut pg_ceiling = None;
    if let Some(pg) = &pg {
        // The hub's kv rows per escalation (its rewrites, the per-unit meta writes included).
        let rewrites = hub_ops_1.since(&hub_ops_0, total as f64).to_json()["rewrites"]
            .as_f64()
            .unwrap_or(0.0);
        let kv_rows = if rewrites > 0.0 {
            rewrites.round() as usize
        } else {
            7
        };
        say(format!(
            "measuring the PostgreSQL ceiling (raw batched inserts of {kv_rows} kv rows + a journal and a key row per escalation, COMMIT per {})...",
            super::pg_store::HUB_UNIT
        ));
        let measured = pg.ceiling(total, kv_rows, args.bytes)?;
        storage = measured.escalations_per_second;
        pg_ceiling = Some((measured, pg.server_settings()?));
    }
    let ceiling = transport.min(storage).min(storage_flush_only);

    say(format!("starting {} site agent processes...", args.sites));
    let extra = format!(
        "[durability]\nmode = \"{}\"\n[outbox]\nmax_entries = {}\n",
        args.agent_durability,
        total * 2
    );
    let agents = agents::start(dir, &pki, &sites, hub.addr, OPERATOR, &extra).await?;
    let agents_before: Vec<Usage> = agents.iter().map(AgentProcess::usage).collect();
    let agent_ops_0 = agent_ops(&agents).await;
    let hub_ops_2 = StoreOps::scrape(hub_admin, HUB_METRIC).await;
    let hub_cpu_2 = hub.cpu_seconds();

    say(format!(
        "escalating {total} through the agents ({} bytes each, {:.0} % cross-site campaigns)...",
        args.bytes,
        args.duplicates * 100.0
    ));
    let raises = Raises {
        per_site: args.per_site,
        bytes: args.bytes,
        duplicates: args.duplicates,
        rate: args.rate,
        in_flight: args.in_flight,
        batch: args.raise_batch,
        poll: Duration::from_millis(args.ack_poll_ms.max(1)),
    };
    let (elapsed, latencies) = pipeline::run(&agents, raises).await?;
    // Read at once: what the agents and the hub spent on the run, nothing after it.
    let agents_after: Vec<Usage> = agents.iter().map(AgentProcess::usage).collect();
    let hub_cpu_3 = hub.cpu_seconds();
    let agent_ops_1 = agent_ops(&agents).await;
    let hub_ops_3 = StoreOps::scrape(hub_admin, HUB_METRIC).await;
    let rate = total as f64 / elapsed.as_secs_f64();
    say("measuring what the ack poller costs the idle agents...".into());
    let polled_idle = pipeline::polling_cost(&agents, raises.poll, Duration::from_secs(2)).await?;

    // Exactness at the hub: every escalation stored once.
    let mut op = hub.op.clone();
    let listed = clients::sites(&mut op).await?;
    let stored: u64 = listed.iter().map(|s| s.escalations_stored).sum();
    let duplicate_replays: u64 = listed.iter().map(|s| s.duplicates).sum();
    let incidents = clients::all_incidents(&mut op).await?.len();
    let (hub_cpu, hub_rss) = (hub.cpu_seconds(), hub.peak_rss_mib());
    let (load_cpu, load_rss) = cpu_and_peak_rss(std::process::id()).unwrap_or_default();
    for mut agent in agents {
        if let Err(e) = agent.proc.terminate() {
            say(format!("{}: {e}", agent.site));
        }
    }
    if let Err(e) = hub.proc.terminate() {
        say(format!("hub: {e}"));
    }

    let per_agent: Vec<serde_json::Value> = sites
        .iter()
        .zip(agents_before.iter().zip(&agents_after))
        .map(|(site, (before, after))| {
            json!({"site": site, "cpu_seconds_run": after.cpu_seconds - before.cpu_seconds,
                   "cpu_seconds_total": after.cpu_seconds, "peak_rss_mib": after.peak_rss_mib})
        })
        .collect();
    let agent_cpu_run: f64 = agents_after
        .iter()
        .zip(&agents_before)
        .map(|(a, b)| a.cpu_seconds - b.cpu_seconds)
        .sum();
    let agent_cpu_total: f64 = agents_after.iter().map(|a| a.cpu_seconds).sum();
    let agent_rss = agents_after
        .iter()
        .map(|a| a.peak_rss_mib)
        .fold(0.0, f64::max);
    let per_escalation_us = |cpu: f64| cpu * 1e6 / total as f64;
    let (p50, p99, p999) = millis_percentiles(latencies);
    let n = total as f64;
    Ok(json!({
        "machine": machine(),
        "store": if pg.is_some() { "postgres" } else { "sled" },
        "postgres": pg_ceiling.as_ref().map(|(c, settings)| json!({"ceiling": c.to_json(), "server": settings})),
        "sites": args.sites, "escalations": total, "bytes": args.bytes, "duplicates_share": args.duplicates,
        "agent_durability": args.agent_durability, "rate_limit": args.rate, "in_flight_per_site": args.in_flight, "raise_batch": args.raise_batch,
        "acked_per_second": rate, "seconds": elapsed.as_secs_f64(),
        "ceilings": {
            "transport_per_second": transport,
            "storage_per_second": finite(storage),
            "storage_settings": {"cache_bytes": hub_like.cache_bytes, "durability": format!("{:?}", hub_like.durability).to_lowercase(), "flush_every": 1024},
            "storage_sled_defaults_flush_only_per_second": finite(storage_flush_only),
        },
        "ratio_to_lower_ceiling": rate / ceiling,
        "hub_alone_per_second": hub_only,
        "hub_alone_ratio_to_lower_ceiling": hub_only / ceiling,
        "pipeline_ratio_to_hub_alone": rate / hub_only,
        "ack_latency_ms": {"p50": p50, "p99": p99, "p999": p999, "poll_interval_ms": raises.poll.as_secs_f64() * 1e3},
        "hub": {"stored": stored, "duplicate_replays": duplicate_replays, "incidents": incidents, "cpu_seconds": hub_cpu, "peak_rss_mib": hub_rss,
                "cpu_per_escalation_us": {"hub_alone": per_escalation_us(hub_cpu_1 - hub_cpu_0), "pipeline": per_escalation_us(hub_cpu_3 - hub_cpu_2)}},
        "agents": {"processes": args.sites, "cpu_seconds_run": agent_cpu_run, "cpu_seconds_total": agent_cpu_total,
                   "max_peak_rss_mib": agent_rss, "polled_idle_cpu_per_second": polled_idle, "per_agent": per_agent},
        "agent_cpu_per_escalation_us": per_escalation_us(agent_cpu_run),
        "agent_cpu_per_escalation_us_net_of_polling": per_escalation_us((agent_cpu_run - polled_idle * elapsed.as_secs_f64()).max(0.0)),
        "load_process": {"cpu_seconds": load_cpu, "peak_rss_mib": load_rss},
        "store_ops_per_escalation": {
            "agent": ops_json(&agent_ops_1.since(&agent_ops_0, n)),
            "hub_alone": ops_json(&hub_ops_1.since(&hub_ops_0, n)),
            "hub_pipeline": ops_json(&hub_ops_3.since(&hub_ops_2, n)),
        },
        "exact": stored == 2 * total,
    }))
}

/// A ceiling not measured in this run (`INFINITY`) as `null`.
fn finite(rate: f64) -> serde_json::Value {
    if rate.is_finite() {
        rate.into()
    } else {
        serde_json::Value::Null
    }
}

pub fn print(s: &serde_json::Value) {
    let f = |v: &serde_json::Value| v.as_f64().unwrap_or(0.0);
    let c = &s["ceilings"];
    let a = &s["agents"];
    let h = &s["hub"];
    let l = &s["ack_latency_ms"];
    println!(
        "{} escalations from {} sites in {:.1} s: {:.0}/s acknowledged durably at the hub ({:.1} % of the lower ceiling, {:.1} % of the hub alone)",
        s["escalations"],
        s["sites"],
        f(&s["seconds"]),
        f(&s["acked_per_second"]),
        100.0 * f(&s["ratio_to_lower_ceiling"]),
        100.0 * f(&s["pipeline_ratio_to_hub_alone"])
    );
    println!(
        "ceilings this run: transport {:.0}/s, storage {:.0}/s (hub store's cache, flush + fdatasync per 1024); sled defaults, flush only: {:.0}/s",
        f(&c["transport_per_second"]),
        f(&c["storage_per_second"]),
        f(&c["storage_sled_defaults_flush_only_per_second"])
    );
    let pg = &s["postgres"];
    if !pg.is_null() {
        let c = &pg["ceiling"];
        println!(
            "PostgreSQL ceiling this run: {:.0} escalations/s ({:.0} rows/s: {} kv rows + a journal and a key row per escalation, {} per COMMIT, one connection); server: {}",
            f(&c["escalations_per_second"]),
            f(&c["rows_per_second"]),
            c["kv_rows_per_escalation"],
            c["escalations_per_transaction"],
            pg["server"]
        );
    }
    println!(
        "hub alone (raw site streams): {:.0}/s -> {:.1} % of the lower ceiling",
        f(&s["hub_alone_per_second"]),
        100.0 * f(&s["hub_alone_ratio_to_lower_ceiling"])
    );
    println!(
        "ack latency p50 {:.1} ms, p99 {:.1} ms, p999 {:.1} ms (polled every {:.0} ms)",
        f(&l["p50"]),
        f(&l["p99"]),
        f(&l["p999"]),
        f(&l["poll_interval_ms"])
    );
    println!(
        "hub: {} stored, raw streams and agents (exact: {}), {} incidents after correlation, {:.1} s CPU ({:.0} µs per escalation alone, {:.0} µs in the pipeline), {:.0} MiB peak RSS",
        h["stored"],
        s["exact"],
        h["incidents"],
        f(&h["cpu_seconds"]),
        f(&h["cpu_per_escalation_us"]["hub_alone"]),
        f(&h["cpu_per_escalation_us"]["pipeline"]),
        f(&h["peak_rss_mib"])
    );
    println!(
        "agents ({} processes): {:.1} s CPU during the run, {:.0} µs per escalation ({:.0} µs net of the ack poller's {:.2} CPU s/s), max peak RSS {:.0} MiB",
        a["processes"],
        f(&a["cpu_seconds_run"]),
        f(&s["agent_cpu_per_escalation_us"]),
        f(&s["agent_cpu_per_escalation_us_net_of_polling"]),
        f(&a["polled_idle_cpu_per_second"]),
        f(&a["max_peak_rss_mib"])
    );
    println!(
        "load driver (this process): {:.1} s CPU, {:.0} MiB peak RSS",
        f(&s["load_process"]["cpu_seconds"]),
        f(&s["load_process"]["peak_rss_mib"])
    );
    for (name, key) in [
        ("agent", "agent"),
        ("hub alone", "hub_alone"),
        ("hub in the pipeline", "hub_pipeline"),
    ] {
        let ops = &s["store_ops_per_escalation"][key];
        if ops.is_null() {
            continue;
        }
        println!(
            "store operations per escalation, {name}: {:.1} lookups, {:.1} rewrites, {:.1} scans",
            f(&ops["lookups"]),
            f(&ops["rewrites"]),
            f(&ops["scans"])
        );
        if let Some(trees) = ops["trees"].as_object() {
            for (tree, counts) in trees {
                let shown: Vec<String> = super::ops::OPS
                    .iter()
                    .filter_map(|op| counts.get(*op).map(|n| format!("{op} {:.2}", f(n))))
                    .collect();
                println!("  {tree}: {}", shown.join(", "));
            }
        }
    }
    println!("machine: {}", s["machine"].as_str().unwrap_or(""));
}
