//! TLP in the formats the hub exchanges: STIX 2.1's predefined TLP marking definitions (their
//! ids and exact content are fixed by the STIX 2.1 specification, section 7.2.1.4, so every
//! consumer recognises them) and MISP's `tlp:` taxonomy tags.
//!
//! STIX 2.1 predefines TLP 1.0 only (white, green, amber, red). The hub's TLP 2.0 CLEAR is
//! written as WHITE (the same rule), and AMBER+STRICT as AMBER plus a statement marking that
//! says "TLP:AMBER+STRICT" (never as plain AMBER alone, which would allow sharing with the
//! recipient's clients).

use serde_json::{Value, json};
use socfed_proto::vocab::Tlp;

/// The STIX 2.1 predefined TLP marking definitions: (TLP 1.0 word, id).
pub const STIX_TLP: [(&str, &str); 4] = [
    (
        "white",
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    ),
    (
        "green",
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    ),
    (
        "amber",
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    ),
    (
        "red",
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    ),
];

/// The statement marking written beside AMBER for AMBER+STRICT (a fixed id: the statement is
/// the same in every export).
pub const AMBER_STRICT_STATEMENT_ID: &str =
    "marking-definition--3fbbbd1d-5a5c-5d6c-8fb3-4ec5b5dfd4a1";

fn stix_word(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "white",
        Tlp::Green => "green",
        Tlp::Amber | Tlp::AmberStrict => "amber",
        Tlp::Red => "red",
    }
}

/// The ids of the marking definitions an object marked `tlp` refers to.
pub fn stix_marking_refs(tlp: Tlp) -> Vec<String> {
    let word = stix_word(tlp);
    let mut refs: Vec<String> = STIX_TLP
        .iter()
        .filter(|(w, _)| *w == word)
        .map(|(_, id)| (*id).to_string())
        .collect();
    if tlp == Tlp::AmberStrict {
        refs.push(AMBER_STRICT_STATEMENT_ID.to_string());
    }
    refs
}

/// The marking definition objects `refs` name, exactly as the specification defines them.
pub fn stix_marking_objects(tlps: impl IntoIterator<Item = Tlp>) -> Vec<Value> {
    let mut words: Vec<&str> = Vec::new();
    let mut strict = false;
    for t in tlps {
        let w = stix_word(t);
        if !words.contains(&w) {
            words.push(w);
        }
        strict |= t == Tlp::AmberStrict;
    }
    let mut out: Vec<Value> = STIX_TLP
        .iter()
        .filter(|(w, _)| words.contains(w))
        .map(|(w, id)| {
            json!({
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": id,
                "created": "2017-01-20T00:00:00.000Z",
                "definition_type": "tlp",
                "name": format!("TLP:{}", w.to_ascii_uppercase()),
                "definition": { "tlp": w },
            })
        })
        .collect();
    if strict {
        out.push(json!({
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": AMBER_STRICT_STATEMENT_ID,
            "created": "2022-08-01T00:00:00.000Z",
            "definition_type": "statement",
            "name": "TLP:AMBER+STRICT",
            "definition": { "statement": "TLP:AMBER+STRICT: share within the recipient's organisation only" },
        }));
    }
    out
}

/// The TLP a STIX marking reference means, for the predefined ids (TLP 1.0 and the statement
/// above); `None` for any other id.
pub fn from_stix_ref(id: &str) -> Option<Tlp> {
    if id == AMBER_STRICT_STATEMENT_ID {
        return Some(Tlp::AmberStrict);
    }
    STIX_TLP
        .iter()
        .find(|(_, known)| *known == id)
        .and_then(|(w, _)| w.parse().ok())
}

/// The TLP a marking-definition object in a bundle states (`definition_type` `tlp` with
/// `definition.tlp`, or a TLP 2.0 style `name` such as `TLP:AMBER+STRICT`).
pub fn from_stix_definition(object: &Value) -> Option<Tlp> {
    if let Some(word) = object.pointer("/definition/tlp").and_then(Value::as_str) {
        return word.parse().ok();
    }
    let name = object.get("name").and_then(Value::as_str)?;
    name.to_ascii_lowercase()
        .starts_with("tlp:")
        .then(|| name.parse().ok())
        .flatten()
}

/// The MISP taxonomy tag for `tlp` (`tlp:clear`, `tlp:amber+strict`…).
pub fn misp_tag(tlp: Tlp) -> String {
    format!("tlp:{}", tlp.as_str())
}

/// The TLP a MISP tag names (`tlp:white` is TLP 2.0 CLEAR); `None` for other tags.
pub fn from_misp_tag(tag: &str) -> Option<Tlp> {
    let lower = tag.trim().to_ascii_lowercase();
    lower.strip_prefix("tlp:")?;
    lower.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tlp_reads_back_from_its_markings_and_tags() {
        for tlp in Tlp::ALL {
            let back = stix_marking_refs(tlp)
                .iter()
                .filter_map(|r| from_stix_ref(r))
                .max();
            let expected = if tlp == Tlp::Clear { Tlp::Clear } else { tlp };
            assert_eq!(back, Some(expected), "{tlp}");
            assert_eq!(from_misp_tag(&misp_tag(tlp)), Some(tlp));
            for object in stix_marking_objects([tlp]) {
                let id = object["id"].as_str().unwrap_or_default();
                assert_eq!(from_stix_definition(&object), from_stix_ref(id), "{id}");
            }
        }
        assert_eq!(from_misp_tag("TLP:WHITE"), Some(Tlp::Clear));
        assert_eq!(from_misp_tag("misp-galaxy:x"), None);
    }
}
