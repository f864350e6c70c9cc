//! The opening of a site's stream and what is said about it: the hello read within its
//! timeout, refusals counted and logged with a bounded label per code, the certificate's
//! expiry warned of, and errors reading the stream mapped to what the site is told.

use super::wire;
use crate::error::HubError;
use socfed_proto::pb;
use socfed_proto::vocab::SiteId;
use std::time::Duration;
use tonic::{Code, Status, Streaming};

const HELLO_TIMEOUT: Duration = Duration::from_secs(30);

/// Site certificates are rotated before they expire; two weeks ahead, every connect says so.
const EXPIRY_WARNING_MS: i64 = 14 * 86_400_000;

pub(super) fn warn_if_expiring(site: &SiteId, not_after_ms: i64, now: i64) {
    // One gauge per enrolled site: bounded by the enrolment list.
    metrics::gauge!("socfed_hub_site_cert_expires_in_seconds", "site" => site.to_string())
        .set(((not_after_ms - now) / 1000) as f64);
    if not_after_ms - now < EXPIRY_WARNING_MS {
        tracing::warn!(site = %site, expires_in_days = (not_after_ms - now) / 86_400_000, "site certificate expires soon: issue a new one (`sirt-hub pki issue --site ... --force`) and install it; agents reload it without a restart");
    }
}

pub(super) fn refused(
    site: Option<&SiteId>,
    remote: Option<std::net::SocketAddr>,
    status: &Status,
) {
    metrics::counter!("socfed_hub_streams_refused_total", "code" => code_label(status.code()))
        .increment(1);
    tracing::warn!(site = site.map(SiteId::as_str), ?remote, code = ?status.code(), reason = status.message(), "escalation stream refused");
}

/// A fixed label per status code (bounded cardinality).
pub(super) fn code_label(code: Code) -> &'static str {
    match code {
        Code::Unauthenticated => "unauthenticated",
        Code::PermissionDenied => "permission_denied",
        Code::InvalidArgument => "invalid_argument",
        Code::DeadlineExceeded => "deadline_exceeded",
        Code::ResourceExhausted => "resource_exhausted",
        _ => "other",
    }
}

pub(super) async fn read_hello(
    inbound: &mut Streaming<pb::SiteMessage>,
    site: &SiteId,
) -> Result<wire::Hello, Status> {
    let first = tokio::time::timeout(HELLO_TIMEOUT, inbound.message())
        .await
        .map_err(|_| Status::deadline_exceeded("no hello within 30 s of opening the stream"))?
        .map_err(|s| inbound_error(&s))?;
    wire::hello(first, site)
}

/// Maps errors reading the inbound stream; tonic reports oversized messages as OUT_OF_RANGE.
pub(super) fn inbound_error(status: &Status) -> Status {
    match status.code() {
        Code::OutOfRange | Code::ResourceExhausted => HubError::exhausted(format!(
            "message over the hub's size limit ({}); the stream is closed",
            status.message()
        ))
        .into(),
        _ => status.clone(),
    }
}
