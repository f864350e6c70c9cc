#![allow(
    clippy::unwrap_used,
    reason = "a test that unwraps fails loudly, which is the point"
)]

mod props;
mod table;

use super::*;
use crate::soc::Tier;

const T0: i64 = 1_700_000_000_000;

/// A representative state for each status kind, owned by `tier`, assigned to alice.
fn sample_state(kind: StatusKind, tier: u8) -> GroupState {
    let tier = Tier::from_number(tier).unwrap_or(Tier::T1);
    let (status, acknowledged_at_ms) = match kind {
        StatusKind::New => (Status::New, None),
        StatusKind::Acknowledged => (Status::Acknowledged, Some(T0 + 2_000)),
        StatusKind::Closed => (
            Status::Closed {
                verdict: Verdict::Benign,
            },
            Some(T0 + 2_000),
        ),
        StatusKind::Promoted => (
            Status::Promoted {
                incident: "INC-1".to_owned(),
            },
            Some(T0 + 2_000),
        ),
    };
    GroupState {
        tier,
        status,
        assignee: Some("alice".to_owned()),
        tier_since_ms: T0 + 1_000,
        acknowledged_at_ms,
        comments: 3,
    }
}

fn sample_action(kind: ActionKind) -> Action {
    match kind {
        ActionKind::Acknowledge => Action::Acknowledge,
        ActionKind::Assign => Action::Assign {
            analyst: "bob".to_owned(),
        },
        ActionKind::Unassign => Action::Unassign,
        ActionKind::Comment => Action::Comment {
            text: "checked the proxy logs".to_owned(),
        },
        ActionKind::Escalate => Action::Escalate,
        ActionKind::SlaBreach => Action::SlaBreach,
        ActionKind::Close => Action::Close {
            verdict: Verdict::FalsePositive,
        },
        ActionKind::Promote => Action::Promote {
            incident: "INC-9".to_owned(),
        },
        ActionKind::Reopen => Action::Reopen,
    }
}

#[test]
fn new_group_is_new_unassigned_at_tier_1() {
    let state = GroupState::new(T0);
    assert_eq!(state.tier, Tier::T1);
    assert_eq!(state.status, Status::New);
    assert_eq!(state.assignee, None);
    assert_eq!(state.tier_since_ms, T0);
    assert_eq!(state.acknowledged_at_ms, None);
    assert_eq!(state.comments, 0);
}

#[test]
fn acknowledge_starts_the_resolve_clock_and_assigns_nobody() {
    let (next, effects) = apply(&GroupState::new(T0), &Action::Acknowledge, T0 + 5).unwrap();
    assert_eq!(next.status, Status::Acknowledged);
    assert_eq!(next.acknowledged_at_ms, Some(T0 + 5));
    assert_eq!(next.assignee, None);
    assert!(effects.is_empty());
}

#[test]
fn escalate_below_tier_4_hands_the_group_to_the_next_tier_as_new() {
    let state = sample_state(StatusKind::Acknowledged, 2);
    let (next, effects) = apply(&state, &Action::Escalate, T0 + 9).unwrap();
    assert_eq!(
        next,
        GroupState {
            tier: Tier::T3,
            status: Status::New,
            assignee: None,
            tier_since_ms: T0 + 9,
            acknowledged_at_ms: None,
            comments: 3,
        }
    );
    assert_eq!(
        effects,
        vec![
            Effect::TierRaised {
                from: Tier::T2,
                to: Tier::T3
            },
            Effect::NeedsAssignment { tier: Tier::T3 },
        ]
    );
}

#[test]
fn sla_breach_below_tier_4_escalates_and_notifies_the_manager() {
    let (next, effects) = apply(&GroupState::new(T0), &Action::SlaBreach, T0 + 9).unwrap();
    assert_eq!(next.tier, Tier::T2);
    assert_eq!(next.tier_since_ms, T0 + 9);
    assert_eq!(
        effects,
        vec![
            Effect::TierRaised {
                from: Tier::T1,
                to: Tier::T2
            },
            Effect::NeedsAssignment { tier: Tier::T2 },
            Effect::NotifyManager {
                reason: "SLA breached at tier 1 while new; escalated to tier 2".to_owned()
            },
        ]
    );
}

#[test]
fn escalate_at_tier_4_asks_for_the_sirt_hub_and_keeps_the_group() {
    let state = sample_state(StatusKind::Acknowledged, 4);
    let (next, effects) = apply(&state, &Action::Escalate, T0 + 9).unwrap();
    assert_eq!(next, state);
    assert_eq!(effects, vec![Effect::EscalateToSirt]);
}

#[test]
fn sla_breach_at_tier_4_restarts_the_running_clock_once() {
    let new = sample_state(StatusKind::New, 4);
    let (next, effects) = apply(&new, &Action::SlaBreach, T0 + 9).unwrap();
    assert_eq!(
        next,
        GroupState {
            tier_since_ms: T0 + 9,
            ..new
        }
    );
    assert_eq!(
        effects,
        vec![
            Effect::NotifyManager {
                reason: "SLA breached at tier 4 while new; escalating to the SIRT hub".to_owned()
            },
            Effect::EscalateToSirt,
        ]
    );

    let acked = sample_state(StatusKind::Acknowledged, 4);
    let (next, _) = apply(&acked, &Action::SlaBreach, T0 + 9).unwrap();
    assert_eq!(
        next,
        GroupState {
            acknowledged_at_ms: Some(T0 + 9),
            ..acked
        }
    );
}

#[test]
fn close_and_promote_keep_who_held_the_group() {
    let state = sample_state(StatusKind::Acknowledged, 2);
    let (closed, effects) = apply(
        &state,
        &Action::Close {
            verdict: Verdict::TruePositive,
        },
        T0 + 9,
    )
    .unwrap();
    assert_eq!(closed.assignee.as_deref(), Some("alice"));
    assert_eq!(closed.acknowledged_at_ms, state.acknowledged_at_ms);
    assert_eq!(
        effects,
        vec![Effect::Closed {
            verdict: Verdict::TruePositive
        }]
    );
    let (promoted, effects) = apply(
        &state,
        &Action::Promote {
            incident: " INC-7 ".to_owned(),
        },
        T0 + 9,
    )
    .unwrap();
    assert_eq!(
        promoted.status,
        Status::Promoted {
            incident: "INC-7".to_owned()
        }
    );
    assert_eq!(
        effects,
        vec![Effect::PromotedTo {
            incident: "INC-7".to_owned()
        }]
    );
}

#[test]
fn reopen_restarts_the_resolve_clock_at_the_same_tier() {
    let mut closed = sample_state(StatusKind::Closed, 3);
    let (next, effects) = apply(&closed, &Action::Reopen, T0 + 50).unwrap();
    assert_eq!(next.tier, Tier::T3);
    assert_eq!(next.status, Status::Acknowledged);
    assert_eq!(next.acknowledged_at_ms, Some(T0 + 50));
    assert_eq!(next.tier_since_ms, closed.tier_since_ms);
    assert!(effects.is_empty());

    closed.assignee = None;
    let (_, effects) = apply(&closed, &Action::Reopen, T0 + 50).unwrap();
    assert_eq!(effects, vec![Effect::NeedsAssignment { tier: Tier::T3 }]);
}

#[test]
fn comments_count_in_every_state() {
    for kind in StatusKind::ALL {
        let state = sample_state(kind, 1);
        let action = Action::Comment {
            text: "note".to_owned(),
        };
        let (next, effects) = apply(&state, &action, T0).unwrap();
        assert_eq!(next.comments, state.comments + 1, "{kind:?}");
        assert_eq!(next.status, state.status);
        assert!(effects.is_empty());
    }
}

#[test]
fn repeated_assignment_changes_are_harmless() {
    let state = sample_state(StatusKind::New, 1);
    let same = Action::Assign {
        analyst: "alice".to_owned(),
    };
    assert_eq!(apply(&state, &same, T0).unwrap(), (state.clone(), vec![]));
    let unassigned = GroupState {
        assignee: None,
        ..state
    };
    assert_eq!(
        apply(&unassigned, &Action::Unassign, T0).unwrap(),
        (unassigned.clone(), vec![])
    );
}

#[test]
fn empty_names_and_texts_are_refused() {
    let state = sample_state(StatusKind::New, 1);
    let cases = [
        (
            Action::Assign {
                analyst: " ".to_owned(),
            },
            TriageError::EmptyAnalyst,
        ),
        (
            Action::Comment {
                text: String::new(),
            },
            TriageError::EmptyComment,
        ),
        (
            Action::Promote {
                incident: "\t".to_owned(),
            },
            TriageError::EmptyIncident,
        ),
    ];
    for (action, want) in cases {
        assert_eq!(apply(&state, &action, T0), Err(want));
    }
}

#[test]
fn error_messages_say_what_to_do_next() {
    let closed = sample_state(StatusKind::Closed, 1);
    let err = apply(&closed, &Action::Escalate, T0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot escalate an alert group that is closed as benign; reopen it first"
    );
    let promoted = sample_state(StatusKind::Promoted, 1);
    let err = apply(&promoted, &Action::Unassign, T0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot unassign an alert group that was promoted to incident INC-1; \
         work on the incident, or reopen the group first"
    );
    let err = apply(&GroupState::new(T0), &Action::Reopen, T0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot reopen an alert group that is new; only closed or promoted groups can be reopened"
    );
}

#[test]
fn state_round_trips_through_json() {
    for kind in StatusKind::ALL {
        let state = sample_state(kind, 2);
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(serde_json::from_str::<GroupState>(&json).unwrap(), state);
    }
    assert_eq!(
        serde_json::to_string(&Verdict::FalsePositive).unwrap(),
        "\"false-positive\""
    );
}
