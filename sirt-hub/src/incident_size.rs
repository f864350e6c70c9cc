//! Keeps a hub incident record within its size. Pure: the caller says how a record is measured
//! (its encoded length in the store).
//!
//! An incident grows with every report and merge: indicators accumulate, each local incident of
//! a site is remembered, correlation fingerprints and the timeline grow. Stores write a record
//! whole, and sled writes a large log message to a blob file it never syncs
//! (docs/RELIABILITY.md, "Large values"), so a record over [`MAX_RECORD_BYTES`] sheds, step by
//! step, what the evidence keeps elsewhere: the oldest timeline entries (the audit log keeps
//! every change), a spread of indicators (every report stays whole in the escalations), the
//! fingerprints past the first ones (later reports with those correlate less), techniques past
//! the first [`MAX_KEPT_TECHNIQUES`], and local incident references of a site past its newest
//! (a merge no longer relinks them). The timeline says what was shed.

use crate::incident::{elide_timeline, push_timeline};
use crate::store::records::IncidentRecord;
use socfed_proto::UnixMillis;
use socfed_proto::terminal::plural;

/// The most bytes an incident record takes in the store. sled splits a leaf past 16 entries,
/// so a leaf of 17 such records is about 1.1 MiB, well under the 2 MiB at which new stores
/// write a blob file (`store_files::SEGMENT_BYTES`).
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

/// Techniques kept once a record sheds them (more than ATT&CK has tactics times a few).
pub const MAX_KEPT_TECHNIQUES: usize = 128;

/// Timeline entries always kept: the opening, the marker, and the latest ones.
const KEPT_TIMELINE: usize = 12;

/// What [`fit`] shed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Shed {
    pub timeline: usize,
    pub indicators: usize,
    pub fingerprints: usize,
    pub local_refs: usize,
    pub techniques: usize,
}

impl Shed {
    fn any(&self) -> bool {
        *self != Self::default()
    }
}

/// The record cannot be brought within its size (only sightings and titles are left).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "incident record is {size} bytes even after shedding all it can, over the limit of {max} bytes"
)]
pub struct TooLarge {
    pub size: usize,
    pub max: usize,
}

/// Sheds from `incident` until `measure` says it fits in `max` bytes; notes on the timeline what
/// went. A record that fits is left untouched.
pub fn fit(
    incident: &mut IncidentRecord,
    max: usize,
    now: UnixMillis,
    measure: impl Fn(&IncidentRecord) -> usize,
) -> Result<Shed, TooLarge> {
    let mut shed = Shed::default();
    let mut noted = false;
    loop {
        let size = measure(incident);
        if size <= max {
            return Ok(shed);
        }
        if !shed_some(incident, &mut shed) {
            return Err(TooLarge { size, max });
        }
        // One note for the whole fit, written after the first step and rewritten as more goes
        // (the note is part of what must fit).
        if noted {
            if let Some(last) = incident.timeline.last_mut() {
                last.text = note(&shed);
            }
        } else {
            push_timeline(incident, now, crate::incident::ELIDED_ACTOR, note(&shed));
            noted = true;
        }
    }
}

/// One step of shedding, the cheapest loss first. `false` when nothing is left to shed.
fn shed_some(incident: &mut IncidentRecord, shed: &mut Shed) -> bool {
    let timeline = incident.timeline.len();
    if timeline > KEPT_TIMELINE {
        shed.timeline += elide_timeline(incident, (timeline - KEPT_TIMELINE).div_ceil(2));
        return true;
    }
    // Indicators and fingerprints go by turns, whichever takes more bytes now.
    let indicator_bytes: usize = incident
        .indicators
        .iter()
        .map(|i| i.value().len() + 2)
        .sum();
    let fingerprint_bytes = incident.fingerprints.len() * 32;
    if indicator_bytes > 0 && indicator_bytes >= fingerprint_bytes {
        // Every fourth, across all kinds, so each kind of indicator stays represented; under
        // four left, all of them.
        let before = incident.indicators.len();
        let stride = if before >= 4 { 4 } else { 1 };
        let mut position = 0_usize;
        incident.indicators.retain(|_| {
            position += 1;
            !position.is_multiple_of(stride)
        });
        let gone = before - incident.indicators.len();
        shed.indicators += gone;
        incident.indicators_elided = incident
            .indicators_elided
            .saturating_add(u64::try_from(gone).unwrap_or(u64::MAX));
        return true;
    }
    if fingerprint_bytes > 0 {
        // A quarter at a time, from the end (their order is a hash's).
        let keep = incident.fingerprints.len() * 3 / 4;
        shed.fingerprints += incident.fingerprints.len() - keep;
        incident.fingerprints.truncate(keep);
        return true;
    }
    if incident.lifecycle.techniques.len() > MAX_KEPT_TECHNIQUES {
        shed.techniques += incident.lifecycle.techniques.len() - MAX_KEPT_TECHNIQUES;
        incident.lifecycle.techniques.truncate(MAX_KEPT_TECHNIQUES);
        return true;
    }
    if let Some(sighting) = incident
        .sightings
        .iter_mut()
        .filter(|s| s.locals.len() > 1)
        .max_by_key(|s| s.locals.len())
    {
        // The newest half of the site's local incidents stay.
        sighting
            .locals
            .sort_by_key(|l| std::cmp::Reverse(l.updated_at_ms));
        let keep = sighting.locals.len().div_ceil(2);
        shed.local_refs += sighting.locals.len() - keep;
        sighting.locals.truncate(keep);
        return true;
    }
    let gone = elide_timeline(incident, incident.timeline.len());
    shed.timeline += gone;
    gone > 0
}

fn note(shed: &Shed) -> String {
    let mut parts = Vec::new();
    let counts = [
        (shed.indicators, "indicator", "indicators"),
        (
            shed.fingerprints,
            "correlation fingerprint",
            "correlation fingerprints",
        ),
        (
            shed.local_refs,
            "local incident reference",
            "local incident references",
        ),
        (shed.techniques, "technique", "techniques"),
    ];
    for (n, one, many) in counts {
        if n > 0 {
            parts.push(plural(n, one, many));
        }
    }
    if parts.is_empty() {
        parts.push("older timeline entries".into());
    }
    debug_assert!(shed.any());
    format!(
        "record at its size limit ({} KiB): dropped {}; every report stays whole in the escalations and every change in the audit log",
        MAX_RECORD_BYTES / 1024,
        parts.join(", ")
    )
}

#[cfg(test)]
#[path = "incident_size_tests.rs"]
mod tests;
