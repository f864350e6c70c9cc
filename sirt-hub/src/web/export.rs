//! The incident page's export downloads (`GET /incidents/{id}/export?format=…&tlp_max=…`):
//! the signed-in viewer's read of the incident (the TLP:RED rule, as the page itself), then
//! the same answer as the API's (`api::export::response`).

use super::WebState;
use super::auth::Viewer;
use super::views::{message, not_found, read, reader};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use std::collections::HashMap;
use ulid::Ulid;

pub async fn incident(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Ok(id) = Ulid::from_string(&id) else {
        return not_found(&viewer);
    };
    let asked = crate::api::export::asked(
        q.get("format").map_or("", String::as_str),
        q.get("tlp_max").map(String::as_str),
    );
    let (format, tlp_max) = match asked {
        Ok(a) => a,
        Err(e) => return message(&viewer, "Export refused", &e.to_string(), &e),
    };
    match read(&state.store, move |s| s.incident(id)).await {
        Ok(Some(record)) => {
            let reader = reader(&state, &viewer);
            if let Err(denied) = reader.may_read(&record) {
                return message(&viewer, "Not permitted", &denied.to_string(), &denied);
            }
            let casework = match crate::api::export::casework(&state, &reader, &record).await {
                Ok(casework) => casework,
                Err(e) => return message(&viewer, "Not available", &e.to_string(), &e),
            };
            crate::api::export::response(
                &crate::view::convert::incident(&record),
                &casework,
                format,
                tlp_max,
            )
        }
        Ok(None) => not_found(&viewer),
        Err(response) => response,
    }
}
