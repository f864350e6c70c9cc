//! Single behaviours: messages, edges, clocks, roles.

use super::*;

fn run(
    incident: &IncidentLifecycle,
    command: Command,
    role: HubRole,
    at: i64,
) -> IncidentLifecycle {
    apply(incident, &command, role, "alice", at).unwrap().0
}

#[test]
fn a_full_response_stamps_each_phase_once_for_the_kpis() {
    let lead = HubRole::IrLead;
    let mut incident = IncidentLifecycle::new(Severity::High, Tlp::Amber, T0);
    assert_eq!(incident.priority, Priority::P2);
    let steps = [
        Command::StartTriage,
        Command::Contain,
        Command::Eradicate,
        Command::Recover,
        Command::StartReview,
        Command::Close,
    ];
    for (i, command) in (1..).zip(steps) {
        incident = run(&incident, command, lead, T0 + i * MINUTE);
    }
    let entered = incident.entered;
    assert_eq!(
        [
            entered.triage_ms,
            entered.containment_ms,
            entered.eradication_ms
        ],
        [
            Some(T0 + MINUTE),
            Some(T0 + 2 * MINUTE),
            Some(T0 + 3 * MINUTE)
        ]
    );
    assert_eq!(
        [entered.recovery_ms, entered.review_ms, entered.closed_ms],
        [
            Some(T0 + 4 * MINUTE),
            Some(T0 + 5 * MINUTE),
            Some(T0 + 6 * MINUTE)
        ]
    );
    let reopen = Command::Reopen {
        reason: "persistence found".into(),
    };
    let (reopened, events) =
        apply(&incident, &reopen, HubRole::Ciso, "erin", T0 + 9 * MINUTE).unwrap();
    assert_eq!(
        (reopened.phase.clone(), reopened.reopened),
        (Phase::Triage, 1)
    );
    assert_eq!(reopened.entered, entered, "first-entered times are kept");
    assert_eq!(
        events[0].change.to_string(),
        "reopened (was resolved, reopen 1): persistence found"
    );
    let again = run(&reopened, Command::Contain, lead, T0 + 10 * MINUTE);
    assert_eq!(again.entered.containment_ms, Some(T0 + 2 * MINUTE));
}

#[test]
fn eradication_and_review_may_be_skipped_but_containment_may_not() {
    let lead = HubRole::IrLead;
    let triaged = run(&sample(S::New), Command::StartTriage, lead, T0 + MINUTE);
    let err = apply(&triaged, &Command::Recover, lead, "alice", T0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot start recovery on an incident that is in triage; \
         it must be in containment or eradication first"
    );
    let contained = run(&triaged, Command::Contain, lead, T0 + 2 * MINUTE);
    let recovered = run(&contained, Command::Recover, lead, T0 + 3 * MINUTE);
    assert_eq!(recovered.entered.eradication_ms, None);
    let closed = run(&recovered, Command::Close, lead, T0 + 4 * MINUTE);
    assert_eq!(closed.entered.review_ms, None);
    assert_eq!(closed.phase.kind(), PhaseKind::Closed);
}

#[test]
fn refusals_say_who_is_needed_and_come_before_phase_errors() {
    let tier1 = HubRole::Analyst(Tier::T1);
    let err = apply(&sample(S::Tri), &Command::Contain, tier1, "bob", T0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "moving an incident to containment needs a tier 3 analyst or above, an IR lead or the \
         CISO; you are a tier 1 analyst"
    );
    // Same refusal on a closed incident: a role that may not act is not told how to.
    let closed = apply(&sample(S::ClRes), &Command::Contain, tier1, "bob", T0).unwrap_err();
    assert!(matches!(closed, LifecycleError::Denied(_)), "{closed}");
    let err = apply(
        &sample(S::Rec),
        &Command::SetSeverity(Severity::Low),
        HubRole::SocManager,
        "m",
        T0,
    );
    assert_eq!(
        err.unwrap_err().to_string(),
        "lowering the severity from medium to low needs an IR lead or the CISO; you are a SOC manager"
    );
    let err = apply(
        &sample(S::New),
        &Command::StartReview,
        HubRole::Admin,
        "root",
        T0,
    );
    assert!(err.unwrap_err().to_string().ends_with("; you are an admin"));
    let err = apply(
        &sample(S::ClFp),
        &Command::Eradicate,
        HubRole::Ciso,
        "erin",
        T0,
    );
    assert_eq!(
        err.unwrap_err().to_string(),
        "cannot start eradication on an incident closed as false positive; reopen it first"
    );
}

#[test]
fn bad_input_is_refused_with_what_to_give() {
    let lead = HubRole::Ciso;
    let cases = [
        (
            Command::AddTechnique("T10".into()),
            "\"T10\" is not an ATT&CK technique id",
        ),
        (
            Command::AssignIrLead {
                operator: "  ".into(),
            },
            "give the operator's roster name",
        ),
        (
            Command::CloseAsDuplicate { of: " ".into() },
            "give the id of the incident it duplicates",
        ),
    ];
    for (command, text) in cases {
        let err = apply(&sample(S::Tri), &command, lead, "alice", T0).unwrap_err();
        assert!(err.to_string().contains(text), "{command:?}: {err}");
    }
    let reopen = Command::Reopen { reason: "".into() };
    let err = apply(&sample(S::ClDup), &reopen, lead, "alice", T0).unwrap_err();
    assert_eq!(err, LifecycleError::EmptyReason);
    let err = apply(&sample(S::Tri), &Command::Contain, lead, " ", T0).unwrap_err();
    assert_eq!(err, LifecycleError::EmptyActor);
}

#[test]
fn repeating_a_value_is_a_harmless_no_op() {
    let incident = sample(S::Con);
    let lead = HubRole::Ciso;
    for command in [
        Command::SetSeverity(Severity::Medium),
        Command::SetPriority(Priority::P3),
        Command::SetTlp(Tlp::Amber),
        Command::AddTechnique(" t1059 ".into()),
        Command::AssignIrLead {
            operator: "carol".into(),
        },
    ] {
        let (next, events) = apply(&incident, &command, lead, "alice", T0 + MINUTE).unwrap();
        assert_eq!(
            (next, events),
            (incident.clone(), Vec::new()),
            "{command:?}"
        );
    }
    // Restating the current value counts as raising: a tier 1 analyst may not.
    let tier1 = HubRole::Analyst(Tier::T1);
    assert!(apply(&incident, &Command::SetTlp(Tlp::Amber), tier1, "bob", T0).is_err());
}

#[test]
fn a_clock_that_steps_back_does_not_reorder_the_timeline() {
    let incident = sample(S::Tri);
    let earlier = incident.updated_ms - 5 * MINUTE;
    let (next, events) =
        apply(&incident, &Command::Contain, HubRole::IrLead, "a", earlier).unwrap();
    assert_eq!(next.entered.containment_ms, Some(incident.updated_ms));
    assert_eq!(
        (next.updated_ms, events[0].at_ms),
        (incident.updated_ms, incident.updated_ms)
    );
}

#[test]
fn techniques_are_normalised_and_kept_sorted() {
    let mut incident = sample(S::Tri);
    for raw in ["t1566.001", "T1003", "T1566.001"] {
        incident = run(
            &incident,
            Command::AddTechnique(raw.into()),
            HubRole::SecurityEngineer,
            T0,
        );
    }
    let ids: Vec<&str> = incident.techniques.iter().map(|t| t.as_str()).collect();
    assert_eq!(ids, ["T1003", "T1059", "T1566.001"]);
}

#[test]
fn roles_read_and_print_their_names() {
    for role in HubRole::ALL {
        assert_eq!(role.as_str().parse::<HubRole>(), Ok(role));
        assert_eq!(role.as_str().to_uppercase().parse::<HubRole>(), Ok(role));
    }
    let words: Vec<String> = HubRole::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(
        words,
        [
            "tier 1 analyst",
            "tier 2 analyst",
            "tier 3 analyst",
            "tier 4 analyst",
            "security engineer",
            "SOC manager",
            "IR lead",
            "CISO",
            "admin",
        ]
    );
    let err = "tier5".parse::<HubRole>().unwrap_err();
    assert!(
        err.to_string()
            .starts_with("\"tier5\" is not a hub role; use one of tier1")
    );
    assert_eq!(Tier::from_number(3), Some(Tier::T3));
    assert_eq!(Tier::from_number(0), None);
}

#[test]
fn priority_prints_and_orders_p1_first() {
    let names: Vec<String> = Priority::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["P1", "P2", "P3", "P4"]);
    assert!(Priority::P1 < Priority::P4 && Priority::P1.urgency() > Priority::P4.urgency());
    assert_eq!(
        Priority::from_severity(Severity::Informational),
        Priority::P4
    );
}

#[test]
fn only_ir_leads_and_the_ciso_may_be_named_ir_lead_and_only_from_the_roster() {
    for role in HubRole::ALL {
        let verdict = check_lead("ines", Some(role));
        assert_eq!(
            verdict.is_ok(),
            matches!(role, HubRole::IrLead | HubRole::Ciso),
            "{role:?}: {verdict:?}"
        );
    }
    let refused = check_lead("tom", Some(HubRole::Analyst(Tier::T1))).unwrap_err();
    assert!(refused.to_string().contains("tier 1 analyst"), "{refused}");
    let unknown = check_lead(" ghost ", None).unwrap_err();
    assert_eq!(
        unknown,
        LifecycleError::UnknownLead {
            operator: "ghost".into()
        }
    );
}

#[test]
fn site_facts_raise_severity_tlp_and_priority_by_one_rule() {
    let mut raised = IncidentLifecycle::new(Severity::High, Tlp::Green, T0);
    raised.raise_from_site(Severity::Critical, Tlp::Amber);
    let fresh = IncidentLifecycle::new(Severity::Critical, Tlp::Amber, T0);
    assert_eq!(
        (raised.severity, raised.tlp, raised.priority),
        (fresh.severity, fresh.tlp, fresh.priority),
        "one severity, one priority, however the incident got there"
    );
    // Lower facts never lower anything, and an operator's more urgent priority stays.
    let mut urgent = IncidentLifecycle::new(Severity::Low, Tlp::Red, T0);
    urgent.priority = Priority::P1;
    urgent.raise_from_site(Severity::Medium, Tlp::Clear);
    assert_eq!(
        (urgent.severity, urgent.tlp, urgent.priority),
        (Severity::Medium, Tlp::Red, Priority::P1)
    );
}
