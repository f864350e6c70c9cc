//! `/api/v1` sites, directives, hunts and communications: the same reads (with the TLP:RED
//! rule of `access::reader`) and commands as `Operator.ListSites`, the `Response` service and
//! `Communications.List`; JSON as the CLI's `-o json` prints them.

use super::auth::Presented;
use super::error::{ApiError, bad_body};
use super::incidents::id;
use super::{Page, json_page, limit};
use crate::access::Api;
use crate::response::order::DirectiveOrder;
use crate::service::Commands;
use crate::store::DirectiveFilter;
use crate::view::{read, response_convert as convert};
use crate::web::WebState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde_json::Value;
use socfed_runtime::api_token::Scope;
use std::collections::BTreeMap;

#[utoipa::path(get, path = "/api/v1/sites", tag = "sites",
    responses((status = 200, body = Page)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn sites(
    State(state): State<WebState>,
    presented: Presented,
) -> Result<Json<Page>, ApiError> {
    presented.caller(&state, Scope::Read).await?;
    let sites =
        crate::view::sites::site_overview(&state.store, &state.live, &state.enrolled.sites()?)
            .await?;
    let items = sites.iter().map(crate::cli::render::site_json).collect();
    Ok(json_page(items, None))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectivesQuery {
    /// The incident whose directives and tasks to list (required).
    pub incident: String,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/directives", tag = "response", params(DirectivesQuery),
    responses((status = 200, body = Page)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn directives(
    State(state): State<WebState>,
    presented: Presented,
    q: Result<Query<DirectivesQuery>, QueryRejection>,
) -> Result<Json<Page>, ApiError> {
    let reader = presented.caller(&state, Scope::Read).await?.reader(&state);
    let Query(q) = q.map_err(super::error::bad_query)?;
    let incident = id(&q.incident, "an incident")?;
    let after = q.cursor.as_deref().map(|c| id(c, "a cursor")).transpose()?;
    let limit = limit(q.limit)?;
    // Refused as reading the incident is: an empty page would still tell its total.
    reader.may_read_id(&state.store, incident).await?;
    let filter = DirectiveFilter {
        incident: Some(incident),
        site: None,
        hunt: None,
    };
    let page = read(&state.store, move |s| {
        reader.directives_page(s, &filter, after, limit)
    })
    .await?;
    let now = socfed_proto::now_millis();
    let items = page
        .directives
        .iter()
        .map(|d| crate::cli::response::directive_json(&convert::directive_status(d, now)))
        .collect();
    Ok(json_page(items, page.next.map(|id| id.to_string())))
}

/// A directive to sites of an incident, as `sirt-hub directive issue` sends it.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    pub incident: String,
    /// Site ids, or `["all"]` for every enrolled site.
    pub sites: Vec<String>,
    /// e.g. `isolate-host`, `block-indicator`, `collect-triage`.
    pub kind: String,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// 0: the default expiry.
    #[serde(default)]
    pub expires_in_s: u64,
}

#[utoipa::path(post, path = "/api/v1/directives", tag = "response", request_body = IssueBody,
    responses((status = 200, body = Page), (status = 403, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn issue(
    State(state): State<WebState>,
    presented: Presented,
    body: Result<Json<IssueBody>, JsonRejection>,
) -> Result<Json<Page>, ApiError> {
    let caller = presented.caller(&state, Scope::Respond).await?;
    let acting = caller.acting(&state, Api::IssueDirective)?;
    let Json(body) = body.map_err(bad_body)?;
    let incident = id(&body.incident, "an incident")?;
    let order = DirectiveOrder {
        incident,
        sites: body.sites,
        kind: body.kind,
        params: body.params,
        expires_in_s: body.expires_in_s,
    };
    // The command checks the role and the read rule, as for every transport.
    let by = crate::service::response::Orderer {
        store: &state.store,
        roles: &state.roles,
        acting: &acting,
    };
    let done = Commands::on(&state.ingest)
        .issue_directive(&by, order, &state.enrolled.sites()?)
        .await?;
    let now = socfed_proto::now_millis();
    let items = done
        .iter()
        .map(|d| crate::cli::response::directive_json(&convert::directive_status(d, now)))
        .collect();
    Ok(json_page(items, None))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/hunts", tag = "response", params(PageQuery),
    responses((status = 200, body = Page)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn hunts(
    State(state): State<WebState>,
    presented: Presented,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<Page>, ApiError> {
    let reader = presented.caller(&state, Scope::Read).await?.reader(&state);
    let Query(q) = q.map_err(super::error::bad_query)?;
    let before = q.cursor.as_deref().map(|c| id(c, "a cursor")).transpose()?;
    let limit = limit(q.limit)?;
    let page = read(&state.store, move |s| reader.hunts_page(s, before, limit)).await?;
    let now = socfed_proto::now_millis();
    let items = page
        .hunts
        .iter()
        .map(|(hunt, sweeps)| {
            let mut listed =
                convert::hunt(hunt, sweeps, |site| state.live.get(site).is_some(), now);
            // A listing states the counts; the hits are the hunt's own read.
            for site in &mut listed.sites {
                site.hits.clear();
            }
            crate::cli::response::hunt_json(&listed)
        })
        .collect();
    Ok(json_page(items, page.next.map(|id| id.to_string())))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommsQuery {
    /// The incident whose communications to list (required).
    pub incident: String,
}

#[utoipa::path(get, path = "/api/v1/comms", tag = "response", params(CommsQuery),
    responses((status = 200, body = Page)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn comms(
    State(state): State<WebState>,
    presented: Presented,
    q: Result<Query<CommsQuery>, QueryRejection>,
) -> Result<Json<Page>, ApiError> {
    let reader = presented.caller(&state, Scope::Read).await?.reader(&state);
    let Query(q) = q.map_err(super::error::bad_query)?;
    let incident = id(&q.incident, "an incident")?;
    reader.may_read_id(&state.store, incident).await?;
    let records = read(&state.store, move |s| s.comms(incident)).await?;
    let items: Vec<Value> = records
        .iter()
        .map(|r| crate::cli::comms::comm_json(&crate::view::comms::communication(r)))
        .collect();
    Ok(json_page(items, None))
}
