//! `SiteSoc`'s API token calls, decoded and encoded here (the rules are `service/tokens.rs`).

use crate::error::AgentError;
use crate::service::{Actor, SocService};
use socfed_proto::pb;
use socfed_runtime::api_token::{Scope, TokenRecord};

/// A token record on the wire (never its secret's hash).
pub fn token_to_wire(record: &TokenRecord) -> pb::ApiToken {
    pb::ApiToken {
        id: record.id.to_string(),
        name: record.name.clone(),
        scopes: record
            .scopes
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
        created_ms: record.created_ms,
        created_by: record.created_by.clone(),
        expires_ms: record.expires_ms,
        revoked_ms: record.revoked.as_ref().map_or(0, |r| r.at_ms),
        revoked_by: record
            .revoked
            .as_ref()
            .map(|r| r.by.clone())
            .unwrap_or_default(),
    }
}

pub fn create(
    service: &SocService,
    actor: &Actor,
    request: pb::CreateApiTokenRequest,
) -> Result<pb::CreateApiTokenResponse, AgentError> {
    let scopes = request
        .scopes
        .iter()
        .map(|s| Scope::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AgentError::invalid(format!("scopes: {e}")))?;
    let minted = service.create_api_token(actor, &request.name, &scopes, request.lifetime_ms)?;
    Ok(pb::CreateApiTokenResponse {
        token: Some(token_to_wire(&minted.record)),
        secret_token: minted.token,
    })
}

pub fn revoke(
    service: &SocService,
    actor: &Actor,
    request: pb::RevokeApiTokenRequest,
) -> Result<pb::ApiToken, AgentError> {
    let id = ulid::Ulid::from_string(&request.id).map_err(|_| {
        AgentError::invalid(format!(
            "{:?} is not an API token id (26-character ULID)",
            request.id.chars().take(40).collect::<String>()
        ))
    })?;
    Ok(token_to_wire(&service.revoke_api_token(actor, id)?))
}
