//! Tables and JSON for operator commands. JSON uses words for enums, RFC 3339 for times.
//!
//! Incident text comes from sites: every table cell and every field of a detail block goes
//! through `socfed_runtime::terminal::clean` (tables do it themselves), so no control
//! character reaches the operator's terminal.

use crate::view::words;
use serde_json::{Value, json};
use socfed_proto::pb;
use socfed_runtime::cli::{format_age, format_millis};
pub use socfed_runtime::terminal::Table;
use socfed_runtime::terminal::clean;

/// A table whose every cell is cleaned for the terminal (`socfed_runtime::terminal`).
pub fn table(headers: &[&str]) -> Table {
    Table::new(headers)
}

pub use socfed_runtime::cli::print_json;

/// The words every surface uses for wire values (`view/words.rs`), here for the CLI's tables
/// and JSON.
pub use crate::view::words::{
    indicator, indicators_elided, local_owners, local_status, local_statuses, severity, sites_of,
    status, tlp,
};

pub fn incident_json(i: &pb::HubIncident) -> Value {
    json!({
        "id": i.id,
        "title": i.title,
        "status": status(i.status),
        "severity": severity(i.severity),
        "tlp": tlp(i.tlp),
        "techniques": i.techniques,
        "indicators": i.indicators.iter().map(indicator).collect::<Vec<_>>(),
        "indicators_elided": i.indicators_elided,
        "priority": i.priority,
        "ir_lead": i.ir_lead,
        "resolution": i.resolution,
        "reopened": i.reopened,
        "deadlines": i.deadlines.iter().map(|d| json!({"kind": d.kind, "citation": d.citation, "due": format_millis(d.due_ms), "status": words::deadline_status(d.status), "overdue_by_ms": d.overdue_by_ms, "filed_at": format_millis(d.filed_at_ms)})).collect::<Vec<_>>(),
        "timeline": i.timeline.iter().map(|t| json!({"at": format_millis(t.at_ms), "actor": t.actor, "text": t.text})).collect::<Vec<_>>(),
        "created_at": format_millis(i.created_at_ms),
        "updated_at": format_millis(i.updated_at_ms),
        "sightings": i.sightings.iter().map(|s| json!({
            "site": s.site_id,
            "local_incident_ids": s.local_incident_ids,
            "revision": s.revision,
            "local_severity": severity(s.local_severity),
            "local_owner": s.local_owner,
            "first_seen": format_millis(s.first_seen_ms),
            "last_seen": format_millis(s.last_seen_ms),
            "joined_because": s.joined_because,
            "locals": s.locals.iter().map(|l| json!({
                "local_incident_id": l.local_incident_id,
                "revision": l.revision,
                "status": local_status(l.status),
                "owner": l.owner,
                "updated_at": format_millis(l.updated_at_ms),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

pub fn incidents_table(incidents: &[pb::HubIncident]) -> Table {
    let mut t = table(&[
        "id",
        "severity",
        "status",
        "sites",
        "sightings",
        "title",
        "updated",
    ]);
    for i in incidents {
        t.add_row(vec![
            i.id.clone(),
            severity(i.severity).to_string(),
            status(i.status).to_string(),
            sites_of(i),
            i.sightings.len().to_string(),
            i.title.clone(),
            format_millis(i.updated_at_ms),
        ]);
    }
    t
}

pub fn incident_detail(i: &pb::HubIncident) -> String {
    let mut out = format!(
        "incident {}\n  title:      {}\n  status:     {}\n  severity:   {}\n  tlp:        {}\n  techniques: {}\n  indicators: {}\n  created:    {}\n  updated:    {}\n",
        clean(&i.id),
        clean(&i.title),
        status(i.status),
        severity(i.severity),
        tlp(i.tlp),
        clean(&i.techniques.join(", ")),
        clean(
            &i.indicators
                .iter()
                .map(indicator)
                .chain(indicators_elided(i))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        format_millis(i.created_at_ms),
        format_millis(i.updated_at_ms),
    );
    out.push_str(&format!(
        "  priority:   {}\n  IR lead:    {}\n{}{}",
        i.priority,
        if i.ir_lead.is_empty() {
            "(none)".into()
        } else {
            clean(&i.ir_lead)
        },
        if i.resolution.is_empty() {
            String::new()
        } else {
            format!("  resolution: {}\n", clean(&i.resolution))
        },
        if i.reopened > 0 {
            format!("  reopened:   {} time(s)\n", i.reopened)
        } else {
            String::new()
        },
    ));
    if !i.deadlines.is_empty() {
        out.push_str("regulatory deadlines:\n");
        for d in &i.deadlines {
            let status = words::deadline_status(d.status);
            let state = match status.as_str() {
                "overdue" => format!("OVERDUE by {}", format_age(d.overdue_by_ms.max(0) as u64)),
                "due_soon" => "DUE SOON".to_string(),
                "met" | "met_late" => format!(
                    "{} at {}",
                    status.replace('_', " "),
                    format_millis(d.filed_at_ms)
                ),
                _ => status.clone(),
            };
            out.push_str(&format!(
                "  {:<28} due {}  {}  ({})\n",
                clean(&d.kind),
                format_millis(d.due_ms),
                clean(&state),
                clean(&d.citation)
            ));
        }
    }
    out.push_str("timeline:\n");
    for entry in &i.timeline {
        out.push_str(&format!(
            "  {}  {:<14} {}\n",
            format_millis(entry.at_ms),
            clean(&entry.actor),
            clean(&entry.text)
        ));
    }
    let mut t = table(&[
        "site",
        "local incidents",
        "rev",
        "local status",
        "local owner",
        "local severity",
        "first seen",
        "last seen",
        "joined because",
    ]);
    for s in &i.sightings {
        t.add_row(vec![
            s.site_id.clone(),
            s.local_incident_ids.join(","),
            s.revision.to_string(),
            local_statuses(s),
            local_owners(s),
            severity(s.local_severity).to_string(),
            format_millis(s.first_seen_ms),
            format_millis(s.last_seen_ms),
            s.joined_because.clone(),
        ]);
    }
    out.push_str(&format!("sightings ({}):\n{t}", i.sightings.len()));
    out
}

pub fn site_json(s: &pb::SiteSummary) -> Value {
    json!({
        "site": s.site_id,
        "connected": s.connected,
        "last_seen": format_millis(s.last_seen_ms),
        "store_epoch": s.store_epoch,
        "acked_through": s.acked_through,
        "escalations_stored": s.escalations_stored,
        "duplicates": s.duplicates,
        "conflicts": s.conflicts,
        "rejected": s.rejected,
        "backlog": s.backlog,
        "oldest_unsent_age_ms": s.oldest_unsent_age_ms,
        "refused_total": s.refused_total,
        "dropped_total": s.dropped_total,
        "cert_not_after": format_millis(s.cert_not_after_ms),
        "epoch_changes": s.epoch_changes,
        "sequence_regression": s.sequence_regression,
        "sequence_gaps": s.sequence_gaps,
    })
}

pub fn sites_table(sites: &[pb::SiteSummary]) -> Table {
    let mut t = table(&[
        "site",
        "connected",
        "last seen",
        "acked seq",
        "stored",
        "dup",
        "conflicts",
        "backlog",
        "oldest unsent",
        "cert expires",
        "warnings",
    ]);
    for s in sites {
        let warnings = words::site_warnings(s);
        t.add_row(vec![
            s.site_id.clone(),
            if s.connected { "yes" } else { "no" }.to_string(),
            format_millis(s.last_seen_ms),
            s.acked_through.to_string(),
            s.escalations_stored.to_string(),
            s.duplicates.to_string(),
            s.conflicts.to_string(),
            s.backlog.to_string(),
            if s.backlog > 0 {
                format_age(s.oldest_unsent_age_ms)
            } else {
                String::new()
            },
            format_millis(s.cert_not_after_ms),
            warnings.join("; "),
        ]);
    }
    t
}
