//! `POST /api/v1/alerts`: a log shipper's batch into the site's intake, through the same
//! pipeline as a `SubmitAlerts` stream (`service::intake::pipeline`): parsed in batches on the
//! blocking pool, committed in bounded units, answered only once every unit is durable. A
//! retry of the same body is counted as duplicates (the source events are remembered), so a
//! shipper that resends after a timeout stores nothing twice.

use super::ApiState;
use super::auth::Credentials;
use super::body::{self, Encoding};
use super::dto::{ErrorBody, IntakeQuery, IntakeReport};
use crate::error::AgentError;
use crate::service::intake::pipeline::Pipeline;
use crate::soc::alert::Format;
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use socfed_runtime::api_token::Scope;

/// Records parsed per batch handed to the pipeline (the CLI's default `--batch`).
const BATCH_RECORDS: usize = 500;

fn format_of(word: &str) -> Result<Format, AgentError> {
    [
        Format::Native,
        Format::Ocsf,
        Format::SuricataEve,
        Format::Wazuh,
    ]
    .into_iter()
    .find(|f| f.as_str() == word)
    .ok_or_else(|| {
        AgentError::invalid(format!(
            "format {:?}: choose native, ocsf, suricata-eve or wazuh (`?format=...`)",
            word.chars().take(32).collect::<String>()
        ))
    })
}

/// Takes in alerts: JSON lines, or one JSON array of records, optionally gzip-compressed.
#[utoipa::path(
    post,
    path = "/alerts",
    tag = "intake",
    params(IntakeQuery),
    request_body(
        content = String,
        description = "JSON lines (`application/x-ndjson`, one record per line) or one JSON array of records (`application/json`); `Content-Encoding: gzip` accepted",
        content_type = "application/x-ndjson"
    ),
    responses(
        (status = 200, description = "Stored and durable; per-record rejections listed", body = IntakeReport),
        (status = 400, description = "Unknown format, undecodable body", body = ErrorBody),
        (status = 401, description = "No, unknown, expired or revoked credential", body = ErrorBody),
        (status = 403, description = "The token lacks the `intake` scope, the role refuses, or a certificate on a cross-site request", body = ErrorBody),
        (status = 413, description = "Body, decompressed body or record count over its cap", body = ErrorBody),
        (status = 415, description = "Content-Type is neither application/x-ndjson nor application/json", body = ErrorBody),
        (status = 429, description = "Too many intake requests at once: retry", body = ErrorBody),
    ),
    security(("bearer" = ["intake"]), ("client_certificate" = []))
)]
pub async fn post_alerts(
    State(state): State<ApiState>,
    credentials: Credentials,
    query: Result<Query<IntakeQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<IntakeReport>, AgentError> {
    let actor = state.caller(credentials, Scope::Intake).await?;
    crate::soc::authz::check(actor.role, crate::soc::authz::Operation::SubmitAlerts, None)?;
    let Query(query) = query.map_err(super::bad_query)?;
    let format = format_of(&query.format)?;
    body::check_content_type(
        headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    )?;
    let encoding = Encoding::of(
        headers
            .get(axum::http::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    )?;
    let _permit = state.intake.clone().try_acquire_owned().map_err(|_| {
        AgentError::Busy(format!(
            "{} intake requests are being stored already: retry shortly",
            crate::grpc::soc::MAX_INTAKE_STREAMS
        ))
    })?;
    let limits = state.limits;
    let raw = body::read_capped(body, limits.max_body_bytes).await?;
    let records = tokio::task::spawn_blocking(move || {
        let decoded = body::decode(raw, encoding, limits.max_decoded_bytes)?;
        body::records(&decoded, limits.max_records, limits.max_record_bytes)
    })
    .await
    .map_err(|_| AgentError::internal("agent task failed"))??;
    let array = records.array;
    let lines = u64::try_from(records.count()).unwrap_or(u64::MAX);
    let pipeline = Pipeline::start(state.soc.clone(), actor);
    let pushed = push_all(&state, &pipeline, format, records.records).await;
    let mut total = pipeline.finish().await?;
    pushed?;
    // Lines refused before parsing (not UTF-8) count as the CLI counts them.
    total.rejected += u64::try_from(records.rejections.len()).unwrap_or(u64::MAX);
    total.rejections.extend(records.rejections);
    total.lines = lines;
    Ok(Json(IntakeReport::new(total, array)))
}

/// Parses the records in batches on the blocking pool and hands each to the pipeline.
async fn push_all(
    state: &ApiState,
    pipeline: &Pipeline,
    format: Format,
    records: Vec<(u64, String)>,
) -> Result<(), AgentError> {
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        let batch: Vec<(u64, String)> = records.by_ref().take(BATCH_RECORDS).collect();
        let soc = state.soc.clone();
        let parsed = tokio::task::spawn_blocking(move || soc.parse_batch(format, &batch))
            .await
            .map_err(|_| AgentError::internal("alert parser failed"))?;
        pipeline.push(parsed).await?;
    }
    Ok(())
}
