//! The registry of the hub's trees ([`TreeId`], a `store_kit` [`TreeSet`]) and the record
//! codec over it: each tree's name (the constants in `schema.rs`) and the record version its
//! values carry, with the reads of older `incidents` and `escalations` versions.

use super::super::records::{EscalationRecord, EscalationRun};
use super::*;
use crate::incident::IncidentRecord;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Every tree, in the order the store opens them and a unit of work indexes them
/// (`store/unit/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TreeId {
    Incidents,
    SiteIncidents,
    StatusIncidents,
    LocalRefs,
    Escalations,
    Epochs,
    Sites,
    Fingerprints,
    Reviews,
    Audit,
    Meta,
    Directives,
    SiteDirectives,
    IncidentDirectives,
    OpenDirectives,
    Hunts,
    Operators,
    Comms,
    WebSessions,
    SiteStates,
    SiteStateLog,
    Events,
    ApiTokens,
    Observables,
    ObservableIndex,
    /// Schema 10: notes on incidents (`unit/notes.rs`).
    IncidentNotes,
    Runbooks,
    RunbookVersions,
    RunbookLog,
    /// Schema 10: the incident search's postings (`store/search.rs`).
    IncidentSearch,
    HuntLibrary,
    HuntLibraryVersions,
    HuntLibraryRuns,
    /// Schema 11: the enrolled sites (`crate::enrolment`).
    EnrolledSites,
}

/// The registry of the hub's trees (`store_kit`): each tree's name (the constants above) and
/// the record version its values carry.
impl TreeSet for TreeId {
    const ALL: &'static [Self] = &[
        TreeId::Incidents,
        TreeId::SiteIncidents,
        TreeId::StatusIncidents,
        TreeId::LocalRefs,
        TreeId::Escalations,
        TreeId::Epochs,
        TreeId::Sites,
        TreeId::Fingerprints,
        TreeId::Reviews,
        TreeId::Audit,
        TreeId::Meta,
        TreeId::Directives,
        TreeId::SiteDirectives,
        TreeId::IncidentDirectives,
        TreeId::OpenDirectives,
        TreeId::Hunts,
        TreeId::Operators,
        TreeId::Comms,
        TreeId::WebSessions,
        TreeId::SiteStates,
        TreeId::SiteStateLog,
        TreeId::Events,
        TreeId::ApiTokens,
        TreeId::Observables,
        TreeId::ObservableIndex,
        TreeId::IncidentNotes,
        TreeId::Runbooks,
        TreeId::RunbookVersions,
        TreeId::RunbookLog,
        TreeId::IncidentSearch,
        TreeId::HuntLibrary,
        TreeId::HuntLibraryVersions,
        TreeId::HuntLibraryRuns,
        TreeId::EnrolledSites,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn name(self) -> &'static str {
        match self {
            TreeId::Incidents => INCIDENTS,
            TreeId::SiteIncidents => SITE_INCIDENTS,
            TreeId::StatusIncidents => STATUS_INCIDENTS,
            TreeId::LocalRefs => LOCAL_REFS,
            TreeId::Escalations => ESCALATIONS,
            TreeId::Epochs => EPOCHS,
            TreeId::Sites => SITES,
            TreeId::Fingerprints => FINGERPRINTS,
            TreeId::Reviews => REVIEWS,
            TreeId::Audit => AUDIT,
            TreeId::Meta => META,
            TreeId::Directives => DIRECTIVES,
            TreeId::SiteDirectives => SITE_DIRECTIVES,
            TreeId::IncidentDirectives => INCIDENT_DIRECTIVES,
            TreeId::OpenDirectives => OPEN_DIRECTIVES,
            TreeId::Hunts => HUNTS,
            TreeId::Operators => OPERATORS,
            TreeId::Comms => COMMS,
            TreeId::WebSessions => WEB_SESSIONS,
            TreeId::SiteStates => SITE_STATES,
            TreeId::SiteStateLog => SITE_STATE_LOG,
            TreeId::Events => EVENTS,
            TreeId::ApiTokens => API_TOKENS,
            TreeId::Observables => OBSERVABLES,
            TreeId::ObservableIndex => OBSERVABLE_INDEX,
            TreeId::IncidentNotes => INCIDENT_NOTES,
            TreeId::Runbooks => RUNBOOKS,
            TreeId::RunbookVersions => RUNBOOK_VERSIONS,
            TreeId::RunbookLog => RUNBOOK_LOG,
            TreeId::IncidentSearch => INCIDENT_SEARCH,
            TreeId::HuntLibrary => HUNT_LIBRARY,
            TreeId::HuntLibraryVersions => HUNT_LIBRARY_VERSIONS,
            TreeId::HuntLibraryRuns => HUNT_LIBRARY_RUNS,
            TreeId::EnrolledSites => ENROLLED_SITES,
        }
    }

    fn codec(self) -> Codec {
        let version = match self {
            TreeId::Incidents => INCIDENT_RECORD_VERSION,
            TreeId::Escalations => ESCALATION_RECORD_VERSION,
            _ => RECORD_VERSION,
        };
        Codec::new(self.name(), version)
    }
}

/// The codec of every tree but `incidents` and `escalations`, which moved on
/// ([`TreeId::codec`]).
pub fn encode<T: Serialize>(tree: TreeId, value: &T) -> Result<Vec<u8>, CodecError> {
    tree.codec().encode(value)
}

/// A record of `tree`'s current record version; any other version is an error naming the tree.
pub fn decode<T: DeserializeOwned>(tree: TreeId, bytes: &[u8]) -> Result<T, CodecError> {
    tree.codec().decode(bytes)
}

/// An `incidents` value: `[INCIDENT_RECORD_VERSION] ++ postcard(record)`.
pub fn encode_incident(record: &IncidentRecord) -> Result<Vec<u8>, CodecError> {
    encode(TreeId::Incidents, record)
}

/// Reads an `incidents` value of this version or an older one (upgraded on the way: see
/// `legacy.rs`). The store keeps the old bytes until the incident next changes.
pub fn decode_incident(bytes: &[u8]) -> Result<IncidentRecord, CodecError> {
    use super::super::legacy;
    let codec = TreeId::Incidents.codec();
    match codec.split(bytes)? {
        (INCIDENT_RECORD_VERSION, body) => codec.body(body),
        (3, body) => codec.body(body).map(legacy::incident_v3),
        (2, body) => codec.body(body).map(legacy::incident_v2),
        (1, body) => codec.body(body).map(legacy::incident_v1),
        (found, _) => Err(codec.unknown(found)),
    }
}

/// An `escalations` value: `[ESCALATION_RECORD_VERSION] ++ postcard(run)`.
pub fn encode_escalation_run(run: &EscalationRun) -> Result<Vec<u8>, CodecError> {
    encode(TreeId::Escalations, run)
}

/// Reads an `escalations` value. Older versions never remain after open: the schema 5 → 6
/// upgrade moved their reports into the journal and the 7 → 8 upgrade packed the version 3
/// records (one per key) into runs (`upgrade.rs`).
pub fn decode_escalation_run(bytes: &[u8]) -> Result<EscalationRun, CodecError> {
    decode(TreeId::Escalations, bytes)
}

/// Reads an `escalations` value under `key`: the run, checked to end where its key says and
/// to hold at least one record.
pub fn decode_escalation_run_at(key: &[u8], bytes: &[u8]) -> Result<EscalationRun, CodecError> {
    let run = decode_escalation_run(bytes)?;
    let last = escalation_key_parts(key).map(|(_, _, seq)| seq);
    if !last.is_some_and(|last| run.stored_under(last)) {
        return Err(CodecError::Malformed {
            tree: ESCALATIONS,
            detail: format!(
                "a run of {} records from sequence {} under a key ending at {last:?}",
                run.records.len(),
                run.first
            ),
        });
    }
    Ok(run)
}

/// Reads a version 3 `escalations` value (one record per key, before runs): only the schema
/// 7 → 8 upgrade does.
pub fn decode_escalation_v3(bytes: &[u8]) -> Result<EscalationRecord, CodecError> {
    let codec = TreeId::Escalations.codec();
    match codec.split(bytes)? {
        (3, body) => codec.body(body),
        (found, _) => Err(codec.unknown(found)),
    }
}

/// A key (or key part) of `tree` of a length its layout does not have.
pub fn key_length(tree: &'static str, len: usize) -> CodecError {
    CodecError::Malformed {
        tree,
        detail: format!("key of unexpected length {len}"),
    }
}
