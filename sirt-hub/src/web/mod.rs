//! The web dashboard, served by the hub over HTTPS with the same TLS 1.3 configuration as the
//! gRPC API (reloaded with it). People sign in with a one-time link that `sirt-hub login`
//! mints with their operator certificate, confirmed on a page and exchanged for a session kept
//! in the hub store (`auth.rs`, `session.rs`); the browser keeps the session secret in an
//! HttpOnly, Secure, SameSite=Strict cookie. Pages are server-rendered from askama templates
//! (`views.rs` reads, `pages.rs` and `tables.rs` shape, `templates/` writes, escaped); the
//! incident board and the incident page's tables refresh themselves from server-sent events.
//! The incident page is where the SIRT acts: plain forms (checked alike by `forms.rs`) posted
//! to `actions.rs` (the lifecycle), `respond.rs` (merge, split, regulatory, directives, tasks) and
//! `comms.rs` (draft, approve or reject, record a delivery) and `hunts.rs` (start a hunt,
//! attach its hits), `hunt_library.rs` (the hunt library: add, enable, disable, run now), which
//! run the same application-layer commands as the gRPC services. The security
//! headers, the stylesheet, the script and the CSRF helpers are `socfed_runtime::web`, for
//! every web surface.

mod actions;
mod auth;
mod comms;
mod enrolment;
mod export;
mod forms;
mod hunt_library;
mod hunts;
mod kpis;
mod notes;
mod observables;
mod pages;
mod respond;
mod runbooks;
mod search;
mod tables;
#[cfg(test)]
mod template_rules_tests;
mod views;

use crate::ingest::IngestHandle;
use crate::live::LiveSites;
use crate::store::HubStore;
use axum::routing::{get, post};
use socfed_runtime::tls::{Swappable, tls_incoming};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub use socfed_runtime::web::revoked::Revoked;

#[derive(Clone)]
pub struct WebState {
    pub store: Arc<HubStore>,
    pub ingest: IngestHandle,
    pub live: Arc<LiveSites>,
    pub enrolled: crate::enrolment::Enrolled,
    /// The live roster: a session ends when its operator leaves it.
    pub roles: crate::access::reader::Roles,
    /// Serials the CRL in force revokes: a session ends when its certificate is revoked.
    pub revoked: Arc<Revoked>,
    /// How long a session lasts after sign-in (`[dashboard] session`).
    pub session_ttl_ms: i64,
    /// Refused actions (a forged form, a role that may not) go to the audit chain here, as
    /// refused gRPC calls do.
    pub refusals: Arc<crate::refusals::RefusalAudit>,
    /// Wakes the delivery task after a communication is approved (as over gRPC).
    pub deliver: Arc<tokio::sync::Notify>,
    /// `[comms] allow_self_approval`.
    pub allow_self_approval: bool,
    /// Open event streams per caller, shared with gRPC's watches
    /// (`limits.max_watches_per_operator`).
    pub watches: Arc<crate::grpc::watches::WatchSlots>,
}

/// The largest request body the dashboard reads: its forms carry a token, a command word
/// and an argument of at most `lifecycle::MAX_ARGUMENT_CHARS` characters, or a directive's
/// parameters.
pub const FORM_BODY_LIMIT: usize = 16 * 1024;
/// The hunt library's import form carries a pasted STIX bundle or MISP event.
pub const IMPORT_FORM_LIMIT: usize = 1024 * 1024;

pub fn router(state: WebState) -> axum::Router {
    let private = axum::Router::new()
        .route("/", get(views::board))
        .route("/incidents/{id}", get(views::incident))
        .route("/incidents/{id}/export", get(export::incident))
        .route("/incidents/{id}/act", post(actions::act))
        .route("/incidents/{id}/merge", post(respond::merge))
        .route("/incidents/{id}/split", post(respond::split))
        .route("/incidents/{id}/directive", post(respond::directive))
        .route("/incidents/{id}/task", post(respond::task))
        .route("/incidents/{id}/regulatory", post(respond::regulatory))
        .route("/incidents/{id}/comms", post(comms::draft))
        .route("/incidents/{id}/notes", post(notes::add))
        .route("/incidents/{id}/comms/{comm}", post(comms::decide))
        .route("/incidents/{id}/observables", post(observables::change))
        .route("/sites", get(views::sites))
        .route("/sites/enrolled", post(enrolment::enrol))
        .route("/sites/enrolled/{site}/remove", post(enrolment::remove))
        .route("/kpis", get(kpis::kpis))
        .route("/runbooks", get(runbooks::list))
        .route("/search", get(search::search))
        .route("/hunts", get(views::hunts).post(hunts::start))
        .route("/hunts/{hunt}/attach", post(hunts::attach))
        .route("/hunts/library", post(hunt_library::add))
        .route(
            "/hunts/library/import",
            post(hunt_library::import)
                .layer(axum::extract::DefaultBodyLimit::max(IMPORT_FORM_LIMIT)),
        )
        .route("/hunts/library/{id}/{what}", post(hunt_library::act))
        .route("/events", get(views::events))
        .route("/logout", post(auth::logout))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_session,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(FORM_BODY_LIMIT));
    axum::Router::new()
        .route("/login", get(auth::login_page).post(auth::login_submit))
        .merge(socfed_runtime::web::assets())
        .merge(private)
        .merge(crate::api::router())
        .layer(axum::middleware::from_fn(
            socfed_runtime::web::security_headers,
        ))
        .with_state(state)
}

/// Removes expired sign-in links and sessions from the store every ten minutes.
pub fn spawn_purge(state: WebState, shutdown: CancellationToken) {
    drop(tokio::spawn(auth::purge_expired(
        state,
        std::time::Duration::from_secs(600),
        shutdown,
    )));
}

/// Serves the dashboard on `listener` until `shutdown`: connections pass `gate` (caps,
/// handshake and idle timers), requests hyper's header-read timeout and HTTP/2 keepalive.
pub fn serve(
    listener: tokio::net::TcpListener,
    tls: Swappable<rustls::ServerConfig>,
    domain: socfed_proto::identity::TrustDomain,
    state: WebState,
    gate: Arc<socfed_runtime::listen::Gate>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let limits = gate.limits().clone();
    let incoming =
        tokio_stream::StreamExt::filter_map(tls_incoming(listener, tls, domain, gate), Result::ok);
    // Each request carries its connection's `PeerInfo` (the client certificate, for `/api/v1`).
    socfed_runtime::listen::http::serve(incoming, router(state), &limits, shutdown)
}
