//! The OpenAPI document of `/api/v1`, generated from the handlers' and DTOs' derives
//! (`utoipa`), so it cannot describe a route the router does not serve or miss one: a test
//! compares its paths with [`super::ROUTES`].

use super::dto;
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "socfed site agent API",
        description = "The local SOC of one site over HTTP/JSON: alert intake for log shippers, alert groups, local incidents, notifications. Served under /api/v1 on the agent's web listener (HTTPS)."
    ),
    paths(
        super::intake::post_alerts,
        super::read::list_alerts,
        super::search::search_alerts,
        super::read::get_alert,
        super::read::ack_alert,
        super::read::escalate_alert,
        super::read::list_incidents,
        super::read::list_notifications,
        super::checklists::get_checklist,
        super::checklists::post_step,
        document,
        super::casework::list_notes,
        super::casework::add_note,
        super::casework::remove_group,
        super::casework::kpis,
    ),
    components(schemas(
        dto::ErrorBody,
        dto::ErrorDetail,
        dto::IntakeReport,
        dto::Rejection,
        dto::AlertGroupDto,
        dto::Entities,
        dto::CommentDto,
        dto::IncidentDto,
        super::checklists::StepBody,
        dto::HubViewDto,
        dto::NotificationDto,
        super::casework::NoteDto,
        super::casework::NewNote,
        super::casework::KpisDto,
        super::search::SearchPage,
    )),
    modifiers(&Security),
    servers((url = "/api/v1"))
)]
pub struct ApiDoc;

/// The two ways in: an API token (`site-agent tokens create`), or the operator's client
/// certificate on the TLS connection (OpenAPI's `mutualTLS` scheme).
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("socfed_<id>_<secret>")
                    .description(Some(
                        "An API token minted by the SOC manager (`site-agent tokens create NAME --scope SCOPE --expires 30d`); scopes: read, intake, triage",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client_certificate",
            SecurityScheme::MutualTls {
                description: Some(
                    "An operator certificate of the organisation PKI, its name in the site roster"
                        .into(),
                ),
                extensions: None,
            },
        );
    }
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every route the router serves is in the document, and nothing else is.
    #[test]
    fn the_document_describes_exactly_the_routes() {
        let doc = ApiDoc::openapi();
        let mut documented = BTreeSet::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                ("get", &item.get),
                ("post", &item.post),
                ("put", &item.put),
                ("delete", &item.delete),
                ("patch", &item.patch),
            ] {
                if let Some(op) = op {
                    assert!(
                        !op.responses.responses.is_empty(),
                        "{method} {path} lists no responses"
                    );
                    documented.insert((method.to_owned(), path.clone()));
                }
            }
        }
        let served: BTreeSet<(String, String)> = super::super::ROUTES
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        assert_eq!(documented, served);
        let json = serde_json::to_value(&doc).unwrap_or_default();
        assert!(json["components"]["securitySchemes"]["bearer"].is_object());
    }
}
