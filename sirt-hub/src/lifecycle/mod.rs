//! The hub incident lifecycle, following NIST SP 800-61: new → triage → containment →
//! eradication → recovery → post-incident review → closed, the early closes as false positive
//! or duplicate, and reopen; with severity, priority, TLP, ATT&CK techniques and an IR lead.
//!
//! It owns which command is valid in which phase, who may give it ([`authz`], checked first,
//! as part of the machine) and what each command changes. It is pure: it never reads the clock
//! (time comes in as `now_ms`, Unix milliseconds), never stores or sends anything and does not
//! know the roster (the caller resolves the actor's role from the certificate and the roster,
//! and the role of a proposed IR lead, which [`check_lead`] judges). It returns the next state and the [`Event`]s
//! to append to the audit log and the timeline.

pub mod authz;
mod words;
pub use words::{MAX_ARGUMENT_CHARS, command, parse_command};
mod events;
mod model;
mod offer;
mod roles;
#[cfg(test)]
mod tests;

pub use authz::{Allowed, Denied, Operation};
pub use events::{Change, Event};
pub use model::{
    Command, CommandKind, IncidentLifecycle, Phase, PhaseKind, PhaseTimes, Priority, Resolution,
};
pub use offer::offered;
pub use roles::{HubRole, Tier, UnknownRole};

use socfed_proto::vocab::Technique;

/// Why a command was refused. The incident is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("cannot {} an incident that is {}; {}", .command.verb(), .phase.as_state(), requirement(*.command))]
    WrongPhase {
        command: CommandKind,
        phase: PhaseKind,
    },
    #[error("cannot {} an incident closed as {resolution}; reopen it first", .command.verb())]
    Closed {
        command: CommandKind,
        resolution: Resolution,
    },
    #[error("{raw:?} is not an ATT&CK technique id; give one like T1059 or T1059.001")]
    InvalidTechnique { raw: String },
    #[error("cannot assign an empty IR lead name; give the operator's roster name")]
    EmptyOperator,
    #[error(
        "{operator:?} is not in the hub roster, so cannot lead an incident; name an operator with \
         role ir-lead or ciso (`sirt-hub operators list`), or add one first"
    )]
    UnknownLead { operator: String },
    #[error(
        "{operator:?} is {}, who cannot lead an incident; name an operator with role ir-lead or \
         ciso, or change the role first (`sirt-hub operators set-role`)",
        .role.with_article()
    )]
    IneligibleLead { operator: String, role: HubRole },
    #[error(
        "cannot close as duplicate without an incident id; give the id of the incident it duplicates"
    )]
    EmptyDuplicateOf,
    #[error("cannot reopen without a reason; say why the incident is reopened")]
    EmptyReason,
    #[error("the acting operator's name is empty; pass the name from the operator's certificate")]
    EmptyActor,
}

/// Whether `operator`, holding `role` in the roster (`None`: not in it), may be named IR lead.
/// Only roles that may carry out what the IR lead is accountable for may hold it: the review,
/// the closure and a reopen need the IR lead or CISO role ([`authz`]), so only those two lead.
/// The roster is the caller's to read; this is the rule.
pub fn check_lead(operator: &str, role: Option<HubRole>) -> Result<(), LifecycleError> {
    let operator = operator.trim().to_owned();
    match role {
        None => Err(LifecycleError::UnknownLead { operator }),
        Some(role) if role.may_lead() => Ok(()),
        Some(role) => Err(LifecycleError::IneligibleLead { operator, role }),
    }
}

/// The second half of a [`LifecycleError::WrongPhase`] message: what the command needs.
fn requirement(command: CommandKind) -> &'static str {
    match command {
        CommandKind::StartTriage => "only a new incident goes to triage",
        CommandKind::Contain => "it must be in triage first",
        CommandKind::Eradicate => "it must be in containment first",
        CommandKind::Recover => "it must be in containment or eradication first",
        CommandKind::StartReview => "it must be in recovery first",
        CommandKind::Close => {
            "it must be in recovery or post-incident review first (a new or triaged incident \
             closes as false positive or duplicate)"
        }
        CommandKind::CloseAsFalsePositive | CommandKind::CloseAsDuplicate => {
            "only a new or triaged incident closes this way; later ones close as resolved after \
             recovery"
        }
        CommandKind::Reopen => "only a closed incident can be reopened",
        CommandKind::SetSeverity
        | CommandKind::SetPriority
        | CommandKind::SetTlp
        | CommandKind::AddTechnique
        | CommandKind::AssignIrLead => "reopen it first",
    }
}

/// Applies `command`, given by `actor` holding `role`, to `current` at `now_ms`. Returns the
/// next state and the events describing the change; on error the caller keeps `current`.
///
/// Checks in order: a non-empty `actor`, the role ([`authz::check`]), the phase, the
/// command's own data. Phase moves (anything else is [`LifecycleError::WrongPhase`], or
/// [`LifecycleError::Closed`] on a closed incident):
///
/// | command | from | to |
/// |---|---|---|
/// | `StartTriage` | new | triage |
/// | `Contain` | triage | containment |
/// | `Eradicate` | containment | eradication |
/// | `Recover` | containment, eradication | recovery |
/// | `StartReview` | recovery | post-incident review |
/// | `Close` | recovery, post-incident review | closed (resolved) |
/// | `CloseAsFalsePositive`, `CloseAsDuplicate` | new, triage | closed (false positive, duplicate) |
/// | `Reopen` | closed | triage, `reopened + 1` |
/// | `Set*`, `AddTechnique`, `AssignIrLead` | any open phase | unchanged |
///
/// Decisions on the edges:
/// - Triage and containment are never skipped; eradication may be (nothing to remove, e.g. a
///   DDoS), and so may the review (minor incidents). Nothing moves backwards except `Reopen`,
///   which goes back to triage and keeps the resolution only in its event.
/// - A closed incident changes only through `Reopen`; every other command is refused.
/// - Setting a value it already has, adding a technique it already lists and assigning the
///   current IR lead succeed with no change and no event, so a retried request is harmless.
/// - Clocks: the change takes effect at `max(now_ms, current.updated_ms)`, so a clock that
///   steps back never makes the timeline go backwards. Phase times are stamped the first time
///   a phase is entered only ([`PhaseTimes`]).
/// - Names (actor, IR lead, duplicate-of id) and the reopen reason are trimmed; empty ones are
///   refused. That an incident is not its own duplicate is the caller's check: this module
///   does not know incident ids.
pub fn apply(
    current: &IncidentLifecycle,
    command: &Command,
    role: HubRole,
    actor: &str,
    now_ms: i64,
) -> Result<(IncidentLifecycle, Vec<Event>), LifecycleError> {
    let actor = actor.trim();
    if actor.is_empty() {
        return Err(LifecycleError::EmptyActor);
    }
    authz::check(current, command, role)?;
    let at = now_ms.max(current.updated_ms);
    let Some((mut next, change)) = step(current, command, at)? else {
        return Ok((current.clone(), Vec::new()));
    };
    next.updated_ms = at;
    let event = Event {
        at_ms: at,
        actor: actor.to_owned(),
        role,
        change,
    };
    Ok((next, vec![event]))
}

/// The phase rules. `Ok(None)` is a valid command that changes nothing.
fn step(
    current: &IncidentLifecycle,
    command: &Command,
    at: i64,
) -> Result<Option<(IncidentLifecycle, Change)>, LifecycleError> {
    use Phase::{Containment, Eradication, New, PostIncidentReview, Recovery, Triage};
    let moved = |to: Phase| Ok(Some(enter(current, to, at)));
    let closed = |resolution: Resolution| {
        let (next, _) = enter(
            current,
            Phase::Closed {
                resolution: resolution.clone(),
            },
            at,
        );
        let from = current.phase.kind();
        Ok(Some((next, Change::Closed { from, resolution })))
    };
    match (&current.phase, command) {
        (New, Command::StartTriage) => moved(Triage),
        (Triage, Command::Contain) => moved(Containment),
        (Containment, Command::Eradicate) => moved(Eradication),
        (Containment | Eradication, Command::Recover) => moved(Recovery),
        (Recovery, Command::StartReview) => moved(PostIncidentReview),
        (Recovery | PostIncidentReview, Command::Close) => closed(Resolution::Resolved),
        (New | Triage, Command::CloseAsFalsePositive) => closed(Resolution::FalsePositive),
        (New | Triage, Command::CloseAsDuplicate { of }) => match of.trim() {
            "" => Err(LifecycleError::EmptyDuplicateOf),
            of => closed(Resolution::Duplicate { of: of.to_owned() }),
        },
        (Phase::Closed { resolution }, Command::Reopen { reason }) => {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(LifecycleError::EmptyReason);
            }
            let (mut next, _) = enter(current, Triage, at);
            next.reopened = current.reopened.saturating_add(1);
            let change = Change::Reopened {
                was: resolution.clone(),
                reason: reason.to_owned(),
                count: next.reopened,
            };
            Ok(Some((next, change)))
        }
        (
            Phase::Closed { resolution },
            Command::StartTriage
            | Command::Contain
            | Command::Eradicate
            | Command::Recover
            | Command::StartReview
            | Command::Close
            | Command::CloseAsFalsePositive
            | Command::CloseAsDuplicate { .. }
            | Command::SetSeverity(_)
            | Command::SetPriority(_)
            | Command::SetTlp(_)
            | Command::AddTechnique(_)
            | Command::AssignIrLead { .. },
        ) => Err(LifecycleError::Closed {
            command: command.kind(),
            resolution: resolution.clone(),
        }),
        (
            New | Triage | Containment | Eradication | Recovery | PostIncidentReview,
            Command::SetSeverity(to),
        ) => Ok((*to != current.severity).then(|| {
            let change = Change::SeverityChanged {
                from: current.severity,
                to: *to,
            };
            (
                IncidentLifecycle {
                    severity: *to,
                    ..current.clone()
                },
                change,
            )
        })),
        (
            New | Triage | Containment | Eradication | Recovery | PostIncidentReview,
            Command::SetPriority(to),
        ) => Ok((*to != current.priority).then(|| {
            let change = Change::PriorityChanged {
                from: current.priority,
                to: *to,
            };
            (
                IncidentLifecycle {
                    priority: *to,
                    ..current.clone()
                },
                change,
            )
        })),
        (
            New | Triage | Containment | Eradication | Recovery | PostIncidentReview,
            Command::SetTlp(to),
        ) => Ok((*to != current.tlp).then(|| {
            let change = Change::TlpChanged {
                from: current.tlp,
                to: *to,
            };
            (
                IncidentLifecycle {
                    tlp: *to,
                    ..current.clone()
                },
                change,
            )
        })),
        (
            New | Triage | Containment | Eradication | Recovery | PostIncidentReview,
            Command::AddTechnique(raw),
        ) => add_technique(current, raw),
        (
            New | Triage | Containment | Eradication | Recovery | PostIncidentReview,
            Command::AssignIrLead { operator },
        ) => assign_ir_lead(current, operator),
        (
            Triage | Containment | Eradication | Recovery | PostIncidentReview,
            Command::StartTriage,
        )
        | (New | Containment | Eradication | Recovery | PostIncidentReview, Command::Contain)
        | (New | Triage | Eradication | Recovery | PostIncidentReview, Command::Eradicate)
        | (New | Triage | Recovery | PostIncidentReview, Command::Recover)
        | (New | Triage | Containment | Eradication | PostIncidentReview, Command::StartReview)
        | (New | Triage | Containment | Eradication, Command::Close)
        | (
            Containment | Eradication | Recovery | PostIncidentReview,
            Command::CloseAsFalsePositive | Command::CloseAsDuplicate { .. },
        )
        | (
            New | Triage | Containment | Eradication | Recovery | PostIncidentReview,
            Command::Reopen { .. },
        ) => Err(LifecycleError::WrongPhase {
            command: command.kind(),
            phase: current.phase.kind(),
        }),
    }
}

/// `current` moved to `to` at `at`, and the change that says so.
fn enter(current: &IncidentLifecycle, to: Phase, at: i64) -> (IncidentLifecycle, Change) {
    let from = current.phase.kind();
    let mut next = current.clone();
    next.entered.stamp(to.kind(), at);
    next.phase = to;
    let change = Change::PhaseChanged {
        from,
        to: next.phase.kind(),
    };
    (next, change)
}

/// `AddTechnique` on an open incident; a technique already listed is no change.
fn add_technique(
    current: &IncidentLifecycle,
    raw: &str,
) -> Result<Option<(IncidentLifecycle, Change)>, LifecycleError> {
    let technique = Technique::parse(raw).map_err(|_| LifecycleError::InvalidTechnique {
        raw: raw.to_owned(),
    })?;
    let Err(at) = current.techniques.binary_search(&technique) else {
        return Ok(None);
    };
    let mut next = current.clone();
    next.techniques.insert(at, technique.clone());
    Ok(Some((next, Change::TechniqueAdded { technique })))
}

/// `AssignIrLead` on an open incident; assigning the current IR lead again is no change.
fn assign_ir_lead(
    current: &IncidentLifecycle,
    operator: &str,
) -> Result<Option<(IncidentLifecycle, Change)>, LifecycleError> {
    let operator = operator.trim();
    if operator.is_empty() {
        return Err(LifecycleError::EmptyOperator);
    }
    if current.ir_lead.as_deref() == Some(operator) {
        return Ok(None);
    }
    let change = Change::IrLeadAssigned {
        previous: current.ir_lead.clone(),
        operator: operator.to_owned(),
    };
    let next = IncidentLifecycle {
        ir_lead: Some(operator.to_owned()),
        ..current.clone()
    };
    Ok(Some((next, change)))
}
