//! Signing in to and out of the SOC console, and the session check every private page and the
//! event stream go through. The cookies and the confirmation check are the hub dashboard's
//! (`socfed_runtime::web::signin`), the rules of a session too (`web::session`); this module
//! asks the agent's store and roster. Refusals of a known person (left the roster, certificate
//! revoked, a forged or cross-site form, a role that may not) go to the site's audit log.

use super::WebState;
use super::pages::{self, Layout, render};
use crate::error::AgentError;
use crate::service::Actor;
use axum::extract::{Form, Query, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use socfed_runtime::web::csrf::matches as csrf_matches;
use socfed_runtime::web::session::{Grant, KIND_LINK, Refused, Secret, cert_identity, check};
use socfed_runtime::web::signin::{
    Step, clear_session, confirm, open, session_secret, signed_in, with_login_cookie,
};
use std::collections::HashMap;

use crate::service::sessions::SURFACE;

/// The signed-in operator with their role now, put on the request by [`require_session`].
#[derive(Clone)]
pub struct Viewer {
    pub actor: Actor,
    pub secret: Secret,
    pub expires_ms: socfed_proto::UnixMillis,
}

impl Viewer {
    /// The token the sign-out form carries.
    pub fn csrf(&self) -> String {
        self.secret.csrf("sign-out")
    }

    /// The token every form that changes something carries.
    pub fn action_csrf(&self) -> String {
        self.secret.csrf("console-action")
    }
}

/// 401 with a page saying why and what to do. The session cookie is left alone: a request
/// that carried none (a cross-site post, a lure to a bogus link) must not sign the person out;
/// [`require_session`] clears one it refused.
fn refused(reason: &Refused) -> Response {
    let text = reason.explain(&SURFACE);
    (
        axum::http::StatusCode::UNAUTHORIZED,
        render(&pages::signed_out(&text)),
    )
        .into_response()
}

/// 403 with a page saying why; nothing was changed.
pub fn forbidden(reason: &str) -> Response {
    (
        axum::http::StatusCode::FORBIDDEN,
        render(&pages::signed_out(reason)),
    )
        .into_response()
}

pub fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "the SOC console could not complete a request");
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "the site agent could not complete this now; retry shortly",
    )
        .into_response()
}

/// Runs blocking store work off the async workers.
pub async fn blocking<T: Send + 'static>(
    state: &WebState,
    work: impl FnOnce(&crate::service::SocService) -> Result<T, AgentError> + Send + 'static,
) -> Result<T, AgentError> {
    let soc = state.soc.clone();
    tokio::task::spawn_blocking(move || work(&soc))
        .await
        .map_err(|_| AgentError::internal("console task failed"))?
}

/// Records a refusal of `who` in the audit log (logged if that fails: the refusal stands).
pub async fn audit_refusal(state: &WebState, who: &str, cert: &str, what: &str, reason: &str) {
    let (who, cert, what, reason) = (
        who.to_string(),
        cert.to_string(),
        what.to_string(),
        reason.to_string(),
    );
    if let Err(e) = blocking(state, move |s| {
        s.audit_console_refusal(&who, &cert, &what, &reason)
    })
    .await
    {
        tracing::error!(error = %e, "a console refusal could not be audited");
    }
}

/// The session behind `secret` as it stands now: stored, not expired, its operator still in
/// the roster (or a configured manager), its certificate not revoked. Called for every
/// request and by the event stream.
pub async fn current(state: &WebState, secret: &Secret) -> Result<Viewer, Response> {
    let key = secret.key();
    let found = blocking(state, move |s| {
        let Some(grant) = s.console_session(&key)? else {
            return Ok(None);
        };
        let actor = s.actor_named(&grant.operator, cert_identity(&grant))?;
        Ok(Some((grant, actor)))
    })
    .await
    .map_err(unavailable)?;
    let Some((grant, actor)) = found else {
        return Err(refused(&Refused::NoSession));
    };
    let verdict = check(
        &grant,
        socfed_proto::now_millis(),
        actor.is_some(),
        state.revoked.contains(&grant.cert_serial),
    );
    match (verdict, actor) {
        (Ok(()), Some(actor)) => Ok(Viewer {
            actor,
            secret: secret.clone(),
            expires_ms: grant.expires_ms,
        }),
        (Err(r), _) => Err(refuse_session(state, &grant, &r).await),
        (Ok(()), None) => Err(refused(&Refused::NotInRoster(grant.operator))),
    }
}

async fn refuse_session(state: &WebState, grant: &Grant, r: &Refused) -> Response {
    tracing::info!(operator = %grant.operator, reason = %r.explain(&SURFACE), "console session refused");
    if r.is_audited() {
        audit_refusal(
            state,
            &grant.operator,
            &cert_identity(grant),
            "console: session",
            &r.explain(&SURFACE),
        )
        .await;
    }
    refused(r)
}

pub async fn require_session(
    State(state): State<WebState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(secret) = session_secret(request.headers()) else {
        return refused(&Refused::NoSession);
    };
    match current(&state, &secret).await {
        Ok(viewer) => {
            request.extensions_mut().insert(viewer);
            next.run(request).await
        }
        Err(response) => socfed_runtime::web::signin::refused_session(response),
    }
}

/// `GET /login?token=…`: who the link signs in as, and a button. Signs nobody in.
pub async fn login_page(
    State(state): State<WebState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let raw = q.get("token").map(String::as_str).unwrap_or_default();
    let lookup = |key: [u8; 32]| {
        let state = state.clone();
        async move {
            blocking(&state, move |s| Ok(s.store.web_grant(KIND_LINK, &key)?))
                .await
                .map_err(unavailable)
        }
    };
    let (link, grant, csrf) = match open(raw, socfed_proto::now_millis(), lookup).await {
        Ok(Step::Go(found)) => found,
        Ok(Step::Refused(r)) => return refused(&r),
        Ok(Step::NotConfirmed) => return not_confirmed(),
        Ok(Step::Unavailable(e)) => return unavailable(e),
        Err(response) => return response,
    };
    let site = state.soc.settings.site.to_string();
    let page = render(&pages::SignIn {
        layout: Layout::signed_out("Sign in"),
        site: &site,
        operator: &grant.operator,
        token: &link.to_hex(),
        csrf: &csrf,
    });
    with_login_cookie(page, &csrf)
}

fn not_confirmed() -> Response {
    forbidden(
        "This sign-in was not confirmed on the console's own page. Open your sign-in link again and press \"Sign in\".",
    )
}

/// `POST /login`: the confirmation form. Exchanges the link for a session, once.
pub async fn login_submit(
    State(state): State<WebState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let (link, session) = match confirm(&headers, field("token"), field("csrf")) {
        Step::Go(secrets) => secrets,
        Step::Refused(r) => return refused(&r),
        Step::NotConfirmed => return not_confirmed(),
        Step::Unavailable(e) => return unavailable(e),
    };
    let (link_key, session_key, ttl) = (link.key(), session.key(), state.session_ttl_ms);
    match blocking(&state, move |s| {
        s.console_sign_in(link_key, session_key, ttl)
    })
    .await
    {
        Ok(Ok(grant)) => {
            tracing::info!(operator = %grant.operator, "console sign-in");
            signed_in(&grant, &session)
        }
        Ok(Err(r)) => refused(&r),
        Err(e) => unavailable(e),
    }
}

/// `POST /logout`: ends the session (CSRF token from the page's sign-out form).
pub async fn logout(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let given = form.get("csrf").map(String::as_str).unwrap_or_default();
    if !csrf_matches(given, &viewer.csrf()) {
        return forbidden("Sign-out needs the button on a console page; nothing was changed.");
    }
    let key = viewer.secret.key();
    match blocking(&state, move |s| s.console_sign_out(key)).await {
        Ok(_) => {
            tracing::info!(operator = %viewer.actor.name, "console sign-out");
            clear_session(render(&pages::signed_out("You are signed out.")))
        }
        Err(e) => unavailable(e),
    }
}
