//! `GET /api/v1/alerts/search`: the alert search (`service::search`) over HTTP, with the
//! `read` scope, the same filters as `site-agent alerts search` (one value each here) and
//! the same opaque cursor.

use super::ApiState;
use super::auth::Credentials;
use super::dto::{AlertGroupDto, ErrorBody};
use crate::error::AgentError;
use crate::service::search::AlertSearch;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use socfed_proto::search::RawQuery;
use socfed_runtime::api_token::Scope;
use utoipa::{IntoParams, ToSchema};

/// The filters of a search: every one given must match.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// An indicator the group saw, as `kind:value`.
    pub indicator: Option<String>,
    pub host: Option<String>,
    pub user: Option<String>,
    /// An ATT&CK technique id (T1059, T1059.001).
    pub technique: Option<String>,
    /// Words (up to 8) that must all appear in the title or the comments.
    pub text: Option<String>,
    /// 1 to 200; 50 when absent.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of results.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SearchPage {
    /// Newest first.
    pub groups: Vec<AlertGroupDto>,
    /// Absent on the last page.
    pub next_cursor: Option<String>,
}

/// Alert groups by indicator, host, user, technique and words, newest first, paged.
#[utoipa::path(
    get,
    path = "/alerts/search",
    tag = "alerts",
    params(SearchQuery),
    responses(
        (status = 200, description = "One page of matching alert groups", body = SearchPage),
        (status = 400, description = "No filter, a bad filter, limit or cursor", body = ErrorBody),
        (status = 401, description = "No, unknown, expired or revoked credential", body = ErrorBody),
        (status = 403, description = "The token lacks the `read` scope, or the role refuses", body = ErrorBody),
    ),
    security(("bearer" = ["read"]), ("client_certificate" = []))
)]
pub async fn search_alerts(
    State(state): State<ApiState>,
    credentials: Credentials,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<SearchPage>, AgentError> {
    let actor = state.caller(credentials, Scope::Read).await?;
    let Query(query) = query.map_err(super::bad_query)?;
    let SearchQuery {
        indicator,
        host,
        user,
        technique,
        text,
        limit,
        cursor,
    } = query;
    let raw = RawQuery {
        indicators: indicator.into_iter().collect(),
        hosts: host.into_iter().collect(),
        users: user.into_iter().collect(),
        techniques: technique.into_iter().collect(),
        text,
    };
    let search = AlertSearch::parse(&raw, cursor.as_deref().unwrap_or(""), limit.map(u64::from))?;
    let page = state
        .blocking(move |s| s.search_alerts(&actor, &search))
        .await?;
    let policy = &state.soc.settings.sla;
    Ok(Json(SearchPage {
        groups: page
            .groups
            .iter()
            .map(|g| AlertGroupDto::new(g, policy, None))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}
