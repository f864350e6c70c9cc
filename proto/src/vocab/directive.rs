//! Directive states and the kinds agents handle themselves, shared by hub and agent so both
//! sides of the stream agree on what each state means and how far along it is.

use crate::pb;
use serde::{Deserialize, Serialize};

/// A threat hunt's sweep of one site's alerts.
pub const KIND_SWEEP: &str = "ioc_sweep";
/// Work for a site's analysts.
pub const KIND_TASK: &str = "task";
/// The hub incident id of local incidents changed (a merge or split at the hub).
pub const KIND_RELINKED: &str = "incident_relinked";
/// Kinds the agent handles itself: operators cannot issue them and playbooks cannot map them.
pub const AGENT_KINDS: [&str; 3] = [KIND_SWEEP, KIND_TASK, KIND_RELINKED];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DirectiveState {
    /// Held by the hub, not yet confirmed by the site.
    Queued,
    Received,
    Acknowledged,
    AwaitingApproval,
    Running,
    Succeeded,
    Failed,
    Refused,
    Expired,
    Interrupted,
    DryRun,
}

impl DirectiveState {
    pub fn is_final(self) -> bool {
        self.rank() == 4
    }

    /// Progress order; a report never moves a directive to a lower rank.
    pub fn rank(self) -> u8 {
        match self {
            DirectiveState::Queued => 0,
            DirectiveState::Received => 1,
            DirectiveState::Acknowledged | DirectiveState::AwaitingApproval => 2,
            DirectiveState::Running => 3,
            DirectiveState::Succeeded
            | DirectiveState::Failed
            | DirectiveState::Refused
            | DirectiveState::Expired
            | DirectiveState::Interrupted
            | DirectiveState::DryRun => 4,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DirectiveState::Queued => "queued",
            DirectiveState::Received => "received",
            DirectiveState::Acknowledged => "acknowledged",
            DirectiveState::AwaitingApproval => "awaiting-approval",
            DirectiveState::Running => "running",
            DirectiveState::Succeeded => "succeeded",
            DirectiveState::Failed => "failed",
            DirectiveState::Refused => "refused",
            DirectiveState::Expired => "expired",
            DirectiveState::Interrupted => "interrupted",
            DirectiveState::DryRun => "dry-run",
        }
    }

    pub fn to_wire(self) -> pb::DirectiveState {
        use pb::DirectiveState as W;
        match self {
            DirectiveState::Queued => W::Queued,
            DirectiveState::Received => W::Received,
            DirectiveState::Acknowledged => W::Acknowledged,
            DirectiveState::AwaitingApproval => W::AwaitingApproval,
            DirectiveState::Running => W::Running,
            DirectiveState::Succeeded => W::Succeeded,
            DirectiveState::Failed => W::Failed,
            DirectiveState::Refused => W::Refused,
            DirectiveState::Expired => W::Expired,
            DirectiveState::Interrupted => W::Interrupted,
            DirectiveState::DryRun => W::DryRun,
        }
    }

    /// `None` for unspecified or unknown values.
    pub fn from_wire(value: i32) -> Option<Self> {
        use pb::DirectiveState as W;
        Some(match W::try_from(value).ok()? {
            W::Unspecified => return None,
            W::Queued => DirectiveState::Queued,
            W::Received => DirectiveState::Received,
            W::Acknowledged => DirectiveState::Acknowledged,
            W::AwaitingApproval => DirectiveState::AwaitingApproval,
            W::Running => DirectiveState::Running,
            W::Succeeded => DirectiveState::Succeeded,
            W::Failed => DirectiveState::Failed,
            W::Refused => DirectiveState::Refused,
            W::Expired => DirectiveState::Expired,
            W::Interrupted => DirectiveState::Interrupted,
            W::DryRun => DirectiveState::DryRun,
        })
    }

    /// The word for a wire value, for command-line output.
    pub fn word(value: i32) -> &'static str {
        Self::from_wire(value).map_or("unknown", Self::as_str)
    }
}

impl std::fmt::Display for DirectiveState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_survives_the_wire_and_unknown_values_do_not() {
        use DirectiveState::*;
        let all = [
            Queued,
            Received,
            Acknowledged,
            AwaitingApproval,
            Running,
            Succeeded,
            Failed,
            Refused,
            Expired,
            Interrupted,
            DryRun,
        ];
        for state in all {
            assert_eq!(
                DirectiveState::from_wire(state.to_wire() as i32),
                Some(state)
            );
        }
        assert_eq!(DirectiveState::from_wire(0), None);
        assert_eq!(DirectiveState::from_wire(999), None);
        assert_eq!(DirectiveState::word(999), "unknown");
    }
}
