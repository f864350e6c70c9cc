//! `/api/v1/runbooks`: the hub's runbooks as `sirt-hub runbooks list` and `show` read them
//! (the `read` scope; every operator may read runbooks), JSON as the CLI's `-o json` prints.

use super::auth::Presented;
use super::error::ApiError;
use super::{Page, json_page};
use crate::error::HubError;
use crate::view::read;
use crate::web::WebState;
use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;
use socfed_runtime::api_token::Scope;
use socfed_runtime::cli::runbooks::runbook_json;

#[utoipa::path(get, path = "/api/v1/runbooks", tag = "runbooks",
    responses((status = 200, body = Page)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn list(
    State(state): State<WebState>,
    presented: Presented,
) -> Result<Json<Page>, ApiError> {
    presented.caller(&state, Scope::Read).await?;
    let all = read(&state.store, |s| s.runbooks()).await?;
    Ok(json_page(
        all.iter().map(|r| runbook_json(&r.to_wire())).collect(),
        None,
    ))
}

#[utoipa::path(get, path = "/api/v1/runbooks/{id}", tag = "runbooks",
    params(("id" = String, Path, description = "runbook id")),
    responses((status = 200, body = Object), (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn get(
    State(state): State<WebState>,
    presented: Presented,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    presented.caller(&state, Scope::Read).await?;
    let id = socfed_proto::vocab::runbook::parse_id(&raw)
        .map_err(|e| ApiError(HubError::invalid(e.to_string())))?;
    let (latest, history) = read(&state.store, move |s| {
        Ok((s.runbook(id, None)?, s.runbook_history(id)?))
    })
    .await?;
    let latest = latest.ok_or_else(|| {
        ApiError(HubError::not_found(format!(
            "no runbook {id}; GET /api/v1/runbooks lists them"
        )))
    })?;
    let mut value = runbook_json(&latest.to_wire());
    value["history"] = history
        .iter()
        .map(|r| runbook_json(&r.history_line()))
        .collect();
    Ok(Json(value))
}
