//! The API token calls of the `OperatorRoster` service (`CreateApiToken`, `ListApiTokens`,
//! `RevokeApiToken`): decoding and encoding only; the rule is `service::tokens`.

use super::acting::{Acting, Roles, read};
use crate::access::Api;
use crate::error::HubError;
use crate::ingest::IngestHandle;
use crate::service::Commands;
use crate::store::HubStore;
use socfed_proto::pb;
use socfed_runtime::api_token::{Scope, TokenRecord};
use std::sync::Arc;
use tonic::{Request, Status};

pub fn wire(record: &TokenRecord) -> pb::ApiToken {
    pb::ApiToken {
        id: record.id.to_string(),
        name: record.name.clone(),
        scopes: record.scopes.iter().map(|s| s.as_str().into()).collect(),
        created_at_ms: record.created_ms,
        created_by: record.created_by.clone(),
        expires_at_ms: record.expires_ms,
        revoked_at_ms: record.revoked.as_ref().map_or(0, |r| r.at_ms),
        revoked_by: record
            .revoked
            .as_ref()
            .map(|r| r.by.clone())
            .unwrap_or_default(),
    }
}

pub async fn create(
    roles: &Roles,
    ingest: &IngestHandle,
    request: Request<pb::CreateApiTokenRequest>,
) -> Result<pb::CreateApiTokenResponse, Status> {
    let acting = Acting::of(roles, &request, "CreateApiToken")?;
    acting.may(Api::ManageOperators)?;
    let pb::CreateApiTokenRequest {
        name,
        scopes,
        lifetime_ms,
    } = request.into_inner();
    let scopes = scopes
        .iter()
        .map(|s| Scope::parse(s.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| HubError::invalid(e.to_string()))?;
    let minted = Commands::on(ingest)
        .mint_token(&acting, &name, &scopes, lifetime_ms)
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
