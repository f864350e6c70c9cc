//! A STIX 2.1 bundle's indicators: each `indicator` object's STIX pattern split into its
//! OR-joined comparisons (`intel/pattern.rs`), one hub indicator each; `vulnerability`
//! objects named by a CVE id as CVE indicators. Techniques from the indicator's
//! `external_references` (source `mitre-attack`), from `kill_chain_phases` whose phase is a
//! technique id, and from `indicates` relationships to `attack-pattern` objects; TLP from
//! `object_marking_refs` (the predefined TLP ids, or marking definitions in the bundle).

use super::super::{IocEntry, IocSet, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, pattern};
use super::{ImportError, ImportLimits, parse, refusal, text};
use crate::intel::{clean_text, tidy_techniques, tlp};
use serde_json::Value;
use socfed_proto::vocab::{Indicator, IndicatorKind, Technique, Tlp};
use std::collections::HashMap;

pub(super) fn bundle(data: &[u8], limits: &ImportLimits) -> Result<IocSet, ImportError> {
    let root = parse(data, limits)?;
    let not = |problem: &str| ImportError::NotTheFormat {
        format: "STIX 2.1 bundle",
        problem: problem.into(),
    };
    if text(&root, "type") != "bundle" {
        return Err(not("its type is not \"bundle\""));
    }
    let objects = root
        .get("objects")
        .and_then(Value::as_array)
        .ok_or_else(|| not("it has no objects array"))?;
    if objects.len() > limits.max_objects {
        return Err(ImportError::TooManyObjects {
            got: objects.len(),
            max: limits.max_objects,
        });
    }
    let context = Context::read(objects);
    let mut set = IocSet::default();
    for (index, object) in objects.iter().enumerate() {
        let id = match text(object, "id") {
            "" => format!("objects[{index}]"),
            id => id.to_string(),
        };
        match text(object, "type") {
            "indicator" => indicator(object, &id, &context, limits, &mut set),
            "vulnerability" => vulnerability(object, &id, &context, &mut set),
            "" => set.refused.push(refusal(&id, "the object has no type")),
            other => {
                let other = clean_text(other, 64, false);
                *set.context_objects.entry(other).or_default() += 1;
            }
        }
    }
    Ok(set)
}

/// What other objects of the bundle say about indicators: marking definitions' TLP, attack
/// patterns' technique ids, and which attack patterns each indicator indicates.
struct Context<'a> {
    markings: HashMap<&'a str, Tlp>,
    patterns: HashMap<&'a str, Vec<Technique>>,
    indicates: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> Context<'a> {
    fn read(objects: &'a [Value]) -> Self {
        let mut c = Context {
            markings: HashMap::new(),
            patterns: HashMap::new(),
            indicates: HashMap::new(),
        };
        for o in objects {
            let id = text(o, "id");
            match text(o, "type") {
                "marking-definition" => {
                    if let Some(t) = tlp::from_stix_definition(o) {
                        c.markings.insert(id, t);
                    }
                }
                "attack-pattern" => {
                    c.patterns.insert(id, references(o));
                }
                "relationship" if text(o, "relationship_type") == "indicates" => {
                    c.indicates
                        .entry(text(o, "source_ref"))
                        .or_default()
                        .push(text(o, "target_ref"));
                }
                _ => {}
            }
        }
        c
    }

    fn tlp(&self, object: &Value) -> Option<Tlp> {
        strings(object, "object_marking_refs")
            .filter_map(|r| tlp::from_stix_ref(r).or_else(|| self.markings.get(r).copied()))
            .max()
    }

    fn techniques(&self, object: &Value, id: &str) -> Vec<Technique> {
        let mut t = references(object);
        for target in self.indicates.get(id).into_iter().flatten() {
            t.extend(self.patterns.get(target).into_iter().flatten().cloned());
        }
        tidy_techniques(t)
    }
}

fn strings<'a>(object: &'a Value, key: &str) -> impl Iterator<Item = &'a str> {
    object
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// Technique ids an object names: `external_references` from `mitre-attack`, and
/// `kill_chain_phases` of the `mitre-attack` chain whose phase is a technique id.
fn references(object: &Value) -> Vec<Technique> {
    let refs = object
        .get("external_references")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| text(r, "source_name").starts_with("mitre-"))
        .map(|r| text(r, "external_id"));
    let phases = object
        .get("kill_chain_phases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| text(p, "kill_chain_name").starts_with("mitre-"))
        .map(|p| text(p, "phase_name"));
    refs.chain(phases)
        .filter_map(|raw| Technique::parse(raw).ok())
        .collect()
}

fn entry(indicator: Indicator, object: &Value, id: &str, c: &Context) -> IocEntry {
    IocEntry {
        indicator,
        name: clean_text(text(object, "name"), MAX_NAME_CHARS, false),
        description: clean_text(text(object, "description"), MAX_DESCRIPTION_CHARS, true),
        techniques: c.techniques(object, id),
        tlp: c.tlp(object),
        to_ids: true,
        source_ref: clean_text(id, 120, false),
    }
}

fn indicator(object: &Value, id: &str, c: &Context, limits: &ImportLimits, set: &mut IocSet) {
    if object.get("revoked").and_then(Value::as_bool) == Some(true) {
        set.refused.push(refusal(id, "the indicator is revoked"));
        return;
    }
    // STIX 2.0 indicators have no pattern_type: their pattern is a STIX pattern.
    let kind = object
        .get("pattern_type")
        .map_or("stix", |k| k.as_str().unwrap_or(""));
    if kind != "stix" {
        set.refused.push(refusal(
            id,
            format!("pattern_type {kind:?} is not stix (only STIX patterns are read)"),
        ));
        return;
    }
    let p = text(object, "pattern");
    if p.chars().count() > limits.max_pattern_chars {
        set.refused.push(refusal(
            id,
            format!(
                "the pattern is longer than {} characters",
                limits.max_pattern_chars
            ),
        ));
        return;
    }
    let comparisons = match pattern::comparisons(p) {
        Ok(c) => c,
        Err(why) => {
            set.refused.push(refusal(id, format!("pattern: {why}")));
            return;
        }
    };
    for (path, value) in comparisons {
        match pattern::indicator(&path, &value) {
            Ok(i) => set.push(entry(i, object, id, c)),
            Err(why) => set.refused.push(refusal(id, why)),
        }
    }
}

/// A `vulnerability` named by its CVE id (its `name`, or an external reference from `cve`).
fn vulnerability(object: &Value, id: &str, c: &Context, set: &mut IocSet) {
    let named = std::iter::once(text(object, "name")).chain(
        object
            .get("external_references")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|r| text(r, "source_name") == "cve")
            .map(|r| text(r, "external_id")),
    );
    match named
        .filter_map(|n| Indicator::new(IndicatorKind::Cve, n).ok())
        .next()
    {
        Some(i) => set.push(entry(i, object, id, c)),
        None => set
            .refused
            .push(refusal(id, "the vulnerability names no CVE id")),
    }
}
