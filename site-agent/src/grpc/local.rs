//! The `SiteLocal` service: operators at the site raise incidents and read agent status.
//! Only operator certificates may call it.

use crate::store::cap::OnFull;
use crate::store::{AgentStore, StoreError};
use crate::uplink::UplinkState;
use prost::Message;
use socfed_proto::pb;
use socfed_proto::vocab::{IncidentReport, ReportLimits, SiteId};
use socfed_runtime::peer::{caller, require_role};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tonic::{Request, Response, Status};

#[derive(Clone)]
pub struct LocalService {
    pub soc: Arc<crate::service::SocService>,
    pub site: SiteId,
    pub store: Arc<AgentStore>,
    pub uplink: Arc<UplinkState>,
    pub limits: ReportLimits,
    pub max_report_bytes: usize,
    pub outbox_cap: u64,
    pub on_full: OnFull,
}

fn store_status(error: StoreError) -> Status {
    match error {
        StoreError::OutboxFull { .. } => {
            metrics::counter!("socfed_agent_outbox_refused_total").increment(1);
            tracing::error!(%error, "escalation refused at the outbox cap");
            Status::resource_exhausted(error.to_string())
        }
        other => super::soc::store_status(&other),
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
        let actor = self.soc.actor(&peer).map_err(super::soc::status)?;
        let owner = actor.name.clone();
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
        } = request.into_inner();
        if request_id.len() > 128 {
            return Err(Status::invalid_argument(
                "request_id: longer than 128 bytes",
            ));
        }
        let now = self.soc.now();
        let draft = pb::IncidentReport {
            local_incident_id: "pending".into(),
            revision: 1,
            title,
            description,
            severity,
            tlp,
            rule_id,
            techniques,
            indicators,
            observed_at_ms: if observed_at_ms == 0 {
                now
            } else {
                observed_at_ms
            },
            local_owner: owner,
            local_status: pb::LocalStatus::Open as i32,
        };
        // Validate and normalise exactly as the hub will, so only deliverable reports queue.
        let report = IncidentReport::from_wire(draft, &self.limits)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let encoded_len = report.to_wire().encoded_len() + 64;
        // The hub may accept less than our own link limit: it says so in every welcome.
        let hub_limit = self
            .uplink
            .hub_max_message_bytes
            .load(std::sync::atomic::Ordering::Relaxed) as usize;
        let max_report_bytes = if hub_limit == 0 {
            self.max_report_bytes
        } else {
            self.max_report_bytes.min(hub_limit)
        };
        if encoded_len > max_report_bytes {
            return Err(Status::invalid_argument(format!(
                "the report encodes to {encoded_len} bytes, over the hub link limit of {} bytes; shorten the description or split the indicators",
                max_report_bytes
            )));
        }
        let soc = self.soc.clone();
        let request_id = (!request_id.is_empty()).then_some(request_id);
        let enqueued =
            tokio::task::spawn_blocking(move || soc.raise(&actor, request_id.as_deref(), report))
                .await
                .map_err(|_| Status::internal("enqueue task failed"))?
                .map_err(|e| {
                    if let crate::service::ServiceError::Store(
                        crate::store::StoreError::OutboxFull { .. },
                    ) = &e
                    {
                        metrics::counter!("socfed_agent_outbox_refused_total").increment(1);
                        tracing::error!(error = %e, "escalation refused at the outbox cap");
                    }
                    super::soc::status(e)
                })?;
        for seq in &enqueued.dropped {
            tracing::error!(
                seq,
                "outbox at cap: dropped the oldest unsent escalation (on_full = drop-oldest)"
            );
        }
        metrics::counter!("socfed_agent_outbox_dropped_total")
            .increment(enqueued.dropped.len() as u64);
        metrics::gauge!("socfed_agent_outbox_depth").set(self.store.outbox_len() as f64);
        if !enqueued.replayed {
            tracing::info!(site = %self.site, local_incident_id = %enqueued.local_incident_id, seq = enqueued.seq, "incident queued for escalation");
        }
        Ok(Response::new(pb::RaiseIncidentResponse {
            local_incident_id: enqueued.local_incident_id,
            seq: enqueued.seq,
            replayed: enqueued.replayed,
        }))
    }

    async fn get_status(
        &self,
        request: Request<pb::GetStatusRequest>,
    ) -> Result<Response<pb::AgentStatus>, Status> {
        let peer = caller(&request)?;
        require_role(&peer, "operator", "GetStatus")?;
        let store = self.store.clone();
        let (counters, oldest) = tokio::task::spawn_blocking(move || {
            Ok::<_, StoreError>((store.counters()?, store.oldest_enqueued_at()?))
        })
        .await
        .map_err(|_| Status::internal("status task failed"))?
        .map_err(store_status)?;
        let now = self.soc.now();
        Ok(Response::new(pb::AgentStatus {
            site_id: self.site.to_string(),
            store_epoch: self.store.epoch().to_string(),
            hub_connected: self.uplink.connected.load(Ordering::Relaxed),
            next_seq: counters.next_seq,
            acked_through: counters.acked_through,
            backlog: self.store.outbox_len(),
            oldest_unsent_age_ms: oldest.map_or(0, |t| (now - t).max(0) as u64),
            outbox_cap: self.outbox_cap,
            on_full: self.on_full.as_str().to_string(),
            refused_total: counters.refused_total,
            dropped_total: counters.dropped_total,
            conflicts_reported: counters.conflicts_reported,
            rejected_reported: counters.rejected_reported,
            last_hub_error: self
                .uplink
                .last_error
                .lock()
                .map(|e| e.clone())
                .unwrap_or_default(),
            reconnects: self.uplink.reconnects.load(Ordering::Relaxed),
        }))
    }
}
