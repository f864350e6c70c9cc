//! The data of the hub incident lifecycle: the state kept per incident, the commands that
//! change it, and data-free "kinds" of phase and command for messages and tables (the events
//! recording each change are in [`super::events`]). The rules that connect them are in
//! [`super::apply`] and [`super::authz`].

use serde::{Deserialize, Serialize};
use socfed_proto::vocab::{Severity, Technique, Tlp};
use std::fmt;

/// Why an incident was closed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resolution {
    /// Handled through recovery (and, when held, the post-incident review).
    Resolved,
    /// Not an incident after all.
    FalsePositive,
    /// Covered by another hub incident, named by `of`.
    Duplicate { of: String },
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resolution::Resolved => f.write_str("resolved"),
            Resolution::FalsePositive => f.write_str("false positive"),
            Resolution::Duplicate { of } => write!(f, "duplicate of {of}"),
        }
    }
}

/// Where an incident is, following the phases of NIST SP 800-61. Every phase but `Closed` is
/// *open*.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    New,
    Triage,
    Containment,
    Eradication,
    Recovery,
    PostIncidentReview,
    Closed { resolution: Resolution },
}

impl Phase {
    pub fn kind(&self) -> PhaseKind {
        match self {
            Phase::New => PhaseKind::New,
            Phase::Triage => PhaseKind::Triage,
            Phase::Containment => PhaseKind::Containment,
            Phase::Eradication => PhaseKind::Eradication,
            Phase::Recovery => PhaseKind::Recovery,
            Phase::PostIncidentReview => PhaseKind::PostIncidentReview,
            Phase::Closed { .. } => PhaseKind::Closed,
        }
    }
}

/// [`Phase`] without its data, for messages, tables and timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhaseKind {
    New,
    Triage,
    Containment,
    Eradication,
    Recovery,
    PostIncidentReview,
    Closed,
}

impl PhaseKind {
    pub const ALL: [PhaseKind; 7] = [
        PhaseKind::New,
        PhaseKind::Triage,
        PhaseKind::Containment,
        PhaseKind::Eradication,
        PhaseKind::Recovery,
        PhaseKind::PostIncidentReview,
        PhaseKind::Closed,
    ];

    /// Stable kebab-case name, for the CLI, logs and stored data.
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseKind::New => "new",
            PhaseKind::Triage => "triage",
            PhaseKind::Containment => "containment",
            PhaseKind::Eradication => "eradication",
            PhaseKind::Recovery => "recovery",
            PhaseKind::PostIncidentReview => "post-incident-review",
            PhaseKind::Closed => "closed",
        }
    }

    /// The phase as the complement of "an incident that is …".
    pub fn as_state(self) -> &'static str {
        match self {
            PhaseKind::New => "new",
            PhaseKind::Triage => "in triage",
            PhaseKind::Containment => "in containment",
            PhaseKind::Eradication => "in eradication",
            PhaseKind::Recovery => "in recovery",
            PhaseKind::PostIncidentReview => "in post-incident review",
            PhaseKind::Closed => "closed",
        }
    }
}

impl fmt::Display for PhaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Response priority: P1 is the most urgent. Ordered P1 first, so sorting puts it on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::P1, Priority::P2, Priority::P3, Priority::P4];

    /// 4 for P1 down to 1 for P4: a larger number is more urgent.
    pub fn urgency(self) -> u8 {
        match self {
            Priority::P1 => 4,
            Priority::P2 => 3,
            Priority::P3 => 2,
            Priority::P4 => 1,
        }
    }

    /// The priority a new incident starts with: critical → P1, high → P2, medium → P3,
    /// low and informational → P4.
    pub fn from_severity(severity: Severity) -> Priority {
        match severity {
            Severity::Critical => Priority::P1,
            Severity::High => Priority::P2,
            Severity::Medium => Priority::P3,
            Severity::Low | Severity::Informational => Priority::P4,
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}", 5 - self.urgency())
    }
}

/// Something an operator asks of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    StartTriage,
    Contain,
    Eradicate,
    Recover,
    StartReview,
    /// Close as resolved.
    Close,
    CloseAsFalsePositive,
    CloseAsDuplicate {
        of: String,
    },
    Reopen {
        reason: String,
    },
    SetSeverity(Severity),
    SetPriority(Priority),
    SetTlp(Tlp),
    /// An ATT&CK technique id, checked with [`Technique::parse`].
    AddTechnique(String),
    AssignIrLead {
        operator: String,
    },
}

impl Command {
    pub fn kind(&self) -> CommandKind {
        match self {
            Command::StartTriage => CommandKind::StartTriage,
            Command::Contain => CommandKind::Contain,
            Command::Eradicate => CommandKind::Eradicate,
            Command::Recover => CommandKind::Recover,
            Command::StartReview => CommandKind::StartReview,
            Command::Close => CommandKind::Close,
            Command::CloseAsFalsePositive => CommandKind::CloseAsFalsePositive,
            Command::CloseAsDuplicate { .. } => CommandKind::CloseAsDuplicate,
            Command::Reopen { .. } => CommandKind::Reopen,
            Command::SetSeverity(_) => CommandKind::SetSeverity,
            Command::SetPriority(_) => CommandKind::SetPriority,
            Command::SetTlp(_) => CommandKind::SetTlp,
            Command::AddTechnique(_) => CommandKind::AddTechnique,
            Command::AssignIrLead { .. } => CommandKind::AssignIrLead,
        }
    }
}

/// [`Command`] without its data, for messages and tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandKind {
    StartTriage,
    Contain,
    Eradicate,
    Recover,
    StartReview,
    Close,
    CloseAsFalsePositive,
    CloseAsDuplicate,
    Reopen,
    SetSeverity,
    SetPriority,
    SetTlp,
    AddTechnique,
    AssignIrLead,
}

impl CommandKind {
    pub const ALL: [CommandKind; 14] = [
        CommandKind::StartTriage,
        CommandKind::Contain,
        CommandKind::Eradicate,
        CommandKind::Recover,
        CommandKind::StartReview,
        CommandKind::Close,
        CommandKind::CloseAsFalsePositive,
        CommandKind::CloseAsDuplicate,
        CommandKind::Reopen,
        CommandKind::SetSeverity,
        CommandKind::SetPriority,
        CommandKind::SetTlp,
        CommandKind::AddTechnique,
        CommandKind::AssignIrLead,
    ];

    /// The command as a verb taking "an incident": "cannot {verb} an incident that is …".
    pub fn verb(self) -> &'static str {
        match self {
            CommandKind::StartTriage => "start triage on",
            CommandKind::Contain => "contain",
            CommandKind::Eradicate => "start eradication on",
            CommandKind::Recover => "start recovery on",
            CommandKind::StartReview => "start the post-incident review of",
            CommandKind::Close => "close as resolved",
            CommandKind::CloseAsFalsePositive => "close as false positive",
            CommandKind::CloseAsDuplicate => "close as duplicate",
            CommandKind::Reopen => "reopen",
            CommandKind::SetSeverity => "set the severity of",
            CommandKind::SetPriority => "set the priority of",
            CommandKind::SetTlp => "set the TLP of",
            CommandKind::AddTechnique => "add a technique to",
            CommandKind::AssignIrLead => "assign the IR lead of",
        }
    }
}

/// When the incident first entered each phase (`None`: not yet, or skipped). Set once and
/// never changed, so KPIs (time to triage, to contain, to resolve) measure the first pass; a
/// reopened incident keeps them and the event log holds every later transition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PhaseTimes {
    pub triage_ms: Option<i64>,
    pub containment_ms: Option<i64>,
    pub eradication_ms: Option<i64>,
    pub recovery_ms: Option<i64>,
    pub review_ms: Option<i64>,
    pub closed_ms: Option<i64>,
}

impl PhaseTimes {
    /// The slot for `phase`; `New` has none (its time is `opened_ms`).
    pub fn get(&self, phase: PhaseKind) -> Option<i64> {
        match phase {
            PhaseKind::New => None,
            PhaseKind::Triage => self.triage_ms,
            PhaseKind::Containment => self.containment_ms,
            PhaseKind::Eradication => self.eradication_ms,
            PhaseKind::Recovery => self.recovery_ms,
            PhaseKind::PostIncidentReview => self.review_ms,
            PhaseKind::Closed => self.closed_ms,
        }
    }

    /// Records `at` for `phase` unless it was entered before.
    pub(super) fn stamp(&mut self, phase: PhaseKind, at: i64) {
        let slot = match phase {
            PhaseKind::New => return,
            PhaseKind::Triage => &mut self.triage_ms,
            PhaseKind::Containment => &mut self.containment_ms,
            PhaseKind::Eradication => &mut self.eradication_ms,
            PhaseKind::Recovery => &mut self.recovery_ms,
            PhaseKind::PostIncidentReview => &mut self.review_ms,
            PhaseKind::Closed => &mut self.closed_ms,
        };
        slot.get_or_insert(at);
    }
}

/// The lifecycle part of a hub incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentLifecycle {
    pub phase: Phase,
    pub severity: Severity,
    pub priority: Priority,
    pub tlp: Tlp,
    /// Sorted, without duplicates.
    pub techniques: Vec<Technique>,
    /// The operator accountable for the response, once assigned.
    pub ir_lead: Option<String>,
    pub opened_ms: i64,
    /// Time of the last change; never decreases (see [`super::apply`] on clocks).
    pub updated_ms: i64,
    pub entered: PhaseTimes,
    /// How many times the incident was reopened.
    pub reopened: u32,
}

impl IncidentLifecycle {
    /// Folds a site's facts in: severity and TLP only rise, and the priority is at least the
    /// one the new severity suggests ([`Priority::from_severity`]). Lowering any of them is an
    /// operator's decision through [`super::apply`]. Every path that takes site facts (a report
    /// joining, a merge, a split) goes through here, so one severity means one priority.
    pub fn raise_from_site(&mut self, severity: Severity, tlp: Tlp) {
        self.severity = self.severity.max(severity);
        self.tlp = self.tlp.max(tlp);
        self.priority = self.priority.min(Priority::from_severity(self.severity));
    }

    /// When the incident was closed, if it is closed now: after a reopen, the last closure
    /// counts, and an open incident has none. While closed nothing but a reopen changes the
    /// lifecycle ([`super::apply`]), so the last change is the closure.
    pub fn closed_at(&self) -> Option<i64> {
        matches!(self.phase, Phase::Closed { .. }).then_some(self.updated_ms)
    }

    /// A new incident at `now_ms`, with the priority its severity suggests and no IR lead.
    pub fn new(severity: Severity, tlp: Tlp, now_ms: i64) -> Self {
        Self {
            phase: Phase::New,
            severity,
            priority: Priority::from_severity(severity),
            tlp,
            techniques: Vec::new(),
            ir_lead: None,
            opened_ms: now_ms,
            updated_ms: now_ms,
            entered: PhaseTimes::default(),
            reopened: 0,
        }
    }
}
