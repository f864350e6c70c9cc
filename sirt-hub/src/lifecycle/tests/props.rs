//! Invariants over random command sequences given by random roles, with a clock that may
//! step back.

use super::*;
use proptest::prelude::*;

fn any_command() -> impl Strategy<Value = Command> {
    let text = |choices: &[&'static str]| prop::sample::select(choices.to_vec());
    prop_oneof![
        3 => Just(Command::StartTriage),
        3 => Just(Command::Contain),
        3 => Just(Command::Eradicate),
        3 => Just(Command::Recover),
        2 => Just(Command::StartReview),
        2 => Just(Command::Close),
        1 => Just(Command::CloseAsFalsePositive),
        1 => text(&["01HUBOTHER", " ", ""]).prop_map(|of| Command::CloseAsDuplicate { of: of.into() }),
        2 => text(&["reinfection", ""]).prop_map(|r| Command::Reopen { reason: r.into() }),
        2 => prop::sample::select(Severity::ALL.to_vec()).prop_map(Command::SetSeverity),
        2 => prop::sample::select(Priority::ALL.to_vec()).prop_map(Command::SetPriority),
        2 => prop::sample::select(vec![Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red])
            .prop_map(Command::SetTlp),
        2 => text(&["T1059", "t1486", "T1059.001", "bogus", ""])
            .prop_map(|t| Command::AddTechnique(t.into())),
        1 => text(&["carol", "dave", " "]).prop_map(|o| Command::AssignIrLead { operator: o.into() }),
    ]
}

/// Phase moves the rules allow, written independently of the implementation.
const EDGES: [(PhaseKind, PhaseKind); 11] = {
    use PhaseKind::*;
    [
        (New, Triage),
        (Triage, Containment),
        (Containment, Eradication),
        (Containment, Recovery),
        (Eradication, Recovery),
        (Recovery, PostIncidentReview),
        (Recovery, Closed),
        (PostIncidentReview, Closed),
        (New, Closed),
        (Triage, Closed),
        (Closed, Triage),
    ]
};

fn is_lead(role: HubRole) -> bool {
    matches!(role, HubRole::IrLead | HubRole::Ciso)
}

proptest! {
    #[test]
    fn invariants_hold_over_any_command_sequence(
        start in prop::sample::select(Severity::ALL.to_vec()),
        steps in prop::collection::vec(
            (any_command(), prop::sample::select(HubRole::ALL.to_vec()),
             prop::sample::select(vec!["alice", "bob", ""]), -3_600_000i64..7_200_000),
            0..150,
        ),
    ) {
        let mut now = T0;
        let mut state = IncidentLifecycle::new(start, Tlp::Amber, now);
        for (command, role, actor, dt) in steps {
            now += dt;
            let result = apply(&state, &command, role, actor, now);
            let was_closed = matches!(state.phase, Phase::Closed { .. });
            let reopen = matches!(command, Command::Reopen { .. });
            // A closed incident only changes through Reopen.
            if was_closed && !reopen {
                prop_assert!(result.is_err(), "{command:?} changed a closed incident");
            }
            let Ok((next, events)) = result else { continue };
            // An event exactly when something changed, naming who did it.
            prop_assert_eq!(events.len(), usize::from(next != state));
            for event in &events {
                prop_assert_eq!(&event.actor, actor);
                prop_assert_eq!(event.role, role);
                prop_assert_eq!(event.at_ms, next.updated_ms);
            }
            // Closed always carries a usable resolution and a close time.
            if let Phase::Closed { resolution } = &next.phase {
                prop_assert!(next.entered.closed_ms.is_some());
                if let Resolution::Duplicate { of } = resolution {
                    prop_assert!(!of.trim().is_empty());
                }
            }
            // Time never moves backwards: the last change, and every phase time once set.
            prop_assert!(next.updated_ms >= state.updated_ms);
            for kind in PhaseKind::ALL {
                if let Some(at) = state.entered.get(kind) {
                    prop_assert_eq!(next.entered.get(kind), Some(at), "{:?} moved", kind);
                }
                if let Some(at) = next.entered.get(kind) {
                    prop_assert!(next.opened_ms <= at && at <= next.updated_ms);
                }
            }
            if next.reopened == 0 {
                let stamps: Vec<i64> =
                    PhaseKind::ALL.iter().filter_map(|k| next.entered.get(*k)).collect();
                prop_assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "{stamps:?}");
            }
            // The reopen counter only increases, by one, on Reopen of a closed incident.
            prop_assert!(next.reopened >= state.reopened);
            if next.reopened != state.reopened {
                prop_assert!(reopen && was_closed);
                prop_assert_eq!(next.reopened, state.reopened + 1);
                prop_assert_eq!(&next.phase, &Phase::Triage);
            }
            // Phase moves follow the edges, and only steering roles make them.
            let (from, to) = (state.phase.kind(), next.phase.kind());
            if from != to {
                prop_assert!(EDGES.contains(&(from, to)), "{from:?} -> {to:?}");
                match role {
                    HubRole::SecurityEngineer | HubRole::Admin => prop_assert!(false, "{role} moved"),
                    HubRole::SocManager => {
                        let dismissed = matches!(&next.phase, Phase::Closed { resolution }
                            if *resolution != Resolution::Resolved);
                        prop_assert!(dismissed, "the SOC manager moved to {:?}", next.phase);
                    }
                    HubRole::Analyst(_) | HubRole::IrLead | HubRole::Ciso => {}
                }
            }
            // Lowering severity or priority, or loosening the TLP, takes an IR lead or the CISO.
            if next.severity < state.severity
                || next.priority.urgency() < state.priority.urgency()
                || next.tlp < state.tlp
            {
                prop_assert!(is_lead(role), "{role} lowered {command:?}");
            }
            // Separation of duties: the engineer only tags, the admin only staffs.
            let only = |mut other: IncidentLifecycle| {
                other.updated_ms = next.updated_ms;
                other
            };
            match role {
                HubRole::SecurityEngineer => prop_assert_eq!(
                    only(IncidentLifecycle { techniques: next.techniques.clone(), ..state.clone() }),
                    next.clone()
                ),
                HubRole::Admin => prop_assert_eq!(
                    only(IncidentLifecycle { ir_lead: next.ir_lead.clone(), ..state.clone() }),
                    next.clone()
                ),
                HubRole::Analyst(_) | HubRole::SocManager | HubRole::IrLead | HubRole::Ciso => {}
            }
            // Techniques stay sorted and unique.
            prop_assert!(next.techniques.windows(2).all(|w| w[0] < w[1]));
            state = next;
        }
    }
}
