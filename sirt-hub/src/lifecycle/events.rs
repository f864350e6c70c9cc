//! What an applied command changed: one [`Event`] per change, for the hub's audit log and the
//! incident timeline. Produced by [`super::apply`]; never read back by it.

use super::model::{PhaseKind, Priority, Resolution};
use super::roles::HubRole;
use serde::{Deserialize, Serialize};
use socfed_proto::vocab::{Severity, Technique, Tlp};
use std::fmt;

/// One change to an incident, for the audit log and the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// When it took effect (the clamped `now_ms`, equal to the new `updated_ms`).
    pub at_ms: i64,
    pub actor: String,
    pub role: HubRole,
    pub change: Change,
}

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    PhaseChanged {
        from: PhaseKind,
        to: PhaseKind,
    },
    Closed {
        from: PhaseKind,
        resolution: Resolution,
    },
    /// `count` is the new value of `reopened`.
    Reopened {
        was: Resolution,
        reason: String,
        count: u32,
    },
    SeverityChanged {
        from: Severity,
        to: Severity,
    },
    PriorityChanged {
        from: Priority,
        to: Priority,
    },
    TlpChanged {
        from: Tlp,
        to: Tlp,
    },
    TechniqueAdded {
        technique: Technique,
    },
    IrLeadAssigned {
        previous: Option<String>,
        operator: String,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let direction = |up: bool| if up { "raised" } else { "lowered" };
        match self {
            Change::PhaseChanged { from, to } => write!(f, "moved from {from} to {to}"),
            Change::Closed { from, resolution } => write!(f, "closed as {resolution} from {from}"),
            Change::Reopened { was, reason, count } => {
                write!(f, "reopened (was {was}, reopen {count}): {reason}")
            }
            Change::SeverityChanged { from, to } => {
                write!(f, "severity {} from {from} to {to}", direction(to > from))
            }
            Change::PriorityChanged { from, to } => write!(
                f,
                "priority {} from {from} to {to}",
                direction(to.urgency() > from.urgency())
            ),
            Change::TlpChanged { from, to } => write!(f, "TLP changed from {from} to {to}"),
            Change::TechniqueAdded { technique } => write!(f, "added technique {technique}"),
            Change::IrLeadAssigned { previous, operator } => match previous {
                Some(previous) => write!(f, "IR lead {operator} replaces {previous}"),
                None => write!(f, "IR lead {operator} assigned"),
            },
        }
    }
}
