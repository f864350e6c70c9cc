//! Exports of a hub incident (pure): a STIX 2.1 bundle (`stix.rs`), an OCSF 1.3.0 Incident
//! Finding (`ocsf.rs`), a MISP event (`misp.rs`); and an IOC set as a STIX bundle
//! ([`ioc_set_bundle`]). Each is built from an [`ExportInput`], a plain struct filled from the
//! hub's read model ([`ExportInput::from_incident`]); a later source of per-incident facts
//! (observables with their own TLP and per-site sightings) fills the same struct.
//!
//! Redaction by TLP ([`redact`]), the rule communications follow (`comms/redact.rs`), applied
//! before any format sees the input: an export for an audience cleared to `tlp_max` carries
//!
//! - every indicator and note whose own marking is at or below `tlp_max`, no other;
//! - the incident's title, techniques, site names and IR lead only when the incident's own
//!   marking is at or below `tlp_max` (otherwise a neutral title, no techniques, sites as
//!   "site 1", "site 2", no IR lead);
//! - its phase, severity, priority and times always;
//! - the marking `min(incident TLP, tlp_max)`.
//!
//! Whether the reader may read the incident at all (the TLP:RED rule) is the read path's
//! question, asked before an input is built.

mod casework;
mod misp;
mod ocsf;
mod stix;

pub use stix::ioc_set_bundle;

use crate::comms::{redact::neutral_title, tlp_label};
use socfed_proto::pb;
use socfed_proto::vocab::{Indicator, Severity, Technique, Tlp};

/// The formats an incident is exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Stix,
    Ocsf,
    Misp,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Stix, Format::Ocsf, Format::Misp];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Stix => "stix",
            Format::Ocsf => "ocsf",
            Format::Misp => "misp",
        }
    }

    /// The HTTP media type of an export in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Stix => "application/stix+json;version=2.1",
            Format::Ocsf | Format::Misp => "application/json",
        }
    }

    /// A file name for the export of incident `id`.
    pub fn file_name(self, id: &str) -> String {
        format!("incident-{id}.{}.json", self.as_str())
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("{s:?} is not an export format: use stix, ocsf or misp"))
    }
}

/// An indicator of the incident with its own marking (the incident's unless a finer source
/// says otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedIndicator {
    pub indicator: Indicator,
    pub tlp: Tlp,
}

/// One site's part in the incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSighting {
    pub site: String,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    /// How many of the site's local incidents joined (at least 1).
    pub count: u64,
    /// The indicators sighted there. The hub's incident record keeps the union of the sites'
    /// indicators, so [`ExportInput::from_incident`] lists them all for each site.
    pub indicators: Vec<Indicator>,
}

/// A note of the work log on the incident, with its own marking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportNote {
    pub author: String,
    pub at_ms: i64,
    pub text: String,
    pub tlp: Tlp,
}

/// What an export is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportInput {
    pub id: String,
    pub title: String,
    /// The lifecycle phase's word (`triage`, `closed`…).
    pub status: String,
    pub severity: Severity,
    /// `P1`..`P4`, or empty.
    pub priority: String,
    pub tlp: Tlp,
    pub ir_lead: Option<String>,
    pub resolution: String,
    pub techniques: Vec<Technique>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub indicators: Vec<MarkedIndicator>,
    pub sites: Vec<SiteSighting>,
    /// The work log's notes (filled by the notes' read model; none from the incident alone).
    pub notes: Vec<ExportNote>,
}

impl ExportInput {
    /// The input for a hub incident as the read model answers it. Values a build does not
    /// know are read cautiously: an unknown TLP as RED, an unknown severity as high; an
    /// indicator or technique that does not convert is left out.
    pub fn from_incident(i: &pb::HubIncident) -> Self {
        let tlp = Tlp::from_wire(i.tlp, "tlp").unwrap_or(Tlp::Red);
        let indicators: Vec<Indicator> = i
            .indicators
            .iter()
            .filter_map(|w| Indicator::try_from(w.clone()).ok())
            .collect();
        let sites = i
            .sightings
            .iter()
            .map(|s| SiteSighting {
                site: s.site_id.clone(),
                first_seen_ms: s.first_seen_ms,
                last_seen_ms: s.last_seen_ms.max(s.first_seen_ms),
                count: (s.local_incident_ids.len() as u64).max(1),
                indicators: indicators.clone(),
            })
            .collect();
        ExportInput {
            id: i.id.clone(),
            title: i.title.clone(),
            status: crate::view::words::status(i.status).to_string(),
            severity: Severity::from_wire(i.severity, "severity").unwrap_or(Severity::High),
            priority: i.priority.clone(),
            tlp,
            ir_lead: (!i.ir_lead.is_empty()).then(|| i.ir_lead.clone()),
            resolution: i.resolution.clone(),
            techniques: i
                .techniques
                .iter()
                .filter_map(|t| Technique::parse(t).ok())
                .collect(),
            created_at_ms: i.created_at_ms,
            updated_at_ms: i.updated_at_ms.max(i.created_at_ms),
            indicators: indicators
                .into_iter()
                .map(|indicator| MarkedIndicator { indicator, tlp })
                .collect(),
            sites,
            notes: Vec::new(),
        }
    }
}

/// An input as an audience may receive it, with its marking and what was withheld.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    pub input: ExportInput,
    /// The export's marking: the lower of the incident's and the audience's.
    pub label: Tlp,
    /// One sentence per kind of fact withheld (empty when nothing was).
    pub withheld: Vec<String>,
}

/// `input` as an audience cleared to `tlp_max` may receive it (the rule in the module doc).
pub fn redact(input: &ExportInput, tlp_max: Tlp) -> Redacted {
    let mut out = input.clone();
    let mut withheld = Vec::new();
    let above = |t: Tlp| t > tlp_max;
    let before = out.indicators.len();
    out.indicators.retain(|m| !above(m.tlp));
    let dropped: Vec<Indicator> = input
        .indicators
        .iter()
        .filter(|m| above(m.tlp))
        .map(|m| m.indicator.clone())
        .collect();
    for s in &mut out.sites {
        s.indicators.retain(|i| !dropped.contains(i));
    }
    if before > out.indicators.len() {
        withheld.push(format!(
            "{} indicator(s) marked above {}",
            before - out.indicators.len(),
            tlp_label(tlp_max)
        ));
    }
    let notes = out.notes.len();
    out.notes.retain(|n| !above(n.tlp));
    if notes > out.notes.len() {
        withheld.push(format!(
            "{} note(s) marked above {}",
            notes - out.notes.len(),
            tlp_label(tlp_max)
        ));
    }
    if above(input.tlp) {
        let why = format!(
            "the incident is {}, the export is for {}",
            tlp_label(input.tlp),
            tlp_label(tlp_max)
        );
        out.title = neutral_title(input.severity);
        out.techniques.clear();
        out.ir_lead = None;
        out.resolution.clear();
        for (n, s) in out.sites.iter_mut().enumerate() {
            s.site = format!("site {}", n + 1);
        }
        withheld.push(format!(
            "title, techniques, site names and IR lead withheld: {why}"
        ));
    }
    out.tlp = input.tlp.min(tlp_max);
    Redacted {
        label: out.tlp,
        input: out,
        withheld,
    }
}

/// Who produced an export (the hub's name for itself in identities and metadata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Producer {
    pub name: String,
    pub version: String,
}

impl Default for Producer {
    fn default() -> Self {
        Producer {
            name: "SIRT".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// One export: the document, its media type and what redaction withheld.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    pub format: Format,
    pub document: serde_json::Value,
    pub label: Tlp,
    pub withheld: Vec<String>,
}

impl Export {
    /// The document as pretty JSON text (serde_json escapes every quote and control).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.document).unwrap_or_default()
    }
}

/// `input` in `format` for an audience cleared to `tlp_max`.
pub fn incident(input: &ExportInput, format: Format, tlp_max: Tlp, producer: &Producer) -> Export {
    let r = redact(input, tlp_max);
    let document = match format {
        Format::Stix => stix::incident_bundle(&r.input, producer),
        Format::Ocsf => ocsf::incident_finding(&r.input, producer),
        Format::Misp => misp::event(&r.input, producer),
    };
    Export {
        format,
        document,
        label: r.label,
        withheld: r.withheld,
    }
}

/// RFC 3339 UTC with milliseconds (`2026-12-04T08:15:00.000Z`), as STIX and MISP write
/// times; a time out of range is the epoch.
pub(crate) fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
