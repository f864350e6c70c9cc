//! Who may do what at the site: one pure function from (role, operation, tier of the alert
//! group acted on) to allowed or [`Denied`], with a message that names the role needed.
//!
//! It owns the permission rules and nothing else: it does not know who the caller is (the
//! role comes from the certificate and the roster, resolved at the edge) and it does not know
//! whether the operation is valid in the group's current state (that is [`super::triage`]).
//!
//! The rules, in one place:
//! - Viewing (alert groups, incidents, the roster, the site status): every role but a sensor.
//! - Submitting alerts: a sensor, a security engineer or the SOC manager.
//! - Triage on a group at tier `t` (acknowledge, assign, comment, escalate, close, reopen): an
//!   analyst of tier `t` or above, or the SOC manager. Promoting it to an incident: an analyst
//!   of tier `max(2, t)` or above, or the SOC manager.
//! - Updating an incident: Tier 2 and above; escalating an incident to the SIRT hub: Tier 3 and
//!   above; the SOC manager may do both.
//! - Editing the roster: the SOC manager only. Verifying the audit log: the SOC manager or a
//!   security engineer.
//! - Hub directives: viewing them and working tasks the hub assigned: any person on the
//!   roster; approving (or rejecting) a destructive playbook action: Tier 3 and above, or the
//!   SOC manager.
//! - Minting, listing and revoking the HTTP API's tokens: the SOC manager only.
//! - Keeping the site's own runbooks (add, edit, retire): a security engineer or the SOC
//!   manager. Ticking a runbook's checklist step on an incident or alert group: an analyst of
//!   any tier, or the SOC manager.

#[cfg(test)]
mod tests;

use super::triage::Action;
use super::{Role, Tier};

/// Everything that is permission-checked at the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    ViewAlerts,
    SubmitAlerts,
    Acknowledge,
    /// Assign or unassign an alert group.
    Assign,
    Comment,
    /// Escalate an alert group to the next tier (or, at Tier 4, towards the hub).
    Escalate,
    Close,
    /// Promote an alert group to an incident.
    Promote,
    Reopen,
    ViewIncidents,
    UpdateIncident,
    EscalateIncidentToHub,
    ViewRoster,
    EditRoster,
    VerifyAudit,
    ViewStatus,
    ViewDirectives,
    /// Approve or reject a destructive playbook action the hub asked for.
    ApproveDirective,
    /// Acknowledge, start or complete a task the hub assigned to the site.
    WorkTask,
    /// Mint, list or revoke the HTTP API's tokens.
    ManageApiTokens,
    /// Add, edit or retire one of the site's own runbooks.
    KeepRunbooks,
    /// Tick or untick a runbook's checklist step on an incident or alert group.
    WorkRunbook,
}

impl Operation {
    pub const ALL: [Operation; 22] = [
        Operation::ViewAlerts,
        Operation::SubmitAlerts,
        Operation::Acknowledge,
        Operation::Assign,
        Operation::Comment,
        Operation::Escalate,
        Operation::Close,
        Operation::Promote,
        Operation::Reopen,
        Operation::ViewIncidents,
        Operation::UpdateIncident,
        Operation::EscalateIncidentToHub,
        Operation::ViewRoster,
        Operation::EditRoster,
        Operation::VerifyAudit,
        Operation::ViewStatus,
        Operation::ViewDirectives,
        Operation::ApproveDirective,
        Operation::WorkTask,
        Operation::ManageApiTokens,
        Operation::KeepRunbooks,
        Operation::WorkRunbook,
    ];

    /// The operation a triage action needs.
    ///
    /// `SlaBreach` is normally applied by the agent's own SLA timer, which is not a role and is
    /// not checked; when a person applies it by hand it needs the same right as `Escalate`.
    pub fn for_action(action: &Action) -> Operation {
        match action {
            Action::Acknowledge => Operation::Acknowledge,
            Action::Assign { .. } | Action::Unassign => Operation::Assign,
            Action::Comment { .. } => Operation::Comment,
            Action::Escalate | Action::SlaBreach => Operation::Escalate,
            Action::Close { .. } => Operation::Close,
            Action::Promote { .. } => Operation::Promote,
            Action::Reopen => Operation::Reopen,
        }
    }

    /// Stable kebab-case name, for logs, audit entries and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::ViewAlerts => "view-alerts",
            Operation::SubmitAlerts => "submit-alerts",
            Operation::Acknowledge => "acknowledge",
            Operation::Assign => "assign",
            Operation::Comment => "comment",
            Operation::Escalate => "escalate",
            Operation::Close => "close",
            Operation::Promote => "promote",
            Operation::Reopen => "reopen",
            Operation::ViewIncidents => "view-incidents",
            Operation::UpdateIncident => "update-incident",
            Operation::EscalateIncidentToHub => "escalate-incident-to-hub",
            Operation::ViewRoster => "view-roster",
            Operation::EditRoster => "edit-roster",
            Operation::VerifyAudit => "verify-audit",
            Operation::ViewStatus => "view-status",
            Operation::ViewDirectives => "view-directives",
            Operation::ApproveDirective => "approve-directive",
            Operation::WorkTask => "work-task",
            Operation::ManageApiTokens => "manage-api-tokens",
            Operation::KeepRunbooks => "keep-runbooks",
            Operation::WorkRunbook => "work-runbook",
        }
    }

    /// Whether the rule depends on the tier of the alert group acted on.
    pub fn uses_target_tier(self) -> bool {
        match self {
            Operation::Acknowledge
            | Operation::Assign
            | Operation::Comment
            | Operation::Escalate
            | Operation::Close
            | Operation::Promote
            | Operation::Reopen => true,
            Operation::ViewAlerts
            | Operation::SubmitAlerts
            | Operation::ViewIncidents
            | Operation::UpdateIncident
            | Operation::EscalateIncidentToHub
            | Operation::ViewRoster
            | Operation::EditRoster
            | Operation::VerifyAudit
            | Operation::ViewStatus
            | Operation::ViewDirectives
            | Operation::ApproveDirective
            | Operation::WorkTask
            | Operation::ManageApiTokens
            | Operation::KeepRunbooks
            | Operation::WorkRunbook => false,
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who an operation needs, as a rule and in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Needed {
    /// A person on the roster: any analyst, a security engineer or the SOC manager.
    Person,
    /// A sensor, a security engineer or the SOC manager.
    AlertSource,
    /// An analyst of this tier or above, or the SOC manager.
    AnalystAtLeast(Tier),
    SocManager,
    SocManagerOrEngineer,
}

impl Needed {
    pub fn allows(self, role: Role) -> bool {
        match (self, role) {
            (Needed::Person, Role::Analyst(_) | Role::Engineer | Role::SocManager) => true,
            (Needed::Person, Role::Sensor) => false,
            (Needed::AlertSource, Role::Sensor | Role::Engineer | Role::SocManager) => true,
            (Needed::AlertSource, Role::Analyst(_)) => false,
            (Needed::AnalystAtLeast(min), Role::Analyst(tier)) => tier >= min,
            (Needed::AnalystAtLeast(_), Role::SocManager) => true,
            (Needed::AnalystAtLeast(_), Role::Engineer | Role::Sensor) => false,
            (Needed::SocManager, Role::SocManager) => true,
            (Needed::SocManager, Role::Analyst(_) | Role::Engineer | Role::Sensor) => false,
            (Needed::SocManagerOrEngineer, Role::SocManager | Role::Engineer) => true,
            (Needed::SocManagerOrEngineer, Role::Analyst(_) | Role::Sensor) => false,
        }
    }
}

impl std::fmt::Display for Needed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Needed::Person => f.write_str("an analyst, a security engineer or the SOC manager"),
            Needed::AlertSource => f.write_str("a sensor, a security engineer or the SOC manager"),
            Needed::AnalystAtLeast(Tier::T1) => {
                f.write_str("an analyst of any tier, or the SOC manager")
            }
            Needed::AnalystAtLeast(Tier::T4) => f.write_str("a tier 4 analyst or the SOC manager"),
            Needed::AnalystAtLeast(tier @ (Tier::T2 | Tier::T3)) => {
                write!(f, "a {tier} analyst or above, or the SOC manager")
            }
            Needed::SocManager => f.write_str("the SOC manager"),
            Needed::SocManagerOrEngineer => f.write_str("the SOC manager or a security engineer"),
        }
    }
}

/// A refused operation. The message reads, for example, "closing a tier 3 alert group needs a
/// tier 3 analyst or above, or the SOC manager; you are a tier 1 analyst".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} needs {needed}; you are {}", describe(*.operation, *.target_tier), with_article(*.role))]
pub struct Denied {
    pub operation: Operation,
    pub target_tier: Option<Tier>,
    pub needed: Needed,
    pub role: Role,
}

/// Who `operation` needs. For triage operations `target_tier` is the tier of the alert group
/// acted on; a missing tier is treated as Tier 4, so a caller that forgot it fails closed
/// rather than letting a Tier 1 analyst act on any group. Other operations ignore it.
pub fn needed(operation: Operation, target_tier: Option<Tier>) -> Needed {
    let tier = target_tier.unwrap_or(Tier::T4);
    match operation {
        Operation::ViewAlerts
        | Operation::ViewIncidents
        | Operation::ViewRoster
        | Operation::ViewStatus
        | Operation::ViewDirectives
        | Operation::WorkTask => Needed::Person,
        Operation::ApproveDirective => Needed::AnalystAtLeast(Tier::T3),
        Operation::SubmitAlerts => Needed::AlertSource,
        Operation::Acknowledge
        | Operation::Assign
        | Operation::Comment
        | Operation::Escalate
        | Operation::Close
        | Operation::Reopen => Needed::AnalystAtLeast(tier),
        Operation::Promote => Needed::AnalystAtLeast(tier.max(Tier::T2)),
        Operation::UpdateIncident => Needed::AnalystAtLeast(Tier::T2),
        Operation::EscalateIncidentToHub => Needed::AnalystAtLeast(Tier::T3),
        Operation::EditRoster | Operation::ManageApiTokens => Needed::SocManager,
        Operation::VerifyAudit | Operation::KeepRunbooks => Needed::SocManagerOrEngineer,
        Operation::WorkRunbook => Needed::AnalystAtLeast(Tier::T1),
    }
}

/// May `role` perform `operation`? `target_tier` is the tier of the alert group acted on, when
/// the operation has one (see [`needed`] for what `None` means).
pub fn check(role: Role, operation: Operation, target_tier: Option<Tier>) -> Result<(), Denied> {
    let needed = needed(operation, target_tier);
    if needed.allows(role) {
        Ok(())
    } else {
        Err(Denied {
            operation,
            target_tier: if operation.uses_target_tier() {
                target_tier
            } else {
                None
            },
            needed,
            role,
        })
    }
}

/// The operation as the subject of "… needs …".
fn describe(operation: Operation, target_tier: Option<Tier>) -> String {
    let group = match target_tier {
        Some(tier) => format!("a {tier} alert group"),
        None => "an alert group of unknown tier".to_owned(),
    };
    match operation {
        Operation::ViewAlerts => "viewing alert groups".to_owned(),
        Operation::SubmitAlerts => "submitting alerts".to_owned(),
        Operation::Acknowledge => format!("acknowledging {group}"),
        Operation::Assign => format!("assigning {group}"),
        Operation::Comment => format!("commenting on {group}"),
        Operation::Escalate => format!("escalating {group}"),
        Operation::Close => format!("closing {group}"),
        Operation::Promote => format!("promoting {group} to an incident"),
        Operation::Reopen => format!("reopening {group}"),
        Operation::ViewIncidents => "viewing incidents".to_owned(),
        Operation::UpdateIncident => "updating an incident".to_owned(),
        Operation::EscalateIncidentToHub => "escalating an incident to the SIRT hub".to_owned(),
        Operation::ViewRoster => "viewing the roster".to_owned(),
        Operation::EditRoster => "editing the roster".to_owned(),
        Operation::VerifyAudit => "verifying the audit log".to_owned(),
        Operation::ViewStatus => "viewing the site status".to_owned(),
        Operation::ViewDirectives => "viewing hub directives".to_owned(),
        Operation::ApproveDirective => "approving a destructive playbook action".to_owned(),
        Operation::WorkTask => "working a task from the SIRT hub".to_owned(),
        Operation::ManageApiTokens => "managing API tokens".to_owned(),
        Operation::KeepRunbooks => "keeping the site's runbooks".to_owned(),
        Operation::WorkRunbook => "ticking a runbook step".to_owned(),
    }
}

/// The role as the complement of "you are …".
fn with_article(role: Role) -> String {
    match role {
        Role::Analyst(_) | Role::Engineer | Role::Sensor => format!("a {role}"),
        Role::SocManager => format!("the {role}"),
    }
}
