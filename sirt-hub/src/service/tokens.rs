//! API tokens for `/api/v1`: minted and revoked by an operator who may manage the roster
//! (admin or CISO: a token is a standing grant of access, like a roster entry), through the
//! writer with their audit entry. The secret is made here and returned once; the writer and
//! the store see only its hash.

use super::{Commands, wrong_answer};
use crate::access::Api;
use crate::access::acting::Acting;
use crate::error::HubError;
use crate::ingest::apply::{Item, ResponseOutcome, TokenChange};
use socfed_runtime::api_token::{self, Minted, Scope};
use ulid::Ulid;

impl Commands<'_> {
    /// A new token named `name` with `scopes`, living `lifetime_ms`, minted by `acting`
    /// presenting the certificate with serial `cert_serial` (the token dies with it).
    pub async fn mint_token(
        self,
        acting: &Acting,
        cert_serial: &str,
        name: &str,
        scopes: &[Scope],
        lifetime_ms: i64,
    ) -> Result<Minted, HubError> {
        acting.may(Api::ManageOperators)?;
        let minted = api_token::mint(
            name,
            scopes,
            lifetime_ms,
            &acting.name,
            cert_serial,
            socfed_proto::now_millis(),
        )
        .map_err(|e| HubError::invalid(e.to_string()))?;
        let change = TokenChange::Mint {
            record: minted.record.clone(),
            actor_cert: acting.cert.clone(),
        };
        match self
            .response(Item::Tokens(Box::new(change)), "mint_token")
            .await?
        {
            ResponseOutcome::Updated(_) => Ok(minted),
            other => Err(wrong_answer("mint_token", &other)),
        }
    }

    /// Revokes token `id` (a token already revoked stays as it was).
    pub async fn revoke_token(self, acting: &Acting, id: Ulid) -> Result<(), HubError> {
        acting.may(Api::ManageOperators)?;
        let change = TokenChange::Revoke {
            id,
            actor: acting.name.clone(),
            actor_cert: acting.cert.clone(),
        };
        match self
            .response(Item::Tokens(Box::new(change)), "revoke_token")
            .await?
        {
            ResponseOutcome::Updated(_) => Ok(()),
            other => Err(wrong_answer("revoke_token", &other)),
        }
    }
}
