//! A library hunt from an imported file: what is taken, what is not and why, and the bounds.

use super::import::{Choices, Format, read};
use serde_json::json;
use socfed_proto::vocab::{Severity, Tlp};

fn choices(name: &str) -> Choices {
    Choices {
        name: name.into(),
        severity: Severity::High,
        interval_s: 3600,
        lookback_s: 86_400,
    }
}

fn stix_indicator(n: usize, pattern: &str, technique: &str) -> serde_json::Value {
    json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--00000000-0000-4000-8000-{n:012}"),
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "name": "C2 beacon\nsecond line", "pattern": pattern, "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "external_references": [{"source_name": "mitre-attack", "external_id": technique}],
    })
}

fn bundle(objects: Vec<serde_json::Value>) -> Vec<u8> {
    json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objects})
        .to_string()
        .into_bytes()
}

#[test]
fn a_stix_bundle_becomes_a_library_hunt_spec_with_every_indicator_and_technique() {
    let data = bundle(vec![
        stix_indicator(1, "[domain-name:value = 'evil.example']", "T1071"),
        stix_indicator(2, "[ipv4-addr:value = '198.51.100.7']", "T1105"),
    ]);
    let imported = read(&data, Format::Stix, choices("")).expect("imported");
    assert_eq!(imported.taken, 2);
    let spec = &imported.spec;
    assert_eq!(
        spec.name, "C2 beacon second line",
        "the source's name, one line"
    );
    assert_eq!(spec.techniques.len(), 2);
    assert_eq!(spec.severity, Severity::High);
    assert_eq!(spec.tlp, Tlp::Amber, "no marking: amber");
    let named = read(&data, Format::Stix, choices("Emotet")).expect("imported");
    assert_eq!(named.spec.name, "Emotet", "the operator's name first");
}

#[test]
fn misp_attributes_not_meant_for_detection_are_listed_not_hunted() {
    let event = json!({"Event": {"info": "Phishing wave", "Tag": [{"name": "tlp:green"}],
    "Attribute": [
        {"type": "domain", "value": "evil.example", "to_ids": true},
        {"type": "ip-dst", "value": "198.51.100.9", "to_ids": false},
    ]}});
    let imported = read(event.to_string().as_bytes(), Format::Misp, choices("")).expect("imported");
    assert_eq!(imported.taken, 1);
    assert_eq!(imported.spec.name, "Phishing wave");
    assert_eq!(imported.spec.tlp, Tlp::Green);
    assert_eq!(imported.not_taken.len(), 1, "{:?}", imported.not_taken);
    assert!(imported.not_taken[0].contains("to_ids"));
}

#[test]
fn files_that_cannot_make_a_library_hunt_are_refused_saying_why() {
    let many: Vec<_> = (0..101)
        .map(|n| {
            stix_indicator(
                n,
                &format!("[ipv4-addr:value = '10.0.{}.{}']", n / 250, n % 250 + 1),
                "T1071",
            )
        })
        .collect();
    let refused = read(&bundle(many), Format::Stix, choices("")).expect_err("too many");
    assert!(refused.0.contains("at most 100"), "{refused}");
    let none = read(&bundle(vec![]), Format::Stix, choices("")).expect_err("nothing");
    assert!(none.0.contains("no indicator"), "{none}");
    let garbage = read(b"not json", Format::Misp, choices("")).expect_err("not json");
    assert!(garbage.0.contains("MISP event"), "{garbage}");
    assert!(Format::parse("openioc").is_err());
}
