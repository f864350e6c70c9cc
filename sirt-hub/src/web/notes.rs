//! The incident page's notes (issue 15): the form to add one (`incident_notes.html`, shown to
//! the roles the matrix's `WriteNote` allows) and its POST, over `service::notes` like the
//! gRPC and HTTP APIs; the notes themselves show in the page's timeline, the work log
//! (`report::work_log_rows`, each note as the viewer may read it).

use super::WebState;
use super::forms::{self, IncidentForm};
use crate::error::HubError;
use axum::extract::State;
use axum::response::Response;
use socfed_proto::vocab::Tlp;

/// The note form's data.
pub struct NotesForm {
    pub id: String,
    pub csrf: String,
    pub tlps: Vec<&'static str>,
}

impl NotesForm {
    /// The form for a viewer holding `role`, when the matrix lets them write notes.
    pub fn new(id: &str, csrf: String, role: crate::lifecycle::HubRole) -> Option<Self> {
        crate::access::check("", Some(role), crate::access::Api::WriteNote).ok()?;
        Some(Self {
            id: id.to_string(),
            csrf,
            tlps: Tlp::ALL.iter().map(|t| t.as_str()).collect(),
        })
    }
}

/// `POST /incidents/{id}/notes` with `text` and `tlp` (empty: none).
pub async fn add(
    State(state): State<WebState>,
    IncidentForm {
        viewer,
        id,
        incident,
        posted,
    }: IncidentForm,
) -> Response {
    let tlp = match posted.one("tlp") {
        "" => Ok(None),
        word => word
            .parse::<Tlp>()
            .map(Some)
            .map_err(|e| HubError::invalid(e.to_string())),
    };
    // Browsers send a textarea's line ends as CR LF; the note keeps LF.
    let text = posted.one("text").replace("\r\n", "\n");
    let result = match tlp {
        Ok(tlp) => {
            crate::service::notes::add(
                &state.store,
                &state.ingest,
                &state.roles,
                &posted.acting,
                incident,
                &text,
                tlp,
            )
            .await
        }
        Err(e) => Err(e),
    };
    forms::finish(&state, &viewer, &id, result)
}
