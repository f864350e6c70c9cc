//! The HTTP API's tokens at the site: minted, listed and revoked by the SOC manager
//! (`site-agent tokens`), checked for every API request that presents one, and the uses of
//! tokens on reads recorded in the audit chain in batches (a token's intake is audited by the
//! intake unit itself, whose actor names the token).
//!
//! A token acts for the person who minted it, with the role that person has in the roster
//! *now* (re-read at every use), narrowed to the token's scopes: a minter who leaves the
//! roster or loses the SOC manager role takes their tokens' rights with them.

use super::{Actor, SocService, json};
use crate::error::AgentError;
use crate::soc::authz::{self, Operation};
use socfed_proto::UnixMillis;
use socfed_runtime::api_token::{
    self, Minted, Presented, Revocation, Scope, TokenError, TokenRecord,
};
use ulid::Ulid;

/// What a token's list entry shows (the record without its secret's hash).
fn shown(record: &TokenRecord) -> serde_json::Value {
    serde_json::json!({
        "id": record.id.to_string(), "name": record.name,
        "scopes": record.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "expires_ms": record.expires_ms, "created_by": record.created_by,
        "revoked": record.revoked.is_some(),
    })
}

/// Uses of one token on reads, counted in memory and audited as one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUses {
    pub id: Ulid,
    pub name: String,
    pub created_by: String,
    pub count: u64,
    pub first_ms: UnixMillis,
    pub last_ms: UnixMillis,
}

impl SocService {
    /// Mints a token for `actor` presenting the certificate with serial `cert_serial` (the
    /// token is refused once the CRL revokes it); the returned [`Minted::token`] is shown
    /// once and never stored.
    pub fn create_api_token(
        &self,
        actor: &Actor,
        cert_serial: &str,
        name: &str,
        scopes: &[Scope],
        lifetime_ms: i64,
    ) -> Result<Minted, AgentError> {
        authz::check(actor.role, Operation::ManageApiTokens, None)?;
        if scopes.contains(&Scope::Respond) {
            // The hub's scope: nothing at a site takes it, so a token holding it is a mistake.
            return Err(AgentError::invalid(
                "scope respond is the hub's; a site's tokens take read, intake and triage",
            ));
        }
        let minted = api_token::mint(
            name,
            scopes,
            lifetime_ms,
            &actor.name,
            cert_serial,
            self.now(),
        )
        .map_err(|e| AgentError::invalid(e.to_string()))?;
        if self
            .store
            .api_tokens()?
            .iter()
            .any(|t| t.name == name && t.revoked.is_none() && t.expires_ms > self.now())
        {
            return Err(AgentError::invalid(format!(
                "a live token is already named {name:?}: revoke it first (`site-agent tokens revoke ID`) or choose another name"
            )));
        }
        self.store.unit(|unit| {
            unit.put_api_token(&minted.record)?;
            self.audit(
                unit,
                actor,
                "api-token.create",
                &minted.record.id.to_string(),
                None,
                json(&shown(&minted.record)),
            )?;
            Ok::<_, AgentError>(())
        })?;
        Ok(minted)
    }

    pub fn list_api_tokens(&self, actor: &Actor) -> Result<Vec<TokenRecord>, AgentError> {
        authz::check(actor.role, Operation::ManageApiTokens, None)?;
        Ok(self.store.api_tokens()?)
    }

    /// Revokes token `id` (already revoked: unchanged, so a retry is harmless).
    pub fn revoke_api_token(&self, actor: &Actor, id: Ulid) -> Result<TokenRecord, AgentError> {
        authz::check(actor.role, Operation::ManageApiTokens, None)?;
        let now = self.now();
        self.store.unit(|unit| {
            let mut record = unit.api_token(id)?.ok_or_else(|| {
                AgentError::NotFound(format!(
                    "no API token {id}; `site-agent tokens list` shows them"
                ))
            })?;
            if record.revoked.is_some() {
                return Ok(record);
            }
            let before = json(&shown(&record));
            record.revoked = Some(Revocation {
                at_ms: now,
                by: actor.name.clone(),
            });
            unit.put_api_token(&record)?;
            self.audit(
                unit,
                actor,
                "api-token.revoke",
                &id.to_string(),
                before,
                json(&shown(&record)),
            )?;
            Ok(record)
        })
    }

    /// The actor a presented token acts as for an endpoint needing `scope` and `operation`:
    /// unknown, wrong secret, expired, revoked or minted by a certificate the CRL in force
    /// revokes is `Unauthenticated`; a missing scope, or a
    /// minter whose role now refuses `operation`, is `Denied` naming what is missing.
    pub fn token_actor(
        &self,
        presented: &Presented,
        scope: Scope,
    ) -> Result<(Actor, TokenRecord), AgentError> {
        let record = self.store.api_token(presented.id)?;
        api_token::check(presented, record.as_ref(), scope, self.now(), |serial| {
            self.revoked.contains(serial)
        })
        .map_err(token_error)?;
        let record = record.ok_or_else(|| token_error(TokenError::Unknown))?;
        let cert = format!("api token {} ({})", record.id, record.name);
        let minter = self.roster_actor(&record.created_by, cert)?;
        let actor = Actor {
            name: format!("api-token:{}", record.name),
            role: minter.role,
            cert: minter.cert,
        };
        Ok((actor, record))
    }

    /// Audits batched token uses: one entry per token in one unit.
    pub fn record_token_uses(&self, uses: &[TokenUses]) -> Result<(), AgentError> {
        if uses.is_empty() {
            return Ok(());
        }
        self.store.unit(|unit| {
            for used in uses {
                let actor = Actor {
                    name: format!("api-token:{}", used.name),
                    role: crate::soc::Role::Sensor,
                    cert: format!("api token {} ({})", used.id, used.name),
                };
                let after = serde_json::json!({
                    "requests": used.count, "first_ms": used.first_ms, "last_ms": used.last_ms,
                });
                self.audit(
                    unit,
                    &actor,
                    "api-token.read",
                    &used.id.to_string(),
                    None,
                    json(&after),
                )?;
            }
            Ok::<_, AgentError>(())
        })
    }
}

/// A token refusal as the agent's error: who you are (401) or what you may do (403).
pub fn token_error(error: TokenError) -> AgentError {
    match error {
        TokenError::MissingScope(_) => AgentError::Forbidden(error.to_string()),
        other => AgentError::Unauthenticated(other.to_string()),
    }
}
