//! The data of the alert-group state machine: the state kept per group, the actions that
//! change it, the effects the caller carries out, and data-free "kinds" of status and action for
//! messages and tables. The rules that connect them are in [`super::apply`].

use crate::soc::Tier;
use serde::{Deserialize, Serialize};

/// How an alert group was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// A real attack or policy violation that was handled at the site without an incident.
    TruePositive,
    /// The detection fired on something it should not have.
    FalsePositive,
    /// The detection was right but the activity is expected (a scan by IT, a pentest).
    Benign,
    /// Covered by another alert group.
    Duplicate,
}

impl Verdict {
    pub const ALL: [Verdict; 4] = [
        Verdict::TruePositive,
        Verdict::FalsePositive,
        Verdict::Benign,
        Verdict::Duplicate,
    ];

    /// The name used in configuration, the CLI and serialized data.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::TruePositive => "true-positive",
            Verdict::FalsePositive => "false-positive",
            Verdict::Benign => "benign",
            Verdict::Duplicate => "duplicate",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an alert group is in its life. `New` and `Acknowledged` are *open*.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Waiting to be acknowledged at its current tier (the acknowledge SLA clock runs).
    New,
    /// Someone at the current tier has taken it (the resolve SLA clock runs).
    Acknowledged,
    /// Finished at the site.
    Closed { verdict: Verdict },
    /// Turned into an incident; work continues on the incident.
    Promoted { incident: String },
}

impl Status {
    pub fn kind(&self) -> StatusKind {
        match self {
            Status::New => StatusKind::New,
            Status::Acknowledged => StatusKind::Acknowledged,
            Status::Closed { .. } => StatusKind::Closed,
            Status::Promoted { .. } => StatusKind::Promoted,
        }
    }

    /// `New` or `Acknowledged`: work on the group is still going on at the site.
    pub fn is_open(&self) -> bool {
        self.kind().is_open()
    }
}

/// [`Status`] without its data, for messages and tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusKind {
    New,
    Acknowledged,
    Closed,
    Promoted,
}

impl StatusKind {
    pub const ALL: [StatusKind; 4] = [
        StatusKind::New,
        StatusKind::Acknowledged,
        StatusKind::Closed,
        StatusKind::Promoted,
    ];

    /// The word for the status in the CLI, the API's filters and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::New => "new",
            StatusKind::Acknowledged => "acknowledged",
            StatusKind::Closed => "closed",
            StatusKind::Promoted => "promoted",
        }
    }

    pub fn is_open(self) -> bool {
        match self {
            StatusKind::New | StatusKind::Acknowledged => true,
            StatusKind::Closed | StatusKind::Promoted => false,
        }
    }
}

impl std::fmt::Display for StatusKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything the state machine keeps about one alert group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupState {
    /// The tier that owns the group. It never goes down.
    pub tier: Tier,
    pub status: Status,
    /// Roster name of the analyst working on it, if any.
    pub assignee: Option<String>,
    /// When the group reached its current tier (start of the acknowledge clock).
    pub tier_since_ms: i64,
    /// When it was acknowledged at its current tier (start of the resolve clock). `None` while
    /// `New`; kept when the group is closed or promoted.
    pub acknowledged_at_ms: Option<i64>,
    /// How many comments were added, in every state.
    pub comments: u32,
}

impl GroupState {
    /// A fresh group: Tier 1, `New`, unassigned, acknowledge clock starting at `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        GroupState {
            tier: Tier::T1,
            status: Status::New,
            assignee: None,
            tier_since_ms: now_ms,
            acknowledged_at_ms: None,
            comments: 0,
        }
    }
}

/// A request to change an alert group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Take the group at its tier: `New` → `Acknowledged`. Assigns nobody.
    Acknowledge,
    /// Give an open group to an analyst (replaces any current assignee).
    Assign { analyst: String },
    /// Take an open group away from its assignee.
    Unassign,
    /// Add a note; allowed in every state.
    Comment { text: String },
    /// Hand an open group to the next tier, or to the SIRT hub from Tier 4.
    Escalate,
    /// The running SLA clock of an open group expired: escalate and tell the manager.
    SlaBreach,
    /// Finish an open group with a verdict.
    Close { verdict: Verdict },
    /// Turn an open group into the given incident.
    Promote { incident: String },
    /// Take a closed or promoted group up again at its tier.
    Reopen,
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Acknowledge => ActionKind::Acknowledge,
            Action::Assign { .. } => ActionKind::Assign,
            Action::Unassign => ActionKind::Unassign,
            Action::Comment { .. } => ActionKind::Comment,
            Action::Escalate => ActionKind::Escalate,
            Action::SlaBreach => ActionKind::SlaBreach,
            Action::Close { .. } => ActionKind::Close,
            Action::Promote { .. } => ActionKind::Promote,
            Action::Reopen => ActionKind::Reopen,
        }
    }
}

/// [`Action`] without its data, for messages and tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    Acknowledge,
    Assign,
    Unassign,
    Comment,
    Escalate,
    SlaBreach,
    Close,
    Promote,
    Reopen,
}

impl ActionKind {
    pub const ALL: [ActionKind; 9] = [
        ActionKind::Acknowledge,
        ActionKind::Assign,
        ActionKind::Unassign,
        ActionKind::Comment,
        ActionKind::Escalate,
        ActionKind::SlaBreach,
        ActionKind::Close,
        ActionKind::Promote,
        ActionKind::Reopen,
    ];
}

/// Reads as the verb of "cannot … an alert group that is …".
impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ActionKind::Acknowledge => "acknowledge",
            ActionKind::Assign => "assign",
            ActionKind::Unassign => "unassign",
            ActionKind::Comment => "comment on",
            ActionKind::Escalate => "escalate",
            ActionKind::SlaBreach => "record an SLA breach on",
            ActionKind::Close => "close",
            ActionKind::Promote => "promote",
            ActionKind::Reopen => "reopen",
        })
    }
}

/// What the caller must do after a successful [`super::apply`], in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The group moved up the ladder.
    TierRaised {
        from: Tier,
        to: Tier,
    },
    /// Nobody at `tier` holds the group: assign someone (round-robin from the roster).
    NeedsAssignment {
        tier: Tier,
    },
    /// Tier 4 escalated (or breached its SLA): promote the group to an incident and escalate
    /// that incident to the SIRT hub.
    EscalateToSirt,
    /// Tell the SOC manager, with a one-line reason.
    NotifyManager {
        reason: String,
    },
    Closed {
        verdict: Verdict,
    },
    PromotedTo {
        incident: String,
    },
}
