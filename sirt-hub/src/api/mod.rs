//! The hub's HTTP/JSON API, `/api/v1`, on the dashboard's HTTPS listener: incidents (list,
//! one, transition), observables (an incident's, a change, the lookup: `observables.rs`), sites (and the enrolled sites: list, enrol, remove, `enrolment.rs`), directives (per incident, issue), hunts, communications, the hunt
//! library (`hunt_library.rs`: list, add, show, edit, enable, disable, run, stats), and the
//! resumable event stream (`events.rs`). Every handler is a thin adapter: it authenticates
//! (`auth.rs`: an operator client certificate or an API token), then calls the same store
//! reads, access rules (`crate::access`) and commands (`crate::service::Commands`) as the gRPC
//! `Operator` and `Response` services. Errors are the hub's one HTTP mapping with a JSON body
//! (`error.rs`). The OpenAPI document (`/api/v1/openapi.json`) is generated from the handlers
//! and types by `utoipa`'s derives (`openapi.rs`).

mod auth;
mod enrolment;
mod error;
mod events;
pub(crate) mod export;
mod hunt_library;
mod incidents;
mod notes;
mod observables;
pub mod openapi;
mod response;
mod runbooks;
mod search;

use crate::web::WebState;
use axum::routing::{any, get, post};

/// The largest request body the API reads (a transition or a directive is well under 4 KiB).
pub const BODY_LIMIT: usize = 64 * 1024;
/// The largest STIX bundle or MISP event `POST /api/v1/hunt-library/import` takes.
pub const IMPORT_BODY_LIMIT: usize = 1024 * 1024;
/// Page sizes of the listings.
pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 1000;

/// A page of a listing: `next` is the cursor of the next page (`?cursor=`), absent at the end.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Page {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
    pub next: Option<String>,
}

fn json_page(items: Vec<serde_json::Value>, next: Option<String>) -> axum::Json<Page> {
    axum::Json(Page { items, next })
}

fn limit(asked: Option<u32>) -> Result<usize, error::ApiError> {
    match asked {
        None | Some(0) => Ok(DEFAULT_PAGE),
        Some(n) if n as usize > MAX_PAGE => Err(error::ApiError(crate::error::HubError::invalid(
            format!("limit {n} is over {MAX_PAGE}; page through with the cursor"),
        ))),
        Some(n) => Ok(n as usize),
    }
}

/// The API's routes, merged into the dashboard's router (which adds the state and the
/// security headers). `openapi.rs` checks this list against the document in a test.
pub fn router() -> axum::Router<WebState> {
    axum::Router::new()
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/api/v1/incidents", get(incidents::list))
        .route("/api/v1/incidents/search", get(search::search))
        .route("/api/v1/incidents/{id}", get(incidents::get))
        .route("/api/v1/incidents/{id}/export", get(export::incident))
        .route(
            "/api/v1/incidents/{id}/transition",
            post(incidents::transition),
        )
        .route(
            "/api/v1/incidents/{id}/observables",
            get(observables::list).post(observables::change),
        )
        .route("/api/v1/observables/{indicator}", get(observables::lookup))
        .route(
            "/api/v1/incidents/{id}/notes",
            get(notes::list).post(notes::add),
        )
        .route("/api/v1/sites", get(response::sites))
        .route(
            "/api/v1/sites/enrolled",
            get(enrolment::list).post(enrolment::enrol),
        )
        .route(
            "/api/v1/sites/enrolled/{site}",
            axum::routing::delete(enrolment::remove),
        )
        .route(
            "/api/v1/directives",
            get(response::directives).post(response::issue),
        )
        .route("/api/v1/hunts", get(response::hunts))
        .route("/api/v1/comms", get(response::comms))
        .route(
            "/api/v1/hunt-library",
            get(hunt_library::list).post(hunt_library::add),
        )
        .route(
            "/api/v1/hunt-library/{id}",
            get(hunt_library::get).put(hunt_library::update),
        )
        .route(
            "/api/v1/hunt-library/{id}/enable",
            post(hunt_library::enable),
        )
        .route(
            "/api/v1/hunt-library/{id}/disable",
            post(hunt_library::disable),
        )
        .route("/api/v1/hunt-library/{id}/run", post(hunt_library::run))
        .route(
            "/api/v1/hunt-library/import",
            post(hunt_library::import)
                .layer(axum::extract::DefaultBodyLimit::max(IMPORT_BODY_LIMIT)),
        )
        .route("/api/v1/hunt-library/{id}/stats", get(hunt_library::stats))
        .route("/api/v1/events", get(events::stream))
        .route("/api/v1/runbooks", get(runbooks::list))
        .route("/api/v1/runbooks/{id}", get(runbooks::get))
        .route("/api/v1/{*rest}", any(error::no_such_endpoint))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
}
