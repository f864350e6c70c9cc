#![allow(
    clippy::unwrap_used,
    reason = "a test that unwraps fails loudly, which is the point"
)]

use super::*;
use proptest::prelude::*;

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

type Outcome = Option<(StatusKind, u8)>;
const fn ok(status: StatusKind, tier: u8) -> Outcome {
    Some((status, tier))
}
const ERR: Outcome = None;

/// Every status × every action, for a group at Tier 1 and at Tier 4: the resulting status and
/// tier, or `ERR`. Written out by hand; the test checks it covers every pair exactly once.
#[rustfmt::skip]
const TABLE: &[(StatusKind, ActionKind, [Outcome; 2])] = {
    use ActionKind::*;
    use StatusKind::*;
    &[
        //                            at Tier 1              at Tier 4
        (New,          Acknowledge, [ok(Acknowledged, 1), ok(Acknowledged, 4)]),
        (New,          Assign,      [ok(New, 1),          ok(New, 4)]),
        (New,          Unassign,    [ok(New, 1),          ok(New, 4)]),
        (New,          Comment,     [ok(New, 1),          ok(New, 4)]),
        (New,          Escalate,    [ok(New, 2),          ok(New, 4)]),
        (New,          SlaBreach,   [ok(New, 2),          ok(New, 4)]),
        (New,          Close,       [ok(Closed, 1),       ok(Closed, 4)]),
        (New,          Promote,     [ok(Promoted, 1),     ok(Promoted, 4)]),
        (New,          Reopen,      [ERR,                 ERR]),
        (Acknowledged, Acknowledge, [ERR,                 ERR]),
        (Acknowledged, Assign,      [ok(Acknowledged, 1), ok(Acknowledged, 4)]),
        (Acknowledged, Unassign,    [ok(Acknowledged, 1), ok(Acknowledged, 4)]),
        (Acknowledged, Comment,     [ok(Acknowledged, 1), ok(Acknowledged, 4)]),
        (Acknowledged, Escalate,    [ok(New, 2),          ok(Acknowledged, 4)]),
        (Acknowledged, SlaBreach,   [ok(New, 2),          ok(Acknowledged, 4)]),
        (Acknowledged, Close,       [ok(Closed, 1),       ok(Closed, 4)]),
        (Acknowledged, Promote,     [ok(Promoted, 1),     ok(Promoted, 4)]),
        (Acknowledged, Reopen,      [ERR,                 ERR]),
        (Closed,       Acknowledge, [ERR,                 ERR]),
        (Closed,       Assign,      [ERR,                 ERR]),
        (Closed,       Unassign,    [ERR,                 ERR]),
        (Closed,       Comment,     [ok(Closed, 1),       ok(Closed, 4)]),
        (Closed,       Escalate,    [ERR,                 ERR]),
        (Closed,       SlaBreach,   [ERR,                 ERR]),
        (Closed,       Close,       [ERR,                 ERR]),
        (Closed,       Promote,     [ERR,                 ERR]),
        (Closed,       Reopen,      [ok(Acknowledged, 1), ok(Acknowledged, 4)]),
        (Promoted,     Acknowledge, [ERR,                 ERR]),
        (Promoted,     Assign,      [ERR,                 ERR]),
        (Promoted,     Unassign,    [ERR,                 ERR]),
        (Promoted,     Comment,     [ok(Promoted, 1),     ok(Promoted, 4)]),
        (Promoted,     Escalate,    [ERR,                 ERR]),
        (Promoted,     SlaBreach,   [ERR,                 ERR]),
        (Promoted,     Close,       [ERR,                 ERR]),
        (Promoted,     Promote,     [ERR,                 ERR]),
        (Promoted,     Reopen,      [ok(Acknowledged, 1), ok(Acknowledged, 4)]),
    ]
};

#[test]
fn every_status_and_action_at_tiers_1_and_4_matches_the_table() {
    let now = T0 + 60_000;
    for status in StatusKind::ALL {
        for action_kind in ActionKind::ALL {
            let rows: Vec<_> = TABLE
                .iter()
                .filter(|(s, a, _)| *s == status && *a == action_kind)
                .collect();
            assert_eq!(rows.len(), 1, "table rows for {status:?} × {action_kind:?}");
            for (column, tier) in [1u8, 4].into_iter().enumerate() {
                let expected = rows[0].2[column];
                let state = sample_state(status, tier);
                let action = sample_action(action_kind);
                let case = format!("{status:?} × {action_kind:?} at tier {tier}");
                match (apply(&state, &action, now), expected) {
                    (Ok((next, _)), Some((want_status, want_tier))) => {
                        assert_eq!(next.status.kind(), want_status, "{case}");
                        assert_eq!(next.tier.number(), want_tier, "{case}");
                    }
                    (Err(err), None) => {
                        let message = err.to_string();
                        assert!(
                            message.contains(&format!("cannot {action_kind}")),
                            "{case}: {message}"
                        );
                        assert!(message.contains(&status.to_string()), "{case}: {message}");
                    }
                    (got, want) => panic!("{case}: got {got:?}, want {want:?}"),
                }
            }
        }
    }
    assert_eq!(TABLE.len(), StatusKind::ALL.len() * ActionKind::ALL.len());
}

#[test]
fn kind_lists_name_every_variant_once() {
    // The exhaustive matches make a new variant a compile error here until it is listed.
    fn status_index(kind: StatusKind) -> usize {
        match kind {
            StatusKind::New => 0,
            StatusKind::Acknowledged => 1,
            StatusKind::Closed => 2,
            StatusKind::Promoted => 3,
        }
    }
    fn action_index(kind: ActionKind) -> usize {
        match kind {
            ActionKind::Acknowledge => 0,
            ActionKind::Assign => 1,
            ActionKind::Unassign => 2,
            ActionKind::Comment => 3,
            ActionKind::Escalate => 4,
            ActionKind::SlaBreach => 5,
            ActionKind::Close => 6,
            ActionKind::Promote => 7,
            ActionKind::Reopen => 8,
        }
    }
    for (i, kind) in StatusKind::ALL.into_iter().enumerate() {
        assert_eq!(status_index(kind), i);
    }
    for (i, kind) in ActionKind::ALL.into_iter().enumerate() {
        assert_eq!(action_index(kind), i);
        assert_eq!(sample_action(kind).kind(), kind);
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
    assert_eq!(effects[0], Effect::EscalateToSirt);
    assert!(matches!(effects[1], Effect::NotifyManager { .. }));
    assert_eq!(effects.len(), 2);

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

fn any_action() -> impl Strategy<Value = Action> {
    let verdict = prop::sample::select(Verdict::ALL.to_vec());
    prop_oneof![
        3 => Just(Action::Acknowledge),
        2 => prop::sample::select(vec!["alice", "bob", " ", ""])
            .prop_map(|a| Action::Assign { analyst: a.to_owned() }),
        1 => Just(Action::Unassign),
        2 => prop::sample::select(vec!["note", ""])
            .prop_map(|t| Action::Comment { text: t.to_owned() }),
        4 => Just(Action::Escalate),
        4 => Just(Action::SlaBreach),
        2 => verdict.prop_map(|verdict| Action::Close { verdict }),
        1 => prop::sample::select(vec!["INC-1", ""])
            .prop_map(|i| Action::Promote { incident: i.to_owned() }),
        2 => Just(Action::Reopen),
    ]
}

proptest! {
    #[test]
    fn invariants_hold_over_any_action_sequence(
        steps in prop::collection::vec((any_action(), 0i64..7_200_000), 0..80),
    ) {
        let mut now = T0;
        let mut state = GroupState::new(now);
        for (action, dt) in steps {
            now += dt;
            let Ok((next, effects)) = apply(&state, &action, now) else {
                continue;
            };
            // The tier never goes down and stays on the ladder.
            prop_assert!(next.tier >= state.tier);
            prop_assert!((1..=4).contains(&next.tier.number()));
            // It goes up by at most one rung, and only by escalation.
            if next.tier != state.tier {
                prop_assert_eq!(next.tier.number(), state.tier.number() + 1);
                prop_assert!(matches!(action, Action::Escalate | Action::SlaBreach));
            }
            // Clocks agree with the status.
            match next.status {
                Status::New => prop_assert_eq!(next.acknowledged_at_ms, None),
                Status::Acknowledged => prop_assert!(next.acknowledged_at_ms.is_some()),
                Status::Closed { .. } | Status::Promoted { .. } => {}
            }
            // A closed group got there from an open one (or was only commented on).
            if let Status::Closed { verdict } = next.status {
                match (&action, &state.status) {
                    (Action::Close { verdict: v }, previous) => {
                        prop_assert!(previous.is_open());
                        prop_assert_eq!(*v, verdict);
                        prop_assert_eq!(effects.clone(), vec![Effect::Closed { verdict }]);
                    }
                    (Action::Comment { .. }, previous) => {
                        prop_assert_eq!(previous, &next.status);
                    }
                    (other, previous) => {
                        prop_assert!(false, "{other:?} from {previous:?} closed the group");
                    }
                }
            }
            // Escalation past Tier 4 goes to the hub, never to a tier that does not exist.
            if effects.contains(&Effect::EscalateToSirt) {
                prop_assert_eq!(state.tier, Tier::T4);
                prop_assert_eq!(next.tier, Tier::T4);
            }
            state = next;
        }
    }
}
