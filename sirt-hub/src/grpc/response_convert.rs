//! Wire ↔ domain for directives, their updates and hunts.

use crate::response::directive::SiteReport;
use crate::response::{DirectiveRecord, DirectiveState, HuntHit, HuntRecord, SiteProgress};
use socfed_proto::UnixMillis;
use socfed_proto::pb;

fn hit_to_wire(h: &HuntHit) -> pb::HuntHit {
    pb::HuntHit {
        indicator: h.indicator.clone(),
        group_id: h.group_id.clone(),
        title: h.title.clone(),
        alert_count: h.alert_count,
        first_seen_ms: h.first_seen_ms,
        last_seen_ms: h.last_seen_ms,
        local_incident_id: h.local_incident_id.clone(),
    }
}

fn hit_from_wire(h: pb::HuntHit) -> HuntHit {
    HuntHit {
        indicator: h.indicator,
        group_id: h.group_id,
        title: h.title,
        alert_count: h.alert_count,
        first_seen_ms: h.first_seen_ms,
        last_seen_ms: h.last_seen_ms,
        local_incident_id: h.local_incident_id,
    }
}

/// The directive as sent to its site. Task fields travel as parameters.
pub fn directive(d: &DirectiveRecord) -> pb::Directive {
    let mut params: std::collections::HashMap<String, String> = d
        .params
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(task) = &d.task {
        params.insert("title".into(), task.title.clone());
        params.insert("details".into(), task.details.clone());
        params.insert("due_ms".into(), task.due_ms.to_string());
    }
    pb::Directive {
        directive_id: d.id.to_string(),
        incident_id: d.incident.map(|i| i.to_string()).unwrap_or_default(),
        kind: d.kind.clone(),
        params,
        issued_at_ms: d.issued_at_ms,
        expires_at_ms: d.expires_at_ms,
        issued_by: d.issued_by.clone(),
    }
}

pub fn directive_status(d: &DirectiveRecord, now: UnixMillis) -> pb::DirectiveStatus {
    pb::DirectiveStatus {
        directive: Some(directive(d)),
        site_id: d.site.to_string(),
        hunt_id: d.hunt.map(|h| h.to_string()).unwrap_or_default(),
        state: d.effective_state(now).to_wire() as i32,
        detail: d.detail.clone(),
        exit_code: d.exit_code,
        output: d.output.clone(),
        updated_at_ms: d.updated_at_ms,
        actor: d.actor.clone(),
        hits: d.hits.iter().map(hit_to_wire).collect(),
        task_title: d.task.as_ref().map(|t| t.title.clone()).unwrap_or_default(),
        due_ms: d.task.as_ref().map_or(0, |t| t.due_ms),
        overdue: d.overdue(now),
    }
}

/// Decodes a site's update; `Err` explains what is wrong with it.
pub fn update(u: pb::DirectiveUpdate) -> Result<(ulid::Ulid, SiteReport), String> {
    let id = ulid::Ulid::from_string(&u.directive_id)
        .map_err(|_| format!("directive id {:?} is not a ULID", u.directive_id))?;
    let state = DirectiveState::from_wire(u.state)
        .ok_or_else(|| format!("directive {id}: unknown state {}", u.state))?;
    Ok((
        id,
        SiteReport {
            state,
            detail: u.detail,
            exit_code: u.exit_code,
            output: u.output,
            actor: u.actor,
            hits: u.hits.into_iter().map(hit_from_wire).collect(),
        },
    ))
}

/// A hunt with each site's progress; `connected` tells offline sites apart.
pub fn hunt(
    h: &HuntRecord,
    sweeps: &[DirectiveRecord],
    connected: impl Fn(&socfed_proto::vocab::SiteId) -> bool,
    now: UnixMillis,
) -> pb::Hunt {
    let sites: Vec<pb::HuntSiteProgress> = sweeps
        .iter()
        .map(|d| pb::HuntSiteProgress {
            site_id: d.site.to_string(),
            progress: SiteProgress::of(d, connected(&d.site), now)
                .as_str()
                .to_string(),
            hit_count: d.hits.len() as u64,
            hits: d.hits.iter().map(hit_to_wire).collect(),
            directive_id: d.id.to_string(),
            detail: d.detail.clone(),
        })
        .collect();
    pb::Hunt {
        hunt_id: h.id.to_string(),
        incident_id: h.incident.map(|i| i.to_string()).unwrap_or_default(),
        indicators: h.indicators.iter().map(ToString::to_string).collect(),
        started_at_ms: h.started_at_ms,
        started_by: h.started_by.clone(),
        lookback_s: (h.lookback_ms / 1000).max(0) as u64,
        duration_s: (h.duration_ms / 1000).max(0) as u64,
        total_hits: sites.iter().map(|s| s.hit_count).sum(),
        sites,
        attached_to: h.attached_to.map(|i| i.to_string()).unwrap_or_default(),
    }
}
