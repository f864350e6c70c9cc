//! `SiteRunbooks`: the site's runbooks and the hub's, matched to alert groups and local
//! incidents with their checklist progress; decoding and encoding only (the rules are
//! `service/runbooks.rs`).

use crate::error::AgentError;
use crate::service::runbooks::Matched;
use crate::service::{Actor, SocService};
use socfed_proto::pb;
use socfed_proto::vocab::runbook::{Draft, parse_id};
use socfed_runtime::peer::caller;
use std::sync::Arc;
use tonic::{Request, Response, Status};

#[derive(Clone)]
pub struct RunbooksApi {
    pub service: Arc<SocService>,
}

impl RunbooksApi {
    fn actor<T>(&self, request: &Request<T>) -> Result<Actor, Status> {
        let peer = caller(request)?;
        Ok(self.service.actor(&peer)?)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&SocService) -> Result<T, AgentError> + Send + 'static,
    ) -> Result<T, Status> {
        Ok(crate::service::blocking(&self.service, work).await?)
    }
}

fn draft(wire: Option<pb::RunbookDraft>) -> Result<Draft, AgentError> {
    let wire = wire.ok_or_else(|| AgentError::invalid("draft: missing"))?;
    Draft::from_wire(wire).map_err(|e| AgentError::invalid(e.to_string()))
}

fn id(raw: &str) -> Result<ulid::Ulid, AgentError> {
    parse_id(raw).map_err(|e| AgentError::invalid(e.to_string()))
}

/// Matched runbooks on the wire, with their progress.
pub fn matched_to_wire(matched: &[Matched]) -> pb::MatchedRunbooks {
    pb::MatchedRunbooks {
        runbooks: matched
            .iter()
            .map(|(r, p)| pb::MatchedRunbook {
                runbook: Some(r.to_wire()),
                done: p.done.clone(),
                steps: u32::try_from(r.steps().len()).unwrap_or(u32::MAX),
            })
            .collect(),
    }
}

#[tonic::async_trait]
impl pb::site_runbooks_server::SiteRunbooks for RunbooksApi {
    async fn add_runbook(
        &self,
        request: Request<pb::AddRunbookRequest>,
    ) -> Result<Response<pb::Runbook>, Status> {
        let actor = self.actor(&request)?;
        let d = draft(request.into_inner().draft)?;
        let r = self.blocking(move |s| s.add_runbook(&actor, d)).await?;
        Ok(Response::new(r.to_wire()))
    }

    async fn update_runbook(
        &self,
        request: Request<pb::UpdateRunbookRequest>,
    ) -> Result<Response<pb::Runbook>, Status> {
        let actor = self.actor(&request)?;
        let pb::UpdateRunbookRequest { id: raw, draft: d } = request.into_inner();
        let (id, d) = (id(&raw)?, draft(d)?);
        let r = self
            .blocking(move |s| s.update_runbook(&actor, id, d))
            .await?;
        Ok(Response::new(r.to_wire()))
    }

    async fn retire_runbook(
        &self,
        request: Request<pb::RetireRunbookRequest>,
    ) -> Result<Response<pb::Runbook>, Status> {
        let actor = self.actor(&request)?;
        let id = id(&request.into_inner().id)?;
        let r = self.blocking(move |s| s.retire_runbook(&actor, id)).await?;
        Ok(Response::new(r.to_wire()))
    }

    async fn list_runbooks(
        &self,
        request: Request<pb::ListRunbooksRequest>,
    ) -> Result<Response<pb::RunbookList>, Status> {
        let actor = self.actor(&request)?;
        let all = self.blocking(move |s| s.list_runbooks(&actor)).await?;
        Ok(Response::new(pb::RunbookList {
            runbooks: all.iter().map(|r| r.to_wire()).collect(),
        }))
    }

    async fn get_runbook(
        &self,
        request: Request<pb::GetRunbookRequest>,
    ) -> Result<Response<pb::RunbookDetail>, Status> {
        let actor = self.actor(&request)?;
        let pb::GetRunbookRequest { id: raw, version } = request.into_inner();
        let id = id(&raw)?;
        let version = (version > 0).then_some(version);
        let (runbook, history) = self
            .blocking(move |s| s.get_runbook(&actor, id, version))
            .await?;
        Ok(Response::new(pb::RunbookDetail {
            runbook: Some(runbook.to_wire()),
            history: history.iter().map(|r| r.history_line()).collect(),
        }))
    }

    async fn matched_runbooks(
        &self,
        request: Request<pb::GetMatchedRunbooksRequest>,
    ) -> Result<Response<pb::MatchedRunbooks>, Status> {
        let actor = self.actor(&request)?;
        let subject = request.into_inner().subject;
        let matched = self
            .blocking(move |s| s.matched_runbooks(&actor, &subject))
            .await?;
        Ok(Response::new(matched_to_wire(&matched)))
    }

    async fn set_runbook_step(
        &self,
        request: Request<pb::SetRunbookStepRequest>,
    ) -> Result<Response<pb::MatchedRunbooks>, Status> {
        let actor = self.actor(&request)?;
        let pb::SetRunbookStepRequest {
            subject,
            runbook_id,
            step,
            done,
        } = request.into_inner();
        let id = id(&runbook_id)?;
        let matched = self
            .blocking(move |s| s.set_runbook_step(&actor, &subject, id, step, done))
            .await?;
        Ok(Response::new(matched_to_wire(&matched)))
    }
}
