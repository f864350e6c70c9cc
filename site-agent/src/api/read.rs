//! The API's reads (alert groups with the filters of `site-agent alerts list`, one group,
//! local incidents, notifications) and two triage actions (acknowledge, escalate a tier), each
//! a thin adapter over the service layer, which checks the caller's role as for the CLI.

use super::ApiState;
use super::auth::Credentials;
use super::dto::{AlertGroupDto, AlertsQuery, ErrorBody, IncidentDto, LimitQuery, NotificationDto};
use crate::error::AgentError;
use crate::service::SocService;
use crate::soc::Tier;
use crate::soc::triage::{Action, StatusKind};
use crate::store::GroupFilter;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use socfed_runtime::api_token::Scope;
use ulid::Ulid;

/// Most records one read returns.
const MAX_LIMIT: u32 = 10_000;

fn limit(asked: Option<u32>) -> usize {
    match asked {
        None | Some(0) => 100,
        Some(n) => n.min(MAX_LIMIT) as usize,
    }
}

fn group_id(raw: &str) -> Result<Ulid, AgentError> {
    Ulid::from_string(raw).map_err(|_| {
        AgentError::invalid(format!(
            "{:?} is not an alert group id (26-character ULID)",
            raw.chars().take(40).collect::<String>()
        ))
    })
}

impl ApiState {
    /// Runs blocking store work off the async workers.
    pub(super) async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&SocService) -> Result<T, AgentError> + Send + 'static,
    ) -> Result<T, AgentError> {
        crate::service::blocking(&self.soc, work).await
    }
}

fn filter(query: AlertsQuery) -> Result<GroupFilter, AgentError> {
    let kinds: Vec<StatusKind> = match query.status.as_deref() {
        None | Some("open") => StatusKind::ALL
            .into_iter()
            .filter(|k| k.is_open())
            .collect(),
        Some("all") => StatusKind::ALL.to_vec(),
        Some(word) => vec![
            StatusKind::ALL
                .into_iter()
                .find(|k| k.as_str() == word)
                .ok_or_else(|| {
                    AgentError::invalid("status: new, acknowledged, closed, promoted, open or all")
                })?,
        ],
    };
    let tier = match query.tier {
        None => None,
        Some(n) => Some(Tier::from_number(n).ok_or_else(|| AgentError::invalid("tier: 1 to 4"))?),
    };
    Ok(GroupFilter {
        statuses: GroupFilter::status_codes(&kinds),
        tier,
        assignee: query.assignee.filter(|a| !a.is_empty()),
        limit: limit(query.limit),
    })
}

/// Alert groups, as `site-agent alerts list` filters them (open ones by default).
#[utoipa::path(
    get,
    path = "/alerts",
    tag = "alerts",
    params(AlertsQuery),
    responses(
        (status = 200, description = "Alert groups, by the triage queue's order", body = [AlertGroupDto]),
        (status = 400, description = "A bad filter", body = ErrorBody),
        (status = 401, description = "No, unknown, expired or revoked credential", body = ErrorBody),
        (status = 403, description = "The token lacks the `read` scope, or the role refuses", body = ErrorBody),
    ),
    security(("bearer" = ["read"]), ("client_certificate" = []))
)]
pub async fn list_alerts(
    State(state): State<ApiState>,
    credentials: Credentials,
    query: Result<Query<AlertsQuery>, QueryRejection>,
) -> Result<Json<Vec<AlertGroupDto>>, AgentError> {
    let actor = state.caller(credentials, Scope::Read).await?;
    let Query(query) = query.map_err(super::bad_query)?;
    let filter = filter(query)?;
    let groups = state
        .blocking(move |s| s.list_groups(&actor, &filter))
        .await?;
    let policy = &state.soc.settings.sla;
    Ok(Json(
        groups
            .iter()
            .map(|g| AlertGroupDto::new(g, policy, None))
            .collect(),
    ))
}

/// One alert group with its original record.
#[utoipa::path(
    get,
    path = "/alerts/{id}",
    tag = "alerts",
    params(("id" = String, Path, description = "The alert group's id (ULID)")),
    responses(
        (status = 200, description = "The group", body = AlertGroupDto),
        (status = 401, description = "No, unknown, expired or revoked credential", body = ErrorBody),
        (status = 403, description = "The token lacks the `read` scope, or the role refuses", body = ErrorBody),
        (status = 404, description = "No such group", body = ErrorBody),
    ),
    security(("bearer" = ["read"]), ("client_certificate" = []))
)]
pub async fn get_alert(
    State(state): State<ApiState>,
    credentials: Credentials,
    Path(id): Path<String>,
) -> Result<Json<AlertGroupDto>, AgentError> {
    let actor = state.caller(credentials, Scope::Read).await?;
    let id = group_id(&id)?;
    let (group, sample) = state
        .blocking(move |s| {
            let group = s.get_group(&actor, id)?;
            let sample = s.group_samples(std::slice::from_ref(&group)).pop();
            Ok((group, sample))
        })
        .await?;
    Ok(Json(AlertGroupDto::new(
        &group,
        &state.soc.settings.sla,
        sample,
    )))
}

async fn act(
    state: ApiState,
    credentials: Credentials,
    id: String,
    action: Action,
) -> Result<Json<AlertGroupDto>, AgentError> {
    let actor = state.caller(credentials, Scope::Triage).await?;
    let id = group_id(&id)?;
    let group = state.blocking(move |s| s.act(&actor, id, action)).await?;
    Ok(Json(AlertGroupDto::new(
        &group,
        &state.soc.settings.sla,
        None,
    )))
}

/// Acknowledges an alert group (as `site-agent alerts ack`).
#[utoipa::path(
    post,
    path = "/alerts/{id}/ack",
    tag = "triage",
    params(("id" = String, Path, description = "The alert group's id (ULID)")),
    responses(
        (status = 200, description = "The group, acknowledged", body = AlertGroupDto),
        (status = 401, description = "No, unknown, expired or revoked credential", body = ErrorBody),
        (status = 403, description = "The token lacks the `triage` scope, or the role refuses (named)", body = ErrorBody),
        (status = 404, description = "No such group", body = ErrorBody),
        (status = 409, description = "The group's state refuses it", body = ErrorBody),
    ),
    security(("bearer" = ["triage"]), ("client_certificate" = []))
)]
pub async fn ack_alert(
    State(state): State<ApiState>,
    credentials: Credentials,
    Path(id): Path<String>,
) -> Result<Json<AlertGroupDto>, AgentError> {
    act(state, credentials, id, Action::Acknowledge).await
}

/// Escalates an alert group one tier (as `site-agent alerts escalate`).
#[utoipa::path(
    post,
    path = "/alerts/{id}/escalate",
    tag = "triage",
    params(("id" = String, Path, description = "The alert group's id (ULID)")),
    responses(
        (status = 200, description = "The group, one tier up", body = AlertGroupDto),
        (status = 401, description = "No, unknown, expired or revoked credential", body = ErrorBody),
        (status = 403, description = "The token lacks the `triage` scope, or the role refuses (named)", body = ErrorBody),
        (status = 404, description = "No such group", body = ErrorBody),
        (status = 409, description = "The group's state refuses it", body = ErrorBody),
    ),
    security(("bearer" = ["triage"]), ("client_certificate" = []))
)]
pub async fn escalate_alert(
    State(state): State<ApiState>,
    credentials: Credentials,
    Path(id): Path<String>,
) -> Result<Json<AlertGroupDto>, AgentError> {
    act(state, credentials, id, Action::Escalate).await
}

/// Local incidents, newest first, with the hub's view of escalated ones.
#[utoipa::path(
    get,
    path = "/incidents",
    tag = "incidents",
    params(LimitQuery),
    responses(
        (status = 200, description = "Local incidents", body = [IncidentDto]),
        (status = 401, description = "No, unknown, expired or revoked credential", body = ErrorBody),
        (status = 403, description = "The token lacks the `read` scope, or the role refuses", body = ErrorBody),
    ),
    security(("bearer" = ["read"]), ("client_certificate" = []))
)]
pub async fn list_incidents(
    State(state): State<ApiState>,
    credentials: Credentials,
    query: Result<Query<LimitQuery>, QueryRejection>,
) -> Result<Json<Vec<IncidentDto>>, AgentError> {
    let actor = state.caller(credentials, Scope::Read).await?;
    let Query(query) = query.map_err(super::bad_query)?;
    let limit = limit(query.limit);
    let incidents = state
        .blocking(move |s| s.incidents_with_hub(&actor, limit))
        .await?;
    Ok(Json(
        incidents
            .iter()
            .map(|(i, hub)| IncidentDto::new(i, hub.as_ref()))
            .collect(),
    ))
}

/// Recent notifications (unassigned alerts, SLA breaches, escalations), newest first.
#[utoipa::path(
    get,
    path = "/notifications",
    tag = "notifications",
    params(LimitQuery),
    responses(
        (status = 200, description = "Notifications", body = [NotificationDto]),
        (status = 401, description = "No, unknown, expired or revoked credential", body = ErrorBody),
        (status = 403, description = "The token lacks the `read` scope, or the role refuses", body = ErrorBody),
    ),
    security(("bearer" = ["read"]), ("client_certificate" = []))
)]
pub async fn list_notifications(
    State(state): State<ApiState>,
    credentials: Credentials,
    query: Result<Query<LimitQuery>, QueryRejection>,
) -> Result<Json<Vec<NotificationDto>>, AgentError> {
    let actor = state.caller(credentials, Scope::Read).await?;
    let Query(query) = query.map_err(super::bad_query)?;
    let limit = limit(query.limit);
    let notifications = state
        .blocking(move |s| s.notifications(&actor, limit))
        .await?;
    Ok(Json(
        notifications.iter().map(NotificationDto::new).collect(),
    ))
}
