//! `GET /api/v1/incidents/{id}/export?format=stix|ocsf|misp[&tlp_max=green]`: an incident as
//! a STIX 2.1 bundle (`application/stix+json;version=2.1`), an OCSF 1.3.0 Incident Finding or
//! a MISP event (`application/json`), redacted to `tlp_max` (default: the incident's own
//! marking). Read scope; the same store read and TLP:RED rule as `GET /api/v1/incidents/{id}`.
//! [`response`] is the one answer the dashboard's download links give too.

use super::auth::Presented;
use super::error::ApiError;
use crate::access::reader::Reader;
use crate::error::HubError;
use crate::incident::IncidentRecord;
use crate::intel::export::{self, ExportInput, Format, Producer};
use crate::view::{convert, read};
use crate::web::WebState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use socfed_proto::pb;
use socfed_proto::vocab::Tlp;
use socfed_runtime::api_token::Scope;

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// stix, ocsf or misp.
    pub format: String,
    /// The most sensitive marking the export may carry: clear, green, amber, amber+strict,
    /// red. Facts marked above it are withheld. Default: the incident's own marking.
    pub tlp_max: Option<String>,
}

/// The format and TLP asked for, checked.
pub(crate) fn asked(
    format: &str,
    tlp_max: Option<&str>,
) -> Result<(Format, Option<Tlp>), HubError> {
    let format = format.parse::<Format>().map_err(HubError::invalid)?;
    // `amber+strict` typed into a URL arrives as `amber strict` (a query's `+` is a space).
    let tlp = tlp_max
        .map(|t| t.replace(' ', "+").parse::<Tlp>())
        .transpose()
        .map_err(|e| HubError::invalid(format!("tlp_max: {}", e.problem)))?;
    Ok((format, tlp))
}

/// What the reader may read of an incident's case work, for its export: its observables
/// and the notes of its work log (redacted ones as the reader sees them).
pub(crate) struct Casework {
    pub observables: Vec<pb::Observable>,
    pub notes: Vec<pb::IncidentNote>,
}

/// The case work of `record` as `reader` may read it (the API's and the incident page's
/// exports both call this).
pub(crate) async fn casework(
    state: &WebState,
    reader: &Reader,
    record: &IncidentRecord,
) -> Result<Casework, HubError> {
    let observables = {
        let (reader, record) = (reader.clone(), record.clone());
        read(&state.store, move |s| {
            crate::view::observables::listing(s, &reader, &record)
        })
        .await?
        .observables
    };
    let notes = crate::service::notes::list(&state.store, reader, &state.roles, record.id)
        .await?
        .iter()
        .map(crate::grpc::casework::note)
        .collect();
    Ok(Casework { observables, notes })
}

/// The export of `incident` as a download: its media type, a file name, and what was
/// withheld in `x-socfed-withheld` (a count; the reasons are the CLI's).
pub(crate) fn response(
    incident: &pb::HubIncident,
    casework: &Casework,
    format: Format,
    tlp_max: Option<Tlp>,
) -> Response {
    let input = ExportInput::from_incident(incident)
        .with_observables(&casework.observables)
        .with_notes(&casework.notes);
    let tlp_max = tlp_max.unwrap_or(input.tlp);
    let out = export::incident(&input, format, tlp_max, &Producer::default());
    let disposition = format!(
        "attachment; filename=\"{}\"",
        format.file_name(&incident.id).replace(
            |c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-',
            "_"
        )
    );
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::HeaderName::from_static("x-socfed-withheld"),
                out.withheld.len().to_string(),
            ),
        ],
        out.to_json(),
    )
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/incidents/{id}/export", tag = "incidents",
    params(("id" = String, Path, description = "incident id"), ExportQuery),
    responses(
        (status = 200, content_type = "application/stix+json;version=2.1", body = Object,
            description = "format=stix: a STIX 2.1 bundle"),
        (status = 400, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody)),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn incident(
    State(state): State<WebState>,
    presented: Presented,
    Path(raw): Path<String>,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let reader = presented.caller(&state, Scope::Read).await?.reader(&state);
    let Query(q) = q.map_err(super::error::bad_query)?;
    let (format, tlp_max) = asked(&q.format, q.tlp_max.as_deref()).map_err(ApiError)?;
    let id = super::incidents::id(&raw, "an incident")?;
    match read(&state.store, move |s| s.incident(id)).await? {
        Some(record) => {
            reader.may_read(&record)?;
            let casework = casework(&state, &reader, &record).await?;
            Ok(response(
                &convert::incident(&record),
                &casework,
                format,
                tlp_max,
            ))
        }
        None => Err(ApiError(HubError::not_found(format!(
            "no incident {id}; GET /api/v1/incidents lists them"
        )))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_and_marking_asked_are_checked() {
        assert_eq!(asked("STIX", None).ok(), Some((Format::Stix, None)));
        assert_eq!(
            asked("misp", Some("amber strict")).ok(),
            Some((Format::Misp, Some(Tlp::AmberStrict)))
        );
        assert!(asked("pdf", None).is_err());
        assert!(asked("ocsf", Some("purple")).is_err());
    }
}
