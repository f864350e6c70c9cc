//! The `Observables` service: an incident's observables, an analyst's change to one, and the
//! lookup of an indicator across incidents. Reads go through `view/observables.rs` (the
//! TLP:RED rule applied inside), changes through `service/observables.rs`.

use super::acting::{Acting, Reader, Roles, incident_id, read};
use crate::error::HubError;
use crate::ingest::IngestHandle;
use crate::service::Commands;
use crate::service::observables::{self as commands, EditWords};
use crate::store::HubStore;
use crate::view::observables::{self as view, readable_incident};
use socfed_proto::pb;
use std::sync::Arc;
use tonic::{Request, Response, Status};

#[derive(Clone)]
pub struct ObservablesService {
    pub store: Arc<HubStore>,
    pub roles: Roles,
    pub ingest: IngestHandle,
}

/// The words of an action on the wire.
fn action_word(action: i32) -> Result<&'static str, HubError> {
    match pb::ObservableAction::try_from(action) {
        Ok(pb::ObservableAction::Add) => Ok("add"),
        Ok(pb::ObservableAction::Flag) => Ok("flag"),
        Ok(pb::ObservableAction::Unflag) => Ok("unflag"),
        Ok(pb::ObservableAction::Remove) => Ok("remove"),
        Ok(pb::ObservableAction::Unspecified) | Err(_) => Err(HubError::invalid(
            "action is required: add, flag, unflag or remove",
        )),
    }
}

#[tonic::async_trait]
impl pb::observables_server::Observables for ObservablesService {
    async fn list(
        &self,
        request: Request<pb::ListObservablesRequest>,
    ) -> Result<Response<pb::ObservableList>, Status> {
        let reader = Reader::of(&self.roles, &request, "Observables.List")?;
        let incident = incident_id(&request.into_inner().incident_id)?;
        let record = readable_incident(&self.store, &reader, incident).await?;
        let list = read(&self.store, move |s| view::listing(s, &reader, &record)).await?;
        Ok(Response::new(list))
    }

    async fn change(
        &self,
        request: Request<pb::ChangeObservableRequest>,
    ) -> Result<Response<pb::ChangeObservableResponse>, Status> {
        let acting = Acting::of(&self.roles, &request, "Observables.Change")?;
        let pb::ChangeObservableRequest {
            incident_id: raw,
            indicator,
            action,
            ioc,
            sighted,
            tags,
            tlp,
        } = request.into_inner();
        let incident = incident_id(&raw)?;
        let indicator = commands::indicator(&indicator)?;
        let tlp = match pb::Tlp::try_from(tlp) {
            Ok(pb::Tlp::Unspecified) => None,
            Ok(_) => Some(
                socfed_proto::vocab::Tlp::from_wire(tlp, "tlp")
                    .map_err(|e| HubError::invalid(e.to_string()))?
                    .as_str()
                    .to_string(),
            ),
            Err(_) => return Err(HubError::invalid(format!("unknown TLP number {tlp}")).into()),
        };
        let edit = commands::edit_of(&EditWords {
            action: action_word(action)?.into(),
            ioc,
            sighted,
            tags,
            tlp,
        })?;
        let record = Commands::on(&self.ingest)
            .change_observable(
                (&self.store, &self.roles),
                &acting,
                incident,
                indicator,
                edit,
            )
            .await?;
        Ok(Response::new(pb::ChangeObservableResponse {
            observable: record.map(|r| view::observable(&r, Vec::new())),
        }))
    }

    async fn lookup(
        &self,
        request: Request<pb::LookupObservableRequest>,
    ) -> Result<Response<pb::ObservableLookup>, Status> {
        let reader = Reader::of(&self.roles, &request, "Observables.Lookup")?;
        let pb::LookupObservableRequest { indicator, limit } = request.into_inner();
        let indicator = commands::indicator(&indicator)?;
        let limit = view::lookup_limit(limit)?;
        let found = read(&self.store, move |s| {
            view::lookup(s, &reader, &indicator, limit)
        })
        .await?;
        Ok(Response::new(found))
    }
}
