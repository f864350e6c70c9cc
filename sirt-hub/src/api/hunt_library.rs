//! `/api/v1/hunt-library`: the hunt library, as the `HuntLibrary` gRPC service serves it
//! (reads with the `read` scope, changes with `respond` and the library keepers' roles); JSON
//! as the CLI's `-o json` prints it.

use super::auth::Presented;
use super::error::{ApiError, bad_body};
use super::incidents::id;
use super::{Page, json_page};
use crate::access::Api;
use crate::access::acting::Acting;
use crate::cli::hunt_library::{hunt_json, stats_json};
use crate::error::HubError;
use crate::hunt_library::RawSpec;
use crate::ingest::apply::LibraryAction;
use crate::service::Commands;
use crate::view::library as view;
use crate::web::WebState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use socfed_runtime::api_token::Scope;

/// A library hunt as added or edited (an edit replaces every field).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LibraryBody {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// `TYPE:VALUE`, at most 100.
    pub indicators: Vec<String>,
    /// ATT&CK ids, at most 20.
    #[serde(default)]
    pub techniques: Vec<String>,
    /// informational, low, medium, high, critical.
    pub severity: String,
    /// clear, green, amber (the default), amber+strict, red.
    #[serde(default)]
    pub tlp: String,
    /// 300 to 2592000.
    pub interval_s: u64,
    /// 1 to 31536000.
    pub lookback_s: u64,
    /// Adding only: stored without running until enabled.
    #[serde(default)]
    pub disabled: bool,
}

impl LibraryBody {
    fn spec(self) -> Result<(crate::hunt_library::LibrarySpec, bool), ApiError> {
        let raw = RawSpec {
            name: self.name,
            description: self.description,
            indicators: self.indicators,
            techniques: self.techniques,
            severity: self.severity,
            tlp: self.tlp,
            interval_s: self.interval_s,
            lookback_s: self.lookback_s,
        };
        let spec = raw.parse().map_err(|e| ApiError(HubError::invalid(e.0)))?;
        Ok((spec, !self.disabled))
    }
}

/// The caller of a change: the `respond` scope and a role that keeps the library, checked
/// before any body is read.
async fn keeper(state: &WebState, presented: &Presented) -> Result<Acting, ApiError> {
    let caller = presented.caller(state, Scope::Respond).await?;
    caller.acting(state, Api::KeepHuntLibrary)
}

async fn change(
    state: &WebState,
    acting: &Acting,
    action: LibraryAction,
) -> Result<crate::ingest::apply::LibraryChanged, ApiError> {
    Ok(Commands::on(&state.ingest)
        .change_library(acting, action)
        .await?)
}

fn one(hunt: &crate::hunt_library::LibraryHunt) -> Json<Value> {
    Json(hunt_json(&view::hunt(hunt)))
}

#[utoipa::path(get, path = "/api/v1/hunt-library", tag = "hunt-library",
    responses((status = 200, body = Page)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn list(
    State(state): State<WebState>,
    presented: Presented,
) -> Result<Json<Page>, ApiError> {
    let reader = presented.caller(&state, Scope::Read).await?.reader(&state);
    let hunts = view::all(&state.store, &reader).await?;
    let items = hunts.iter().map(|h| hunt_json(&view::hunt(h))).collect();
    Ok(json_page(items, None))
}

#[utoipa::path(post, path = "/api/v1/hunt-library", tag = "hunt-library",
    request_body = LibraryBody,
    responses((status = 200, body = Object), (status = 403, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn add(
    State(state): State<WebState>,
    presented: Presented,
    body: Result<Json<LibraryBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let acting = keeper(&state, &presented).await?;
    let Json(body) = body.map_err(bad_body)?;
    let (spec, enabled) = body.spec()?;
    let changed = change(&state, &acting, LibraryAction::Add { spec, enabled }).await?;
    Ok(one(&changed.hunt))
}

#[utoipa::path(get, path = "/api/v1/hunt-library/{id}", tag = "hunt-library",
    params(("id" = String, Path, description = "library hunt id")),
    responses((status = 200, body = Object), (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn get(
    State(state): State<WebState>,
    presented: Presented,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let reader = presented.caller(&state, Scope::Read).await?.reader(&state);
    let (hunt, versions) = view::detail(&state.store, &reader, id(&raw, "a library hunt")?).await?;
    Ok(Json(json!({
        "hunt": hunt_json(&view::hunt(&hunt)),
        "versions": versions.iter().map(|v| hunt_json(&view::hunt(v))).collect::<Vec<_>>(),
    })))
}

#[utoipa::path(put, path = "/api/v1/hunt-library/{id}", tag = "hunt-library",
    params(("id" = String, Path, description = "library hunt id")), request_body = LibraryBody,
    responses((status = 200, body = Object), (status = 403, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn update(
    State(state): State<WebState>,
    presented: Presented,
    Path(raw): Path<String>,
    body: Result<Json<LibraryBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let acting = keeper(&state, &presented).await?;
    let id = id(&raw, "a library hunt")?;
    let Json(body) = body.map_err(bad_body)?;
    let (spec, _) = body.spec()?;
    let changed = change(&state, &acting, LibraryAction::Update { id, spec }).await?;
    Ok(one(&changed.hunt))
}

#[utoipa::path(post, path = "/api/v1/hunt-library/{id}/enable", tag = "hunt-library",
    params(("id" = String, Path, description = "library hunt id")),
    responses((status = 200, body = Object), (status = 403, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn enable(
    State(state): State<WebState>,
    presented: Presented,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    switch(&state, &presented, &raw, true).await
}

#[utoipa::path(post, path = "/api/v1/hunt-library/{id}/disable", tag = "hunt-library",
    params(("id" = String, Path, description = "library hunt id")),
    responses((status = 200, body = Object), (status = 403, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn disable(
    State(state): State<WebState>,
    presented: Presented,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    switch(&state, &presented, &raw, false).await
}

/// Enabling and disabling: the same keeper check and change, one flag apart.
async fn switch(
    state: &WebState,
    presented: &Presented,
    raw: &str,
    enabled: bool,
) -> Result<Json<Value>, ApiError> {
    let acting = keeper(state, presented).await?;
    let id = id(raw, "a library hunt")?;
    let action = LibraryAction::Switch { id, enabled };
    Ok(one(&change(state, &acting, action).await?.hunt))
}

#[utoipa::path(post, path = "/api/v1/hunt-library/{id}/run", tag = "hunt-library",
    params(("id" = String, Path, description = "library hunt id")),
    responses((status = 200, body = Object), (status = 403, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn run(
    State(state): State<WebState>,
    presented: Presented,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let acting = keeper(&state, &presented).await?;
    let id = id(&raw, "a library hunt")?;
    let action = LibraryAction::Run {
        id,
        scheduled: false,
        enrolled: state.enrolled.sites()?,
    };
    let changed = change(&state, &acting, action).await?;
    Ok(Json(json!({
        "library": hunt_json(&view::hunt(&changed.hunt)),
        "hunt_id": changed.run.map(|h| h.id.to_string()).unwrap_or_default(),
    })))
}

/// What an import asks besides the file (the body, as read).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `stix` (a STIX 2.1 bundle) or `misp` (a MISP event).
    pub format: String,
    /// Default: the source's own name.
    #[serde(default)]
    pub name: String,
    /// Default: medium.
    #[serde(default)]
    pub severity: Option<String>,
    /// Default: 3600.
    pub interval_s: Option<u64>,
    /// Default: 30 days.
    pub lookback_s: Option<u64>,
    #[serde(default)]
    pub disabled: bool,
}

#[utoipa::path(post, path = "/api/v1/hunt-library/import", tag = "hunt-library",
    params(ImportQuery), request_body(content = String, description = "the STIX bundle or MISP event as JSON"),
    responses((status = 200, body = Object), (status = 400, body = super::error::ErrorBody),
        (status = 403, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn import(
    State(state): State<WebState>,
    presented: Presented,
    q: Result<axum::extract::Query<ImportQuery>, axum::extract::rejection::QueryRejection>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let caller = presented.caller(&state, Scope::Respond).await?;
    let acting = caller.acting(&state, Api::KeepHuntLibrary)?;
    let axum::extract::Query(q) = q.map_err(super::error::bad_query)?;
    let severity = q.severity.as_deref().unwrap_or("medium");
    let choices = crate::hunt_library::import::Choices {
        name: q.name,
        severity: severity
            .parse()
            .map_err(|e: socfed_proto::vocab::InvalidField| {
                ApiError(HubError::invalid(format!("severity: {}", e.problem)))
            })?,
        interval_s: q.interval_s.unwrap_or(3600),
        lookback_s: q
            .lookback_s
            .unwrap_or(crate::response::order::DEFAULT_LOOKBACK_S),
    };
    let (changed, imported) = Commands::on(&state.ingest)
        .import_library(&acting, &body, &q.format, choices, !q.disabled)
        .await?;
    Ok(Json(json!({
        "hunt": hunt_json(&view::hunt(&changed.hunt)),
        "taken": imported.taken,
        "not_taken": imported.not_taken,
    })))
}

#[utoipa::path(get, path = "/api/v1/hunt-library/{id}/stats", tag = "hunt-library",
    params(("id" = String, Path, description = "library hunt id")),
    responses((status = 200, body = Object), (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn stats(
    State(state): State<WebState>,
    presented: Presented,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let reader = presented.caller(&state, Scope::Read).await?.reader(&state);
    let id = id(&raw, "a library hunt")?;
    let (_, counted) = view::stats(&state.store, &reader, id).await?;
    Ok(Json(stats_json(&view::stats_wire(id, &counted))))
}
