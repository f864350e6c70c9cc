//! The key layouts' order and names, the index codes and the value codec's versions.

use super::*;

#[test]
fn keys_sort_numerically_and_sites_do_not_bleed_into_each_other() {
    let a = SiteId::parse("a").expect("valid");
    let ab = SiteId::parse("ab").expect("valid");
    let epoch = Ulid::from_parts(1, 1);
    assert!(escalation_key(&a, epoch, 2) < escalation_key(&a, epoch, 256));
    assert!(!escalation_key(&ab, epoch, 1).starts_with(&site_prefix(&a)));
}

#[test]
fn index_codes_are_distinct_and_severity_codes_ascend() {
    let statuses: std::collections::BTreeSet<u8> =
        IncidentStatus::ALL.into_iter().map(status_code).collect();
    assert_eq!(statuses.len(), IncidentStatus::ALL.len());
    let severities: Vec<u8> = Severity::ALL.into_iter().map(severity_code).collect();
    assert!(severities.windows(2).all(|w| w[0] < w[1]), "{severities:?}");
    let value = listing_value(IncidentStatus::Triage, Severity::High);
    assert_eq!(read_listing_value(&value), Some((1, 3)));
    assert_eq!(read_listing_value(&[]), None);
}

#[test]
fn meta_keys_keep_the_names_existing_stores_were_written_with() {
    // Renaming one would make every existing store look new or unindexed.
    let names = [
        SCHEMA_VERSION_KEY,
        ROSTER_KEEPERS,
        OPEN_DIRECTIVES_INDEXED,
        AUDIT_HEAD,
        AUDIT_KEYED_FROM,
        COMMITS,
        JOURNAL_APPLIED,
    ];
    assert_eq!(
        names,
        [
            "schema_version",
            "roster_keepers",
            "open_directives_indexed",
            "audit_head",
            "audit_keyed_from",
            "commits",
            "journal_applied"
        ]
    );
    let incident = Ulid::from_parts(1, 1);
    assert_eq!(&regulated_key(incident)[..10], b"regulated/");
    assert_eq!(&regulated_key(incident)[10..], &incident.to_bytes());
    let site = SiteId::parse("a").expect("valid");
    assert!(
        site_incidents_below(&site, None) > site_incident_key(&site, Ulid::from_bytes([0xff; 16]))
    );
    assert!(site_incidents_below(&site, Some(incident)) == site_incident_key(&site, incident));
}

#[test]
fn unknown_record_versions_are_errors() {
    let bytes = encode(TreeId::Hunts, &42u64).expect("encodes");
    assert_eq!(bytes[0], RECORD_VERSION);
    assert_eq!(decode::<u64>(TreeId::Hunts, &bytes).ok(), Some(42));
    let mut future = bytes.clone();
    future[0] = 9;
    assert!(matches!(
        decode::<u64>(TreeId::Hunts, &future),
        Err(CodecError::Version {
            tree: "hunts",
            found: 9
        })
    ));
}

#[test]
fn the_tree_registry_names_every_tree_once_with_its_record_version() {
    let names: std::collections::BTreeSet<&str> = TreeId::ALL.iter().map(|t| t.name()).collect();
    assert_eq!(names.len(), TreeId::ALL.len());
    assert!(TreeId::ALL.iter().enumerate().all(|(i, t)| t.index() == i));
    assert_eq!(
        TreeId::by_name("site_state_log"),
        Some(TreeId::SiteStateLog)
    );
    assert_eq!(
        TreeId::Incidents.codec(),
        Codec::new("incidents", INCIDENT_RECORD_VERSION)
    );
    assert_eq!(
        TreeId::Escalations.codec(),
        Codec::new("escalations", ESCALATION_RECORD_VERSION)
    );
    assert_eq!(TreeId::Meta.codec(), Codec::new("meta", RECORD_VERSION));
    assert_eq!(
        key_length(META, 3).to_string(),
        "tree meta: key of unexpected length 3"
    );
}

/// A damaged run reaching past u64::MAX is refused at decoding, and one ending at u64::MAX
/// is walked without overflow: the hub opens (marks rebuild walks every run) and never
/// panics on what its disk holds.
#[test]
fn a_run_reaching_the_last_sequence_is_walked_and_one_past_it_refused() {
    use crate::store::records::{EscalationRecord, EscalationRun};
    let record = EscalationRecord {
        content_hash: [0; 32],
        received_at_ms: 1,
        enqueued_at_ms: 1,
        hub_incident: None,
        journal: 0,
    };
    let site = SiteId::parse("a").expect("valid");
    let epoch = Ulid::from_parts(1, 1);
    let key = escalation_key(&site, epoch, u64::MAX);
    let at_end = EscalationRun {
        first: u64::MAX,
        records: vec![record.clone()],
    };
    let run = decode_escalation_run_at(&key, &encode_escalation_run(&at_end).expect("encoded"))
        .expect("a run ending at the last sequence is valid");
    assert_eq!(
        run.iter().map(|(seq, _)| seq).collect::<Vec<_>>(),
        [u64::MAX]
    );
    let past_end = EscalationRun {
        first: u64::MAX,
        records: vec![record.clone(), record],
    };
    let bytes = encode_escalation_run(&past_end).expect("encoded");
    assert!(decode_escalation_run_at(&key, &bytes).is_err());
    assert_eq!(past_end.iter().count(), 2, "walked without a panic");
}
