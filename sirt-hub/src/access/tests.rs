use super::*;

/// Column order of [`EXPECTED`]: every role, then "no role".
const ROLES: [Option<HubRole>; 10] = [
    Some(HubRole::Analyst(Tier::T1)),
    Some(HubRole::Analyst(Tier::T2)),
    Some(HubRole::Analyst(Tier::T3)),
    Some(HubRole::Analyst(Tier::T4)),
    Some(HubRole::SecurityEngineer),
    Some(HubRole::SocManager),
    Some(HubRole::IrLead),
    Some(HubRole::Ciso),
    Some(HubRole::Admin),
    None,
];

/// Written by hand from the module documentation, not from the code: 1 = allowed.
#[rustfmt::skip]
const EXPECTED: [(Api, [u8; 10]); 19] = [
    //                          t1 t2 t3 t4 eng mgr ir ciso adm none
    (Api::Read,                [1, 1, 1, 1, 1,  1,  1, 1,   1,  1]),
    (Api::TransitionIncident,  [1, 1, 1, 1, 1,  1,  1, 1,   1,  0]),
    (Api::Regulatory,          [0, 0, 0, 0, 0,  0,  1, 1,   0,  0]),
    (Api::Merge,               [0, 0, 0, 0, 0,  0,  1, 1,   0,  0]),
    (Api::Split,               [0, 0, 0, 0, 0,  0,  1, 1,   0,  0]),
    (Api::IssueDirective,      [0, 0, 0, 0, 0,  0,  1, 1,   0,  0]),
    (Api::AssignTask,          [0, 0, 0, 0, 0,  0,  1, 1,   0,  0]),
    (Api::StartHunt,           [0, 0, 1, 1, 0,  1,  1, 1,   0,  0]),
    (Api::AttachHunt,          [0, 0, 0, 0, 0,  0,  1, 1,   0,  0]),
    (Api::DraftCommunication,  [0, 0, 0, 0, 0,  1,  1, 1,   0,  0]),
    (Api::DecideCommunication, [0, 0, 0, 0, 0,  0,  1, 1,   0,  0]),
    (Api::RecordDelivery,      [0, 0, 0, 0, 0,  0,  1, 1,   0,  0]),
    (Api::ManageOperators,     [0, 0, 0, 0, 0,  0,  0, 1,   1,  0]),
    (Api::SignIn,              [1, 1, 1, 1, 1,  1,  1, 1,   1,  0]),
    (Api::EditObservables,     [0, 0, 1, 1, 0,  0,  1, 1,   0,  0]),
    (Api::WriteNote,           [0, 0, 1, 1, 0,  1,  1, 1,   0,  0]),
    (Api::KeepRunbooks,        [0, 0, 0, 0, 1,  1,  0, 1,   0,  0]),
    (Api::KeepHuntLibrary,     [0, 0, 0, 0, 1,  0,  1, 1,   0,  0]),
    (Api::EnrolSites,          [0, 0, 0, 0, 0,  0,  0, 1,   1,  0]),
];

#[test]
fn every_role_and_api_matches_the_documented_matrix() {
    assert_eq!(EXPECTED.len(), Api::ALL.len());
    for (row, api) in Api::ALL.into_iter().enumerate() {
        assert_eq!(EXPECTED[row].0, api, "row {row} is {api:?}");
        for (column, role) in ROLES.into_iter().enumerate() {
            let allowed = check("op", role, api).is_ok();
            assert_eq!(
                allowed,
                EXPECTED[row].1[column] == 1,
                "{api:?} for {role:?}: the code says {allowed}"
            );
        }
    }
    assert_eq!(
        ROLES.len(),
        HubRole::ALL.len() + 1,
        "every role has a column"
    );
}

#[test]
fn refusals_name_who_may_and_who_you_are() {
    let denied =
        check("tom", Some(HubRole::Analyst(Tier::T1)), Api::IssueDirective).expect_err("refused");
    assert_eq!(
        denied.to_string(),
        "issuing directives to sites needs an IR lead or the CISO; operator \"tom\" is a tier 1 analyst"
    );
    let analyst =
        check("tom", Some(HubRole::Analyst(Tier::T1)), Api::KeepRunbooks).expect_err("refused");
    assert_eq!(
        analyst.to_string(),
        "keeping runbooks needs a security engineer, a SOC manager or the CISO; operator \"tom\" is a tier 1 analyst"
    );
    let stranger = check("eve", None, Api::TransitionIncident).expect_err("refused");
    assert!(
        stranger.to_string().contains("sirt-hub operators add"),
        "{stranger}"
    );
}
