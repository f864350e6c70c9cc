//! `HubCasework`: notes on hub incidents. Decode, identify the caller from its certificate,
//! call `service::notes`, encode; nothing else.

use super::acting::{Acting, Reader, Roles, incident_id};
use crate::error::HubError;
use crate::ingest::IngestHandle;
use crate::service::notes::{self, NoteView};
use crate::store::HubStore;
use socfed_proto::pb;
use socfed_proto::vocab::Tlp;
use std::sync::Arc;
use tonic::{Request, Response, Status};

#[derive(Clone)]
pub struct CaseworkService {
    pub store: Arc<HubStore>,
    pub roles: Roles,
    pub ingest: IngestHandle,
}

pub fn note(n: &NoteView) -> pb::IncidentNote {
    pb::IncidentNote {
        id: n.id.to_string(),
        author: n.author.clone(),
        at_ms: n.at_ms,
        text: n.text.clone(),
        tlp: Tlp::optional_to_wire(n.tlp),
        redacted: n.redacted.clone().unwrap_or_default(),
    }
}

/// A note's optional marking from the wire: unspecified is none.
pub fn note_tlp(value: i32) -> Result<Option<Tlp>, HubError> {
    Tlp::optional_from_wire(value, "tlp").map_err(|e| HubError::invalid(e.to_string()))
}

#[tonic::async_trait]
impl pb::hub_casework_server::HubCasework for CaseworkService {
    async fn list_hub_incident_notes(
        &self,
        request: Request<pb::ListIncidentNotesRequest>,
    ) -> Result<Response<pb::IncidentNotes>, Status> {
        let reader = Reader::of(&self.roles, &request, "ListHubIncidentNotes")?;
        let incident = incident_id(&request.into_inner().incident_id)?;
        let notes = notes::list(&self.store, &reader, &self.roles, incident).await?;
        Ok(Response::new(pb::IncidentNotes {
            notes: notes.iter().map(note).collect(),
        }))
    }

    async fn add_hub_incident_note(
        &self,
        request: Request<pb::AddIncidentNoteRequest>,
    ) -> Result<Response<pb::IncidentNote>, Status> {
        let acting = Acting::of(&self.roles, &request, "AddHubIncidentNote")?;
        let pb::AddIncidentNoteRequest {
            incident_id: id,
            text,
            tlp,
        } = request.into_inner();
        let incident = incident_id(&id)?;
        let tlp = note_tlp(tlp)?;
        let added = notes::add(
            &self.store,
            &self.ingest,
            &self.roles,
            &acting,
            incident,
            &text,
            tlp,
        )
        .await?;
        Ok(Response::new(note(&added)))
    }
}
