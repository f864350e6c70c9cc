//! An operator making a change at the hub, as every transport names one: who, with which role
//! from the live roster, from which certificate. The gRPC services make one from a request's
//! certificate (`grpc::acting`), the dashboard from a session (the certificate that signed it
//! in); the checks ([`Acting::may`], and the commands of `crate::service`) are the same.

use crate::error::HubError;
use crate::lifecycle::HubRole;

pub struct Acting {
    pub name: String,
    pub role: Option<HubRole>,
    /// The certificate as the audit records it: `URI (fingerprint)` over gRPC, `serial S`
    /// for a dashboard session.
    pub cert: String,
}

impl Acting {
    /// Who runs the command, as the application layer records it.
    pub fn actor(&self) -> crate::service::Actor {
        crate::service::Actor {
            name: self.name.clone(),
            cert: self.cert.clone(),
        }
    }

    /// Refuses unless the permission matrix ([`crate::access`]) lets this operator call `api`;
    /// the refusal names the roles needed (the same text on every transport).
    pub fn may(&self, api: super::Api) -> Result<(), HubError> {
        super::check(&self.name, self.role, api).map_err(|denied| {
            tracing::warn!(operator = %self.name, api = ?api, reason = %denied, "operator call refused");
            HubError::denied(denied.to_string())
        })
    }
}
