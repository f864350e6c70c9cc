//! `/api/v1/sites/enrolled`: the enrolled sites, as the `SiteEnrolment` gRPC service serves
//! them (the list with the `read` scope; enrol and remove with `respond` and the roster
//! keepers' roles, admin or CISO); JSON as `sirt-hub sites list -o json` prints it.
//!
//! Why `respond`: it is the scope of every change the hub's API makes (there is no narrower
//! administrative scope), and a token acts as the operator who minted it, so the matrix's
//! admin-or-CISO rule still decides; a `read` token never enrols.

use super::auth::Presented;
use super::error::{ApiError, bad_body};
use super::{Page, json_page};
use crate::access::Api;
use crate::cli::sites::site_json;
use crate::enrolment::{listed, wire};
use crate::service::Commands;
use crate::web::WebState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use serde_json::Value;
use socfed_runtime::api_token::Scope;

/// A site to enrol.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolBody {
    /// The site id its certificate carries (a-z, 0-9, '-', at most 63).
    pub site: String,
    /// A display name, at most 120 characters.
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Also the sites removed since their enrolment.
    #[serde(default)]
    pub removed: bool,
}

#[utoipa::path(get, path = "/api/v1/sites/enrolled", tag = "sites", params(ListQuery),
    responses((status = 200, body = Page)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn list(
    State(state): State<WebState>,
    presented: Presented,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page>, ApiError> {
    presented.caller(&state, Scope::Read).await?;
    let removed = query.removed;
    let sites = crate::view::read(&state.store, move |s| listed(s, removed)).await?;
    Ok(json_page(sites.iter().map(site_json).collect(), None))
}

#[utoipa::path(post, path = "/api/v1/sites/enrolled", tag = "sites", request_body = EnrolBody,
    responses((status = 200, body = Object), (status = 403, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn enrol(
    State(state): State<WebState>,
    presented: Presented,
    body: Result<Json<EnrolBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let caller = presented.caller(&state, Scope::Respond).await?;
    let acting = caller.acting(&state, Api::EnrolSites)?;
    let Json(body) = body.map_err(bad_body)?;
    let (site, record) = Commands::on(&state.ingest)
        .enrol_site(&acting, &body.site, &body.name)
        .await?;
    Ok(Json(site_json(&wire(&site, &record))))
}

#[utoipa::path(delete, path = "/api/v1/sites/enrolled/{site}", tag = "sites",
    params(("site" = String, Path, description = "site id")),
    responses((status = 200, body = Object), (status = 403, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn remove(
    State(state): State<WebState>,
    presented: Presented,
    Path(site): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let caller = presented.caller(&state, Scope::Respond).await?;
    let acting = caller.acting(&state, Api::EnrolSites)?;
    let (site, record) = Commands::on(&state.ingest)
        .remove_site(&acting, &site, &state.live)
        .await?;
    Ok(Json(site_json(&wire(&site, &record))))
}
