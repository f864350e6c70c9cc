//! The hunt library as readers see it: library hunts, their versions and statistics on the
//! wire's types (for gRPC and the CLI's JSON), read from the store off the async workers.

use super::read;
use crate::access::reader::Reader;
use crate::error::HubError;
use crate::hunt_library::LibraryHunt;
use crate::hunt_library::stats::{self, LibraryStats, MAX_STATS_RUNS};
use crate::store::HubStore;
use socfed_proto::pb;
use std::sync::Arc;
use ulid::Ulid;

pub fn hunt(h: &LibraryHunt) -> pb::LibraryHunt {
    pb::LibraryHunt {
        id: h.id.to_string(),
        version: h.version,
        name: h.name.clone(),
        description: h.description.clone(),
        indicators: h.indicators.iter().map(ToString::to_string).collect(),
        techniques: h.techniques.iter().map(ToString::to_string).collect(),
        severity: h.severity.as_str().to_string(),
        tlp: h.tlp.as_str().to_string(),
        interval_s: h.interval_s,
        lookback_s: h.lookback_s,
        enabled: h.enabled,
        next_due_ms: h.next_due_ms,
        runs: h.runs,
        last_run_ms: h.last_run_ms.unwrap_or_default(),
        rule_id: h.rule_id(),
        created_at_ms: h.created_at_ms,
        created_by: h.created_by.clone(),
        updated_at_ms: h.updated_at_ms,
        updated_by: h.updated_by.clone(),
    }
}

pub fn stats_wire(id: Ulid, s: &LibraryStats) -> pb::LibraryHuntStats {
    pb::LibraryHuntStats {
        id: id.to_string(),
        runs: s.runs,
        last_run_ms: s.last_run_ms.unwrap_or_default(),
        last_hit_ms: s.last_hit_ms.unwrap_or_default(),
        hits: s.hits,
        runs_read: s.runs_read,
        sites: s
            .sites
            .iter()
            .map(|site| pb::LibrarySiteStats {
                site: site.site.clone(),
                runs: site.runs,
                runs_confirmed: site.runs_confirmed,
                runs_with_hits: site.runs_with_hits,
                hits: site.hits,
                last_hit_ms: site.last_hit_ms.unwrap_or_default(),
            })
            .collect(),
    }
}

fn missing(id: Ulid) -> HubError {
    HubError::not_found(format!(
        "no library hunt {id}; `sirt-hub hunt library list` shows them"
    ))
}

/// A library hunt id as given.
pub fn parse_id(raw: &str) -> Result<Ulid, HubError> {
    Ulid::from_string(raw.trim()).map_err(|_| {
        HubError::invalid(format!(
            "{raw:?} is not a library hunt id (26-character ULID)"
        ))
    })
}

/// Every library hunt `reader` may read, oldest first.
pub async fn all(store: &Arc<HubStore>, reader: &Reader) -> Result<Vec<LibraryHunt>, HubError> {
    let mut hunts = read(store, |s| s.library()).await?;
    hunts.retain(|h| reader.may_read_library(h.tlp));
    Ok(hunts)
}

/// A library hunt and the versions edits replaced.
pub async fn detail(
    store: &Arc<HubStore>,
    reader: &Reader,
    id: Ulid,
) -> Result<(LibraryHunt, Vec<LibraryHunt>), HubError> {
    let found = read(store, move |s| {
        Ok(match s.library_hunt(id)? {
            Some(h) => Some((h, s.library_versions(id)?)),
            None => None,
        })
    })
    .await?;
    // One the reader may not read is answered as missing: its existence is not told.
    found
        .filter(|(h, _)| reader.may_read_library(h.tlp))
        .ok_or_else(|| missing(id))
}

/// A library hunt's statistics, from its latest runs.
pub async fn stats(
    store: &Arc<HubStore>,
    reader: &Reader,
    id: Ulid,
) -> Result<(LibraryHunt, LibraryStats), HubError> {
    let found = read(store, move |s| {
        Ok(match s.library_hunt(id)? {
            Some(h) => Some((h, s.library_runs(id, MAX_STATS_RUNS)?)),
            None => None,
        })
    })
    .await?;
    let (hunt, runs) = found
        .filter(|(h, _)| reader.may_read_library(h.tlp))
        .ok_or_else(|| missing(id))?;
    let counted = stats::of(hunt.runs, hunt.last_run_ms, &runs);
    Ok((hunt, counted))
}
