//! The `SiteLocal` use cases: raising an incident by hand for the hub ([`RaiseIncident`]:
//! validated and sized as the hub will take it, queued in the outbox with its local incident,
//! idempotent by request id) and the state of the link to the hub ([`LinkStatus`]: outbox
//! counters and what the uplink last saw). The gRPC adapter only decodes and encodes.

use super::{Actor, SocService, json};
use crate::error::AgentError;
use crate::soc::authz::{self, Operation};
use crate::soc::incident::{self, IncidentStatus, LocalIncident};
use crate::store::cap::OnFull;
use crate::store::{Counters, Enqueued, RequestRecord, StoreError};
use crate::uplink::UplinkState;
use prost::Message;
use socfed_proto::pb;
use socfed_proto::vocab::{IncidentReport, SiteId};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use ulid::Ulid;

/// Longest caller request id kept for replays.
const MAX_REQUEST_ID_BYTES: usize = 128;

/// Room left in a hub message around the report itself.
const REPORT_OVERHEAD_BYTES: usize = 64;

/// The `SiteLocal` application layer: the SOC service, the uplink's state, and the largest
/// message the link to the hub carries (`hub.max_message_bytes`).
pub struct LinkService {
    pub soc: Arc<SocService>,
    pub uplink: Arc<UplinkState>,
    pub max_report_bytes: usize,
}

/// An incident raised by hand and escalated at once, in the words of the wire report.
#[derive(Debug, Clone, Default)]
pub struct RaiseIncident {
    /// Caller-chosen idempotency key; empty means "not retried".
    pub request_id: String,
    pub title: String,
    pub description: String,
    pub severity: i32,
    pub tlp: i32,
    pub rule_id: String,
    pub techniques: Vec<String>,
    pub indicators: Vec<pb::Indicator>,
    /// 0: now.
    pub observed_at_ms: i64,
}

/// What `site-agent status` shows of the agent and its link to the hub.
#[derive(Debug, Clone)]
pub struct LinkStatus {
    pub site: SiteId,
    pub epoch: Ulid,
    pub hub_connected: bool,
    pub counters: Counters,
    pub backlog: u64,
    pub oldest_unsent_age_ms: u64,
    pub outbox_cap: u64,
    pub on_full: OnFull,
    pub last_hub_error: String,
    pub reconnects: u64,
}

impl LinkService {
    /// Validates and normalises the report exactly as the hub will, so only deliverable
    /// reports queue, then raises it ([`SocService::raise`]). Blocking.
    pub fn raise_incident(
        &self,
        actor: &Actor,
        command: RaiseIncident,
    ) -> Result<Enqueued, AgentError> {
        let RaiseIncident {
            request_id,
            title,
            description,
            severity,
            tlp,
            rule_id,
            techniques,
            indicators,
            observed_at_ms,
        } = command;
        if request_id.len() > MAX_REQUEST_ID_BYTES {
            return Err(AgentError::Invalid(format!(
                "request_id: longer than {MAX_REQUEST_ID_BYTES} bytes"
            )));
        }
        let soc = &self.soc;
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
                soc.now()
            } else {
                observed_at_ms
            },
            local_owner: actor.name.clone(),
            local_status: pb::LocalStatus::Open as i32,
        };
        let report = IncidentReport::from_wire(draft, &soc.settings.report_limits)
            .map_err(|e| AgentError::Invalid(e.to_string()))?;
        let encoded_len = report.to_wire().encoded_len() + REPORT_OVERHEAD_BYTES;
        // The hub may accept less than our own link limit: it says so in every welcome.
        let hub_limit = self.uplink.hub_max_message_bytes.load(Ordering::Relaxed) as usize;
        let max_report_bytes = if hub_limit == 0 {
            self.max_report_bytes
        } else {
            self.max_report_bytes.min(hub_limit)
        };
        if encoded_len > max_report_bytes {
            return Err(AgentError::Invalid(format!(
                "the report encodes to {encoded_len} bytes, over the hub link limit of {max_report_bytes} bytes; shorten the description or split the indicators"
            )));
        }
        let request_id = (!request_id.is_empty()).then_some(request_id);
        let enqueued = soc.raise(actor, request_id.as_deref(), report)?;
        for seq in &enqueued.dropped {
            tracing::error!(
                seq,
                "outbox at cap: dropped the oldest unsent escalation (on_full = drop-oldest)"
            );
        }
        metrics::counter!("socfed_agent_outbox_dropped_total")
            .increment(enqueued.dropped.len() as u64);
        metrics::gauge!("socfed_agent_outbox_depth").set(soc.store.outbox_len() as f64);
        if !enqueued.replayed {
            tracing::info!(site = %soc.settings.site, local_incident_id = %enqueued.local_incident_id, seq = enqueued.seq, "incident queued for escalation");
        }
        Ok(enqueued)
    }

    /// The agent's outbox counters and the uplink's state. Blocking.
    pub fn status(&self) -> Result<LinkStatus, AgentError> {
        let (soc, store) = (&self.soc, &self.soc.store);
        let counters = store.counters()?;
        let oldest = store.oldest_enqueued_at()?;
        let now = soc.now();
        Ok(LinkStatus {
            site: soc.settings.site.clone(),
            epoch: store.epoch(),
            hub_connected: self.uplink.connected.load(Ordering::Relaxed),
            counters,
            backlog: store.outbox_len(),
            oldest_unsent_age_ms: oldest.map_or(0, |t| (now - t).max(0) as u64),
            outbox_cap: soc.settings.outbox_cap,
            on_full: soc.settings.on_full,
            last_hub_error: self
                .uplink
                .last_error
                .lock()
                .map(|e| e.clone())
                .unwrap_or_default(),
            reconnects: self.uplink.reconnects.load(Ordering::Relaxed),
        })
    }
}

impl SocService {
    /// Raises a local incident by hand from a report and escalates it at once (the
    /// `RaiseIncident` API). Idempotent by `request_id`: a retry returns the first answer.
    pub fn raise(
        &self,
        actor: &Actor,
        request_id: Option<&str>,
        mut report: IncidentReport,
    ) -> Result<Enqueued, AgentError> {
        authz::check(actor.role, Operation::EscalateIncidentToHub, None)?;
        let now = self.now();
        let result = self.store.unit(|unit| {
            if let Some(id) = request_id
                && let Some(previous) = unit.request(id)?
            {
                return Ok(Enqueued {
                    local_incident_id: previous.local_incident_id,
                    seq: previous.seq,
                    replayed: true,
                    dropped: vec![],
                });
            }
            let id = incident::new_incident_id(now);
            report.local_incident_id = id.clone();
            report.revision = 1;
            let incident = LocalIncident {
                id: id.clone(),
                title: report.title.clone(),
                status: IncidentStatus::Open,
                owner: Some(actor.name.clone()),
                severity: report.severity,
                tlp: report.tlp,
                groups: Vec::new(),
                hosts: Vec::new(),
                indicators: report.indicators.clone(),
                techniques: report.techniques.clone(),
                rule_id: report.rule_id.clone(),
                first_seen_ms: report.observed_at_ms,
                created_at_ms: now,
                updated_at_ms: now,
                escalation_reason: Some(format!("raised by hand ({})", actor.name)),
                revision: 1,
                revision_pending: false,
            };
            let (seq, dropped) = unit.enqueue(
                report.to_wire().encode_to_vec(),
                now,
                self.settings.outbox_cap,
                self.settings.on_full,
            )?;
            if let Some(request) = request_id {
                unit.put_request(
                    request,
                    &RequestRecord {
                        local_incident_id: id.clone(),
                        seq,
                        at_ms: now,
                    },
                )?;
            }
            unit.put_incident(&incident)?;
            self.audit(unit, actor, "incident.raise", &id, None, json(&incident))?;
            Ok(Enqueued {
                local_incident_id: id,
                seq,
                replayed: false,
                dropped,
            })
        });
        if let Err(AgentError::Store(error @ StoreError::OutboxFull { .. })) = &result {
            metrics::counter!("socfed_agent_outbox_refused_total").increment(1);
            tracing::error!(%error, "escalation refused at the outbox cap");
            self.store.count_refusal()?;
        }
        result
    }
}
