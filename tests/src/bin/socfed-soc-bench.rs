//! `socfed-soc-bench`: the local SOC's intake and triage-queue benchmark (outside the test
//! suite). It writes an N-line Suricata EVE file, measures two baselines in the same run (parse
//! only, in process; raw sled insert + flush of the same number of records), then ingests the
//! file through the real `site-agent ingest` into a real agent process and measures alerts per
//! second end to end, and the latency of triage-queue listings with everything stored.
//!
//! cargo build --release --workspace --bins && target/release/socfed-soc-bench --lines 1000000

use anyhow::Context;
use clap::Parser;
use site_agent::soc::alert::{Format, ParseLimits};
use site_agent::soc::parse::{Parsed, parse_line};
use socfed_proto::pb;
use socfed_tests::bench::{cpu_and_peak_rss, machine, percentile};
use socfed_tests::clients;
use socfed_tests::pki::TestPki;
use socfed_tests::procs::{Proc, binary, write_agent_config};
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
struct Args {
    /// Alert lines in the generated EVE file.
    #[arg(long, default_value_t = 1_000_000)]
    lines: u64,
    /// Share of lines that are repeats of an earlier alert (same rule and hosts).
    #[arg(long, default_value_t = 0.1)]
    repeats: f64,
    /// Triage-queue listings to time after the ingest.
    #[arg(long, default_value_t = 1000)]
    queries: usize,
    /// Lines per gRPC batch.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Keep the run's files here (default: a temporary directory).
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
}

const SIGNATURES: [(u32, &str); 8] = [
    (2_024_792, "ET SCAN Possible Nmap User-Agent Observed"),
    (
        2_031_412,
        "ET EXPLOIT Apache HTTP Server Path Traversal (CVE-2021-41773)",
    ),
    (2_013_028, "ET POLICY curl User-Agent Outbound"),
    (2_027_865, "ET INFO Observed DNS Query to .cloud TLD"),
    (2_033_966, "ET MALWARE Cobalt Strike Beacon Observed"),
    (
        2_019_401,
        "ET POLICY Vulnerable Java Version 1.8.x Detected",
    ),
    (2_100_498, "GPL ATTACK_RESPONSE id check returned root"),
    (2_210_045, "SURICATA STREAM Packet with invalid ack"),
];

/// A deterministic EVE alert line; `key` decides the source address (the group).
fn eve_line(i: u64, key: u64) -> String {
    let (sid, signature) = SIGNATURES[(key % SIGNATURES.len() as u64) as usize];
    let src = format!(
        "10.{}.{}.{}",
        (key >> 16) & 0xff,
        (key >> 8) & 0xff,
        key & 0xff
    );
    let secs = 1_772_400_000 + i / 50;
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    format!(
        r#"{{"timestamp":"2026-03-02T{h:02}:{m:02}:{s:02}.{:06}+0000","flow_id":{},"in_iface":"eth0","event_type":"alert","src_ip":"{src}","src_port":{},"dest_ip":"192.0.2.{}","dest_port":443,"proto":"TCP","alert":{{"action":"allowed","gid":1,"signature_id":{sid},"rev":3,"signature":"{signature}","category":"Attempted Information Leak","severity":2,"metadata":{{"mitre_technique_id":["T1595"]}}}},"http":{{"hostname":"portal{}.example","url":"/login","http_method":"POST","status":200}},"host":"ids-1"}}"#,
        i % 1_000_000,
        1_000_000_000 + i,
        1024 + (i % 60_000),
        key % 250 + 1,
        key % 97
    )
}

fn generate(path: &Path, lines: u64, repeats: f64) -> anyhow::Result<u64> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut distinct = 0u64;
    let step = if repeats <= 0.0 {
        u64::MAX
    } else {
        (1.0 / repeats).round().max(1.0) as u64
    };
    for i in 0..lines {
        // Every `step`-th line repeats the previous alert's key (folds into its group).
        let key = if i > 0 && i % step == 0 {
            distinct.saturating_sub(1)
        } else {
            distinct += 1;
            distinct - 1
        };
        writeln!(out, "{}", eve_line(i, key))?;
    }
    out.flush()?;
    Ok(distinct)
}

/// Waits for `child` and its output, reading its peak resident memory (MiB) while it runs:
/// `VmHWM` only grows, so the last reading before it exits is its peak to within a poll.
fn wait_sampling_rss(
    mut child: std::process::Child,
) -> anyhow::Result<(std::process::Output, f64)> {
    let pid = child.id();
    let (mut stdout, mut stderr) = (child.stdout.take(), child.stderr.take());
    // Drained on threads so a full pipe never stalls the child.
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = std::io::Read::read_to_end(s, &mut buf);
        }
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = std::io::Read::read_to_end(s, &mut buf);
        }
        buf
    });
    let mut peak = 0.0f64;
    let status = loop {
        if let Some((_, rss)) = cpu_and_peak_rss(pid) {
            peak = peak.max(rss);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = out
        .join()
        .map_err(|_| anyhow::anyhow!("stdout reader failed"))?;
    let stderr = err
        .join()
        .map_err(|_| anyhow::anyhow!("stderr reader failed"))?;
    Ok((
        std::process::Output {
            status,
            stdout,
            stderr,
        },
        peak,
    ))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let temp = tempfile::tempdir()?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let eve = dir.join("bench-eve.json");
    eprintln!("generating {} EVE lines ...", args.lines);
    let groups = generate(&eve, args.lines, args.repeats)?;

    // Baseline 1: parsing only, in this process.
    let limits = ParseLimits::default();
    let text = std::fs::read_to_string(&eve)?;
    let started = Instant::now();
    let mut parsed = 0u64;
    for line in text.lines() {
        if let Ok(Parsed::Alert(_)) = parse_line(Format::SuricataEve, line, 0, &limits) {
            parsed += 1;
        }
    }
    let parse_rate = parsed as f64 / started.elapsed().as_secs_f64();
    drop(text);

    // Baseline 2: raw sled, one insert of a ~1 KiB record per alert, flushed every batch.
    let db = socfed_runtime::store_files::sled_config(&dir.join("sled-baseline"))?.open()?;
    let tree = db.open_tree("baseline")?;
    let record = vec![7u8; 1024];
    let started = Instant::now();
    for i in 0..args.lines {
        tree.insert(i.to_be_bytes(), record.as_slice())?;
        if (i + 1) % args.batch as u64 == 0 {
            db.flush()?;
        }
    }
    db.flush()?;
    let sled_rate = args.lines as f64 / started.elapsed().as_secs_f64();
    drop(tree);
    drop(db);

    // End to end: the real agent and the real `site-agent ingest`.
    let pki = TestPki::create(&dir.join("pki"), "bench.example")?;
    let operator = pki.operator("bench")?;
    let hub: SocketAddr = format!("127.0.0.1:{}", socfed_tests::free_port()?).parse()?;
    let local: SocketAddr = format!("127.0.0.1:{}", socfed_tests::free_port()?).parse()?;
    let config = write_agent_config(
        &dir,
        &pki,
        "bench",
        hub,
        local,
        "[soc]\nmanagers = [\"bench\"]\n",
    )?;
    let agent_bin = binary("site-agent")?;
    let mut agent = Proc::spawn(
        &agent_bin,
        &["serve", "--config", &config.display().to_string()],
        dir.join("agent.log"),
        "agent",
    )?;
    let client = clients::local(local, &operator, &pki.domain)?;
    socfed_tests::eventually("the agent to answer", Duration::from_secs(30), || {
        let mut client = client.clone();
        async move { client.get_status(pb::GetStatusRequest {}).await.ok() }
    })
    .await?;
    eprintln!("ingesting through site-agent ingest ...");
    let agent_pid = agent
        .pid()
        .ok_or_else(|| anyhow::anyhow!("the agent has no pid"))?;
    let cpu_before = cpu_and_peak_rss(agent_pid).map_or(0.0, |(cpu, _)| cpu);
    let started = Instant::now();
    let ingest = std::process::Command::new(&agent_bin)
        .args([
            "ingest",
            &eve.display().to_string(),
            "--format",
            "suricata-eve",
            "--output",
            "json",
            "--agent",
            &local.to_string(),
            "--batch",
            &args.batch.to_string(),
        ])
        .env("SOCFED_CA", &operator.ca)
        .env("SOCFED_CERT", &operator.cert)
        .env("SOCFED_KEY", &operator.key)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let (out, client_peak_rss_mib) = wait_sampling_rss(ingest)?;
    let ingest_secs = started.elapsed().as_secs_f64();
    let (agent_cpu, agent_peak_rss_mib) = cpu_and_peak_rss(agent_pid).unwrap_or((0.0, 0.0));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout)
        .with_context(|| String::from_utf8_lossy(&out.stderr).to_string())?;
    let ingest_rate = args.lines as f64 / ingest_secs;

    // Triage-queue listings with everything stored.
    let mut soc = pb::site_soc_client::SiteSocClient::new(clients::channel(
        local,
        &operator,
        &pki.domain,
        socfed_runtime::tls::ExpectedServer::AnySite,
    )?);
    let mut latencies = Vec::with_capacity(args.queries);
    for i in 0..args.queries {
        let request = match i % 3 {
            0 => pb::ListAlertsRequest {
                legacy_status: String::new(),
                tier: 1,
                status: pb::AlertStatus::New.into(),
                all_statuses: false,
                assignee: String::new(),
                limit: 100,
            },
            1 => pb::ListAlertsRequest {
                legacy_status: String::new(),
                tier: 0,
                status: pb::AlertStatus::Unspecified.into(),
                all_statuses: false,
                assignee: String::new(),
                limit: 50,
            },
            _ => pb::ListAlertsRequest {
                legacy_status: String::new(),
                tier: 1,
                status: pb::AlertStatus::Unspecified.into(),
                all_statuses: true,
                assignee: String::new(),
                limit: 20,
            },
        };
        let started = Instant::now();
        let groups = soc.list_alerts(request).await?.into_inner().groups;
        latencies.push(started.elapsed());
        anyhow::ensure!(!groups.is_empty(), "the queue is empty");
    }
    latencies.sort();
    agent.terminate()?;

    let report = serde_json::json!({
        "machine": machine(),
        "lines": args.lines,
        "distinct_groups_generated": groups,
        "summary": summary,
        "baseline_parse_lines_per_s": parse_rate.round(),
        "baseline_sled_insert_flush_per_s": sled_rate.round(),
        "ingest_alerts_per_s": ingest_rate.round(),
        "ingest_seconds": ingest_secs,
        "ratio_to_parse_baseline": ingest_rate / parse_rate,
        "ingest_ratio_to_parse_baseline": ingest_rate / parse_rate,
        "agent_cpu_seconds_ingest": agent_cpu - cpu_before,
        "agent_cpu_us_per_alert": (agent_cpu - cpu_before) * 1e6 / args.lines.max(1) as f64,
        "agent_peak_rss_mib": agent_peak_rss_mib,
        "ingest_client_peak_rss_mib": client_peak_rss_mib,
        "ratio_to_sled_baseline": ingest_rate / sled_rate,
        "queue_listing_p50_ms": percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        "queue_listing_p99_ms": percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
