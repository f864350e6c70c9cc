//! Who is calling an operator API: the certificate check, the caller's hub role, and the
//! helpers every operator-facing service shares.

use crate::error::HubError;
use socfed_runtime::peer::{caller, require_role};
use tonic::{Request, Status};
use ulid::Ulid;

pub use crate::access::reader::{Reader, Roles};

pub fn authorize<T>(request: &Request<T>, api: &str) -> Result<(), Status> {
    let peer = caller(request)?;
    require_role(&peer, "operator", api).inspect_err(|status| {
        tracing::warn!(caller = %peer.uri, api, reason = status.message(), "operator api refused");
    })
}

pub use crate::view::read;

pub use crate::access::acting::Acting;

impl Acting {
    /// The caller of a change API: an operator certificate, and its role from `[[operators]]`.
    pub fn of<T>(roles: &Roles, request: &Request<T>, api: &str) -> Result<Self, Status> {
        authorize(request, api)?;
        let peer = caller(request)?;
        let socfed_proto::identity::Identity::Operator(name) = peer.identity else {
            return Err(HubError::denied(format!("{api} needs an operator certificate")).into());
        };
        Ok(Acting {
            role: roles.get(&name),
            cert: format!("{} ({})", peer.uri, peer.fingerprint),
            name,
        })
    }
}

impl Reader {
    /// The caller of a read API: an operator certificate (its name; the role comes later).
    pub fn of<T>(roles: &Roles, request: &Request<T>, api: &str) -> Result<Self, Status> {
        authorize(request, api)?;
        let peer = caller(request)?;
        let socfed_proto::identity::Identity::Operator(name) = peer.identity else {
            return Err(HubError::denied(format!("{api} needs an operator certificate")).into());
        };
        Ok(Self {
            name,
            roles: roles.clone(),
        })
    }

    /// The operator making a change, as a reader of what it changes.
    pub fn acting(acting: &Acting, roles: &Roles) -> Self {
        Self {
            name: acting.name.clone(),
            roles: roles.clone(),
        }
    }
}

pub fn incident_id(raw: &str) -> Result<Ulid, Status> {
    Ulid::from_string(raw)
        .map_err(|_| {
            HubError::invalid(format!("{raw:?} is not an incident id (26-character ULID)"))
        })
        .map_err(Status::from)
}
