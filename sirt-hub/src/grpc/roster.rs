//! The `OperatorRoster` service: who holds which role at the hub. Changes go through the
//! ingest writer (audited) and the live roster is reloaded, so they apply to the next call.

use super::acting::{Acting, Roles, authorize, read};
use crate::access::Api;
use crate::ingest::IngestHandle;
use crate::lifecycle::HubRole;
use crate::store::HubStore;
use crate::store::apply::{Item, ResponseOutcome, RosterChange};
use socfed_proto::pb;
use std::sync::Arc;
use tonic::{Request, Response, Status};

#[derive(Clone)]
pub struct RosterService {
    pub store: Arc<HubStore>,
    pub roles: Roles,
    pub ingest: IngestHandle,
    /// Sign-in tokens and the dashboard's address, when the dashboard is enabled.
    pub dashboard: Option<(Arc<crate::web::Tokens>, String)>,
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
                    role: r.role.as_str().to_string(),
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
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let change = RosterChange {
            name,
            role,
            actor: acting.name.clone(),
            actor_cert: acting.cert.clone(),
        };
        match super::run_response(&self.ingest, Item::Roster(Box::new(change))).await? {
            ResponseOutcome::Updated(_) => self.list().await,
            _ => Err(Status::unavailable(
                "the hub is shutting down; retry shortly",
            )),
        }
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
        let pb::SetOperatorRequest { name, role } = request.into_inner();
        let role: HubRole = role
            .parse()
            .map_err(|e: crate::lifecycle::UnknownRole| Status::invalid_argument(e.to_string()))?;
        self.change(&acting, name, Some(role)).await
    }

    async fn dashboard_login(
        &self,
        request: Request<pb::DashboardLoginRequest>,
    ) -> Result<Response<pb::DashboardLoginResponse>, Status> {
        let acting = Acting::of(&self.roles, &request, "DashboardLogin")?;
        acting.may(Api::Read)?;
        let Some((tokens, base)) = &self.dashboard else {
            return Err(Status::failed_precondition(
                "the dashboard is not enabled at this hub; add a [dashboard] table to its config",
            ));
        };
        let (token, expires_at_ms) = tokens.mint(&acting.name, socfed_proto::now_millis());
        tracing::info!(operator = %acting.name, "dashboard sign-in link issued");
        Ok(Response::new(pb::DashboardLoginResponse {
            url: format!("{}/login?token={token}", base.trim_end_matches('/')),
            expires_at_ms,
        }))
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
