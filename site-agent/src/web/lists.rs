//! The console's other pages: local incidents with the hub's view of them, directives and
//! tasks from the SIRT, and people (roster, shift coverage, rotation duty, notifications).
//! Each reads through the application layer with the operator's role.

use super::WebState;
use super::auth::{Viewer, blocking};
use super::pages::{self, Layout, render};
use super::views::{failed, site};
use crate::soc::incident::LocalIncident;
use crate::store::HubState;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use socfed_runtime::cli::format_millis;

/// Local incidents and directives a page lists at most.
const LIST_LIMIT: usize = 200;
/// How far ahead the people page looks for coverage gaps.
const GAP_HORIZON_MS: i64 = 24 * 3600 * 1000;

fn duty_words(d: crate::soc::roster::Duty) -> &'static str {
    match d {
        crate::soc::roster::Duty::Tier1Monitoring => "Tier 1 monitoring",
        crate::soc::roster::Duty::SirtDuty => "SIRT duty",
    }
}

fn incident_row(i: &LocalIncident, hub: Option<&HubState>) -> pages::IncidentRow {
    let dash = || "—".to_string();
    pages::IncidentRow {
        id: i.id.clone(),
        title: i.title.clone(),
        status: i.status.as_str().to_string(),
        severity: i.severity.as_str().to_string(),
        owner: i.owner.clone().unwrap_or_else(dash),
        groups: i.groups.iter().map(ToString::to_string).collect(),
        hosts: i.hosts.join(", "),
        escalated: match (&i.escalation_reason, hub) {
            (None, _) => "no (local)".into(),
            (Some(_), Some(_)) => format!("yes (revision {})", i.revision),
            (Some(_), None) => "yes (not confirmed by the hub yet)".into(),
        },
        hub_id: hub.map_or_else(dash, |h| h.state.hub_incident.to_string()),
        hub_phase: hub.map_or_else(dash, |h| {
            if h.state.resolution.is_empty() {
                h.state.phase.as_str().to_string()
            } else {
                format!("{} ({})", h.state.phase.as_str(), h.state.resolution)
            }
        }),
        hub_lead: hub
            .and_then(|h| h.state.ir_lead.clone())
            .unwrap_or_else(dash),
        updated: format_millis(i.updated_at_ms),
    }
}

/// `GET /incidents`
pub async fn incidents(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
) -> Response {
    let actor = viewer.actor.clone();
    let read = blocking(&state, move |s| {
        s.list_incidents(&actor, LIST_LIMIT)?
            .into_iter()
            .map(|i| s.with_hub(i))
            .collect::<Result<Vec<_>, _>>()
    })
    .await;
    let list = match read {
        Ok(list) => list,
        Err(e) => return failed(&state, &viewer, "console: incidents", "/", e).await,
    };
    let site = site(&state);
    render(&pages::Incidents {
        layout: Layout::of(&viewer, &site, "Local incidents", "/incidents"),
        rows: list
            .iter()
            .map(|(i, hub)| incident_row(i, hub.as_ref()))
            .collect(),
    })
}

/// `GET /incidents/{id}`
pub async fn incident(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Response {
    let actor = viewer.actor.clone();
    let read = blocking(&state, move |s| {
        let (incident, hub) = s.with_hub(s.get_incident(&actor, &id)?)?;
        let casework = super::casework::section(s, &actor, &incident)?;
        Ok((
            incident,
            hub,
            s.roster(&actor).unwrap_or_default(),
            casework,
        ))
    })
    .await;
    let (incident, hub, roster, casework) = match read {
        Ok(found) => found,
        Err(e) => return failed(&state, &viewer, "console: incident", "/incidents", e).await,
    };
    let site = site(&state);
    let runbooks = super::runbooks::section(&state, &viewer, incident.id.clone()).await;
    render(&pages::Incident {
        runbooks,
        layout: Layout::of(&viewer, &site, "Local incident", "/incidents"),
        row: incident_row(&incident, hub.as_ref()),
        indicators: incident
            .indicators
            .iter()
            .map(ToString::to_string)
            .collect(),
        techniques: incident
            .techniques
            .iter()
            .map(pages::TechniqueLink::of)
            .collect(),
        reason: incident.escalation_reason.clone().unwrap_or_default(),
        csrf: viewer.action_csrf(),
        statuses: crate::soc::incident::IncidentStatus::ALL
            .iter()
            .map(|st| pages::Choice {
                value: st.as_str().into(),
                label: st.as_str().into(),
                selected: *st == incident.status,
            })
            .collect(),
        analysts: roster
            .iter()
            .map(|a| pages::Choice {
                value: a.name.clone(),
                label: format!("{} ({})", a.name, a.role),
                selected: incident.owner.as_deref() == Some(a.name.as_str()),
            })
            .collect(),
        casework,
    })
}

/// `GET /directives`
pub async fn directives(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
) -> Response {
    let (engine, actor) = (state.engine.clone(), viewer.actor.clone());
    let read = tokio::task::spawn_blocking(move || engine.list(&actor, LIST_LIMIT, |_| true))
        .await
        .unwrap_or_else(|_| Err(crate::error::AgentError::internal("console task failed")));
    let records = match read {
        Ok(records) => records,
        Err(e) => return failed(&state, &viewer, "console: directives", "/", e).await,
    };
    let site = site(&state);
    render(&pages::Directives {
        layout: Layout::of(&viewer, &site, "Directives", "/directives"),
        rows: records
            .iter()
            .map(|d| pages::DirectiveRow {
                id: d.id.to_string(),
                incident: d.incident_id.clone(),
                kind: d.kind.clone(),
                params: d
                    .params
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                state: d.state.as_str().to_string(),
                detail: d.detail.clone(),
                issued_by: d.issued_by.clone(),
                received: format_millis(d.received_at_ms),
                awaiting: d.state == crate::response::State::AwaitingApproval,
                open_task: d.kind == crate::response::KIND_TASK && !d.state.is_final(),
            })
            .collect(),
        csrf: viewer.action_csrf(),
    })
}

/// `GET /people`
pub async fn people(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
) -> Response {
    let actor = viewer.actor.clone();
    let read = blocking(&state, move |s| {
        Ok((
            s.roster(&actor)?,
            s.shifts_now(&actor, GAP_HORIZON_MS)?,
            s.notifications(&actor, 50)?,
        ))
    })
    .await;
    let (roster, shifts, notifications) = match read {
        Ok(read) => read,
        Err(e) => return failed(&state, &viewer, "console: people", "/", e).await,
    };
    let site = site(&state);
    let duty = shifts.duty.as_ref();
    render(&pages::People {
        layout: Layout::of(&viewer, &site, "People", "/people"),
        roster: roster
            .iter()
            .map(|a| pages::RosterRow {
                name: a.name.clone(),
                display: a.display_name.clone(),
                role: a.role.to_string(),
                shifts: a
                    .shifts
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            })
            .collect(),
        coverage: shifts
            .tiers
            .iter()
            .map(|t| pages::Coverage {
                tier: t.tier.number(),
                on_shift: if t.on_shift.is_empty() {
                    "nobody".into()
                } else {
                    t.on_shift.join(", ")
                },
                gaps: if t.gaps.is_empty() {
                    "none".into()
                } else {
                    t.gaps
                        .iter()
                        .map(|(from, to)| {
                            format!("{} to {}", format_millis(*from), format_millis(*to))
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                },
            })
            .collect(),
        duty: duty
            .map(|d| {
                d.now
                    .iter()
                    .zip(d.next.iter())
                    .map(|((who, now), (_, next))| pages::Line {
                        who: who.clone(),
                        text: duty_words(*now).into(),
                        at: duty_words(*next).into(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        duty_changes: duty.map_or_else(String::new, |d| format_millis(d.changes_at_ms)),
        notifications: notifications
            .iter()
            .map(|n| pages::Line {
                at: format_millis(n.at_ms),
                who: n.kind.as_str().to_string(),
                text: n.message.clone(),
            })
            .collect(),
    })
}
