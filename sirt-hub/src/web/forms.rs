//! What every form of the workbench passes before its command runs, in one place: a form from
//! another origin (`Sec-Fetch-Site`, `Origin`) or without the session's action token changes
//! nothing and is audited as a refusal under "dashboard operator NAME"; a body the extractor
//! refuses (past [`super::FORM_BODY_LIMIT`], not a form) is answered for what it is. Then the
//! handler runs an application-layer command as the session's operator ([`Posted::acting`]:
//! the role from the live roster, the certificate that signed the session in) and
//! [`finish`]es: 303 back to the incident page (Post/Redirect/Get), or a page with the hub's
//! refusal (naming the role needed when that is why), with its HTTP status.

use super::WebState;
use super::auth::{Viewer, forbidden};
use super::pages::{Layout, render};
use crate::access::acting::Acting;
use crate::error::HubError;
use crate::refusals::Refusal;
use askama::Template;
use axum::extract::Form;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use socfed_runtime::web::csrf::foreign;
use ulid::Ulid;

/// The `api` of a refused dashboard form in the audit log.
pub const API: &str = "dashboard: incident action";

/// A form's fields in order (a field may repeat: the sites of a directive).
pub type Fields = Vec<(String, String)>;

/// What a form's body may be, as the handlers take it.
pub type Body = Result<Form<Fields>, FormRejection>;

/// The answer already given to a form that did not pass (boxed: a response is large).
pub type Answered = Box<Response>;

/// A form that passed the checks, and who acts through it.
pub struct Posted {
    pub fields: Fields,
    pub acting: Acting,
}

impl Posted {
    /// The first value of `name`, trimmed ("" when absent).
    pub fn one(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// Hours in the field `name` as seconds: blank is 0 (the command's default).
    pub fn hours(&self, name: &str) -> Result<u64, HubError> {
        match self.one(name) {
            "" => Ok(0),
            raw => raw
                .parse::<u64>()
                .ok()
                .and_then(|h| h.checked_mul(3600))
                .ok_or_else(|| {
                    HubError::invalid(format!("{name}: {raw:?} is not a whole number of hours"))
                }),
        }
    }

    /// Every non-empty value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }
}

/// A refused form: what the hub said and what to do next.
#[derive(Template)]
#[template(path = "action_refused.html")]
pub struct Refused<'a> {
    pub layout: Layout<'a>,
    /// The page the form was on, and its link's text.
    pub back: &'a str,
    pub back_label: &'a str,
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

/// The refusal page for a form about incident `id`, with the status of `error`.
pub fn refused_page(viewer: &Viewer, id: &str, error: &HubError) -> Response {
    refused_at(viewer, &Back::incident(id), error)
}

/// Where a form's answer leads back to: the page it was on.
pub struct Back {
    pub href: String,
    pub label: &'static str,
}

impl Back {
    pub fn incident(id: &str) -> Self {
        Self {
            href: format!("/incidents/{id}"),
            label: "Back to the incident",
        }
    }

    pub fn hunts() -> Self {
        Self {
            href: "/hunts".into(),
            label: "Back to the hunts",
        }
    }
}

/// The refusal page for a form on the page `back`, with the status of `error`.
pub fn refused_at(viewer: &Viewer, back: &Back, error: &HubError) -> Response {
    let reason = error.to_string();
    let mut response = render(&Refused {
        layout: Layout::of(viewer, "Not done", "/"),
        back: &back.href,
        back_label: back.label,
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

/// The checks every form passes, in this order: its origin, its body, its token.
pub fn accept(
    state: &WebState,
    viewer: &Viewer,
    back: &Back,
    headers: &HeaderMap,
    uri: &Uri,
    body: Body,
) -> Result<Posted, Answered> {
    if foreign(headers, uri) {
        audit_refusal(state, viewer, "a form posted from another origin".into());
        return Err(Box::new(forbidden(
            "This change was not sent from the hub's own page, so nothing was changed. Open the incident on the dashboard and use its form.",
        )));
    }
    // A body the form extractor refuses (too large, not a form) is answered for what it is,
    // before the token check: it is not a forged form, and it changes nothing.
    let fields = match body {
        Ok(Form(fields)) => fields,
        Err(rejection) => {
            let error = HubError::invalid(format!(
                "the form could not be read ({}); forms of the dashboard stay under {} KiB",
                rejection.body_text(),
                super::FORM_BODY_LIMIT / 1024
            ));
            let mut response = refused_at(viewer, back, &error);
            *response.status_mut() = rejection.status();
            return Err(Box::new(response));
        }
    };
    let token = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str());
    if !crate::session::csrf_matches(token, &viewer.action_csrf()) {
        audit_refusal(state, viewer, "a form without this session's token".into());
        return Err(Box::new(forbidden(
            "This form did not come from a page of your current session, so nothing was changed. Open the incident again and use its form.",
        )));
    }
    Ok(Posted {
        fields,
        acting: Acting {
            name: viewer.name.clone(),
            role: state.roles.get(&viewer.name),
            cert: viewer.cert.clone(),
        },
    })
}

/// A form about one incident (`/incidents/{id}/…`) that passed [`accept`], as a handler
/// takes it: who posted it, the incident, the fields. Its rejection is the answer already
/// given (a refusal page, 403, 404, 413).
pub struct IncidentForm {
    pub viewer: Viewer,
    /// The id as the path gave it (for the page to go back to).
    pub id: String,
    pub incident: Ulid,
    pub posted: Posted,
}

impl axum::extract::FromRequest<WebState> for IncidentForm {
    type Rejection = Response;

    async fn from_request(
        request: axum::extract::Request,
        state: &WebState,
    ) -> Result<Self, Response> {
        use axum::extract::FromRequestParts;
        let (mut parts, body) = request.into_parts();
        // Put there by the session check every private route passes first.
        let Some(viewer) = parts.extensions.get::<Viewer>().cloned() else {
            return Err(
                HubError::internal("a form reached a handler without a session").into_response(),
            );
        };
        let axum::extract::Path(path) = axum::extract::Path::<
            std::collections::HashMap<String, String>,
        >::from_request_parts(&mut parts, state)
        .await
        .map_err(IntoResponse::into_response)?;
        let id = path.get("id").cloned().unwrap_or_default();
        let (headers, uri) = (parts.headers.clone(), parts.uri.clone());
        let body: Body =
            Form::from_request(axum::extract::Request::from_parts(parts, body), state).await;
        let (posted, incident) =
            incident_form(state, &viewer, &id, &headers, &uri, body).map_err(|answer| *answer)?;
        Ok(Self {
            viewer,
            id,
            incident,
            posted,
        })
    }
}

/// [`accept`], then the incident id of the form's path: what every incident form starts with.
pub fn incident_form(
    state: &WebState,
    viewer: &Viewer,
    id: &str,
    headers: &HeaderMap,
    uri: &Uri,
    body: Body,
) -> Result<(Posted, Ulid), Answered> {
    let posted = accept(state, viewer, &Back::incident(id), headers, uri, body)?;
    Ok((posted, incident_id(viewer, id)?))
}

/// The incident id of a form's path, or the page saying there is no such incident.
pub fn incident_id(viewer: &Viewer, id: &str) -> Result<Ulid, Answered> {
    Ulid::from_string(id).map_err(|_| {
        Box::new(refused_page(
            viewer,
            id,
            &HubError::not_found("No such incident."),
        ))
    })
}

/// The answer to a form once its command ran: back to incident `back` (Post/Redirect/Get),
/// or the refusal, audited when it is the caller who may not.
pub fn finish<T>(
    state: &WebState,
    viewer: &Viewer,
    back: &str,
    result: Result<T, HubError>,
) -> Response {
    let back = Back::incident(back);
    finish_at(state, viewer, &back.href, &back, result)
}

/// The answer to a form once its command ran: to `done` (Post/Redirect/Get), or the refusal
/// with a link `back`, audited when it is the caller who may not.
pub fn finish_at<T>(
    state: &WebState,
    viewer: &Viewer,
    done: &str,
    back: &Back,
    result: Result<T, HubError>,
) -> Response {
    match result {
        Ok(_) => Redirect::to(done).into_response(),
        Err(error) => {
            if let HubError::Denied(reason) = &error {
                audit_refusal(state, viewer, format!("PermissionDenied: {reason}"));
            }
            refused_at(viewer, back, &error)
        }
    }
}
