//! A record grown past its size by many reports, merges and hostile input comes back within it,
//! and what was shed is the least needed first.

use super::*;
use crate::incident::LocalContribution;
use crate::store::schema;
use socfed_proto::pb;
use socfed_proto::vocab::{IncidentReport, ReportLimits, SiteId, Technique};

fn encoded(record: &IncidentRecord) -> usize {
    schema::encode_incident(record).map_or(usize::MAX, |b| b.len())
}

fn report(site: &str, n: usize, indicators: usize) -> IncidentReport {
    let wire = pb::IncidentReport {
        local_incident_id: format!("{site}-{n}"),
        revision: 1,
        title: format!("large report {n}"),
        severity: pb::Severity::High as i32,
        rule_id: "ET-LARGE-1".into(),
        indicators: (0..indicators)
            .map(|i| pb::Indicator {
                kind: if i % 2 == 0 {
                    pb::IndicatorKind::Domain as i32
                } else {
                    pb::IndicatorKind::Ipv4 as i32
                },
                value: if i % 2 == 0 {
                    format!("host-{site}-{n}-{i:04}.campaign.example")
                } else {
                    format!("10.{}.{}.{}", n % 250, (i / 250) % 250, i % 250)
                },
            })
            .collect(),
        ..Default::default()
    };
    IncidentReport::from_wire(wire, &ReportLimits::default()).expect("valid")
}

/// Twelve of the largest reports from two sites folded into one incident, as an older build
/// kept them (every indicator, 4,096 fingerprints): several times the limit.
fn grown() -> IncidentRecord {
    let paris = SiteId::parse("paris").expect("valid");
    let lyon = SiteId::parse("lyon").expect("valid");
    let mut incident = crate::incident::open(
        ulid::Ulid::from_parts(1, 1),
        &paris,
        &report("paris", 0, 500),
        1,
    );
    let mut every = incident.indicators.clone();
    for n in 1..12 {
        let site = if n % 2 == 0 { &paris } else { &lyon };
        let r = report(site.as_str(), n, 500);
        crate::incident::merge(&mut incident, site, &r, "shared indicator", 1 + n as i64);
        every.extend(r.indicators.iter().cloned());
    }
    every.sort();
    every.dedup();
    incident.indicators = every;
    incident.indicators_elided = 0;
    incident.fingerprints = (0..4096_u32)
        .map(|n| *blake3::hash(&n.to_be_bytes()).as_bytes())
        .collect();
    incident.fingerprints.sort();
    incident
}

#[test]
fn a_record_within_its_size_is_left_untouched() {
    let mut small = crate::incident::open(
        ulid::Ulid::from_parts(1, 1),
        &SiteId::parse("paris").expect("valid"),
        &report("paris", 0, 20),
        1,
    );
    let before = small.clone();
    assert_eq!(
        fit(&mut small, MAX_RECORD_BYTES, 9, encoded),
        Ok(Shed::default())
    );
    assert_eq!(small, before);
}

#[test]
fn a_record_grown_by_merged_reports_sheds_indicators_across_kinds_and_says_so() {
    let mut incident = grown();
    let total = incident.indicators.len();
    assert!(
        encoded(&incident) > 4 * MAX_RECORD_BYTES,
        "{}",
        encoded(&incident)
    );
    let shed = fit(&mut incident, MAX_RECORD_BYTES, 99, encoded).expect("fits");
    assert!(encoded(&incident) <= MAX_RECORD_BYTES);
    assert!(shed.indicators > 0 && shed.indicators < total, "{shed:?}");
    assert!(shed.fingerprints > 0, "{shed:?}");
    assert_eq!(incident.indicators_elided, shed.indicators as u64);
    assert_eq!(incident.indicators.len() + shed.indicators, total);
    // Both kinds stay represented.
    let kinds: std::collections::BTreeSet<_> =
        incident.indicators.iter().map(|i| i.kind()).collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    // Sightings and every local incident are untouched.
    assert_eq!(incident.sightings.len(), 2);
    let note = incident.timeline.last().expect("a note");
    assert_eq!(note.actor, crate::incident::ELIDED_ACTOR);
    assert!(
        note.text
            .contains(&format!("{} indicators", shed.indicators)),
        "{}",
        note.text
    );
    assert!(note.text.contains("escalations"), "{}", note.text);
    // Fitting again changes nothing.
    let again = incident.clone();
    assert_eq!(
        fit(&mut incident, MAX_RECORD_BYTES, 100, encoded),
        Ok(Shed::default())
    );
    assert_eq!(incident, again);
}

#[test]
fn hostile_techniques_and_a_long_timeline_are_shed_to_fit() {
    let mut incident = grown();
    incident.lifecycle.techniques = (0..8_000)
        .map(|n| {
            Technique::parse(&format!("T{:04}.{:03}", 1000 + n / 999, n % 999 + 1)).expect("valid")
        })
        .collect();
    for n in 0..400 {
        crate::incident::push_timeline(&mut incident, n, "site paris", "t".repeat(300));
    }
    let locals = incident.sightings.clone();
    let shed = fit(&mut incident, MAX_RECORD_BYTES, 99, encoded).expect("fits");
    assert!(encoded(&incident) <= MAX_RECORD_BYTES);
    assert!(shed.timeline > 0 && shed.techniques > 0, "{shed:?}");
    assert_eq!(incident.lifecycle.techniques.len(), MAX_KEPT_TECHNIQUES);
    // Local incident references are never shed: merges and splits follow them.
    assert_eq!(incident.sightings, locals);
    // The opening entry stays first.
    assert!(
        incident.timeline[0]
            .text
            .starts_with("escalated by site paris")
    );
}

#[test]
fn an_older_records_excess_goes_before_any_timeline_entry_and_the_timeline_only_as_needed() {
    let mut incident = grown();
    for n in 0..60 {
        crate::incident::push_timeline(&mut incident, n, "site paris", "t".repeat(50));
    }
    let entries = incident.timeline.len();
    let shed = fit(&mut incident, MAX_RECORD_BYTES, 99, encoded).expect("fits");
    // Trimming to today's caps was enough: the history is whole (one entry more, the note).
    assert_eq!(shed.timeline, 0, "{shed:?}");
    assert_eq!(incident.timeline.len(), entries + 1);
    assert_eq!(
        incident.fingerprints.len(),
        crate::incident::MAX_FINGERPRINTS
    );
}

#[test]
fn a_record_a_little_over_its_size_loses_about_as_many_entries_as_the_excess_needs() {
    let paris = SiteId::parse("paris").expect("valid");
    let mut incident = crate::incident::open(
        ulid::Ulid::from_parts(1, 1),
        &paris,
        &report("paris", 0, 500),
        1,
    );
    for n in 0..300 {
        crate::incident::push_timeline(&mut incident, n, "site paris", "t".repeat(100));
    }
    let size = encoded(&incident);
    let shed = fit(&mut incident, size - 500, 100, encoded).expect("fits");
    assert!((1..=8).contains(&shed.timeline), "{shed:?}");
    assert_eq!((shed.indicators, shed.fingerprints), (0, 0), "{shed:?}");
}

#[test]
fn a_hostile_site_flooding_local_incidents_keeps_every_reference_and_the_caller_is_told() {
    let mut incident = grown();
    let paris = &mut incident.sightings[0];
    for n in 0..3_000 {
        paris.locals.push(LocalContribution {
            id: format!("forged-local-incident-{n:05}-{}", "x".repeat(40)),
            revision: 1,
            status: None,
            owner: "mallory".into(),
            updated_at_ms: n,
        });
    }
    let locals = incident.sightings.clone();
    let error = fit(&mut incident, MAX_RECORD_BYTES, 99, encoded).expect_err("cannot fit");
    assert_eq!(error.max, MAX_RECORD_BYTES);
    assert_eq!(error.size, encoded(&incident));
    assert_eq!(incident.sightings, locals);
    assert!(incident.indicators.is_empty() && incident.fingerprints.is_empty());
}
