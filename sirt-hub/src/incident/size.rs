//! Keeps a hub incident record within its size. Pure: the caller says how a record is measured
//! (its encoded length in the store).
//!
//! An incident grows with every report and merge: indicators accumulate, each local incident of
//! a site is remembered, correlation fingerprints and the timeline grow. Stores write a record
//! whole, and sled writes a large log message to a blob file it never syncs
//! (docs/RELIABILITY.md, "Large values"), so a record over [`MAX_RECORD_BYTES`] sheds, step by
//! step, what the evidence keeps elsewhere. First what the current caps would never have let
//! in (a record written by an older build): fingerprints past `MAX_FINGERPRINTS` and indicators
//! past `MAX_INDICATOR_BYTES`. Then about as many of the oldest timeline entries as the
//! overshoot needs (the audit log keeps every change), a spread of indicators (every report
//! stays whole in the escalations) and fingerprints by turns (later reports with those
//! correlate less), and techniques past the first [`MAX_KEPT_TECHNIQUES`]. The timeline says
//! what was shed.
//!
//! A site's local incident references are never shed: merges, splits and the states sent to
//! sites follow them. A record that still does not fit (a compromised site opening thousands
//! of local incidents into one hub incident, or hundreds of sites) is written whole: the blob
//! sync before every acknowledgement keeps it durable, and [`fit`] says so to the caller.

use crate::incident::IncidentRecord;
use crate::incident::{MAX_FINGERPRINTS, MAX_INDICATOR_BYTES, elide_timeline, push_timeline};
use socfed_proto::UnixMillis;
use socfed_runtime::terminal::plural;

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
    pub techniques: usize,
}

impl Shed {
    fn any(&self) -> bool {
        *self != Self::default()
    }
}

/// The record is still over its size after shedding all it may (sightings, local incident
/// references, the title and the last timeline entries are what is left).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "incident record is {size} bytes even after shedding all it may, over the limit of {max} bytes"
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
        if !shed_some(incident, size - max, &mut shed) {
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

/// One step of shedding, the cheapest loss first, for a record `over` bytes too large.
/// `false` when nothing is left that may be shed.
fn shed_some(incident: &mut IncidentRecord, over: usize, shed: &mut Shed) -> bool {
    // What the current caps would not have let in (an older build's record).
    if incident.fingerprints.len() > MAX_FINGERPRINTS {
        shed.fingerprints += incident.fingerprints.len() - MAX_FINGERPRINTS;
        incident.fingerprints.truncate(MAX_FINGERPRINTS);
        return true;
    }
    if indicator_bytes(incident) > MAX_INDICATOR_BYTES {
        drop_indicators(incident, shed);
        return true;
    }
    let timeline = incident.timeline.len();
    if timeline > KEPT_TIMELINE {
        // About as many of the oldest entries as the overshoot needs (an entry's encoding is
        // its texts and about 12 bytes more).
        let bytes: usize = incident
            .timeline
            .iter()
            .map(|e| e.actor.len() + e.text.len() + 12)
            .sum();
        let average = (bytes / timeline).max(1);
        let wanted = (over / average + 1).min(timeline - KEPT_TIMELINE);
        shed.timeline += elide_timeline(incident, wanted);
        return true;
    }
    // Indicators and fingerprints go by turns, whichever takes more bytes now.
    let indicators = indicator_bytes(incident);
    let fingerprint_bytes = incident.fingerprints.len() * 32;
    if indicators > 0 && indicators >= fingerprint_bytes {
        drop_indicators(incident, shed);
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
    let gone = elide_timeline(incident, incident.timeline.len());
    shed.timeline += gone;
    gone > 0
}

/// The listed indicators' bytes, measured as the cap in `incident::add_indicators` is.
fn indicator_bytes(incident: &IncidentRecord) -> usize {
    incident
        .indicators
        .iter()
        .map(crate::incident::indicator_bytes)
        .sum()
}

/// Drops every fourth indicator, across all kinds, so each kind stays represented (under four
/// left, all of them), and counts them on the record.
fn drop_indicators(incident: &mut IncidentRecord, shed: &mut Shed) {
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
#[path = "size_tests.rs"]
mod tests;
