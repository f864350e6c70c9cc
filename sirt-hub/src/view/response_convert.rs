//! Wire ↔ domain for directives, their updates and hunts.

use crate::response::MAX_HITS;
use crate::response::directive::SiteReport;
use crate::response::{DirectiveRecord, DirectiveState, HuntHit, HuntRecord, SiteProgress};
use socfed_proto::UnixMillis;
use socfed_proto::pb;
use socfed_proto::vocab::{InvalidField, bounds};

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

/// A hit as a site reported it: one-line text without control characters, a count and
/// times in range (`vocab::bounds`); `field` names the hit for the refusal.
fn hit_from_wire(h: pb::HuntHit, field: &str) -> Result<HuntHit, InvalidField> {
    let pb::HuntHit {
        indicator,
        group_id,
        title,
        alert_count,
        first_seen_ms,
        last_seen_ms,
        local_incident_id,
    } = h;
    let within = |e: InvalidField| e.within(field);
    for (name, text) in [
        ("indicator", &indicator),
        ("group_id", &group_id),
        ("title", &title),
        ("local_incident_id", &local_incident_id),
    ] {
        if text.len() > MAX_HIT_TEXT_BYTES {
            return Err(within(InvalidField::new(
                name,
                format!("longer than {MAX_HIT_TEXT_BYTES} bytes"),
            )));
        }
        bounds::single_line(name, text).map_err(within)?;
    }
    Ok(HuntHit {
        indicator,
        group_id,
        title,
        alert_count: bounds::count("alert_count", alert_count).map_err(within)?,
        first_seen_ms: bounds::time("first_seen_ms", first_seen_ms).map_err(within)?,
        last_seen_ms: bounds::time("last_seen_ms", last_seen_ms).map_err(within)?,
        local_incident_id,
    })
}

/// A hit's text fields are short (an indicator, an id, a title).
const MAX_HIT_TEXT_BYTES: usize = 4096;

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

/// Decodes a site's update; `Err` explains what is wrong with it. Text that reaches
/// operators' terminals is checked like a report's (`vocab::bounds`), except the command's
/// `output`: program output legitimately carries colours and carriage returns, so its
/// control characters are kept as visible `\u{..}` escapes instead of refusing the result.
pub fn update(u: pb::DirectiveUpdate) -> Result<(ulid::Ulid, SiteReport), String> {
    let pb::DirectiveUpdate {
        directive_id,
        state,
        detail,
        exit_code,
        output,
        // The hub records when it received the update, not the site's clock.
        at_ms: _,
        actor,
        hits,
    } = u;
    let id = ulid::Ulid::from_string(&directive_id)
        .map_err(|_| format!("directive id {:?} is not a ULID", directive_id))?;
    let state = DirectiveState::from_wire(state)
        .ok_or_else(|| format!("directive {id}: unknown state {state}"))?;
    let refused = |e: InvalidField| format!("directive {id}: {e}");
    bounds::multi_line("detail", &detail).map_err(refused)?;
    bounds::single_line("actor", &actor).map_err(refused)?;
    // Hits past the cap are dropped when applied; judging them all would let a site make the
    // hub check an unbounded list.
    let hits = hits
        .into_iter()
        .take(MAX_HITS)
        .enumerate()
        .map(|(i, h)| hit_from_wire(h, &format!("hits[{i}]")))
        .collect::<Result<Vec<_>, _>>()
        .map_err(refused)?;
    Ok((
        id,
        SiteReport {
            state,
            detail,
            exit_code,
            output: socfed_runtime::terminal::clean_multiline(&output).into_owned(),
            actor,
            hits,
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
        time_basis: sweeps
            .first()
            .map(|d| crate::response::hunt::TimeBasis::of_params(&d.params))
            .unwrap_or_default()
            .as_str()
            .to_string(),
        search: sweeps.first().and_then(|d| {
            socfed_proto::search::params::from_params(&d.params)
                .ok()
                .flatten()
                .map(Into::into)
        }),
    }
}
