//! How a report opens or updates a hub incident and its per-site sighting. Pure: no storage.

use crate::store::records::{IncidentRecord, IncidentStatus, Sighting, TimelineEntry};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::{IncidentReport, SiteId};
use ulid::Ulid;

pub const OPENED_REASON: &str = "opened the incident";

/// A new incident whose only sighting is `site`'s report.
pub fn open(id: Ulid, site: &SiteId, report: &IncidentReport, now: UnixMillis) -> IncidentRecord {
    IncidentRecord {
        id,
        title: report.title.clone(),
        status: IncidentStatus::New,
        severity: report.severity,
        tlp: report.tlp,
        techniques: report.techniques.clone(),
        indicators: report.indicators.clone(),
        sightings: vec![new_sighting(site, report, OPENED_REASON, now)],
        created_at_ms: now,
        updated_at_ms: now,
        lifecycle: crate::lifecycle::IncidentLifecycle::new(report.severity, report.tlp, now),
        timeline: vec![TimelineEntry {
            at_ms: now,
            actor: format!("site {site}"),
            text: format!("escalated by site {site}: {}", report.title),
        }],
        regulatory: crate::regulatory::RegulatoryClocks::new(),
        fingerprints: Vec::new(),
    }
}

/// Folds `site`'s report into `incident`: one sighting per site, severity and TLP only rise,
/// techniques and indicators accumulate.
pub fn merge(
    incident: &mut IncidentRecord,
    site: &SiteId,
    report: &IncidentReport,
    reason: &str,
    now: UnixMillis,
) {
    match incident.sightings.iter_mut().find(|s| &s.site == site) {
        Some(sighting) => {
            if !sighting
                .local_incident_ids
                .contains(&report.local_incident_id)
            {
                sighting
                    .local_incident_ids
                    .push(report.local_incident_id.clone());
            }
            sighting.revision = sighting.revision.max(report.revision);
            sighting.local_severity = report.severity;
            if !report.local_owner.is_empty() {
                sighting.local_owner = report.local_owner.clone();
            }
            sighting.last_seen_ms = sighting.last_seen_ms.max(now);
        }
        None => incident
            .sightings
            .push(new_sighting(site, report, reason, now)),
    }
    incident.severity = incident.severity.max(report.severity);
    incident.tlp = incident.tlp.max(report.tlp);
    // Facts from the sites only ever raise what the lifecycle tracks; lowering is an
    // operator's decision (IR lead or CISO) through the lifecycle.
    incident.lifecycle.severity = incident.lifecycle.severity.max(report.severity);
    incident.lifecycle.tlp = incident.lifecycle.tlp.max(report.tlp);
    union_sorted(&mut incident.techniques, &report.techniques);
    union_sorted(&mut incident.indicators, &report.indicators);
    incident.updated_at_ms = incident.updated_at_ms.max(now);
}

fn new_sighting(site: &SiteId, report: &IncidentReport, reason: &str, now: UnixMillis) -> Sighting {
    Sighting {
        site: site.clone(),
        local_incident_ids: vec![report.local_incident_id.clone()],
        revision: report.revision,
        local_severity: report.severity,
        local_owner: report.local_owner.clone(),
        first_seen_ms: now,
        last_seen_ms: now,
        joined_because: reason.to_string(),
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
                for id in sighting.local_incident_ids {
                    if !existing.local_incident_ids.contains(&id) {
                        existing.local_incident_ids.push(id);
                    }
                }
                existing.first_seen_ms = existing.first_seen_ms.min(sighting.first_seen_ms);
                existing.last_seen_ms = existing.last_seen_ms.max(sighting.last_seen_ms);
                existing.revision = existing.revision.max(sighting.revision);
                existing.local_severity = existing.local_severity.max(sighting.local_severity);
            }
            None => target.sightings.push(sighting),
        }
    }
    target.severity = target.severity.max(other.severity);
    target.tlp = target.tlp.max(other.tlp);
    target.lifecycle.severity = target.lifecycle.severity.max(other.lifecycle.severity);
    target.lifecycle.tlp = target.lifecycle.tlp.max(other.lifecycle.tlp);
    union_sorted(&mut target.techniques, &other.techniques);
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
    other.status = IncidentStatus::Closed;
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

pub fn push_timeline(incident: &mut IncidentRecord, at_ms: UnixMillis, actor: &str, text: String) {
    if incident.timeline.len() >= MAX_TIMELINE {
        incident.timeline.remove(0);
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
    use socfed_proto::vocab::{ReportLimits, Severity};

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
        assert_eq!(inc.severity, Severity::Critical);
        assert_eq!(inc.sightings[0].local_incident_ids, vec!["p-1", "p-2"]);
        assert_eq!(inc.sightings[0].first_seen_ms, 10);
        assert_eq!(inc.sightings[0].last_seen_ms, 30);
        assert_eq!(inc.sightings[1].joined_because, "shared ioc");
    }
}
