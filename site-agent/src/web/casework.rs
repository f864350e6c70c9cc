//! The console's case work (issue 15): the incident page's alert groups (each with a form to
//! take it out) and work log (notes, a form to add one), and the KPIs page. Reads and
//! actions go through `service/casework.rs` and `service/kpi.rs` with the viewer's role, as
//! the CLI and the API do; forms pass the same checks as every console action
//! (`actions::perform`: origin, CSRF token, audited refusal).

use super::WebState;
use super::actions::{MAX_TEXT_CHARS, group_id, perform};
use super::auth::{Viewer, blocking};
use super::pages::{Choice, Layout, render};
use super::views::{failed, site};
use crate::error::AgentError;
use crate::service::{Actor, SocService};
use crate::soc::incident::LocalIncident;
use crate::soc::notes::MAX_NOTE_CHARS;
use askama::Template;
use axum::Extension;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use socfed_proto::vocab::Tlp;
use socfed_runtime::cli::format_millis;
use std::collections::HashMap;

/// One note as the page shows it (escaped by askama like every value).
pub struct NoteRow {
    pub at: String,
    pub author: String,
    pub tlp: String,
    pub text: String,
    pub redacted: String,
}

/// The incident page's case-work section (`incident_casework.html`).
pub struct Section {
    pub groups: Vec<String>,
    pub notes: Vec<NoteRow>,
    pub tlps: Vec<Choice>,
}

/// The section for `incident` as `actor` may read it.
pub fn section(
    soc: &SocService,
    actor: &Actor,
    incident: &LocalIncident,
) -> Result<Section, AgentError> {
    let notes = soc.incident_notes(actor, &incident.id)?;
    let mut tlps = vec![Choice {
        value: String::new(),
        label: "none".into(),
        selected: true,
    }];
    tlps.extend(Tlp::ALL.iter().map(|t| Choice {
        value: t.as_str().into(),
        label: t.as_str().into(),
        selected: false,
    }));
    Ok(Section {
        groups: incident.groups.iter().map(ToString::to_string).collect(),
        notes: notes
            .iter()
            .map(|n| NoteRow {
                at: format_millis(n.at_ms),
                author: n.author.clone(),
                tlp: n.tlp.map(|t| t.as_str().to_string()).unwrap_or_default(),
                text: n.text.clone(),
                redacted: n.redacted.clone().unwrap_or_default(),
            })
            .collect(),
        tlps,
    })
}

/// `POST /incidents/{id}/notes`: a note by the viewer.
pub async fn add_note(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let page = format!("/incidents/{id}");
    let work = move |state: &WebState, viewer: &Viewer, form: HashMap<String, String>| {
        let text = form.get("text").map(String::as_str).unwrap_or_default();
        if text.chars().count() > MAX_NOTE_CHARS {
            return Err(AgentError::invalid(format!(
                "a note is at most {MAX_NOTE_CHARS} characters"
            )));
        }
        // Browsers send a textarea's line ends as CR LF; the note keeps LF.
        let text = text.replace("\r\n", "\n");
        let tlp = match form.get("tlp").map(String::as_str).unwrap_or_default() {
            "" => None,
            word => Some(
                word.parse::<Tlp>()
                    .map_err(|e| AgentError::invalid(e.to_string()))?,
            ),
        };
        state.soc.add_note(&viewer.actor, &id, &text, tlp)?;
        Ok(format!("/incidents/{id}#notes"))
    };
    perform(state, viewer, (headers, uri), form, page, work).await
}

/// `POST /incidents/{id}/remove`: takes the form's `group` out of the incident.
pub async fn remove_group(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let page = format!("/incidents/{id}");
    let work = move |state: &WebState, viewer: &Viewer, form: HashMap<String, String>| {
        let raw = form.get("group").map(String::as_str).unwrap_or_default();
        let group = group_id(&raw.chars().take(MAX_TEXT_CHARS).collect::<String>())?;
        state.soc.remove_from_incident(&viewer.actor, group, &id)?;
        Ok(format!("/incidents/{id}"))
    };
    perform(state, viewer, (headers, uri), form, page, work).await
}

pub struct TimingRow {
    pub name: String,
    pub handled: usize,
    pub cells: Vec<String>,
}

pub struct RuleRow {
    pub rule: String,
    pub closed: usize,
    pub fp: usize,
    pub rate: String,
}

pub struct ShiftRow {
    pub shift: String,
    pub handled: usize,
}

pub struct WeekRow {
    pub week: String,
    pub acknowledged: usize,
    pub ack_p50: String,
    pub escalated: usize,
    pub closed: usize,
    pub fp: usize,
}

#[derive(Template)]
#[template(path = "kpis.html")]
pub struct KpisPage<'a> {
    pub layout: Layout<'a>,
    pub weeks: u32,
    pub from: String,
    pub to: String,
    pub scanned: usize,
    pub truncated: bool,
    pub timing_headers: [&'static str; 9],
    pub tiers: Vec<TimingRow>,
    pub analysts: Vec<TimingRow>,
    pub rules: Vec<RuleRow>,
    pub shifts: Vec<ShiftRow>,
    pub trend: Vec<WeekRow>,
}

fn duration(ms: Option<i64>) -> String {
    ms.map_or_else(
        || "—".into(),
        |ms| socfed_runtime::cli::format_age(ms.unsigned_abs()),
    )
}

fn cells(t: &crate::soc::kpi::Timings) -> Vec<String> {
    [&t.acknowledge, &t.escalate, &t.close]
        .into_iter()
        .flat_map(|d| {
            [
                d.count.to_string(),
                duration(d.median_ms),
                duration(d.p90_ms),
            ]
        })
        .collect()
}

#[derive(Debug, serde::Deserialize)]
pub struct KpisQuery {
    pub weeks: Option<u32>,
}

/// `GET /kpis`
pub async fn kpis(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
    query: Result<Query<KpisQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    // A query that does not parse shows the default window; the service checks the range.
    let weeks = query.ok().and_then(|Query(q)| q.weeks).unwrap_or(4);
    let actor = viewer.actor.clone();
    let report = match blocking(&state, move |s| s.kpis(&actor, weeks)).await {
        Ok(report) => report,
        Err(e) => return failed(&state, &viewer, "console: kpis", "/", e).await,
    };
    let site = site(&state);
    let k = &report.kpis;
    render(&KpisPage {
        layout: Layout::of(&viewer, &site, "KPIs", "/kpis"),
        weeks: report.weeks,
        from: format_millis(k.from_ms),
        to: format_millis(k.to_ms),
        scanned: report.scanned,
        truncated: report.truncated,
        timing_headers: [
            "Ack n",
            "Ack p50",
            "Ack p90",
            "Esc n",
            "Esc p50",
            "Esc p90",
            "Close n",
            "Close p50",
            "Close p90",
        ],
        tiers: k
            .tiers
            .iter()
            .map(|t| TimingRow {
                name: format!("Tier {}", t.tier),
                handled: 0,
                cells: cells(&t.timings),
            })
            .collect(),
        analysts: k
            .analysts
            .iter()
            .map(|a| TimingRow {
                name: a.analyst.clone(),
                handled: a.groups_handled,
                cells: cells(&a.timings),
            })
            .collect(),
        rules: k
            .rules
            .iter()
            .map(|r| RuleRow {
                rule: r.rule_id.clone(),
                closed: r.closed,
                fp: r.false_positive,
                rate: format!("{:.0}%", r.false_positive_rate * 100.0),
            })
            .collect(),
        shifts: k
            .shifts
            .iter()
            .map(|s| ShiftRow {
                shift: s.shift.clone(),
                handled: s.groups_handled,
            })
            .collect(),
        trend: k
            .trend
            .iter()
            .map(|w| WeekRow {
                week: w.week.clone(),
                acknowledged: w.acknowledged,
                ack_p50: duration(w.median_acknowledge_ms),
                escalated: w.escalated,
                closed: w.closed,
                fp: w.false_positive,
            })
            .collect(),
    })
}
