//! `SiteSoc`'s API token calls, decoded and encoded here (the rules are `service/tokens.rs`).

use crate::error::AgentError;
use crate::service::{Actor, SocService};
use socfed_proto::pb;
use socfed_runtime::api_token::scopes_from_wire;

pub use socfed_runtime::api_token::to_wire as token_to_wire;

pub fn create(
    service: &SocService,
    actor: &Actor,
    cert_serial: &str,
    request: pb::CreateApiTokenRequest,
) -> Result<pb::CreateApiTokenResponse, AgentError> {
    let scopes = scopes_from_wire(&request.scopes)
        .map_err(|e| AgentError::invalid(format!("scopes: {e}")))?;
    let minted = service.create_api_token(
        actor,
        cert_serial,
        &request.name,
        &scopes,
        request.lifetime_ms,
    )?;
    Ok(pb::CreateApiTokenResponse {
        token: minted.token,
        record: Some(token_to_wire(&minted.record)),
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
