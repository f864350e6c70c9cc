//! API tokens minted and revoked, each with its audit entry in the same unit. The token's
//! secret never reaches the writer: the item carries the record, which holds its hash.

use super::Batch;
use super::response::ResponseOutcome;
use crate::store::StoreError;
use socfed_runtime::api_token::{Revocation, TokenRecord};
use ulid::Ulid;

#[derive(Debug, Clone)]
pub enum TokenChange {
    Mint {
        record: TokenRecord,
        actor_cert: String,
    },
    Revoke {
        id: Ulid,
        actor: String,
        actor_cert: String,
    },
}

impl Batch<'_, '_> {
    pub(super) fn tokens(&mut self, c: &TokenChange) -> Result<ResponseOutcome, StoreError> {
        let (record, actor, actor_cert, action) = match c {
            TokenChange::Mint { record, actor_cert } => {
                if self.unit.api_token(record.id)?.is_some() {
                    return Ok(ResponseOutcome::Rejected(format!(
                        "token {} exists already",
                        record.id
                    )));
                }
                (
                    record.clone(),
                    record.created_by.clone(),
                    actor_cert,
                    "token.create",
                )
            }
            TokenChange::Revoke {
                id,
                actor,
                actor_cert,
            } => {
                let Some(mut record) = self.unit.api_token(*id)? else {
                    return Ok(ResponseOutcome::NotFound(format!(
                        "no API token {id}; `sirt-hub tokens list` shows them"
                    )));
                };
                if record.revoked.is_some() {
                    return Ok(ResponseOutcome::Updated(false));
                }
                record.revoked = Some(Revocation {
                    at_ms: self.now,
                    by: actor.clone(),
                });
                (record, actor.clone(), actor_cert, "token.revoke")
            }
        };
        self.unit.put_api_token(&record)?;
        let scopes: Vec<&str> = record.scopes.iter().map(|s| s.as_str()).collect();
        self.unit.audit(socfed_runtime::audit::AuditDraft {
            at_ms: self.now,
            actor,
            actor_cert: actor_cert.clone(),
            action: action.into(),
            target: format!("{} ({})", record.id, record.name),
            before: None,
            after: Some(format!(
                "scopes {}; expires {}",
                scopes.join(","),
                record.expires_ms
            )),
        })?;
        Ok(ResponseOutcome::Updated(true))
    }
}
