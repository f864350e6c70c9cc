//! `/api/v1/incidents`: list (filtered by phase and severity, paged with a cursor), one
//! incident, and a lifecycle transition. The same store reads, TLP:RED rule and command as
//! `Operator.ListIncidents`, `GetIncident` and `TransitionIncident`; JSON as `sirt-hub
//! incidents -o json` prints it (`cli::render::incident_json`).

use super::auth::Presented;
use super::error::{ApiError, bad_body};
use super::{Page, json_page, limit};
use crate::error::HubError;
use crate::incident::IncidentStatus;
use crate::service::Commands;
use crate::store::query::IncidentFilter;
use crate::view::{convert, read};
use crate::web::WebState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde_json::Value;
use socfed_proto::vocab::Severity;
use socfed_runtime::api_token::Scope;
use ulid::Ulid;

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only incidents in this phase: new, triage, containment, eradication, recovery,
    /// post-incident, closed.
    pub phase: Option<String>,
    /// Only incidents of at least this severity: informational, low, medium, high, critical.
    pub severity: Option<String>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
}

pub(super) fn id(raw: &str, what: &str) -> Result<Ulid, ApiError> {
    Ulid::from_string(raw).map_err(|_| {
        ApiError(HubError::invalid(format!(
            "{:?} is not {what} id (26-character ULID)",
            raw.chars().take(40).collect::<String>()
        )))
    })
}

fn phase(raw: &str) -> Result<IncidentStatus, ApiError> {
    IncidentStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == raw)
        .ok_or_else(|| {
            ApiError(HubError::invalid(
                "phase is one of new, triage, containment, eradication, recovery, post-incident, closed",
            ))
        })
}

#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(ListQuery),
    responses((status = 200, body = Page), (status = 401, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn list(
    State(state): State<WebState>,
    presented: Presented,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Page>, ApiError> {
    let reader = presented.caller(&state, Scope::Read).await?.reader(&state);
    let Query(q) = q.map_err(super::error::bad_query)?;
    let filter = IncidentFilter {
        site: None,
        status: q.phase.as_deref().map(phase).transpose()?,
        min_severity: q
            .severity
            .as_deref()
            .map(|s| s.parse::<Severity>())
            .transpose()
            .map_err(|e| ApiError(HubError::invalid(format!("severity: {e}"))))?,
    };
    let before = q.cursor.as_deref().map(|c| id(c, "a cursor")).transpose()?;
    let limit = limit(q.limit)?;
    // Left out, not redacted, as over gRPC (a redacted row would still tell it exists), and
    // inside the scan, so no cursor names what the caller may not read.
    let page = read(&state.store, move |s| {
        s.list_incidents(&filter, before, limit, |r| reader.can_read(r))
    })
    .await?;
    let items = page
        .incidents
        .iter()
        .map(|r| crate::cli::render::incident_json(&convert::incident(r)))
        .collect();
    Ok(json_page(items, page.next.map(|u| u.to_string())))
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents",
    params(("id" = String, Path, description = "incident id")),
    responses((status = 200, body = Object), (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn get(
    State(state): State<WebState>,
    presented: Presented,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let reader = presented.caller(&state, Scope::Read).await?.reader(&state);
    let incident = id(&raw, "an incident")?;
    match read(&state.store, move |s| s.incident(incident)).await? {
        Some(record) => {
            reader.may_read(&record)?;
            Ok(Json(crate::cli::render::incident_json(&convert::incident(
                &record,
            ))))
        }
        None => Err(ApiError(HubError::not_found(format!(
            "no incident {incident}; GET /api/v1/incidents lists them"
        )))),
    }
}

/// A lifecycle command, as `sirt-hub incidents transition ID COMMAND [ARGUMENT]` takes it.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    /// e.g. `start-triage`, `contain`, `set-severity`, `assign-ir-lead`, `close`.
    pub command: String,
    /// The command's argument, if it takes one (a severity, an operator, a reason).
    #[serde(default)]
    pub argument: String,
}

#[utoipa::path(post, path = "/api/v1/incidents/{id}/transition", tag = "incidents",
    params(("id" = String, Path, description = "incident id")),
    request_body = TransitionBody,
    responses((status = 200, body = Object), (status = 403, body = super::error::ErrorBody),
        (status = 409, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn transition(
    State(state): State<WebState>,
    presented: Presented,
    Path(raw): Path<String>,
    body: Result<Json<TransitionBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let caller = presented.caller(&state, Scope::Respond).await?;
    let acting = caller.acting(&state, crate::access::Api::TransitionIncident)?;
    let incident = id(&raw, "an incident")?;
    let Json(body) = body.map_err(bad_body)?;
    let command = crate::lifecycle::parse_command(&body.command, &body.argument)
        .map_err(|e| ApiError(HubError::invalid(e)))?;
    let record = Commands::on(&state.ingest)
        .transition(&state.store, &state.roles, &acting, incident, command)
        .await?;
    Ok(Json(crate::cli::render::incident_json(&convert::incident(
        &record,
    ))))
}
