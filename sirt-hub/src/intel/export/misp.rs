//! A hub incident as a MISP event (`{"Event": {...}}`, MISP's core format): its title as
//! `info`, severity as `threat_level_id`, phase as `analysis`, a `tlp:` tag, ATT&CK galaxy
//! tags, one attribute per indicator (with `to_ids`, its own `tlp:` tag, and the sites that
//! sighted it with first and last seen as its comment), a `comment` attribute per note. Distribution "your
//! organisation only"; never published.

use super::{ExportInput, Producer, rfc3339};
use crate::intel::tlp;
use serde_json::{Value, json};
use socfed_proto::vocab::{IndicatorKind, Severity};
use uuid::Uuid;

/// The namespace of the event and attribute uuids (fixed: re-exports keep them).
const MISP_NAMESPACE: Uuid = Uuid::from_u128(0x2b7e_91c4_5d3a_4f60_8e1b_7a9c_d2f3_0e45);

fn uuid(name: &str) -> String {
    Uuid::new_v5(&MISP_NAMESPACE, name.as_bytes()).to_string()
}

/// (MISP type, category) for an indicator kind.
fn misp_type(kind: IndicatorKind) -> (&'static str, &'static str) {
    match kind {
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => ("ip-dst", "Network activity"),
        IndicatorKind::Domain => ("domain", "Network activity"),
        IndicatorKind::Url => ("url", "Network activity"),
        IndicatorKind::Email => ("email-src", "Payload delivery"),
        IndicatorKind::Md5 => ("md5", "Payload delivery"),
        IndicatorKind::Sha1 => ("sha1", "Payload delivery"),
        IndicatorKind::Sha256 => ("sha256", "Payload delivery"),
        IndicatorKind::Cve => ("vulnerability", "External analysis"),
    }
}

fn threat_level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "1",
        Severity::Medium => "2",
        Severity::Low => "3",
        Severity::Informational => "4",
    }
}

fn tag(name: String) -> Value {
    json!({ "name": name })
}

pub(super) fn event(input: &ExportInput, producer: &Producer) -> Value {
    let scope = format!("incident|{}", input.id);
    let seconds = |ms: i64| (ms.max(0) / 1000).to_string();
    let analysis = match input.status.as_str() {
        "new" => "0",
        "closed" | "post-incident" => "2",
        _ => "1",
    };
    let mut tags = vec![tag(tlp::misp_tag(input.tlp))];
    tags.extend(input.techniques.iter().map(|t| {
        tag(format!(
            "misp-galaxy:mitre-attack-pattern=\"{}\"",
            t.as_str()
        ))
    }));
    let mut attributes: Vec<Value> = input
        .indicators
        .iter()
        .map(|m| {
            let (kind, category) = misp_type(m.indicator.kind());
            let sites: Vec<&super::SiteSighting> = input
                .sites
                .iter()
                .filter(|s| s.indicators.contains(&m.indicator))
                .collect();
            // MISP's core format schema has no first/last seen on an attribute: the
            // sites' times go in the comment.
            let seen = match (
                sites.iter().map(|s| s.first_seen_ms).min(),
                sites.iter().map(|s| s.last_seen_ms).max(),
            ) {
                (Some(first), Some(last)) => {
                    format!(
                        ", first seen {}, last seen {}",
                        rfc3339(first),
                        rfc3339(last)
                    )
                }
                _ => String::new(),
            };
            json!({
                "uuid": uuid(&format!("{scope}|{}", m.indicator)),
                "type": kind,
                "category": category,
                "value": m.indicator.value(),
                "to_ids": m.indicator.kind() != IndicatorKind::Cve,
                "distribution": "5",
                "timestamp": seconds(input.updated_at_ms),
                "comment": format!(
                    "sighted at {}{seen}",
                    sites.iter().map(|s| s.site.as_str()).collect::<Vec<_>>().join(", ")
                ),
                "Tag": [tag(tlp::misp_tag(m.tlp))],
            })
        })
        .collect();
    // Each note of the work log as a `comment` attribute (not for detection).
    attributes.extend(input.notes.iter().enumerate().map(|(n, note)| {
        json!({
            "uuid": uuid(&format!("{scope}|note|{n}|{}", note.at_ms)),
            "type": "comment",
            "category": "Other",
            "value": note.text,
            "to_ids": false,
            "distribution": "5",
            "timestamp": seconds(note.at_ms),
            "comment": format!("note by {} at {}", note.author, rfc3339(note.at_ms)),
            "Tag": [tag(tlp::misp_tag(note.tlp))],
        })
    }));
    let date = rfc3339(input.created_at_ms);
    json!({
        "Event": {
            "uuid": uuid(&scope),
            "info": input.title,
            "date": &date[..10],
            "threat_level_id": threat_level(input.severity),
            "analysis": analysis,
            "distribution": "0",
            "published": false,
            "timestamp": seconds(input.updated_at_ms),
            "Orgc": { "name": producer.name, "uuid": uuid(&format!("org|{}", producer.name)) },
            "Tag": tags,
            "Attribute": attributes,
        }
    })
}
