//! The console's pages as askama templates (`site-agent/templates/`, checked when the crate
//! compiles): the base layout, the sign-in pages, refusals, and the shapes of the queue, an
//! alert group, incidents, directives and people. The engine HTML-escapes every value it
//! writes, in text and in attributes; no template marks a value safe, so text from alerts,
//! analysts or the query string cannot become markup. This module only turns domain values
//! into the text a page shows.

use super::auth::Viewer;
use crate::soc::group::AlertGroup;
use crate::soc::sla::{self, Clock, SlaPolicy};
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use socfed_runtime::cli::format_millis;

/// What the base layout (`base.html`) shows around every page.
pub struct Layout<'a> {
    pub title: &'a str,
    /// The path of the navigation entry this page is under (`aria-current`), or "".
    pub current: &'a str,
    /// The signed-in operator: the navigation and the sign-out form; none on sign-in pages.
    pub viewer: Option<Who>,
}

/// The operator a page is for, their role, the site, and the sign-out form's token.
pub struct Who {
    pub name: String,
    pub role: String,
    pub site: String,
    pub csrf: String,
}

impl<'a> Layout<'a> {
    /// A page of a signed-in operator.
    pub fn of(viewer: &Viewer, site: &str, title: &'a str, current: &'a str) -> Self {
        Self {
            title,
            current,
            viewer: Some(Who {
                name: viewer.actor.name.clone(),
                role: viewer.actor.role.to_string(),
                site: site.to_string(),
                csrf: viewer.csrf(),
            }),
        }
    }

    /// A page for a browser that is not signed in.
    pub fn signed_out(title: &'a str) -> Self {
        Self {
            title,
            current: "",
            viewer: None,
        }
    }
}

/// The page as a response; a page that cannot be rendered is logged and answered with an
/// error rather than half a page.
pub fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a console page could not be rendered");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignIn<'a> {
    pub layout: Layout<'a>,
    pub site: &'a str,
    pub operator: &'a str,
    pub token: &'a str,
    pub csrf: &'a str,
}

#[derive(Template)]
#[template(path = "signed_out.html")]
pub struct SignedOut<'a> {
    pub layout: Layout<'a>,
    pub reason: &'a str,
}

pub fn signed_out(reason: &str) -> SignedOut<'_> {
    SignedOut {
        layout: Layout::signed_out("Sign in"),
        reason,
    }
}

/// An action the agent refused: its message (the role needed, the state), the way back.
#[derive(Template)]
#[template(path = "refused.html")]
pub struct Refused<'a> {
    pub layout: Layout<'a>,
    pub reason: String,
    pub back: String,
}

/// A `<select>` option.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub fn choices(options: &[(&str, &str)], current: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|(value, label)| Choice {
            value: value.to_string(),
            label: label.to_string(),
            selected: *value == current,
        })
        .collect()
}

/// The verdicts a close form offers.
pub fn verdicts() -> Vec<Choice> {
    crate::soc::triage::Verdict::ALL
        .iter()
        .map(|v| Choice {
            value: v.as_str().into(),
            label: v.as_str().replace('-', " "),
            selected: false,
        })
        .collect()
}

/// The running SLA clock of a group, as a page shows it.
pub struct SlaClock {
    pub text: String,
    /// "overdue", "soon" (within 15 minutes) or "ok": a CSS class.
    pub class: &'static str,
    pub due_ms: i64,
}

pub fn sla_clock(policy: &SlaPolicy, group: &AlertGroup, now: i64) -> SlaClock {
    let Some(d) = sla::deadline(policy, &group.state, group.severity) else {
        return SlaClock {
            text: "—".into(),
            class: "ok",
            due_ms: i64::MAX,
        };
    };
    let what = match d.clock {
        Clock::Acknowledge => "ack",
        Clock::Resolve => "resolve",
    };
    let left = d.due_ms - now;
    let (text, class) = if left <= 0 {
        (format!("{what} overdue by {}", span(left)), "overdue")
    } else {
        let class = if left < 15 * 60_000 { "soon" } else { "ok" };
        (format!("{what} due in {}", span(left)), class)
    };
    SlaClock {
        text,
        class,
        due_ms: d.due_ms,
    }
}

/// `ms` (either sign) as a person reads a clock: "42s", "17m", "3h 05m", "2d 4h".
fn span(ms: i64) -> String {
    let s = ms.unsigned_abs() / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86400, s % 86400 / 3600),
    }
}

/// One row of the triage queue.
pub struct QueueRow {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub tier: u8,
    pub status: String,
    pub open: bool,
    pub assignee: String,
    pub count: u64,
    pub hosts: String,
    pub sla: SlaClock,
    pub last_seen: String,
}

impl QueueRow {
    pub fn of(group: &AlertGroup, policy: &SlaPolicy, now: i64) -> Self {
        Self {
            id: group.id.to_string(),
            title: group.title.clone(),
            severity: group.severity.as_str().to_string(),
            tier: group.state.tier.number(),
            status: group.state.status.kind().as_str().to_string(),
            open: group.state.status.kind().is_open(),
            assignee: group.state.assignee.clone().unwrap_or_else(|| "—".into()),
            count: group.count,
            hosts: group.entities.hosts.join(", "),
            sla: sla_clock(policy, group, now),
            last_seen: format_millis(group.last_seen_ms),
        }
    }
}

#[derive(Template)]
#[template(path = "queue.html")]
pub struct Queue<'a> {
    pub layout: Layout<'a>,
    pub tiers: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub severities: Vec<Choice>,
    pub assignee: String,
    pub rows: Vec<QueueRow>,
    pub csrf: String,
    pub verdicts: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "queue_rows.html")]
pub struct QueueRows {
    pub rows: Vec<QueueRow>,
    pub csrf: String,
    pub verdicts: Vec<Choice>,
}

/// An entry of a group's history (its audit records) or comments.
pub struct Line {
    pub at: String,
    pub who: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "group.html")]
pub struct Group<'a> {
    pub layout: Layout<'a>,
    pub row: QueueRow,
    pub rule: String,
    pub product: String,
    pub tlp: String,
    pub first_seen: String,
    pub promoted_to: String,
    pub hosts: Vec<String>,
    pub users: Vec<String>,
    pub ips: Vec<String>,
    pub indicators: Vec<String>,
    pub techniques: Vec<TechniqueLink>,
    pub sample: String,
    pub comments: Vec<Line>,
    pub history: Vec<Line>,
    pub csrf: String,
    pub verdicts: Vec<Choice>,
    pub analysts: Vec<Choice>,
    /// Local incidents the group can be added to.
    pub incidents: Vec<Choice>,
    /// The runbooks that apply (`runbooks.html`).
    pub runbooks: super::runbooks::RunbookSection,
}

/// A local incident as the list and its page show it, with the hub's view.
pub struct IncidentRow {
    pub id: String,
    pub title: String,
    pub status: String,
    pub severity: String,
    pub owner: String,
    pub groups: Vec<String>,
    pub hosts: String,
    pub escalated: String,
    pub hub_id: String,
    pub hub_phase: String,
    pub hub_lead: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "incidents.html")]
pub struct Incidents<'a> {
    pub layout: Layout<'a>,
    pub rows: Vec<IncidentRow>,
}

#[derive(Template)]
#[template(path = "incident.html")]
pub struct Incident<'a> {
    pub layout: Layout<'a>,
    pub row: IncidentRow,
    pub indicators: Vec<String>,
    pub techniques: Vec<TechniqueLink>,
    pub reason: String,
    pub csrf: String,
    pub statuses: Vec<Choice>,
    pub analysts: Vec<Choice>,
    /// Its alert groups and work log (`casework.rs`, `incident_casework.html`).
    pub casework: super::casework::Section,
    /// The runbooks that apply (`runbooks.html`).
    pub runbooks: super::runbooks::RunbookSection,
}

pub struct DirectiveRow {
    pub id: String,
    pub incident: String,
    pub kind: String,
    pub params: String,
    pub state: String,
    pub detail: String,
    pub issued_by: String,
    pub received: String,
    pub awaiting: bool,
    /// A task from the SIRT that is still to be worked.
    pub open_task: bool,
}

#[derive(Template)]
#[template(path = "directives.html")]
pub struct Directives<'a> {
    pub layout: Layout<'a>,
    pub rows: Vec<DirectiveRow>,
    pub csrf: String,
}

pub struct RosterRow {
    pub name: String,
    pub display: String,
    pub role: String,
    pub shifts: String,
}

pub struct Coverage {
    pub tier: u8,
    pub on_shift: String,
    pub gaps: String,
}

#[derive(Template)]
#[template(path = "people.html")]
pub struct People<'a> {
    pub layout: Layout<'a>,
    pub roster: Vec<RosterRow>,
    pub coverage: Vec<Coverage>,
    pub duty: Vec<Line>,
    pub duty_changes: String,
    pub notifications: Vec<Line>,
}

/// An ATT&CK technique as the pages show it: its id, linked to its page in MITRE's
/// knowledge base (the name, description and detections).
pub struct TechniqueLink {
    pub id: String,
    pub url: String,
}

impl TechniqueLink {
    pub fn of(technique: &socfed_proto::vocab::Technique) -> Self {
        Self {
            id: technique.to_string(),
            url: technique.reference_url(),
        }
    }
}
