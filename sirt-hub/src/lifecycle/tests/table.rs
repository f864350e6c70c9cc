//! Every state × every command × every role, against two tables written by hand from the rules
//! (who may, and where it leads), not from the code.

use super::*;

/// Roles in the column order of [`WHO`].
const ROLES: [HubRole; 9] = [
    HubRole::Analyst(Tier::T1),
    HubRole::Analyst(Tier::T2),
    HubRole::Analyst(Tier::T3),
    HubRole::Analyst(Tier::T4),
    HubRole::SecurityEngineer,
    HubRole::SocManager,
    HubRole::IrLead,
    HubRole::Ciso,
    HubRole::Admin,
];

/// Who may give each command, whatever the state: `y` allowed, `.` refused.
#[rustfmt::skip]
const WHO: [(C, &str); 17] = [
    //              t1 t2 t3 t4 eng mgr ir ciso admin
    (C::StartTriage,  "yyyy..yy."),
    (C::Contain,      "..yy..yy."),
    (C::Eradicate,    "..yy..yy."),
    (C::Recover,      "..yy..yy."),
    (C::StartReview,  "......yy."),
    (C::Close,        "......yy."),
    (C::CloseFp,      "..yy.yyy."),
    (C::CloseDup,     "..yy.yyy."),
    (C::Reopen,       "......yy."),
    (C::SevUp,        "..yy.yyy."),
    (C::SevDown,      "......yy."),
    (C::PrioUp,       "..yy.yyy."),
    (C::PrioDown,     "......yy."),
    (C::TlpUp,        "..yy.yyy."),
    (C::TlpDown,      "......yy."),
    (C::AddTechnique, "yyyyy.yy."),
    (C::AssignLead,   ".....y.yy"),
];

const X: Option<S> = None;

/// Where each command leads from each state, for a role that may give it; `X` is refused.
#[rustfmt::skip]
const WHERE: [(C, [Option<S>; 9]); 17] = {
    use S::*;
    const fn o(s: S) -> Option<S> { Some(s) }
    const OPEN: [Option<S>; 9] =
        [o(New), o(Tri), o(Con), o(Era), o(Rec), o(Rev), X, X, X];
    [
        //               New       Tri       Con     Era     Rec       Rev       ClRes   ClFp    ClDup
        (C::StartTriage, [o(Tri),  X,        X,      X,      X,        X,        X,      X,      X]),
        (C::Contain,     [X,       o(Con),   X,      X,      X,        X,        X,      X,      X]),
        (C::Eradicate,   [X,       X,        o(Era), X,      X,        X,        X,      X,      X]),
        (C::Recover,     [X,       X,        o(Rec), o(Rec), X,        X,        X,      X,      X]),
        (C::StartReview, [X,       X,        X,      X,      o(Rev),   X,        X,      X,      X]),
        (C::Close,       [X,       X,        X,      X,      o(ClRes), o(ClRes), X,      X,      X]),
        (C::CloseFp,     [o(ClFp), o(ClFp),  X,      X,      X,        X,        X,      X,      X]),
        (C::CloseDup,    [o(ClDup),o(ClDup), X,      X,      X,        X,        X,      X,      X]),
        (C::Reopen,      [X,       X,        X,      X,      X,        X,        o(Tri), o(Tri), o(Tri)]),
        (C::SevUp,        OPEN),
        (C::SevDown,      OPEN),
        (C::PrioUp,       OPEN),
        (C::PrioDown,     OPEN),
        (C::TlpUp,        OPEN),
        (C::TlpDown,      OPEN),
        (C::AddTechnique, OPEN),
        (C::AssignLead,   OPEN),
    ]
};

fn row<T: Copy>(table: &[(C, T)], c: C) -> T {
    let rows: Vec<T> = table
        .iter()
        .filter(|(k, _)| *k == c)
        .map(|(_, v)| *v)
        .collect();
    assert_eq!(rows.len(), 1, "one row for {c:?}");
    rows[0]
}

/// What an accepted command must have changed besides the phase.
fn assert_effect(c: C, before: &IncidentLifecycle, after: &IncidentLifecycle, case: &str) {
    let technique = socfed_proto::vocab::Technique::parse("T1486").unwrap();
    match c {
        C::SevUp => assert_eq!(after.severity, Severity::High, "{case}"),
        C::SevDown => assert_eq!(after.severity, Severity::Low, "{case}"),
        C::PrioUp => assert_eq!(after.priority, Priority::P2, "{case}"),
        C::PrioDown => assert_eq!(after.priority, Priority::P4, "{case}"),
        C::TlpUp => assert_eq!(after.tlp, Tlp::Red, "{case}"),
        C::TlpDown => assert_eq!(after.tlp, Tlp::Green, "{case}"),
        C::AddTechnique => assert!(after.techniques.contains(&technique), "{case}"),
        C::AssignLead => assert_eq!(after.ir_lead.as_deref(), Some("dave"), "{case}"),
        C::Reopen => assert_eq!(after.reopened, before.reopened + 1, "{case}"),
        C::StartTriage
        | C::Contain
        | C::Eradicate
        | C::Recover
        | C::StartReview
        | C::Close
        | C::CloseFp
        | C::CloseDup => assert_eq!(
            (after.severity, after.priority, after.tlp, &after.ir_lead),
            (
                before.severity,
                before.priority,
                before.tlp,
                &before.ir_lead
            ),
            "{case}"
        ),
    }
}

#[test]
fn every_state_command_and_role_matches_the_tables() {
    let now = T0 + 24 * 60 * MINUTE;
    let mut checked = 0;
    for s in S::ALL {
        for c in C::ALL {
            for (column, role) in ROLES.into_iter().enumerate() {
                let case = format!("{s:?} × {c:?} by {role}");
                let may = row(&WHO, c).as_bytes()[column] == b'y';
                let leads_to = row(&WHERE, c)[S::ALL.iter().position(|x| *x == s).unwrap()];
                let before = sample(s);
                let got = apply(&before, &c.command(), role, "alice", now);
                match (may, leads_to, got) {
                    (false, _, Err(LifecycleError::Denied(denied))) => {
                        assert_eq!(denied.role, role, "{case}");
                        let message = denied.to_string();
                        let tail = format!("; you are {}", role.with_article());
                        assert!(message.ends_with(&tail), "{case}: {message}");
                        assert!(message.contains(" needs "), "{case}: {message}");
                    }
                    (true, None, Err(err @ LifecycleError::Closed { .. })) => {
                        assert!(s.is_closed() && c != C::Reopen, "{case}: {err}");
                        assert!(err.to_string().ends_with("reopen it first"), "{case}");
                    }
                    (true, None, Err(err @ LifecycleError::WrongPhase { .. })) => {
                        assert!(!s.is_closed() || c == C::Reopen, "{case}: {err}");
                        assert!(err.to_string().starts_with("cannot "), "{case}");
                    }
                    (true, Some(want), Ok((after, events))) => {
                        assert_eq!(after.phase, want.phase(), "{case}");
                        assert_effect(c, &before, &after, &case);
                        assert_eq!(events.len(), 1, "{case}");
                        assert_eq!(events[0].actor, "alice", "{case}");
                        assert_eq!(events[0].role, role, "{case}");
                        assert_eq!(events[0].at_ms, now, "{case}");
                        assert_eq!(after.updated_ms, now, "{case}");
                    }
                    (may, want, got) => {
                        panic!("{case}: allowed {may}, expected {want:?}, got {got:?}")
                    }
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 9 * 17 * 9);
}

#[test]
fn the_tables_cover_every_role_phase_and_command_kind() {
    // Exhaustive matches: a new variant is a compile error here until the tables list it.
    fn role_column(role: HubRole) -> usize {
        match role {
            HubRole::Analyst(tier) => usize::from(tier.number()) - 1,
            HubRole::SecurityEngineer => 4,
            HubRole::SocManager => 5,
            HubRole::IrLead => 6,
            HubRole::Ciso => 7,
            HubRole::Admin => 8,
        }
    }
    for (i, role) in ROLES.into_iter().enumerate() {
        assert_eq!(role_column(role), i);
    }
    assert_eq!(ROLES, HubRole::ALL);
    for kind in PhaseKind::ALL {
        assert!(S::ALL.iter().any(|s| s.phase().kind() == kind), "{kind:?}");
    }
    for kind in CommandKind::ALL {
        assert!(
            C::ALL.iter().any(|c| c.command().kind() == kind),
            "{kind:?}"
        );
    }
    for c in C::ALL {
        assert_eq!(row(&WHO, c).len(), ROLES.len(), "{c:?}");
    }
}
