//! Scenario `stored`: does an escalation cost the same with 10 k and 1 M incidents stored?
//! The real hub is filled quickly over raw site streams; at each size a fixed batch of
//! distinct escalations is timed (and the hub's CPU per escalation read from `/proc`), and
//! the operator queries of [`super::query`] are timed against the same store. Ceilings and
//! the raw sled scans are measured in the same run.

use super::hub::HubProcess;
use super::preload::stream_distinct;
use super::query;
use super::{StorageSettings, null_hub, storage_ceiling, transport_ceiling};
use crate::bench::{dir_bytes, machine};
use crate::pki::TestPki;
use std::path::Path;

#[derive(Debug, Clone, clap::Args)]
pub struct StoredArgs {
    /// Store sizes (incidents) to measure at, ascending.
    #[arg(long, value_delimiter = ',', default_value = "10000,1000000")]
    pub sizes: Vec<u64>,
    /// Escalations in the timed batch at each size (spread over the sites).
    #[arg(long, default_value_t = 5_000)]
    pub batch: u64,
    /// Times the batch is repeated at each size (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Sites (raw streams) the preload and the batch use.
    #[arg(long, default_value_t = 8)]
    pub sites: usize,
    /// Approximate size of each escalation on the wire, in bytes.
    #[arg(long, default_value_t = 500)]
    pub bytes: usize,
    /// Operator queries timed per kind and size.
    #[arg(long, default_value_t = 200)]
    pub queries: usize,
    /// Share of incidents moved to triage (for the status filter), per preload chunk.
    #[arg(long, default_value_t = 0.001)]
    pub triage_share: f64,
}

pub async fn run(
    args: &StoredArgs,
    dir: &Path,
    say: &dyn Fn(String),
) -> anyhow::Result<serde_json::Value> {
    let pki = TestPki::create(&dir.join("pki"), "corp.example")?;
    let sites: Vec<String> = (0..args.sites).map(|i| format!("site-{i:03}")).collect();
    let per_site = (args.batch / args.sites as u64).max(1);
    let batch = per_site * args.sites as u64;

    say("measuring the ceilings (raw mTLS stream; raw sled insert + flush and fdatasync per 1024, the hub's cache)...".into());
    let null = null_hub(&pki).await?;
    let transport = transport_ceiling(null, &pki, &sites, per_site, args.bytes).await?;
    let storage = storage_ceiling(
        &dir.join("sled-baseline"),
        batch,
        args.bytes,
        1024,
        StorageSettings::hub(),
    )?;
    let _ = std::fs::remove_dir_all(dir.join("sled-baseline"));

    let hub = HubProcess::start(dir, &pki, &sites, "").await?;
    let mut rows: Vec<serde_json::Value> = Vec::new();
    let mut have = 0u64;
    for &size in &args.sizes {
        say(format!("growing the hub store to {size} incidents..."));
        query::grow_with_triage(&hub, &pki, &sites, have, size, args, say).await?;
        have = hub.stored().await?;
        let before = have;
        let mut rates = Vec::new();
        let mut cpus = Vec::new();
        for r in 0..args.repeat {
            let cpu = hub.cpu_seconds();
            let took = stream_distinct(
                hub.addr,
                &pki,
                &sites,
                per_site,
                args.bytes,
                &format!("batch{size}r{r}"),
            )
            .await?;
            cpus.push((hub.cpu_seconds() - cpu) * 1e6 / batch as f64);
            rates.push(batch as f64 / took.as_secs_f64());
        }
        have = hub.stored().await?;
        let rate = median(&mut rates);
        let cpu = median(&mut cpus);
        say(format!(
            "  at {have} incidents: batch of {batch} at {rate:.0}/s, {cpu:.0} µs hub CPU each"
        ));
        say(format!("  timing operator queries at {have} incidents..."));
        let queries = query::time_queries(&hub, &sites, args.queries).await?;
        let first = rows
            .first()
            .and_then(|r| r["batch_per_second"].as_f64())
            .unwrap_or(rate);
        rows.push(serde_json::json!({
            "incidents": before,
            "incidents_after_batches": have,
            "batch_per_second": rate,
            "batch_ratio_to_storage_ceiling": rate / storage,
            "ratio_to_smallest_size": rate / first,
            "hub_cpu_us_per_escalation": cpu,
            "hub_rss_mib": hub.rss_mib(),
            "disk_bytes_per_incident": dir_bytes(&hub.data_dir) as f64 / have.max(1) as f64,
            "queries": queries,
        }));
    }
    let peak_rss = hub.peak_rss_mib();
    let mut hub = hub;
    let _ = hub.proc.terminate();
    say("timing raw sled scans over the hub's own incidents tree (baseline)...".into());
    let raw = query::raw_scans(&hub.data_dir, args.queries)?;

    let summary = serde_json::json!({
        "scenario": "stored",
        "machine": machine(),
        "sites": args.sites, "batch": batch, "bytes": args.bytes, "repeat": args.repeat,
        "ceilings": {"transport_per_second": transport, "storage_per_second": storage},
        "sizes": rows,
        "raw_sled_baseline": raw,
        "hub_peak_rss_mib": peak_rss,
        "cost_growth": cost_growth(&rows),
    });
    Ok(summary)
}

/// How the hub's CPU per escalation grows with the store: the ratio between the largest and
/// the smallest size, and the growth per tenfold from the two largest sizes (a log-log slope),
/// carried on to 10 M incidents where the run did not reach that size. The extrapolation is
/// only as good as the local slope: it is printed as such, not as a measurement.
fn cost_growth(rows: &[serde_json::Value]) -> serde_json::Value {
    let point = |row: &serde_json::Value| {
        (
            row["incidents"].as_f64().unwrap_or(0.0),
            row["hub_cpu_us_per_escalation"].as_f64().unwrap_or(0.0),
        )
    };
    let (Some(first), Some(last)) = (rows.first().map(point), rows.last().map(point)) else {
        return serde_json::Value::Null;
    };
    let ratio = |a: (f64, f64), b: (f64, f64)| if a.1 > 0.0 { b.1 / a.1 } else { 0.0 };
    let prev = rows
        .len()
        .checked_sub(2)
        .and_then(|i| rows.get(i))
        .map(point);
    let per_tenfold = prev.and_then(|p| {
        let decades = (last.0 / p.0.max(1.0)).log10();
        (decades > 0.0 && p.1 > 0.0).then(|| (last.1 / p.1).powf(1.0 / decades))
    });
    let to_10m = per_tenfold
        .filter(|_| last.0 < 10_000_000.0)
        .map(|g| ratio(first, last) * g.powf((10_000_000.0 / last.0.max(1.0)).log10()));
    serde_json::json!({
        "from_incidents": first.0,
        "to_incidents": last.0,
        "cpu_ratio": ratio(first, last),
        "cpu_ratio_per_tenfold_at_largest": per_tenfold,
        "cpu_ratio_at_10m_extrapolated": to_10m,
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Prints the tables of a `stored` summary.
pub fn print(summary: &serde_json::Value) {
    let c = &summary["ceilings"];
    println!(
        "ceilings this run: transport {:.0}/s, storage {:.0}/s; machine: {}",
        c["transport_per_second"].as_f64().unwrap_or(0.0),
        c["storage_per_second"].as_f64().unwrap_or(0.0),
        summary["machine"].as_str().unwrap_or("")
    );
    println!(
        "| incidents stored (before → after the batches) | batch rate (median) | ÷ storage ceiling | ÷ smallest size | hub CPU per escalation | hub RSS | disk per incident |"
    );
    println!("|---|---|---|---|---|---|---|");
    for row in summary["sizes"].as_array().into_iter().flatten() {
        let f = |k: &str| row[k].as_f64().unwrap_or(0.0);
        println!(
            "| {} → {} | {:.0}/s | {:.0} % | {:.2} | {:.0} µs | {:.0} MiB | {:.0} B |",
            row["incidents"],
            row["incidents_after_batches"],
            f("batch_per_second"),
            100.0 * f("batch_ratio_to_storage_ceiling"),
            f("ratio_to_smallest_size"),
            f("hub_cpu_us_per_escalation"),
            f("hub_rss_mib"),
            f("disk_bytes_per_incident")
        );
    }
    let g = &summary["cost_growth"];
    if let Some(ratio) = g["cpu_ratio"].as_f64() {
        let opt = |k: &str| {
            g[k].as_f64()
                .map_or("-".to_string(), |v| format!("×{v:.2}"))
        };
        println!(
            "hub CPU per escalation at {} vs {} incidents: ×{ratio:.2}; per tenfold at the largest sizes: {}; carried on to 10 M (extrapolated): {}",
            g["to_incidents"],
            g["from_incidents"],
            opt("cpu_ratio_per_tenfold_at_largest"),
            opt("cpu_ratio_at_10m_extrapolated"),
        );
    }
    query::print(summary);
}
