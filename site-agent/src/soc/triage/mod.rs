//! The alert-group state machine: status (new → acknowledged → closed or promoted), the tier
//! that owns the group, who it is assigned to, and the escalation ladder Tier 1 → 2 → 3 → 4 →
//! the SIRT hub.
//!
//! It owns the rules of which action is valid in which state and what each action changes. It
//! never decides *who* may act (that is [`super::authz`]), never reads the clock (time comes in
//! as `now_ms`, Unix milliseconds) and never stores or sends anything: it returns the next state
//! and a list of [`Effect`]s that the caller carries out (assign someone, tell the manager,
//! escalate to the hub).
//!
//! `now_ms` is taken as given: it is not checked against the timestamps already in the state, so
//! a clock that steps back only shortens or lengthens the next SLA deadline.

#[cfg(test)]
mod tests;

use super::Tier;
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

    pub fn is_open(self) -> bool {
        match self {
            StatusKind::New | StatusKind::Acknowledged => true,
            StatusKind::Closed | StatusKind::Promoted => false,
        }
    }
}

impl std::fmt::Display for StatusKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StatusKind::New => "new",
            StatusKind::Acknowledged => "acknowledged",
            StatusKind::Closed => "closed",
            StatusKind::Promoted => "promoted",
        })
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

/// What the caller must do after a successful [`apply`], in order.
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

/// Why an action was refused. The group is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TriageError {
    #[error("cannot {action} an alert group that is closed as {verdict}; reopen it first")]
    Closed {
        action: ActionKind,
        verdict: Verdict,
    },
    #[error(
        "cannot {action} an alert group that was promoted to incident {incident}; \
         work on the incident, or reopen the group first"
    )]
    Promoted {
        action: ActionKind,
        incident: String,
    },
    #[error("cannot acknowledge an alert group that is already acknowledged; nothing to do")]
    AlreadyAcknowledged,
    #[error(
        "cannot reopen an alert group that is {status}; only closed or promoted groups can be reopened"
    )]
    NotReopenable { status: StatusKind },
    #[error("cannot assign an alert group to an empty analyst name; give a roster name")]
    EmptyAnalyst,
    #[error("cannot add an empty comment; write some text")]
    EmptyComment,
    #[error("cannot promote an alert group to an empty incident id; give the incident id")]
    EmptyIncident,
}

/// Applies `action` to `state` at `now_ms`, returning the next state and the effects to carry
/// out. On error the caller keeps `state` as it was.
///
/// | status \ action | open (`New`, `Acknowledged`) | `Closed` | `Promoted` |
/// |---|---|---|---|
/// | `Acknowledge` | `New` → `Acknowledged`, `acknowledged_at = now`; error if already acknowledged | error | error |
/// | `Assign`, `Unassign` | set / clear the assignee, status unchanged | error | error |
/// | `Comment` | `comments + 1` | `comments + 1` | `comments + 1` |
/// | `Escalate`, `SlaBreach` | next tier, `New`, unassigned, clocks restart (see below) | error | error |
/// | `Close` | `Closed { verdict }` | error | error |
/// | `Promote` | `Promoted { incident }` | error | error |
/// | `Reopen` | error | `Acknowledged` at the same tier | `Acknowledged` at the same tier |
///
/// Decisions on the edges:
/// - `Assign` to the current assignee and `Unassign` of an unassigned group succeed without
///   change or effect, so a retried request is harmless.
/// - Empty analyst names, comments and incident ids are refused (whitespace counts as empty).
/// - Below Tier 4, `Escalate` and `SlaBreach` move the group to the next tier as `New`,
///   unassigned, with `tier_since = now` and no `acknowledged_at`; effects are
///   `TierRaised`, `NeedsAssignment` and, for `SlaBreach`, `NotifyManager`.
/// - At Tier 4 there is no higher tier at the site: the tier, status and assignee stay as they
///   are and the effect is `EscalateToSirt` (plus `NotifyManager` for `SlaBreach`). The caller is
///   expected to promote the group next. `SlaBreach` also restarts the running clock
///   (`tier_since` while `New`, `acknowledged_at` while `Acknowledged`) so that one breach is
///   reported once, not again on every SLA tick until the promotion lands.
/// - `Close` and `Promote` keep the assignee and `acknowledged_at` as a record of who held it.
/// - `Reopen` sets `acknowledged_at = now` (a fresh resolve clock) and keeps the tier, the
///   assignee and `tier_since`. If nobody is assigned it asks for an assignment at that tier.
///   A reopened promoted group forgets its incident id; the incident itself is the caller's.
pub fn apply(
    state: &GroupState,
    action: &Action,
    now_ms: i64,
) -> Result<(GroupState, Vec<Effect>), TriageError> {
    match (&state.status, action) {
        (Status::New, Action::Acknowledge) => Ok((
            GroupState {
                status: Status::Acknowledged,
                acknowledged_at_ms: Some(now_ms),
                ..state.clone()
            },
            Vec::new(),
        )),
        (Status::Acknowledged, Action::Acknowledge) => Err(TriageError::AlreadyAcknowledged),
        (Status::New | Status::Acknowledged, Action::Assign { analyst }) => {
            let analyst = analyst.trim();
            if analyst.is_empty() {
                return Err(TriageError::EmptyAnalyst);
            }
            Ok((
                GroupState {
                    assignee: Some(analyst.to_owned()),
                    ..state.clone()
                },
                Vec::new(),
            ))
        }
        (Status::New | Status::Acknowledged, Action::Unassign) => Ok((
            GroupState {
                assignee: None,
                ..state.clone()
            },
            Vec::new(),
        )),
        (
            Status::New | Status::Acknowledged | Status::Closed { .. } | Status::Promoted { .. },
            Action::Comment { text },
        ) => {
            if text.trim().is_empty() {
                return Err(TriageError::EmptyComment);
            }
            Ok((
                GroupState {
                    comments: state.comments.saturating_add(1),
                    ..state.clone()
                },
                Vec::new(),
            ))
        }
        (Status::New | Status::Acknowledged, Action::Escalate) => {
            Ok(raise(state, Cause::Escalate, now_ms))
        }
        (Status::New | Status::Acknowledged, Action::SlaBreach) => {
            Ok(raise(state, Cause::SlaBreach, now_ms))
        }
        (Status::New | Status::Acknowledged, Action::Close { verdict }) => Ok((
            GroupState {
                status: Status::Closed { verdict: *verdict },
                ..state.clone()
            },
            vec![Effect::Closed { verdict: *verdict }],
        )),
        (Status::New | Status::Acknowledged, Action::Promote { incident }) => {
            let incident = incident.trim();
            if incident.is_empty() {
                return Err(TriageError::EmptyIncident);
            }
            Ok((
                GroupState {
                    status: Status::Promoted {
                        incident: incident.to_owned(),
                    },
                    ..state.clone()
                },
                vec![Effect::PromotedTo {
                    incident: incident.to_owned(),
                }],
            ))
        }
        (Status::New | Status::Acknowledged, Action::Reopen) => Err(TriageError::NotReopenable {
            status: state.status.kind(),
        }),
        (Status::Closed { .. } | Status::Promoted { .. }, Action::Reopen) => {
            let effects = match state.assignee {
                Some(_) => Vec::new(),
                None => vec![Effect::NeedsAssignment { tier: state.tier }],
            };
            Ok((
                GroupState {
                    status: Status::Acknowledged,
                    acknowledged_at_ms: Some(now_ms),
                    ..state.clone()
                },
                effects,
            ))
        }
        (
            Status::Closed { verdict },
            Action::Acknowledge
            | Action::Assign { .. }
            | Action::Unassign
            | Action::Escalate
            | Action::SlaBreach
            | Action::Close { .. }
            | Action::Promote { .. },
        ) => Err(TriageError::Closed {
            action: action.kind(),
            verdict: *verdict,
        }),
        (
            Status::Promoted { incident },
            Action::Acknowledge
            | Action::Assign { .. }
            | Action::Unassign
            | Action::Escalate
            | Action::SlaBreach
            | Action::Close { .. }
            | Action::Promote { .. },
        ) => Err(TriageError::Promoted {
            action: action.kind(),
            incident: incident.clone(),
        }),
    }
}

#[derive(Clone, Copy)]
enum Cause {
    Escalate,
    SlaBreach,
}

/// `Escalate` or `SlaBreach` on an open group (the caller has checked it is open).
fn raise(state: &GroupState, cause: Cause, now_ms: i64) -> (GroupState, Vec<Effect>) {
    let from = state.tier;
    let Some(to) = from.next() else {
        // Tier 4: the next rung is the SIRT hub, reached through an incident.
        return match cause {
            Cause::Escalate => (state.clone(), vec![Effect::EscalateToSirt]),
            Cause::SlaBreach => {
                let restarted = match state.status {
                    Status::Acknowledged => GroupState {
                        acknowledged_at_ms: Some(now_ms),
                        ..state.clone()
                    },
                    Status::New | Status::Closed { .. } | Status::Promoted { .. } => GroupState {
                        tier_since_ms: now_ms,
                        ..state.clone()
                    },
                };
                let reason = format!(
                    "SLA breached at {from} while {}; escalating to the SIRT hub",
                    state.status.kind()
                );
                (
                    restarted,
                    vec![Effect::EscalateToSirt, Effect::NotifyManager { reason }],
                )
            }
        };
    };
    let next = GroupState {
        tier: to,
        status: Status::New,
        assignee: None,
        tier_since_ms: now_ms,
        acknowledged_at_ms: None,
        comments: state.comments,
    };
    let mut effects = vec![
        Effect::TierRaised { from, to },
        Effect::NeedsAssignment { tier: to },
    ];
    match cause {
        Cause::Escalate => {}
        Cause::SlaBreach => effects.push(Effect::NotifyManager {
            reason: format!(
                "SLA breached at {from} while {}; escalated to {to}",
                state.status.kind()
            ),
        }),
    }
    (next, effects)
}
