//! How a report opens or updates a hub incident and its per-site sighting. Pure: no storage.

use crate::store::records::{IncidentRecord, LocalContribution, Sighting, TimelineEntry};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::{IncidentReport, SiteId};
use ulid::Ulid;

pub const OPENED_REASON: &str = "opened the incident";

/// A new incident whose only sighting is `site`'s report.
pub fn open(id: Ulid, site: &SiteId, report: &IncidentReport, now: UnixMillis) -> IncidentRecord {
    let mut lifecycle = crate::lifecycle::IncidentLifecycle::new(report.severity, report.tlp, now);
    union_sorted(&mut lifecycle.techniques, &report.techniques);
    IncidentRecord {
        id,
        title: report.title.clone(),
        indicators: report.indicators.clone(),
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
    }
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
    union_sorted(&mut incident.indicators, &report.indicators);
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
pub const MAX_FINGERPRINTS: usize = 4096;

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
    union_sorted(&mut target.indicators, &other.indicators);
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
        incident.timeline.remove(2);
        // The first time, the second entry becomes the marker: one more dropped.
        let dropped = if incident.timeline_elided == 0 { 2 } else { 1 };
        incident.timeline_elided = incident.timeline_elided.saturating_add(dropped);
        let at = incident.timeline[1].at_ms;
        incident.timeline[1] = TimelineEntry {
            at_ms: at,
            actor: ELIDED_ACTOR.into(),
            text: format!(
                "… {} earlier {} not shown (`sirt-hub audit` keeps every change)",
                incident.timeline_elided,
                if incident.timeline_elided == 1 {
                    "entry"
                } else {
                    "entries"
                }
            ),
        };
    }
    incident.timeline.push(TimelineEntry {
        at_ms,
        actor: actor.to_string(),
        text,
    });
}

fn union_sorted<T: Ord + Clone>(into: &mut Vec<T>, from: &[T]) {
    into.extend(from.iter().cloned());
    into.sort();
    into.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;
    use socfed_proto::pb;
    use socfed_proto::vocab::{LocalStatus, ReportLimits, Severity};

    fn report(local: &str, severity: pb::Severity) -> IncidentReport {
        let wire = pb::IncidentReport {
            local_incident_id: local.into(),
            revision: 1,
            title: "phishing wave".into(),
            severity: severity as i32,
            ..Default::default()
        };
        IncidentReport::from_wire(wire, &ReportLimits::default()).expect("valid")
    }

    fn revision(
        local: &str,
        revision: u32,
        status: Option<LocalStatus>,
        owner: &str,
    ) -> IncidentReport {
        IncidentReport {
            revision,
            local_status: status,
            local_owner: owner.into(),
            ..report(local, pb::Severity::High)
        }
    }

    #[test]
    fn each_local_incident_keeps_the_status_and_owner_of_its_latest_revision() {
        let paris = SiteId::parse("paris").expect("valid");
        let mut inc = open(
            Ulid::from_parts(1, 1),
            &paris,
            &revision("p-1", 1, Some(LocalStatus::Open), "ann"),
            10,
        );
        let mut send = |r: IncidentReport, at| merge(&mut inc, &paris, &r, "shared ioc", at);
        send(revision("p-2", 1, Some(LocalStatus::Open), "bob"), 20);
        send(revision("p-1", 3, Some(LocalStatus::Contained), "carl"), 30);
        // Late and older: changes nothing. Silent about its status: keeps the known one.
        send(revision("p-1", 2, Some(LocalStatus::Open), "ann"), 40);
        send(revision("p-2", 2, None, "dee"), 50);
        let locals = &inc.sightings[0].locals;
        let seen: Vec<_> = locals
            .iter()
            .map(|l| (l.id.as_str(), l.revision, l.status, l.owner.as_str()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("p-1", 3, Some(LocalStatus::Contained), "carl"),
                ("p-2", 2, Some(LocalStatus::Open), "dee"),
            ]
        );
        assert_eq!(inc.sightings[0].local_owner(), "dee");
        assert_eq!(inc.sightings[0].revision(), 3);
    }

    #[test]
    fn keeps_one_sighting_per_site_and_raises_severity() {
        let paris = SiteId::parse("paris").expect("valid");
        let lyon = SiteId::parse("lyon").expect("valid");
        let mut inc = open(
            Ulid::from_parts(1, 1),
            &paris,
            &report("p-1", pb::Severity::Low),
            10,
        );
        merge(
            &mut inc,
            &lyon,
            &report("l-9", pb::Severity::Critical),
            "shared ioc",
            20,
        );
        merge(
            &mut inc,
            &paris,
            &report("p-2", pb::Severity::Medium),
            "shared ioc",
            30,
        );
        assert_eq!(inc.sightings.len(), 2);
        assert_eq!(inc.severity(), Severity::Critical);
        assert_eq!(inc.sightings[0].local_incident_ids(), vec!["p-1", "p-2"]);
        assert_eq!(inc.sightings[0].first_seen_ms, 10);
        assert_eq!(inc.sightings[0].last_seen_ms, 30);
        assert_eq!(inc.sightings[1].joined_because, "shared ioc");
    }

    #[test]
    fn at_the_cap_the_opening_entry_stays_and_the_elision_is_marked() {
        let paris = SiteId::parse("paris").expect("valid");
        let mut inc = open(
            Ulid::from_parts(1, 1),
            &paris,
            &report("p-1", pb::Severity::Low),
            0,
        );
        let extra = 7;
        for n in 1..MAX_TIMELINE + extra {
            push_timeline(&mut inc, n as i64, "ines", format!("note {n}"));
        }
        assert_eq!(inc.timeline.len(), MAX_TIMELINE);
        assert!(inc.timeline[0].text.starts_with("escalated by site paris"));
        // Entries 1..=extra were dropped, and the marker took entry 1's place.
        let dropped = extra + 1;
        assert_eq!(inc.timeline_elided, dropped as u64);
        assert_eq!(inc.timeline[1].actor, ELIDED_ACTOR);
        assert!(
            inc.timeline[1]
                .text
                .contains(&format!("{dropped} earlier entries")),
            "{:?}",
            inc.timeline[1]
        );
        assert_eq!(inc.timeline[2].text, format!("note {}", dropped + 1));
        assert_eq!(
            inc.timeline.last().map(|e| e.text.clone()),
            Some(format!("note {}", MAX_TIMELINE + extra - 1))
        );
        assert!(inc.timeline.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    }
}
