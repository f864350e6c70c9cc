//! A hub incident as an OCSF 1.3.0 Incident Finding (class_uid 2005, category_uid 2
//! Findings). Every attribute 1.3.0 requires of the class is written (activity_id,
//! category_uid, class_uid, finding_info_list, metadata with product and version,
//! severity_id, status_id, time, type_uid, and one of assignee and assignee_group), with the
//! recommended ones the hub knows: desc, status, priority_id, verdict_id for a false
//! positive, assignee (the IR lead) and assignee_group (the SIRT), attacks,
//! observables (the indicators), start and end time, the work log's notes as `comment`. The TLP is the first of
//! `metadata.labels` (`TLP:AMBER`). One finding_info for the incident, one per site.

use super::{ExportInput, Producer};
use crate::comms::tlp_label;
use serde_json::{Value, json};
use socfed_proto::vocab::{IndicatorKind, Severity};

pub const OCSF_VERSION: &str = "1.3.0";

fn severity_id(s: Severity) -> u8 {
    match s {
        Severity::Informational => 1,
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    }
}

/// (status_id, status caption, activity_id, activity caption).
fn status(word: &str) -> (u8, &'static str, u8, &'static str) {
    match word {
        "new" => (1, "New", 1, "Create"),
        "closed" => (5, "Closed", 3, "Close"),
        "post-incident" => (4, "Resolved", 2, "Update"),
        _ => (2, "In Progress", 2, "Update"),
    }
}

fn priority_id(p: &str) -> u8 {
    match p {
        "P1" => 4,
        "P2" => 3,
        "P3" => 2,
        "P4" => 1,
        _ => 0,
    }
}

/// OCSF observable type ids (1.3.0 `observable.type_id`).
fn observable_type(kind: IndicatorKind) -> u8 {
    match kind {
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => 2,
        IndicatorKind::Domain => 1,
        IndicatorKind::Url => 6,
        IndicatorKind::Email => 5,
        IndicatorKind::Md5 | IndicatorKind::Sha1 | IndicatorKind::Sha256 => 8,
        IndicatorKind::Cve => 18,
    }
}

pub(super) fn incident_finding(input: &ExportInput, producer: &Producer) -> Value {
    let (status_id, status_word, activity_id, activity_word) = status(&input.status);
    let techniques: Vec<Value> = input
        .techniques
        .iter()
        .map(|t| json!({"technique": {"uid": t.as_str(), "src_url": t.reference_url()}}))
        .collect();
    let mut findings = vec![json!({
        "uid": input.id,
        "title": input.title,
        "desc": format!("{} severity, phase {}", input.severity, input.status),
        "created_time": input.created_at_ms,
        "modified_time": input.updated_at_ms,
        "attacks": techniques,
    })];
    for s in &input.sites {
        findings.push(json!({
            "uid": format!("{}/{}", input.id, s.site),
            "title": format!("sighted at {}", s.site),
            "product_uid": s.site,
            "first_seen_time": s.first_seen_ms,
            "last_seen_time": s.last_seen_ms,
        }));
    }
    let observables: Vec<Value> = input
        .indicators
        .iter()
        .enumerate()
        .map(|(n, m)| {
            json!({
                "name": format!("indicators[{n}].{}", m.indicator.kind().as_str()),
                "type_id": observable_type(m.indicator.kind()),
                "value": m.indicator.value(),
            })
        })
        .collect();
    let start = input.sites.iter().map(|s| s.first_seen_ms).min();
    let end = input.sites.iter().map(|s| s.last_seen_ms).max();
    let mut out = json!({
        "class_uid": 2005,
        "class_name": "Incident Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "activity_id": activity_id,
        "activity_name": activity_word,
        "type_uid": 200_500 + u32::from(activity_id),
        "type_name": format!("Incident Finding: {activity_word}"),
        "time": input.updated_at_ms,
        "severity_id": severity_id(input.severity),
        "severity": input.severity.as_str(),
        "status_id": status_id,
        "status": status_word,
        "status_detail": input.status,
        "priority_id": priority_id(&input.priority),
        "desc": input.title,
        "finding_info_list": findings,
        "attacks": input.techniques.iter().map(|t| json!({"technique": {"uid": t.as_str()}})).collect::<Vec<_>>(),
        "observables": observables,
        "metadata": {
            "version": OCSF_VERSION,
            "uid": input.id,
            "labels": [tlp_label(input.tlp)],
            "product": {
                "name": "socfed sirt-hub",
                "vendor_name": "socfed",
                "version": producer.version,
            },
        },
    });
    if let (Some(start), Some(end)) = (start, end) {
        out["start_time"] = json!(start);
        out["end_time"] = json!(end);
    }
    // 1.3.0 asks at least one of assignee and assignee_group: the SIRT always handles it.
    out["assignee_group"] = json!({"name": producer.name});
    if let Some(lead) = &input.ir_lead {
        out["assignee"] = json!({"name": lead});
    }
    if !input.notes.is_empty() {
        // The work log as the finding's comment, one note a line, within OCSF's string bound.
        let log: String = input
            .notes
            .iter()
            .map(|n| format!("{} {}: {}", super::rfc3339(n.at_ms), n.author, n.text))
            .collect::<Vec<_>>()
            .join("\n");
        out["comment"] = json!(log.chars().take(60_000).collect::<String>());
    }
    if input.resolution == "false-positive" {
        out["verdict_id"] = json!(1);
        out["verdict"] = json!("False Positive");
    }
    out
}
