//! Who may do what to a hub incident: each command is one [`Operation`], and each operation
//! has one rule ([`needed`]). Whether the command is valid in the incident's phase is not
//! decided here but in [`super::apply`], which calls [`check`] first.
//!
//! | operation | commands | tier 1-2 | tier 3-4 | engineer | SOC manager | IR lead | CISO | admin |
//! |---|---|---|---|---|---|---|---|---|
//! | `Triage` | StartTriage | yes | yes | | | yes | yes | |
//! | `Respond` | Contain, Eradicate, Recover | | yes | | | yes | yes | |
//! | `Review` | StartReview | | | | | yes | yes | |
//! | `Resolve` | Close | | | | | yes | yes | |
//! | `Dismiss` | CloseAsFalsePositive, CloseAsDuplicate | | yes | | yes | yes | yes | |
//! | `Reopen` | Reopen | | | | | yes | yes | |
//! | `Escalate` | SetSeverity / SetPriority / SetTlp that raise, tighten or keep the value | | yes | | yes | yes | yes | |
//! | `Downgrade` | SetSeverity / SetPriority / SetTlp that lower or loosen it | | | | | yes | yes | |
//! | `Tag` | AddTechnique | yes | yes | yes | | yes | yes | |
//! | `AssignLead` | AssignIrLead | | | | yes | | yes | yes |
//!
//! Any operator with the IR lead role may act on any incident, not only the one named in
//! `ir_lead`: that field records who is accountable, it is not a lock (shift handovers).

use super::model::{Command, IncidentLifecycle};
use super::roles::{HubRole, Tier};
use std::fmt;

/// Everything that is permission-checked on a hub incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Triage,
    /// Move through containment, eradication and recovery.
    Respond,
    Review,
    /// Close as resolved.
    Resolve,
    /// Close as false positive or duplicate.
    Dismiss,
    Reopen,
    /// Raise severity or priority, make the TLP more restrictive, or restate the current value.
    Escalate,
    /// Lower severity or priority, or make the TLP less restrictive.
    Downgrade,
    /// Add an ATT&CK technique.
    Tag,
    AssignLead,
}

impl Operation {
    pub const ALL: [Operation; 10] = [
        Operation::Triage,
        Operation::Respond,
        Operation::Review,
        Operation::Resolve,
        Operation::Dismiss,
        Operation::Reopen,
        Operation::Escalate,
        Operation::Downgrade,
        Operation::Tag,
        Operation::AssignLead,
    ];

    /// The operation `command` is, given the incident it applies to (lowering a value is a
    /// different operation from raising it).
    pub fn of(current: &IncidentLifecycle, command: &Command) -> Operation {
        let escalate_if = |up_or_same: bool| {
            if up_or_same {
                Operation::Escalate
            } else {
                Operation::Downgrade
            }
        };
        match command {
            Command::StartTriage => Operation::Triage,
            Command::Contain | Command::Eradicate | Command::Recover => Operation::Respond,
            Command::StartReview => Operation::Review,
            Command::Close => Operation::Resolve,
            Command::CloseAsFalsePositive | Command::CloseAsDuplicate { .. } => Operation::Dismiss,
            Command::Reopen { .. } => Operation::Reopen,
            Command::SetSeverity(to) => escalate_if(*to >= current.severity),
            Command::SetPriority(to) => escalate_if(to.urgency() >= current.priority.urgency()),
            Command::SetTlp(to) => escalate_if(*to >= current.tlp),
            Command::AddTechnique(_) => Operation::Tag,
            Command::AssignIrLead { .. } => Operation::AssignLead,
        }
    }
}

/// The set of roles an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Allowed {
    /// Analysts of this tier or above; `None`: no analyst.
    pub analysts_from: Option<Tier>,
    pub engineer: bool,
    pub soc_manager: bool,
    pub ir_lead: bool,
    pub ciso: bool,
    pub admin: bool,
}

impl Allowed {
    const NOBODY: Allowed = Allowed {
        analysts_from: None,
        engineer: false,
        soc_manager: false,
        ir_lead: false,
        ciso: false,
        admin: false,
    };
    /// The IR lead and the CISO: the base of every steering operation.
    const LEADS: Allowed = Allowed {
        ir_lead: true,
        ciso: true,
        ..Allowed::NOBODY
    };

    pub fn allows(self, role: HubRole) -> bool {
        match role {
            HubRole::Analyst(tier) => self.analysts_from.is_some_and(|min| tier >= min),
            HubRole::SecurityEngineer => self.engineer,
            HubRole::SocManager => self.soc_manager,
            HubRole::IrLead => self.ir_lead,
            HubRole::Ciso => self.ciso,
            HubRole::Admin => self.admin,
        }
    }
}

impl fmt::Display for Allowed {
    /// "a tier 3 analyst or above, a SOC manager, an IR lead or the CISO".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut who: Vec<String> = Vec::new();
        match self.analysts_from {
            Some(Tier::T1) => who.push("an analyst of any tier".to_owned()),
            Some(Tier::T4) => who.push("a tier 4 analyst".to_owned()),
            Some(tier @ (Tier::T2 | Tier::T3)) => who.push(format!("a {tier} analyst or above")),
            None => {}
        }
        let others = [
            (self.engineer, HubRole::SecurityEngineer),
            (self.soc_manager, HubRole::SocManager),
            (self.ir_lead, HubRole::IrLead),
            (self.ciso, HubRole::Ciso),
            (self.admin, HubRole::Admin),
        ];
        who.extend(
            others
                .into_iter()
                .filter(|(allowed, _)| *allowed)
                .map(|(_, role)| role.with_article()),
        );
        match who.split_last() {
            None => f.write_str("a role nobody has"),
            Some((only, [])) => f.write_str(only),
            Some((last, rest)) => write!(f, "{} or {last}", rest.join(", ")),
        }
    }
}

/// Who `operation` needs. The table in the module documentation says the same in prose.
pub fn needed(operation: Operation) -> Allowed {
    match operation {
        Operation::Triage => Allowed {
            analysts_from: Some(Tier::T1),
            ..Allowed::LEADS
        },
        Operation::Respond => Allowed {
            analysts_from: Some(Tier::T3),
            ..Allowed::LEADS
        },
        Operation::Review | Operation::Resolve | Operation::Reopen | Operation::Downgrade => {
            Allowed::LEADS
        }
        Operation::Dismiss | Operation::Escalate => Allowed {
            analysts_from: Some(Tier::T3),
            soc_manager: true,
            ..Allowed::LEADS
        },
        Operation::Tag => Allowed {
            analysts_from: Some(Tier::T1),
            engineer: true,
            ..Allowed::LEADS
        },
        Operation::AssignLead => Allowed {
            soc_manager: true,
            ciso: true,
            admin: true,
            ..Allowed::NOBODY
        },
    }
}

/// A refused command. The message reads, for example, "moving an incident to containment
/// needs a tier 3 analyst or above, an IR lead or the CISO; you are a tier 1 analyst".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action} needs {needed}; you are {}", .role.with_article())]
pub struct Denied {
    /// What was asked, in words.
    pub action: String,
    pub operation: Operation,
    pub needed: Allowed,
    pub role: HubRole,
}

/// May `role` apply `command` to `current`?
pub fn check(current: &IncidentLifecycle, command: &Command, role: HubRole) -> Result<(), Denied> {
    let operation = Operation::of(current, command);
    let needed = needed(operation);
    if needed.allows(role) {
        Ok(())
    } else {
        Err(Denied {
            action: describe(current, command),
            operation,
            needed,
            role,
        })
    }
}

/// The command as the subject of "… needs …".
fn describe(current: &IncidentLifecycle, command: &Command) -> String {
    let verb = |up: bool, same: bool, up_word: &str, down_word: &str| {
        match (same, up) {
            (true, _) => "setting",
            (false, true) => up_word,
            (false, false) => down_word,
        }
        .to_owned()
    };
    match command {
        Command::StartTriage => "starting triage on an incident".to_owned(),
        Command::Contain => "moving an incident to containment".to_owned(),
        Command::Eradicate => "moving an incident to eradication".to_owned(),
        Command::Recover => "moving an incident to recovery".to_owned(),
        Command::StartReview => "starting a post-incident review".to_owned(),
        Command::Close => "closing an incident as resolved".to_owned(),
        Command::CloseAsFalsePositive => "closing an incident as a false positive".to_owned(),
        Command::CloseAsDuplicate { .. } => "closing an incident as a duplicate".to_owned(),
        Command::Reopen { .. } => "reopening an incident".to_owned(),
        Command::SetSeverity(to) => {
            let from = current.severity;
            let verb = verb(*to > from, *to == from, "raising", "lowering");
            format!("{verb} the severity from {from} to {to}")
        }
        Command::SetPriority(to) => {
            let from = current.priority;
            let verb = verb(
                to.urgency() > from.urgency(),
                *to == from,
                "raising",
                "lowering",
            );
            format!("{verb} the priority from {from} to {to}")
        }
        Command::SetTlp(to) => {
            let from = current.tlp;
            let verb = verb(*to > from, *to == from, "tightening", "loosening");
            format!("{verb} the TLP from {from} to {to}")
        }
        Command::AddTechnique(_) => "adding an ATT&CK technique".to_owned(),
        Command::AssignIrLead { .. } => "assigning the IR lead".to_owned(),
    }
}
