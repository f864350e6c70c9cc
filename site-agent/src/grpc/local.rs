//! The `SiteLocal` service: operators at the site raise incidents (one at a time or in
//! batches) and read agent status.
//! Only operator certificates may call it. Decode, call [`LinkService`], encode.

use crate::error::AgentError;
use crate::service::link::{LinkService, LinkStatus, RaiseIncident};
use crate::store::Enqueued;
use prost::Message;
use socfed_proto::pb;
use socfed_runtime::peer::{caller, require_role};
use std::sync::Arc;
use tonic::{Request, Response, Status};

#[derive(Clone)]
pub struct LocalService {
    pub link: Arc<LinkService>,
}

impl LocalService {
    /// Runs blocking store work off the async workers.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&LinkService) -> Result<T, AgentError> + Send + 'static,
    ) -> Result<T, Status> {
        let link = self.link.clone();
        tokio::task::spawn_blocking(move || work(&link))
            .await
            .map_err(|_| AgentError::internal("agent task failed"))?
            .map_err(Status::from)
    }
}

fn status_to_wire(status: LinkStatus) -> pb::AgentStatus {
    let LinkStatus {
        site,
        epoch,
        hub_connected,
        counters,
        backlog,
        oldest_unsent_age_ms,
        outbox_cap,
        on_full,
        last_hub_error,
        reconnects,
        hub_address,
        last_failover,
    } = status;
    let (last_failover_at_ms, last_failover_from, last_failover_to) = last_failover
        .map_or((0, String::new(), String::new()), |f| {
            (f.at_ms, f.from, f.to)
        });
    pb::AgentStatus {
        site_id: site.to_string(),
        store_epoch: epoch.to_string(),
        hub_connected,
        next_seq: counters.next_seq,
        acked_through: counters.acked_through,
        backlog,
        oldest_unsent_age_ms,
        outbox_cap,
        on_full: on_full.as_str().to_string(),
        refused_total: counters.refused_total,
        dropped_total: counters.dropped_total,
        conflicts_reported: counters.conflicts_reported,
        rejected_reported: counters.rejected_reported,
        last_hub_error,
        reconnects,
        hub_address,
        last_failover_at_ms,
        last_failover_from,
        last_failover_to,
    }
}

fn raise_from_wire(request: pb::RaiseIncidentRequest) -> RaiseIncident {
    let pb::RaiseIncidentRequest {
        request_id,
        title,
        description,
        severity,
        tlp,
        rule_id,
        techniques,
        indicators,
        observed_at_ms,
    } = request;
    RaiseIncident {
        request_id,
        title,
        description,
        severity,
        tlp,
        rule_id,
        techniques,
        indicators,
        observed_at_ms,
    }
}

fn raised_to_wire(enqueued: Enqueued) -> pb::RaiseIncidentResponse {
    pb::RaiseIncidentResponse {
        local_incident_id: enqueued.local_incident_id,
        seq: enqueued.seq,
        replayed: enqueued.replayed,
    }
}

#[tonic::async_trait]
impl pb::site_local_server::SiteLocal for LocalService {
    async fn raise_incident(
        &self,
        request: Request<pb::RaiseIncidentRequest>,
    ) -> Result<Response<pb::RaiseIncidentResponse>, Status> {
        let peer = caller(&request)?;
        require_role(&peer, "operator", "RaiseIncident")?;
        let actor = self.link.soc.actor(&peer)?;
        let enqueued = self
            .link
            .raise_incident(actor, raise_from_wire(request.into_inner()))
            .await?;
        Ok(Response::new(raised_to_wire(enqueued)))
    }

    async fn raise_incidents(
        &self,
        request: Request<pb::RaiseIncidentsRequest>,
    ) -> Result<Response<pb::RaiseIncidentsResponse>, Status> {
        let peer = caller(&request)?;
        require_role(&peer, "operator", "RaiseIncidents")?;
        let actor = self.link.soc.actor(&peer)?;
        let request = request.into_inner();
        let encoded_bytes = request.encoded_len();
        let pb::RaiseIncidentsRequest { batch_id, raises } = request;
        let raises = raises.into_iter().map(raise_from_wire).collect();
        let answers = self
            .link
            .raise_incidents(actor, batch_id, raises, encoded_bytes)
            .await?;
        let results = answers
            .into_iter()
            .map(|answer| pb::RaiseResult {
                outcome: Some(match answer {
                    Ok(enqueued) => pb::raise_result::Outcome::Raised(raised_to_wire(enqueued)),
                    Err(error) => {
                        // The status RaiseIncident would have answered for this raise alone.
                        let status = Status::from(error);
                        pb::raise_result::Outcome::Error(pb::RaiseError {
                            code: status.code() as i32,
                            message: status.message().to_string(),
                        })
                    }
                }),
            })
            .collect();
        Ok(Response::new(pb::RaiseIncidentsResponse { results }))
    }

    async fn get_status(
        &self,
        request: Request<pb::GetStatusRequest>,
    ) -> Result<Response<pb::AgentStatus>, Status> {
        let peer = caller(&request)?;
        require_role(&peer, "operator", "GetStatus")?;
        let status = self.blocking(LinkService::status).await?;
        Ok(Response::new(status_to_wire(status)))
    }
}
