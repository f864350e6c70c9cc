//! How reports open, update and merge incidents.
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

#[test]
fn indicators_past_the_records_share_are_counted_and_the_first_ones_stay_listed() {
    let paris = SiteId::parse("paris").expect("valid");
    let lyon = SiteId::parse("lyon").expect("valid");
    let with_indicators = |local: &str, prefix: &str| {
        let wire = pb::IncidentReport {
            local_incident_id: local.into(),
            revision: 1,
            title: "campaign".into(),
            severity: pb::Severity::High as i32,
            indicators: (0..500)
                .map(|i| pb::Indicator {
                    kind: pb::IndicatorKind::Domain as i32,
                    value: format!("{prefix}-{i:04}.campaign.example"),
                })
                .collect(),
            ..Default::default()
        };
        IncidentReport::from_wire(wire, &ReportLimits::default()).expect("valid")
    };
    let first = with_indicators("p-1", "first");
    let mut inc = open(ulid::Ulid::from_parts(1, 1), &paris, &first, 1);
    assert_eq!((inc.indicators.len(), inc.indicators_elided), (500, 0));
    let second = with_indicators("l-1", "second");
    merge(&mut inc, &lyon, &second, "shared rule", 2);
    let listed: usize = inc.indicators.iter().map(|i| i.value().len() + 2).sum();
    assert!(listed <= MAX_INDICATOR_BYTES, "{listed}");
    assert_eq!(inc.indicators.len() as u64 + inc.indicators_elided, 1000);
    assert!(first.indicators.iter().all(|i| inc.indicators.contains(i)));
    // The same report again adds nothing listed.
    let listed_before = inc.indicators.clone();
    merge(&mut inc, &paris, &first, "revision", 3);
    assert_eq!(inc.indicators, listed_before);
}
