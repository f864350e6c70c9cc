//! Who calls `/api/v1`: an operator client certificate (verified at the TLS handshake, its
//! serial checked against the CRL in force at each request), or an API token
//! (`Authorization: Bearer socfed_<id>_<secret>`, `socfed_runtime::api_token`).
//!
//! A token acts as the operator who minted it, narrowed twice: by its scopes (read, respond)
//! and by that operator's role *now* (read from the live roster at each call), so a token
//! never does what its creator may no longer do, and stops working when its creator leaves
//! the roster. Refusals: 401 when there is no usable credential (none, malformed, unknown,
//! wrong secret, expired, revoked, creator gone, certificate revoked — for a token, the
//! certificate that minted it), 403 when the
//! credential is good but lacks the scope or role (the message names which). Every token use
//! is audited (token id and name, never the secret) through the coalescing refusal audit
//! (`crate::refusals`), so a flood cannot stall the writer.

use super::error::ApiError;
use crate::access::Api;
use crate::access::acting::Acting;
use crate::access::reader::Reader;
use crate::error::HubError;
use crate::refusals::{ACTION, Refusal, TOKEN_USE};
use crate::web::WebState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use socfed_proto::identity::Identity;
use socfed_runtime::api_token::{self, Scope, TokenError};
use socfed_runtime::peer::PeerInfo;

/// What a request presented, before it is checked: the bearer header and the connection's
/// client certificate, if any.
pub struct Presented {
    authorization: Option<String>,
    peer: Option<PeerInfo>,
    /// `METHOD /path`, for the audit.
    call: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Presented {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            authorization: parts
                .headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            peer: parts.extensions.get::<PeerInfo>().cloned(),
            call: format!("{} {}", parts.method, parts.uri.path()),
        })
    }
}

/// A checked caller: the operator it acts as, and how it proved it.
#[derive(Clone)]
pub struct Caller {
    /// The operator (a token's creator).
    pub name: String,
    /// As the audit records who acted: the certificate, or `api token ID (NAME)`.
    pub cert: String,
    presented: PresentedAgain,
}

/// What [`Caller::recheck`] checks again (a long event stream).
#[derive(Clone)]
enum PresentedAgain {
    Token(api_token::Presented),
    Cert(String),
}

fn unauthenticated(why: impl Into<String>) -> ApiError {
    ApiError(HubError::Unauthenticated(why.into()))
}

impl Presented {
    /// The caller, if its credential is good now and (for a token) carries `scope`.
    pub async fn caller(&self, state: &WebState, scope: Scope) -> Result<Caller, ApiError> {
        if let Some(presented) = api_token::presented(self.authorization.as_deref()) {
            let presented = presented.map_err(|e| unauthenticated(e.to_string()))?;
            return self.token(state, presented, scope).await;
        }
        let Some(peer) = &self.peer else {
            return Err(unauthenticated(NO_CREDENTIAL));
        };
        let identity = match peer.peer.as_ref() {
            Ok(identity) => identity,
            Err(_) => return Err(unauthenticated(NO_CREDENTIAL)),
        };
        let Identity::Operator(name) = &identity.identity else {
            return Err(ApiError(HubError::denied(format!(
                "/api/v1 needs an operator certificate or an API token; {} is not an operator",
                identity.uri
            ))));
        };
        if state.revoked.contains(&identity.serial) {
            return Err(unauthenticated(
                "this client certificate is revoked by the CRL in force",
            ));
        }
        Ok(Caller {
            name: name.clone(),
            cert: format!("{} ({})", identity.uri, identity.fingerprint),
            presented: PresentedAgain::Cert(identity.serial.clone()),
        })
    }

    async fn token(
        &self,
        state: &WebState,
        presented: api_token::Presented,
        scope: Scope,
    ) -> Result<Caller, ApiError> {
        let id = presented.id;
        let record = crate::view::read(&state.store, move |s| s.api_token(id)).await?;
        let Some(record) = record else {
            // Anyone can present an unknown id: not audited (see `crate::refusals`).
            return Err(unauthenticated(TokenError::Unknown.to_string()));
        };
        let who = format!("api token {} ({})", record.id, record.name);
        // What the audit records of this call: the token by id and name, never its secret.
        let event = |action: &'static str, reason: String| Refusal {
            action,
            who: who.clone(),
            cert: String::new(),
            peer_ip: self
                .peer
                .as_ref()
                .and_then(|p| p.remote_addr)
                .map(|a| a.ip()),
            api: self.call.clone(),
            reason,
        };
        let refused = |e: ApiError| {
            state.refusals.record(event(ACTION, e.0.to_string()));
            e
        };
        let revoked = |serial: &str| state.revoked.contains(serial);
        match api_token::check(
            &presented,
            Some(&record),
            scope,
            socfed_proto::now_millis(),
            revoked,
        ) {
            Ok(()) => {}
            Err(e @ TokenError::MissingScope(_)) => {
                return Err(refused(ApiError(HubError::denied(e.to_string()))));
            }
            // A wrong secret reads as unknown: nothing tells a guesser the id exists.
            Err(TokenError::Unknown) => {
                return Err(unauthenticated(TokenError::Unknown.to_string()));
            }
            Err(e) => return Err(refused(unauthenticated(e.to_string()))),
        }
        if state.roles.get(&record.created_by).is_none() {
            return Err(refused(unauthenticated(format!(
                "the operator who minted this token ({}) is no longer in the roster",
                record.created_by
            ))));
        }
        state
            .refusals
            .token_use(event(TOKEN_USE, format!("acting as {}", record.created_by)));
        Ok(Caller {
            name: record.created_by.clone(),
            cert: who,
            presented: PresentedAgain::Token(presented),
        })
    }
}

const NO_CREDENTIAL: &str = "present an operator client certificate or an API token \
     (Authorization: Bearer socfed_<id>_<secret>; `sirt-hub tokens create` mints one)";

impl Caller {
    /// Reads as this operator (the TLP:RED rule of `crate::access`).
    pub fn reader(&self, state: &WebState) -> Reader {
        Reader::named(&self.name, &state.roles)
    }

    /// Acts as this operator for `api`, with its role from the live roster; 403 naming the
    /// roles `api` needs when it has none of them.
    pub fn acting(&self, state: &WebState, api: Api) -> Result<Acting, ApiError> {
        let acting = Acting {
            name: self.name.clone(),
            role: state.roles.get(&self.name),
            cert: self.cert.clone(),
        };
        acting.may(api)?;
        Ok(acting)
    }

    /// Whether the credential still holds (for a stream): not revoked, not expired, its
    /// operator (a token's creator) still in the roster, its certificate (a token's minting
    /// certificate) not revoked.
    pub async fn still_valid(&self, state: &WebState) -> bool {
        match &self.presented {
            PresentedAgain::Cert(serial) => !state.revoked.contains(serial),
            PresentedAgain::Token(presented) => {
                let id = presented.id;
                let Ok(Some(record)) =
                    crate::view::read(&state.store, move |s| s.api_token(id)).await
                else {
                    return false;
                };
                api_token::check(
                    presented,
                    Some(&record),
                    Scope::Read,
                    socfed_proto::now_millis(),
                    |serial| state.revoked.contains(serial),
                )
                .is_ok()
                    && state.roles.get(&record.created_by).is_some()
            }
        }
    }
}
