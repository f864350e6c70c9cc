#![allow(
    clippy::unwrap_used,
    reason = "a test that unwraps fails loudly, which is the point"
)]

use super::*;
use crate::soc::triage::{ActionKind, Verdict};

/// Every role, in the column order of [`EXPECTED`].
const ROLES: [Role; 7] = [
    Role::Analyst(Tier::T1),
    Role::Analyst(Tier::T2),
    Role::Analyst(Tier::T3),
    Role::Analyst(Tier::T4),
    Role::Engineer,
    Role::SocManager,
    Role::Sensor,
];

/// For each operation and role: the target tiers at which the role is allowed, as digits,
/// with `N` for "no target tier given". Written by hand from the rules, not from the code.
#[rustfmt::skip]
const EXPECTED: [(Operation, [&str; 7]); 22] = {
    use Operation::*;
    const ANY: &str = "1234N";
    [
        //                      tier 1  tier 2  tier 3  tier 4  engineer manager sensor
        (ViewAlerts,            [ANY,   ANY,    ANY,    ANY,    ANY,     ANY,    ""]),
        (SubmitAlerts,          ["",    "",     "",     "",     ANY,     ANY,    ANY]),
        (Acknowledge,           ["1",   "12",   "123",  ANY,    "",      ANY,    ""]),
        (Assign,                ["1",   "12",   "123",  ANY,    "",      ANY,    ""]),
        (Comment,               ["1",   "12",   "123",  ANY,    "",      ANY,    ""]),
        (Escalate,              ["1",   "12",   "123",  ANY,    "",      ANY,    ""]),
        (Close,                 ["1",   "12",   "123",  ANY,    "",      ANY,    ""]),
        (Promote,               ["",    "12",   "123",  ANY,    "",      ANY,    ""]),
        (Reopen,                ["1",   "12",   "123",  ANY,    "",      ANY,    ""]),
        (ViewIncidents,         [ANY,   ANY,    ANY,    ANY,    ANY,     ANY,    ""]),
        (UpdateIncident,        ["",    ANY,    ANY,    ANY,    "",      ANY,    ""]),
        (EscalateIncidentToHub, ["",    "",     ANY,    ANY,    "",      ANY,    ""]),
        (ViewRoster,            [ANY,   ANY,    ANY,    ANY,    ANY,     ANY,    ""]),
        (EditRoster,            ["",    "",     "",     "",     "",      ANY,    ""]),
        (VerifyAudit,           ["",    "",     "",     "",     ANY,     ANY,    ""]),
        (ViewStatus,            [ANY,   ANY,    ANY,    ANY,    ANY,     ANY,    ""]),
        (ViewDirectives,        [ANY,   ANY,    ANY,    ANY,    ANY,     ANY,    ""]),
        (ApproveDirective,      ["",    "",     ANY,    ANY,    "",      ANY,    ""]),
        (WorkTask,              [ANY,   ANY,    ANY,    ANY,    ANY,     ANY,    ""]),
        (ManageApiTokens,       ["",    "",     "",     "",     "",      ANY,    ""]),
        (KeepRunbooks,          ["",    "",     "",     "",     ANY,     ANY,    ""]),
        (WorkRunbook,           [ANY,   ANY,    ANY,    ANY,    "",      ANY,    ""]),
    ]
};

fn tier_code(target: Option<Tier>) -> char {
    match target {
        Some(Tier::T1) => '1',
        Some(Tier::T2) => '2',
        Some(Tier::T3) => '3',
        Some(Tier::T4) => '4',
        None => 'N',
    }
}

#[test]
fn every_role_operation_and_target_tier_matches_the_table() {
    let targets = [
        None,
        Some(Tier::T1),
        Some(Tier::T2),
        Some(Tier::T3),
        Some(Tier::T4),
    ];
    for operation in Operation::ALL {
        let rows: Vec<_> = EXPECTED.iter().filter(|(op, _)| *op == operation).collect();
        assert_eq!(rows.len(), 1, "table rows for {operation:?}");
        for (role, allowed_at) in ROLES.into_iter().zip(rows[0].1) {
            for target in targets {
                let want = allowed_at.contains(tier_code(target));
                let got = check(role, operation, target);
                assert_eq!(
                    got.is_ok(),
                    want,
                    "{role:?} {operation:?} at {target:?}: {got:?}"
                );
                if let Err(denied) = got {
                    assert_eq!(denied.role, role);
                    assert_eq!(denied.operation, operation);
                    assert!(!denied.needed.allows(role));
                }
            }
        }
    }
}

#[test]
fn lists_name_every_variant_once() {
    // Exhaustive matches: a new variant is a compile error here until it is listed.
    fn op_index(op: Operation) -> usize {
        match op {
            Operation::ViewAlerts => 0,
            Operation::SubmitAlerts => 1,
            Operation::Acknowledge => 2,
            Operation::Assign => 3,
            Operation::Comment => 4,
            Operation::Escalate => 5,
            Operation::Close => 6,
            Operation::Promote => 7,
            Operation::Reopen => 8,
            Operation::ViewIncidents => 9,
            Operation::UpdateIncident => 10,
            Operation::EscalateIncidentToHub => 11,
            Operation::ViewRoster => 12,
            Operation::EditRoster => 13,
            Operation::VerifyAudit => 14,
            Operation::ViewStatus => 15,
            Operation::ViewDirectives => 16,
            Operation::ApproveDirective => 17,
            Operation::WorkTask => 18,
            Operation::ManageApiTokens => 19,
            Operation::KeepRunbooks => 20,
            Operation::WorkRunbook => 21,
        }
    }
    fn role_index(role: Role) -> usize {
        match role {
            Role::Analyst(tier) => usize::from(tier.number()) - 1,
            Role::Engineer => 4,
            Role::SocManager => 5,
            Role::Sensor => 6,
        }
    }
    for (i, op) in Operation::ALL.into_iter().enumerate() {
        assert_eq!(op_index(op), i);
        assert_eq!(EXPECTED[i].0, op);
    }
    for (i, role) in ROLES.into_iter().enumerate() {
        assert_eq!(role_index(role), i);
    }
}

#[test]
fn each_triage_action_maps_to_its_operation() {
    let cases = [
        (Action::Acknowledge, Operation::Acknowledge),
        (
            Action::Assign {
                analyst: "bob".into(),
            },
            Operation::Assign,
        ),
        (Action::Unassign, Operation::Assign),
        (Action::Comment { text: "x".into() }, Operation::Comment),
        (Action::Escalate, Operation::Escalate),
        (Action::SlaBreach, Operation::Escalate),
        (
            Action::Close {
                verdict: Verdict::Benign,
            },
            Operation::Close,
        ),
        (
            Action::Promote {
                incident: "INC-1".into(),
            },
            Operation::Promote,
        ),
        (Action::Reopen, Operation::Reopen),
    ];
    for kind in ActionKind::ALL {
        assert!(
            cases.iter().any(|(action, _)| action.kind() == kind),
            "no case for {kind:?}"
        );
    }
    for (action, want) in cases {
        assert_eq!(Operation::for_action(&action), want, "{action:?}");
        assert!(want.uses_target_tier());
    }
}

fn denial(role: Role, operation: Operation, target: Option<Tier>) -> String {
    check(role, operation, target).unwrap_err().to_string()
}

#[test]
fn denial_messages_name_the_role_needed_in_words() {
    let t1 = Role::Analyst(Tier::T1);
    let t2 = Role::Analyst(Tier::T2);
    assert_eq!(
        denial(t1, Operation::Close, Some(Tier::T3)),
        "closing a tier 3 alert group needs a tier 3 analyst or above, or the SOC manager; \
         you are a tier 1 analyst"
    );
    assert_eq!(
        denial(t2, Operation::Acknowledge, Some(Tier::T4)),
        "acknowledging a tier 4 alert group needs a tier 4 analyst or the SOC manager; \
         you are a tier 2 analyst"
    );
    assert_eq!(
        denial(t1, Operation::Promote, Some(Tier::T1)),
        "promoting a tier 1 alert group to an incident needs a tier 2 analyst or above, \
         or the SOC manager; you are a tier 1 analyst"
    );
    assert_eq!(
        denial(Role::Engineer, Operation::Comment, Some(Tier::T1)),
        "commenting on a tier 1 alert group needs an analyst of any tier, or the SOC manager; \
         you are a security engineer"
    );
    assert_eq!(
        denial(t1, Operation::Escalate, None),
        "escalating an alert group of unknown tier needs a tier 4 analyst or the SOC manager; \
         you are a tier 1 analyst"
    );
    assert_eq!(
        denial(Role::Sensor, Operation::ViewAlerts, None),
        "viewing alert groups needs an analyst, a security engineer or the SOC manager; \
         you are a sensor"
    );
    assert_eq!(
        denial(t2, Operation::SubmitAlerts, None),
        "submitting alerts needs a sensor, a security engineer or the SOC manager; \
         you are a tier 2 analyst"
    );
    assert_eq!(
        denial(Role::Engineer, Operation::EditRoster, None),
        "editing the roster needs the SOC manager; you are a security engineer"
    );
    assert_eq!(
        denial(t2, Operation::EscalateIncidentToHub, None),
        "escalating an incident to the SIRT hub needs a tier 3 analyst or above, \
         or the SOC manager; you are a tier 2 analyst"
    );
    assert_eq!(
        denial(Role::Analyst(Tier::T4), Operation::VerifyAudit, None),
        "verifying the audit log needs the SOC manager or a security engineer; \
         you are a tier 4 analyst"
    );
}

#[test]
fn a_tier_on_an_untiered_operation_is_ignored_and_left_out_of_the_message() {
    let denied = check(Role::Sensor, Operation::ViewRoster, Some(Tier::T2)).unwrap_err();
    assert_eq!(denied.target_tier, None);
    assert_eq!(
        denied.to_string(),
        "viewing the roster needs an analyst, a security engineer or the SOC manager; \
         you are a sensor"
    );
}
