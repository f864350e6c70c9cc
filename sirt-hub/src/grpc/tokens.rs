//! The API token calls of the `OperatorRoster` service (`CreateApiToken`, `ListApiTokens`,
//! `RevokeApiToken`): decoding and encoding only; the rule is `service::tokens`.

use super::acting::{Acting, Roles, read};
use crate::access::Api;
use crate::error::HubError;
use crate::ingest::IngestHandle;
use crate::service::Commands;
use crate::store::HubStore;
use socfed_proto::pb;
use socfed_runtime::api_token::{scopes_from_wire, to_wire as wire};
use std::sync::Arc;
use tonic::{Request, Status};

pub async fn create(
    roles: &Roles,
    ingest: &IngestHandle,
    request: Request<pb::CreateApiTokenRequest>,
) -> Result<pb::CreateApiTokenResponse, Status> {
    let acting = Acting::of(roles, &request, "CreateApiToken")?;
    acting.may(Api::ManageOperators)?;
    // The token lives only as long as this certificate is not revoked.
    let cert_serial = socfed_runtime::peer::caller(&request)?.serial;
    let pb::CreateApiTokenRequest {
        name,
        scopes,
        lifetime_ms,
    } = request.into_inner();
    let scopes = scopes_from_wire(&scopes).map_err(|e| HubError::invalid(e.to_string()))?;
    let minted = Commands::on(ingest)
        .mint_token(&acting, &cert_serial, &name, &scopes, lifetime_ms)
        .await?;
    Ok(pb::CreateApiTokenResponse {
        token: minted.token,
        record: Some(wire(&minted.record)),
    })
}

pub async fn list(
    store: &Arc<HubStore>,
    roles: &Roles,
    request: Request<pb::ListApiTokensRequest>,
) -> Result<pb::ApiTokenList, Status> {
    // Names, scopes and owners of standing grants: for those who manage them.
    let acting = Acting::of(roles, &request, "ListApiTokens")?;
    acting.may(Api::ManageOperators)?;
    let tokens = read(store, |s| s.api_tokens()).await?;
    Ok(pb::ApiTokenList {
        tokens: tokens.iter().map(wire).collect(),
    })
}

pub async fn revoke(
    (store, roles, ingest): (&Arc<HubStore>, &Roles, &IngestHandle),
    request: Request<pb::RevokeApiTokenRequest>,
) -> Result<pb::ApiToken, Status> {
    let acting = Acting::of(roles, &request, "RevokeApiToken")?;
    acting.may(Api::ManageOperators)?;
    let raw = request.into_inner().id;
    let id = ulid::Ulid::from_string(raw.trim()).map_err(|_| {
        HubError::invalid(format!(
            "{raw:?} is not a token id (the 26 characters after socfed_)"
        ))
    })?;
    Commands::on(ingest).revoke_token(&acting, id).await?;
    match read(store, move |s| s.api_token(id)).await? {
        Some(record) => Ok(wire(&record)),
        None => Err(HubError::not_found(format!("no API token {id}")).into()),
    }
}
