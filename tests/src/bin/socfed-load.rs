//! `socfed-load`: end-to-end escalation load against a real hub process (outside the test
//! suite). N simulated sites are real site agents (each with its own certificate, its own sled
//! outbox and its own mutual-TLS stream) raising escalations through their local API; the hub
//! stores, deduplicates, correlates and acknowledges them durably. In the same run it measures
//! the two ceilings (raw mTLS stream, raw sled insert+flush) and reports every figure as a ratio
//! to the lower one, with ack latency percentiles, CPU and peak memory.
//!
//! cargo build --release --workspace --bins && target/release/socfed-load --sites 8 --per-site 2000
//!
//! Other scenarios are subcommands (`socfed-load stored --help`, ...), each in its own module
//! of `socfed_tests::load`.

use clap::{Parser, Subcommand};
use futures_util::StreamExt;
use socfed_proto::pb;
use socfed_tests::bench::{cpu_and_peak_rss, machine, percentile};
use socfed_tests::load::{null_hub, sized_report, storage_ceiling, transport_ceiling};
use socfed_tests::procs::{Proc, binary, write_hub_config};
use socfed_tests::{clients, eventually, free_port, pki::TestPki};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    scenario: Option<Scenario>,
    #[command(flatten)]
    escalate: Args,
    /// Print the summary as JSON only.
    #[arg(long, global = true)]
    json: bool,
    /// Keep the run's files here (default: a temporary directory).
    #[arg(long, global = true)]
    dir: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Cost per escalation and operator query latency with 10 k vs 1 M incidents stored.
    Stored(socfed_tests::load::stored::StoredArgs),
    /// Latency from an alert at a site agent to the incident visible at the hub.
    Visible(socfed_tests::load::visible::VisibleArgs),
    /// Concurrent idle site streams one hub holds, and its memory.
    IdleStreams(socfed_tests::load::idle::IdleArgs),
    /// Outbox drain after a simulated hub outage.
    Drain(socfed_tests::load::drain::DrainArgs),
}

/// Without a subcommand: the escalation rate from N sites (hub alone and full pipeline).
#[derive(Debug, clap::Args)]
struct Args {
    /// Simulated sites (each a real agent with its own store and stream).
    #[arg(long, default_value_t = 8)]
    sites: usize,
    /// Escalations per site.
    #[arg(long, default_value_t = 2000)]
    per_site: u64,
    /// Approximate size of each escalation on the wire, in bytes.
    #[arg(long, default_value_t = 500)]
    bytes: usize,
    /// Share of escalations that report a campaign other sites report too (cross-site
    /// duplicates the hub correlates into one incident).
    #[arg(long, default_value_t = 0.2)]
    duplicates: f64,
    /// Escalations per second across all sites; 0 = as fast as the agents take them.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Agent store durability: fsync (power-safe, the default in production) or flush.
    #[arg(long, default_value = "fsync")]
    agent_durability: String,
    /// Raises in flight per site at once (detectors and analysts submitting concurrently);
    /// the agent's group commit shares one flush among the raises that overlap it.
    #[arg(long, default_value_t = 1)]
    in_flight: usize,
}

fn site_names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("site-{i:03}")).collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let tmp = tempfile::tempdir()?;
    let dir = cli.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let json = cli.json;
    let say = |line: String| {
        if !json {
            eprintln!("{line}");
        }
    };
    let (summary, print): (serde_json::Value, fn(&serde_json::Value)) = match &cli.scenario {
        None => return escalate(&cli.escalate, &dir, json).await,
        Some(Scenario::Stored(args)) => (
            socfed_tests::load::stored::run(args, &dir, &say).await?,
            socfed_tests::load::stored::print,
        ),
        Some(Scenario::Visible(args)) => (
            socfed_tests::load::visible::run(args, &dir, &say).await?,
            socfed_tests::load::visible::print,
        ),
        Some(Scenario::IdleStreams(args)) => (
            socfed_tests::load::idle::run(args, &dir, &say).await?,
            socfed_tests::load::idle::print,
        ),
        Some(Scenario::Drain(args)) => (
            socfed_tests::load::drain::run(args, &dir, &say).await?,
            socfed_tests::load::drain::print,
        ),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print(&summary);
    }
    Ok(())
}

/// The escalation-rate run (no subcommand).
async fn escalate(args: &Args, dir: &std::path::Path, json: bool) -> anyhow::Result<()> {
    let pki = TestPki::create(&dir.join("pki"), "corp.example")?;
    let sites = site_names(args.sites);
    let total = args.per_site * args.sites as u64;
    let say = |line: String| {
        if !json {
            eprintln!("{line}");
        }
    };

    // Ceilings, same run, same machine.
    say("measuring the transport ceiling (raw mTLS stream, no storage)...".into());
    let null = null_hub(&pki).await?;
    let transport = transport_ceiling(null, &pki, &sites, args.per_site, args.bytes).await?;
    say("measuring the storage ceiling (raw sled insert + flush per 1024)...".into());
    let storage = storage_ceiling(&dir.join("sled-baseline"), total, args.bytes, 1024)?;
    let ceiling = transport.min(storage);

    // The real hub, as a process.
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let refs: Vec<&str> = sites.iter().map(String::as_str).collect();
    let hub_config = write_hub_config(dir, &pki, hub_addr, &refs, "")?;
    let mut hub = Proc::spawn(
        &binary("sirt-hub")?,
        &["serve", "--config", &hub_config.display().to_string()],
        dir.join("hub.log"),
        "hub",
    )?;
    let hub_pid = hub.pid().unwrap_or(0);
    let operator = pki.operator("tester")?;
    let mut op = clients::operator(hub_addr, &operator, &pki.domain)?;
    eventually("the hub to answer", Duration::from_secs(30), || {
        let mut op = op.clone();
        async move { clients::sites(&mut op).await.ok() }
    })
    .await?;

    // The hub alone: raw site streams (no agent outbox in front), every escalation a new
    // incident with its own fingerprint, stored, correlated and acknowledged durably.
    say("measuring the hub alone (raw site streams, distinct incidents, durable acks)...".into());
    let hub_only = total as f64
        / socfed_tests::load::preload::stream_distinct(
            hub_addr,
            &pki,
            &sites,
            args.per_site,
            args.bytes,
            "alone",
        )
        .await?
        .as_secs_f64();

    // The simulated sites: real agents in this process.
    say(format!("starting {} site agents...", args.sites));
    let mut agents = Vec::new();
    for site in &sites {
        let extra = format!(
            "[durability]\nmode = \"{}\"\n[outbox]\nmax_entries = {}\n",
            args.agent_durability,
            total * 2
        );
        let config = socfed_tests::procs::write_agent_config(
            dir,
            &pki,
            site,
            hub_addr,
            "127.0.0.1:0".parse()?,
            &extra,
        )?;
        let agent = site_agent::app::start(site_agent::config::AgentConfig::load(&config)?).await?;
        agents.push(Arc::new(agent));
    }

    say(format!(
        "escalating {total} ({} bytes each, {:.0} % cross-site campaigns)...",
        args.bytes,
        args.duplicates * 100.0
    ));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, agent) in agents.iter().enumerate() {
        let local = clients::local(agent.local_addr, &operator, &pki.domain)?;
        let (per_site, bytes, duplicates, rate, in_flight) = (
            args.per_site,
            args.bytes,
            args.duplicates,
            args.rate,
            args.in_flight.max(1),
        );
        let sites_n = args.sites as u64;
        let agent = agent.clone();
        tasks.push(tokio::spawn(async move {
            // Ack latency: a poller watches the agent's acknowledged sequence while this task
            // raises, so each escalation's latency runs from its raise to the ack covering it.
            let (raised_tx, mut raised_rx) =
                tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
            let watched = agent.clone();
            let poller = tokio::spawn(async move {
                // By sequence: with raises in flight, replies arrive out of sequence order.
                let mut pending = std::collections::BTreeMap::new();
                let mut latencies = Vec::new();
                let mut open = true;
                while open || !pending.is_empty() {
                    loop {
                        match raised_rx.try_recv() {
                            Ok((seq, at)) => {
                                pending.insert(seq, at);
                            }
                            Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
                            Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                                open = false;
                                break;
                            }
                        }
                    }
                    let acked = watched
                        .store
                        .counters()
                        .map(|c| c.acked_through)
                        .unwrap_or(0);
                    let now = Instant::now();
                    while pending
                        .first_key_value()
                        .is_some_and(|(seq, _)| *seq <= acked)
                    {
                        if let Some((_, at)) = pending.pop_first() {
                            latencies.push(now - at);
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                latencies
            });
            let pace = (rate > 0).then(|| Duration::from_secs_f64(sites_n as f64 / rate as f64));
            let raise = |n: u64| {
                let local = local.clone();
                async move {
                    let campaign = (n as f64) < duplicates * per_site as f64;
                    let report = sized_report("", "", bytes);
                    let (title, rule, indicator) = if campaign {
                        (
                            format!("campaign {}", n % 100),
                            format!("CAMP-{}", n % 100),
                            format!("c{}.campaign.example", n % 100),
                        )
                    } else {
                        (
                            format!("site {i} incident {n}"),
                            format!("R-{i}-{n}"),
                            format!("h{n}.site{i}.example"),
                        )
                    };
                    let reply = local
                        .clone()
                        .raise_incident(pb::RaiseIncidentRequest {
                            request_id: format!("load-{n}"),
                            title,
                            description: report.description,
                            severity: pb::Severity::High as i32,
                            rule_id: rule,
                            indicators: vec![pb::Indicator {
                                kind: pb::IndicatorKind::Domain as i32,
                                value: indicator,
                            }],
                            ..Default::default()
                        })
                        .await?
                        .into_inner();
                    anyhow::Ok(reply.seq)
                }
            };
            let mut raises = futures_util::stream::iter(0..per_site)
                .map(raise)
                .buffer_unordered(in_flight);
            while let Some(seq) = raises.next().await {
                let _ = raised_tx.send((seq?, Instant::now()));
                if let Some(pace) = pace {
                    tokio::time::sleep(pace).await;
                }
            }
            drop(raised_tx);
            anyhow::Ok(poller.await?)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let rate = total as f64 / elapsed.as_secs_f64();

    // Exactness at the hub: every escalation stored once.
    let stored: u64 = clients::sites(&mut op)
        .await?
        .iter()
        .map(|s| s.escalations_stored)
        .sum();
    let duplicates_seen: u64 = clients::sites(&mut op)
        .await?
        .iter()
        .map(|s| s.duplicates)
        .sum();
    let incidents = clients::all_incidents(&mut op).await?.len();
    let (hub_cpu, hub_rss) = cpu_and_peak_rss(hub_pid).unwrap_or_default();
    let (load_cpu, load_rss) = cpu_and_peak_rss(std::process::id()).unwrap_or_default();
    for agent in agents {
        if let Ok(agent) = Arc::try_unwrap(agent) {
            agent.stop().await?;
        }
    }
    let _ = hub.terminate();

    let summary = serde_json::json!({
        "machine": machine(),
        "sites": args.sites, "escalations": total, "bytes": args.bytes, "duplicates_share": args.duplicates,
        "agent_durability": args.agent_durability, "rate_limit": args.rate, "in_flight_per_site": args.in_flight,
        "acked_per_second": rate, "seconds": elapsed.as_secs_f64(),
        "ceilings": {"transport_per_second": transport, "storage_per_second": storage},
        "ratio_to_lower_ceiling": rate / ceiling,
        "hub_alone_per_second": hub_only,
        "hub_alone_ratio_to_lower_ceiling": hub_only / ceiling,
        "ack_latency_ms": {
            "p50": percentile(&latencies, 0.50).as_secs_f64() * 1e3,
            "p99": percentile(&latencies, 0.99).as_secs_f64() * 1e3,
            "p999": percentile(&latencies, 0.999).as_secs_f64() * 1e3,
        },
        "hub": {"stored": stored, "duplicate_replays": duplicates_seen, "incidents": incidents, "cpu_seconds": hub_cpu, "peak_rss_mib": hub_rss},
        "agents_process": {"cpu_seconds": load_cpu, "peak_rss_mib": load_rss},
        "exact": stored == 2 * total,
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "{total} escalations from {} sites in {:.1} s: {rate:.0}/s acknowledged durably at the hub\n\
             ceilings this run: transport {transport:.0}/s, storage {storage:.0}/s -> {:.1} % of the lower\n\
             hub alone (raw site streams): {hub_only:.0}/s -> {:.1} % of the lower ceiling\n\
             ack latency p50 {:.1} ms, p99 {:.1} ms, p999 {:.1} ms\n\
             hub: {stored} stored, raw streams and agents (exact: {}), {incidents} incidents after correlation, {hub_cpu:.1} s CPU, {hub_rss:.0} MiB peak RSS\n\
             agents (this process): {load_cpu:.1} s CPU, {load_rss:.0} MiB peak RSS\n\
             machine: {}",
            args.sites,
            elapsed.as_secs_f64(),
            100.0 * rate / ceiling,
            100.0 * hub_only / ceiling,
            percentile(&latencies, 0.50).as_secs_f64() * 1e3,
            percentile(&latencies, 0.99).as_secs_f64() * 1e3,
            percentile(&latencies, 0.999).as_secs_f64() * 1e3,
            stored == 2 * total,
            machine()
        );
    }
    // The raw streams stored `total` too, before the agents ran.
    anyhow::ensure!(
        stored == 2 * total,
        "the hub stored {stored} of {} escalations",
        2 * total
    );
    Ok(())
}
