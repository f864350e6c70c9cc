//! The hub's one error type: every refusal or failure a caller can see, with a stable code,
//! mapped once to a gRPC status ([`From<HubError> for Status`](#impl-From<HubError>-for-Status))
//! and once to an HTTP status ([`HubError::http_status`], used by the dashboard). The human
//! message is kept whole by both; the code names the kind of refusal for tools that match on
//! it (gRPC metadata `socfed-error`, HTTP header `x-socfed-error`). The kinds, their codes and
//! both mappings are `socfed_runtime::error_code`, shared with the agent's `AgentError`.

use crate::store::StoreError;
use axum::http::StatusCode;
use socfed_runtime::error_code::ErrorKind;
use socfed_runtime::store_kit::kv::KvError;
use tonic::{Code, Status};

/// Metadata on a status caused by the hub's own storage, so that the refusal audit does not
/// record the caller as refused.
pub const STORAGE_FAILURE: &str = "socfed-storage-failure";

/// gRPC metadata and HTTP header naming the error's stable code (the same for the agent).
pub use socfed_runtime::error_code::{ERROR_CODE_KEY, HTTP_ERROR_HEADER};

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The request itself is wrong (a field, an id, a combination).
    #[error("{0}")]
    Invalid(String),
    /// Nothing by that id (or nothing the caller may know of).
    #[error("{0}")]
    NotFound(String),
    /// No verified identity on the connection.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller's role or membership does not allow it.
    #[error("{0}")]
    Denied(String),
    /// The state of what it acts on refuses it (a closed incident, an unflagged regime).
    #[error("{0}")]
    Refused(String),
    /// A limit was reached (a stream fell behind, too many of something).
    #[error("{0}")]
    Exhausted(String),
    /// The caller's request was abandoned (a watcher that fell behind); it may retry.
    #[error("{0}")]
    Aborted(String),
    /// The hub is shutting down or cannot serve now; retry shortly.
    #[error("{0}")]
    Unavailable(String),
    /// The hub's store failed: nothing in the request was stored or acknowledged.
    #[error("{message}")]
    Storage { message: String, disk_full: bool },
    /// A defect of the hub itself.
    #[error("{0}")]
    Internal(String),
}

impl HubError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound(message.into())
    }
    pub fn denied(message: impl Into<String>) -> Self {
        Self::Denied(message.into())
    }
    pub fn refused(message: impl Into<String>) -> Self {
        Self::Refused(message.into())
    }
    pub fn exhausted(message: impl Into<String>) -> Self {
        Self::Exhausted(message.into())
    }
    pub fn aborted(message: impl Into<String>) -> Self {
        Self::Aborted(message.into())
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::Unavailable(message.into())
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }

    /// A storage failure: logged once here, told to the caller without the store's details.
    /// A full disk says so and what to do; so does a store database that cannot be reached
    /// (transient: the hub keeps running, UNAVAILABLE / 503 tells the caller to retry).
    pub fn storage(error: &StoreError) -> Self {
        tracing::error!(%error, "storage failure while serving a request");
        let disk_full = is_disk_full(error);
        let message = if disk_full {
            "the hub's disk is full (no space left on the device holding its data_dir): nothing in this request was stored or acknowledged; the hub stops so that its supervisor restarts it: free space on that disk (sites keep their escalations queued and resend them)"
        } else if matches!(error, StoreError::Kv(KvError::Unavailable(_))) {
            "the hub's store is unreachable (its database cannot be reached): nothing in this request was stored or acknowledged; retry shortly"
        } else {
            "the hub could not read or write its store; retry shortly and check the hub logs"
        };
        Self::Storage {
            message: message.into(),
            disk_full,
        }
    }

    /// What kind of refusal this is; its code, gRPC code and HTTP status follow from it
    /// (`socfed_runtime::error_code`, shared with the agent).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Unauthenticated(_) => ErrorKind::Unauthenticated,
            Self::Denied(_) => ErrorKind::Denied,
            Self::Refused(_) => ErrorKind::Refused,
            Self::Exhausted(_) => ErrorKind::Exhausted,
            Self::Aborted(_) => ErrorKind::Aborted,
            Self::Unavailable(_) => ErrorKind::Unavailable,
            Self::Storage {
                disk_full: true, ..
            } => ErrorKind::StorageDiskFull,
            Self::Storage { .. } => ErrorKind::StorageUnavailable,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The stable code: what kind of refusal, never the message.
    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// The one mapping to gRPC codes.
    pub fn grpc_code(&self) -> Code {
        self.kind().grpc_code()
    }

    /// The one mapping to HTTP statuses.
    pub fn http_status(&self) -> StatusCode {
        self.kind().http_status()
    }
}

impl From<HubError> for Status {
    fn from(error: HubError) -> Self {
        let mut status = error.kind().status(error.to_string());
        if matches!(error, HubError::Storage { .. }) {
            status.metadata_mut().insert(
                STORAGE_FAILURE,
                tonic::metadata::MetadataValue::from_static("1"),
            );
        }
        status
    }
}

/// The dashboard's answer for an error: its HTTP status, the stable code in `x-socfed-error`,
/// and the message as plain text.
impl axum::response::IntoResponse for HubError {
    fn into_response(self) -> axum::response::Response {
        self.kind().http_response(self.to_string())
    }
}

impl From<socfed_proto::vocab::InvalidField> for HubError {
    fn from(error: socfed_proto::vocab::InvalidField) -> Self {
        Self::Invalid(error.to_string())
    }
}

/// A directive, task or hunt the hub will not issue: a site it does not know is `not_found`,
/// anything else about the order is `invalid_argument`.
impl From<crate::response::ResponseError> for HubError {
    fn from(error: crate::response::ResponseError) -> Self {
        match error {
            crate::response::ResponseError::UnknownSite(_) => Self::NotFound(error.to_string()),
            _ => Self::Invalid(error.to_string()),
        }
    }
}

/// No space (or quota) left where the store writes, whichever layer reported it.
fn is_disk_full(error: &StoreError) -> bool {
    use socfed_runtime::disk_full;
    match error {
        StoreError::Open { source, .. } | StoreError::Sled(source) => disk_full::sled(source),
        StoreError::Sync(e) => disk_full::io(e),
        StoreError::Journal(crate::store::journal::JournalError::Io { source, .. }) => {
            disk_full::io(source)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_one_grpc_code_one_http_status_and_a_stable_code_with_the_message_whole() {
        let cases = [
            (
                HubError::invalid("bad id"),
                Code::InvalidArgument,
                400,
                "invalid_argument",
            ),
            (
                HubError::not_found("no incident X"),
                Code::NotFound,
                404,
                "not_found",
            ),
            (
                HubError::Unauthenticated("no cert".into()),
                Code::Unauthenticated,
                401,
                "unauthenticated",
            ),
            (
                HubError::denied("needs ciso"),
                Code::PermissionDenied,
                403,
                "permission_denied",
            ),
            (
                HubError::refused("closed"),
                Code::FailedPrecondition,
                409,
                "failed_precondition",
            ),
            (
                HubError::exhausted("too many"),
                Code::ResourceExhausted,
                429,
                "resource_exhausted",
            ),
            (
                HubError::Aborted("fell behind".into()),
                Code::Aborted,
                409,
                "aborted",
            ),
            (
                HubError::unavailable("stopping"),
                Code::Unavailable,
                503,
                "unavailable",
            ),
            (
                HubError::Storage {
                    message: "full".into(),
                    disk_full: true,
                },
                Code::ResourceExhausted,
                507,
                "storage_disk_full",
            ),
            (
                HubError::Storage {
                    message: "io".into(),
                    disk_full: false,
                },
                Code::Unavailable,
                503,
                "storage_unavailable",
            ),
            (
                HubError::internal("defect"),
                Code::Internal,
                500,
                "internal",
            ),
        ];
        for (error, grpc, http, code) in cases {
            assert_eq!(error.grpc_code(), grpc, "{error:?}");
            assert_eq!(error.http_status().as_u16(), http, "{error:?}");
            assert_eq!(error.code(), code);
            let message = error.to_string();
            let storage = matches!(error, HubError::Storage { .. });
            let status = Status::from(error);
            assert_eq!((status.code(), status.message()), (grpc, message.as_str()));
            assert_eq!(
                status
                    .metadata()
                    .get(ERROR_CODE_KEY)
                    .and_then(|v| v.to_str().ok()),
                Some(code)
            );
            assert_eq!(status.metadata().get(STORAGE_FAILURE).is_some(), storage);
        }
    }

    #[test]
    fn an_unreachable_store_database_is_unavailable_with_a_retry_and_a_query_failure_is_not_disk_full()
     {
        use axum::response::IntoResponse;
        let unreachable = HubError::storage(&StoreError::Kv(KvError::Unavailable(
            "connect refused".into(),
        )));
        assert_eq!(unreachable.grpc_code(), Code::Unavailable);
        assert_eq!(unreachable.http_status(), StatusCode::SERVICE_UNAVAILABLE);
        let message = unreachable.to_string();
        assert!(message.contains("unreachable"), "{message}");
        assert!(message.contains("retry"), "{message}");
        assert!(
            !message.contains("connect refused"),
            "no store details: {message}"
        );
        let status = Status::from(unreachable);
        assert_eq!(status.code(), Code::Unavailable);
        assert!(status.metadata().get(STORAGE_FAILURE).is_some());
        let response =
            HubError::storage(&StoreError::Kv(KvError::Unavailable("down".into()))).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let failed = HubError::storage(&StoreError::Kv(KvError::Database("syntax".into())));
        assert_eq!(failed.code(), "storage_unavailable");
        assert!(!failed.to_string().contains("unreachable"));
    }

    #[test]
    fn a_sled_failure_stops_the_store_and_a_database_failure_does_not() {
        let sled_failure = StoreError::from(KvError::Sled(sled::Error::Io(std::io::Error::other(
            "write failed",
        ))));
        assert!(
            matches!(sled_failure, StoreError::Sled(_)),
            "{sled_failure:?}"
        );
        assert!(sled_failure.stops_the_store());
        for transient in [
            KvError::Unavailable("connect refused".into()),
            KvError::Database("statement timeout".into()),
            KvError::Conflict("duplicate key".into()),
        ] {
            let error = StoreError::from(transient);
            assert!(!error.stops_the_store(), "{error:?}");
        }
    }

    #[test]
    fn the_dashboard_answer_carries_the_status_the_code_and_the_message() {
        use axum::response::IntoResponse;
        let response = HubError::not_found("no incident X").into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response
                .headers()
                .get(HTTP_ERROR_HEADER)
                .and_then(|v| v.to_str().ok()),
            Some("not_found")
        );
    }
}
