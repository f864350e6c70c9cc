//! Walks of the incident listing indexes, newest first: which incidents a filtered listing
//! should read, without reading the ones that cannot match. The page logic (limit, scan
//! budget, cursor) and the final check against the record are in `query.rs`.
//!
//! - no filter: every incident, from the `incidents` tree;
//! - status and/or severity: the `status_incidents` ranges of every (status, severity) pair the
//!   filter admits, merged by ULID (every entry matches);
//! - a site: the site's `site_incidents` entries, matched on their value (status, severity).
//!   When a run of them does not match, the walk jumps to the newest incident below the last
//!   one that matches on `status_incidents` (any site) and looks it up in the site's index, so
//!   a rare status in a large site costs about one jump per matching incident of any site,
//!   not a read of every entry of the site.

use super::query::IncidentFilter;
use super::{StoreError, Trees, schema};
use crate::incident::IncidentStatus;
use socfed_proto::vocab::{Severity, SiteId};
use socfed_runtime::store_kit::kv;
use std::iter::Rev;
use ulid::Ulid;

/// One position of a walk: an incident that may match (the record decides), or one passed
/// over. Either way everything newer than it has been examined, so it can be a page cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Candidate(Ulid),
    Passed(Ulid),
}

impl Step {
    pub(super) fn id(self) -> Ulid {
        match self {
            Step::Candidate(id) | Step::Passed(id) => id,
        }
    }
}

/// Site entries that may not match in a row before the walk jumps on `status_incidents`.
/// Small enough that a rare status costs little per jump, large enough that a common one
/// rarely pays for a jump it does not need.
const RUN_BEFORE_JUMP: usize = 8;

pub(super) type Walk<'a> = Box<dyn Iterator<Item = Result<Step, StoreError>> + 'a>;

/// The walk for `filter`, starting below `before` (exclusive) or at the newest incident.
pub(super) fn walk<'a>(
    trees: &'a Trees,
    filter: &IncidentFilter,
    before: Option<Ulid>,
) -> Walk<'a> {
    let pairs = pairs(filter);
    match (&filter.site, &pairs) {
        (None, None) => {
            let iter = match before {
                Some(cursor) => trees.incidents.range(..cursor.to_bytes().to_vec()),
                None => trees.incidents.iter(),
            };
            Box::new(iter.rev().map(|entry| {
                let (key, _) = entry?;
                Ok(Step::Candidate(schema::ulid_from_key(
                    schema::INCIDENTS,
                    &key,
                )?))
            }))
        }
        (None, Some(pairs)) => {
            Box::new(Merged::new(trees, pairs, before).map(|r| r.map(Step::Candidate)))
        }
        (Some(site), _) => Box::new(SiteWalk {
            trees,
            site: site.clone(),
            prefix: schema::site_prefix(site),
            pairs: pairs.unwrap_or_default(),
            cursor: before,
            iter: None,
            misses: 0,
            done: false,
        }),
    }
}

/// The (status, severity) code pairs the filter admits; `None` when it admits every incident.
fn pairs(filter: &IncidentFilter) -> Option<Vec<[u8; 2]>> {
    if filter.status.is_none() && filter.min_severity.is_none() {
        return None;
    }
    let statuses: Vec<IncidentStatus> = match filter.status {
        Some(status) => vec![status],
        None => IncidentStatus::ALL.to_vec(),
    };
    let severities: Vec<Severity> = Severity::ALL
        .into_iter()
        .filter(|s| filter.min_severity.is_none_or(|min| *s >= min))
        .collect();
    Some(
        statuses
            .iter()
            .flat_map(|st| {
                severities
                    .iter()
                    .map(|sev| schema::listing_value(*st, *sev))
            })
            .collect(),
    )
}

fn admits(pairs: &[[u8; 2]], value: &[u8]) -> bool {
    match schema::read_listing_value(value) {
        Some((status, severity)) => pairs.is_empty() || pairs.contains(&[status, severity]),
        // Not a value this build writes: let the record decide.
        None => true,
    }
}

/// The `status_incidents` range of one pair, below `before`, newest first.
fn pair_range(trees: &Trees, pair: [u8; 2], before: Option<Ulid>) -> Rev<kv::Iter> {
    match before {
        Some(cursor) => trees
            .status_incidents
            .range(pair.to_vec()..schema::status_incident_key(pair, cursor).to_vec())
            .rev(),
        None => trees.status_incidents.scan_prefix(pair).rev(),
    }
}

fn key_ulid(key: &[u8]) -> Result<Ulid, StoreError> {
    Ok(schema::ulid_from_key(
        schema::STATUS_INCIDENTS,
        key.get(2..).unwrap_or_default(),
    )?)
}

/// The newest incident below `below` that matches one of `pairs`, in any site.
fn newest_below(trees: &Trees, pairs: &[[u8; 2]], below: Ulid) -> Result<Option<Ulid>, StoreError> {
    let mut best: Option<Ulid> = None;
    for pair in pairs {
        if let Some(entry) = pair_range(trees, *pair, Some(below)).next() {
            let id = key_ulid(&entry?.0)?;
            best = best.max(Some(id));
        }
    }
    Ok(best)
}

/// Several newest-first `status_incidents` ranges merged into one, newest first.
struct Merged {
    iters: Vec<Rev<kv::Iter>>,
    heads: Vec<Option<Ulid>>,
    started: bool,
}

impl Merged {
    fn new(trees: &Trees, pairs: &[[u8; 2]], before: Option<Ulid>) -> Self {
        let iters: Vec<_> = pairs
            .iter()
            .map(|p| pair_range(trees, *p, before))
            .collect();
        Self {
            heads: vec![None; iters.len()],
            iters,
            started: false,
        }
    }

    fn advance(&mut self, i: usize) -> Result<(), StoreError> {
        self.heads[i] = match self.iters[i].next() {
            Some(entry) => Some(key_ulid(&entry?.0)?),
            None => None,
        };
        Ok(())
    }
}

impl Iterator for Merged {
    type Item = Result<Ulid, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.started {
            self.started = true;
            for i in 0..self.iters.len() {
                if let Err(e) = self.advance(i) {
                    return Some(Err(e));
                }
            }
        }
        let (i, id) = self
            .heads
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.map(|id| (i, id)))
            .max_by_key(|(_, id)| *id)?;
        if let Err(e) = self.advance(i) {
            return Some(Err(e));
        }
        Some(Ok(id))
    }
}

/// A site's incidents that match the filter's pairs (all of them when `pairs` is empty).
struct SiteWalk<'a> {
    trees: &'a Trees,
    site: SiteId,
    /// `site`'s prefix in `site_incidents`.
    prefix: Vec<u8>,
    pairs: Vec<[u8; 2]>,
    /// Everything at or above it has been examined.
    cursor: Option<Ulid>,
    iter: Option<Rev<kv::Iter>>,
    misses: usize,
    done: bool,
}

impl SiteWalk<'_> {
    fn step(&mut self) -> Result<Option<Step>, StoreError> {
        if self.done {
            return Ok(None);
        }
        let (prefix, site, trees, cursor) = (&self.prefix, &self.site, self.trees, self.cursor);
        let iter = self.iter.get_or_insert_with(|| {
            let end = schema::site_incidents_below(site, cursor);
            trees.site_incidents.range(prefix.clone()..end).rev()
        });
        let Some(entry) = iter.next() else {
            self.done = true;
            return Ok(None);
        };
        let (key, value) = entry?;
        let id = schema::ulid_from_key(schema::SITE_INCIDENTS, &key[self.prefix.len()..])?;
        self.cursor = Some(id);
        if admits(&self.pairs, &value) {
            self.misses = 0;
            return Ok(Some(Step::Candidate(id)));
        }
        self.misses += 1;
        if self.misses < RUN_BEFORE_JUMP {
            return Ok(Some(Step::Passed(id)));
        }
        self.misses = 0;
        self.iter = None;
        let Some(next) = newest_below(self.trees, &self.pairs, id)? else {
            self.done = true;
            return Ok(Some(Step::Passed(id)));
        };
        self.cursor = Some(next);
        let key = schema::site_incident_key(&self.site, next);
        Ok(Some(match self.trees.site_incidents.get(key)? {
            Some(_) => Step::Candidate(next),
            None => Step::Passed(next),
        }))
    }
}

impl Iterator for SiteWalk<'_> {
    type Item = Result<Step, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.step().transpose()
    }
}
