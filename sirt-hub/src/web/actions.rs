//! The SIRT workbench's lifecycle actions: the lifecycle commands (start triage … close,
//! reopen), severity, priority, TLP, ATT&CK techniques and the IR lead (a choice among the
//! roster's operators who may lead a response), each a plain HTML form on the incident page (no
//! script needed) posted to `POST /incidents/{id}/act`.
//!
//! The handler is an adapter and owns no rule: the checks every form passes are `forms.rs`;
//! it reads the command word and argument as `sirt-hub incidents transition` does
//! (`lifecycle::parse_command`), and runs the same command as the `TransitionIncident` API
//! (`service::Commands::transition`: the access matrix with the role from the live roster, the
//! TLP:RED read rule, the lifecycle and its audit entry `incident.<command>` through the single
//! writer) as the session's operator.
//!
//! Which forms the page offers is asked of the lifecycle too (`lifecycle::offered`).

use super::WebState;
use super::forms::{self, IncidentForm};
use super::pages::Choice;
use crate::error::HubError;
use crate::lifecycle::{CommandKind, HubRole, IncidentLifecycle};
use crate::service::Commands;
use axum::extract::State;
use axum::response::Response;
use socfed_proto::vocab::{Severity, Tlp};

/// One action form: the command word, its button, and the one value it asks for, if any.
pub struct ActionForm {
    pub word: &'static str,
    pub button: &'static str,
    pub field: Option<Field>,
}

/// The value an action asks for: a text box, or a choice among `options` when there are any.
pub struct Field {
    pub label: &'static str,
    pub options: Vec<Choice>,
}

/// The incident page's actions for its viewer.
pub struct Act {
    /// "an IR lead", for "As an IR lead you may:".
    pub role: String,
    pub csrf: String,
    pub forms: Vec<ActionForm>,
}

impl Act {
    /// The forms of the commands `role` may give on `current` now; `leads` are the operators
    /// the IR lead is chosen among.
    pub fn new(current: &IncidentLifecycle, role: HubRole, csrf: String, leads: &[String]) -> Self {
        let forms = crate::lifecycle::offered(current, role)
            .into_iter()
            .map(|kind| form(kind, current, leads))
            .collect();
        Self {
            role: role.with_article(),
            csrf,
            forms,
        }
    }
}

fn text(label: &'static str) -> Option<Field> {
    Some(Field {
        label,
        options: Vec::new(),
    })
}

fn select<S: AsRef<str>>(label: &'static str, words: &[S], current: &str) -> Option<Field> {
    let options = words
        .iter()
        .map(|w| Choice::word(w.as_ref(), current))
        .collect();
    Some(Field { label, options })
}

const PRIORITIES: [&str; 4] = ["P1", "P2", "P3", "P4"];

fn form(kind: CommandKind, current: &IncidentLifecycle, leads: &[String]) -> ActionForm {
    let (button, field) = match kind {
        CommandKind::StartTriage => ("Start triage", None),
        CommandKind::Contain => ("Start containment", None),
        CommandKind::Eradicate => ("Start eradication", None),
        CommandKind::Recover => ("Start recovery", None),
        CommandKind::StartReview => ("Start post-incident review", None),
        CommandKind::Close => ("Close as resolved", None),
        CommandKind::CloseAsFalsePositive => ("Close as false positive", None),
        CommandKind::CloseAsDuplicate => ("Close as duplicate", text("Duplicate of (incident id)")),
        CommandKind::Reopen => ("Reopen", text("Why")),
        CommandKind::SetSeverity => {
            let words: Vec<&'static str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
            (
                "Set severity",
                select("Severity", &words, current.severity.as_str()),
            )
        }
        CommandKind::SetPriority => {
            let now = format!("{:?}", current.priority);
            ("Set priority", select("Priority", &PRIORITIES, &now))
        }
        CommandKind::SetTlp => {
            let words: Vec<&'static str> = Tlp::ALL.iter().map(|t| t.as_str()).collect();
            ("Set TLP", select("TLP", &words, current.tlp.as_str()))
        }
        CommandKind::AddTechnique => ("Add technique", text("ATT&CK technique (e.g. T1059.001)")),
        // The roster's leads to choose from; with none in the roster, a name to type.
        CommandKind::AssignIrLead if leads.is_empty() => {
            ("Assign IR lead", text("IR lead (operator name)"))
        }
        CommandKind::AssignIrLead => (
            "Assign IR lead",
            select(
                "IR lead",
                leads,
                current.ir_lead.as_deref().unwrap_or_default(),
            ),
        ),
    };
    ActionForm {
        word: kind.word(),
        button,
        field,
    }
}

/// `POST /incidents/{id}/act` with `csrf`, `command` (a lifecycle word) and `argument`.
pub async fn act(
    State(state): State<WebState>,
    IncidentForm {
        viewer,
        id,
        incident,
        posted,
    }: IncidentForm,
) -> Response {
    let command =
        match crate::lifecycle::parse_command(posted.one("command"), posted.one("argument")) {
            Ok(command) => command,
            Err(why) => return forms::refused_page(&viewer, &id, &HubError::invalid(why)),
        };
    let result = Commands::on(&state.ingest)
        .transition(
            &state.store,
            &state.roles,
            &posted.acting,
            incident,
            command,
        )
        .await;
    forms::finish(&state, &viewer, &id, result)
}
