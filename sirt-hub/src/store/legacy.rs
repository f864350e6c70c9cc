//! Record layouts written by older builds, field for field (postcard is positional), and how
//! each reads as the current record. `schema::decode_incident` and
//! `schema::decode_escalation` pick the layout by the value's version byte; the store keeps the
//! old bytes until the record next changes.
//!
//! - incidents version 1 → 3: version 1 kept copies of the lifecycle's status, severity and
//!   TLP, and the sites' techniques apart from the operators'.
//! - incidents version 2 → 3: a sighting kept one owner and one revision per site; version 3
//!   keeps one entry per local incident with the site's status and owner of it.
//! - incidents version 3 → 4: version 4 counts the indicators dropped at the record's size
//!   limit (`incident/size.rs`); a version 3 record dropped none.
//! - escalations version 1 → 2: the report had no local status.
//! - escalations versions 1 and 2 → 3: the report moved out of the record into the journal
//!   (`journal/`); the schema 5 → 6 upgrade reads them through [`escalation_before_journal`].

use super::records::EscalationRecord;
use crate::incident::{IncidentRecord, IncidentStatus, LocalContribution, Sighting, TimelineEntry};
use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::{
    IncidentReport, Indicator, LocalStatus, Severity, SiteId, Technique, Tlp,
};
use socfed_runtime::store_kit::CodecError;
use ulid::Ulid;

/// A sighting of incident record versions 1 and 2.
#[derive(Serialize, Deserialize)]
pub(super) struct SightingV2 {
    pub site: SiteId,
    pub local_incident_ids: Vec<String>,
    pub revision: u32,
    pub local_severity: Severity,
    pub local_owner: String,
    pub first_seen_ms: UnixMillis,
    pub last_seen_ms: UnixMillis,
    pub joined_because: String,
}

impl SightingV2 {
    /// Version 2 knew one owner and revision per site and no status: each local incident gets
    /// them (the best the old record says), and no status until the site's next revision.
    fn upgrade(self) -> Sighting {
        let locals = self
            .local_incident_ids
            .into_iter()
            .map(|id| LocalContribution {
                id,
                revision: self.revision,
                status: None,
                owner: self.local_owner.clone(),
                updated_at_ms: self.last_seen_ms,
            })
            .collect();
        Sighting {
            site: self.site,
            locals,
            local_severity: self.local_severity,
            first_seen_ms: self.first_seen_ms,
            last_seen_ms: self.last_seen_ms,
            joined_because: self.joined_because,
        }
    }
}

/// An incident record of record version 1.
#[derive(Serialize, Deserialize)]
pub(super) struct IncidentRecordV1 {
    pub id: Ulid,
    pub title: String,
    // The copies version 2 dropped: the lifecycle held the same status, severity and TLP
    // (every writer set both), so they are read and ignored.
    pub status: IncidentStatus,
    pub severity: Severity,
    pub tlp: Tlp,
    /// The sites' techniques; the lifecycle held only the operators'.
    pub techniques: Vec<Technique>,
    pub indicators: Vec<Indicator>,
    pub sightings: Vec<SightingV2>,
    pub created_at_ms: UnixMillis,
    pub updated_at_ms: UnixMillis,
    pub lifecycle: crate::lifecycle::IncidentLifecycle,
    pub timeline: Vec<TimelineEntry>,
    pub regulatory: crate::regulatory::RegulatoryClocks,
    pub fingerprints: Vec<[u8; 32]>,
}

/// An incident record of record version 2.
#[derive(Serialize, Deserialize)]
pub(super) struct IncidentRecordV2 {
    pub id: Ulid,
    pub title: String,
    pub indicators: Vec<Indicator>,
    pub sightings: Vec<SightingV2>,
    pub created_at_ms: UnixMillis,
    pub updated_at_ms: UnixMillis,
    pub lifecycle: crate::lifecycle::IncidentLifecycle,
    pub timeline: Vec<TimelineEntry>,
    pub timeline_elided: u64,
    pub regulatory: crate::regulatory::RegulatoryClocks,
    pub fingerprints: Vec<[u8; 32]>,
}

/// An incident record of record version 3.
#[derive(Serialize, Deserialize)]
pub(super) struct IncidentRecordV3 {
    pub id: Ulid,
    pub title: String,
    pub indicators: Vec<Indicator>,
    pub sightings: Vec<Sighting>,
    pub created_at_ms: UnixMillis,
    pub updated_at_ms: UnixMillis,
    pub lifecycle: crate::lifecycle::IncidentLifecycle,
    pub timeline: Vec<TimelineEntry>,
    pub timeline_elided: u64,
    pub regulatory: crate::regulatory::RegulatoryClocks,
    pub fingerprints: Vec<[u8; 32]>,
}

/// A version 3 record as version 4: no indicator was dropped yet.
pub(super) fn incident_v3(old: IncidentRecordV3) -> IncidentRecord {
    IncidentRecord {
        id: old.id,
        title: old.title,
        indicators: old.indicators,
        indicators_elided: 0,
        sightings: old.sightings,
        created_at_ms: old.created_at_ms,
        updated_at_ms: old.updated_at_ms,
        lifecycle: old.lifecycle,
        timeline: old.timeline,
        timeline_elided: old.timeline_elided,
        regulatory: old.regulatory,
        fingerprints: old.fingerprints,
    }
}

/// A version 1 record as the current one: the sites' and the operators' techniques become one list.
pub(super) fn incident_v1(old: IncidentRecordV1) -> IncidentRecord {
    let mut lifecycle = old.lifecycle;
    lifecycle.techniques.extend(old.techniques);
    lifecycle.techniques.sort();
    lifecycle.techniques.dedup();
    incident_v2(IncidentRecordV2 {
        id: old.id,
        title: old.title,
        indicators: old.indicators,
        sightings: old.sightings,
        created_at_ms: old.created_at_ms,
        updated_at_ms: old.updated_at_ms,
        lifecycle,
        timeline: old.timeline,
        timeline_elided: 0,
        regulatory: old.regulatory,
        fingerprints: old.fingerprints,
    })
}

/// A version 2 record as the current one: one entry per local incident in each sighting.
pub(super) fn incident_v2(old: IncidentRecordV2) -> IncidentRecord {
    IncidentRecord {
        id: old.id,
        title: old.title,
        indicators: old.indicators,
        indicators_elided: 0,
        sightings: old.sightings.into_iter().map(SightingV2::upgrade).collect(),
        created_at_ms: old.created_at_ms,
        updated_at_ms: old.updated_at_ms,
        lifecycle: old.lifecycle,
        timeline: old.timeline,
        timeline_elided: old.timeline_elided,
        regulatory: old.regulatory,
        fingerprints: old.fingerprints,
    }
}

/// The incident report of escalation record version 1: no local status.
#[derive(Serialize, Deserialize)]
pub(super) struct IncidentReportV1 {
    pub local_incident_id: String,
    pub revision: u32,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub tlp: Tlp,
    pub rule_id: String,
    pub techniques: Vec<Technique>,
    pub indicators: Vec<Indicator>,
    pub observed_at_ms: UnixMillis,
    pub local_owner: String,
}

/// An escalation record of version 1.
#[derive(Serialize, Deserialize)]
pub(super) struct EscalationRecordV1 {
    pub content_hash: [u8; 32],
    pub received_at_ms: UnixMillis,
    pub enqueued_at_ms: UnixMillis,
    pub hub_incident: Option<Ulid>,
    pub report: Option<IncidentReportV1>,
}

/// The incident report of escalation record version 2: version 1 and the local status.
#[derive(Serialize, Deserialize)]
pub(super) struct IncidentReportV2 {
    pub local_incident_id: String,
    pub revision: u32,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub tlp: Tlp,
    pub rule_id: String,
    pub techniques: Vec<Technique>,
    pub indicators: Vec<Indicator>,
    pub observed_at_ms: UnixMillis,
    pub local_owner: String,
    pub local_status: Option<LocalStatus>,
}

/// An escalation record of version 2: the report inside the record.
#[derive(Serialize, Deserialize)]
pub(super) struct EscalationRecordV2 {
    pub content_hash: [u8; 32],
    pub received_at_ms: UnixMillis,
    pub enqueued_at_ms: UnixMillis,
    pub hub_incident: Option<Ulid>,
    pub report: Option<IncidentReportV2>,
}

/// An escalation record written before the journal (versions 1 and 2), with its report: what
/// the schema 5 → 6 upgrade moves into the journal (`upgrade.rs`).
pub(super) struct BeforeJournal {
    pub content_hash: [u8; 32],
    pub received_at_ms: UnixMillis,
    pub enqueued_at_ms: UnixMillis,
    pub hub_incident: Option<Ulid>,
    pub report: Option<IncidentReport>,
}

impl BeforeJournal {
    /// The compact record, its report now at journal entry `journal`.
    pub fn record(&self, journal: u64) -> EscalationRecord {
        EscalationRecord {
            content_hash: self.content_hash,
            received_at_ms: self.received_at_ms,
            enqueued_at_ms: self.enqueued_at_ms,
            hub_incident: self.hub_incident,
            journal,
        }
    }
}

/// Reads an `escalations` value of version 1 or 2. The content hash stays valid: a version 1
/// report without a local status encodes (and so hashes) exactly as before the field existed.
pub(super) fn escalation_before_journal(bytes: &[u8]) -> Result<BeforeJournal, CodecError> {
    use super::schema::TreeSet;
    let codec = super::schema::TreeId::Escalations.codec();
    let v1 = |r: IncidentReportV1| IncidentReportV2 {
        local_incident_id: r.local_incident_id,
        revision: r.revision,
        title: r.title,
        description: r.description,
        severity: r.severity,
        tlp: r.tlp,
        rule_id: r.rule_id,
        techniques: r.techniques,
        indicators: r.indicators,
        observed_at_ms: r.observed_at_ms,
        local_owner: r.local_owner,
        local_status: None,
    };
    let old: EscalationRecordV2 = match codec.split(bytes)? {
        (2, body) => codec.body(body)?,
        (1, body) => {
            let old: EscalationRecordV1 = codec.body(body)?;
            EscalationRecordV2 {
                content_hash: old.content_hash,
                received_at_ms: old.received_at_ms,
                enqueued_at_ms: old.enqueued_at_ms,
                hub_incident: old.hub_incident,
                report: old.report.map(v1),
            }
        }
        (found, _) => return Err(codec.unknown(found)),
    };
    Ok(BeforeJournal {
        content_hash: old.content_hash,
        received_at_ms: old.received_at_ms,
        enqueued_at_ms: old.enqueued_at_ms,
        hub_incident: old.hub_incident,
        report: old.report.map(|r| IncidentReport {
            local_incident_id: r.local_incident_id,
            revision: r.revision,
            title: r.title,
            description: r.description,
            severity: r.severity,
            tlp: r.tlp,
            rule_id: r.rule_id,
            techniques: r.techniques,
            indicators: r.indicators,
            observed_at_ms: r.observed_at_ms,
            local_owner: r.local_owner,
            local_status: r.local_status,
        }),
    })
}

#[cfg(test)]
#[path = "legacy_tests.rs"]
mod tests;
