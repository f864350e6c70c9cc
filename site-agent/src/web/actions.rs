//! The console's actions: plain forms posted with the CSRF token of the session, checked to
//! come from the console's own pages, then run through the application layer with the
//! operator's role from the roster: `SocService::act` and `promote` (the calls the gRPC
//! `SiteSoc` service makes) and the response engine's `decide` (as `SiteResponse`). A refusal
//! names the role needed (403) and, like a forged or cross-site form, is audited.

use super::WebState;
use super::auth::{Viewer, audit_refusal, forbidden};
use super::views::failed;
use crate::error::AgentError;
use crate::soc::triage::{Action, Verdict};
use axum::Extension;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use socfed_runtime::web::csrf::{foreign, matches};
use std::collections::HashMap;
use ulid::Ulid;

/// Longest comment, incident title or reason a form may carry, in characters.
pub const MAX_TEXT_CHARS: usize = 1000;

pub fn group_id(raw: &str) -> Result<Ulid, AgentError> {
    Ulid::from_string(raw).map_err(|_| {
        AgentError::invalid(format!(
            "{raw:?} is not an alert group id (26-character ULID)"
        ))
    })
}

/// The checks every action passes before it is read: a readable form (else 400/413, not
/// audited: nothing was forged), from this origin, with the session's action token.
async fn admitted(
    state: &WebState,
    viewer: &Viewer,
    headers: &HeaderMap,
    uri: &Uri,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Result<HashMap<String, String>, Response> {
    let Form(form) = form.map_err(IntoResponse::into_response)?;
    let given = form.get("csrf").map(String::as_str).unwrap_or_default();
    let why = if foreign(headers, uri) {
        Some("the form was posted from another site")
    } else if !matches(given, &viewer.action_csrf()) {
        Some("the form's token is missing or not this session's")
    } else {
        None
    };
    if let Some(why) = why {
        tracing::warn!(operator = %viewer.actor.name, why, "console action refused");
        audit_refusal(
            state,
            &viewer.actor.name,
            &viewer.actor.cert,
            uri.path(),
            why,
        )
        .await;
        return Err(forbidden(
            "This action did not come from a console page of this session; nothing was changed. Reload the page and try again.",
        ));
    }
    Ok(form)
}

fn text(form: &HashMap<String, String>, key: &str) -> Result<String, AgentError> {
    let value = form.get(key).map(|v| v.trim()).unwrap_or_default();
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(AgentError::invalid(format!(
            "{key} is longer than {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(value.to_string())
}

/// The triage action a form asks for (`do` and its fields).
fn action(viewer: &Viewer, form: &HashMap<String, String>) -> Result<Action, AgentError> {
    let word = form.get("do").map(String::as_str).unwrap_or_default();
    Ok(match word {
        "ack" => Action::Acknowledge,
        "take" => Action::Assign {
            analyst: viewer.actor.name.clone(),
        },
        "assign" => Action::Assign {
            analyst: text(form, "analyst")?,
        },
        "escalate" => Action::Escalate,
        "reopen" => Action::Reopen,
        "comment" => {
            let text = text(form, "text")?;
            if text.is_empty() {
                return Err(AgentError::invalid("a comment needs some text"));
            }
            Action::Comment { text }
        }
        "close" => {
            let v = form.get("verdict").map(String::as_str).unwrap_or_default();
            let verdict = Verdict::ALL
                .into_iter()
                .find(|x| x.as_str() == v)
                .ok_or_else(|| {
                    AgentError::invalid(format!(
                        "{v:?} is not a verdict (true-positive, false-positive, benign, duplicate)"
                    ))
                })?;
            Action::Close { verdict }
        }
        other => {
            return Err(AgentError::invalid(format!(
                "{other:?} is not an alert group action"
            )));
        }
    })
}

/// One posted form: admitted ([`admitted`]), then `work` with it on the blocking pool (the
/// application layer), then to the page `work` names, or the refusal page leading back to
/// `back`.
pub(super) async fn perform(
    state: WebState,
    viewer: Viewer,
    (headers, uri): (HeaderMap, Uri),
    form: Result<Form<HashMap<String, String>>, FormRejection>,
    back: String,
    work: impl FnOnce(&WebState, &Viewer, HashMap<String, String>) -> Result<String, AgentError>
    + Send
    + 'static,
) -> Response {
    let form = match admitted(&state, &viewer, &headers, &uri, form).await {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let (on, by) = (state.clone(), viewer.clone());
    let done = tokio::task::spawn_blocking(move || work(&on, &by, form))
        .await
        .unwrap_or_else(|_| Err(AgentError::internal("console task failed")));
    match done {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => failed(&state, &viewer, uri.path(), &back, e).await,
    }
}

/// `POST /alerts/{id}/act`: one triage action, a promotion to a new local incident, or the
/// group added to an existing one.
pub async fn act(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let page = format!("/alerts/{id}");
    let work = move |state: &WebState, viewer: &Viewer, form: HashMap<String, String>| {
        let (soc, actor, group) = (&state.soc, &viewer.actor, group_id(&id)?);
        match form.get("do").map(String::as_str).unwrap_or_default() {
            "add-to" => {
                let incident = soc.add_to_incident(actor, group, &text(&form, "incident")?)?;
                Ok(format!("/incidents/{}", incident.id))
            }
            "promote" => {
                let title = Some(text(&form, "title")?).filter(|t| !t.is_empty());
                let incident = soc.promote(actor, &[group], title)?;
                Ok(format!("/incidents/{}", incident.id))
            }
            _ => {
                soc.act(actor, group, action(viewer, &form)?)?;
                // The queue's row forms come back to the queue, the page's to the page.
                Ok(if form.get("back").is_some_and(|b| b == "/") {
                    "/".to_string()
                } else {
                    format!("/alerts/{id}")
                })
            }
        }
    };
    perform(state, viewer, (headers, uri), form, page, work).await
}

/// `POST /incidents/{id}/act`: change a local incident's status or owner, or escalate it to
/// the SIRT hub by hand (`SocService::update_incident`, `escalate_incident`, as `SiteSoc`).
pub async fn incident_act(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    use crate::soc::incident::IncidentStatus;
    let page = format!("/incidents/{id}");
    let back = page.clone();
    let work = move |state: &WebState, viewer: &Viewer, form: HashMap<String, String>| {
        let (soc, actor) = (&state.soc, &viewer.actor);
        match form.get("do").map(String::as_str).unwrap_or_default() {
            "escalate" => soc.escalate_incident(actor, &id)?,
            "status" => {
                let word = form.get("status").map(String::as_str).unwrap_or_default();
                let status = IncidentStatus::ALL
                    .into_iter()
                    .find(|x| x.as_str() == word)
                    .ok_or_else(|| AgentError::invalid(format!("{word:?} is not a status")))?;
                soc.update_incident(actor, &id, Some(status), None)?
            }
            "owner" => soc.update_incident(actor, &id, None, Some(text(&form, "owner")?))?,
            other => {
                return Err(AgentError::invalid(format!(
                    "{other:?} is not a local incident action"
                )));
            }
        };
        Ok(page)
    };
    perform(state, viewer, (headers, uri), form, back, work).await
}

/// `POST /directives/{id}/decide`: approve (run) or reject a destructive action waiting for
/// approval.
pub async fn decide(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let work = move |state: &WebState, viewer: &Viewer, form: HashMap<String, String>| {
        let approve = match form.get("do").map(String::as_str) {
            Some("approve") => true,
            Some("reject") => false,
            _ => return Err(AgentError::invalid("approve or reject")),
        };
        let id = Ulid::from_string(&id)
            .map_err(|_| AgentError::invalid(format!("{id:?} is not a directive id")))?;
        let reason = text(&form, "reason")?;
        state.engine.decide(&viewer.actor, id, approve, &reason)?;
        Ok("/directives".to_string())
    };
    perform(
        state,
        viewer,
        (headers, uri),
        form,
        "/directives".into(),
        work,
    )
    .await
}

/// `POST /directives/{id}/task`: work a task the SIRT sent (acknowledge, start, complete or
/// decline, with a note), as `site-agent tasks` does.
pub async fn task(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    use crate::response::engine::TaskStep;
    let work = move |state: &WebState, viewer: &Viewer, form: HashMap<String, String>| {
        let step = match form.get("do").map(String::as_str) {
            Some("ack") => TaskStep::Acknowledge,
            Some("start") => TaskStep::Start,
            Some("complete") => TaskStep::Complete,
            Some("decline") => TaskStep::Decline,
            _ => {
                return Err(AgentError::invalid(
                    "acknowledge, start, complete or decline",
                ));
            }
        };
        let id = Ulid::from_string(&id)
            .map_err(|_| AgentError::invalid(format!("{id:?} is not a task id")))?;
        let note = text(&form, "note")?;
        state.engine.task(&viewer.actor, id, step, &note)?;
        Ok("/directives".to_string())
    };
    perform(
        state,
        viewer,
        (headers, uri),
        form,
        "/directives".into(),
        work,
    )
    .await
}
