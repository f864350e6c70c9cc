//! The edge that sees every refused gRPC call: a tower layer around all hub services that
//! reads the status of each response as it starts (a refused call or stream answers with its
//! status at once, in the headers) and reports refusals to [`crate::refusals`] with the
//! caller's certificate identity and address from the TLS listener's `PeerInfo`.
//!
//! Refusals are: UNAUTHENTICATED (no or unusable certificate), PERMISSION_DENIED (wrong role,
//! unknown site, another site's name), RESOURCE_EXHAUSTED and OUT_OF_RANGE (over the size
//! limit). Other errors are the caller's or the hub's business, not a security event.

use crate::refusals::{Refusal, RefusalAudit};
use socfed_runtime::peer::PeerInfo;
use std::sync::Arc;
use tonic::codegen::http;

#[derive(Debug, Clone)]
pub struct RefusalLayer(pub Arc<RefusalAudit>);

impl<S> tower::Layer<S> for RefusalLayer {
    type Service = Refusals<S>;
    fn layer(&self, inner: S) -> Refusals<S> {
        Refusals {
            inner,
            audit: self.0.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Refusals<S> {
    inner: S,
    audit: Arc<RefusalAudit>,
}

impl<S, B, RB> tower::Service<http::Request<B>> for Refusals<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let api = api_label(request.uri().path());
        let peer = request.extensions().get::<PeerInfo>().cloned();
        let audit = self.audit.clone();
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            if let Some(reason) = refusal_reason(response.headers()) {
                audit.record(who(peer.as_ref(), api, reason));
            }
            Ok(response)
        })
    }
}

/// Who called, from the listener's view of the connection.
pub fn who(peer: Option<&PeerInfo>, api: String, reason: String) -> Refusal {
    use socfed_proto::identity::IdentityError;
    let (who, cert) = match peer.map(|p| p.peer.as_ref()) {
        Some(Ok(identity)) => (identity.uri.clone(), identity.fingerprint.clone()),
        // No certificate at all: anyone on the network (counted, not audited).
        Some(Err(e @ IdentityError::NoCertificate)) => (
            format!("{} ({e})", crate::refusals::ANONYMOUS),
            String::new(),
        ),
        // A certificate of the organisation CA that names no usable identity.
        Some(Err(e)) => (format!("unidentified ({e})"), String::new()),
        None => (crate::refusals::ANONYMOUS.to_string(), String::new()),
    };
    Refusal {
        action: crate::refusals::ACTION,
        who,
        cert,
        peer_ip: peer.and_then(|p| p.remote_addr).map(|a| a.ip()),
        api,
        reason,
    }
}

/// The method path, kept only for socfed and the standard services (bounded labels: any
/// other path is named `other`, since an unauthenticated caller chooses it freely).
fn api_label(path: &str) -> String {
    const KNOWN: [&str; 3] = ["/socfed.v1.", "/grpc.health.v1.", "/grpc.reflection."];
    if path.len() <= 96 && KNOWN.iter().any(|p| path.starts_with(p)) {
        path.to_string()
    } else {
        "other".to_string()
    }
}

/// `Some(message)` when the response is a refusal.
fn refusal_reason(headers: &http::HeaderMap) -> Option<String> {
    let code = headers
        .get("grpc-status")?
        .to_str()
        .ok()?
        .parse::<i32>()
        .ok()?;
    let refused = matches!(
        tonic::Code::from_i32(code),
        tonic::Code::Unauthenticated
            | tonic::Code::PermissionDenied
            | tonic::Code::ResourceExhausted
            | tonic::Code::OutOfRange
    );
    // The hub's own storage failing (a full disk) is not a refusal of the caller.
    if !refused || headers.contains_key(super::STORAGE_FAILURE) {
        return None;
    }
    let message = headers
        .get("grpc-message")
        .map(|v| percent_decode(v.as_bytes()))
        .unwrap_or_default();
    Some(format!("{:?}: {message}", tonic::Code::from_i32(code)))
}

/// grpc-message is percent-encoded (gRPC over HTTP/2 spec).
fn percent_decode(raw: &[u8]) -> String {
    percent_encoding::percent_decode(raw)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn messages_are_decoded_and_labels_bounded() {
        assert_eq!(
            super::percent_decode(b"site %22x%22 100%"),
            "site \"x\" 100%"
        );
        assert_eq!(
            super::api_label("/socfed.v1.Operator/ListIncidents"),
            "/socfed.v1.Operator/ListIncidents"
        );
        assert_eq!(super::api_label("/evil/x"), "other");
    }
}
