//! The workbench's threat hunts: start one (from the hunts page, or from an incident's page
//! for its indicators) and attach a hunt's hits to an incident. Each handler is an adapter:
//! the checks every form passes are `forms.rs`; it reads the fields as `sirt-hub hunt start`
//! and `hunt attach` take them (`TYPE:VALUE` indicators, sites, lookback, watch duration,
//! time basis) and runs the same command as the gRPC `Response` service
//! (`service::Commands::start_hunt`, `attach_hunt`: the access matrix, the read rule, the
//! hunt's policy). Each site's progress shows on the hunts page, as `hunt status` prints it.

use super::WebState;
use super::auth::Viewer;
use super::forms::{self, Back, Body, Posted};
use super::respond::orderer;
use crate::error::HubError;
use crate::response::hunt::TimeBasis;
use crate::response::order::HuntOrder;
use crate::service::Commands;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use socfed_proto::vocab::Indicator;
use ulid::Ulid;

/// The hunt an operator asked for, as the start command takes it.
fn order(posted: &Posted, incident: Option<Ulid>) -> Result<HuntOrder, HubError> {
    let indicators = posted
        .one("iocs")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| Indicator::parse_typed(line).map_err(|e| HubError::invalid(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HuntOrder {
        incident,
        indicators,
        sites: posted.all("site"),
        lookback_s: posted.hours("lookback_h")?,
        duration_s: posted.hours("duration_h")?,
        basis: TimeBasis::parse(posted.one("time")).map_err(HubError::invalid)?,
        search: None,
    })
}

/// `POST /hunts` with `incident` (optional), `iocs` (`TYPE:VALUE` lines), `site` (repeated;
/// none is every site), `lookback_h`, `duration_h`, `time` (`observed`, `received`).
pub async fn start(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Response {
    let posted = match forms::accept(&state, &viewer, &Back::hunts(), &headers, &uri, body) {
        Ok(posted) => posted,
        Err(response) => return *response,
    };
    let (incident, back) = match posted.one("incident") {
        "" => (None, Back::hunts()),
        raw => match Ulid::from_string(raw) {
            Ok(id) => (Some(id), Back::incident(raw)),
            Err(_) => {
                let error = HubError::invalid(format!("{raw:?} is not an incident id"));
                return forms::refused_at(&viewer, &Back::hunts(), &error);
            }
        },
    };
    let result = match order(&posted, incident) {
        Ok(order) => {
            async {
                let enrolled = state.enrolled.sites()?;
                Commands::on(&state.ingest)
                    .start_hunt(&orderer(&state, &posted), order, &enrolled)
                    .await
            }
            .await
        }
        Err(error) => Err(error),
    };
    // Done, the hunts page shows each site's progress.
    forms::finish_at(&state, &viewer, "/hunts", &back, result)
}

/// `POST /hunts/{hunt}/attach` with `incident`: the hunt's hits become that incident's.
pub async fn attach(
    State(state): State<WebState>,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Path(hunt): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Response {
    let back = Back::hunts();
    let posted = match forms::accept(&state, &viewer, &back, &headers, &uri, body) {
        Ok(posted) => posted,
        Err(response) => return *response,
    };
    let Ok(hunt) = Ulid::from_string(&hunt) else {
        return forms::refused_at(&viewer, &back, &HubError::not_found("No such hunt."));
    };
    let raw = posted.one("incident");
    let Ok(incident) = Ulid::from_string(raw) else {
        let error = HubError::invalid(format!(
            "{raw:?} is not an incident id (26-character ULID); copy it from the incident's page"
        ));
        return forms::refused_at(&viewer, &back, &error);
    };
    let result = Commands::on(&state.ingest)
        .attach_hunt(&orderer(&state, &posted), hunt, incident)
        .await;
    forms::finish_at(
        &state,
        &viewer,
        &format!("/incidents/{incident}"),
        &back,
        result,
    )
}
