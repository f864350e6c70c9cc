//! The `Communications` service: drafts from templates, approval by the IR lead or CISO,
//! delivery through webhooks (or recorded by hand).

use super::acting::{Acting, Reader, Roles, incident_id, read};
use crate::access::Api;
use crate::comms::{self, Audience, CommRecord, CommState};
use crate::error::HubError;
use crate::ingest::IngestHandle;
use crate::ingest::apply::{CommEdit, CommsChange};
use crate::service::Commands;
use crate::store::HubStore;
use socfed_proto::pb;
use std::sync::Arc;
use tokio::sync::Notify;
use tonic::{Request, Response, Status};
use ulid::Ulid;

const MAX_NOTE_BYTES: usize = 4000;

#[derive(Clone)]
pub struct CommsService {
    pub store: Arc<HubStore>,
    pub roles: Roles,
    pub ingest: IngestHandle,
    /// Wakes the delivery task after an approval.
    pub deliver: Arc<Notify>,
    /// `[comms] allow_self_approval`: the drafter may approve her own draft.
    pub allow_self_approval: bool,
}

pub use crate::view::comms::communication;

fn comm_id(raw: &str) -> Result<Ulid, Status> {
    Ulid::from_string(raw)
        .map_err(|_| {
            HubError::invalid(format!(
                "{raw:?} is not a communication id (26-character ULID)"
            ))
        })
        .map_err(Status::from)
}

impl CommsService {
    async fn change(
        &self,
        acting: &Acting,
        incident: Ulid,
        edit: CommEdit,
    ) -> Result<Response<pb::Communication>, Status> {
        Reader::acting(acting, &self.roles)
            .may_read_id(&self.store, incident)
            .await?;
        let change = CommsChange {
            incident,
            edit,
            actor: acting.name.clone(),
            actor_cert: acting.cert.clone(),
            role: acting.role,
        };
        let record = Commands::on(&self.ingest).change_comms(change).await?;
        if matches!(record.state, CommState::Approved { .. }) {
            self.deliver.notify_one();
        }
        Ok(Response::new(communication(&record)))
    }
}

#[tonic::async_trait]
impl pb::communications_server::Communications for CommsService {
    async fn draft(
        &self,
        request: Request<pb::DraftCommunicationRequest>,
    ) -> Result<Response<pb::Communication>, Status> {
        let acting = Acting::of(&self.roles, &request, "Communications.Draft")?;
        acting.may(Api::DraftCommunication)?;
        let pb::DraftCommunicationRequest {
            incident_id: raw,
            audience,
            note,
        } = request.into_inner();
        let incident = incident_id(&raw)?;
        let audience: Audience = audience
            .parse()
            .map_err(|e: comms::UnknownAudience| HubError::invalid(e.to_string()))?;
        if note.len() > MAX_NOTE_BYTES {
            return Err(HubError::invalid("the note is at most 4000 bytes").into());
        }
        let Some(record) = read(&self.store, move |s| s.incident(incident)).await? else {
            return Err(HubError::not_found(format!(
                "no incident {incident}; list incidents to see valid ids"
            ))
            .into());
        };
        let now = socfed_proto::now_millis();
        let facts = comms::facts::of_incident(&record, now);
        let note = (!note.trim().is_empty()).then_some(note.as_str());
        let text = comms::draft(audience, &facts, note);
        let draft = CommRecord::new(Ulid::new(), incident, audience, text, &acting.name, now);
        self.change(&acting, incident, CommEdit::Draft(Box::new(draft)))
            .await
    }

    async fn decide(
        &self,
        request: Request<pb::DecideCommunicationRequest>,
    ) -> Result<Response<pb::Communication>, Status> {
        let acting = Acting::of(&self.roles, &request, "Communications.Decide")?;
        acting.may(Api::DecideCommunication)?;
        let pb::DecideCommunicationRequest {
            incident_id: raw,
            communication_id,
            approve,
            reason,
        } = request.into_inner();
        let incident = incident_id(&raw)?;
        let comm = comm_id(&communication_id)?;
        let edit = if approve {
            CommEdit::Approve {
                comm,
                allow_self_approval: self.allow_self_approval,
            }
        } else {
            CommEdit::Reject { comm, reason }
        };
        self.change(&acting, incident, edit).await
    }

    async fn record_delivery(
        &self,
        request: Request<pb::RecordDeliveryRequest>,
    ) -> Result<Response<pb::Communication>, Status> {
        let acting = Acting::of(&self.roles, &request, "Communications.RecordDelivery")?;
        acting.may(Api::RecordDelivery)?;
        let pb::RecordDeliveryRequest {
            incident_id: raw,
            communication_id,
            channel,
        } = request.into_inner();
        let channel = channel.trim().to_string();
        if channel.is_empty() || channel.len() > 200 {
            return Err(
                HubError::invalid("say how it was delivered (--channel, up to 200 bytes)").into(),
            );
        }
        let edit = CommEdit::Delivered {
            comm: comm_id(&communication_id)?,
            channel,
        };
        self.change(&acting, incident_id(&raw)?, edit).await
    }

    async fn list(
        &self,
        request: Request<pb::ListCommunicationsRequest>,
    ) -> Result<Response<pb::CommunicationList>, Status> {
        let reader = Reader::of(&self.roles, &request, "Communications.List")?;
        let incident = incident_id(&request.into_inner().incident_id)?;
        reader.may_read_id(&self.store, incident).await?;
        let records = read(&self.store, move |s| s.comms(incident)).await?;
        Ok(Response::new(pb::CommunicationList {
            communications: records.iter().map(communication).collect(),
        }))
    }
}
