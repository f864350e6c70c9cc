//! A failed call as a sentence that says what to do next, the same for both binaries.
//!
//! A service that refuses a call names the kind of refusal by its stable code in the gRPC
//! metadata `socfed-error` ([`crate::error_code`]: `not_found`, `permission_denied`,
//! `storage_disk_full`, …). That code decides the explanation; the gRPC code is only the
//! fallback for a status without one (a transport failure, a refusal made before a service
//! ran, an older service).

use super::client::ClientError;
use super::exit::error_text;
use crate::error_code::{ErrorKind, code_of};
use tonic::{Code, Status};

/// The kind a service named by its stable code, or else the one its gRPC code implies.
fn kind_of(status: &Status) -> Option<ErrorKind> {
    if let Some(code) = code_of(status)
        && let Some(kind) = ErrorKind::ALL.into_iter().find(|k| k.code() == code)
    {
        return Some(kind);
    }
    Some(match status.code() {
        Code::InvalidArgument => ErrorKind::Invalid,
        Code::NotFound => ErrorKind::NotFound,
        Code::Unauthenticated => ErrorKind::Unauthenticated,
        Code::PermissionDenied => ErrorKind::Denied,
        Code::FailedPrecondition => ErrorKind::Refused,
        Code::ResourceExhausted => ErrorKind::Exhausted,
        Code::Aborted => ErrorKind::Aborted,
        Code::Unavailable => ErrorKind::Unavailable,
        Code::Internal => ErrorKind::Internal,
        _ => return None,
    })
}

/// A failed call to `target` ("the hub at …") as a sentence with a next step. A service that
/// did not answer at all is [`ClientError::Unreachable`] (exit status 69); anything it
/// answered is [`ClientError::Call`].
pub fn explain(status: &Status, target: &str) -> ClientError {
    // Only a status the service did not write can be a transport failure.
    if code_of(status).is_none()
        && let Some(failure) = transport_failure(status, target)
    {
        return failure;
    }
    let message = status.message();
    ClientError::Call(match kind_of(status) {
        Some(ErrorKind::Invalid) => format!("{message} (check the arguments: --help lists them)"),
        Some(ErrorKind::NotFound) => {
            format!("{message} (check the id: the matching `list` command shows what exists)")
        }
        Some(ErrorKind::Unauthenticated) => format!(
            "{target} did not accept your certificate: {message} (use an operator certificate \
             from the organisation CA: --cert/--key, --ca)"
        ),
        Some(ErrorKind::Denied) => format!(
            "{target} refused: {message} (ask an operator who holds the role it names, or \
             whoever keeps the roster)"
        ),
        Some(ErrorKind::Refused) => {
            format!("{message} (the current state does not allow it: `show` it to see that state)")
        }
        Some(ErrorKind::Exhausted) => format!("{message} (a limit was reached: retry later)"),
        Some(ErrorKind::TooLarge) => format!("{message} (send less at once)"),
        Some(ErrorKind::Aborted) => format!("{target} abandoned the call: {message} (retry it)"),
        Some(ErrorKind::Unavailable) => {
            format!("{target} cannot serve now: {message} (retry shortly)")
        }
        // The service's own message already says what to do.
        Some(ErrorKind::StorageDiskFull | ErrorKind::StorageUnavailable) => message.to_string(),
        Some(ErrorKind::Internal) => format!(
            "{target} failed: {message} (a defect of the service: report it with the \
             service's log)"
        ),
        None => format!(
            "{target} answered {:?}: {}",
            status.code(),
            with_sources(status)
        ),
    })
}

/// The call never reached a service: the TLS handshake was refused, or nothing answered.
fn transport_failure(status: &Status, target: &str) -> Option<ClientError> {
    if !matches!(status.code(), Code::Unavailable | Code::Unknown) {
        return None;
    }
    let detail = with_sources(status);
    let lower = detail.to_ascii_lowercase();
    if lower.contains("alert") || lower.contains("certificate") {
        return Some(ClientError::Call(format!(
            "{target} refused the TLS handshake ({detail}); check that --cert/--key are an operator certificate from the organisation CA and that --ca is that CA"
        )));
    }
    if lower.contains("transport") || lower.contains("connect") {
        return Some(ClientError::Unreachable(format!(
            "cannot reach {target} ({detail}); check the address and that the service is running"
        )));
    }
    None
}

/// The message of `status` followed by its source chain, each cause once.
fn with_sources(status: &Status) -> String {
    let mut text = crate::terminal::clean(status.message()).into_owned();
    if let Some(source) = std::error::Error::source(status) {
        let causes = error_text(source);
        if !text.contains(&causes) {
            text.push_str(": ");
            text.push_str(&causes);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coded(grpc: Code, code: &'static str, message: &str) -> Status {
        let mut status = Status::new(grpc, message);
        status.metadata_mut().insert(
            crate::error_code::ERROR_CODE_KEY,
            tonic::metadata::MetadataValue::from_static(code),
        );
        status
    }

    fn text(error: ClientError) -> String {
        error.to_string()
    }

    #[test]
    fn the_stable_code_decides_the_next_step_and_the_message_is_kept_whole() {
        let hub = "the hub at h:1";
        let cases = [
            ("invalid_argument", "bad id", "--help"),
            ("not_found", "no incident X", "`list`"),
            ("unauthenticated", "no cert", "--cert/--key"),
            ("permission_denied", "needs ir-lead or ciso", "roster"),
            ("failed_precondition", "incident X is closed", "`show`"),
            ("resource_exhausted", "too many watches", "retry later"),
            ("aborted", "fell behind", "retry it"),
            ("unavailable", "shutting down", "retry shortly"),
            ("internal", "defect", "report it"),
        ];
        for (code, message, next) in cases {
            // The gRPC code is deliberately wrong: the metadata alone decides.
            let explained = text(explain(&coded(Code::Unknown, code, message), hub));
            assert!(explained.contains(message), "{code}: {explained}");
            assert!(explained.contains(next), "{code}: {explained}");
        }
    }

    #[test]
    fn a_storage_failure_is_told_in_the_services_own_words() {
        let message = "the hub's disk is full (…): free space on that disk";
        let status = coded(Code::ResourceExhausted, "storage_disk_full", message);
        assert_eq!(text(explain(&status, "the hub at h:1")), message);
    }

    #[test]
    fn a_coded_refusal_is_never_taken_for_an_unreachable_service() {
        let status = coded(
            Code::Unavailable,
            "unavailable",
            "cannot connect the writer",
        );
        assert!(matches!(
            explain(&status, "the hub at h:1"),
            ClientError::Call(_)
        ));
    }

    #[test]
    fn without_a_code_the_grpc_code_is_the_fallback() {
        let hub = "the hub at h:1";
        let denied = Status::permission_denied("needs a role");
        assert!(text(explain(&denied, hub)).starts_with("the hub at h:1 refused: needs a role"));
        let unreachable = Status::unavailable("transport error: connection refused");
        assert!(matches!(
            explain(&unreachable, hub),
            ClientError::Unreachable(_)
        ));
        let handshake = Status::unknown("received fatal alert: BadCertificate");
        assert!(text(explain(&handshake, hub)).contains("refused the TLS handshake"));
        let other = Status::unimplemented("no such method");
        assert_eq!(
            text(explain(&other, hub)),
            "the hub at h:1 answered Unimplemented: no such method"
        );
    }
}
