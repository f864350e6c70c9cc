//! What every socfed web surface shares (the hub's dashboard and each site agent's SOC
//! console): the headers every response carries, with the strict CSP that keeps script and
//! style to the files below; the one stylesheet and the one script, served as they are (no
//! bundler, no build step); the one HTML escaping every template uses (`escape.rs`); CSRF
//! tokens and cookies (`csrf.rs`); sign-in links and sessions and the check every request
//! makes (`session.rs`), against the CRL in force (`revoked.rs`), and the cookies and
//! confirmation check of signing in (`signin.rs`), and the rules every template keeps
//! (`template_rules.rs`, checked by each service's tests); the config table of a surface
//! (`listener.rs`). Each service keeps its own
//! pages (askama templates in its crate), its store of grants and its roster, and links these
//! assets from its base layout.

pub mod csrf;
pub mod escape;
pub mod listener;
pub mod revoked;
pub mod runbook;
pub mod session;
pub mod signin;
pub mod template_rules;

pub use listener::WebConfig;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;

/// The stylesheet every page links (`/app.css`): small, no framework, laid out for a laptop.
pub const CSS: &str = include_str!("app.css");

/// The one script (`/app.js`): refreshes a live table in place from server-sent events. Pages
/// work without it; it reads what it needs from `data-` attributes, never from inline code.
pub const JS: &str = include_str!("app.js");

/// No inline script or style, no framing, forms only to this origin.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'self'";

/// Headers every response carries: the CSP, no framing, no sniffing, no referrer leaks, HTTPS
/// only, nothing cached (pages show data a later session may not be allowed to read).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    set(h, header::CACHE_CONTROL, "no-store");
    response
}

/// `/app.css` and `/app.js`, served without a session (the sign-in pages link them too).
pub fn assets<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    axum::Router::new()
        .route(
            "/app.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css")], CSS) }),
        )
        .route(
            "/app.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], JS) }),
        )
}
