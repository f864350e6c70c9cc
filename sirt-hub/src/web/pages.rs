//! The dashboard's pages as askama templates (`sirt-hub/templates/`, checked when the crate
//! compiles): the one base layout, the sign-in pages, short messages and the incident board.
//! The engine HTML-escapes every value it writes, in text and in attributes; no template marks
//! a value safe, so text from sites, operators or the query string cannot become markup. This
//! module only turns wire values into the text a page shows (`tables.rs` for the table pages).

use super::auth::Viewer;
use crate::error::HubError;
use crate::view::words;
use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use socfed_proto::pb;
use socfed_runtime::cli::format_millis;

/// What the base layout (`base.html`) shows around every page.
pub struct Layout<'a> {
    pub title: &'a str,
    /// The path of the navigation entry this page is under (`aria-current`), or "".
    pub current: &'a str,
    /// The signed-in operator: the navigation and the sign-out form; none on sign-in pages.
    pub viewer: Option<Who<'a>>,
}

/// The operator a page is for and the CSRF token of its sign-out form.
pub struct Who<'a> {
    pub name: &'a str,
    pub csrf: String,
}

impl<'a> Layout<'a> {
    /// A page of a signed-in operator.
    pub fn of(viewer: &'a Viewer, title: &'a str, current: &'a str) -> Self {
        Self {
            title,
            current,
            viewer: Some(Who {
                name: &viewer.name,
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

/// The page as a response; a page that cannot be rendered (a formatting error, not input) is
/// logged and answered with an error rather than half a page.
pub fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a dashboard page could not be rendered");
            HubError::internal("the page could not be rendered").into_response()
        }
    }
}

/// The sign-in confirmation: names who the link signs in as; only its button signs in.
#[derive(Template)]
#[template(path = "sign_in.html")]
pub struct SignIn<'a> {
    pub layout: Layout<'a>,
    pub operator: &'a str,
    pub token: &'a str,
    pub csrf: &'a str,
}

/// Not signed in, signed out or refused: why, and how to get a link.
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

/// A signed-in page that only says something (not found, not permitted).
#[derive(Template)]
#[template(path = "message.html")]
pub struct Message<'a> {
    pub layout: Layout<'a>,
    pub text: &'a str,
}

/// An option of a filter's `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    /// An option showing its value.
    pub fn word(value: &str, current: &str) -> Self {
        Self {
            value: value.to_string(),
            label: value.to_string(),
            selected: value == current,
        }
    }
}

fn choices(options: &[(&'static str, &'static str)], current: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|&(value, label)| Choice {
            value: value.to_string(),
            label: label.to_string(),
            selected: value == current,
        })
        .collect()
}

/// One incident on the board, as text.
pub struct BoardRow {
    pub id: String,
    pub title: String,
    pub status: String,
    pub severity: &'static str,
    pub priority: String,
    pub tlp: String,
    pub lead: String,
    pub sites: String,
    pub sightings: usize,
    pub updated: String,
}

/// The TLP as the board and the incident page show it (`AMBER`, `?` for an unknown number).
pub fn tlp(n: i32) -> String {
    socfed_proto::vocab::Tlp::from_wire(n, "tlp")
        .map_or("?".to_string(), |t| t.to_string().to_uppercase())
}

pub fn lead(i: &pb::HubIncident) -> &str {
    if i.ir_lead.is_empty() {
        "(none)"
    } else {
        &i.ir_lead
    }
}

pub fn board_rows(incidents: &[pb::HubIncident]) -> Vec<BoardRow> {
    incidents
        .iter()
        .map(|i| BoardRow {
            id: i.id.clone(),
            title: i.title.clone(),
            status: if i.resolution.is_empty() {
                words::status(i.status).to_string()
            } else {
                format!("{} ({})", words::status(i.status), i.resolution)
            },
            severity: words::severity(i.severity),
            priority: i.priority.clone(),
            tlp: tlp(i.tlp),
            lead: lead(i).to_string(),
            sites: words::sites_of(i),
            sightings: i.sightings.len(),
            updated: format_millis(i.updated_at_ms),
        })
        .collect()
}

/// The board's rows alone (`?fragment=rows`), for the script's live refresh.
#[derive(Template)]
#[template(path = "board_rows.html")]
pub struct BoardRows {
    pub rows: Vec<BoardRow>,
}

/// The incident board with its filters as the query gave them.
#[derive(Template)]
#[template(path = "board.html")]
pub struct Board<'a> {
    pub layout: Layout<'a>,
    pub site: &'a str,
    pub statuses: Vec<Choice>,
    pub severities: Vec<Choice>,
    pub rows: Vec<BoardRow>,
}

const STATUSES: [(&str, &str); 9] = [
    ("", "open"),
    ("all", "all"),
    ("new", "new"),
    ("triage", "triage"),
    ("containment", "containment"),
    ("eradication", "eradication"),
    ("recovery", "recovery"),
    ("post-incident", "post-incident"),
    ("closed", "closed"),
];

const SEVERITIES: [(&str, &str); 5] = [
    ("", "any"),
    ("low", "low"),
    ("medium", "medium"),
    ("high", "high"),
    ("critical", "critical"),
];

impl<'a> Board<'a> {
    pub fn new(
        layout: Layout<'a>,
        incidents: &[pb::HubIncident],
        site: &'a str,
        status: &str,
        severity: &str,
    ) -> Self {
        Self {
            layout,
            site,
            statuses: choices(&STATUSES, status),
            severities: choices(&SEVERITIES, severity),
            rows: board_rows(incidents),
        }
    }
}
