//! Who may read one incident: the TLP:RED rule. Pure; every operator read of incident data
//! (queries, watches, communications, directives, hunts, the dashboard) asks here through
//! `grpc::acting::Reader` or the dashboard's viewer.
//!
//! | incident marking | who may read it |
//! |---|---|
//! | CLEAR, GREEN, AMBER, AMBER+STRICT | any operator certificate of the organisation |
//! | RED | the CISO; the incident's IR lead; operators with a role that its IR lead or the CISO added to it (`sirt-hub incidents members add`); while it has no IR lead, operators holding the IR lead role (so one can take it on) |
//!
//! TLP:RED means "for the named recipients only": at the hub the named recipients are the
//! people running the response, and an operator with no role in the roster is never one.

use crate::lifecycle::HubRole;
use socfed_proto::vocab::Tlp;

/// The facts of an incident the rule looks at.
#[derive(Debug, Clone, Copy)]
pub struct IncidentAccess<'a> {
    pub id: ulid::Ulid,
    pub tlp: Tlp,
    pub ir_lead: Option<&'a str>,
    /// Whether the reader was added to the incident's members.
    pub member: bool,
}

/// A refused read: "incident X is TLP:RED: reading it needs …; operator "tom" is …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "incident {incident} is TLP:RED: reading it needs the CISO, its IR lead ({lead}) or membership (`sirt-hub incidents members add {incident} NAME`, by its IR lead or the CISO); operator {operator:?} is {who}"
)]
pub struct ReadDenied {
    pub incident: String,
    pub lead: String,
    pub operator: String,
    pub who: String,
}

/// May `operator` (holding `role`, none when not in the roster) read this incident?
pub fn may_read(
    operator: &str,
    role: Option<HubRole>,
    incident: IncidentAccess<'_>,
) -> Result<(), ReadDenied> {
    if incident.tlp != Tlp::Red {
        return Ok(());
    }
    let allowed = match (role, incident.ir_lead) {
        (None, _) => false,
        (Some(HubRole::Ciso), _) => true,
        (Some(_), _) if incident.member => true,
        (Some(_), Some(lead)) if lead == operator => true,
        (Some(HubRole::IrLead), None) => true,
        (Some(_), _) => false,
    };
    if allowed {
        return Ok(());
    }
    Err(ReadDenied {
        incident: incident.id.to_string(),
        lead: incident.ir_lead.map_or_else(
            || "none assigned yet: an operator with the IR lead role".to_string(),
            |lead| format!("{lead:?}"),
        ),
        operator: operator.to_string(),
        who: role.map_or_else(
            || "not in the hub roster (`sirt-hub operators add`)".to_string(),
            HubRole::with_article,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::Tier;

    /// Column order of the table: every role, then "no role".
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

    /// Written by hand from the module documentation: 1 = may read. The reader is "ines";
    /// "lead: ines" rows make her the incident's IR lead, "lead: olga" someone else.
    #[rustfmt::skip]
    const EXPECTED: [(Tlp, Option<&str>, bool, [u8; 10]); 11] = [
        //                          member  t1 t2 t3 t4 eng mgr ir ciso adm none
        (Tlp::Clear,       None,         false, [1, 1, 1, 1, 1,  1,  1, 1,   1,  1]),
        (Tlp::Green,       None,         false, [1, 1, 1, 1, 1,  1,  1, 1,   1,  1]),
        (Tlp::Amber,       None,         false, [1, 1, 1, 1, 1,  1,  1, 1,   1,  1]),
        (Tlp::AmberStrict, None,         false, [1, 1, 1, 1, 1,  1,  1, 1,   1,  1]),
        (Tlp::Amber,       Some("olga"), false, [1, 1, 1, 1, 1,  1,  1, 1,   1,  1]),
        (Tlp::Red,         None,         false, [0, 0, 0, 0, 0,  0,  1, 1,   0,  0]),
        (Tlp::Red,         Some("olga"), false, [0, 0, 0, 0, 0,  0,  0, 1,   0,  0]),
        (Tlp::Red,         Some("ines"), false, [1, 1, 1, 1, 1,  1,  1, 1,   1,  0]),
        (Tlp::Red,         Some(""),     false, [0, 0, 0, 0, 0,  0,  0, 1,   0,  0]),
        (Tlp::Red,         Some("olga"), true,  [1, 1, 1, 1, 1,  1,  1, 1,   1,  0]),
        (Tlp::Red,         None,         true,  [1, 1, 1, 1, 1,  1,  1, 1,   1,  0]),
    ];

    #[test]
    fn every_role_marking_and_lead_matches_the_documented_rule() {
        for (tlp, lead, member, row) in EXPECTED {
            for (column, role) in ROLES.into_iter().enumerate() {
                let facts = IncidentAccess {
                    id: ulid::Ulid::nil(),
                    tlp,
                    ir_lead: lead,
                    member,
                };
                let allowed = may_read("ines", role, facts).is_ok();
                assert_eq!(
                    allowed,
                    row[column] == 1,
                    "{tlp:?} lead {lead:?} member {member} for {role:?}: the code says {allowed}"
                );
            }
        }
    }

    #[test]
    fn a_refusal_names_the_marking_who_may_and_who_you_are() {
        let facts = IncidentAccess {
            id: ulid::Ulid::nil(),
            tlp: Tlp::Red,
            ir_lead: Some("olga"),
            member: false,
        };
        let denied = may_read("tom", Some(HubRole::Analyst(Tier::T1)), facts)
            .expect_err("refused")
            .to_string();
        assert_eq!(
            denied,
            "incident 00000000000000000000000000 is TLP:RED: reading it needs the CISO, its IR lead (\"olga\") or membership (`sirt-hub incidents members add 00000000000000000000000000 NAME`, by its IR lead or the CISO); operator \"tom\" is a tier 1 analyst"
        );
        let stranger = may_read("eve", None, facts)
            .expect_err("refused")
            .to_string();
        assert!(stranger.contains("sirt-hub operators add"), "{stranger}");
    }
}
