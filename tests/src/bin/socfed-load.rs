//! `socfed-load`: end-to-end escalation load against a real hub process (outside the test
//! suite). N simulated sites are real site agent processes (each with its own certificate, its
//! own sled outbox and its own mutual-TLS stream) raising escalations through their local API;
//! the hub stores, deduplicates, correlates and acknowledges them durably. In the same run it
//! measures the ceilings (raw mTLS stream, raw sled insert + flush and fdatasync with the hub
//! store's cache) and reports every figure as a ratio to the lower one, with ack latency
//! percentiles, CPU and peak memory of every process and the stores' operations per escalation
//! (`socfed_tests::load::escalate`).
//!
//! cargo build --release --workspace --bins && target/release/socfed-load --sites 8 --per-site 2000
//!
//! Other scenarios are subcommands (`socfed-load stored --help`, ...), each in its own module
//! of `socfed_tests::load`.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    scenario: Option<Scenario>,
    #[command(flatten)]
    escalate: socfed_tests::load::escalate::EscalateArgs,
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
    /// sled alone with the stores' write shape: items/s and keys/s at K keys per item.
    SledKeys(socfed_tests::load::sled_keys::SledKeysArgs),
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
        None => (
            socfed_tests::load::escalate::run(&cli.escalate, &dir, &say).await?,
            socfed_tests::load::escalate::print,
        ),
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
        Some(Scenario::SledKeys(args)) => (
            socfed_tests::load::sled_keys::run(args, &dir, &say).await?,
            socfed_tests::load::sled_keys::print,
        ),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print(&summary);
    }
    // The escalation run checks that the hub stored every escalation exactly once.
    anyhow::ensure!(
        cli.scenario.is_some() || summary["exact"].as_bool() == Some(true),
        "the hub did not store every escalation exactly once: {}",
        summary["hub"]
    );
    Ok(())
}
