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

mod model;
#[cfg(test)]
mod tests;

pub use model::{Action, ActionKind, Effect, GroupState, Status, StatusKind, Verdict};

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
///   are and the effects are `NotifyManager` (for `SlaBreach` only) then `EscalateToSirt`,
///   always last, so a caller that stops at it has seen everything. The caller is expected to
///   promote the group next. `SlaBreach` also restarts the running clock
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
                    vec![Effect::NotifyManager { reason }, Effect::EscalateToSirt],
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
