use super::*;
use crate::intel::IocSet;
use serde_json::json;
use socfed_proto::vocab::{Indicator, IndicatorKind, Technique, Tlp};

fn ind(kind: IndicatorKind, v: &str) -> Indicator {
    Indicator::new(kind, v).expect("valid test indicator")
}

fn values(set: &IocSet) -> Vec<String> {
    set.entries
        .iter()
        .map(|e| e.indicator.to_string())
        .collect()
}

fn stix(objects: serde_json::Value) -> IocSet {
    let bundle = json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objects});
    stix_bundle(bundle.to_string().as_bytes()).expect("a bundle")
}

fn indicator(id: &str, pattern: &str) -> serde_json::Value {
    json!({
        "type": "indicator", "spec_version": "2.1", "id": id,
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "name": "C2 beacon", "description": "seen\nat two sites",
        "pattern": pattern, "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],
        "external_references": [{"source_name": "mitre-attack", "external_id": "T1071"}],
        "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "command-and-control"}],
    })
}

#[test]
fn stix_indicators_become_typed_indicators_with_name_techniques_and_tlp() {
    let set = stix(json!([
        indicator("indicator--1", "[ipv4-addr:value = '198.51.100.7' OR domain-name:value = 'C2.Evil.Example']"),
        indicator("indicator--2", &format!("[file:hashes.'SHA-256' = '{}']", "A".repeat(64))),
        {"type": "attack-pattern", "id": "attack-pattern--9", "name": "Scripting",
         "external_references": [{"source_name": "mitre-attack", "external_id": "T1059.001"}]},
        {"type": "relationship", "id": "relationship--1", "relationship_type": "indicates",
         "source_ref": "indicator--2", "target_ref": "attack-pattern--9"},
        {"type": "vulnerability", "id": "vulnerability--1", "name": "CVE-2024-3400"},
        {"type": "identity", "id": "identity--1", "name": "x"},
    ]));
    assert_eq!(
        values(&set),
        [
            "ipv4:198.51.100.7".to_string(),
            "domain:c2.evil.example".into(),
            format!("sha256:{}", "a".repeat(64)),
            "cve:CVE-2024-3400".into(),
        ]
    );
    let first = &set.entries[0];
    assert_eq!(first.name, "C2 beacon");
    assert_eq!(first.description, "seen\nat two sites");
    assert_eq!(first.tlp, Some(Tlp::Green));
    assert!(first.to_ids);
    assert_eq!(
        first.techniques,
        [Technique::parse("T1071").expect("valid")]
    );
    let hash = &set.entries[2];
    assert_eq!(
        hash.techniques,
        [
            Technique::parse("T1059.001").expect("valid"),
            Technique::parse("T1071").expect("valid")
        ]
    );
    assert!(set.refused.is_empty(), "{:?}", set.refused);
    assert_eq!(set.context_objects.get("identity"), Some(&1));
    assert_eq!(set.context_objects.get("relationship"), Some(&1));
}

#[test]
fn each_stix_object_that_is_not_an_indicator_of_ours_is_refused_with_its_reason() {
    let mut yara = indicator("indicator--y", "rule x {}");
    yara["pattern_type"] = json!("yara");
    let mut revoked = indicator("indicator--r", "[ipv4-addr:value = '1.2.3.4']");
    revoked["revoked"] = json!(true);
    let set = stix(json!([
        yara,
        revoked,
        indicator("indicator--a", "[ipv4-addr:value = '1.2.3.4' AND url:value = 'http://a.example/']"),
        indicator("indicator--u", "[user-account:user_id = 'root' OR ipv4-addr:value = '203.0.113.5']"),
        indicator("indicator--l", &format!("[url:value = '{}']", "a".repeat(5000))),
        {"type": "vulnerability", "id": "vulnerability--x", "name": "a bug"},
        {"id": "x--1"},
    ]));
    assert_eq!(values(&set), ["ipv4:203.0.113.5"]);
    let reasons: Vec<(&str, &str)> = set
        .refused
        .iter()
        .map(|r| (r.object.as_str(), r.reason.as_str()))
        .collect();
    let expect = [
        ("indicator--y", "yara"),
        ("indicator--r", "revoked"),
        ("indicator--a", "AND"),
        ("indicator--u", "vocabulary"),
        ("indicator--l", "longer than"),
        ("vulnerability--x", "CVE"),
        ("x--1", "no type"),
    ];
    assert_eq!(reasons.len(), expect.len(), "{reasons:?}");
    for ((object, reason), (want_object, says)) in reasons.iter().zip(expect) {
        assert_eq!(*object, want_object);
        assert!(reason.contains(says), "{object}: {reason}");
    }
}

#[test]
fn a_file_that_is_not_a_bundle_or_is_too_big_is_refused_whole() {
    let limits = ImportLimits {
        max_bytes: 100,
        max_objects: 2,
        max_pattern_chars: 10,
    };
    assert!(matches!(
        stix_bundle_within(&[b' '; 101], &limits),
        Err(ImportError::TooLarge { .. })
    ));
    assert!(matches!(stix_bundle(b"{"), Err(ImportError::NotJson(_))));
    assert!(matches!(
        stix_bundle(br#"{"type":"x"}"#),
        Err(ImportError::NotTheFormat { .. })
    ));
    let three = br#"{"type":"bundle","objects":[{},{},{}]}"#;
    assert!(matches!(
        stix_bundle_within(three, &limits),
        Err(ImportError::TooManyObjects { got: 3, max: 2 })
    ));
    assert!(matches!(
        misp_event(b"[1]"),
        Err(ImportError::NotTheFormat { .. })
    ));
    let deep = "[".repeat(10_000);
    assert!(matches!(
        stix_bundle(deep.as_bytes()),
        Err(ImportError::NotJson(_))
    ));
}

fn misp(event: serde_json::Value) -> IocSet {
    misp_event(json!({ "Event": event }).to_string().as_bytes()).expect("an event")
}

#[test]
fn misp_attributes_become_typed_indicators_with_to_ids_techniques_and_tlp() {
    let sha = "b".repeat(64);
    let set = misp(json!({
        "info": "Phishing wave",
        "Tag": [{"name": "tlp:amber"}, {"name": "misp-galaxy:mitre-attack-pattern=\"Phishing - T1566\""}],
        "Attribute": [
            {"type": "ip-dst", "value": "198.51.100.9", "to_ids": true, "uuid": "u1", "comment": "C2"},
            {"type": "domain|ip", "value": "Evil.Example|203.0.113.4", "to_ids": "0"},
            {"type": "filename|sha256", "value": format!("a.exe|{sha}"), "to_ids": true,
             "Tag": [{"name": "tlp:red"}]},
            {"type": "email-src", "value": "Boss@Evil.Example", "to_ids": 1},
            {"type": "vulnerability", "value": "cve-2024-3400"},
            {"type": "ip-src|port", "value": "2001:db8::7|443"},
        ],
        "Object": [{"name": "file", "Attribute": [{"type": "md5", "value": "C".repeat(32)}],
                    "Galaxy": []}],
        "Galaxy": [{"GalaxyCluster": [{"tag_name": "x", "meta": {"external_id": ["T1204.002"]}}]}],
    }));
    assert_eq!(
        values(&set),
        [
            "ipv4:198.51.100.9".to_string(),
            "domain:evil.example".into(),
            "ipv4:203.0.113.4".into(),
            format!("sha256:{sha}"),
            "email:boss@evil.example".into(),
            "cve:CVE-2024-3400".into(),
            "ipv6:2001:db8::7".into(),
            format!("md5:{}", "c".repeat(32)),
        ]
    );
    assert_eq!(set.name, "Phishing wave");
    let first = &set.entries[0];
    assert!(first.to_ids);
    assert_eq!(first.name, "C2");
    assert_eq!(first.tlp, Some(Tlp::Amber));
    assert_eq!(
        first.techniques,
        [
            Technique::parse("T1204.002").expect("valid"),
            Technique::parse("T1566").expect("valid")
        ]
    );
    assert_eq!(set.entries[1].name, "Phishing wave");
    assert!(!set.entries[1].to_ids);
    assert_eq!(set.entries[3].tlp, Some(Tlp::Red));
    assert!(set.entries[4].to_ids);
    assert!(set.refused.is_empty(), "{:?}", set.refused);
}

#[test]
fn misp_attributes_outside_the_vocabulary_are_refused_with_their_reason() {
    let set = misp(json!({
        "info": "x",
        "Attribute": [
            {"type": "regkey", "value": "HKLM\\Run", "uuid": "u-reg"},
            {"type": "ip-dst", "value": "999.1.1.1"},
            {"type": "domain", "value": "gone.example", "deleted": true},
            {"type": "url", "value": "http://ok.example/\u{1b}[2J"},
        ],
    }));
    assert!(set.entries.is_empty(), "{:?}", set.entries);
    let reasons: Vec<String> = set
        .refused
        .iter()
        .map(|r| format!("{} {}", r.object, r.reason))
        .collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(reasons[0].contains("Attribute[0] u-reg") && reasons[0].contains("regkey"));
    assert!(reasons[1].contains("not an IP address"));
    assert!(reasons[2].contains("deleted"));
    assert!(reasons[3].starts_with("Attribute[3]"));
    let _ = ind(IndicatorKind::Url, "http://ok.example/");
}

proptest::proptest! {
    #[test]
    fn hostile_json_never_panics(pattern in "\\PC{0,200}", kind in "[a-z|-]{0,20}", value in "\\PC{0,80}") {
        crate::intel::fuzzing::stix_bundle(
            json!({"type": "bundle", "objects": [{"type": "indicator", "id": value, "pattern_type": "stix", "pattern": pattern, "name": value}]})
                .to_string().as_bytes(),
        );
        crate::intel::fuzzing::misp_event(
            json!({"Event": {"info": value, "Attribute": [{"type": kind, "value": value, "comment": pattern}]}})
                .to_string().as_bytes(),
        );
    }
}

#[test]
fn a_stix_2_0_indicator_and_a_misp_api_answer_are_read_too() {
    let mut old = indicator("indicator--20", "[domain-name:value = 'old.example']");
    old.as_object_mut().map(|o| o.remove("pattern_type"));
    assert_eq!(values(&stix(json!([old]))), ["domain:old.example"]);
    let answer = json!({"response": [{"Event": {"info": "x", "Attribute": [{"type": "ip-src", "value": "192.0.2.1"}]}}]});
    let set = misp_event(answer.to_string().as_bytes()).expect("an event");
    assert_eq!(values(&set), ["ipv4:192.0.2.1"]);
}
