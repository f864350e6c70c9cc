//! The `OperatorRoster` service: who holds which role at the hub. Changes go through the
//! ingest writer (audited) and the live roster is reloaded, so they apply to the next call.

use super::acting::{Acting, Roles, authorize, read};
use crate::access::Api;
use crate::error::HubError;
use crate::ingest::IngestHandle;
use crate::ingest::apply::RosterChange;
use crate::lifecycle::HubRole;
use crate::service::Commands;
use crate::store::HubStore;
use crate::view::wire::ROLES;
use socfed_proto::pb;
use std::sync::Arc;
use tonic::{Request, Response, Status};

#[derive(Clone)]
pub struct RosterService {
    pub store: Arc<HubStore>,
    pub roles: Roles,
    pub ingest: IngestHandle,
    /// The dashboard's address, when the dashboard is enabled.
    pub dashboard: Option<String>,
}

impl RosterService {
    async fn list(&self) -> Result<Response<pb::OperatorList>, Status> {
        let entries = read(&self.store, |s| s.operators()).await?;
        self.roles.replace(&entries);
        Ok(Response::new(pb::OperatorList {
            operators: entries
                .into_iter()
                .map(|(name, r)| pb::RosterEntry {
                    name,
                    role: ROLES.to_wire(r.role).into(),
                    since_ms: r.since_ms,
                    set_by: r.set_by,
                })
                .collect(),
        }))
    }

    async fn change(
        &self,
        acting: &Acting,
        name: String,
        role: Option<HubRole>,
    ) -> Result<Response<pb::OperatorList>, Status> {
        let name = socfed_proto::identity::parse_operator_name(&name)
            .map_err(|e| HubError::invalid(e.to_string()))?;
        let change = RosterChange {
            name,
            role,
            actor: acting.name.clone(),
            actor_cert: acting.cert.clone(),
        };
        Commands::on(&self.ingest).change_roster(change).await?;
        self.list().await
    }
}

#[tonic::async_trait]
impl pb::operator_roster_server::OperatorRoster for RosterService {
    async fn list_operators(
        &self,
        request: Request<pb::ListOperatorsRequest>,
    ) -> Result<Response<pb::OperatorList>, Status> {
        authorize(&request, "ListOperators")?;
        self.list().await
    }

    async fn set_operator(
        &self,
        request: Request<pb::SetOperatorRequest>,
    ) -> Result<Response<pb::OperatorList>, Status> {
        let acting = Acting::of(&self.roles, &request, "SetOperator")?;
        acting.may(Api::ManageOperators)?;
        let pb::SetOperatorRequest {
            name,
            legacy_role,
            role,
        } = request.into_inner();
        socfed_proto::vocab::refuse_legacy_word("role", &legacy_role).map_err(HubError::from)?;
        let role: HubRole = ROLES.from_wire(role).map_err(HubError::from)?;
        self.change(&acting, name, Some(role)).await
    }

    async fn dashboard_login(
        &self,
        request: Request<pb::DashboardLoginRequest>,
    ) -> Result<Response<pb::DashboardLoginResponse>, Status> {
        let acting = Acting::of(&self.roles, &request, "DashboardLogin")?;
        acting.may(Api::SignIn)?;
        let Some(base) = &self.dashboard else {
            return Err(HubError::refused(
                "the dashboard is not enabled at this hub; add a [dashboard] table to its config",
            )
            .into());
        };
        let peer = socfed_runtime::peer::caller(&request)?;
        let link = crate::session::new_secret().map_err(|e| {
            HubError::unavailable(format!("no randomness for a sign-in link ({e}); retry"))
        })?;
        let now = socfed_proto::now_millis();
        let grant = crate::session::Grant::link_for(&acting.name, &peer, now);
        let expires_at_ms = grant.expires_ms;
        Commands::on(&self.ingest)
            .issue_sign_in_link(link.key(), grant, acting.cert.clone())
            .await?;
        tracing::info!(operator = %acting.name, "dashboard sign-in link issued");
        Ok(Response::new(pb::DashboardLoginResponse {
            url: format!(
                "{}/login?token={}",
                base.trim_end_matches('/'),
                link.to_hex()
            ),
            expires_at_ms,
        }))
    }

    async fn create_api_token(
        &self,
        request: Request<pb::CreateApiTokenRequest>,
    ) -> Result<Response<pb::CreateApiTokenResponse>, Status> {
        super::tokens::create(&self.roles, &self.ingest, request)
            .await
            .map(Response::new)
    }

    async fn list_api_tokens(
        &self,
        request: Request<pb::ListApiTokensRequest>,
    ) -> Result<Response<pb::ApiTokenList>, Status> {
        super::tokens::list(&self.store, &self.roles, request)
            .await
            .map(Response::new)
    }

    async fn revoke_api_token(
        &self,
        request: Request<pb::RevokeApiTokenRequest>,
    ) -> Result<Response<pb::ApiToken>, Status> {
        super::tokens::revoke((&self.store, &self.roles, &self.ingest), request)
            .await
            .map(Response::new)
    }

    async fn remove_operator(
        &self,
        request: Request<pb::RemoveOperatorRequest>,
    ) -> Result<Response<pb::OperatorList>, Status> {
        let acting = Acting::of(&self.roles, &request, "RemoveOperator")?;
        acting.may(Api::ManageOperators)?;
        let name = request.into_inner().name;
        self.change(&acting, name, None).await
    }
}
