//! The `Runbooks` service: the hub's runbooks read by every operator and kept by those the
//! access matrix names (`service::runbooks`); decoding and encoding only.

use super::acting::{Acting, Reader, Roles, read};
use crate::error::HubError;
use crate::ingest::IngestHandle;
use crate::service::Commands;
use crate::store::HubStore;
use socfed_proto::pb;
use socfed_proto::vocab::runbook::{Draft, parse_id};
use std::sync::Arc;
use tonic::{Request, Response, Status};

#[derive(Clone)]
pub struct RunbooksService {
    pub store: Arc<HubStore>,
    pub roles: Roles,
    pub ingest: IngestHandle,
}

fn draft(wire: Option<pb::RunbookDraft>) -> Result<Draft, Status> {
    let wire = wire.ok_or_else(|| HubError::invalid("draft: missing"))?;
    Ok(Draft::from_wire(wire).map_err(|e| HubError::invalid(e.to_string()))?)
}

fn id(raw: &str) -> Result<ulid::Ulid, Status> {
    Ok(parse_id(raw).map_err(|e| HubError::invalid(e.to_string()))?)
}

#[tonic::async_trait]
impl pb::runbooks_server::Runbooks for RunbooksService {
    async fn add_runbook(
        &self,
        request: Request<pb::AddRunbookRequest>,
    ) -> Result<Response<pb::Runbook>, Status> {
        let acting = Acting::of(&self.roles, &request, "AddRunbook")?;
        let draft = draft(request.into_inner().draft)?;
        let runbook = Commands::on(&self.ingest)
            .add_runbook(&acting, draft)
            .await?;
        Ok(Response::new(runbook.to_wire()))
    }

    async fn update_runbook(
        &self,
        request: Request<pb::UpdateRunbookRequest>,
    ) -> Result<Response<pb::Runbook>, Status> {
        let acting = Acting::of(&self.roles, &request, "UpdateRunbook")?;
        let pb::UpdateRunbookRequest { id: raw, draft: d } = request.into_inner();
        let (id, draft) = (id(&raw)?, draft(d)?);
        let runbook = Commands::on(&self.ingest)
            .update_runbook(&acting, id, draft)
            .await?;
        Ok(Response::new(runbook.to_wire()))
    }

    async fn retire_runbook(
        &self,
        request: Request<pb::RetireRunbookRequest>,
    ) -> Result<Response<pb::Runbook>, Status> {
        let acting = Acting::of(&self.roles, &request, "RetireRunbook")?;
        let id = id(&request.into_inner().id)?;
        let runbook = Commands::on(&self.ingest)
            .retire_runbook(&acting, id)
            .await?;
        Ok(Response::new(runbook.to_wire()))
    }

    async fn list_runbooks(
        &self,
        request: Request<pb::ListRunbooksRequest>,
    ) -> Result<Response<pb::RunbookList>, Status> {
        Reader::of(&self.roles, &request, "ListRunbooks")?;
        let runbooks = read(&self.store, |s| s.runbooks()).await?;
        Ok(Response::new(pb::RunbookList {
            runbooks: runbooks.iter().map(|r| r.to_wire()).collect(),
        }))
    }

    async fn get_runbook(
        &self,
        request: Request<pb::GetRunbookRequest>,
    ) -> Result<Response<pb::RunbookDetail>, Status> {
        Reader::of(&self.roles, &request, "GetRunbook")?;
        let pb::GetRunbookRequest { id: raw, version } = request.into_inner();
        let id = id(&raw)?;
        let version = (version > 0).then_some(version);
        let (runbook, history) = read(&self.store, move |s| {
            Ok((s.runbook(id, version)?, s.runbook_history(id)?))
        })
        .await?;
        let runbook = runbook.ok_or_else(|| {
            HubError::not_found(match version {
                Some(v) => format!("runbook {id} has no version {v}"),
                None => format!("no runbook {id}; `sirt-hub runbooks list` shows them"),
            })
        })?;
        Ok(Response::new(pb::RunbookDetail {
            runbook: Some(runbook.to_wire()),
            history: history.iter().map(|r| r.history_line()).collect(),
        }))
    }
}
