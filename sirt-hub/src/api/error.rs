//! The API's error answer: the hub's one HTTP mapping of [`HubError`] (status and the stable
//! code in `x-socfed-error`, `socfed_runtime::error_code`), with a JSON body
//! `{"error": {"code": …, "message": …}}` a client can read without parsing text.

use crate::error::HubError;
use axum::response::{IntoResponse, Response};

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable: `invalid_argument`, `not_found`, `unauthenticated`, `permission_denied`, …
    pub code: String,
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError(pub HubError);

impl From<HubError> for ApiError {
    fn from(e: HubError) -> Self {
        Self(e)
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        Self(HubError::storage(&e))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let kind = self.0.kind();
        let body = ErrorBody {
            error: ErrorDetail {
                code: kind.code().into(),
                message: self.0.to_string(),
            },
        };
        (
            kind.http_status(),
            [(socfed_runtime::error_code::HTTP_ERROR_HEADER, kind.code())],
            axum::Json(body),
        )
            .into_response()
    }
}

/// 404 for a path under `/api/v1` that is not an endpoint, as JSON.
pub async fn no_such_endpoint() -> ApiError {
    ApiError(HubError::not_found(
        "no such endpoint; /api/v1/openapi.json lists them",
    ))
}

/// A JSON body that does not parse, or is over [`super::BODY_LIMIT`]: 400 through the one
/// mapping (`invalid_argument`), never a 500.
pub fn bad_body(rejection: axum::extract::rejection::JsonRejection) -> ApiError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError(HubError::invalid(format!(
            "the request body is over the limit of {} bytes",
            super::BODY_LIMIT
        )));
    }
    ApiError(HubError::invalid(format!(
        "the request body is not the JSON this endpoint takes: {}",
        rejection.body_text()
    )))
}

/// Query parameters that do not parse (a missing `incident`, a `limit` that is no number):
/// 400, after the caller was authenticated.
pub fn bad_query(rejection: axum::extract::rejection::QueryRejection) -> ApiError {
    ApiError(HubError::invalid(rejection.body_text()))
}
