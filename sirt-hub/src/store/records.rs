//! Values the hub's sled trees hold besides the domain's incident record
//! (`crate::incident::IncidentRecord`): escalations, per-site facts, reviews, fingerprints,
//! the hub event log's events (the `events` module).
//! Plain data; every change of shape bumps the record version in `schema.rs` so old values are
//! recognised and upgraded on read.

use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::SiteId;
use ulid::Ulid;

/// What the hub holds of one escalation (one idempotency key): compact; the report as received
/// is in the journal (`store::journal`) under [`EscalationRecord::journal`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationRecord {
    pub content_hash: [u8; 32],
    pub received_at_ms: UnixMillis,
    pub enqueued_at_ms: UnixMillis,
    /// The incident it was applied to; `None` when the report was rejected (quarantined).
    pub hub_incident: Option<Ulid>,
    /// The journal entry holding the escalation as received.
    pub journal: u64,
}

/// The escalations of one (site, epoch) that one unit of work stored under consecutive
/// sequences: `records[i]` is sequence `first + i`. One `escalations` entry, keyed by its last
/// sequence (`schema::escalation_key`), so the index costs one key per run, not one per
/// escalation. Runs never overlap: a sequence is stored once. The run's arithmetic is the
/// storage kit's (`socfed_runtime::store_kit::runs`), shared with the agent's outbox.
pub type EscalationRun = socfed_runtime::store_kit::runs::Run<EscalationRecord>;

/// Per-site facts, written only by the ingest writer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteRecord {
    pub epoch: Option<Ulid>,
    pub epoch_changes: u64,
    pub sequence_regression: bool,
    /// Sequences the site declared it will never send (dropped at its cap, set aside as
    /// undeliverable, or held by the hub once and lost by it).
    pub gaps: u64,
    /// Escalations that arrived ahead of an undeclared hole (stored, not yet acknowledged).
    pub out_of_order: u64,
    pub last_seen_ms: UnixMillis,
    pub escalations_stored: u64,
    pub duplicates: u64,
    pub conflicts: u64,
    pub rejected: u64,
    pub backlog: u64,
    pub oldest_unsent_age_ms: u64,
    pub refused_total: u64,
    pub dropped_total: u64,
    pub cert_not_after_ms: UnixMillis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReviewKind {
    /// Same idempotency key, different content.
    Conflict,
    /// The report failed validation.
    Rejected,
}

/// An escalation kept for human review instead of being applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRecord {
    pub site: SiteId,
    pub epoch: Ulid,
    pub seq: u64,
    pub kind: ReviewKind,
    pub reason: String,
    pub recorded_at_ms: UnixMillis,
    pub stored_hash: Option<[u8; 32]>,
    pub offered_hash: [u8; 32],
    /// The offered report in its wire encoding, as evidence.
    pub offered_wire: Vec<u8>,
}

/// Where a correlation fingerprint last pointed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FingerprintRecord {
    pub incident: Ulid,
    pub last_seen_ms: UnixMillis,
}

/// One event of the log. Words (phase, severity, TLP, state) are the CLI's words, so a
/// consumer needs no table of codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubEvent {
    pub at_ms: UnixMillis,
    /// The incident it is about; `None` for an event about no incident (a hunt started from
    /// indicators alone), which every operator may see.
    pub incident: Option<Ulid>,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    IncidentCreated {
        title: String,
        phase: String,
        severity: String,
        tlp: String,
        sites: Vec<String>,
    },
    IncidentChanged {
        phase: String,
        severity: String,
        tlp: String,
        ir_lead: Option<String>,
        /// The incident's latest timeline line: what changed, in words.
        what: String,
    },
    DirectiveFailed {
        directive: Ulid,
        site: String,
        directive_kind: String,
        /// `failed` or `refused`.
        state: String,
        detail: String,
    },
    HuntHit {
        hunt: Ulid,
        directive: Ulid,
        site: String,
        hits: u64,
    },
    /// A note written on the incident (issue 15): who and its marking, never its text (a
    /// reader asks `GET /api/v1/incidents/{id}/notes`, where the read rule applies).
    NoteAdded {
        note: Ulid,
        author: String,
        /// The note's own marking, `""` when it has none.
        tlp: String,
    },
}

impl EventKind {
    /// The kind's name, as the SSE `event:` field and the CLI show it.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::IncidentCreated { .. } => "incident_created",
            EventKind::IncidentChanged { .. } => "incident_changed",
            EventKind::DirectiveFailed { .. } => "directive_failed",
            EventKind::HuntHit { .. } => "hunt_hit",
            EventKind::NoteAdded { .. } => "note_added",
        }
    }
}

/// One site's enrolment (`enrolled_sites`, `crate::enrolment`): who enrolled it and when, and,
/// once removed, who removed it and when. A removed site keeps its record so the config's seed
/// never enrols it again behind the back of whoever removed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentRecord {
    /// The display name (the config's `name`, or `--name`); may be empty.
    pub name: String,
    pub enrolled_by: String,
    pub enrolled_at_ms: UnixMillis,
    /// Why: "seeded from config" or "enrolled by an operator".
    pub reason: String,
    /// `Some` once removed: who removed it and when.
    pub removed: Option<Removal>,
}

/// A site's removal from the enrolled sites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    pub by: String,
    pub at_ms: UnixMillis,
}

impl EnrolmentRecord {
    /// Whether the site may open an escalation stream.
    pub fn is_enrolled(&self) -> bool {
        self.removed.is_none()
    }
}
