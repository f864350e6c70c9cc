//! The `HuntLibrary` service: the hub's hunt library for operators. Decode, call the service
//! layer (`service::hunt_library`) or the read model (`view::library`), encode; nothing else.

use super::acting::{Acting, Reader, Roles};
use crate::error::HubError;
use crate::hunt_library::{LibraryError, RawSpec};
use crate::ingest::IngestHandle;
use crate::ingest::apply::{LibraryAction, LibraryChanged};
use crate::service::Commands;
use crate::store::HubStore;
use crate::view::library as view;
use socfed_proto::pb;
use std::sync::Arc;
use tonic::{Request, Response, Status};

#[derive(Clone)]
pub struct HuntLibraryService {
    pub store: Arc<HubStore>,
    pub roles: Roles,
    pub ingest: IngestHandle,
    pub enrolled: crate::enrolment::Enrolled,
}

fn invalid(e: LibraryError) -> Status {
    HubError::invalid(e.0).into()
}

/// The wire's spec as text to parse.
pub fn raw_spec(spec: pb::LibraryHuntSpec) -> (RawSpec, bool) {
    let pb::LibraryHuntSpec {
        name,
        description,
        indicators,
        techniques,
        severity,
        tlp,
        interval_s,
        lookback_s,
        disabled,
    } = spec;
    (
        RawSpec {
            name,
            description,
            indicators,
            techniques,
            severity,
            tlp,
            interval_s,
            lookback_s,
        },
        disabled,
    )
}

impl HuntLibraryService {
    async fn change(
        &self,
        acting: &Acting,
        action: LibraryAction,
    ) -> Result<LibraryChanged, Status> {
        Ok(Commands::on(&self.ingest)
            .change_library(acting, action)
            .await?)
    }
}

#[tonic::async_trait]
impl pb::hunt_library_server::HuntLibrary for HuntLibraryService {
    async fn add(
        &self,
        request: Request<pb::LibraryHuntSpec>,
    ) -> Result<Response<pb::LibraryHunt>, Status> {
        let acting = Acting::of(&self.roles, &request, "HuntLibrary.Add")?;
        let (raw, disabled) = raw_spec(request.into_inner());
        let spec = raw.parse().map_err(invalid)?;
        let action = LibraryAction::Add {
            spec,
            enabled: !disabled,
        };
        let changed = self.change(&acting, action).await?;
        Ok(Response::new(view::hunt(&changed.hunt)))
    }

    async fn update(
        &self,
        request: Request<pb::UpdateLibraryHuntRequest>,
    ) -> Result<Response<pb::LibraryHunt>, Status> {
        let acting = Acting::of(&self.roles, &request, "HuntLibrary.Update")?;
        let pb::UpdateLibraryHuntRequest { id, spec } = request.into_inner();
        let id = view::parse_id(&id)?;
        let (raw, _) = raw_spec(spec.unwrap_or_default());
        let spec = raw.parse().map_err(invalid)?;
        let changed = self
            .change(&acting, LibraryAction::Update { id, spec })
            .await?;
        Ok(Response::new(view::hunt(&changed.hunt)))
    }

    async fn set_enabled(
        &self,
        request: Request<pb::SetLibraryHuntEnabledRequest>,
    ) -> Result<Response<pb::LibraryHunt>, Status> {
        let acting = Acting::of(&self.roles, &request, "HuntLibrary.SetEnabled")?;
        let pb::SetLibraryHuntEnabledRequest { id, enabled } = request.into_inner();
        let id = view::parse_id(&id)?;
        let changed = self
            .change(&acting, LibraryAction::Switch { id, enabled })
            .await?;
        Ok(Response::new(view::hunt(&changed.hunt)))
    }

    async fn run(
        &self,
        request: Request<pb::LibraryHuntId>,
    ) -> Result<Response<pb::LibraryRun>, Status> {
        let acting = Acting::of(&self.roles, &request, "HuntLibrary.Run")?;
        let id = view::parse_id(&request.into_inner().id)?;
        let action = LibraryAction::Run {
            id,
            scheduled: false,
            enrolled: self.enrolled.sites()?,
        };
        let changed = self.change(&acting, action).await?;
        Ok(Response::new(pb::LibraryRun {
            library: Some(view::hunt(&changed.hunt)),
            hunt_id: changed.run.map(|h| h.id.to_string()).unwrap_or_default(),
        }))
    }

    async fn list(
        &self,
        request: Request<pb::ListLibraryHuntsRequest>,
    ) -> Result<Response<pb::LibraryHuntList>, Status> {
        let reader = Reader::of(&self.roles, &request, "HuntLibrary.List")?;
        let hunts = view::all(&self.store, &reader).await?;
        Ok(Response::new(pb::LibraryHuntList {
            hunts: hunts.iter().map(view::hunt).collect(),
        }))
    }

    async fn get(
        &self,
        request: Request<pb::LibraryHuntId>,
    ) -> Result<Response<pb::LibraryHuntDetail>, Status> {
        let reader = Reader::of(&self.roles, &request, "HuntLibrary.Get")?;
        let id = view::parse_id(&request.into_inner().id)?;
        let (hunt, versions) = view::detail(&self.store, &reader, id).await?;
        Ok(Response::new(pb::LibraryHuntDetail {
            hunt: Some(view::hunt(&hunt)),
            versions: versions.iter().map(view::hunt).collect(),
        }))
    }

    async fn import(
        &self,
        request: Request<pb::ImportLibraryHuntRequest>,
    ) -> Result<Response<pb::LibraryImport>, Status> {
        let acting = Acting::of(&self.roles, &request, "HuntLibrary.Import")?;
        let pb::ImportLibraryHuntRequest {
            data,
            format,
            name,
            severity,
            interval_s,
            lookback_s,
            disabled,
        } = request.into_inner();
        let choices = crate::hunt_library::import::Choices {
            name,
            severity: severity
                .parse()
                .map_err(|e: socfed_proto::vocab::InvalidField| {
                    Status::from(HubError::invalid(format!("severity: {}", e.problem)))
                })?,
            interval_s,
            lookback_s,
        };
        let (changed, imported) = Commands::on(&self.ingest)
            .import_library(&acting, &data, &format, choices, !disabled)
            .await?;
        Ok(Response::new(pb::LibraryImport {
            hunt: Some(view::hunt(&changed.hunt)),
            taken: imported.taken as u64,
            not_taken: imported.not_taken,
        }))
    }

    async fn stats(
        &self,
        request: Request<pb::LibraryHuntId>,
    ) -> Result<Response<pb::LibraryHuntStats>, Status> {
        let reader = Reader::of(&self.roles, &request, "HuntLibrary.Stats")?;
        let id = view::parse_id(&request.into_inner().id)?;
        let (_, stats) = view::stats(&self.store, &reader, id).await?;
        Ok(Response::new(view::stats_wire(id, &stats)))
    }
}
