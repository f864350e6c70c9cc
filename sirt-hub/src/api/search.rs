//! `GET /api/v1/incidents/search`: the incident search (`Operator.SearchIncidents`) over
//! HTTP with the `read` scope: the same checked request (`service::search`), the same
//! TLP:RED rule inside the join, items as `sirt-hub incidents search -o json` prints them and
//! the opaque cursor of the next page.

use super::auth::Presented;
use super::error::ApiError;
use super::{Page, json_page};
use crate::service::search::HubSearch;
use crate::view::{convert, read};
use crate::web::WebState;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use socfed_proto::search::RawQuery;
use socfed_runtime::api_token::Scope;

/// The filters (one value each; every one given must match), the page size and cursor.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// An indicator as `kind:value`.
    pub indicator: Option<String>,
    /// An ATT&CK technique id.
    pub technique: Option<String>,
    /// Words (up to 8) that must all be in the title (or notes).
    pub text: Option<String>,
    /// 1 to 200; 50 when absent.
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/incidents/search", tag = "incidents", params(SearchQuery),
    responses((status = 200, body = Page), (status = 400, body = super::error::ErrorBody),
        (status = 401, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn search(
    State(state): State<WebState>,
    presented: Presented,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<Page>, ApiError> {
    let reader = presented.caller(&state, Scope::Read).await?.reader(&state);
    let Query(q) = q.map_err(super::error::bad_query)?;
    let SearchQuery {
        indicator,
        technique,
        text,
        limit,
        cursor,
    } = q;
    let raw = RawQuery {
        indicators: indicator.into_iter().collect(),
        techniques: technique.into_iter().collect(),
        text,
        ..Default::default()
    };
    let HubSearch {
        query,
        before,
        limit,
    } = HubSearch::of_raw(&raw, cursor.as_deref().unwrap_or(""), limit.unwrap_or(0))
        .map_err(ApiError)?;
    let (records, next) = read(&state.store, move |s| {
        reader.search_incidents(s, &query, before, limit)
    })
    .await?;
    let items = records
        .iter()
        .map(|r| crate::cli::render::incident_json(&convert::incident(r)))
        .collect();
    Ok(json_page(
        items,
        next.map(|id| socfed_proto::search::cursor_text(id.to_bytes())),
    ))
}
