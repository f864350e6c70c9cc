//! The agent's one error type: every refusal or failure a caller of the local APIs can see.
//! Its kind ([`AgentError::kind`], the hub's kinds: `socfed_runtime::error_code`) gives the
//! stable code, the one gRPC status ([`From<AgentError> for Status`](#impl-From<AgentError>-for-Status))
//! and the one HTTP status ([`AgentError::http_status`], for a web console), so both services
//! speak the same codes (gRPC metadata `socfed-error`, HTTP header `x-socfed-error`).
//!
//! The message a caller reads is the error's own, whole, except for the store's failures:
//! those are logged here with their detail and told to the caller without it (never the data
//! directory's path), saying what to do.

use crate::soc::authz::Denied;
use crate::soc::triage::TriageError;
use crate::store::StoreError;
use socfed_runtime::error_code::{ErrorKind, StatusCode};
use tonic::Status;

pub use socfed_runtime::error_code::{ERROR_CODE_KEY, HTTP_ERROR_HEADER};

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The request itself is wrong (a field, an id, a combination).
    #[error("{0}")]
    Invalid(String),
    /// Nothing by that id.
    #[error("{0}")]
    NotFound(String),
    /// The caller's role does not allow it.
    #[error("{0}")]
    Denied(#[from] Denied),
    /// The caller is not in this site's roster (nor a configured manager).
    #[error("{0}")]
    NotInRoster(String),
    /// No usable credential: no client certificate or API token, or one that is unknown,
    /// expired or revoked (the HTTP API).
    #[error("{0}")]
    Unauthenticated(String),
    /// The credential lacks what the request needs (an API token's scope).
    #[error("{0}")]
    Forbidden(String),
    /// The alert group's state refuses the action.
    #[error("{0}")]
    Triage(#[from] TriageError),
    /// The store refused (a full outbox) or failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A bounded resource is in use up to its cap (open intake streams); retrying later works.
    #[error("{0}")]
    Busy(String),
    /// The request is over a size limit (an HTTP intake body, decompressed or not).
    #[error("{0}")]
    TooLarge(String),
    /// The request body is in a media type the endpoint does not read (HTTP 415; an invalid
    /// argument to every other caller).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A defect of the agent itself (a task that died).
    #[error("{0}")]
    Internal(String),
}

impl AgentError {
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }

    /// What kind of refusal this is; the code, gRPC code and HTTP status follow from it.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) | Self::UnsupportedMediaType(_) => ErrorKind::Invalid,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Denied(_) | Self::NotInRoster(_) | Self::Forbidden(_) => ErrorKind::Denied,
            Self::Unauthenticated(_) => ErrorKind::Unauthenticated,
            Self::Triage(_) => ErrorKind::Refused,
            Self::Store(StoreError::OutboxFull { .. }) | Self::Busy(_) => ErrorKind::Exhausted,
            Self::Store(e) if e.is_disk_full() => ErrorKind::StorageDiskFull,
            Self::Store(_) => ErrorKind::StorageUnavailable,
            Self::TooLarge(_) => ErrorKind::TooLarge,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The stable code: what kind of refusal, never the message.
    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// The one mapping to HTTP statuses.
    pub fn http_status(&self) -> StatusCode {
        if let Self::UnsupportedMediaType(_) = self {
            return StatusCode::UNSUPPORTED_MEDIA_TYPE;
        }
        self.kind().http_status()
    }

    /// What the caller reads. A store failure says what to do and never where the store is.
    pub fn message(&self) -> String {
        match self {
            Self::Store(StoreError::OutboxFull { .. }) => self.to_string(),
            Self::Store(e) if e.is_disk_full() => "the agent's disk is full (no space left on the device holding its data_dir): this request may not have been stored; free space on that disk, the agent restarts to reopen its store, then retry (a RaiseIncident with the same request_id is answered from the agent's record if the first attempt was stored)".into(),
            Self::Store(StoreError::Failed { .. }) => "the agent's store takes no more writes since a write failed; the agent is restarting to reopen it: retry shortly and check the agent logs".into(),
            Self::Store(_) => "the agent could not read or write its store; retry shortly and check the agent logs".into(),
            other => other.to_string(),
        }
    }

    /// Logs what the caller is not told in full (refusals of the caller, store failures).
    fn log(&self) {
        match self {
            Self::Denied(denied) => tracing::warn!(reason = %denied, "local SOC action refused"),
            Self::NotInRoster(message) => tracing::warn!(%message, "caller refused"),
            Self::Store(StoreError::OutboxFull { .. }) => {}
            Self::Store(error) => tracing::error!(%error, "agent store failure"),
            _ => {}
        }
    }
}

/// The one mapping to HTTP (the API, `crate::api`): the kind's status, the stable code in
/// `x-socfed-error`, and a JSON body `{"error": {"code", "message"}}`.
impl axum::response::IntoResponse for AgentError {
    fn into_response(self) -> axum::response::Response {
        self.log();
        let kind = self.kind();
        let body = crate::api::ErrorBody::new(kind.code(), self.message());
        (
            self.http_status(),
            [(HTTP_ERROR_HEADER, kind.code())],
            axum::Json(body),
        )
            .into_response()
    }
}

/// The one mapping to gRPC: the kind's code, the caller's message, the stable code in
/// `socfed-error`.
impl From<AgentError> for Status {
    fn from(error: AgentError) -> Self {
        error.log();
        error.kind().status(error.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    fn store_failed(disk_full: bool) -> AgentError {
        AgentError::Store(StoreError::Failed {
            dir: "/srv/agent/secret-path".into(),
            cause: "write failed".into(),
            disk_full,
        })
    }

    #[test]
    fn each_error_has_one_kind_and_keeps_its_message_whole() {
        let full = AgentError::Store(StoreError::OutboxFull {
            len: 3,
            cap: 3,
            oldest_age_s: 9,
        });
        let full_message = full.to_string();
        let cases = [
            (
                AgentError::invalid("bad id"),
                Code::InvalidArgument,
                400,
                "invalid_argument",
                Some("bad id".to_string()),
            ),
            (
                AgentError::NotFound("no group X".into()),
                Code::NotFound,
                404,
                "not_found",
                Some("no group X".to_string()),
            ),
            (
                AgentError::NotInRoster("ask the manager".into()),
                Code::PermissionDenied,
                403,
                "permission_denied",
                Some("ask the manager".to_string()),
            ),
            (
                full,
                Code::ResourceExhausted,
                429,
                "resource_exhausted",
                Some(full_message),
            ),
            (
                store_failed(true),
                Code::ResourceExhausted,
                507,
                "storage_disk_full",
                None,
            ),
            (
                store_failed(false),
                Code::Unavailable,
                503,
                "storage_unavailable",
                None,
            ),
            (
                AgentError::internal("agent task failed"),
                Code::Internal,
                500,
                "internal",
                Some("agent task failed".to_string()),
            ),
        ];
        for (error, grpc, http, code, message) in cases {
            assert_eq!(error.http_status().as_u16(), http, "{error:?}");
            assert_eq!(error.code(), code);
            let status = Status::from(error);
            assert_eq!(status.code(), grpc);
            assert_eq!(socfed_runtime::error_code::code_of(&status), Some(code));
            match message {
                Some(message) => assert_eq!(status.message(), message),
                // A store failure never tells the caller where the store is.
                None => assert!(
                    !status.message().contains("secret-path"),
                    "{}",
                    status.message()
                ),
            }
        }
    }
}
