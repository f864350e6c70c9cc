//! The `SiteLocal` use cases: raising incidents by hand for the hub ([`RaiseIncident`] one at a
//! time or in batches: validated and sized as the hub will take them by [`prepare`], queued
//! in the outbox with their local incidents by the raise committer (`raise_commit.rs`),
//! idempotent by request id or batch id) and the state of the link to the hub
//! ([`LinkStatus`]: outbox counters and what the uplink last saw), and what one raise writes
//! in the committer's unit ([`SocService::raise_in`]). The gRPC adapter only decodes and
//! encodes.

use super::raise_commit::{Origin, RaiseCommitter};
use super::{Actor, SocService};
use crate::error::AgentError;
use crate::soc::authz::{self, Operation};
use crate::soc::incident::{self, IncidentStatus, LocalIncident};
use crate::store::cap::OnFull;
use crate::store::unit::Unit;
use crate::store::{Counters, Enqueued, RequestRecord, StoreError};
use crate::uplink::UplinkState;
use prost::Message;
use socfed_proto::UnixMillis;
use socfed_proto::pb;
use socfed_proto::vocab::{IncidentReport, SiteId};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use ulid::Ulid;

/// Longest caller request id kept for replays.
const MAX_REQUEST_ID_BYTES: usize = 128;

/// Room left in a hub message around the report itself.
const REPORT_OVERHEAD_BYTES: usize = 64;

/// Most raises in one `RaiseIncidents` batch.
pub const MAX_BATCH_RAISES: usize = 500;

/// Most bytes of one `RaiseIncidents` batch as encoded; the `SiteLocal` listener decodes
/// messages up to twice this, so a batch just over it is told this cap.
pub const MAX_BATCH_BYTES: usize = 8 << 20;

/// The `SiteLocal` application layer: the SOC service, the uplink's state, and the largest
/// message the link to the hub carries (`hub.max_message_bytes`).
pub struct LinkService {
    pub soc: Arc<SocService>,
    pub uplink: Arc<UplinkState>,
    /// Where every raise is queued (`raise_commit.rs`).
    pub committer: RaiseCommitter,
}

/// What a raise is checked against besides the report limits: the largest message the link
/// to the hub carries (`hub.max_message_bytes`) and the hub's own limit from its welcome.
pub struct RaiseLimits {
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
    /// The hub address in use or being tried (`hub.addresses`).
    pub hub_address: String,
    pub last_failover: Option<crate::uplink::failover::Failover>,
}

impl LinkService {
    /// Raises one incident (the `RaiseIncident` API): checked as [`Self::prepare`] does,
    /// queued through the raise committer, answered once durable. Idempotent by request id.
    pub async fn raise_incident(
        &self,
        actor: Actor,
        command: RaiseIncident,
    ) -> Result<Enqueued, AgentError> {
        authz::check(actor.role, Operation::EscalateIncidentToHub, None)?;
        let mut answers = self
            .committer
            .raise(actor, Origin::Single, vec![command])
            .await?;
        answers
            .pop()
            .unwrap_or_else(|| Err(AgentError::internal("the raise committer gave no answer")))
    }

    /// Raises a batch (the `RaiseIncidents` API): at most [`MAX_BATCH_RAISES`] raises and
    /// [`MAX_BATCH_BYTES`] bytes, one answer per raise in order (an invalid or refused raise
    /// fails alone and queues nothing), one store unit and one audit entry for the batch.
    /// Idempotent by `batch_id`: a retry replays every raise that was queued.
    pub async fn raise_incidents(
        &self,
        actor: Actor,
        batch_id: String,
        raises: Vec<RaiseIncident>,
        encoded_bytes: usize,
    ) -> Result<Vec<Result<Enqueued, AgentError>>, AgentError> {
        authz::check(actor.role, Operation::EscalateIncidentToHub, None)?;
        check_key("batch_id", &batch_id)?;
        if batch_id.is_empty() {
            return Err(AgentError::invalid(
                "batch_id: empty; give each batch an id so that a retry is answered from the first attempt",
            ));
        }
        if raises.is_empty() {
            return Err(AgentError::invalid(
                "raises: a batch holds at least one raise",
            ));
        }
        if raises.len() > MAX_BATCH_RAISES {
            return Err(AgentError::invalid(format!(
                "raises: {} in one batch, over the cap of {MAX_BATCH_RAISES}; split it into batches of at most {MAX_BATCH_RAISES}",
                raises.len()
            )));
        }
        if encoded_bytes > MAX_BATCH_BYTES {
            return Err(AgentError::Busy(format!(
                "the batch is {encoded_bytes} bytes, over the cap of {MAX_BATCH_BYTES} bytes; split it into smaller batches"
            )));
        }
        self.committer
            .raise(actor, Origin::Batch(batch_id), raises)
            .await
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
            hub_address: self
                .uplink
                .hub_address
                .lock()
                .map(|a| a.clone())
                .unwrap_or_default(),
            last_failover: self
                .uplink
                .last_failover
                .lock()
                .ok()
                .and_then(|f| f.clone()),
        })
    }
}

/// Checks a caller key (a request id or a batch id): bounded, and never a NUL, which keys the
/// records of a batch's raises (`raise_commit::record_key`).
fn check_key(field: &str, key: &str) -> Result<(), AgentError> {
    if key.len() > MAX_REQUEST_ID_BYTES {
        return Err(AgentError::Invalid(format!(
            "{field}: longer than {MAX_REQUEST_ID_BYTES} bytes"
        )));
    }
    if key.contains('\0') {
        return Err(AgentError::Invalid(format!("{field}: contains a NUL byte")));
    }
    Ok(())
}

/// Validates and normalises a raise exactly as the hub will take it, so only deliverable
/// reports queue: the one check of `RaiseIncident` and of each raise of `RaiseIncidents`.
/// Returns the request id (if any) and the report. Pure CPU: run by the raise committer.
pub(super) fn prepare(
    limits: &RaiseLimits,
    soc: &SocService,
    actor: &Actor,
    command: RaiseIncident,
) -> Result<(Option<String>, IncidentReport), AgentError> {
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
    check_key("request_id", &request_id)?;
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
    let hub_limit = limits.uplink.hub_max_message_bytes.load(Ordering::Relaxed) as usize;
    let max_report_bytes = if hub_limit == 0 {
        limits.max_report_bytes
    } else {
        limits.max_report_bytes.min(hub_limit)
    };
    if encoded_len > max_report_bytes {
        return Err(AgentError::Invalid(format!(
            "the report encodes to {encoded_len} bytes, over the hub link limit of {max_report_bytes} bytes; shorten the description or split the indicators"
        )));
    }
    Ok(((!request_id.is_empty()).then_some(request_id), report))
}

impl SocService {
    /// One raise in the fold's unit: replayed if its key was seen (in an earlier unit or
    /// earlier in this one), else its local incident, outbox entry and request record.
    /// A refusal at the cap returns before any write.
    pub(super) fn raise_in(
        &self,
        unit: &mut Unit,
        actor: &Actor,
        key: Option<&str>,
        mut report: IncidentReport,
        now: UnixMillis,
    ) -> Result<Enqueued, StoreError> {
        if let Some(key) = key
            && let Some(previous) = unit.request(&actor.name, key)?
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
        let settings = &self.settings;
        let (seq, dropped) = unit.enqueue(
            report.to_wire().encode_to_vec(),
            now,
            settings.outbox_cap,
            settings.on_full,
        )?;
        if let Some(key) = key {
            unit.put_request(
                &actor.name,
                key,
                &RequestRecord {
                    local_incident_id: id.clone(),
                    seq,
                    at_ms: now,
                },
            )?;
        }
        unit.put_incident(&LocalIncident {
            id: id.clone(),
            title: report.title,
            status: IncidentStatus::Open,
            owner: Some(actor.name.clone()),
            severity: report.severity,
            tlp: report.tlp,
            groups: Vec::new(),
            hosts: Vec::new(),
            indicators: report.indicators,
            techniques: report.techniques,
            rule_id: report.rule_id,
            first_seen_ms: report.observed_at_ms,
            created_at_ms: now,
            updated_at_ms: now,
            escalation_reason: Some(format!("raised by hand ({})", actor.name)),
            revision: 1,
            revision_pending: false,
        })?;
        Ok(Enqueued {
            local_incident_id: id,
            seq,
            replayed: false,
            dropped,
        })
    }
}
