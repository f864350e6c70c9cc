//! The facts a communication may draw on, gathered from a stored incident.

use super::IncidentFacts;
use super::template::utc_minutes;
use crate::incident::IncidentRecord;

/// The incident as communications see it, with regulatory deadlines as of `now_ms`.
pub fn of_incident(record: &IncidentRecord, now_ms: i64) -> IncidentFacts {
    let deadlines = record
        .regulatory
        .status(now_ms, &crate::regulatory::WarningPolicy::default())
        .into_iter()
        .map(|(deadline, status)| {
            format!(
                "{} ({}) due {}: {status:?}",
                deadline.kind,
                deadline.kind.citation(),
                utc_minutes(deadline.due_ms)
            )
        })
        .collect();
    let sites: Vec<String> = record
        .sightings
        .iter()
        .map(|s| s.site.to_string())
        .collect();
    IncidentFacts {
        id: record.id,
        title: record.title.clone(),
        phase: record.lifecycle.phase.kind().to_string(),
        severity: record.severity(),
        priority: record.lifecycle.priority.to_string(),
        tlp: record.tlp(),
        ir_lead: record.lifecycle.ir_lead.clone(),
        site_count: sites.len(),
        sites,
        indicators: record.indicators.iter().map(ToString::to_string).collect(),
        techniques: record
            .techniques()
            .iter()
            .map(ToString::to_string)
            .collect(),
        opened_at_ms: record.created_at_ms,
        deadlines,
    }
}
