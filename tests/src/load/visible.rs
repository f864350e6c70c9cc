//! Scenario `visible`: from an alert submitted to a real site agent process (the `SiteSoc`
//! alert intake) to the incident being visible in the hub's operator API. Each probe is one
//! critical native alert line; the automation then promotes its alert group to a local
//! incident (`PromoteAlerts`; the agent's escalation policy sends critical incidents to the hub
//! as soon as they exist) and the time stops when the hub's `WatchIncidents` stream announces
//! the incident — a push, so no poll interval bounds the resolution. Baselines in the same
//! run: one escalation at a time on a raw mTLS stream to a storage-less server (the transport
//! round trip) and to the same hub (its durable commit round trip).

use super::hub::{HubProcess, OPERATOR};
use super::{null_hub, sized_report};
use crate::bench::{machine, millis_percentiles};
use crate::clients::{self, RawStream, hello};
use crate::pki::TestPki;
use crate::procs::{Proc, binary, write_agent_config};
use crate::{eventually, free_port};
use socfed_proto::pb::{self, site_soc_client::SiteSocClient};
use socfed_runtime::tls::ExpectedServer;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

#[derive(Debug, Clone, clap::Args)]
pub struct VisibleArgs {
    /// Alerts submitted, one at a time.
    #[arg(long, default_value_t = 300)]
    pub alerts: usize,
    /// Pause between probes, so each one meets an idle pipeline.
    #[arg(long, default_value_t = 20)]
    pub gap_ms: u64,
}

const SITE: &str = "site-000";

pub async fn run(
    args: &VisibleArgs,
    dir: &Path,
    say: &dyn Fn(String),
) -> anyhow::Result<serde_json::Value> {
    let pki = TestPki::create(&dir.join("pki"), "corp.example")?;
    let sites = vec![SITE.to_string(), "base-000".to_string()];
    let hub = HubProcess::start(dir, &pki, &sites, "").await?;

    say("baselines: one escalation at a time, raw stream (no storage, then the hub)...".into());
    let transport = round_trips(null_hub(&pki).await?, &pki, "base-000", args.alerts).await?;
    let hub_commit = round_trips(hub.addr, &pki, "base-000", args.alerts).await?;

    say("starting the site agent process...".into());
    let local: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let config = write_agent_config(dir, &pki, SITE, hub.addr, local, "")?;
    let _agent = Proc::spawn(
        &binary("site-agent")?,
        &["serve", "--config", &config.display().to_string()],
        dir.join("agent.log"),
        "agent",
    )?;
    let operator = pki.operator(OPERATOR)?;
    let mut soc = SiteSocClient::new(clients::channel(
        local,
        &operator,
        &pki.domain,
        ExpectedServer::AnySite,
    )?);
    let status_client = clients::local(local, &operator, &pki.domain)?;
    eventually(
        "the agent to reach the hub",
        Duration::from_secs(60),
        || {
            let mut c = status_client.clone();
            async move {
                let s = c
                    .get_status(pb::GetStatusRequest {})
                    .await
                    .ok()?
                    .into_inner();
                s.hub_connected.then_some(())
            }
        },
    )
    .await?;

    // The hub pushes every created incident to the watcher, stamped on arrival.
    let mut watch = hub
        .op
        .clone()
        .watch_incidents(pb::WatchIncidentsRequest {})
        .await?
        .into_inner();
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel::<(String, Instant)>();
    tokio::spawn(async move {
        while let Ok(Some(event)) = watch.message().await {
            if let Some(incident) = event.incident
                && seen_tx.send((incident.title, Instant::now())).is_err()
            {
                break;
            }
        }
    });

    say(format!(
        "{} probes: alert → local incident → hub...",
        args.alerts
    ));
    let (mut total, mut intake, mut promote, mut deliver) = (vec![], vec![], vec![], vec![]);
    for i in 0..args.alerts {
        let title = format!("latency probe {i}");
        let started = Instant::now();
        let line = format!(
            r#"{{"observed_at": {}, "product": "bench", "rule_id": "LAT-{i}", "severity": "critical", "hosts": ["ws-{i}"]}}"#,
            socfed_proto::now_millis()
        );
        let summary = soc
            .submit_alerts(tokio_stream::iter(vec![pb::AlertBatch {
                format: pb::AlertFormat::Native as i32,
                lines: vec![pb::RawLine {
                    line_no: 1,
                    text: line,
                }],
            }]))
            .await?
            .into_inner();
        anyhow::ensure!(summary.accepted == 1, "probe {i} not accepted: {summary:?}");
        let group = soc
            .list_alerts(pb::ListAlertsRequest::default())
            .await?
            .into_inner()
            .groups
            .into_iter()
            .find(|g| g.rule_id == format!("LAT-{i}"))
            .ok_or_else(|| anyhow::anyhow!("probe {i}: alert group not listed"))?;
        let submitted = Instant::now();
        let incident = soc
            .promote_alerts(pb::PromoteAlertsRequest {
                alert_group_ids: vec![group.id],
                title: title.clone(),
            })
            .await?
            .into_inner();
        anyhow::ensure!(
            incident.escalated,
            "probe {i} was not escalated: {incident:?}"
        );
        let promoted = Instant::now();
        let seen = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some((seen_title, at)) = seen_rx.recv().await {
                if seen_title == title {
                    return Some(at);
                }
            }
            None
        })
        .await?
        .ok_or_else(|| anyhow::anyhow!("the hub watch ended"))?;
        total.push(seen - started);
        intake.push(submitted - started);
        promote.push(promoted - submitted);
        deliver.push(seen.saturating_duration_since(promoted));
        tokio::time::sleep(Duration::from_millis(args.gap_ms)).await;
    }
    let ms = |v: Vec<Duration>| {
        let (p50, p99, p999) = millis_percentiles(v);
        serde_json::json!({"p50": p50, "p99": p99, "p999": p999})
    };
    let summary = serde_json::json!({
        "scenario": "visible",
        "machine": machine(),
        "probes": args.alerts,
        "alert_to_hub_visible_ms": ms(total),
        "stages_ms": {
            "intake_and_list": ms(intake),
            "promote_and_outbox": ms(promote),
            "outbox_to_hub_visible": ms(deliver),
        },
        "baselines_ms": {"raw_stream_round_trip": ms(transport), "hub_durable_round_trip": ms(hub_commit)},
    });
    Ok(summary)
}

/// Round trips of `n` escalations sent one at a time on one raw stream as `site`.
async fn round_trips(
    addr: SocketAddr,
    pki: &TestPki,
    site: &str,
    n: usize,
) -> anyhow::Result<Vec<Duration>> {
    let channel = clients::channel(addr, &pki.site(site)?, &pki.domain, ExpectedServer::Hub)?;
    let (mut stream, _) =
        RawStream::open_welcomed(channel, hello(site, ulid::Ulid::new(), 1)).await?;
    let mut out = Vec::with_capacity(n);
    for seq in 1..=n as u64 {
        let report = sized_report(&format!("rt-{seq}"), "round trip", 500);
        let started = Instant::now();
        stream.send(seq, report).await?;
        stream.ack_through(seq).await?;
        out.push(started.elapsed());
    }
    Ok(out)
}

pub fn print(summary: &serde_json::Value) {
    let row = |name: &str, v: &serde_json::Value| {
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:.1} ms |",
            v["p50"].as_f64().unwrap_or(0.0),
            v["p99"].as_f64().unwrap_or(0.0),
            v["p999"].as_f64().unwrap_or(0.0)
        );
    };
    println!(
        "{} probes; machine: {}",
        summary["probes"],
        summary["machine"].as_str().unwrap_or("")
    );
    println!("| measured | p50 | p99 | p999 |\n|---|---|---|---|");
    row(
        "**alert → hub visible**",
        &summary["alert_to_hub_visible_ms"],
    );
    let s = &summary["stages_ms"];
    row(
        "  intake (SubmitAlerts + ListAlerts)",
        &s["intake_and_list"],
    );
    row(
        "  PromoteAlerts (local incident + outbox, fsync)",
        &s["promote_and_outbox"],
    );
    row("  outbox → hub watch event", &s["outbox_to_hub_visible"]);
    let b = &summary["baselines_ms"];
    row(
        "baseline: raw mTLS stream round trip, no storage",
        &b["raw_stream_round_trip"],
    );
    row(
        "baseline: raw stream to the hub (durable ack)",
        &b["hub_durable_round_trip"],
    );
}
