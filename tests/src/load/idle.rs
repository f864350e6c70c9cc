//! Scenario `idle-streams`: how many concurrent idle site streams one hub holds, and its
//! memory. Every stream is a real site: its own enrolled certificate, its own mutual-TLS
//! connection, a hello and the hub's welcome. The open-file limit is raised to the hard limit
//! in this process before the hub is spawned (the hub inherits it). The baseline is the same
//! hub's memory with no stream open, measured in the same run.

use super::hub::HubProcess;
use crate::bench::{machine, rss_mib};
use crate::clients::{self, RawStream, hello};
use crate::pki::TestPki;
use futures_util::StreamExt;
use socfed_runtime::tls::ExpectedServer;
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct IdleArgs {
    /// Site streams to open.
    #[arg(long, default_value_t = 10_000)]
    pub streams: usize,
    /// Streams being opened at once.
    #[arg(long, default_value_t = 32)]
    pub parallel: usize,
    /// How long the streams stay idle before memory is read again.
    #[arg(long, default_value_t = 10)]
    pub hold_secs: u64,
}

/// Raises the soft open-file limit to the hard one; returns (soft, hard) after.
pub fn raise_nofile() -> (Option<u64>, Option<u64>) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    limit.current = limit.maximum;
    let _ = setrlimit(Resource::Nofile, limit);
    let after = getrlimit(Resource::Nofile);
    (after.current, after.maximum)
}

pub async fn run(
    args: &IdleArgs,
    dir: &Path,
    say: &dyn Fn(String),
) -> anyhow::Result<serde_json::Value> {
    let (soft, hard) = raise_nofile();
    say(format!("open-file limit: soft {soft:?}, hard {hard:?}"));
    let pki = TestPki::create(&dir.join("pki"), "corp.example")?;
    let sites: Vec<String> = (0..args.streams).map(|i| format!("idle-{i:05}")).collect();
    say(format!("issuing {} site certificates...", sites.len()));
    let started = Instant::now();
    let mut files = Vec::with_capacity(sites.len());
    for site in &sites {
        files.push(pki.site(site)?);
    }
    let issue_secs = started.elapsed().as_secs_f64();
    let hub = HubProcess::start(dir, &pki, &sites, "").await?;
    let baseline_rss = hub.rss_mib();
    say(format!("hub with no stream: {baseline_rss:.0} MiB"));

    say(format!("opening {} streams...", sites.len()));
    let started = Instant::now();
    let addr = hub.addr;
    let domain = pki.domain.clone();
    let opens = sites.iter().zip(files).map(|(site, files)| {
        let domain = domain.clone();
        async move {
            let channel = clients::channel(addr, &files, &domain, ExpectedServer::Hub)?;
            let (stream, _) =
                RawStream::open_welcomed(channel, hello(site, ulid::Ulid::new(), 1)).await?;
            anyhow::Ok(stream)
        }
    });
    let mut results = futures_util::stream::iter(opens).buffer_unordered(args.parallel);
    let mut streams = Vec::with_capacity(sites.len());
    let mut first_error = None;
    while let Some(result) = results.next().await {
        match result {
            Ok(stream) => {
                streams.push(stream);
                if streams.len() % 1000 == 0 {
                    say(format!(
                        "  {} open, hub {:.0} MiB",
                        streams.len(),
                        hub.rss_mib()
                    ));
                }
            }
            Err(e) => {
                first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    drop(results);
    let open_secs = started.elapsed().as_secs_f64();
    let opened = streams.len();
    let rss_open = hub.rss_mib();
    say(format!(
        "holding {opened} idle streams for {} s...",
        args.hold_secs
    ));
    tokio::time::sleep(Duration::from_secs(args.hold_secs)).await;
    let rss_held = hub.rss_mib();
    let mut op = hub.op.clone();
    let connected = clients::sites(&mut op)
        .await?
        .iter()
        .filter(|s| s.connected)
        .count();
    // One of them still escalates, with every other stream open.
    let mut probe_ms = None;
    if let Some(stream) = streams.last_mut() {
        let report = super::sized_report("idle-probe", "idle probe", 500);
        let sent = Instant::now();
        stream.send(1, report).await?;
        stream.ack_through(1).await?;
        probe_ms = Some(sent.elapsed().as_secs_f64() * 1e3);
    }
    let load_rss = rss_mib(std::process::id()).unwrap_or(0.0);
    let summary = serde_json::json!({
        "scenario": "idle-streams",
        "machine": machine(),
        "nofile_soft": soft, "nofile_hard": hard,
        "requested": args.streams, "opened": opened, "connected_per_hub": connected,
        "first_error": first_error,
        "certificate_issue_seconds": issue_secs,
        "open_seconds": open_secs,
        "hub_rss_mib": {"no_streams": baseline_rss, "all_open": rss_open, "after_hold": rss_held, "peak": hub.peak_rss_mib()},
        "hub_kib_per_stream": (rss_held - baseline_rss) * 1024.0 / opened.max(1) as f64,
        "escalation_round_trip_ms_with_all_open": probe_ms,
        "client_process_rss_mib": load_rss,
    });
    drop(streams);
    Ok(summary)
}

pub fn print(summary: &serde_json::Value) {
    let rss = &summary["hub_rss_mib"];
    let f = |v: &serde_json::Value| v.as_f64().unwrap_or(0.0);
    println!(
        "machine: {}; open-file limit soft {} / hard {}",
        summary["machine"].as_str().unwrap_or(""),
        summary["nofile_soft"],
        summary["nofile_hard"]
    );
    println!(
        "| streams requested | opened (hub says connected) | time to open | hub RSS, no stream | hub RSS, all open / after hold | per stream | one escalation with all open |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} ({}) | {:.1} s | {:.0} MiB | {:.0} / {:.0} MiB | {:.0} KiB | {:.1} ms |",
        summary["requested"],
        summary["opened"],
        summary["connected_per_hub"],
        f(&summary["open_seconds"]),
        f(&rss["no_streams"]),
        f(&rss["all_open"]),
        f(&rss["after_hold"]),
        f(&summary["hub_kib_per_stream"]),
        f(&summary["escalation_round_trip_ms_with_all_open"])
    );
    if let Some(e) = summary["first_error"].as_str() {
        println!("first failure: {e}");
    }
    println!(
        "client process (all the sites): {:.0} MiB",
        f(&summary["client_process_rss_mib"])
    );
}
