//! Shared intelligence in and out of the hub (pure: no I/O, no clock). `import/` reads a
//! STIX 2.1 bundle's indicators or a MISP event's attributes into typed indicators (an
//! [`IocSet`], every object it could not take listed with the reason); `export/` writes a hub
//! incident as a STIX 2.1 bundle, an OCSF Incident Finding or a MISP event, and an IOC set as
//! a STIX bundle, each redacted to the audience's TLP. `pattern.rs` is the STIX patterning
//! subset both directions share; `tlp.rs` the TLP marking definitions both formats name.

pub mod export;
pub mod fuzzing;
pub mod import;
pub mod pattern;
pub mod tlp;

use serde::{Deserialize, Serialize};
use socfed_proto::vocab::{Indicator, Technique, Tlp};

/// Characters kept of an imported or exported name (after cleaning).
pub const MAX_NAME_CHARS: usize = 200;
/// Characters kept of an imported or exported description (after cleaning).
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// Techniques kept per indicator.
pub const MAX_TECHNIQUES: usize = 32;

/// One typed indicator of compromise with what the source said of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IocEntry {
    pub indicator: Indicator,
    /// A short name (the STIX indicator's `name`, the MISP attribute's comment or event info);
    /// one line, cleaned, at most [`MAX_NAME_CHARS`]. May be empty.
    pub name: String,
    /// Free text, cleaned (no terminal controls), at most [`MAX_DESCRIPTION_CHARS`].
    pub description: String,
    /// ATT&CK techniques, sorted, without repeats.
    pub techniques: Vec<Technique>,
    /// The marking the source put on it; `None` when it had none.
    pub tlp: Option<Tlp>,
    /// Whether the source meant it for detection (MISP `to_ids`; every STIX indicator).
    pub to_ids: bool,
    /// The object it came from (a STIX id or a MISP attribute uuid), for the refusal list and
    /// for tracing; cleaned, bounded.
    pub source_ref: String,
}

/// One object of the input that did not become an indicator, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The object's id (STIX), uuid or `Attribute[i]` (MISP), cleaned and bounded.
    pub object: String,
    pub reason: String,
}

/// What an import produced: the indicators taken, each object refused with its reason, and
/// how many objects of other types (identities, relationships, markings…) were read only as
/// context.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IocSet {
    /// The source's own name for the set (MISP event info; the STIX bundle has none: empty).
    pub name: String,
    pub entries: Vec<IocEntry>,
    pub refused: Vec<Refusal>,
    /// Objects of types that are not indicators, by type, with their count (never silently
    /// dropped: the caller can tell the user what the file held besides).
    pub context_objects: std::collections::BTreeMap<String, u64>,
}

impl IocSet {
    /// The most restrictive marking of any entry (`None` when none was marked).
    pub fn max_tlp(&self) -> Option<Tlp> {
        self.entries.iter().filter_map(|e| e.tlp).max()
    }

    /// Adds `entry` unless the same indicator is already there (its techniques merged in).
    pub(crate) fn push(&mut self, entry: IocEntry) {
        if let Some(have) = self
            .entries
            .iter_mut()
            .find(|e| e.indicator == entry.indicator)
        {
            have.techniques.extend(entry.techniques);
            have.techniques.sort();
            have.techniques.dedup();
            have.techniques.truncate(MAX_TECHNIQUES);
            have.tlp = have.tlp.max(entry.tlp);
            have.to_ids |= entry.to_ids;
            return;
        }
        self.entries.push(entry);
    }
}

/// Text from an outside source made safe to keep and show: terminal and bidi controls
/// replaced (newlines and tabs too unless `multi_line`), trimmed, cut at `max` characters.
pub fn clean_text(raw: &str, max: usize, multi_line: bool) -> String {
    let cleaned: String = raw
        .chars()
        .map(|c| match c {
            '\n' | '\t' if multi_line => c,
            c if socfed_proto::text::is_unsafe(c) => ' ',
            c => c,
        })
        .take(max)
        .collect();
    cleaned.trim().to_string()
}

/// Techniques sorted, without repeats, at most [`MAX_TECHNIQUES`].
pub(crate) fn tidy_techniques(mut t: Vec<Technique>) -> Vec<Technique> {
    t.sort();
    t.dedup();
    t.truncate(MAX_TECHNIQUES);
    t
}

#[cfg(test)]
mod tests;
