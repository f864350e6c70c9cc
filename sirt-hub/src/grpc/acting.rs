//! Who is calling an operator API: the certificate check, the caller's hub role, and the
//! helpers every operator-facing service shares.

use crate::lifecycle::HubRole;
use crate::store::HubStore;
use socfed_proto::identity::{caller, require_role};
use std::sync::Arc;
use tonic::{Request, Status};
use ulid::Ulid;

/// Operator name → role at the hub: the live roster.
pub type Roles = Arc<crate::access::roster::RosterCache>;

pub fn authorize<T>(request: &Request<T>, api: &str) -> Result<(), Status> {
    let peer = caller(request)?;
    require_role(&peer, "operator", api).inspect_err(|status| {
        tracing::warn!(caller = %peer.uri, api, reason = status.message(), "operator api refused");
    })
}

/// Runs a blocking store read off the async workers.
pub async fn read<T: Send + 'static>(
    store: &Arc<HubStore>,
    f: impl FnOnce(&HubStore) -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, Status> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|_| Status::internal("store read task failed"))?
        .map_err(|e| super::storage_status(&e))
}

/// An operator making a change at the hub: who, with which role, from which certificate.
pub struct Acting {
    pub name: String,
    pub role: Option<HubRole>,
    pub cert: String,
}

impl Acting {
    /// The caller of a change API: an operator certificate, and its role from `[[operators]]`.
    pub fn of<T>(roles: &Roles, request: &Request<T>, api: &str) -> Result<Self, Status> {
        authorize(request, api)?;
        let peer = caller(request)?;
        let socfed_proto::identity::Identity::Operator(name) = peer.identity else {
            return Err(Status::permission_denied(format!(
                "{api} needs an operator certificate"
            )));
        };
        Ok(Acting {
            role: roles.get(&name),
            cert: format!("{} ({})", peer.uri, peer.fingerprint),
            name,
        })
    }

    /// Refuses unless the permission matrix ([`crate::access`]) lets this caller call `api`.
    pub fn may(&self, api: crate::access::Api) -> Result<(), Status> {
        crate::access::check(&self.name, self.role, api).map_err(|denied| {
            tracing::warn!(operator = %self.name, api = ?api, reason = %denied, "operator call refused");
            Status::permission_denied(denied.to_string())
        })
    }
}

pub fn incident_id(raw: &str) -> Result<Ulid, Status> {
    Ulid::from_string(raw).map_err(|_| {
        Status::invalid_argument(format!("{raw:?} is not an incident id (26-character ULID)"))
    })
}
