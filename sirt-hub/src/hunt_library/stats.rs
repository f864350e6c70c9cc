//! A library hunt's statistics, derived from its runs' sweeps: runs, hits per site, the
//! last run and the last hit. Pure: the caller reads the runs.

use crate::response::{DirectiveRecord, DirectiveState, HuntRecord};
use serde::Serialize;
use socfed_proto::UnixMillis;
use std::collections::BTreeMap;

/// The latest runs statistics read at most (the run count itself is the record's).
pub const MAX_STATS_RUNS: usize = 500;

/// One site's share.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SiteStats {
    pub site: String,
    /// Runs sent to the site.
    pub runs: u64,
    /// Runs the site finished or is watching with.
    pub runs_confirmed: u64,
    /// Runs that found something at the site.
    pub runs_with_hits: u64,
    /// Hits (alert group and indicator) over the runs.
    pub hits: u64,
    pub last_hit_ms: Option<UnixMillis>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LibraryStats {
    pub runs: u64,
    pub last_run_ms: Option<UnixMillis>,
    pub last_hit_ms: Option<UnixMillis>,
    /// Hits over every site.
    pub hits: u64,
    /// How many of the latest runs these counts cover.
    pub runs_read: u64,
    pub sites: Vec<SiteStats>,
}

/// The statistics of a library hunt that ran `runs` times, last at `last_run_ms`, from the
/// latest of its runs (`read`: each hunt with its sweeps).
pub fn of(
    runs: u64,
    last_run_ms: Option<UnixMillis>,
    read: &[(HuntRecord, Vec<DirectiveRecord>)],
) -> LibraryStats {
    let mut sites: BTreeMap<String, SiteStats> = BTreeMap::new();
    for (_, sweeps) in read {
        for sweep in sweeps {
            let site = sites
                .entry(sweep.site.as_str().to_string())
                .or_insert_with(|| SiteStats {
                    site: sweep.site.as_str().to_string(),
                    ..SiteStats::default()
                });
            site.runs += 1;
            if !matches!(
                sweep.state,
                DirectiveState::Queued | DirectiveState::Expired | DirectiveState::Refused
            ) {
                site.runs_confirmed += 1;
            }
            if !sweep.hits.is_empty() {
                site.runs_with_hits += 1;
                site.hits += sweep.hits.len() as u64;
                site.last_hit_ms = site.last_hit_ms.max(Some(sweep.updated_at_ms));
            }
        }
    }
    let sites: Vec<SiteStats> = sites.into_values().collect();
    LibraryStats {
        runs,
        last_run_ms,
        last_hit_ms: sites.iter().filter_map(|s| s.last_hit_ms).max(),
        hits: sites.iter().map(|s| s.hits).sum(),
        runs_read: read.len() as u64,
        sites,
    }
}
