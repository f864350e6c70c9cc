//! STIX 2.1 bundles: a hub incident (an `identity` for the SIRT and one per site, the
//! `incident`, an `indicator` per indicator with its pattern (a CVE as a `vulnerability`),
//! `related-to` relationships, per site an `observed-data` with its SCOs and a `sighting`
//! per indicator, a `note` per work-log note, the TLP marking definitions used), and an IOC
//! set.
//!
//! Ids are UUIDv5, stable across re-exports: SDOs and SROs from a namespace of the hub's own
//! (the incident id and the value as the name), SCOs as STIX 2.1 prescribes (its SCO
//! namespace, the id-contributing properties as canonical JSON).

use super::{ExportInput, Producer, rfc3339};
use crate::intel::{IocEntry, pattern, tlp};
use serde_json::{Value, json};
use socfed_proto::vocab::{Indicator, IndicatorKind, Technique, Tlp};
use uuid::Uuid;

/// The namespace of the hub's SDO and SRO ids (a fixed random UUID: ids from other tools
/// never collide with ours).
const SOCFED_NAMESPACE: Uuid = Uuid::from_u128(0x6c0f_4d1e_8a9b_4b7e_9d2a_51c3_e0f4_a7b2);
/// STIX 2.1's namespace for deterministic SCO ids (specification, section 2.9).
const SCO_NAMESPACE: Uuid = Uuid::from_u128(0x00ab_edb4_aa42_466c_9c01_fed2_3315_a9b7);

fn sdo_id(kind: &str, name: &str) -> String {
    format!(
        "{kind}--{}",
        Uuid::new_v5(&SOCFED_NAMESPACE, format!("{kind}|{name}").as_bytes())
    )
}

/// An SCO for `i` (none for a CVE, which is not an observable): its id and object.
fn sco(i: &Indicator) -> Option<(String, Value)> {
    let (kind, contributing) = match i.kind() {
        IndicatorKind::Ipv4 => ("ipv4-addr", json!({"value": i.value()})),
        IndicatorKind::Ipv6 => ("ipv6-addr", json!({"value": i.value()})),
        IndicatorKind::Domain => ("domain-name", json!({"value": i.value()})),
        IndicatorKind::Url => ("url", json!({"value": i.value()})),
        IndicatorKind::Email => ("email-addr", json!({"value": i.value()})),
        IndicatorKind::Md5 => ("file", json!({"hashes": {"MD5": i.value()}})),
        IndicatorKind::Sha1 => ("file", json!({"hashes": {"SHA-1": i.value()}})),
        IndicatorKind::Sha256 => ("file", json!({"hashes": {"SHA-256": i.value()}})),
        IndicatorKind::Cve => return None,
    };
    // serde_json writes object keys sorted and without spaces: the canonical form here.
    let id = format!(
        "{kind}--{}",
        Uuid::new_v5(&SCO_NAMESPACE, contributing.to_string().as_bytes())
    );
    let mut object = contributing;
    object["type"] = json!(kind);
    object["spec_version"] = json!("2.1");
    object["id"] = json!(id);
    Some((id, object))
}

fn attack_references(techniques: &[Technique]) -> Vec<Value> {
    techniques
        .iter()
        .map(|t| {
            // No URL: the validator asks a hash of any URL given, and the id names the page.
            json!({"source_name": "mitre-attack", "external_id": t.as_str()})
        })
        .collect()
}

/// Common properties of an SDO or SRO made by `by`.
fn base(kind: &str, id: &str, created: &str, modified: &str, marking: Tlp, by: &str) -> Value {
    json!({
        "type": kind,
        "spec_version": "2.1",
        "id": id,
        "created": created,
        "modified": modified,
        "created_by_ref": by,
        "object_marking_refs": tlp::stix_marking_refs(marking),
    })
}

/// An indicator (or, for a CVE, a vulnerability) object for `i`, under `scope`.
#[allow(clippy::too_many_arguments)]
fn indicator_object(
    scope: &str,
    i: &Indicator,
    name: &str,
    description: &str,
    techniques: &[Technique],
    marking: Tlp,
    created: &str,
    by: &str,
) -> Value {
    let key = format!("{scope}|{i}");
    let Some(p) = pattern::for_indicator(i) else {
        let mut v = base(
            "vulnerability",
            &sdo_id("vulnerability", &key),
            created,
            created,
            marking,
            by,
        );
        v["name"] = json!(i.value());
        let mut refs = vec![json!({"source_name": "cve", "external_id": i.value()})];
        refs.extend(attack_references(techniques));
        v["external_references"] = json!(refs);
        if !description.is_empty() {
            v["description"] = json!(description);
        }
        return v;
    };
    let mut v = base(
        "indicator",
        &sdo_id("indicator", &key),
        created,
        created,
        marking,
        by,
    );
    v["name"] = json!(if name.is_empty() {
        i.to_string()
    } else {
        name.to_string()
    });
    if !description.is_empty() {
        v["description"] = json!(description);
    }
    v["indicator_types"] = json!(["malicious-activity"]);
    v["pattern"] = json!(p);
    v["pattern_type"] = json!("stix");
    v["pattern_version"] = json!("2.1");
    v["valid_from"] = json!(created);
    if !techniques.is_empty() {
        v["external_references"] = json!(attack_references(techniques));
    }
    v
}

fn identity(id: &str, name: &str, class: &str, created: &str, marking: Tlp) -> Value {
    json!({
        "type": "identity",
        "spec_version": "2.1",
        "id": id,
        "created": created,
        "modified": created,
        "name": name,
        "identity_class": class,
        "object_marking_refs": tlp::stix_marking_refs(marking),
    })
}

fn bundle(scope: &str, mut objects: Vec<Value>, markings: Vec<Tlp>) -> Value {
    objects.extend(tlp::stix_marking_objects(markings));
    json!({
        "type": "bundle",
        "id": sdo_id("bundle", scope),
        "objects": objects,
    })
}

/// A hub incident (already redacted) as a STIX 2.1 bundle.
pub(super) fn incident_bundle(input: &ExportInput, producer: &Producer) -> Value {
    let scope = format!("incident|{}", input.id);
    let created = rfc3339(input.created_at_ms);
    let modified = rfc3339(input.updated_at_ms);
    let marking = input.tlp;
    let sirt = sdo_id("identity", &format!("sirt|{}", producer.name));
    let incident_id = sdo_id("incident", &scope);
    let mut objects = vec![identity(
        &sirt,
        &producer.name,
        "organization",
        &created,
        marking,
    )];
    let mut markings = vec![marking];

    let mut incident = base(
        "incident",
        &incident_id,
        &created,
        &modified,
        marking,
        &sirt,
    );
    incident["name"] = json!(input.title);
    incident["description"] = json!(format!(
        "{} severity, phase {}{}{}",
        input.severity,
        input.status,
        if input.priority.is_empty() {
            String::new()
        } else {
            format!(", priority {}", input.priority)
        },
        if input.resolution.is_empty() {
            String::new()
        } else {
            format!(", {}", input.resolution)
        },
    ));
    let mut refs = vec![json!({"source_name": "socfed", "external_id": input.id})];
    refs.extend(attack_references(&input.techniques));
    incident["external_references"] = json!(refs);
    objects.push(incident);

    let mut indicator_ids = Vec::new();
    // An SCO observed at several sites is one object, referred to by each observed-data.
    let mut emitted_scos: Vec<String> = Vec::new();
    for m in &input.indicators {
        let object = indicator_object(
            &scope,
            &m.indicator,
            "",
            &format!("{} in incident {}", m.indicator.kind().as_str(), input.id),
            &input.techniques,
            m.tlp,
            &created,
            &sirt,
        );
        let id = object["id"].as_str().unwrap_or_default().to_string();
        markings.push(m.tlp);
        let mut rel = base(
            "relationship",
            &sdo_id("relationship", &format!("{scope}|{id}")),
            &created,
            &created,
            m.tlp,
            &sirt,
        );
        rel["relationship_type"] = json!("related-to");
        rel["source_ref"] = json!(id);
        rel["target_ref"] = json!(incident_id);
        objects.push(object);
        objects.push(rel);
        indicator_ids.push((m.indicator.clone(), id, m.tlp));
    }

    for s in &input.sites {
        let site_id = sdo_id("identity", &format!("{scope}|site|{}", s.site));
        objects.push(identity(
            &site_id,
            &s.site,
            "organization",
            &created,
            marking,
        ));
        let seen: Vec<&(Indicator, String, Tlp)> = indicator_ids
            .iter()
            .filter(|(i, _, _)| s.indicators.contains(i))
            .collect();
        let mut scos = Vec::new();
        for (i, _, _) in &seen {
            if let Some((id, object)) = sco(i)
                && !scos.iter().any(|(have, _)| *have == id)
            {
                scos.push((id, object));
            }
        }
        let first = rfc3339(s.first_seen_ms);
        let last = rfc3339(s.last_seen_ms);
        let observed_id = sdo_id("observed-data", &format!("{scope}|{}", s.site));
        if !scos.is_empty() {
            let mut od = base(
                "observed-data",
                &observed_id,
                &created,
                &modified,
                marking,
                &site_id,
            );
            od["first_observed"] = json!(first);
            od["last_observed"] = json!(last);
            od["number_observed"] = json!(s.count.clamp(1, 999_999_999));
            od["object_refs"] = json!(scos.iter().map(|(id, _)| id).collect::<Vec<_>>());
            objects.push(od);
            for (id, object) in scos {
                if !emitted_scos.contains(&id) {
                    emitted_scos.push(id);
                    objects.push(object);
                }
            }
        }
        for (i, id, item_tlp) in seen {
            let mut sighting = base(
                "sighting",
                &sdo_id("sighting", &format!("{scope}|{}|{i}", s.site)),
                &created,
                &modified,
                *item_tlp,
                &sirt,
            );
            sighting["sighting_of_ref"] = json!(id);
            sighting["where_sighted_refs"] = json!([site_id]);
            sighting["first_seen"] = json!(first);
            sighting["last_seen"] = json!(last);
            sighting["count"] = json!(s.count.clamp(1, 999_999_999));
            if sco(i).is_some() {
                sighting["observed_data_refs"] = json!([observed_id]);
            }
            objects.push(sighting);
        }
    }
    for (n, note) in input.notes.iter().enumerate() {
        let at = rfc3339(note.at_ms);
        let mut o = base(
            "note",
            &sdo_id("note", &format!("{scope}|{n}|{}", note.at_ms)),
            &at,
            &at,
            note.tlp,
            &sirt,
        );
        o["authors"] = json!([note.author]);
        o["content"] = json!(note.text);
        o["object_refs"] = json!([incident_id]);
        markings.push(note.tlp);
        objects.push(o);
    }
    bundle(&scope, objects, markings)
}

/// An IOC set as a STIX 2.1 bundle: an indicator per entry (a CVE as a vulnerability) with its
/// name, description, techniques and marking (entries without one are marked `default_tlp`),
/// made by `producer`. `scope` names the set (the hunt library's id) so ids are stable.
pub fn ioc_set_bundle(
    scope: &str,
    entries: &[IocEntry],
    default_tlp: Tlp,
    created_at_ms: i64,
    producer: &Producer,
) -> Value {
    let scope = format!("ioc-set|{scope}");
    let created = rfc3339(created_at_ms);
    let sirt = sdo_id("identity", &format!("sirt|{}", producer.name));
    let mut objects = vec![identity(
        &sirt,
        &producer.name,
        "organization",
        &created,
        Tlp::Clear,
    )];
    let mut markings = vec![Tlp::Clear];
    for e in entries {
        let marking = e.tlp.unwrap_or(default_tlp);
        markings.push(marking);
        objects.push(indicator_object(
            &scope,
            &e.indicator,
            &e.name,
            &e.description,
            &e.techniques,
            marking,
            &created,
            &sirt,
        ));
    }
    bundle(&scope, objects, markings)
}
