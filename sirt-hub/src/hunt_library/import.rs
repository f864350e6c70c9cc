//! A library hunt from an imported IOC set: a STIX 2.1 bundle's indicators or a MISP event's
//! attributes, read by the intel parsers (`crate::intel::import`), become the spec of a new
//! library hunt. Pure: the caller passes the file's bytes and what the operator chose.
//!
//! Only what the source meant for detection is taken (every STIX indicator; MISP attributes
//! with `to_ids`); the rest is listed with the objects the parser refused. The name is the
//! operator's, else the source's; techniques are the union of the indicators'; the TLP the
//! most restrictive any indicator carried (amber when none did).

use super::{LibraryError, LibrarySpec, MAX_NAME_BYTES, MAX_TECHNIQUES};
use crate::intel::IocSet;
use crate::intel::import as parse;
use crate::response::order::MAX_HUNT_INDICATORS;
use socfed_proto::vocab::{Severity, Tlp};

/// Lines of what was not taken, returned at most.
pub const MAX_REPORTED: usize = 50;

/// The file formats the library imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Stix,
    Misp,
}

impl Format {
    pub fn parse(raw: &str) -> Result<Self, LibraryError> {
        match raw.trim() {
            "stix" => Ok(Format::Stix),
            "misp" => Ok(Format::Misp),
            other => Err(LibraryError(format!(
                "format {other:?} is neither \"stix\" (a STIX 2.1 bundle) nor \"misp\" (a MISP event)"
            ))),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Format::Stix => "a STIX 2.1 bundle",
            Format::Misp => "a MISP event",
        }
    }
}

/// What the operator chose besides the file.
#[derive(Debug, Clone)]
pub struct Choices {
    /// Empty: the source's name.
    pub name: String,
    pub severity: Severity,
    pub interval_s: u64,
    pub lookback_s: u64,
}

/// A spec ready to add, and what the file held that it does not hunt for.
#[derive(Debug, Clone)]
pub struct Imported {
    pub spec: LibrarySpec,
    pub taken: usize,
    /// `object: reason`, at most [`MAX_REPORTED`] (then a line saying how many more).
    pub not_taken: Vec<String>,
}

/// Reads `data` as `format` and builds the spec.
pub fn read(data: &[u8], format: Format, choices: Choices) -> Result<Imported, LibraryError> {
    let set = match format {
        Format::Stix => parse::stix_bundle(data),
        Format::Misp => parse::misp_event(data),
    }
    .map_err(|e| LibraryError(format!("{}: {e}", format.describe())))?;
    from_set(&set, format, choices)
}

fn first_line(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    let mut end = line.len().min(max);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line[..end].to_string()
}

/// The spec of an IOC set already read.
pub fn from_set(set: &IocSet, format: Format, choices: Choices) -> Result<Imported, LibraryError> {
    let mut not_taken: Vec<String> = set
        .refused
        .iter()
        .map(|r| format!("{}: {}", r.object, r.reason))
        .collect();
    let detect: Vec<_> = set.entries.iter().filter(|e| e.to_ids).collect();
    not_taken.extend(
        set.entries
            .iter()
            .filter(|e| !e.to_ids)
            .map(|e| format!("{}: not meant for detection (to_ids is false)", e.indicator)),
    );
    if detect.is_empty() {
        return Err(LibraryError(format!(
            "{} holds no indicator meant for detection",
            format.describe()
        )));
    }
    if detect.len() > MAX_HUNT_INDICATORS {
        return Err(LibraryError(format!(
            "{} holds {} indicators; a library hunt takes at most {MAX_HUNT_INDICATORS}: split it",
            format.describe(),
            detect.len()
        )));
    }
    let mut techniques: Vec<_> = detect.iter().flat_map(|e| e.techniques.clone()).collect();
    techniques.sort();
    techniques.dedup();
    techniques.truncate(MAX_TECHNIQUES);
    let name = [
        choices.name.as_str(),
        set.name.as_str(),
        detect[0].name.as_str(),
    ]
    .into_iter()
    .map(|n| first_line(n, MAX_NAME_BYTES))
    .find(|n| !n.is_empty())
    .unwrap_or_else(|| "Imported IOC set".to_string());
    let extra = not_taken.len().saturating_sub(MAX_REPORTED);
    not_taken.truncate(MAX_REPORTED);
    if extra > 0 {
        not_taken.push(format!("and {extra} more"));
    }
    let description = format!(
        "Imported from {}: {} indicators taken, {} objects not taken.",
        format.describe(),
        detect.len(),
        not_taken.len() + extra - usize::from(extra > 0)
    );
    let spec = LibrarySpec {
        name,
        description,
        indicators: detect.iter().map(|e| e.indicator.clone()).collect(),
        techniques,
        severity: choices.severity,
        tlp: set.max_tlp().unwrap_or(Tlp::Amber),
        interval_s: choices.interval_s,
        lookback_s: choices.lookback_s,
    }
    .checked()?;
    Ok(Imported {
        taken: spec.indicators.len(),
        spec,
        not_taken,
    })
}
