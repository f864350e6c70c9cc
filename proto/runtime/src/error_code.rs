//! The kinds of refusal both services tell their callers, each with a stable code, one gRPC
//! code and one HTTP status. A service's own error type (the hub's `HubError`, the agent's
//! `AgentError`) says which [`ErrorKind`] each of its errors is; the mapping to the wire is
//! here, once for both, so the same refusal reads the same from either service.
//!
//! The code travels beside the human message, which is kept whole: gRPC metadata
//! [`ERROR_CODE_KEY`] and HTTP header [`HTTP_ERROR_HEADER`]. Tools match on the code, never on
//! the message.

pub use axum::http::StatusCode;
use tonic::{Code, Status};

/// gRPC metadata naming the error's stable code.
pub const ERROR_CODE_KEY: &str = "socfed-error";
/// HTTP header naming the error's stable code.
pub const HTTP_ERROR_HEADER: &str = "x-socfed-error";

/// What kind of refusal or failure a caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request itself is wrong (a field, an id, a combination).
    Invalid,
    /// Nothing by that id (or nothing the caller may know of).
    NotFound,
    /// No verified identity on the connection.
    Unauthenticated,
    /// The caller's role or membership does not allow it.
    Denied,
    /// The state of what it acts on refuses it.
    Refused,
    /// A limit was reached.
    Exhausted,
    /// The request itself is over a size limit (an HTTP body, its decompressed size, its
    /// record count): send less at once.
    TooLarge,
    /// The request was abandoned; the caller may retry.
    Aborted,
    /// The service is shutting down or cannot serve now; retry shortly.
    Unavailable,
    /// The service's store is on a full disk: nothing in the request was stored.
    StorageDiskFull,
    /// The service's store failed: nothing in the request was stored.
    StorageUnavailable,
    /// A defect of the service itself.
    Internal,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 12] = [
        ErrorKind::Invalid,
        ErrorKind::NotFound,
        ErrorKind::Unauthenticated,
        ErrorKind::Denied,
        ErrorKind::Refused,
        ErrorKind::Exhausted,
        ErrorKind::TooLarge,
        ErrorKind::Aborted,
        ErrorKind::Unavailable,
        ErrorKind::StorageDiskFull,
        ErrorKind::StorageUnavailable,
        ErrorKind::Internal,
    ];

    /// The stable code: what kind of refusal, never the message.
    pub fn code(self) -> &'static str {
        match self {
            Self::Invalid => "invalid_argument",
            Self::NotFound => "not_found",
            Self::Unauthenticated => "unauthenticated",
            Self::Denied => "permission_denied",
            Self::Refused => "failed_precondition",
            Self::Exhausted => "resource_exhausted",
            Self::TooLarge => "too_large",
            Self::Aborted => "aborted",
            Self::Unavailable => "unavailable",
            Self::StorageDiskFull => "storage_disk_full",
            Self::StorageUnavailable => "storage_unavailable",
            Self::Internal => "internal",
        }
    }

    /// The one mapping to gRPC codes.
    pub fn grpc_code(self) -> Code {
        match self {
            Self::Invalid => Code::InvalidArgument,
            Self::NotFound => Code::NotFound,
            Self::Unauthenticated => Code::Unauthenticated,
            Self::Denied => Code::PermissionDenied,
            Self::Refused => Code::FailedPrecondition,
            Self::Exhausted | Self::TooLarge | Self::StorageDiskFull => Code::ResourceExhausted,
            Self::Aborted => Code::Aborted,
            Self::Unavailable | Self::StorageUnavailable => Code::Unavailable,
            Self::Internal => Code::Internal,
        }
    }

    /// The one mapping to HTTP statuses.
    pub fn http_status(self) -> StatusCode {
        match self {
            Self::Invalid => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Denied => StatusCode::FORBIDDEN,
            Self::Refused | Self::Aborted => StatusCode::CONFLICT,
            Self::Exhausted => StatusCode::TOO_MANY_REQUESTS,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable | Self::StorageUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::StorageDiskFull => StatusCode::INSUFFICIENT_STORAGE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A gRPC status of this kind: `message` whole, the stable code in [`ERROR_CODE_KEY`].
    pub fn status(self, message: impl Into<String>) -> Status {
        let mut status = Status::new(self.grpc_code(), message);
        status.metadata_mut().insert(
            ERROR_CODE_KEY,
            tonic::metadata::MetadataValue::from_static(self.code()),
        );
        status
    }

    /// An HTTP answer of this kind: its status, the stable code in [`HTTP_ERROR_HEADER`], and
    /// `message` as plain text.
    pub fn http_response(self, message: String) -> axum::response::Response {
        use axum::response::IntoResponse;
        (
            self.http_status(),
            [(HTTP_ERROR_HEADER, self.code())],
            message,
        )
            .into_response()
    }
}

/// The stable code a status carries, if a socfed service set one.
pub fn code_of(status: &Status) -> Option<&str> {
    status
        .metadata()
        .get(ERROR_CODE_KEY)
        .and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_travel_with_the_message_whole() {
        let codes: std::collections::BTreeSet<&str> =
            ErrorKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
        for kind in ErrorKind::ALL {
            let status = kind.status("what happened: and why");
            assert_eq!(status.code(), kind.grpc_code());
            assert_eq!(status.message(), "what happened: and why");
            assert_eq!(code_of(&status), Some(kind.code()));
            let response = kind.http_response("text".into());
            assert_eq!(response.status(), kind.http_status());
            assert_eq!(
                response
                    .headers()
                    .get(HTTP_ERROR_HEADER)
                    .and_then(|v| v.to_str().ok()),
                Some(kind.code())
            );
        }
    }
}
