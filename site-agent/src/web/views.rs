//! The console's pages: each reads through the application layer with the signed-in
//! operator's role (`crate::service`, the response engine: the same reads as the gRPC
//! services), then shapes the result for a template (`pages.rs`).

use super::WebState;
use super::auth::{Viewer, blocking};
use super::pages::{self, Layout, render};
use crate::error::AgentError;
use crate::soc::triage::StatusKind;
use crate::store::GroupFilter;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use socfed_proto::vocab::Severity;
use socfed_runtime::cli::format_millis;
use std::collections::HashMap;

/// Alert groups a queue page shows at most.
const QUEUE_LIMIT: usize = 500;

/// An error as a page: a refusal names what is needed (403, audited), a missing id says so;
/// `what` names the request in the audit, `back` is where the page leads back to.
pub async fn failed(
    state: &WebState,
    viewer: &Viewer,
    what: &str,
    back: &str,
    e: AgentError,
) -> Response {
    let status = e.http_status();
    if matches!(e, AgentError::Denied(_) | AgentError::NotInRoster(_)) {
        super::auth::audit_refusal(
            state,
            &viewer.actor.name,
            &viewer.actor.cert,
            what,
            &e.to_string(),
        )
        .await;
    }
    if matches!(e, AgentError::Store(_) | AgentError::Internal(_)) {
        return super::auth::unavailable(e.message());
    }
    let site = state.soc.settings.site.to_string();
    let page = render(&pages::Refused {
        layout: Layout::of(viewer, &site, "Not done", ""),
        reason: e.to_string(),
        back: back.to_string(),
    });
    (status, page).into_response()
}

pub fn site(state: &WebState) -> String {
    state.soc.settings.site.to_string()
}

const STATUSES: [(&str, &str); 6] = [
    ("open", "Open"),
    ("new", "New"),
    ("acknowledged", "Acknowledged"),
    ("closed", "Closed"),
    ("promoted", "Promoted"),
    ("all", "All"),
];

fn status_kinds(word: &str) -> Vec<StatusKind> {
    match word {
        "all" => StatusKind::ALL.to_vec(),
        "" | "open" => Vec::new(),
        other => StatusKind::ALL
            .iter()
            .copied()
            .filter(|k| k.as_str() == other)
            .collect(),
    }
}

/// The queue's rows for `q` (tier, status, assignee, min severity), soonest SLA first.
async fn queue_rows(
    state: &WebState,
    viewer: &Viewer,
    q: &HashMap<String, String>,
) -> Result<Vec<pages::QueueRow>, AgentError> {
    let get = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let filter = GroupFilter {
        statuses: GroupFilter::status_codes(&status_kinds(&get("status"))),
        tier: get("tier")
            .parse::<u8>()
            .ok()
            .and_then(crate::soc::Tier::from_number),
        assignee: Some(get("assignee")).filter(|a| !a.is_empty()),
        limit: QUEUE_LIMIT,
    };
    let min: Option<Severity> = get("severity").parse().ok();
    let actor = viewer.actor.clone();
    let groups = blocking(state, move |s| s.list_groups(&actor, &filter)).await?;
    let (policy, now) = (&state.soc.settings.sla, state.soc.now());
    let mut rows: Vec<pages::QueueRow> = groups
        .iter()
        .filter(|g| min.is_none_or(|m| g.severity >= m))
        .map(|g| pages::QueueRow::of(g, policy, now))
        .collect();
    rows.sort_by_key(|r| r.sla.due_ms);
    Ok(rows)
}

/// `GET /`: the triage queue (`?fragment=rows`: its rows alone, for the live refresh).
pub async fn queue(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let rows = match queue_rows(&state, &viewer, &q).await {
        Ok(rows) => rows,
        Err(e) => return failed(&state, &viewer, "console: queue", "/", e).await,
    };
    let (csrf, verdicts) = (viewer.action_csrf(), pages::verdicts());
    if q.get("fragment").is_some_and(|f| f == "rows") {
        return render(&pages::QueueRows {
            rows,
            csrf,
            verdicts,
        });
    }
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let site = site(&state);
    let tiers = [("", "Any"), ("1", "1"), ("2", "2"), ("3", "3"), ("4", "4")];
    let severities = [
        ("", "Any"),
        ("low", "Low"),
        ("medium", "Medium"),
        ("high", "High"),
        ("critical", "Critical"),
    ];
    render(&pages::Queue {
        layout: Layout::of(&viewer, &site, "Triage queue", "/"),
        tiers: pages::choices(&tiers, &get("tier")),
        statuses: pages::choices(&STATUSES, &get("status")),
        severities: pages::choices(&severities, &get("severity")),
        assignee: get("assignee"),
        rows,
        csrf,
        verdicts,
    })
}

/// `GET /alerts/{id}`: an alert group, its sample, its history, and every action.
pub async fn group(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Response {
    let actor = viewer.actor.clone();
    let read = blocking(&state, move |s| {
        let id = super::actions::group_id(&id)?;
        let group = s.get_group(&actor, id)?;
        let sample = s
            .group_samples(std::slice::from_ref(&group))
            .pop()
            .unwrap_or_default();
        let history = s.store.audit_of(&id.to_string(), 20_000, 100)?;
        let roster = s.roster(&actor).unwrap_or_default();
        let incidents = s.list_incidents(&actor, 100).unwrap_or_default();
        Ok((group, sample, history, roster, incidents))
    })
    .await;
    let (group, sample, history, roster, incidents) = match read {
        Ok(read) => read,
        Err(e) => return failed(&state, &viewer, "console: alert group", "/", e).await,
    };
    let site = site(&state);
    let now = state.soc.now();
    let promoted_to = match &group.state.status {
        crate::soc::triage::Status::Promoted { incident } => incident.clone(),
        _ => String::new(),
    };
    let mut analysts: Vec<pages::Choice> = roster
        .iter()
        .map(|a| pages::Choice {
            value: a.name.clone(),
            label: format!("{} ({})", a.name, a.role),
            selected: false,
        })
        .collect();
    analysts.sort_by(|a, b| a.value.cmp(&b.value));
    let incidents = incidents
        .iter()
        .filter(|i| i.status != crate::soc::incident::IncidentStatus::Closed)
        .map(|i| pages::Choice {
            value: i.id.clone(),
            label: format!("{} ({})", i.title, i.id),
            selected: false,
        })
        .collect();
    let row = pages::QueueRow::of(&group, &state.soc.settings.sla, now);
    let runbooks = super::runbooks::section(&state, &viewer, group.id.to_string()).await;
    render(&pages::Group {
        runbooks,
        layout: Layout::of(&viewer, &site, "Alert group", "/"),
        rule: group.rule_id.clone(),
        product: group.product.clone(),
        tlp: group.tlp.as_str().to_string(),
        first_seen: format_millis(group.first_seen_ms),
        promoted_to,
        hosts: group.entities.hosts.clone(),
        users: group.entities.users.clone(),
        ips: group.entities.ips.iter().map(ToString::to_string).collect(),
        indicators: group.indicators.iter().map(ToString::to_string).collect(),
        techniques: group
            .techniques
            .iter()
            .map(pages::TechniqueLink::of)
            .collect(),
        sample,
        comments: group
            .comments
            .iter()
            .map(|c| pages::Line {
                at: format_millis(c.at_ms),
                who: c.author.clone(),
                text: c.text.clone(),
            })
            .collect(),
        history: history
            .iter()
            .map(|h| pages::Line {
                at: format_millis(h.at_ms),
                who: h.actor.clone(),
                text: h.action.clone(),
            })
            .collect(),
        csrf: viewer.action_csrf(),
        verdicts: pages::verdicts(),
        analysts,
        incidents,
        row,
    })
}
