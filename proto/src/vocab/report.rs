//! The incident report a site escalates to the hub, validated and normalised.

use super::{Indicator, InvalidField, LocalStatus, Severity, Technique, Tlp, bounds};
use crate::{UnixMillis, pb};
use prost::Message;

/// Size limits on a report. Both sides apply the same limits, so the agent refuses at intake
/// what the hub would refuse later (an escalation that can never be delivered must not enter
/// the outbox).
///
/// `max_encoded_bytes` bounds the whole report: it is stored whole in the agent's outbox and in
/// the hub's escalation record, and no stored value may come near the size at which sled
/// writes a log message to an unsynced blob file (docs/RELIABILITY.md, "Large values").
#[derive(Debug, Clone, Copy)]
pub struct ReportLimits {
    pub max_encoded_bytes: usize,
    pub max_title_chars: usize,
    pub max_description_bytes: usize,
    pub max_indicators: usize,
    pub max_techniques: usize,
}

impl Default for ReportLimits {
    fn default() -> Self {
        Self {
            max_encoded_bytes: MAX_REPORT_BYTES,
            max_title_chars: 512,
            max_description_bytes: 16 * 1024,
            max_indicators: 512,
            max_techniques: 64,
        }
    }
}

/// The largest report, encoded, that a site may escalate (see [`ReportLimits`]).
pub const MAX_REPORT_BYTES: usize = 32 * 1024;

/// One revision of a site-local incident, as escalated to the hub.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IncidentReport {
    pub local_incident_id: String,
    pub revision: u32,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub tlp: Tlp,
    pub rule_id: String,
    /// Sorted and de-duplicated.
    pub techniques: Vec<Technique>,
    /// Normalised, sorted and de-duplicated.
    pub indicators: Vec<Indicator>,
    pub observed_at_ms: UnixMillis,
    /// A roster name at the site, or empty (nobody owns it there).
    pub local_owner: String,
    /// The site's status of its incident; `None` when the site did not say (an older agent).
    pub local_status: Option<LocalStatus>,
}

impl IncidentReport {
    /// Converts and validates a wire report. Every field is destructured so that a new field in
    /// the contract fails to compile here until someone decides what it means.
    pub fn from_wire(
        wire: pb::IncidentReport,
        limits: &ReportLimits,
    ) -> Result<Self, InvalidField> {
        let encoded = wire.encoded_len();
        if encoded > limits.max_encoded_bytes {
            return Err(InvalidField::new(
                "report",
                format!(
                    "encodes to {encoded} bytes, over the limit of {} bytes for one report; shorten the description, or send the indicators over several revisions",
                    limits.max_encoded_bytes
                ),
            ));
        }
        let pb::IncidentReport {
            local_incident_id,
            revision,
            title,
            description,
            severity,
            tlp,
            rule_id,
            techniques,
            indicators,
            observed_at_ms,
            local_owner,
            local_status,
        } = wire;
        let local_incident_id = local_incident_id.trim().to_string();
        if local_incident_id.is_empty() || local_incident_id.len() > 128 {
            return Err(InvalidField::new(
                "local_incident_id",
                "must be 1 to 128 characters",
            ));
        }
        if revision == 0 {
            return Err(InvalidField::new("revision", "revisions start at 1"));
        }
        let title = title.trim().to_string();
        if title.is_empty() {
            return Err(InvalidField::new("title", "a title is required"));
        }
        if title.chars().count() > limits.max_title_chars {
            return Err(InvalidField::new(
                "title",
                format!("longer than {} characters", limits.max_title_chars),
            ));
        }
        if description.len() > limits.max_description_bytes {
            return Err(InvalidField::new(
                "description",
                format!("longer than {} bytes", limits.max_description_bytes),
            ));
        }
        if techniques.len() > limits.max_techniques {
            return Err(InvalidField::new(
                "techniques",
                format!("more than {} techniques", limits.max_techniques),
            ));
        }
        if indicators.len() > limits.max_indicators {
            return Err(InvalidField::new(
                "indicators",
                format!("more than {} indicators", limits.max_indicators),
            ));
        }
        let mut techniques = techniques
            .iter()
            .enumerate()
            .map(|(i, t)| Technique::parse(t).map_err(|e| e.within(&format!("techniques[{i}]"))))
            .collect::<Result<Vec<_>, _>>()?;
        techniques.sort();
        techniques.dedup();
        let mut indicators = indicators
            .into_iter()
            .enumerate()
            .map(|(i, ind)| {
                Indicator::try_from(ind).map_err(|e| e.within(&format!("indicators[{i}]")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        indicators.sort();
        indicators.dedup();
        // An owner is someone the site can hold to it: a name from its roster, never free text.
        if !local_owner.is_empty() {
            bounds::name("local_owner", &local_owner)?;
        }
        // Everything here reaches operators' terminals, chat and reports: refused, not
        // cleaned, so the hub never stores what a site could not have meant honestly.
        bounds::single_line("local_incident_id", &local_incident_id)?;
        bounds::single_line("title", &title)?;
        bounds::multi_line("description", &description)?;
        bounds::single_line("rule_id", &rule_id)?;
        let observed_at_ms = bounds::time("observed_at_ms", observed_at_ms)?;
        Ok(Self {
            local_incident_id,
            revision,
            title,
            description,
            severity: Severity::from_wire(severity, "severity")?,
            tlp: Tlp::from_wire(tlp, "tlp")?,
            rule_id: rule_id.trim().to_string(),
            techniques,
            indicators,
            observed_at_ms,
            local_owner,
            local_status: LocalStatus::from_wire(local_status, "local_status")?,
        })
    }

    pub fn to_wire(&self) -> pb::IncidentReport {
        pb::IncidentReport {
            local_incident_id: self.local_incident_id.clone(),
            revision: self.revision,
            title: self.title.clone(),
            description: self.description.clone(),
            severity: self.severity.to_wire() as i32,
            tlp: self.tlp.to_wire() as i32,
            rule_id: self.rule_id.clone(),
            techniques: self
                .techniques
                .iter()
                .map(|t| t.as_str().to_string())
                .collect(),
            indicators: self.indicators.iter().map(Indicator::to_wire).collect(),
            observed_at_ms: self.observed_at_ms,
            local_owner: self.local_owner.clone(),
            local_status: self
                .local_status
                .map_or(pb::LocalStatus::Unspecified, LocalStatus::to_wire)
                as i32,
        }
    }

    /// BLAKE3 of the canonical wire encoding of the normalised report. Two sends of the same
    /// report hash equal; any change of meaning changes the hash.
    pub fn content_hash(&self) -> [u8; 32] {
        *blake3::hash(&self.to_wire().encode_to_vec()).as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire() -> pb::IncidentReport {
        pb::IncidentReport {
            local_incident_id: "inc-1".into(),
            revision: 1,
            title: "beacon to known C2".into(),
            severity: pb::Severity::High as i32,
            techniques: vec!["t1071".into(), "T1071".into()],
            indicators: vec![pb::Indicator {
                kind: pb::IndicatorKind::Domain as i32,
                value: "C2.Example".into(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn normalises_and_hashes_equal_meaning_equally() {
        let a = IncidentReport::from_wire(wire(), &ReportLimits::default()).expect("valid");
        assert_eq!(a.techniques.len(), 1);
        assert_eq!(a.indicators[0].value(), "c2.example");
        let mut other = wire();
        other.indicators[0].value = "c2.example".into();
        let b = IncidentReport::from_wire(other, &ReportLimits::default()).expect("valid");
        assert_eq!(a.content_hash(), b.content_hash());
        let mut changed = b.clone();
        changed.title.push('!');
        assert_ne!(a.content_hash(), changed.content_hash());
    }

    #[test]
    fn refuses_terminal_controls_and_impossible_times() {
        for (field, edit) in [
            (
                "title",
                (|w: &mut pb::IncidentReport| w.title = "ALL CLEAR\x1b[2J".into())
                    as fn(&mut pb::IncidentReport),
            ),
            ("local_owner", |w| {
                w.local_owner = "bob\x1b]52;c;aWQ=\x07".into()
            }),
            ("local_incident_id", |w| {
                w.local_incident_id = "inc\r1".into()
            }),
            ("rule_id", |w| w.rule_id = "r\u{9b}1".into()),
            ("description", |w| w.description = "x\x1b[1A".into()),
            ("observed_at_ms", |w| w.observed_at_ms = 253_402_300_800_000),
            ("observed_at_ms", |w| w.observed_at_ms = -1),
            ("local_owner", |w| {
                w.local_owner = "<img src=x onerror=alert(1)>".into()
            }),
            ("local_owner", |w| w.local_owner = "a".repeat(65)),
            ("local_status", |w| w.local_status = 42),
        ] {
            let mut bad = wire();
            edit(&mut bad);
            let err = IncidentReport::from_wire(bad, &ReportLimits::default()).expect_err(field);
            assert_eq!(err.field, field);
        }
        let mut fine = wire();
        fine.description = "two\n\tlines".into();
        fine.local_owner = "ann.b".into();
        fine.local_status = pb::LocalStatus::Contained as i32;
        let report = IncidentReport::from_wire(fine, &ReportLimits::default()).expect("valid");
        assert_eq!(report.local_status, Some(LocalStatus::Contained));
        assert_eq!(
            report.to_wire().local_status,
            pb::LocalStatus::Contained as i32
        );
        // An agent older than the field says nothing, and its reports hash as before.
        let old = IncidentReport::from_wire(wire(), &ReportLimits::default()).expect("valid");
        assert_eq!(old.local_status, None);
        assert_eq!(old.to_wire().local_status, 0);
    }

    #[test]
    fn names_the_offending_field() {
        let mut bad = wire();
        bad.indicators.push(pb::Indicator {
            kind: pb::IndicatorKind::Ipv4 as i32,
            value: "999.1.1.1".into(),
        });
        let err = IncidentReport::from_wire(bad, &ReportLimits::default()).expect_err("invalid");
        assert_eq!(err.field, "indicators[1].value");
        let mut no_sev = wire();
        no_sev.severity = 0;
        assert_eq!(
            IncidentReport::from_wire(no_sev, &ReportLimits::default())
                .expect_err("x")
                .field,
            "severity"
        );
    }
}
