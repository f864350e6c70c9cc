//! Stored records → wire types for operator responses.

use crate::error::HubError;
use crate::incident::{IncidentRecord, IncidentStatus, Sighting};
use crate::store::records::{ReviewKind, ReviewRecord, SiteRecord};
use socfed_proto::pb;
use socfed_proto::vocab::{Indicator, SiteId};
use tonic::Status;

pub fn status_to_wire(status: IncidentStatus) -> pb::IncidentStatus {
    match status {
        IncidentStatus::New => pb::IncidentStatus::New,
        IncidentStatus::Triage => pb::IncidentStatus::Triage,
        IncidentStatus::Containment => pb::IncidentStatus::Containment,
        IncidentStatus::Eradication => pb::IncidentStatus::Eradication,
        IncidentStatus::Recovery => pb::IncidentStatus::Recovery,
        IncidentStatus::PostIncident => pb::IncidentStatus::PostIncident,
        IncidentStatus::Closed => pb::IncidentStatus::Closed,
    }
}

/// `UNSPECIFIED` means "any"; unknown numbers are an error naming the field.
pub fn status_filter(value: i32) -> Result<Option<IncidentStatus>, Status> {
    let status = pb::IncidentStatus::try_from(value).map_err(|_| {
        HubError::invalid(format!("status: unknown incident status number {value}"))
    })?;
    Ok(match status {
        pb::IncidentStatus::Unspecified => None,
        pb::IncidentStatus::New => Some(IncidentStatus::New),
        pb::IncidentStatus::Triage => Some(IncidentStatus::Triage),
        pb::IncidentStatus::Containment => Some(IncidentStatus::Containment),
        pb::IncidentStatus::Eradication => Some(IncidentStatus::Eradication),
        pb::IncidentStatus::Recovery => Some(IncidentStatus::Recovery),
        pb::IncidentStatus::PostIncident => Some(IncidentStatus::PostIncident),
        pb::IncidentStatus::Closed => Some(IncidentStatus::Closed),
    })
}

fn sighting(s: &Sighting) -> pb::Sighting {
    pb::Sighting {
        site_id: s.site.to_string(),
        local_incident_ids: s.local_incident_ids(),
        revision: s.revision(),
        local_severity: s.local_severity.to_wire() as i32,
        local_owner: s.local_owner().to_string(),
        first_seen_ms: s.first_seen_ms,
        last_seen_ms: s.last_seen_ms,
        joined_because: s.joined_because.clone(),
        locals: s
            .locals
            .iter()
            .map(|l| pb::SiteLocalIncident {
                local_incident_id: l.id.clone(),
                revision: l.revision,
                status: l
                    .status
                    .map_or(pb::LocalStatus::Unspecified, |s| s.to_wire())
                    as i32,
                owner: l.owner.clone(),
                updated_at_ms: l.updated_at_ms,
            })
            .collect(),
    }
}

pub fn incident(record: &IncidentRecord) -> pb::HubIncident {
    pb::HubIncident {
        id: record.id.to_string(),
        title: record.title.clone(),
        status: status_to_wire(record.status()) as i32,
        severity: record.severity().to_wire() as i32,
        tlp: record.tlp().to_wire() as i32,
        techniques: record
            .techniques()
            .iter()
            .map(ToString::to_string)
            .collect(),
        indicators: record.indicators.iter().map(Indicator::to_wire).collect(),
        indicators_elided: record.indicators_elided,
        sightings: record.sightings.iter().map(sighting).collect(),
        created_at_ms: record.created_at_ms,
        updated_at_ms: record.updated_at_ms,
        priority: format!("{:?}", record.lifecycle.priority),
        ir_lead: record.lifecycle.ir_lead.clone().unwrap_or_default(),
        resolution: match &record.lifecycle.phase {
            crate::lifecycle::Phase::Closed { resolution } => match resolution {
                crate::lifecycle::Resolution::Resolved => "resolved".into(),
                crate::lifecycle::Resolution::FalsePositive => "false-positive".into(),
                crate::lifecycle::Resolution::Duplicate { of } => format!("duplicate of {of}"),
            },
            _ => String::new(),
        },
        reopened: record.lifecycle.reopened,
        triage_at_ms: record.lifecycle.entered.triage_ms.unwrap_or_default(),
        contained_at_ms: record.lifecycle.entered.containment_ms.unwrap_or_default(),
        recovered_at_ms: record.lifecycle.entered.recovery_ms.unwrap_or_default(),
        // The current closure only: a reopened incident is not closed.
        closed_at_ms: record.lifecycle.closed_at().unwrap_or_default(),
        // Deadlines are stated as of the answer: read the clock here, at the API edge.
        deadlines: deadlines(record, socfed_proto::now_millis()),
        timeline: record
            .timeline
            .iter()
            .map(|t| pb::TimelineEntry {
                at_ms: t.at_ms,
                actor: t.actor.clone(),
                text: t.text.clone(),
            })
            .collect(),
    }
}

pub fn site_summary(site: &SiteId, record: &SiteRecord, connected: bool) -> pb::SiteSummary {
    pb::SiteSummary {
        site_id: site.to_string(),
        connected,
        last_seen_ms: record.last_seen_ms,
        store_epoch: record.epoch.map(|e| e.to_string()).unwrap_or_default(),
        acked_through: 0,
        escalations_stored: record.escalations_stored,
        duplicates: record.duplicates,
        conflicts: record.conflicts,
        rejected: record.rejected,
        backlog: record.backlog,
        oldest_unsent_age_ms: record.oldest_unsent_age_ms,
        refused_total: record.refused_total,
        dropped_total: record.dropped_total,
        cert_not_after_ms: record.cert_not_after_ms,
        epoch_changes: record.epoch_changes,
        sequence_regression: record.sequence_regression,
        sequence_gaps: record.gaps,
    }
}

pub fn review(record: &ReviewRecord) -> pb::Conflict {
    pb::Conflict {
        site_id: record.site.to_string(),
        store_epoch: record.epoch.to_string(),
        seq: record.seq,
        kind: match record.kind {
            ReviewKind::Conflict => "conflict".into(),
            ReviewKind::Rejected => "rejected".into(),
        },
        reason: record.reason.clone(),
        recorded_at_ms: record.recorded_at_ms,
        stored_hash: record.stored_hash.map(hex).unwrap_or_default(),
        offered_hash: hex(record.offered_hash),
    }
}

fn hex(bytes: [u8; 32]) -> String {
    blake3::Hash::from_bytes(bytes).to_hex().to_string()
}

/// Regulatory deadlines of `record` as of `now_ms`, with the default warning leads.
pub fn deadlines(record: &IncidentRecord, now_ms: i64) -> Vec<pb::RegulatoryDeadline> {
    use crate::regulatory::DeadlineStatus;
    record
        .regulatory
        .status(now_ms, &crate::regulatory::WarningPolicy::default())
        .into_iter()
        .map(|(deadline, status)| {
            let (wire, overdue_by_ms, filed_at_ms) = match status {
                DeadlineStatus::Pending { .. } => (pb::DeadlineStatus::Pending, 0, 0),
                DeadlineStatus::DueSoon { .. } => (pb::DeadlineStatus::DueSoon, 0, 0),
                DeadlineStatus::Overdue { by_ms, .. } => (pb::DeadlineStatus::Overdue, by_ms, 0),
                DeadlineStatus::Met { at_ms, late: false } => (pb::DeadlineStatus::Met, 0, at_ms),
                DeadlineStatus::Met { at_ms, late: true } => {
                    (pb::DeadlineStatus::MetLate, 0, at_ms)
                }
            };
            pb::RegulatoryDeadline {
                kind: deadline.kind.to_string(),
                citation: deadline.kind.citation().to_string(),
                due_ms: deadline.due_ms,
                status: wire.into(),
                overdue_by_ms,
                filed_at_ms,
            }
        })
        .collect()
}
