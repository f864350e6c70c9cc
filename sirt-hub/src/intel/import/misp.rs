//! A MISP event's attributes (the event's own and those of its objects) as hub indicators.
//! Types map onto the vocabulary (`ip-src`/`ip-dst` and their `|port` forms, `domain`,
//! `hostname`, `domain|ip` (both), `url`, `md5`/`sha1`/`sha256` and `filename|<hash>`,
//! `email-src`/`email-dst`/`email`, `vulnerability`); `to_ids` is kept; a deleted attribute
//! and any other type are refused with the reason. Techniques from galaxy tags
//! (`misp-galaxy:mitre-attack-pattern="Name - T1071"`) and galaxy clusters on the event and
//! the attribute; TLP from `tlp:` tags, the attribute's over the event's.

use super::super::{IocEntry, IocSet, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS};
use super::{ImportError, ImportLimits, parse, refusal, text};
use crate::intel::{clean_text, tidy_techniques, tlp};
use serde_json::Value;
use socfed_proto::vocab::{Indicator, IndicatorKind, Technique, Tlp};

pub(super) fn event(data: &[u8], limits: &ImportLimits) -> Result<IocSet, ImportError> {
    let root = parse(data, limits)?;
    // A MISP event file: `{"Event": …}`, the bare event, or an API answer
    // `{"response": [{"Event": …}]}` (its first event).
    let root = root
        .pointer("/response/0")
        .filter(|_| root.get("Event").is_none())
        .unwrap_or(&root);
    let event = root.get("Event").unwrap_or(root);
    let not = |problem: &str| ImportError::NotTheFormat {
        format: "MISP event",
        problem: problem.into(),
    };
    if !event.is_object() {
        return Err(not("it is not a JSON object"));
    }
    let own = array(event, "Attribute");
    let objects = array(event, "Object");
    if own.is_empty() && objects.is_empty() && event.get("info").is_none() {
        return Err(not("it has no info, Attribute or Object"));
    }
    let mut attributes: Vec<(String, &Value)> = own
        .iter()
        .enumerate()
        .map(|(i, a)| (format!("Attribute[{i}]"), a))
        .collect();
    for (o, object) in objects.iter().enumerate() {
        for (i, a) in array(object, "Attribute").iter().enumerate() {
            attributes.push((format!("Object[{o}].Attribute[{i}]"), a));
            if attributes.len() > limits.max_objects {
                break;
            }
        }
    }
    if attributes.len() > limits.max_objects {
        return Err(ImportError::TooManyObjects {
            got: attributes.len(),
            max: limits.max_objects,
        });
    }
    let info = clean_text(text(event, "info"), MAX_NAME_CHARS, false);
    let event_tags = Tags::of(event);
    let mut set = IocSet {
        name: info.clone(),
        ..IocSet::default()
    };
    if !objects.is_empty() {
        set.context_objects
            .insert("Object".into(), objects.len() as u64);
    }
    for (place, a) in attributes {
        let label = match text(a, "uuid") {
            "" => place,
            uuid => format!("{place} {uuid}"),
        };
        attribute(a, &label, &info, &event_tags, &mut set);
    }
    Ok(set)
}

fn array<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// What an event's or an attribute's tags and galaxies say: TLP and techniques.
struct Tags {
    tlp: Option<Tlp>,
    techniques: Vec<Technique>,
}

impl Tags {
    fn of(v: &Value) -> Self {
        let names = array(v, "Tag").iter().map(|t| text(t, "name"));
        let clusters = array(v, "Galaxy")
            .iter()
            .flat_map(|g| array(g, "GalaxyCluster"));
        let cluster_tags = clusters.clone().map(|c| text(c, "tag_name"));
        let cluster_ids = clusters
            .flat_map(|c| {
                c.pointer("/meta/external_id")
                    .and_then(Value::as_array)
                    .map_or(&[][..], Vec::as_slice)
            })
            .filter_map(Value::as_str)
            .filter_map(|id| Technique::parse(id).ok());
        let all: Vec<&str> = names.chain(cluster_tags).collect();
        Tags {
            tlp: all.iter().filter_map(|t| tlp::from_misp_tag(t)).max(),
            techniques: all
                .iter()
                .filter_map(|t| galaxy_technique(t))
                .chain(cluster_ids)
                .collect(),
        }
    }
}

/// `misp-galaxy:mitre-attack-pattern="Application Layer Protocol - T1071"` → T1071.
fn galaxy_technique(tag: &str) -> Option<Technique> {
    let rest = tag.strip_prefix("misp-galaxy:mitre-")?;
    let value = rest.split_once('=')?.1.trim_matches('"');
    Technique::parse(value.rsplit(" - ").next()?).ok()
}

fn to_ids(a: &Value) -> bool {
    match a.get("to_ids") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "1" || s.eq_ignore_ascii_case("true"),
        Some(Value::Number(n)) => n.as_u64() == Some(1),
        _ => false,
    }
}

/// The (kind, value) pairs an attribute of `kind` with `value` holds, or why none.
fn values(kind: &str, value: &str) -> Result<Vec<(IndicatorKind, String)>, String> {
    let first = |v: &str| v.split('|').next().unwrap_or("").to_string();
    let last = |v: &str| v.rsplit('|').next().unwrap_or("").to_string();
    let hash = |k: &str| match k {
        "md5" => Some(IndicatorKind::Md5),
        "sha1" => Some(IndicatorKind::Sha1),
        "sha256" => Some(IndicatorKind::Sha256),
        _ => None,
    };
    Ok(match kind {
        "ip-src" | "ip-dst" => vec![(IndicatorKind::Ipv4, value.to_string())],
        "ip-src|port" | "ip-dst|port" => vec![(IndicatorKind::Ipv4, first(value))],
        "domain" | "hostname" => vec![(IndicatorKind::Domain, value.to_string())],
        "hostname|port" => vec![(IndicatorKind::Domain, first(value))],
        "domain|ip" => vec![
            (IndicatorKind::Domain, first(value)),
            (IndicatorKind::Ipv4, last(value)),
        ],
        "url" => vec![(IndicatorKind::Url, value.to_string())],
        "email" | "email-src" | "email-dst" | "email-reply-to" => {
            vec![(IndicatorKind::Email, value.to_string())]
        }
        "vulnerability" => vec![(IndicatorKind::Cve, value.to_string())],
        k => match hash(k) {
            Some(h) => vec![(h, value.to_string())],
            None => match k.strip_prefix("filename|").and_then(hash) {
                Some(h) => vec![(h, last(value))],
                None => {
                    return Err(format!(
                        "MISP type {k:?} is not in the hub's indicator vocabulary (ip-src, ip-dst, domain, hostname, url, md5, sha1, sha256, filename|hash, email-src, email-dst, vulnerability)"
                    ));
                }
            },
        },
    })
}

fn attribute(a: &Value, label: &str, info: &str, event: &Tags, set: &mut IocSet) {
    let deleted = match a.get("deleted") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "1" || s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    if deleted {
        set.refused.push(refusal(label, "the attribute is deleted"));
        return;
    }
    let pairs = match values(text(a, "type"), text(a, "value")) {
        Ok(p) => p,
        Err(why) => {
            set.refused.push(refusal(label, why));
            return;
        }
    };
    let own = Tags::of(a);
    let comment = text(a, "comment");
    let name = if comment.trim().is_empty() {
        info
    } else {
        comment
    };
    let techniques = tidy_techniques(
        own.techniques
            .iter()
            .chain(&event.techniques)
            .cloned()
            .collect(),
    );
    for (kind, value) in pairs {
        match Indicator::new(kind, &value) {
            Ok(indicator) => set.push(IocEntry {
                indicator,
                name: clean_text(name, MAX_NAME_CHARS, false),
                description: clean_text(comment, MAX_DESCRIPTION_CHARS, true),
                techniques: techniques.clone(),
                tlp: own.tlp.or(event.tlp),
                to_ids: to_ids(a),
                source_ref: clean_text(label, 120, false),
            }),
            Err(e) => set.refused.push(refusal(
                label,
                format!("{}: {}", text(a, "type"), e.problem),
            )),
        }
    }
}
