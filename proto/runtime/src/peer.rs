//! Who is calling, for request handlers: the connection facts the TLS listener attaches to
//! every request ([`PeerInfo`]), the caller's verified identity ([`caller`]), the interceptor
//! that refuses calls without one, and role checks. Parsing identities from certificates is the
//! contract's (`socfed_proto::identity`); this is the server side of it.

use socfed_proto::identity::{IdentityError, PeerIdentity};
use std::sync::Arc;
use tonic::Status;

/// Connection facts attached by the TLS listener to every request on that connection.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    pub remote_addr: Option<std::net::SocketAddr>,
    pub peer: Arc<Result<PeerIdentity, IdentityError>>,
    /// The connection itself, for re-checking its certificate and closing it on revocation.
    pub connection: crate::revocation::Connection,
}

/// The caller's verified identity, or `UNAUTHENTICATED` naming what was wrong.
pub fn caller<T>(request: &tonic::Request<T>) -> Result<PeerIdentity, Status> {
    let info = request
        .extensions()
        .get::<PeerInfo>()
        .ok_or_else(|| Status::unauthenticated("no verified TLS peer on this connection"))?;
    match info.peer.as_ref() {
        Ok(peer) => Ok(peer.clone()),
        Err(e) => Err(Status::unauthenticated(format!(
            "client certificate refused: {e}; use a certificate issued by `sirt-hub pki issue`"
        ))),
    }
}

/// An interceptor for every service of a listener: requests from a connection without a
/// usable client certificate are refused with `UNAUTHENTICATED` before any handler runs
/// (health and reflection included). Certificates that fail verification never get this far:
/// the TLS handshake refuses them.
pub fn require_verified_peer(request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
    match caller(&request) {
        Ok(_) => Ok(request),
        Err(status) => {
            let remote = request
                .extensions()
                .get::<PeerInfo>()
                .and_then(|i| i.remote_addr);
            // Debug only: anyone on the network can send these as fast as they like; the hub's
            // refusal edge counts them and logs them rate-limited.
            tracing::debug!(
                ?remote,
                reason = status.message(),
                "request refused: no verified client identity"
            );
            Err(status)
        }
    }
}

/// Checks the caller's role for `api`; `PERMISSION_DENIED` names the role it has and needs.
pub fn require_role(peer: &PeerIdentity, wanted: &'static str, api: &str) -> Result<(), Status> {
    if peer.identity.role() == wanted {
        Ok(())
    } else {
        Err(Status::permission_denied(format!(
            "{api} needs {} {wanted} certificate; the caller presented {} ({})",
            if wanted.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            },
            peer.uri,
            peer.identity.role()
        )))
    }
}
