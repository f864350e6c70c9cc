//! The SOC console, served by the site agent over HTTPS with its TLS material (reloaded with
//! it) when the config has a `[web]` table. People sign in with a one-time link that
//! `site-agent login` mints with their operator certificate, confirmed on a page and exchanged
//! for a session kept in the agent store (`auth.rs`, `service/sessions.rs`); every request
//! re-checks the session against the site roster (the role comes from it) and the CRL.
//! Pages are server-rendered from askama templates (`views.rs` reads, `pages.rs` shapes,
//! `templates/` writes, escaped); the triage queue refreshes itself from server-sent events
//! (`events.rs`). Every action is a plain form posted to `actions.rs`, which calls the same
//! application layer (`crate::service`, the response engine) as the gRPC `SiteSoc` and
//! `SiteResponse` services. Security headers, stylesheet, script, CSRF and the session rules
//! are `socfed_runtime::web`, shared with the hub's dashboard.

mod actions;
mod auth;
mod casework;
mod events;
mod lists;
mod pages;
mod runbooks;
mod search;
#[cfg(test)]
mod template_rules_tests;
mod views;

use crate::response::ResponseEngine;
use crate::service::SocService;
use axum::routing::{get, post};
use socfed_runtime::tls::{Swappable, tls_incoming};
use socfed_runtime::web::revoked::Revoked;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// `[web]` in the agent config: the SOC console (the table of every web surface). Absent,
/// the console is off.
pub use socfed_runtime::web::WebConfig;

/// What every console handler reads.
#[derive(Clone)]
pub struct WebState {
    pub soc: Arc<SocService>,
    pub engine: Arc<ResponseEngine>,
    /// Serials the CRL in force revokes: a session ends when its certificate is revoked.
    pub revoked: Arc<Revoked>,
    /// How long a session lasts after sign-in (`[web] session`).
    pub session_ttl_ms: i64,
    /// Bumped on every change of the alert groups (`events::watch`): the live queue.
    pub changes: tokio::sync::watch::Receiver<u64>,
}

pub use events::watch;

/// The largest request body the console reads: its forms carry a token, a command word and a
/// comment of at most [`actions::MAX_TEXT_CHARS`] characters.
pub const FORM_BODY_LIMIT: usize = 16 * 1024;

/// The console's routes. Signed-in pages and actions go through the session check; another
/// surface (an `/api/v1`) merges its own router beside this one in [`app`].
pub fn router(state: WebState) -> axum::Router<WebState> {
    let private = axum::Router::new()
        .route("/", get(views::queue))
        .route("/alerts/{id}", get(views::group))
        .route("/alerts/{id}/act", post(actions::act))
        .route("/incidents", get(lists::incidents))
        .route("/incidents/{id}", get(lists::incident))
        .route("/incidents/{id}/act", post(actions::incident_act))
        .route("/incidents/{id}/notes", post(casework::add_note))
        .route("/incidents/{id}/remove", post(casework::remove_group))
        .route("/kpis", get(casework::kpis))
        .route("/directives", get(lists::directives))
        .route("/directives/{id}/decide", post(actions::decide))
        .route("/directives/{id}/task", post(actions::task))
        .route("/people", get(lists::people))
        .route("/runbooks/step", post(runbooks::step))
        .route("/search", get(search::search))
        .route("/events", get(events::events))
        .route("/logout", post(auth::logout))
        .route_layer(axum::middleware::from_fn_with_state(
            state,
            auth::require_session,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(FORM_BODY_LIMIT));
    axum::Router::new()
        .route("/login", get(auth::login_page).post(auth::login_submit))
        .merge(socfed_runtime::web::assets())
        .merge(private)
}

/// The whole application the listener serves: the console's routes and the HTTP/JSON API
/// under `/api/v1` (`crate::api`, its own authentication: a client certificate or a token),
/// with the security headers of every socfed web surface. The one place the listener's app
/// is wired.
pub fn app(state: WebState, api: crate::api::ApiState) -> axum::Router {
    router(state.clone())
        .with_state(state)
        .nest("/api/v1", crate::api::router(api))
        .layer(axum::middleware::from_fn(
            socfed_runtime::web::security_headers,
        ))
}

/// Removes expired sign-in links and sessions from the store every ten minutes.
fn spawn_purge(state: WebState, shutdown: CancellationToken) {
    drop(tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(600)) => {}
            }
            let soc = state.soc.clone();
            match tokio::task::spawn_blocking(move || soc.purge_console_sessions(1000)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "purging expired console sessions failed; will retry")
                }
                Err(_) => return,
            }
        }
    }));
}

/// The console's listener, bound before the agent starts anything else (a taken port is a
/// start-up error), and the base of its sign-in links.
pub struct Bound {
    listener: tokio::net::TcpListener,
    pub addr: std::net::SocketAddr,
    pub base_url: String,
}

impl Bound {
    pub async fn bind(config: &WebConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        Ok(Self {
            listener,
            addr,
            base_url: config.base_url(addr),
        })
    }

    /// Serves the console until `shutdown` (with the purge of expired grants): connections
    /// pass `gate` (caps, handshake and idle timers), requests hyper's header-read timeout and
    /// HTTP/2 keepalive.
    pub fn serve(
        self,
        tls: Swappable<rustls::ServerConfig>,
        domain: socfed_proto::identity::TrustDomain,
        (state, api): (WebState, crate::api::ApiState),
        gate: Arc<socfed_runtime::listen::Gate>,
        shutdown: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        spawn_purge(state.clone(), shutdown.clone());
        tracing::info!(at = %self.addr, "SOC console listening (HTTPS)");
        let limits = gate.limits().clone();
        let incoming = tokio_stream::StreamExt::filter_map(
            tls_incoming(self.listener, tls, domain, gate),
            Result::ok,
        );
        socfed_runtime::listen::http::serve(incoming, app(state, api), &limits, shutdown)
    }
}
