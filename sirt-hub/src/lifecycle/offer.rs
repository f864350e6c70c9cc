//! Which commands an operator holding a role may give an incident now, asked of the machine
//! itself ([`super::apply`] on a sample of each command), so a surface that offers actions (the
//! dashboard's incident page) offers what the lifecycle would accept and never restates its
//! rules. The sample of a value-setting command restates the current value: allowed to
//! whoever may raise it; lowering it may still be refused, by the machine, when given.

use super::model::{Command, CommandKind, IncidentLifecycle};
use super::roles::HubRole;

/// The kinds of command `role` may give on `current` (in [`CommandKind::ALL`]'s order).
pub fn offered(current: &IncidentLifecycle, role: HubRole) -> Vec<CommandKind> {
    CommandKind::ALL
        .into_iter()
        .filter(|kind| {
            sample(*kind, current).is_some_and(|sample| {
                super::apply(current, &sample, role, "offer", current.updated_ms).is_ok()
            })
        })
        .collect()
}

/// A command of `kind` that restates what it can of `current`, read as an operator's words
/// are (`words::command`), so the sample is what the form would send.
fn sample(kind: CommandKind, current: &IncidentLifecycle) -> Option<Command> {
    let argument = match kind {
        CommandKind::SetSeverity => current.severity.as_str().to_string(),
        CommandKind::SetPriority => format!("{:?}", current.priority),
        CommandKind::SetTlp => current.tlp.as_str().to_string(),
        CommandKind::AddTechnique => "T1059".to_string(),
        _ => "offer".to_string(),
    };
    super::command(kind, &argument).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::Tier;
    use socfed_proto::vocab::{Severity, Tlp};

    #[test]
    fn a_new_incident_offers_what_each_role_may_give_it() {
        let new = IncidentLifecycle::new(Severity::High, Tlp::Amber, 0);
        let lead = offered(&new, HubRole::IrLead);
        for kind in [
            CommandKind::StartTriage,
            CommandKind::CloseAsFalsePositive,
            CommandKind::SetSeverity,
            CommandKind::SetTlp,
        ] {
            assert!(lead.contains(&kind), "{kind} for the IR lead: {lead:?}");
        }
        for kind in [
            CommandKind::Contain,
            CommandKind::Reopen,
            CommandKind::AssignIrLead,
        ] {
            assert!(!lead.contains(&kind), "{kind} for the IR lead: {lead:?}");
        }
        let tier1 = offered(&new, HubRole::Analyst(Tier::T1));
        assert!(tier1.contains(&CommandKind::StartTriage), "{tier1:?}");
        assert!(!tier1.contains(&CommandKind::SetSeverity), "{tier1:?}");
        assert!(offered(&new, HubRole::SocManager).contains(&CommandKind::AssignIrLead));
    }
}
