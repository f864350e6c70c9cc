#![allow(
    clippy::unwrap_used,
    reason = "a test that unwraps fails loudly, which is the point"
)]

mod cases;
mod props;
mod table;

use super::*;
use socfed_proto::vocab::{Severity, Tlp};

const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;

/// Every state the table covers: each open phase, and closed with each resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum S {
    New,
    Tri,
    Con,
    Era,
    Rec,
    Rev,
    ClRes,
    ClFp,
    ClDup,
}

impl S {
    const ALL: [S; 9] = [
        S::New,
        S::Tri,
        S::Con,
        S::Era,
        S::Rec,
        S::Rev,
        S::ClRes,
        S::ClFp,
        S::ClDup,
    ];

    fn phase(self) -> Phase {
        match self {
            S::New => Phase::New,
            S::Tri => Phase::Triage,
            S::Con => Phase::Containment,
            S::Era => Phase::Eradication,
            S::Rec => Phase::Recovery,
            S::Rev => Phase::PostIncidentReview,
            S::ClRes => Phase::Closed {
                resolution: Resolution::Resolved,
            },
            S::ClFp => Phase::Closed {
                resolution: Resolution::FalsePositive,
            },
            S::ClDup => Phase::Closed {
                resolution: Resolution::Duplicate { of: DUP_OF.into() },
            },
        }
    }

    fn is_closed(self) -> bool {
        matches!(self, S::ClRes | S::ClFp | S::ClDup)
    }
}

const DUP_OF: &str = "01HUBINCIDENTAAAAAAAAAAAAAA";

/// Every command the table covers: each command kind, and both directions of the setters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum C {
    StartTriage,
    Contain,
    Eradicate,
    Recover,
    StartReview,
    Close,
    CloseFp,
    CloseDup,
    Reopen,
    SevUp,
    SevDown,
    PrioUp,
    PrioDown,
    TlpUp,
    TlpDown,
    AddTechnique,
    AssignLead,
}

impl C {
    const ALL: [C; 17] = [
        C::StartTriage,
        C::Contain,
        C::Eradicate,
        C::Recover,
        C::StartReview,
        C::Close,
        C::CloseFp,
        C::CloseDup,
        C::Reopen,
        C::SevUp,
        C::SevDown,
        C::PrioUp,
        C::PrioDown,
        C::TlpUp,
        C::TlpDown,
        C::AddTechnique,
        C::AssignLead,
    ];

    /// The command, against a [`sample`] incident (medium, P3, amber, T1059, led by carol).
    fn command(self) -> Command {
        match self {
            C::StartTriage => Command::StartTriage,
            C::Contain => Command::Contain,
            C::Eradicate => Command::Eradicate,
            C::Recover => Command::Recover,
            C::StartReview => Command::StartReview,
            C::Close => Command::Close,
            C::CloseFp => Command::CloseAsFalsePositive,
            C::CloseDup => Command::CloseAsDuplicate { of: DUP_OF.into() },
            C::Reopen => Command::Reopen {
                reason: "beacon seen again at lyon".into(),
            },
            C::SevUp => Command::SetSeverity(Severity::High),
            C::SevDown => Command::SetSeverity(Severity::Low),
            C::PrioUp => Command::SetPriority(Priority::P2),
            C::PrioDown => Command::SetPriority(Priority::P4),
            C::TlpUp => Command::SetTlp(Tlp::Red),
            C::TlpDown => Command::SetTlp(Tlp::Green),
            C::AddTechnique => Command::AddTechnique("t1486".into()),
            C::AssignLead => Command::AssignIrLead {
                operator: "dave".into(),
            },
        }
    }
}

/// A representative incident in state `s`, with the phase times a real one would have.
fn sample(s: S) -> IncidentLifecycle {
    let mut incident = IncidentLifecycle::new(Severity::Medium, Tlp::Amber, T0);
    incident.techniques = vec![socfed_proto::vocab::Technique::parse("T1059").unwrap()];
    incident.ir_lead = Some("carol".into());
    incident.reopened = 1;
    let path: &[PhaseKind] = match s {
        S::New => &[],
        S::Tri => &[PhaseKind::Triage],
        S::Con => &[PhaseKind::Triage, PhaseKind::Containment],
        S::Era => &[
            PhaseKind::Triage,
            PhaseKind::Containment,
            PhaseKind::Eradication,
        ],
        S::Rec => &[
            PhaseKind::Triage,
            PhaseKind::Containment,
            PhaseKind::Recovery,
        ],
        S::Rev => &[
            PhaseKind::Triage,
            PhaseKind::Containment,
            PhaseKind::Recovery,
            PhaseKind::PostIncidentReview,
        ],
        S::ClRes => &[
            PhaseKind::Triage,
            PhaseKind::Containment,
            PhaseKind::Recovery,
            PhaseKind::Closed,
        ],
        S::ClFp | S::ClDup => &[PhaseKind::Triage, PhaseKind::Closed],
    };
    let mut at = T0;
    for kind in path {
        at += 10 * MINUTE;
        incident.entered.stamp(*kind, at);
    }
    incident.updated_ms = at;
    incident.phase = s.phase();
    incident
}
