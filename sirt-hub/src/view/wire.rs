//! The hub's enums on the wire: one [`WireTable`] per status, role or command that the
//! Operator, roster and communications APIs carry as a number. The services convert through
//! these tables and the CLI turns the numbers back into the domain's words, so a word is
//! spelled in one place (the domain) and a number in one place (here).

use crate::lifecycle::{CommandKind, HubRole};
use socfed_proto::pb;
use socfed_proto::vocab::{Tier, WireTable};

pub static ROLES: WireTable<HubRole, pb::HubRole> = WireTable {
    field: "role",
    word: HubRole::as_str,
    pairs: &[
        (HubRole::Analyst(Tier::T1), pb::HubRole::Tier1),
        (HubRole::Analyst(Tier::T2), pb::HubRole::Tier2),
        (HubRole::Analyst(Tier::T3), pb::HubRole::Tier3),
        (HubRole::Analyst(Tier::T4), pb::HubRole::Tier4),
        (HubRole::SecurityEngineer, pb::HubRole::Engineer),
        (HubRole::SocManager, pb::HubRole::SocManager),
        (HubRole::IrLead, pb::HubRole::IrLead),
        (HubRole::Ciso, pb::HubRole::Ciso),
        (HubRole::Admin, pb::HubRole::Admin),
    ],
};

pub static COMMANDS: WireTable<CommandKind, pb::LifecycleCommand> = WireTable {
    field: "command",
    word: CommandKind::word,
    pairs: &[
        (CommandKind::StartTriage, pb::LifecycleCommand::StartTriage),
        (CommandKind::Contain, pb::LifecycleCommand::Contain),
        (CommandKind::Eradicate, pb::LifecycleCommand::Eradicate),
        (CommandKind::Recover, pb::LifecycleCommand::Recover),
        (CommandKind::StartReview, pb::LifecycleCommand::StartReview),
        (CommandKind::Close, pb::LifecycleCommand::Close),
        (
            CommandKind::CloseAsFalsePositive,
            pb::LifecycleCommand::CloseFalsePositive,
        ),
        (
            CommandKind::CloseAsDuplicate,
            pb::LifecycleCommand::CloseDuplicate,
        ),
        (CommandKind::Reopen, pb::LifecycleCommand::Reopen),
        (CommandKind::SetSeverity, pb::LifecycleCommand::SetSeverity),
        (CommandKind::SetPriority, pb::LifecycleCommand::SetPriority),
        (CommandKind::SetTlp, pb::LifecycleCommand::SetTlp),
        (
            CommandKind::AddTechnique,
            pb::LifecycleCommand::AddTechnique,
        ),
        (
            CommandKind::AssignIrLead,
            pb::LifecycleCommand::AssignIrLead,
        ),
    ],
};

/// A word of a state that carries data in the domain ([`crate::comms::CommState`],
/// [`crate::regulatory::DeadlineStatus`]): the table maps its name, as the domain spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word(pub &'static str);

pub static COMM_STATES: WireTable<Word, pb::CommState> = WireTable {
    field: "state",
    word: |w| w.0,
    pairs: &[
        (Word("draft"), pb::CommState::Draft),
        (Word("approved"), pb::CommState::Approved),
        (Word("rejected"), pb::CommState::Rejected),
        (Word("delivered"), pb::CommState::Delivered),
        (Word("delivery-failed"), pb::CommState::DeliveryFailed),
    ],
};

pub static DEADLINES: WireTable<Word, pb::DeadlineStatus> = WireTable {
    field: "status",
    word: |w| w.0,
    pairs: &[
        (Word("pending"), pb::DeadlineStatus::Pending),
        (Word("due_soon"), pb::DeadlineStatus::DueSoon),
        (Word("overdue"), pb::DeadlineStatus::Overdue),
        (Word("met"), pb::DeadlineStatus::Met),
        (Word("met_late"), pb::DeadlineStatus::MetLate),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comms::CommState;

    #[test]
    fn every_table_holds_every_value_once() {
        let sound = (Vec::<String>::new(), Vec::<String>::new());
        assert_eq!(ROLES.defects(&HubRole::ALL), sound);
        assert_eq!(COMMANDS.defects(&CommandKind::ALL), sound);
        let comm_states = [
            CommState::Draft,
            CommState::Approved {
                by: String::new(),
                at_ms: 0,
            },
            CommState::Rejected {
                by: String::new(),
                at_ms: 0,
                reason: String::new(),
            },
            CommState::Delivered {
                at_ms: 0,
                channel: String::new(),
            },
            CommState::DeliveryFailed {
                at_ms: 0,
                error: String::new(),
                attempts: 1,
            },
        ]
        .map(|s| Word(s.name()));
        assert_eq!(COMM_STATES.defects(&comm_states), sound);
        // Every deadline status the wire defines has its word.
        for raw in 1..=5 {
            assert!(DEADLINES.from_wire(raw).is_ok(), "deadline status {raw}");
        }
    }

    #[test]
    fn each_pair_matches_by_name() {
        let none = Vec::<String>::new();
        assert_eq!(ROLES.misnamed(|w| w.as_str_name(), "HUB_ROLE_"), none);
        assert_eq!(
            COMMANDS.misnamed(|w| w.as_str_name(), "LIFECYCLE_COMMAND_"),
            none
        );
        assert_eq!(
            COMM_STATES.misnamed(|w| w.as_str_name(), "COMM_STATE_"),
            none
        );
        assert_eq!(
            DEADLINES.misnamed(|w| w.as_str_name(), "DEADLINE_STATUS_"),
            none
        );
    }

    #[test]
    fn words_round_trip_through_the_wire() {
        for role in HubRole::ALL {
            assert_eq!(ROLES.from_wire(ROLES.to_wire(role) as i32), Ok(role));
            assert_eq!(role.as_str().parse::<HubRole>(), Ok(role));
        }
        for kind in CommandKind::ALL {
            assert_eq!(COMMANDS.from_wire(COMMANDS.to_wire(kind) as i32), Ok(kind));
            assert_eq!(kind.word().parse::<CommandKind>(), Ok(kind));
        }
        assert_eq!(
            COMM_STATES.show(pb::CommState::DeliveryFailed as i32),
            "delivery-failed"
        );
        assert_eq!(DEADLINES.show(99), "unknown (99)");
    }
}
