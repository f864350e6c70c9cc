//! Signing in to and out of the dashboard, and the session check every private page and the
//! event stream go through (design in `session.rs` and docs/SECURITY.md).
//!
//! - `GET /login?token=…` only shows who the link signs in as, with a form. It sets a
//!   SameSite=Strict cookie holding a fresh CSRF token that the form repeats: a cross-site page
//!   can send the victim to the link (login CSRF) but cannot submit the form, because the
//!   browser does not send that cookie with a cross-site POST.
//! - `POST /login` exchanges the link, once, for a session through the single writer.
//! - `POST /logout` (CSRF token derived from the session secret) deletes the session.

use super::WebState;
use super::pages::{self, Layout, render};
use crate::error::HubError;
use crate::service::Commands;
use crate::service::sessions::SignIn;
use crate::session::{Grant, Refused, Secret, check, csrf_matches};
use crate::store::schema::{WEB_LINK, WEB_SESSION};
use axum::extract::{Form, Query, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use socfed_runtime::web::signin::{
    Step, clear_session as clear_session_cookie, confirm, open, session_secret, signed_in,
    with_login_cookie,
};
use std::collections::HashMap;

/// The signed-in operator, put on the request by [`require_session`].
#[derive(Clone)]
pub struct Viewer {
    pub name: String,
    pub secret: Secret,
    pub expires_ms: socfed_proto::UnixMillis,
    /// The certificate that signed this session in, as the audit records it.
    pub cert: String,
}

impl Viewer {
    /// The token the sign-out form carries.
    pub fn csrf(&self) -> String {
        self.secret.csrf("sign-out")
    }

    /// The token every form that changes an incident carries.
    pub fn action_csrf(&self) -> String {
        self.secret.csrf("incident-action")
    }
}

/// 401 with a page saying why and what to do. The session cookie is left alone: a request
/// that carried none (a cross-site post, a lure to a bogus link) must not sign the person out;
/// [`require_session`] clears one it refused.
fn refused(reason: &Refused) -> Response {
    (
        HubError::Unauthenticated(crate::session::explain(reason)).http_status(),
        render(&pages::signed_out(&crate::session::explain(reason))),
    )
        .into_response()
}

pub fn forbidden(reason: &str) -> Response {
    (
        HubError::denied(reason).http_status(),
        render(&pages::signed_out(reason)),
    )
        .into_response()
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "dashboard sign-in could not be completed");
    HubError::unavailable("the hub could not complete this now; retry shortly").into_response()
}

async fn stored(state: &WebState, kind: u8, secret: &Secret) -> Result<Option<Grant>, Response> {
    let key = secret.key();
    super::views::read(&state.store, move |s| s.web_grant(kind, &key)).await
}

/// The session behind `secret` as it stands now: stored, not expired, its operator still in
/// the roster, its certificate not revoked. Called for every request and by the event stream.
pub async fn current(state: &WebState, secret: &Secret) -> Result<Viewer, Response> {
    let Some(grant) = stored(state, WEB_SESSION, secret).await? else {
        return Err(refused(&Refused::NoSession));
    };
    check(
        &grant,
        socfed_proto::now_millis(),
        state.roles.get(&grant.operator).is_some(),
        state.revoked.contains(&grant.cert_serial),
    )
    .map_err(|r| {
        tracing::info!(operator = %grant.operator, reason = %crate::session::explain(&r), "dashboard session refused");
        // A known person refused (removed from the roster, certificate revoked) goes to the
        // audit chain, as the same person refused over gRPC would; an expired session is the
        // normal end of one.
        if r.is_audited() {
            state.refusals.record(crate::refusals::Refusal {
                action: crate::refusals::ACTION,
                who: format!("dashboard operator {}", grant.operator),
                cert: crate::session::cert_identity(&grant),
                peer_ip: None,
                api: "dashboard: session".into(),
                reason: crate::session::explain(&r),
            });
        }
        refused(&r)
    })?;
    Ok(Viewer {
        cert: crate::session::cert_identity(&grant),
        name: grant.operator,
        secret: secret.clone(),
        expires_ms: grant.expires_ms,
    })
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
        let store = state.store.clone();
        async move { super::views::read(&store, move |s| s.web_grant(WEB_LINK, &key)).await }
    };
    let (link, grant, csrf) = match open(raw, socfed_proto::now_millis(), lookup).await {
        Ok(Step::Go(found)) => found,
        Ok(Step::Refused(r)) => return refused(&r),
        Ok(Step::NotConfirmed) => return not_confirmed(),
        Ok(Step::Unavailable(e)) => return unavailable(e),
        Err(response) => return response,
    };
    let page = render(&pages::SignIn {
        layout: Layout::signed_out("Sign in"),
        operator: &grant.operator,
        token: &link.to_hex(),
        csrf: &csrf,
    });
    with_login_cookie(page, &csrf)
}

fn not_confirmed() -> Response {
    forbidden(
        "This sign-in was not confirmed on the hub's own page. Open your sign-in link again and press \"Sign in\".",
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
    match Commands::on(&state.ingest)
        .sign_in(link.key(), session.key(), state.session_ttl_ms)
        .await
    {
        Ok(SignIn::Granted(grant)) => {
            tracing::info!(operator = %grant.operator, "dashboard sign-in");
            signed_in(&grant, &session)
        }
        Ok(SignIn::Refused(r)) => refused(&r),
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
        return forbidden("Sign-out needs the button on a dashboard page; nothing was changed.");
    }
    match Commands::on(&state.ingest)
        .sign_out(viewer.secret.key())
        .await
    {
        Ok(_) => {
            tracing::info!(operator = %viewer.name, "dashboard sign-out");
            clear_session_cookie(render(&pages::signed_out("You are signed out.")))
        }
        Err(e) => unavailable(e),
    }
}

/// Removes expired links and sessions every `every`, until `shutdown`.
pub async fn purge_expired(
    state: WebState,
    every: std::time::Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        let now = socfed_proto::now_millis();
        let keys =
            match super::views::read(&state.store, move |s| s.expired_web_keys(now, 1000)).await {
                Ok(keys) if !keys.is_empty() => keys,
                _ => continue,
            };
        if Commands::on(&state.ingest)
            .purge_sessions(keys)
            .await
            .is_err()
        {
            return;
        }
    }
}
