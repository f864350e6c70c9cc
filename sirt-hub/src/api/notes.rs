//! `/api/v1/incidents/{id}/notes`: an incident's notes (read) and a new note (respond scope).
//! The same reads, matrix and read rule as `HubCasework` (`service::notes`); the author is
//! the caller (a token acts as its creator), never a field of the body.

use super::auth::Presented;
use super::error::{ApiError, bad_body};
use super::incidents::id;
use crate::error::HubError;
use crate::service::notes::{self, NoteView};
use crate::web::WebState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use socfed_proto::vocab::Tlp;
use socfed_runtime::api_token::Scope;

/// A new note.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// At most 4,000 characters; no control characters but new lines and tabs.
    pub text: String,
    /// A marking of its own: `clear`, `green`, `amber`, `amber+strict` or `red`.
    #[serde(default)]
    pub tlp: Option<String>,
}

/// A note as `sirt-hub incidents notes -o json` prints it, times in milliseconds.
fn note_json(n: &NoteView) -> Value {
    json!({
        "id": n.id.to_string(),
        "author": n.author,
        "at_ms": n.at_ms,
        "text": n.redacted.is_none().then(|| n.text.clone()),
        "tlp": n.tlp.map(|t| t.as_str()),
        "redacted": n.redacted,
    })
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/notes", tag = "incidents",
    params(("id" = String, Path, description = "incident id")),
    responses((status = 200, description = "The notes, oldest first; a TLP:RED note's text only for the CISO, the IR lead and members", body = [Object]),
        (status = 403, body = super::error::ErrorBody), (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = ["read"]), ("client_certificate" = [])))]
pub async fn list(
    State(state): State<WebState>,
    presented: Presented,
    Path(raw): Path<String>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let reader = presented.caller(&state, Scope::Read).await?.reader(&state);
    let incident = id(&raw, "an incident")?;
    let notes = notes::list(&state.store, &reader, &state.roles, incident).await?;
    Ok(Json(notes.iter().map(note_json).collect()))
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/notes", tag = "incidents",
    params(("id" = String, Path, description = "incident id")),
    request_body = NoteBody,
    responses((status = 200, description = "The note as stored", body = Object),
        (status = 400, body = super::error::ErrorBody), (status = 403, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = ["respond"]), ("client_certificate" = [])))]
pub async fn add(
    State(state): State<WebState>,
    presented: Presented,
    Path(raw): Path<String>,
    body: Result<Json<NoteBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let caller = presented.caller(&state, Scope::Respond).await?;
    let acting = caller.acting(&state, crate::access::Api::WriteNote)?;
    let incident = id(&raw, "an incident")?;
    let Json(body) = body.map_err(bad_body)?;
    let tlp = match body.tlp.as_deref() {
        None | Some("") => None,
        Some(word) => Some(
            word.parse::<Tlp>()
                .map_err(|e| ApiError(HubError::invalid(e.to_string())))?,
        ),
    };
    let note = notes::add(
        &state.store,
        &state.ingest,
        &state.roles,
        &acting,
        incident,
        &body.text,
        tlp,
    )
    .await?;
    Ok(Json(note_json(&note)))
}
