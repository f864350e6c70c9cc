//! The agent's HTTP/JSON API, `/api/v1`: alert intake for log shippers (JSON lines, JSON
//! arrays, gzip), reads of alert groups, local incidents and notifications, two triage
//! actions, and its OpenAPI document. A thin adapter: every request is authenticated
//! (`auth.rs`: an operator's client certificate or an API token), then calls the same
//! service layer as the gRPC API, and every error is answered through the one mapping of
//! `AgentError` to HTTP (`crate::error`).
//!
//! The router's routes are relative to `/api/v1`: the agent's web listener mounts it with
//! `.nest("/api/v1", api::router(state))`, on a TLS listener served by
//! `socfed_runtime::listen::http::serve`, which hands each request its connection's
//! `PeerInfo` (the client certificate, when one was presented).
//!
//! - `auth.rs` who is calling; `usage.rs` token uses on reads, audited in batches;
//!   `body.rs` the request body: size caps, bounded gzip, records; `intake.rs` `POST
//!   /alerts`; `read.rs` the reads and triage actions; `dto.rs` the JSON shapes;
//!   `openapi.rs` the document, generated from the handlers (utoipa).

mod auth;
mod body;
mod casework;
mod checklists;
mod dto;
mod intake;
mod openapi;
mod read;
mod search;
mod usage;

use crate::service::SocService;
use axum::Router;
use axum::routing::{get, post};
use std::sync::Arc;

pub use body::IntakeLimits;
pub use dto::ErrorBody;
pub use openapi::ApiDoc;

/// Everything the API's handlers need.
#[derive(Clone)]
pub struct ApiState {
    pub soc: Arc<SocService>,
    /// The CRL in force: a client certificate is re-checked on every request.
    pub revocation: socfed_runtime::revocation::Revocation,
    pub limits: IntakeLimits,
    usage: Arc<usage::Usage>,
    /// One permit per intake request being stored (each holds two blocking-pool threads).
    intake: Arc<tokio::sync::Semaphore>,
}

impl ApiState {
    pub fn new(soc: Arc<SocService>, revocation: socfed_runtime::revocation::Revocation) -> Self {
        let limits = IntakeLimits {
            max_record_bytes: soc.settings.parse_limits.max_line_bytes,
            ..IntakeLimits::default()
        };
        Self {
            soc,
            revocation,
            limits,
            usage: Arc::new(usage::Usage::default()),
            intake: Arc::new(tokio::sync::Semaphore::new(
                crate::grpc::soc::MAX_INTAKE_STREAMS,
            )),
        }
    }

    /// Audits the token uses on reads counted since the last flush (call it when the
    /// listener stops; it also runs by itself once a minute of uses has gathered).
    pub async fn flush_usage(&self) -> Result<(), crate::error::AgentError> {
        self.usage.flush(&self.soc).await
    }
}

/// Every route and method, relative to `/api/v1`: the router serves exactly these, and a test
/// checks the OpenAPI document describes exactly these.
pub const ROUTES: [(&str, &str); 15] = [
    ("post", "/alerts"),
    ("get", "/alerts"),
    ("get", "/alerts/search"),
    ("get", "/alerts/{id}"),
    ("post", "/alerts/{id}/ack"),
    ("post", "/alerts/{id}/escalate"),
    ("get", "/incidents"),
    ("get", "/notifications"),
    ("get", "/openapi.json"),
    ("get", "/incidents/{id}/notes"),
    ("post", "/incidents/{id}/notes"),
    ("delete", "/incidents/{id}/groups/{group}"),
    ("get", "/kpis"),
    ("get", "/checklists/{subject}"),
    ("post", "/checklists/{subject}"),
];

/// A query string that does not parse, told after authentication (never to a stranger) and
/// as the one JSON error.
fn bad_query(rejection: axum::extract::rejection::QueryRejection) -> crate::error::AgentError {
    crate::error::AgentError::invalid(rejection.body_text())
}

/// The API's routes, relative to `/api/v1`.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/alerts", post(intake::post_alerts).get(read::list_alerts))
        .route("/alerts/search", get(search::search_alerts))
        .route("/alerts/{id}", get(read::get_alert))
        .route("/alerts/{id}/ack", post(read::ack_alert))
        .route("/alerts/{id}/escalate", post(read::escalate_alert))
        .route("/incidents", get(read::list_incidents))
        .route("/notifications", get(read::list_notifications))
        .route("/openapi.json", get(openapi::document))
        .route(
            "/incidents/{id}/notes",
            get(casework::list_notes).post(casework::add_note).layer(
                axum::extract::DefaultBodyLimit::max(casework::NOTE_BODY_LIMIT),
            ),
        )
        .route(
            "/incidents/{id}/groups/{group}",
            axum::routing::delete(casework::remove_group),
        )
        .route("/kpis", get(casework::kpis))
        .route(
            "/checklists/{subject}",
            get(checklists::get_checklist).post(checklists::post_step),
        )
        // The intake reads its body itself, under its own caps (`body.rs`).
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}
