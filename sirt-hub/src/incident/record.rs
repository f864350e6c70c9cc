//! A hub incident as the domain knows it: its sightings per site (with each local incident),
//! indicators, lifecycle, timeline, regulatory clocks and correlation fingerprints. Plain data
//! with serde: the store encodes it with a version byte (`store/schema.rs`), and every change
//! of shape bumps that version (`store/legacy.rs` reads the older ones).

use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::{Indicator, LocalStatus, Severity, SiteId, Technique, Tlp};
use ulid::Ulid;

/// NIST SP 800-61 phases; the full lifecycle arrives with the hub coordination work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IncidentStatus {
    New,
    Triage,
    Containment,
    Eradication,
    Recovery,
    PostIncident,
    Closed,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 7] = [
        IncidentStatus::New,
        IncidentStatus::Triage,
        IncidentStatus::Containment,
        IncidentStatus::Eradication,
        IncidentStatus::Recovery,
        IncidentStatus::PostIncident,
        IncidentStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::New => "new",
            IncidentStatus::Triage => "triage",
            IncidentStatus::Containment => "containment",
            IncidentStatus::Eradication => "eradication",
            IncidentStatus::Recovery => "recovery",
            IncidentStatus::PostIncident => "post-incident",
            IncidentStatus::Closed => "closed",
        }
    }
}

/// One site's view of a hub incident, with provenance (record version 3: one entry per local
/// incident, with the site's status and owner of it; version 2 kept one owner and revision
/// per site, see `upgrade.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sighting {
    pub site: SiteId,
    /// The site's local incidents in this incident, in the order they joined. Never empty.
    pub locals: Vec<LocalContribution>,
    /// Severity of the site's latest revision.
    pub local_severity: Severity,
    pub first_seen_ms: UnixMillis,
    pub last_seen_ms: UnixMillis,
    /// Why this site's report joined: "opened the incident" or the matching fingerprint.
    pub joined_because: String,
}

/// One local incident of a site, as the site's latest revision of it said. Written only from
/// reports: the site's SOC owns these facts, the hub only shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalContribution {
    pub id: String,
    /// The highest revision received (revisions may arrive out of order after a new epoch).
    pub revision: u32,
    /// `None` until a revision says (an agent older than status reports).
    pub status: Option<LocalStatus>,
    /// A roster name at the site; empty while the site named nobody.
    pub owner: String,
    /// When the hub received the revision these facts come from.
    pub updated_at_ms: UnixMillis,
}

impl Sighting {
    /// The site's local incident ids, in the order they joined.
    pub fn local_incident_ids(&self) -> Vec<String> {
        self.locals.iter().map(|l| l.id.clone()).collect()
    }

    /// The highest revision of any of the site's local incidents here.
    pub fn revision(&self) -> u32 {
        self.locals.iter().map(|l| l.revision).max().unwrap_or(0)
    }

    /// The owner named by the site's most recent revision that named one.
    pub fn local_owner(&self) -> &str {
        self.locals
            .iter()
            .filter(|l| !l.owner.is_empty())
            .max_by_key(|l| l.updated_at_ms)
            .map_or("", |l| l.owner.as_str())
    }
}

/// A hub incident. Its status, severity, priority, TLP, techniques and IR lead live in one
/// place, the lifecycle state (`lifecycle`), and are read through the accessors below: sites'
/// reports raise severity and TLP and add techniques there, operators change them there, so no
/// second copy can disagree (record version 2; version 1 kept copies, see `upgrade.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRecord {
    pub id: Ulid,
    pub title: String,
    pub indicators: Vec<Indicator>,
    /// Indicators dropped to keep the record within its size (`incident/size.rs`); every
    /// report stays whole in the escalations.
    pub indicators_elided: u64,
    pub sightings: Vec<Sighting>,
    pub created_at_ms: UnixMillis,
    pub updated_at_ms: UnixMillis,
    /// The response lifecycle (phase, priority, IR lead, phase times) driven by operators.
    pub lifecycle: crate::lifecycle::IncidentLifecycle,
    /// What happened to the incident, oldest first (bounded; the audit log keeps everything).
    pub timeline: Vec<TimelineEntry>,
    /// Timeline entries dropped at the cap, between the first entry and the rest (the second
    /// entry then says how many; see `incident::push_timeline`).
    pub timeline_elided: u64,
    /// Regulatory regimes flagged on the incident and the filings recorded.
    pub regulatory: crate::regulatory::RegulatoryClocks,
    /// Correlation fingerprints pointing at this incident (bounded), so a merge can repoint
    /// them at the surviving incident.
    pub fingerprints: Vec<[u8; 32]>,
}

impl IncidentRecord {
    /// The coarse status of listings, from the lifecycle phase.
    pub fn status(&self) -> IncidentStatus {
        IncidentStatus::of(&self.lifecycle.phase)
    }

    /// Highest severity any site reported, unless an operator set it since.
    pub fn severity(&self) -> Severity {
        self.lifecycle.severity
    }

    /// Most restrictive TLP any site reported, unless an operator set it since.
    pub fn tlp(&self) -> Tlp {
        self.lifecycle.tlp
    }

    /// ATT&CK techniques reported by sites and added by operators; sorted, each once.
    pub fn techniques(&self) -> &[Technique] {
        &self.lifecycle.techniques
    }

    /// Whether the incident is closed (resolved, false positive, or merged away).
    pub fn is_closed(&self) -> bool {
        matches!(self.lifecycle.phase, crate::lifecycle::Phase::Closed { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at_ms: UnixMillis,
    pub actor: String,
    pub text: String,
}

impl IncidentStatus {
    /// The coarse status shown in listings, from the lifecycle phase.
    pub fn of(phase: &crate::lifecycle::Phase) -> Self {
        use crate::lifecycle::Phase;
        match phase {
            Phase::New => IncidentStatus::New,
            Phase::Triage => IncidentStatus::Triage,
            Phase::Containment => IncidentStatus::Containment,
            Phase::Eradication => IncidentStatus::Eradication,
            Phase::Recovery => IncidentStatus::Recovery,
            Phase::PostIncidentReview => IncidentStatus::PostIncident,
            Phase::Closed { .. } => IncidentStatus::Closed,
        }
    }
}
