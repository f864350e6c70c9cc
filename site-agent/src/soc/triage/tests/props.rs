//! Invariants over random action sequences.

use super::*;
use proptest::prelude::*;

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
                prop_assert_eq!(effects.last(), Some(&Effect::EscalateToSirt));
                prop_assert_eq!(state.tier, Tier::T4);
                prop_assert_eq!(next.tier, Tier::T4);
            }
            state = next;
        }
    }
}
