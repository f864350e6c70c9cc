//! `/api/v1/checklists/{subject}`: the runbooks that apply to an alert group or local
//! incident with its checklist progress (`read` scope), and a step ticked or unticked
//! (`triage` scope; the role must allow it: an analyst or the SOC manager), as
//! `site-agent incidents show` and `incidents runbook` do. JSON as the CLI's `-o json`.

use super::ApiState;
use super::auth::Credentials;
use super::dto::ErrorBody;
use crate::error::AgentError;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use serde_json::Value;
use socfed_runtime::api_token::Scope;

/// A step ticked (`done: true`) or unticked.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// The runbook's id.
    pub runbook: String,
    /// The step's number, from 1.
    pub step: u32,
    pub done: bool,
}

fn json(matched: &[crate::service::runbooks::Matched]) -> Json<Value> {
    let wire = crate::grpc::runbooks::matched_to_wire(matched);
    Json(
        wire.runbooks
            .iter()
            .map(socfed_runtime::cli::runbooks::matched_json)
            .collect(),
    )
}

/// The runbooks that apply to an alert group or local incident, most specific first, with
/// its progress ("1/3").
#[utoipa::path(
    get,
    path = "/checklists/{subject}",
    tag = "runbooks",
    params(("subject" = String, Path, description = "An alert group id or a local incident id")),
    responses(
        (status = 200, description = "The runbooks that apply, with progress", body = Object),
        (status = 401, description = "No, unknown, expired or revoked credential", body = ErrorBody),
        (status = 404, description = "No such alert group or incident", body = ErrorBody),
    ),
    security(("bearer" = ["read"]), ("client_certificate" = []))
)]
pub async fn get_checklist(
    State(state): State<ApiState>,
    credentials: Credentials,
    Path(subject): Path<String>,
) -> Result<Json<Value>, AgentError> {
    let actor = state.caller(credentials, Scope::Read).await?;
    let matched = state
        .blocking(move |s| s.matched_runbooks(&actor, &subject))
        .await?;
    Ok(json(&matched))
}

/// Ticks or unticks one step of a runbook that applies to the subject; audited.
#[utoipa::path(
    post,
    path = "/checklists/{subject}",
    tag = "runbooks",
    params(("subject" = String, Path, description = "An alert group id or a local incident id")),
    request_body = StepBody,
    responses(
        (status = 200, description = "The subject's runbooks, progress after the change", body = Object),
        (status = 400, description = "Not a step of that runbook, or a malformed body", body = ErrorBody),
        (status = 401, description = "No, unknown, expired or revoked credential", body = ErrorBody),
        (status = 403, description = "The token lacks the `triage` scope, or the role refuses (named)", body = ErrorBody),
        (status = 404, description = "No such subject, or the runbook does not apply to it", body = ErrorBody),
    ),
    security(("bearer" = ["triage"]), ("client_certificate" = []))
)]
pub async fn post_step(
    State(state): State<ApiState>,
    credentials: Credentials,
    Path(subject): Path<String>,
    body: Result<Json<StepBody>, JsonRejection>,
) -> Result<Json<Value>, AgentError> {
    let actor = state.caller(credentials, Scope::Triage).await?;
    let Json(body) = body.map_err(|e| AgentError::invalid(e.body_text()))?;
    let id = socfed_proto::vocab::runbook::parse_id(&body.runbook)
        .map_err(|e| AgentError::invalid(e.to_string()))?;
    let matched = state
        .blocking(move |s| s.set_runbook_step(&actor, &subject, id, body.step, body.done))
        .await?;
    Ok(json(&matched))
}
