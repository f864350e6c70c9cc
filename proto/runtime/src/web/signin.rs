//! The HTTP side of signing in, shared by every web surface: the cookies that carry a
//! session and a sign-in confirmation, and the check of a confirmation form.
//!
//! - `GET /login?token=…` only shows who the link signs in as, with a form. It sets a
//!   SameSite=Strict cookie holding a fresh CSRF token that the form repeats
//!   ([`with_login_cookie`]): a cross-site page can send the victim to the link (login CSRF)
//!   but cannot submit the form, because the browser does not send that cookie with a
//!   cross-site POST ([`confirmed`]).
//! - `POST /login` exchanges the link, once, for a session ([`with_session`]).
//!
//! Both cookies carry the `__Host-` prefix: the browser accepts them only from this origin
//! over HTTPS (never from a sibling host setting them for the parent domain), so an attacker
//! cannot plant a session or a token pair.

use super::csrf::{cookie, cross_site, matches, session_cookie, with_cookie};
use super::session::{LINK_TTL_MS, Secret};
use axum::http::HeaderMap;
use axum::response::Response;

pub const SESSION_COOKIE: &str = "__Host-socfed_session";
pub const LOGIN_COOKIE: &str = "__Host-socfed_login";

/// The session secret the browser sent, if it is one.
pub fn session_secret(headers: &HeaderMap) -> Option<Secret> {
    cookie(headers, SESSION_COOKIE).and_then(|c| Secret::parse(&c))
}

/// `response` telling the browser to forget its session.
pub fn clear_session(response: Response) -> Response {
    with_cookie(response, &session_cookie(SESSION_COOKIE, "", 0))
}

/// A session check's refusal of the cookie a request carried, as the browser gets it: a
/// refused session (401) is forgotten; a store that could not be read (503) keeps it (the
/// session may well be good, and a new one needs the CLI). A request that carried no cookie
/// never gets here, so another site cannot sign a person out.
pub fn refused_session(response: Response) -> Response {
    if response.status() == axum::http::StatusCode::UNAUTHORIZED {
        clear_session(response)
    } else {
        response
    }
}

/// The confirmation page with the one-time cookie its form's `csrf` repeats.
pub fn with_login_cookie(page: Response, csrf: &str) -> Response {
    with_cookie(
        page,
        &session_cookie(LOGIN_COOKIE, csrf, LINK_TTL_MS / 1000),
    )
}

/// Was this confirmation posted by the page [`with_login_cookie`] served, in this browser?
pub fn confirmed(headers: &HeaderMap, form_csrf: &str) -> bool {
    let expected = cookie(headers, LOGIN_COOKIE).unwrap_or_default();
    !cross_site(headers) && matches(form_csrf, &expected)
}

/// `response` signing the browser in with `session` for `max_age_s`, the one-time
/// confirmation cookie spent.
pub fn with_session(response: Response, session: &Secret, max_age_s: i64) -> Response {
    let response = with_cookie(
        response,
        &session_cookie(SESSION_COOKIE, &session.to_hex(), max_age_s),
    );
    with_cookie(response, &session_cookie(LOGIN_COOKIE, "", 0))
}

/// How the first steps of a sign-in went, before the service's own store is asked.
#[derive(Debug)]
pub enum Step<T> {
    Go(T),
    /// The link is not (or no longer) good: a 401 page saying what to do.
    Refused(super::session::Refused),
    /// The confirmation did not come from the page in this browser: 403.
    NotConfirmed,
    /// No randomness from the operating system (why): 503.
    Unavailable(String),
}

/// A confirmation page to show for the link `raw` (`GET /login?token=…`): `lookup` reads the
/// link's grant from the service's store (its error is the service's response). The link,
/// who it is for, and the fresh CSRF token the page's form and cookie
/// ([`with_login_cookie`]) carry.
pub async fn open<E, Fut>(
    raw: &str,
    now: socfed_proto::UnixMillis,
    lookup: impl FnOnce([u8; 32]) -> Fut,
) -> Result<Step<(Secret, super::session::Grant, String)>, E>
where
    Fut: std::future::Future<Output = Result<Option<super::session::Grant>, E>>,
{
    use super::session::Refused;
    let Some(link) = Secret::parse(raw) else {
        return Ok(Step::Refused(Refused::UnknownLink));
    };
    let Some(grant) = lookup(link.key()).await? else {
        return Ok(Step::Refused(Refused::UnknownLink));
    };
    if now >= grant.expires_ms {
        return Ok(Step::Refused(Refused::LinkExpired));
    }
    Ok(match super::session::new_secret() {
        Ok(csrf) => Step::Go((link, grant, csrf.to_hex())),
        Err(e) => Step::Unavailable(e),
    })
}

/// The checks of a posted confirmation (`POST /login` with `token` and `csrf`): confirmed by
/// this browser's page ([`confirmed`]), a well-formed link, and the fresh session secret to
/// exchange it for.
pub fn confirm(headers: &HeaderMap, token: &str, csrf: &str) -> Step<(Secret, Secret)> {
    if !confirmed(headers, csrf) {
        tracing::warn!(
            cross_site = super::csrf::cross_site(headers),
            "sign-in refused: the confirmation did not come from the service's own page"
        );
        return Step::NotConfirmed;
    }
    let Some(link) = Secret::parse(token) else {
        return Step::Refused(super::session::Refused::UnknownLink);
    };
    match super::session::new_secret() {
        Ok(session) => Step::Go((link, session)),
        Err(e) => Step::Unavailable(e),
    }
}

/// The answer to a sign-in granted as `grant` under `session`: to the front page, the browser
/// holding the session until the grant expires.
pub fn signed_in(grant: &super::session::Grant, session: &Secret) -> Response {
    let max_age = (grant.expires_ms - socfed_proto::now_millis()).max(0) / 1000;
    let to_front = axum::response::IntoResponse::into_response(axum::response::Redirect::to("/"));
    with_session(to_front, session, max_age)
}
