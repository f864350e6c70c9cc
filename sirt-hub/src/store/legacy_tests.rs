//! Records as older builds wrote them read as the current ones.

use super::*;
use crate::store::schema;
use socfed_proto::pb;
use socfed_proto::vocab::{LocalStatus, ReportLimits};

fn technique(t: &str) -> Technique {
    Technique::parse(t).expect("valid")
}

fn sighting(ids: &[&str]) -> SightingV2 {
    SightingV2 {
        site: SiteId::parse("paris").expect("valid"),
        local_incident_ids: ids.iter().map(|s| s.to_string()).collect(),
        revision: 4,
        local_severity: Severity::High,
        local_owner: "ann".into(),
        first_seen_ms: 5,
        last_seen_ms: 9,
        joined_because: "opened the incident".into(),
    }
}

fn with_version(version: u8, value: &impl Serialize) -> Vec<u8> {
    let mut bytes = vec![version];
    bytes.extend(postcard::to_allocvec(value).expect("encodes"));
    bytes
}

#[test]
fn a_version_1_incident_reads_with_the_sites_and_operators_techniques_together() {
    let mut lifecycle = crate::lifecycle::IncidentLifecycle::new(Severity::High, Tlp::Red, 5);
    lifecycle.techniques = vec![technique("T1190")];
    let old = IncidentRecordV1 {
        id: Ulid::from_parts(5, 1),
        title: "old".into(),
        status: IncidentStatus::New,
        severity: Severity::High,
        tlp: Tlp::Red,
        techniques: vec![technique("T1071"), technique("T1190")],
        indicators: Vec::new(),
        sightings: vec![sighting(&["p-1"])],
        created_at_ms: 5,
        updated_at_ms: 5,
        lifecycle,
        timeline: Vec::new(),
        regulatory: crate::regulatory::RegulatoryClocks::new(),
        fingerprints: Vec::new(),
    };
    let record = schema::decode_incident(&with_version(1, &old)).expect("upgraded");
    assert_eq!(
        record.techniques(),
        [technique("T1071"), technique("T1190")]
    );
    assert_eq!(
        (record.severity(), record.tlp()),
        (Severity::High, Tlp::Red)
    );
    assert_eq!(record.sightings[0].local_incident_ids(), vec!["p-1"]);
    let again = schema::encode_incident(&record).expect("encodes");
    assert_eq!(again[0], schema::INCIDENT_RECORD_VERSION);
    assert_eq!(schema::decode_incident(&again).expect("reads"), record);
}

#[test]
fn a_version_2_incident_gives_each_local_incident_the_sites_owner_and_no_status() {
    let old = IncidentRecordV2 {
        id: Ulid::from_parts(5, 2),
        title: "old".into(),
        indicators: Vec::new(),
        sightings: vec![sighting(&["p-1", "p-2"])],
        created_at_ms: 5,
        updated_at_ms: 9,
        lifecycle: crate::lifecycle::IncidentLifecycle::new(Severity::High, Tlp::Amber, 5),
        timeline: Vec::new(),
        timeline_elided: 3,
        regulatory: crate::regulatory::RegulatoryClocks::new(),
        fingerprints: vec![[1; 32]],
    };
    let record = schema::decode_incident(&with_version(2, &old)).expect("upgraded");
    let s = &record.sightings[0];
    assert_eq!(s.local_incident_ids(), vec!["p-1", "p-2"]);
    assert!(
        s.locals
            .iter()
            .all(|l| l.owner == "ann" && l.revision == 4 && l.status.is_none()),
        "{s:?}"
    );
    assert_eq!((s.revision(), s.local_owner()), (4, "ann"));
    assert_eq!(record.timeline_elided, 3);
    assert_eq!(record.fingerprints, vec![[1; 32]]);
}

#[test]
fn a_version_3_incident_reads_with_no_indicator_dropped() {
    let old = IncidentRecordV3 {
        id: Ulid::from_parts(5, 3),
        title: "old".into(),
        indicators: Vec::new(),
        sightings: vec![sighting(&["p-1"]).upgrade()],
        created_at_ms: 5,
        updated_at_ms: 9,
        lifecycle: crate::lifecycle::IncidentLifecycle::new(Severity::High, Tlp::Amber, 5),
        timeline: Vec::new(),
        timeline_elided: 2,
        regulatory: crate::regulatory::RegulatoryClocks::new(),
        fingerprints: vec![[3; 32]],
    };
    let record = schema::decode_incident(&with_version(3, &old)).expect("upgraded");
    assert_eq!(record.indicators_elided, 0);
    assert_eq!(record.sightings, old.sightings);
    assert_eq!(
        (record.timeline_elided, record.fingerprints.clone()),
        (2, vec![[3; 32]])
    );
    let again = schema::encode_incident(&record).expect("encodes");
    assert_eq!(again[0], 4);
    assert_eq!(schema::decode_incident(&again).expect("reads"), record);
}

#[test]
fn a_version_1_escalation_reads_with_no_local_status_the_same_hash_and_compacts() {
    let wire = pb::IncidentReport {
        local_incident_id: "p-1".into(),
        revision: 2,
        title: "beacon".into(),
        severity: pb::Severity::High as i32,
        local_owner: "ann".into(),
        ..Default::default()
    };
    let report = IncidentReport::from_wire(wire, &ReportLimits::default()).expect("valid");
    let old = EscalationRecordV1 {
        content_hash: report.content_hash(),
        received_at_ms: 7,
        enqueued_at_ms: 6,
        hub_incident: Some(Ulid::from_parts(7, 7)),
        report: Some(IncidentReportV1 {
            local_incident_id: report.local_incident_id.clone(),
            revision: report.revision,
            title: report.title.clone(),
            description: report.description.clone(),
            severity: report.severity,
            tlp: report.tlp,
            rule_id: report.rule_id.clone(),
            techniques: report.techniques.clone(),
            indicators: report.indicators.clone(),
            observed_at_ms: report.observed_at_ms,
            local_owner: report.local_owner.clone(),
        }),
    };
    let record = escalation_before_journal(&with_version(1, &old)).expect("upgraded");
    let upgraded = record.report.clone().expect("a report");
    assert_eq!(upgraded, report);
    assert_eq!(record.content_hash, upgraded.content_hash());
    let mut contained = upgraded;
    contained.local_status = Some(LocalStatus::Contained);
    assert_ne!(contained.content_hash(), record.content_hash);
    // Moved into the journal, the record keeps everything but the report.
    let compact = record.record(42);
    let run = crate::store::records::EscalationRun {
        first: 1,
        records: vec![compact.clone()],
    };
    let again = schema::encode_escalation_run(&run).expect("encodes");
    assert_eq!(again[0], schema::ESCALATION_RECORD_VERSION);
    assert_eq!(schema::decode_escalation_run(&again).expect("reads"), run);
    assert_eq!(
        (compact.journal, compact.hub_incident),
        (42, old.hub_incident)
    );
}
