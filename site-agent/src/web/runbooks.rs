//! The console's runbooks: the section an alert group's and an incident's page include
//! (`templates/runbooks.html`, its data in [`RunbookSection`]) and `POST /runbooks/step`,
//! which ticks or unticks one checklist step through `SocService::set_runbook_step` (as
//! `SiteRunbooks.SetRunbookStep`), after the checks every console form passes.

use super::WebState;
use super::auth::Viewer;
use crate::error::AgentError;
use crate::service::{Actor, SocService};
use axum::Extension;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use socfed_runtime::web::runbook::RunbookView;
use std::collections::HashMap;

/// The runbooks section of a page: what applies to `subject`, and the form token.
pub struct RunbookSection {
    pub subject: String,
    pub csrf: String,
    pub items: Vec<RunbookView>,
}

impl RunbookSection {
    /// The runbooks that apply to `subject` for `actor` (none when reading them fails: the
    /// page still shows the record).
    pub fn of(soc: &SocService, actor: &Actor, subject: &str, csrf: String) -> Self {
        let items = soc
            .matched_runbooks(actor, subject)
            .map(|m| m.iter().map(|(r, p)| RunbookView::of(r, p)).collect())
            .inspect_err(|e| tracing::warn!(error = %e, subject, "runbooks not read for a page"))
            .unwrap_or_default();
        Self {
            subject: subject.to_string(),
            csrf,
            items,
        }
    }
}

/// [`RunbookSection::of`] for `viewer` on the blocking pool, as a page's handler asks it.
pub async fn section(state: &WebState, viewer: &Viewer, subject: String) -> RunbookSection {
    let (actor, csrf) = (viewer.actor.clone(), viewer.action_csrf());
    let fallback = RunbookSection {
        subject: subject.clone(),
        csrf: csrf.clone(),
        items: Vec::new(),
    };
    super::auth::blocking(state, move |s| {
        Ok(RunbookSection::of(s, &actor, &subject, csrf))
    })
    .await
    .unwrap_or(fallback)
}

/// The page a subject is shown on: an alert group (a ULID) or a local incident.
fn page_of(subject: &str) -> String {
    if ulid::Ulid::from_string(subject).is_ok() {
        format!("/alerts/{subject}")
    } else {
        format!("/incidents/{subject}")
    }
}

/// `POST /runbooks/step`: `subject`, `runbook`, `step`, `done` (`true` or `false`).
pub async fn step(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let back = match &form {
        Ok(Form(f)) => page_of(f.get("subject").map(String::as_str).unwrap_or_default()),
        Err(_) => "/".to_string(),
    };
    let work = move |state: &WebState, viewer: &Viewer, form: HashMap<String, String>| {
        let field = |k: &str| form.get(k).map(|v| v.trim()).unwrap_or_default();
        let subject = field("subject");
        let id = socfed_proto::vocab::runbook::parse_id(field("runbook"))
            .map_err(|e| AgentError::invalid(e.to_string()))?;
        let step: u32 = field("step")
            .parse()
            .map_err(|_| AgentError::invalid("step: not a step number"))?;
        let done = match field("done") {
            "true" => true,
            "false" => false,
            _ => return Err(AgentError::invalid("done: true or false")),
        };
        state
            .soc
            .set_runbook_step(&viewer.actor, subject, id, step, done)?;
        Ok(page_of(subject))
    };
    super::actions::perform(state, viewer, (headers, uri), form, back, work).await
}
