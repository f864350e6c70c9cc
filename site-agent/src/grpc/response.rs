//! The `SiteResponse` service: directives from the hub as site operators see and act on them.

use crate::error::AgentError;
use crate::response::engine::TaskStep;
use crate::response::{DirectiveRecord, ResponseEngine};
use crate::service::SocService;
use socfed_proto::pb;
use socfed_runtime::peer::caller;
use std::sync::Arc;
use tonic::{Request, Response, Status};
use ulid::Ulid;

#[derive(Clone)]
pub struct ResponseApi {
    pub soc: Arc<SocService>,
    pub engine: Arc<ResponseEngine>,
}

fn id(raw: &str) -> Result<Ulid, AgentError> {
    Ulid::from_string(raw).map_err(|_| {
        AgentError::invalid(format!("{raw:?} is not a directive id (26-character ULID)"))
    })
}

pub fn site_directive(record: &DirectiveRecord) -> pb::SiteDirective {
    pb::SiteDirective {
        directive: Some(pb::Directive {
            directive_id: record.id.to_string(),
            incident_id: record.incident_id.clone(),
            kind: record.kind.clone(),
            params: record.params.clone().into_iter().collect(),
            issued_at_ms: record.issued_at_ms,
            expires_at_ms: record.expires_at_ms,
            issued_by: record.issued_by.clone(),
        }),
        status: Some(record.to_update()),
        received_at_ms: record.received_at_ms,
        watch_until_ms: record.watch_until_ms,
    }
}

impl ResponseApi {
    /// Resolves the caller and runs `work` off the async workers.
    async fn call<T: Send + 'static, R>(
        &self,
        request: &Request<R>,
        work: impl FnOnce(&Arc<ResponseEngine>, &crate::service::Actor) -> Result<T, AgentError>
        + Send
        + 'static,
    ) -> Result<T, Status> {
        let peer = caller(request)?;
        let actor = self.soc.actor(&peer)?;
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || work(&engine, &actor))
            .await
            .map_err(|_| AgentError::internal("agent task failed"))?
            .map_err(Status::from)
    }
}

#[tonic::async_trait]
impl pb::site_response_server::SiteResponse for ResponseApi {
    async fn list_directives(
        &self,
        request: Request<pb::ListSiteDirectivesRequest>,
    ) -> Result<Response<pb::SiteDirectiveList>, Status> {
        let pb::ListSiteDirectivesRequest {
            tasks_only,
            exclude_tasks,
            limit,
        } = *request.get_ref();
        let limit = match limit {
            0 => 100,
            n => n.min(1000) as usize,
        };
        let wanted = move |r: &DirectiveRecord| {
            let task = r.kind == crate::response::KIND_TASK;
            if tasks_only {
                task
            } else if exclude_tasks {
                !task
            } else {
                true
            }
        };
        let records = self
            .call(&request, move |engine, actor| {
                engine.list(actor, limit, wanted)
            })
            .await?;
        let directives = records.iter().map(site_directive).collect();
        Ok(Response::new(pb::SiteDirectiveList { directives }))
    }

    async fn get_directive(
        &self,
        request: Request<pb::GetSiteDirectiveRequest>,
    ) -> Result<Response<pb::SiteDirective>, Status> {
        let id = id(&request.get_ref().directive_id)?;
        let record = self.call(&request, move |e, a| e.get(a, id)).await?;
        Ok(Response::new(site_directive(&record)))
    }

    async fn decide_directive(
        &self,
        request: Request<pb::DecideDirectiveRequest>,
    ) -> Result<Response<pb::SiteDirective>, Status> {
        let pb::DecideDirectiveRequest {
            directive_id,
            approve,
            reason,
        } = request.get_ref().clone();
        let id = id(&directive_id)?;
        if !approve && reason.trim().is_empty() {
            return Err(AgentError::invalid(
                "say why the action is rejected (--reason); the hub sees it",
            )
            .into());
        }
        let record = self
            .call(&request, move |e, a| e.decide(a, id, approve, &reason))
            .await?;
        Ok(Response::new(site_directive(&record)))
    }

    async fn work_task(
        &self,
        request: Request<pb::WorkTaskRequest>,
    ) -> Result<Response<pb::SiteDirective>, Status> {
        use pb::work_task_request::Step;
        let pb::WorkTaskRequest {
            directive_id,
            step,
            note,
        } = request.get_ref().clone();
        let id = id(&directive_id)?;
        let step = match Step::try_from(step) {
            Ok(Step::Acknowledge) => TaskStep::Acknowledge,
            Ok(Step::Start) => TaskStep::Start,
            Ok(Step::Complete) => TaskStep::Complete,
            Ok(Step::Decline) => TaskStep::Decline,
            Ok(Step::Unspecified) | Err(_) => {
                return Err(AgentError::invalid(
                    "step must be acknowledge, start, complete or decline",
                )
                .into());
            }
        };
        let record = self
            .call(&request, move |e, a| e.task(a, id, step, &note))
            .await?;
        Ok(Response::new(site_directive(&record)))
    }
}
