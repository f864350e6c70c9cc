//! The SIRT workbench's incident actions: the lifecycle commands (start triage … close, reopen),
//! severity, priority, TLP, ATT&CK techniques and the IR lead, each a plain HTML form on the
//! incident page (no script needed) posted to `POST /incidents/{id}/act`.
//!
//! The handler is an adapter and owns no rule: it refuses a form from another origin or
//! without the session's action token (nothing changes, the refusal is audited), reads the
//! command word and argument as `sirt-hub incidents transition` does
//! (`lifecycle::parse_command`), and runs the same command as the `TransitionIncident` API
//! (`service::Commands::transition`: the access matrix with the role from the live roster, the
//! TLP:RED read rule, the lifecycle and its audit entry `incident.<command>` through the single
//! writer) as the session's operator, with the certificate that signed the session in. Done, it
//! answers 303 back to the incident page (Post/Redirect/Get), where the new state shows;
//! refused, a page with the hub's message (naming the role needed when that is why) and what to
//! do, with its HTTP status (400, 403, 404, 409).
//!
//! Which forms the page offers is asked of the lifecycle too (`lifecycle::offered`).

use super::WebState;
use super::auth::{Viewer, forbidden};
use super::pages::{Choice, Layout, render};
use crate::access::acting::Acting;
use crate::error::HubError;
use crate::lifecycle::{CommandKind, HubRole, IncidentLifecycle};
use crate::refusals::Refusal;
use crate::service::Commands;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use socfed_proto::vocab::{Severity, Tlp};
use socfed_runtime::web::csrf::foreign;
use std::collections::HashMap;
use ulid::Ulid;

/// The `api` of a refused dashboard action in the audit log.
const API: &str = "dashboard: incident action";

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
    /// The forms of the commands `role` may give on `current` now.
    pub fn new(current: &IncidentLifecycle, role: HubRole, csrf: String) -> Self {
        let forms = crate::lifecycle::offered(current, role)
            .into_iter()
            .map(|kind| form(kind, current))
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

fn select(label: &'static str, words: &[&'static str], current: &str) -> Option<Field> {
    let options = words
        .iter()
        .map(|&w| Choice {
            value: w,
            label: w,
            selected: w == current,
        })
        .collect();
    Some(Field { label, options })
}

const PRIORITIES: [&str; 4] = ["P1", "P2", "P3", "P4"];

fn form(kind: CommandKind, current: &IncidentLifecycle) -> ActionForm {
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
        CommandKind::AssignIrLead => ("Assign IR lead", text("IR lead (operator name)")),
    };
    ActionForm {
        word: kind.word(),
        button,
        field,
    }
}

/// A refused action: what the hub said and what to do next.
#[derive(Template)]
#[template(path = "action_refused.html")]
pub struct Refused<'a> {
    pub layout: Layout<'a>,
    pub id: &'a str,
    pub reason: &'a str,
    pub next: &'static str,
}

fn next_step(error: &HubError) -> &'static str {
    match error {
        HubError::Invalid(_) => "Correct the value and submit the form again.",
        HubError::Denied(_) => {
            "Ask an operator who holds that role, or ask an admin or the CISO to change your role (sirt-hub operators)."
        }
        HubError::Refused(_) => {
            "Open the incident again to see its current state, then choose an action it offers."
        }
        HubError::NotFound(_) => "Go back to the incident board and open the incident from there.",
        _ => "Nothing was changed; retry shortly.",
    }
}

fn refused_page(viewer: &Viewer, id: &str, error: &HubError) -> Response {
    let reason = error.to_string();
    let mut response = render(&Refused {
        layout: Layout::of(viewer, "Not done", "/"),
        id,
        reason: &reason,
        next: next_step(error),
    });
    *response.status_mut() = error.http_status();
    response
}

/// A refusal of the caller for the audit chain, as the gRPC edge records one.
fn audit_refusal(state: &WebState, viewer: &Viewer, reason: String) {
    state.refusals.record(Refusal {
        action: crate::refusals::ACTION,
        // Named as the dashboard's operator: a bare name could read as another kind of
        // caller to the audit (an operator may be called "anonymous-…").
        who: format!("dashboard operator {}", viewer.name),
        cert: viewer.cert.clone(),
        peer_ip: None,
        api: API.into(),
        reason,
    });
}

/// `POST /incidents/{id}/act` with `csrf`, `command` (a lifecycle word) and `argument`.
pub async fn act(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    if foreign(&headers, &uri) {
        audit_refusal(&state, &viewer, "a form posted from another origin".into());
        return forbidden(
            "This change was not sent from the hub's own page, so nothing was changed. Open the incident on the dashboard and use its form.",
        );
    }
    // A body the form extractor refuses (too large, not a form) is answered for what it is,
    // before the token check: it is not a forged form, and it changes nothing.
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => {
            let error = HubError::invalid(format!(
                "the form could not be read ({}); forms of the dashboard stay under {} KiB",
                rejection.body_text(),
                super::FORM_BODY_LIMIT / 1024
            ));
            let mut response = refused_page(&viewer, &id, &error);
            *response.status_mut() = rejection.status();
            return response;
        }
    };
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if !crate::session::csrf_matches(field("csrf"), &viewer.action_csrf()) {
        audit_refusal(
            &state,
            &viewer,
            "a form without this session's token".into(),
        );
        return forbidden(
            "This form did not come from a page of your current session, so nothing was changed. Open the incident again and use its form.",
        );
    }
    let Ok(incident) = Ulid::from_string(&id) else {
        return refused_page(&viewer, &id, &HubError::not_found("No such incident."));
    };
    let command = match crate::lifecycle::parse_command(field("command"), field("argument")) {
        Ok(command) => command,
        Err(why) => return refused_page(&viewer, &id, &HubError::invalid(why)),
    };
    let acting = Acting {
        name: viewer.name.clone(),
        role: state.roles.get(&viewer.name),
        cert: viewer.cert.clone(),
    };
    match Commands::on(&state.ingest)
        .transition(&state.store, &state.roles, &acting, incident, command)
        .await
    {
        Ok(_) => Redirect::to(&format!("/incidents/{incident}")).into_response(),
        Err(error) => {
            if let HubError::Denied(reason) = &error {
                audit_refusal(&state, &viewer, format!("PermissionDenied: {reason}"));
            }
            refused_page(&viewer, &id, &error)
        }
    }
}
