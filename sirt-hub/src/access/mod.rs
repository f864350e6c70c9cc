//! Who may call which operator API at the hub: one pure function from (role, API) to allowed
//! or [`Denied`], with a message that names the roles needed. Every gRPC handler asks here;
//! the lifecycle machine additionally checks each lifecycle command (`lifecycle::authz`).
//!
//! The matrix (a role comes from the hub roster; "any" includes operators with no role):
//!
//! | API | who |
//! |---|---|
//! | reads: incidents, sites, conflicts, audit, directives, hunts, communications, operators, the event log | any operator of the organisation; a TLP:RED incident and what carries its data only as `incident.rs` says |
//! | `TransitionIncident` | any role (the lifecycle machine decides per command) |
//! | dashboard sign-in link (`sirt-hub login`) | any role (a session ends when its operator leaves the roster) |
//! | regulatory flags and filings, merge, split, directives, tasks, attaching hunt hits, approving or rejecting communications, recording a delivery | IR lead, CISO |
//! | starting a hunt | IR lead, CISO, SOC manager, tier 3 and tier 4 analysts |
//! | drafting a communication | IR lead, CISO, SOC manager |
//! | adding, flagging and removing an incident's observables | IR lead, CISO, tier 3 and tier 4 analysts |
//! | managing the roster (`sirt-hub operators`) and API tokens (`sirt-hub tokens`) | admin, CISO |
//! | writing a note on an incident (its work log) | IR lead, CISO, SOC manager, tier 3 and tier 4 analysts |
//! | keeping runbooks (`sirt-hub runbooks add|update|retire`) | security engineer, SOC manager, CISO |
//! | keeping the hunt library (add, edit, enable, disable, run now, import) | IR lead, security engineer, CISO |
//! | enrolling and removing sites (`sirt-hub sites enrol|remove`) | admin, CISO |

pub mod acting;
pub mod incident;
pub mod reader;
pub mod roster;
#[cfg(test)]
mod tests;

use crate::lifecycle::{HubRole, Tier};

/// Every operator API that is permission-checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    Read,
    TransitionIncident,
    Regulatory,
    Merge,
    Split,
    IssueDirective,
    AssignTask,
    StartHunt,
    AttachHunt,
    DraftCommunication,
    DecideCommunication,
    RecordDelivery,
    ManageOperators,
    SignIn,
    EditObservables,
    /// A note on an incident (issue 15).
    WriteNote,
    KeepRunbooks,
    KeepHuntLibrary,
    /// Enrolling and removing sites (issue 16): who may open an escalation stream.
    EnrolSites,
}

impl Api {
    pub const ALL: [Api; 19] = [
        Api::Read,
        Api::TransitionIncident,
        Api::Regulatory,
        Api::Merge,
        Api::Split,
        Api::IssueDirective,
        Api::AssignTask,
        Api::StartHunt,
        Api::AttachHunt,
        Api::DraftCommunication,
        Api::DecideCommunication,
        Api::RecordDelivery,
        Api::ManageOperators,
        Api::SignIn,
        Api::EditObservables,
        Api::WriteNote,
        Api::KeepRunbooks,
        Api::KeepHuntLibrary,
        Api::EnrolSites,
    ];

    /// The API as the subject of "… needs …".
    pub fn describe(self) -> &'static str {
        match self {
            Api::Read => "reading",
            Api::TransitionIncident => "changing an incident's lifecycle",
            Api::Regulatory => "regulatory flags and filings",
            Api::Merge => "merging incidents",
            Api::Split => "splitting a sighting off an incident",
            Api::IssueDirective => "issuing directives to sites",
            Api::AssignTask => "assigning tasks to sites",
            Api::StartHunt => "starting a threat hunt",
            Api::AttachHunt => "attaching hunt hits to an incident",
            Api::DraftCommunication => "drafting communications",
            Api::DecideCommunication => "approving or rejecting communications",
            Api::RecordDelivery => "recording a delivery",
            Api::ManageOperators => "managing the operator roster",
            Api::SignIn => "signing in to the dashboard",
            Api::EditObservables => "adding, flagging or removing observables",
            Api::WriteNote => "writing a note on an incident",
            Api::KeepRunbooks => "keeping runbooks",
            Api::KeepHuntLibrary => "keeping the hunt library",
            Api::EnrolSites => "enrolling or removing sites",
        }
    }
}

/// Who an API needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needed {
    /// Any operator certificate of the organisation, with or without a role.
    AnyOperator,
    /// Any role in the roster.
    AnyRole,
    /// One of these roles.
    OneOf(&'static [HubRole]),
}

const RESPONSE_LEADS: &[HubRole] = &[HubRole::IrLead, HubRole::Ciso];
const HUNTERS: &[HubRole] = &[
    HubRole::IrLead,
    HubRole::Ciso,
    HubRole::SocManager,
    HubRole::Analyst(Tier::T3),
    HubRole::Analyst(Tier::T4),
];
const WRITERS: &[HubRole] = &[HubRole::IrLead, HubRole::Ciso, HubRole::SocManager];
const ROSTER_KEEPERS: &[HubRole] = &[HubRole::Admin, HubRole::Ciso];
/// Who judges observables: the response leads and the senior analysts who investigate and
/// hunt (tier 3 and 4). Tier 1 and 2 triage at the sites' pace and read observables; the SOC
/// manager and engineers run the SOC rather than judge indicators.
const INVESTIGATORS: &[HubRole] = &[
    HubRole::IrLead,
    HubRole::Ciso,
    HubRole::Analyst(Tier::T3),
    HubRole::Analyst(Tier::T4),
];
/// Security engineers are responsible for security protocols; the SOC manager and the CISO
/// answer for them.
const RUNBOOK_KEEPERS: &[HubRole] = &[
    HubRole::SecurityEngineer,
    HubRole::SocManager,
    HubRole::Ciso,
];
const LIBRARY_KEEPERS: &[HubRole] = &[HubRole::IrLead, HubRole::SecurityEngineer, HubRole::Ciso];

pub fn needed(api: Api) -> Needed {
    match api {
        Api::Read => Needed::AnyOperator,
        Api::TransitionIncident | Api::SignIn => Needed::AnyRole,
        Api::Regulatory
        | Api::Merge
        | Api::Split
        | Api::IssueDirective
        | Api::AssignTask
        | Api::AttachHunt
        | Api::DecideCommunication
        | Api::RecordDelivery => Needed::OneOf(RESPONSE_LEADS),
        // Notes are the investigators' findings: the people who may hunt at the hub (the
        // response's leads, the SOC manager and the senior tiers who investigate) write them;
        // tier 1 and 2 triage at the sites and read the log, engineers and admins read it.
        Api::StartHunt | Api::WriteNote => Needed::OneOf(HUNTERS),
        Api::DraftCommunication => Needed::OneOf(WRITERS),
        // Who may stream into the hub is an access decision like the roster's: the same
        // keepers (admin, CISO).
        Api::ManageOperators | Api::EnrolSites => Needed::OneOf(ROSTER_KEEPERS),
        Api::EditObservables => Needed::OneOf(INVESTIGATORS),
        Api::KeepRunbooks => Needed::OneOf(RUNBOOK_KEEPERS),
        Api::KeepHuntLibrary => Needed::OneOf(LIBRARY_KEEPERS),
    }
}

/// A refused call: "issuing directives to sites needs the IR lead or the CISO; operator
/// \"tom\" is a tier 1 analyst".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} needs {}; operator {operator:?} is {}", api.describe(), who(*needed), role.map_or_else(|| "not in the hub roster (`sirt-hub operators add`)".to_string(), HubRole::with_article))]
pub struct Denied {
    pub api: Api,
    pub needed: Needed,
    pub operator: String,
    pub role: Option<HubRole>,
}

fn who(needed: Needed) -> String {
    match needed {
        Needed::AnyOperator => "an operator certificate".into(),
        Needed::AnyRole => "a role in the hub roster".into(),
        Needed::OneOf(roles) => {
            let names: Vec<String> = roles.iter().map(|r| r.with_article()).collect();
            match names.split_last() {
                Some((last, [])) => last.clone(),
                Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                None => "nobody".into(),
            }
        }
    }
}

/// Whether `role` leads a response (directives, merges, regulatory filings): the operators
/// the dashboard offers as an incident's IR lead.
pub fn leads_responses(role: HubRole) -> bool {
    RESPONSE_LEADS.contains(&role)
}

/// May an operator holding `role` (none when not in the roster) call `api`?
pub fn check(operator: &str, role: Option<HubRole>, api: Api) -> Result<(), Denied> {
    let needed = needed(api);
    let allowed = match needed {
        Needed::AnyOperator => true,
        Needed::AnyRole => role.is_some(),
        Needed::OneOf(roles) => role.is_some_and(|r| roles.contains(&r)),
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied {
            api,
            needed,
            operator: operator.to_string(),
            role,
        })
    }
}
