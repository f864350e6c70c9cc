//! Who is calling the API: an API token (`Authorization: Bearer socfed_<id>_<secret>`,
//! checked against the store for the endpoint's scope) or, without one, the operator's client
//! certificate on the TLS connection (re-checked against the CRL in force, then resolved in
//! the site roster as the gRPC API does). Nothing is 401 for a missing role: an unknown,
//! expired or revoked credential is 401, a missing scope or role 403 naming it.
//!
//! The listener asks for client certificates, so a browser holding an operator certificate
//! presents it on any request a page of another site makes it send (a form post needs no
//! script). A certificate is therefore honoured only on a request that carries no sign of a
//! browser at all: no `Origin` (not even `null`, which a page sending no referrer produces)
//! and no `Sec-Fetch-Site`. API clients send neither header; the console never calls the API
//! from a page; an API token is never ambient. This covers the body-less POSTs (ack,
//! escalate) as well as intake, which also insists on a JSON Content-Type (a form cannot
//! send one, so a browser too old to send `Origin` on a form post is stopped there).

use super::ApiState;
use crate::error::AgentError;
use crate::service::Actor;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use socfed_runtime::api_token::{self, Scope};
use socfed_runtime::peer::PeerInfo;

/// The credentials a request carries, not yet checked.
pub struct Credentials {
    authorization: Option<String>,
    peer: Option<PeerInfo>,
    /// A browser sent this request (it names an origin or a fetch site).
    from_browser: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Credentials {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            authorization: parts
                .headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            peer: parts.extensions.get::<PeerInfo>().cloned(),
            from_browser: parts.headers.contains_key(axum::http::header::ORIGIN)
                || parts.headers.contains_key("sec-fetch-site"),
        })
    }
}

impl ApiState {
    /// The actor for a request needing `scope` (a token) — the role the operation needs is
    /// checked by the service layer, as for every other caller.
    pub(super) async fn caller(
        &self,
        credentials: Credentials,
        scope: Scope,
    ) -> Result<Actor, AgentError> {
        match api_token::presented(credentials.authorization.as_deref()) {
            Some(Ok(presented)) => {
                let (actor, record) = self
                    .blocking(move |soc| soc.token_actor(&presented, scope))
                    .await?;
                // Reads are audited in batches; intake and triage by their own units.
                if scope == Scope::Read && self.usage.note(&record, self.soc.now()) {
                    let state = self.clone();
                    tokio::spawn(async move {
                        if let Err(error) = state.flush_usage().await {
                            tracing::error!(%error, "API token uses could not be audited yet");
                        }
                    });
                }
                Ok(actor)
            }
            Some(Err(e)) => Err(crate::service::tokens::token_error(e)),
            None if credentials.from_browser && credentials.peer.is_some() => {
                Err(AgentError::Forbidden(
                    "a client certificate is not accepted when a browser sent the request (it carries Origin or Sec-Fetch-Site): call the API from a tool, not a web page, or send an API token".into(),
                ))
            }
            None => self.certificate_actor(credentials.peer),
        }
    }

    fn certificate_actor(&self, peer: Option<PeerInfo>) -> Result<Actor, AgentError> {
        let info = peer.ok_or_else(|| {
            AgentError::Unauthenticated(
                "no credential: send `Authorization: Bearer <API token>` (`site-agent tokens create`) or present an operator client certificate".into(),
            )
        })?;
        let identity = match info.peer.as_ref() {
            Ok(identity) => identity.clone(),
            Err(e) => {
                return Err(AgentError::Unauthenticated(format!(
                    "no usable client certificate ({e}): send an API token or an operator certificate issued by `sirt-hub pki issue`"
                )));
            }
        };
        self.revocation.check(&info).map_err(|why| {
            AgentError::Unauthenticated(format!("client certificate refused: {why}"))
        })?;
        self.soc.actor(&identity)
    }
}
