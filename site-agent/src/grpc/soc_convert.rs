//! Domain records → wire types of the `SiteSoc` API, and wire strings → domain values.

use crate::error::AgentError;
use crate::soc::alert::Format;
use crate::soc::group::AlertGroup;
use crate::soc::incident::LocalIncident;
use crate::soc::notify::Notification;
use crate::soc::roster::Analyst;
use crate::soc::sla;
use crate::soc::triage::Status;
use crate::wire::{ALERT_STATUSES, INCIDENT_STATUSES, ROLES, VERDICTS};
use socfed_proto::pb;
use socfed_proto::vocab::Indicator;

pub fn format_from_wire(value: i32) -> Result<Format, AgentError> {
    match pb::AlertFormat::try_from(value) {
        Ok(pb::AlertFormat::Native) => Ok(Format::Native),
        Ok(pb::AlertFormat::Ocsf) => Ok(Format::Ocsf),
        Ok(pb::AlertFormat::SuricataEve) => Ok(Format::SuricataEve),
        Ok(pb::AlertFormat::Wazuh) => Ok(Format::Wazuh),
        Ok(pb::AlertFormat::Unspecified) | Err(_) => Err(AgentError::invalid(
            "format: choose native, ocsf, suricata-eve or wazuh",
        )),
    }
}

fn format_to_wire(format: Format) -> pb::AlertFormat {
    match format {
        Format::Native => pb::AlertFormat::Native,
        Format::Ocsf => pb::AlertFormat::Ocsf,
        Format::SuricataEve => pb::AlertFormat::SuricataEve,
        Format::Wazuh => pb::AlertFormat::Wazuh,
    }
}

/// `sample` is the group's original record, read from the sample journal
/// (`SocService::group_samples`).
pub fn group(g: &AlertGroup, policy: &sla::SlaPolicy, sample: String) -> pb::AlertGroup {
    let (verdict, incident) = match &g.state.status {
        Status::Closed { verdict } => (VERDICTS.to_wire(*verdict), String::new()),
        Status::Promoted { incident } => (pb::Verdict::Unspecified, incident.clone()),
        Status::New | Status::Acknowledged => (pb::Verdict::Unspecified, String::new()),
    };
    let deadline = sla::deadline(policy, &g.state, g.severity);
    pb::AlertGroup {
        id: g.id.to_string(),
        title: g.title.clone(),
        rule_id: g.rule_id.clone(),
        product: g.product.clone(),
        format: format_to_wire(g.format) as i32,
        severity: g.severity.to_wire() as i32,
        tlp: g.tlp.to_wire() as i32,
        tier: u32::from(g.state.tier.number()),
        status: ALERT_STATUSES.to_wire(g.state.status.kind()).into(),
        verdict: verdict.into(),
        assignee: g.state.assignee.clone().unwrap_or_default(),
        incident_id: incident,
        count: g.count,
        first_seen_ms: g.first_seen_ms,
        last_seen_ms: g.last_seen_ms,
        entities: Some(pb::Entities {
            hosts: g.entities.hosts.clone(),
            users: g.entities.users.clone(),
            ips: g.entities.ips.iter().map(ToString::to_string).collect(),
        }),
        indicators: g.indicators.iter().map(Indicator::to_wire).collect(),
        techniques: g.techniques.iter().map(ToString::to_string).collect(),
        comments: g
            .comments
            .iter()
            .map(|c| pb::Comment {
                at_ms: c.at_ms,
                author: c.author.clone(),
                text: c.text.clone(),
            })
            .collect(),
        sla_clock: deadline
            .map(|d| match d.clock {
                sla::Clock::Acknowledge => "acknowledge".to_string(),
                sla::Clock::Resolve => "resolve".to_string(),
            })
            .unwrap_or_default(),
        sla_due_ms: deadline.map_or(0, |d| d.due_ms),
        sample_raw: sample,
    }
}

/// A local incident for the local API, with what the hub last said of it.
pub fn incident(
    i: &LocalIncident,
    hub: Option<&crate::store::schema::HubState>,
) -> pb::LocalIncident {
    pb::LocalIncident {
        id: i.id.clone(),
        title: i.title.clone(),
        status: INCIDENT_STATUSES.to_wire(i.status).into(),
        owner: i.owner.clone().unwrap_or_default(),
        severity: i.severity.to_wire() as i32,
        tlp: i.tlp.to_wire() as i32,
        alert_group_ids: i.groups.iter().map(ToString::to_string).collect(),
        hosts: i.hosts.clone(),
        indicators: i.indicators.iter().map(Indicator::to_wire).collect(),
        techniques: i.techniques.iter().map(ToString::to_string).collect(),
        created_at_ms: i.created_at_ms,
        updated_at_ms: i.updated_at_ms,
        escalated: i.escalated(),
        revision: i.revision,
        escalation_reason: i.escalation_reason.clone().unwrap_or_default(),
        hub: hub.map(|h| pb::HubView {
            incident_id: h.state.hub_incident.to_string(),
            phase: h.state.phase.to_wire().into(),
            resolution: h.state.resolution.clone(),
            ir_lead: h.state.ir_lead.clone().unwrap_or_default(),
            updated_at_ms: h.state.updated_at_ms,
            received_at_ms: h.received_at_ms,
        }),
    }
}

pub fn analyst(a: &Analyst) -> pb::Analyst {
    pb::Analyst {
        name: a.name.clone(),
        display_name: a.display_name.clone(),
        role: ROLES.to_wire(a.role).into(),
        legacy_role: String::new(),
        shifts: a.shifts.iter().map(ToString::to_string).collect(),
    }
}

pub fn notification(n: &Notification) -> pb::Notification {
    pb::Notification {
        id: n.id.to_string(),
        at_ms: n.at_ms,
        kind: n.kind.as_str().into(),
        message: n.message.clone(),
        alert_group_id: n.group.map(|g| g.to_string()).unwrap_or_default(),
    }
}
