//! How a report opens or updates a hub incident and its per-site sighting. Pure: no storage.

pub mod notes;
pub mod record;
pub mod search;
pub mod size;

pub use record::{IncidentRecord, IncidentStatus, LocalContribution, Sighting, TimelineEntry};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::{IncidentReport, SiteId};
use ulid::Ulid;

pub const OPENED_REASON: &str = "opened the incident";

/// A new incident whose only sighting is `site`'s report.
pub fn open(id: Ulid, site: &SiteId, report: &IncidentReport, now: UnixMillis) -> IncidentRecord {
    let mut lifecycle = crate::lifecycle::IncidentLifecycle::new(report.severity, report.tlp, now);
    union_sorted(&mut lifecycle.techniques, &report.techniques);
    let mut incident = IncidentRecord {
        id,
        title: report.title.clone(),
        indicators: Vec::new(),
        indicators_elided: 0,
        sightings: vec![new_sighting(site, report, OPENED_REASON, now)],
        created_at_ms: now,
        updated_at_ms: now,
        lifecycle,
        timeline: vec![TimelineEntry {
            at_ms: now,
            actor: format!("site {site}"),
            text: format!("escalated by site {site}: {}", report.title),
        }],
        timeline_elided: 0,
        regulatory: crate::regulatory::RegulatoryClocks::new(),
        fingerprints: Vec::new(),
    };
    let dropped = add_indicators(&mut incident, &report.indicators);
    if let Some(opening) = incident.timeline.first_mut() {
        opening.text.push_str(&dropped_note(dropped));
    }
    incident
}

/// Folds `site`'s report into `incident`: one sighting per site, severity and TLP only rise,
/// techniques and indicators accumulate; the timeline says whether the site joined or revised.
pub fn merge(
    incident: &mut IncidentRecord,
    site: &SiteId,
    report: &IncidentReport,
    reason: &str,
    now: UnixMillis,
) {
    let text = match incident.sightings.iter().find(|s| &s.site == site) {
        Some(_) => format!(
            "site {site} sent revision {} of local incident {}: {}",
            report.revision, report.local_incident_id, report.title
        ),
        None => format!(
            "site {site} joined with local incident {} ({reason}): {}",
            report.local_incident_id, report.title
        ),
    };
    match incident.sightings.iter_mut().find(|s| &s.site == site) {
        Some(sighting) => {
            record_local(&mut sighting.locals, report, now);
            sighting.local_severity = report.severity;
            sighting.last_seen_ms = sighting.last_seen_ms.max(now);
        }
        None => incident
            .sightings
            .push(new_sighting(site, report, reason, now)),
    }
    incident
        .lifecycle
        .raise_from_site(report.severity, report.tlp);
    union_sorted(&mut incident.lifecycle.techniques, &report.techniques);
    let dropped = add_indicators(incident, &report.indicators);
    let text = text + &dropped_note(dropped);
    incident.updated_at_ms = incident.updated_at_ms.max(now);
    push_timeline(incident, now, &format!("site {site}"), text);
}

fn new_sighting(site: &SiteId, report: &IncidentReport, reason: &str, now: UnixMillis) -> Sighting {
    let mut locals = Vec::with_capacity(1);
    record_local(&mut locals, report, now);
    Sighting {
        site: site.clone(),
        locals,
        local_severity: report.severity,
        first_seen_ms: now,
        last_seen_ms: now,
        joined_because: reason.to_string(),
    }
}

/// What a revision says of its local incident: status and owner as the site has them now. A
/// revision older than one already received (arriving late) changes nothing; a revision that
/// does not say its status (an older agent) keeps the status known.
fn record_local(locals: &mut Vec<LocalContribution>, report: &IncidentReport, now: UnixMillis) {
    let position = match locals.iter().position(|l| l.id == report.local_incident_id) {
        Some(position) => position,
        None => {
            locals.push(LocalContribution {
                id: report.local_incident_id.clone(),
                revision: 0,
                status: None,
                owner: String::new(),
                updated_at_ms: now,
            });
            locals.len() - 1
        }
    };
    let local = &mut locals[position];
    if report.revision < local.revision {
        return;
    }
    local.revision = report.revision;
    local.status = report.local_status.or(local.status);
    local.owner = report.local_owner.clone();
    local.updated_at_ms = now;
}

/// Folds the local incidents of `from` into `into` (a merge): one entry per local incident,
/// the one from the later revision winning.
fn fold_locals(into: &mut Vec<LocalContribution>, from: Vec<LocalContribution>) {
    for local in from {
        match into.iter_mut().find(|l| l.id == local.id) {
            Some(existing) => {
                if (local.revision, local.updated_at_ms)
                    > (existing.revision, existing.updated_at_ms)
                {
                    *existing = local;
                }
            }
            None => into.push(local),
        }
    }
}

/// Most fingerprints remembered per incident for merges.
/// 32 KiB of the record's size (`size::MAX_RECORD_BYTES`).
pub const MAX_FINGERPRINTS: usize = 1024;

/// Remembers fingerprints that point at `incident`.
pub fn remember_fingerprints(
    incident: &mut IncidentRecord,
    keys: impl IntoIterator<Item = [u8; 32]>,
) {
    for key in keys {
        if incident.fingerprints.len() >= MAX_FINGERPRINTS {
            break;
        }
        if let Err(pos) = incident.fingerprints.binary_search(&key) {
            incident.fingerprints.insert(pos, key);
        }
    }
}

/// Folds `other` into `target`: one threat seen as two incidents (a report matched both). The
/// sightings keep their provenance per site, and `other` is closed as a duplicate of `target`.
pub fn absorb(
    target: &mut IncidentRecord,
    other: &mut IncidentRecord,
    reason: &str,
    now: UnixMillis,
) {
    // The duplicate keeps its own sightings as a record; the survivor gains them.
    for sighting in other.sightings.clone() {
        match target
            .sightings
            .iter_mut()
            .find(|s| s.site == sighting.site)
        {
            Some(existing) => {
                fold_locals(&mut existing.locals, sighting.locals);
                existing.first_seen_ms = existing.first_seen_ms.min(sighting.first_seen_ms);
                existing.last_seen_ms = existing.last_seen_ms.max(sighting.last_seen_ms);
                existing.local_severity = existing.local_severity.max(sighting.local_severity);
            }
            None => target.sightings.push(sighting),
        }
    }
    target
        .lifecycle
        .raise_from_site(other.lifecycle.severity, other.lifecycle.tlp);
    union_sorted(
        &mut target.lifecycle.techniques,
        &other.lifecycle.techniques,
    );
    add_indicators(target, &other.indicators);
    target.indicators_elided = target
        .indicators_elided
        .saturating_add(other.indicators_elided);
    // Regulatory clocks follow the threat: regimes flagged only on the duplicate move over
    // (where both are flagged the survivor keeps its own start), with their filings.
    for flag in other.regulatory.flags().to_vec() {
        let _ = target.regulatory.flag(flag.regime, flag.started_ms);
    }
    for filing in other.regulatory.filings().to_vec() {
        let _ = target.regulatory.record_filing(filing.kind, filing.at_ms);
    }
    let moved = std::mem::take(&mut other.fingerprints);
    remember_fingerprints(target, moved);
    target.updated_at_ms = target.updated_at_ms.max(now);
    push_timeline(
        target,
        now,
        "correlation",
        format!("merged incident {} ({reason})", other.id),
    );
    other.lifecycle.phase = crate::lifecycle::Phase::Closed {
        resolution: crate::lifecycle::Resolution::Duplicate {
            of: target.id.to_string(),
        },
    };
    other.lifecycle.entered.closed_ms.get_or_insert(now);
    other.lifecycle.updated_ms = other.lifecycle.updated_ms.max(now);
    other.updated_at_ms = other.updated_at_ms.max(now);
    push_timeline(
        other,
        now,
        "correlation",
        format!("merged into incident {} ({reason})", target.id),
    );
}

/// Most timeline entries kept on the record; the audit log keeps every change.
pub const MAX_TIMELINE: usize = 500;

/// The actor of the entry that stands for entries dropped at the cap.
pub const ELIDED_ACTOR: &str = "hub";

/// Appends to the timeline. At the cap the first entry (how the incident opened) stays, the
/// second becomes a marker saying how many entries were dropped there, and the oldest entry
/// after the marker goes: the opening and the latest history are kept.
pub fn push_timeline(incident: &mut IncidentRecord, at_ms: UnixMillis, actor: &str, text: String) {
    if incident.timeline.len() >= MAX_TIMELINE.max(3) {
        elide_timeline(incident, 1);
    }
    incident.timeline.push(TimelineEntry {
        at_ms,
        actor: actor.to_string(),
        text,
    });
}

/// Drops the `n` oldest entries after the marker (never the first entry, the marker or the
/// last entry) and counts them in the marker; the first time, the second entry becomes the
/// marker and counts too. Returns how many entries went.
pub fn elide_timeline(incident: &mut IncidentRecord, n: usize) -> usize {
    let n = n.min(incident.timeline.len().saturating_sub(3));
    if n == 0 {
        return 0;
    }
    incident.timeline.drain(2..2 + n);
    let dropped = if incident.timeline_elided == 0 {
        n + 1
    } else {
        n
    };
    incident.timeline_elided = incident
        .timeline_elided
        .saturating_add(u64::try_from(dropped).unwrap_or(u64::MAX));
    let at = incident.timeline[1].at_ms;
    incident.timeline[1] = TimelineEntry {
        at_ms: at,
        actor: ELIDED_ACTOR.into(),
        text: format!(
            "… {} not shown (`sirt-hub audit` keeps every change)",
            socfed_runtime::terminal::plural(
                usize::try_from(incident.timeline_elided).unwrap_or(usize::MAX),
                "earlier entry",
                "earlier entries"
            )
        ),
    };
    n
}

/// Bytes of indicator values an incident lists (two more per indicator for its kind and length).
/// Past it, new indicators are counted in `indicators_elided` instead of listed: the first ones
/// stay listed, and every report stays whole in the escalations. A third of the record's size
/// (`size::MAX_RECORD_BYTES`), about 600 typical indicators.
pub const MAX_INDICATOR_BYTES: usize = 20 * 1024;

pub(crate) fn indicator_bytes(indicator: &socfed_proto::vocab::Indicator) -> usize {
    indicator.value().len() + 2
}

/// Adds the indicators `from` does not list yet, while they fit in [`MAX_INDICATOR_BYTES`];
/// counts the others (a report repeating a dropped indicator counts it again) and returns how
/// many. `from` is de-duplicated (reports and records are).
fn add_indicators(incident: &mut IncidentRecord, from: &[socfed_proto::vocab::Indicator]) -> u64 {
    let mut bytes: usize = incident.indicators.iter().map(indicator_bytes).sum();
    let mut added = Vec::new();
    let mut dropped = 0_u64;
    for indicator in from {
        if incident.indicators.binary_search(indicator).is_ok() {
            continue;
        }
        let size = indicator_bytes(indicator);
        if bytes + size > MAX_INDICATOR_BYTES {
            dropped += 1;
        } else {
            bytes += size;
            added.push(indicator.clone());
        }
    }
    if !added.is_empty() {
        incident.indicators.extend(added);
        incident.indicators.sort();
    }
    incident.indicators_elided = incident.indicators_elided.saturating_add(dropped);
    dropped
}

/// What a timeline entry adds when a report's indicators were not all listed.
fn dropped_note(dropped: u64) -> String {
    if dropped == 0 {
        return String::new();
    }
    format!(
        " ({} not listed: the incident is at its size limit; the report is kept whole in the escalations)",
        socfed_runtime::terminal::plural(
            usize::try_from(dropped).unwrap_or(usize::MAX),
            "indicator",
            "indicators"
        )
    )
}

fn union_sorted<T: Ord + Clone>(into: &mut Vec<T>, from: &[T]) {
    into.extend(from.iter().cloned());
    into.sort();
    into.dedup();
}

#[cfg(test)]
mod tests;
