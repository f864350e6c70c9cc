//! The `Communications` service: drafts from templates, approval by the IR lead or CISO,
//! delivery through webhooks (or recorded by hand); the commands are `service/comms.rs`.

use super::acting::{Acting, Reader, Roles, incident_id, read};
use crate::access::Api;
use crate::error::HubError;
use crate::ingest::IngestHandle;
use crate::service::Commands;
use crate::service::comms::CommsDesk;
use crate::store::HubStore;
use socfed_proto::pb;
use std::sync::Arc;
use tokio::sync::Notify;
use tonic::{Request, Response, Status};
use ulid::Ulid;

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
    fn desk(&self) -> CommsDesk<'_> {
        CommsDesk {
            store: &self.store,
            roles: &self.roles,
            deliver: &self.deliver,
            allow_self_approval: self.allow_self_approval,
        }
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
        let record = Commands::on(&self.ingest)
            .draft_comm(&self.desk(), &acting, incident, &audience, &note)
            .await?;
        Ok(Response::new(communication(&record)))
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
        let record = Commands::on(&self.ingest)
            .decide_comm(&self.desk(), &acting, incident, comm, approve, reason)
            .await?;
        Ok(Response::new(communication(&record)))
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
        let record = Commands::on(&self.ingest)
            .record_delivery(
                &self.desk(),
                &acting,
                incident_id(&raw)?,
                comm_id(&communication_id)?,
                &channel,
            )
            .await?;
        Ok(Response::new(communication(&record)))
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
