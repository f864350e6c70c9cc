//! The cross-site status query at size: what `sirt-hub incidents list [--site X] [--status Y]
//! [--severity Z]` asks the operator API, timed as one `ListIncidents` call and as the CLI uses
//! it (following page tokens until 100 results or the end). The baseline is a raw sled scan of
//! the hub's own `incidents` tree, opened after the hub stopped.

use super::hub::HubProcess;
use super::preload::grow_to;
use super::stored::StoredArgs;
use crate::bench::millis_percentiles;
use crate::pki::TestPki;
use futures_util::StreamExt;
use socfed_proto::pb;
use std::path::Path;
use std::time::{Duration, Instant};

/// Preload chunk: after each, a share of the newest incidents moves to triage, so triage
/// incidents sit at every chunk boundary of the store's timeline.
const CHUNK: u64 = 200_000;

/// Grows the store to `target`, moving `args.triage_share` of each chunk to triage.
pub async fn grow_with_triage(
    hub: &HubProcess,
    pki: &TestPki,
    sites: &[String],
    have: u64,
    target: u64,
    args: &StoredArgs,
    say: &dyn Fn(String),
) -> anyhow::Result<()> {
    let mut have = have;
    while have < target {
        let next = (have + CHUNK).min(target);
        grow_to(hub.addr, pki, sites, have, next, args.bytes, say).await?;
        let now = hub.stored().await?;
        let triage = ((now - have) as f64 * args.triage_share).round() as usize;
        triage_newest(hub, triage).await?;
        have = now;
    }
    Ok(())
}

async fn triage_newest(hub: &HubProcess, n: usize) -> anyhow::Result<()> {
    if n == 0 {
        return Ok(());
    }
    let mut op = hub.op.clone();
    let page = op
        .list_incidents(pb::ListIncidentsRequest {
            page_size: n.min(1000) as u32,
            ..Default::default()
        })
        .await?
        .into_inner();
    let calls = page.incidents.into_iter().map(|incident| {
        let mut op = hub.op.clone();
        async move {
            op.transition_incident(pb::TransitionIncidentRequest {
                legacy_command: String::new(),
                id: incident.id,
                command: pb::LifecycleCommand::StartTriage.into(),
                argument: String::new(),
            })
            .await
            .map(|_| ())
        }
    });
    let results: Vec<_> = futures_util::stream::iter(calls)
        .buffer_unordered(16)
        .collect()
        .await;
    for result in results {
        result?;
    }
    Ok(())
}

fn kinds(site: &str) -> Vec<(String, pb::ListIncidentsRequest)> {
    let req =
        |site_id: &str, status: pb::IncidentStatus, min: pb::Severity| pb::ListIncidentsRequest {
            site_id: site_id.into(),
            status: status as i32,
            min_severity: min as i32,
            ..Default::default()
        };
    use pb::IncidentStatus as S;
    use pb::Severity as V;
    vec![
        (
            "(default list)".into(),
            req("", S::Unspecified, V::Unspecified),
        ),
        (
            format!("--site {site}"),
            req(site, S::Unspecified, V::Unspecified),
        ),
        (
            "--severity critical".into(),
            req("", S::Unspecified, V::Critical),
        ),
        ("--status triage".into(), req("", S::Triage, V::Unspecified)),
        (
            format!("--site {site} --status new --severity critical"),
            req(site, S::New, V::Critical),
        ),
        (
            format!("--site {site} --status triage --severity high"),
            req(site, S::Triage, V::High),
        ),
    ]
}

/// Times every query kind `n` times (one call) and `n / 10` times (CLI paging).
pub async fn time_queries(
    hub: &HubProcess,
    sites: &[String],
    n: usize,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let site = sites.first().map(String::as_str).unwrap_or("site-000");
    let mut rows = Vec::new();
    for (name, request) in kinds(site) {
        let mut op = hub.op.clone();
        let mut rpc = Vec::with_capacity(n);
        let mut first_page_results = 0;
        for _ in 0..n.max(1) {
            let started = Instant::now();
            let page = op.list_incidents(request.clone()).await?.into_inner();
            rpc.push(started.elapsed());
            first_page_results = page.incidents.len();
        }
        let mut cli = Vec::new();
        let (mut cli_pages, mut cli_results) = (0, 0);
        for _ in 0..(n / 10).max(3) {
            let started = Instant::now();
            let (pages, results) = follow_pages(&mut op, request.clone(), 100).await?;
            cli.push(started.elapsed());
            (cli_pages, cli_results) = (pages, results);
        }
        let (rpc_p50_ms, rpc_p99_ms, _) = millis_percentiles(rpc);
        let (cli_p50_ms, cli_p99_ms, _) = millis_percentiles(cli);
        rows.push(serde_json::json!({
            "query": name,
            "rpc_p50_ms": rpc_p50_ms, "rpc_p99_ms": rpc_p99_ms,
            "first_page_results": first_page_results,
            "cli_p50_ms": cli_p50_ms, "cli_p99_ms": cli_p99_ms,
            "cli_pages": cli_pages, "cli_results": cli_results,
        }));
    }
    Ok(rows)
}

/// As `sirt-hub incidents list --limit LIMIT`: pages until `limit` results or the end.
async fn follow_pages(
    op: &mut pb::operator_client::OperatorClient<tonic::transport::Channel>,
    mut request: pb::ListIncidentsRequest,
    limit: usize,
) -> anyhow::Result<(usize, usize)> {
    let (mut pages, mut results) = (0, 0);
    loop {
        request.page_size = (limit - results).min(1000) as u32;
        let page = op.list_incidents(request.clone()).await?.into_inner();
        pages += 1;
        results += page.incidents.len();
        if page.next_page_token.is_empty() || results >= limit {
            return Ok((pages, results));
        }
        request.page_token = page.next_page_token;
    }
}

/// Raw sled over the stopped hub's `incidents` tree: the newest 100 values (what the default
/// list reads) and 50,000 values (one page's scan budget), warm cache.
pub fn raw_scans(data_dir: &Path, n: usize) -> anyhow::Result<serde_json::Value> {
    let db = socfed_runtime::store_files::sled_config(data_dir)?
        .cache_capacity(256 * 1024 * 1024)
        .open()?;
    let tree = db.open_tree("incidents")?;
    let incidents_in_tree = tree.len();
    let scan = |take: usize| -> anyhow::Result<Duration> {
        let started = Instant::now();
        let mut bytes = 0usize;
        for entry in tree.iter().rev().take(take) {
            bytes += entry?.1.len();
        }
        std::hint::black_box(bytes);
        Ok(started.elapsed())
    };
    scan(50_000)?;
    let newest: Vec<Duration> = (0..n.max(1)).map(|_| scan(100)).collect::<Result<_, _>>()?;
    let budget: Vec<Duration> = (0..(n / 10).max(3))
        .map(|_| scan(50_000))
        .collect::<Result<_, _>>()?;
    let (newest_100_p50_ms, newest_100_p99_ms, _) = millis_percentiles(newest);
    let (scan_50k_p50_ms, scan_50k_p99_ms, _) = millis_percentiles(budget);
    Ok(serde_json::json!({
        "incidents_in_tree": incidents_in_tree,
        "newest_100_p50_ms": newest_100_p50_ms, "newest_100_p99_ms": newest_100_p99_ms,
        "scan_50k_p50_ms": scan_50k_p50_ms, "scan_50k_p99_ms": scan_50k_p99_ms,
    }))
}

/// Prints the query tables of a `stored` summary.
pub fn print(summary: &serde_json::Value) {
    println!(
        "\n| incidents | query | one call p50 / p99 | first page | CLI (pages to 100) p50 / p99 | pages, results |"
    );
    println!("|---|---|---|---|---|---|");
    for size in summary["sizes"].as_array().into_iter().flatten() {
        for q in size["queries"].as_array().into_iter().flatten() {
            let f = |k: &str| q[k].as_f64().unwrap_or(0.0);
            println!(
                "| {} | `{}` | {:.1} / {:.1} ms | {} | {:.1} / {:.1} ms | {}, {} |",
                size["incidents"],
                q["query"].as_str().unwrap_or(""),
                f("rpc_p50_ms"),
                f("rpc_p99_ms"),
                q["first_page_results"],
                f("cli_p50_ms"),
                f("cli_p99_ms"),
                q["cli_pages"],
                q["cli_results"]
            );
        }
    }
    let raw = &summary["raw_sled_baseline"];
    let f = |k: &str| raw[k].as_f64().unwrap_or(0.0);
    println!(
        "\nraw sled baseline over the hub's incidents tree ({} records): newest 100 values p50 {:.2} / p99 {:.2} ms; 50,000 values p50 {:.1} / p99 {:.1} ms",
        raw["incidents_in_tree"],
        f("newest_100_p50_ms"),
        f("newest_100_p99_ms"),
        f("scan_50k_p50_ms"),
        f("scan_50k_p99_ms")
    );
}
