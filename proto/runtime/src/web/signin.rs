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
