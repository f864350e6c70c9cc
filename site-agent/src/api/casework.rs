//! The API's case work (issue 15): an incident's notes (read, write), taking an alert group
//! out of an incident, the site's KPIs. Thin adapters over `service/casework.rs` and
//! `service/kpi.rs`, which check the caller's role as for the CLI and the console.

use super::ApiState;
use super::auth::Credentials;
use super::dto::{ErrorBody, IncidentDto};
use crate::error::AgentError;
use crate::soc::notes::NoteView;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use socfed_proto::vocab::Tlp;
use socfed_runtime::api_token::Scope;
use ulid::Ulid;
use utoipa::{IntoParams, ToSchema};

/// The largest note body read: a note of 4,000 characters of 4 bytes each, JSON-escaped.
pub const NOTE_BODY_LIMIT: usize = 64 * 1024;

/// A note on a local incident, as the caller may read it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NoteDto {
    pub id: String,
    /// Who wrote it (from their certificate or token, never from the request).
    pub author: String,
    pub at_ms: i64,
    /// Absent when redacted for the caller.
    pub text: Option<String>,
    /// `clear`, `green`, `amber`, `amber+strict` or `red`; absent when the note has none.
    pub tlp: Option<String>,
    /// Why the text is withheld from the caller.
    pub redacted: Option<String>,
}

impl NoteDto {
    pub fn new(n: &NoteView) -> Self {
        Self {
            id: n.id.to_string(),
            author: n.author.clone(),
            at_ms: n.at_ms,
            text: n.redacted.is_none().then(|| n.text.clone()),
            tlp: n.tlp.map(|t| t.to_string()),
            redacted: n.redacted.clone(),
        }
    }
}

/// A new note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// At most 4,000 characters; no control characters but new lines and tabs.
    pub text: String,
    /// A marking of its own (`red`: only its author, the incident's owner and the SOC
    /// manager read its text).
    pub tlp: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KpisQuery {
    /// 1 to 52; 4 when absent.
    pub weeks: Option<u32>,
}

/// The site's triage KPIs (see `site-agent kpis`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KpisDto {
    pub weeks: u32,
    pub from_ms: i64,
    pub to_ms: i64,
    /// Per tier: count, median and p90 (ms) of time to acknowledge, escalate and close.
    pub tiers: Vec<serde_json::Value>,
    /// Per analyst: the same, and the distinct groups handled.
    pub analysts: Vec<serde_json::Value>,
    /// Per detection rule: closed, false positives and their rate.
    pub rules: Vec<serde_json::Value>,
    /// Groups handled per roster shift.
    pub shifts: Vec<serde_json::Value>,
    /// Per ISO week.
    pub trend: Vec<serde_json::Value>,
    /// Audit entries read; `truncated` when the scan stopped at its cap.
    pub scanned: usize,
    pub truncated: bool,
}

fn values<T: Serialize>(items: &[T]) -> Vec<serde_json::Value> {
    items
        .iter()
        .map(|i| serde_json::to_value(i).unwrap_or_default())
        .collect()
}

/// An incident's notes, oldest first (the work log).
#[utoipa::path(
    get,
    path = "/incidents/{id}/notes",
    tag = "incidents",
    params(("id" = String, Path, description = "The local incident's id")),
    responses(
        (status = 200, description = "The notes; TLP:RED ones redacted unless the caller is their author, the incident's owner or the SOC manager", body = [NoteDto]),
        (status = 401, description = "No, unknown, expired or revoked credential", body = ErrorBody),
        (status = 403, description = "The token lacks the `read` scope, or the role refuses", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
    ),
    security(("bearer" = ["read"]), ("client_certificate" = []))
)]
pub async fn list_notes(
    State(state): State<ApiState>,
    credentials: Credentials,
    Path(id): Path<String>,
) -> Result<Json<Vec<NoteDto>>, AgentError> {
    let actor = state.caller(credentials, Scope::Read).await?;
    let notes = state
        .blocking(move |s| s.incident_notes(&actor, &id))
        .await?;
    Ok(Json(notes.iter().map(NoteDto::new).collect()))
}

/// Writes a note on an incident, as the caller.
#[utoipa::path(
    post,
    path = "/incidents/{id}/notes",
    tag = "incidents",
    params(("id" = String, Path, description = "The local incident's id")),
    request_body = NewNote,
    responses(
        (status = 200, description = "The note, as stored", body = NoteDto),
        (status = 400, description = "Empty, too long or with control characters; a bad marking", body = ErrorBody),
        (status = 401, description = "No, unknown, expired or revoked credential", body = ErrorBody),
        (status = 403, description = "The token lacks the `triage` scope, or the role refuses (named)", body = ErrorBody),
        (status = 404, description = "No such incident", body = ErrorBody),
    ),
    security(("bearer" = ["triage"]), ("client_certificate" = []))
)]
pub async fn add_note(
    State(state): State<ApiState>,
    credentials: Credentials,
    Path(id): Path<String>,
    body: Result<Json<NewNote>, JsonRejection>,
) -> Result<Json<NoteDto>, AgentError> {
    let actor = state.caller(credentials, Scope::Triage).await?;
    let Json(body) = body.map_err(|r| AgentError::invalid(r.body_text()))?;
    let tlp = match body.tlp.as_deref() {
        None | Some("") => None,
        Some(word) => Some(
            word.parse::<Tlp>()
                .map_err(|e| AgentError::invalid(e.to_string()))?,
        ),
    };
    let note = state
        .blocking(move |s| s.add_note(&actor, &id, &body.text, tlp))
        .await?;
    Ok(Json(NoteDto::new(&note)))
}

/// Takes an alert group out of a local incident (as `site-agent incidents remove`).
#[utoipa::path(
    delete,
    path = "/incidents/{id}/groups/{group}",
    tag = "incidents",
    params(
        ("id" = String, Path, description = "The local incident's id"),
        ("group" = String, Path, description = "The alert group's id (ULID)"),
    ),
    responses(
        (status = 200, description = "The incident without the group; the group is back in the queue", body = IncidentDto),
        (status = 400, description = "The group is not in the incident, or is its last one", body = ErrorBody),
        (status = 401, description = "No, unknown, expired or revoked credential", body = ErrorBody),
        (status = 403, description = "The token lacks the `triage` scope, or the role refuses (named)", body = ErrorBody),
        (status = 404, description = "No such incident or group", body = ErrorBody),
    ),
    security(("bearer" = ["triage"]), ("client_certificate" = []))
)]
pub async fn remove_group(
    State(state): State<ApiState>,
    credentials: Credentials,
    Path((id, group)): Path<(String, String)>,
) -> Result<Json<IncidentDto>, AgentError> {
    let actor = state.caller(credentials, Scope::Triage).await?;
    let group = Ulid::from_string(&group).map_err(|_| {
        AgentError::invalid("the alert group id is not a 26-character ULID".to_string())
    })?;
    let (incident, hub) = state
        .blocking(move |s| s.with_hub(s.remove_from_incident(&actor, group, &id)?))
        .await?;
    Ok(Json(IncidentDto::new(&incident, hub.as_ref())))
}

/// The site's triage KPIs over the last weeks.
#[utoipa::path(
    get,
    path = "/kpis",
    tag = "kpis",
    params(KpisQuery),
    responses(
        (status = 200, description = "KPIs per tier, analyst, rule, shift and ISO week", body = KpisDto),
        (status = 400, description = "weeks out of 1 to 52", body = ErrorBody),
        (status = 401, description = "No, unknown, expired or revoked credential", body = ErrorBody),
        (status = 403, description = "The token lacks the `read` scope, or the role refuses", body = ErrorBody),
    ),
    security(("bearer" = ["read"]), ("client_certificate" = []))
)]
pub async fn kpis(
    State(state): State<ApiState>,
    credentials: Credentials,
    query: Result<Query<KpisQuery>, QueryRejection>,
) -> Result<Json<KpisDto>, AgentError> {
    let actor = state.caller(credentials, Scope::Read).await?;
    let Query(query) = query.map_err(super::bad_query)?;
    let weeks = query.weeks.unwrap_or(4);
    let r = state.blocking(move |s| s.kpis(&actor, weeks)).await?;
    Ok(Json(KpisDto {
        weeks: r.weeks,
        from_ms: r.kpis.from_ms,
        to_ms: r.kpis.to_ms,
        tiers: values(&r.kpis.tiers),
        analysts: values(&r.kpis.analysts),
        rules: values(&r.kpis.rules),
        shifts: values(&r.kpis.shifts),
        trend: values(&r.kpis.trend),
        scanned: r.scanned,
        truncated: r.truncated,
    }))
}
