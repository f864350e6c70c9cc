//! `sirt-hub search alerts …`: a search of every site's alert groups, run as a threat hunt
//! (`StartHunt` with search filters): each site sweeps its alert search index, and the hunt
//! shows per-site progress and results (`sirt-hub hunt status ID` follows it).

use super::HubTarget;
use super::response::{client, parse_lookback, print_hunt};
use clap::{Args, Subcommand};
use socfed_proto::pb;
use socfed_runtime::cli::explain;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct SearchArgs {
    #[command(subcommand)]
    pub command: SearchCommand,
    #[command(flatten)]
    pub target: HubTarget,
}

#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Search the alert groups of sites by indicator, host, user, technique and words of
    /// titles and comments (every filter given must match); starts a hunt and prints it.
    Alerts {
        #[command(flatten)]
        filters: socfed_runtime::cli::search::SearchFilterArgs,
        /// Site ids, comma-separated, or "all".
        #[arg(long, value_delimiter = ',', default_value = "all")]
        sites: Vec<String>,
        /// How far back to search stored alerts (at most 365d).
        #[arg(long, default_value = "30d", value_parser = parse_lookback)]
        lookback: humantime::Duration,
        /// How long sites keep matching new alerts (0s = stored alerts only).
        #[arg(long, default_value = "0s")]
        duration: humantime::Duration,
    },
}

pub async fn run(args: SearchArgs) -> anyhow::Result<()> {
    let target = &args.target;
    let SearchCommand::Alerts {
        filters,
        sites,
        lookback,
        duration,
    } = args.command;
    let request = pb::StartHuntRequest {
        incident_id: String::new(),
        indicators: Vec::new(),
        sites,
        lookback_s: Duration::from(lookback).as_secs(),
        duration_s: Duration::from(duration).as_secs(),
        time_basis: String::new(),
        search: Some(filters.into_wire()),
    };
    let hunt = client(target)?
        .start_hunt(request)
        .await
        .map_err(|s| explain(&s, &target.name()))?
        .into_inner();
    print_hunt(&hunt, target.format())
}
