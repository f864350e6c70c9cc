//! `/api/v1` observables: an incident's observables (each with the other incidents holding
//! it), an analyst's change to one, and the lookup of an indicator across incidents. The same
//! reads (`view/observables.rs`, the TLP:RED rule inside) and command
//! (`service/observables.rs`) as the gRPC `Observables` service; JSON as `sirt-hub incidents
//! observables -o json` prints it (`cli::observables::observable_json`).

use super::auth::Presented;
use super::error::{ApiError, bad_body};
use super::incidents::id;
use crate::cli::observables::{lookup_json, observable_json};
use crate::service::Commands;
use crate::service::observables::{self as commands, EditWords};
use crate::view::observables::{self as view, readable_incident};
use crate::view::read;
use crate::web::WebState;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};
use socfed_runtime::api_token::Scope;

#[utoipa::path(get, path = "/api/v1/incidents/{id}/observables", tag = "observables",
    description = "An incident's observables, each with the other incidents holding it. Token scope: read.",
    params(("id" = String, Path, description = "incident id")),
    responses((status = 200, body = Object), (status = 403, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn list(
    State(state): State<WebState>,
    presented: Presented,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let reader = presented.caller(&state, Scope::Read).await?.reader(&state);
    let incident = id(&raw, "an incident")?;
    let record = readable_incident(&state.store, &reader, incident).await?;
    let list = read(&state.store, move |s| view::listing(s, &reader, &record)).await?;
    Ok(Json(json!({
        "incident_id": list.incident_id,
        "observables": list.observables.iter().map(observable_json).collect::<Vec<_>>(),
    })))
}

/// An analyst's change, as `sirt-hub incidents observable ID ACTION TYPE:VALUE` takes it.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservableBody {
    /// `TYPE:VALUE`, e.g. `ip:203.0.113.7`, `domain:evil.example`.
    pub indicator: String,
    /// add, flag, unflag or remove.
    pub action: String,
    #[serde(default)]
    pub ioc: bool,
    #[serde(default)]
    pub sighted: bool,
    /// Tags to set (add, flag) or clear (unflag).
    #[serde(default)]
    pub tags: Vec<String>,
    /// clear, green, amber, amber+strict or red: set (add, flag) or cleared (unflag).
    #[serde(default)]
    pub tlp: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/observables", tag = "observables",
    description = "Adds, flags, unflags or removes one observable (IR lead, CISO, tier 3, tier 4). Token scope: respond.",
    params(("id" = String, Path, description = "incident id")),
    request_body = ObservableBody,
    responses((status = 200, body = Object, description = "the observable, or `removed`"),
        (status = 403, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn change(
    State(state): State<WebState>,
    presented: Presented,
    Path(raw): Path<String>,
    body: Result<Json<ObservableBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let caller = presented.caller(&state, Scope::Respond).await?;
    let acting = caller.acting(&state, crate::access::Api::EditObservables)?;
    let incident = id(&raw, "an incident")?;
    let Json(body) = body.map_err(bad_body)?;
    let indicator = commands::indicator(&body.indicator)?;
    let edit = commands::edit_of(&EditWords {
        action: body.action,
        ioc: body.ioc,
        sighted: body.sighted,
        tags: body.tags,
        tlp: body.tlp,
    })?;
    let text = indicator.to_string();
    let record = Commands::on(&state.ingest)
        .change_observable(
            (&state.store, &state.roles),
            &acting,
            incident,
            indicator,
            edit,
        )
        .await?;
    Ok(Json(match record {
        Some(r) => observable_json(&view::observable(&r, Vec::new())),
        None => json!({ "removed": text }),
    }))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// At most this many incidents (default 50, at most 500).
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/observables/{indicator}", tag = "observables",
    description = "The incidents the caller may read that hold an indicator. Token scope: read.",
    params(("indicator" = String, Path, description = "TYPE:VALUE, percent-encoded"), LookupQuery),
    responses((status = 200, body = Object), (status = 400, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn lookup(
    State(state): State<WebState>,
    presented: Presented,
    Path(raw): Path<String>,
    q: Result<Query<LookupQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let reader = presented.caller(&state, Scope::Read).await?.reader(&state);
    let Query(q) = q.map_err(super::error::bad_query)?;
    let indicator = commands::indicator(&raw)?;
    let limit = view::lookup_limit(q.limit.unwrap_or(0))?;
    let found = read(&state.store, move |s| {
        view::lookup(s, &reader, &indicator, limit)
    })
    .await?;
    Ok(Json(lookup_json(&found)))
}
