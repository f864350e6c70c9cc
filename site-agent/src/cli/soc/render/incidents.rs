//! Local incidents: JSON, the table (with the hub's view), briefs and the detail block.

use super::*;
use crate::wire::{INCIDENT_STATUSES, PHASES};
use serde_json::{Value, json};
use socfed_runtime::cli::format_millis;
use std::fmt::Write as _;

pub fn incident_json(i: &pb::LocalIncident) -> Value {
    json!({
        "id": i.id,
        "title": i.title,
        "status": INCIDENT_STATUSES.show(i.status),
        "owner": i.owner,
        "severity": severity(i.severity),
        "tlp": tlp(i.tlp),
        "alert_group_ids": i.alert_group_ids,
        "hosts": i.hosts,
        "indicators": i.indicators.iter().map(indicator).collect::<Vec<_>>(),
        "techniques": i.techniques,
        "created_at": format_millis(i.created_at_ms),
        "updated_at": format_millis(i.updated_at_ms),
        "escalated": i.escalated,
        "revision": i.revision,
        "escalation_reason": i.escalation_reason,
        // What the SIRT hub last said of it; null until the hub told this site.
        "hub": i.hub.as_ref().map(|h| json!({
            "incident_id": h.incident_id,
            "phase": PHASES.show(h.phase),
            "resolution": h.resolution,
            "ir_lead": h.ir_lead,
            "updated_at": format_millis(h.updated_at_ms),
            "received_at": format_millis(h.received_at_ms),
        })),
    })
}

/// The hub's phase of an escalated incident, with why it was closed ("closed (resolved)").
fn hub_phase(h: &pb::HubView) -> String {
    if h.resolution.is_empty() {
        PHASES.show(h.phase)
    } else {
        format!("{} ({})", PHASES.show(h.phase), clean(&h.resolution))
    }
}

/// What the hub said of a local incident, for a listing: its phase and IR lead, "waiting"
/// while an escalation is not confirmed yet, "-" when never escalated.
pub(super) fn hub_brief(i: &pb::LocalIncident) -> String {
    match &i.hub {
        Some(h) if h.ir_lead.is_empty() => hub_phase(h),
        Some(h) => format!("{}, lead {}", hub_phase(h), clean(&h.ir_lead)),
        None if i.escalated => "waiting".to_string(),
        None => "-".to_string(),
    }
}

fn escalation(i: &pb::LocalIncident) -> String {
    if i.escalated {
        format!("yes (revision {})", i.revision)
    } else {
        "no".to_string()
    }
}

pub fn incidents_table(incidents: &[pb::LocalIncident]) -> Table {
    let mut t = table(&[
        "id",
        "severity",
        "status",
        "owner",
        "groups",
        "escalated",
        "hub",
        "title",
        "updated",
    ]);
    for i in incidents {
        t.add_row(vec![
            clean(&i.id).into_owned(),
            severity(i.severity).to_string(),
            INCIDENT_STATUSES.show(i.status),
            or_dash(&i.owner).into_owned(),
            i.alert_group_ids.len().to_string(),
            escalation(i),
            hub_brief(i),
            shorten(&i.title, LIST_TITLE_CHARS),
            format_millis(i.updated_at_ms),
        ]);
    }
    t
}

pub fn incident_brief(i: &pb::LocalIncident) -> String {
    format!(
        "{}  {}  {}  owner {}  escalated {}  {}",
        clean(&i.id),
        severity(i.severity),
        INCIDENT_STATUSES.show(i.status),
        or_dash(&i.owner),
        escalation(i),
        shorten(&i.title, LIST_TITLE_CHARS),
    )
}

pub fn incident_detail(i: &pb::LocalIncident) -> String {
    let mut out = format!("local incident {}\n", clean(&i.id));
    let mut field = |key: &str, value: &str| {
        if !value.is_empty() {
            let _ = writeln!(out, "  {:<15}{value}", format!("{key}:"));
        }
    };
    field("title", &clean(&i.title));
    field("status", &INCIDENT_STATUSES.show(i.status));
    field("owner", &or_dash(&i.owner));
    field("severity", severity(i.severity));
    field("tlp", tlp(i.tlp));
    field("alert groups", &joined(&i.alert_group_ids));
    field("hosts", &joined(&i.hosts));
    field(
        "indicators",
        &clean(
            &i.indicators
                .iter()
                .map(indicator)
                .collect::<Vec<_>>()
                .join(", "),
        ),
    );
    field("techniques", &joined(&i.techniques));
    field("created", &format_millis(i.created_at_ms));
    field("updated", &format_millis(i.updated_at_ms));
    field("escalated", &escalation(i));
    field("because", &clean(&i.escalation_reason));
    match &i.hub {
        Some(h) => {
            field("hub incident", &clean(&h.incident_id));
            field("hub phase", &hub_phase(h));
            field("hub IR lead", &or_dash(&h.ir_lead));
            field("hub updated", &format_millis(h.updated_at_ms));
        }
        None if i.escalated => field("hub incident", "(not confirmed by the hub yet)"),
        None => {}
    }
    out.truncate(out.trim_end().len());
    out
}

// ---- roster, shifts, notifications --------------------------------------------------------
