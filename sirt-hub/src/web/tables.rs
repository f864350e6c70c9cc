//! The dashboard's table pages (askama templates, see `pages.rs`): an incident, the sites, the
//! hunts. Each builds its rows as plain text (an incident's tables with the report's own rows,
//! `report/rows.rs`, so both say the same); `macros.html` writes them, escaped.

use super::pages::{Layout, lead, tlp};
use crate::report;
use crate::view::words;
use askama::Template;
use socfed_proto::pb;
use socfed_runtime::cli::format_millis;

/// Rows of text cells.
type Rows = Vec<Vec<String>>;

/// One incident: its indicators and techniques, what each site saw, the tasks and directives
/// sent, the communications, the regulatory clocks and the timeline.
#[derive(Template)]
#[template(path = "incident.html")]
pub struct Incident<'a> {
    pub layout: Layout<'a>,
    pub title: &'a str,
    pub id: &'a str,
    pub status: &'static str,
    pub severity: &'static str,
    pub priority: &'a str,
    pub tlp: String,
    pub lead: &'a str,
    /// What the viewer may do to it now (none without a role).
    pub act: Option<super::actions::Act>,
    /// The response forms the viewer's role may use (none without one).
    pub respond: Option<super::respond::Respond>,
    /// The communications forms the viewer's role may use (none without one).
    pub comms: Option<super::comms::Comms>,
    /// The observables section (`observables.html`).
    pub observables: super::observables::Section,
    pub indicators: Rows,
    pub techniques: Rows,
    pub sightings: Rows,
    pub tasks: Rows,
    pub actions: Rows,
    pub communications: Rows,
    pub clocks: Rows,
    /// The work log: the timeline with the notes the viewer reads (`views::incident`).
    pub timeline: Rows,
    /// The note form (`notes.rs`), for the roles that may write notes.
    pub notes: Option<super::notes::NotesForm>,
    /// The runbooks that apply (`runbooks_matched.html`; `super::runbooks::matched`).
    pub runbooks: Vec<socfed_runtime::web::runbook::RunbookView>,
}

fn indicator_kind(kind: i32) -> String {
    pb::IndicatorKind::try_from(kind).map_or_else(
        |_| "unknown".to_string(),
        |k| {
            k.as_str_name()
                .trim_start_matches("INDICATOR_KIND_")
                .to_ascii_lowercase()
        },
    )
}

/// The forms an incident page offers its viewer (none without a role).
#[derive(Default)]
pub struct Forms {
    pub act: Option<super::actions::Act>,
    pub respond: Option<super::respond::Respond>,
    pub comms: Option<super::comms::Comms>,
}

/// The report's directive rows with each site's output after them (the tail the site sent:
/// what the playbook printed), as the rows are: directives, not tasks.
fn with_output(rows: Rows, directives: &[pb::DirectiveStatus]) -> Rows {
    let outputs = directives
        .iter()
        .filter(|d| d.task_title.is_empty())
        .map(|d| d.output.clone());
    rows.into_iter()
        .zip(outputs)
        .map(|(mut row, output)| {
            row.push(output);
            row
        })
        .collect()
}

impl<'a> Incident<'a> {
    pub fn new(
        layout: Layout<'a>,
        i: &'a pb::HubIncident,
        directives: &[pb::DirectiveStatus],
        comms: &[pb::Communication],
        forms: Forms,
    ) -> Self {
        let indicators = i
            .indicators
            .iter()
            .map(|x| vec![indicator_kind(x.kind), x.value.clone()])
            .chain(words::indicators_elided(i).map(|note| vec![String::new(), note]))
            .collect();
        Self {
            layout,
            title: &i.title,
            id: &i.id,
            status: words::status(i.status),
            severity: words::severity(i.severity),
            priority: &i.priority,
            tlp: tlp(i.tlp),
            lead: lead(i),
            act: forms.act,
            respond: forms.respond,
            comms: forms.comms,
            observables: Default::default(),
            indicators,
            techniques: i.techniques.iter().map(|t| vec![t.clone()]).collect(),
            sightings: report::sighting_rows(i),
            tasks: report::task_rows(directives),
            actions: with_output(report::directive_rows(directives), directives),
            communications: report::communication_rows(comms),
            clocks: report::clock_rows(i),
            timeline: report::timeline_rows(i),
            notes: None,
            runbooks: Vec::new(),
        }
    }
}

/// An incident's state line alone, for the script to put in place.
#[derive(Template)]
#[template(path = "state_line.html")]
pub struct StateLine<'a> {
    pub id: &'a str,
    pub status: &'static str,
    pub severity: &'static str,
    pub priority: &'a str,
    pub tlp: &'a str,
    pub lead: &'a str,
}

/// One of an incident page's live tables alone: its rows, for the script to put in place.
#[derive(Template)]
#[template(path = "rows.html")]
pub struct Fragment<'a> {
    pub rows: &'a Rows,
    pub columns: usize,
}

impl Incident<'_> {
    /// The live part `name` alone: the `state` line, or the rows of the table `tasks`,
    /// `directives`, `comms` or `timeline`; an unknown name is a 404.
    pub fn fragment(&self, name: &str) -> axum::response::Response {
        let (rows, columns) = match name {
            "state" => {
                return super::pages::render(&StateLine {
                    id: self.id,
                    status: self.status,
                    severity: self.severity,
                    priority: self.priority,
                    tlp: &self.tlp,
                    lead: self.lead,
                });
            }
            "tasks" => (&self.tasks, 6),
            "directives" => (&self.actions, 7),
            "comms" => (&self.communications, 5),
            "timeline" => (&self.timeline, 3),
            _ => {
                return axum::response::IntoResponse::into_response(
                    crate::error::HubError::not_found("no such part of the page"),
                );
            }
        };
        super::pages::render(&Fragment { rows, columns })
    }
}

/// Every enrolled site: its link, backlog, certificate, and what looks wrong.
#[derive(Template)]
#[template(path = "sites.html")]
pub struct Sites<'a> {
    pub layout: Layout<'a>,
    pub rows: Rows,
    /// The enrolled sites, with the enrol and remove forms for the admin or the CISO.
    pub enrolled: super::enrolment::EnrolledSection,
}

/// A certificate this close to its end is a warning on the sites page.
const CERT_WARN_MS: i64 = 14 * 24 * 3_600_000;
/// A backlog whose oldest escalation waits longer than this is a warning.
const BACKLOG_WARN_MS: u64 = 15 * 60_000;

/// What needs attention about a site now, beyond the store's own warnings: its stream down,
/// its certificate ending soon, escalations waiting long at the site.
fn health(s: &pb::SiteSummary, now: i64) -> Vec<String> {
    let mut said = Vec::new();
    if !s.connected {
        said.push(if s.last_seen_ms == 0 {
            "never connected".to_string()
        } else {
            let ago = u64::try_from(now - s.last_seen_ms).unwrap_or(0);
            format!(
                "stream down (last seen {} ago)",
                socfed_runtime::cli::format_age(ago)
            )
        });
    }
    if s.cert_not_after_ms > 0 && s.cert_not_after_ms - now < CERT_WARN_MS {
        said.push(if s.cert_not_after_ms <= now {
            "certificate expired".to_string()
        } else {
            format!(
                "certificate expires in {}",
                socfed_runtime::cli::format_age(
                    u64::try_from(s.cert_not_after_ms - now).unwrap_or(0)
                )
            )
        });
    }
    if s.backlog > 0 && s.oldest_unsent_age_ms > BACKLOG_WARN_MS {
        said.push(format!(
            "{} escalations waiting, oldest {}",
            s.backlog,
            socfed_runtime::cli::format_age(s.oldest_unsent_age_ms)
        ));
    }
    said.extend(words::site_warnings(s));
    said
}

impl<'a> Sites<'a> {
    pub fn new(
        layout: Layout<'a>,
        sites: &[pb::SiteSummary],
        enrolled: super::enrolment::EnrolledSection,
    ) -> Self {
        let now = socfed_proto::now_millis();
        let rows = sites
            .iter()
            .map(|s| {
                let warnings = health(s, now);
                vec![
                    s.site_id.clone(),
                    if s.connected { "up" } else { "down" }.into(),
                    if warnings.is_empty() {
                        "ok"
                    } else {
                        "attention"
                    }
                    .into(),
                    format_millis(s.last_seen_ms),
                    s.backlog.to_string(),
                    socfed_runtime::cli::format_age(s.oldest_unsent_age_ms),
                    s.acked_through.to_string(),
                    format_millis(s.cert_not_after_ms),
                    warnings.join("; "),
                ]
            })
            .collect();
        Self {
            layout,
            rows,
            enrolled,
        }
    }
}

/// The newest hunts the viewer may read, with each site's progress, and the forms the
/// viewer's role may use: start a hunt, attach one's hits to an incident.
#[derive(Template)]
#[template(path = "hunts.html")]
pub struct Hunts<'a> {
    pub layout: Layout<'a>,
    pub rows: Vec<HuntRow>,
    /// The session's action token when the viewer may start (`start`) or attach (`attach`).
    pub csrf: String,
    pub start: bool,
    pub attach: bool,
    /// Every enrolled site, for the start form.
    pub sites: Vec<String>,
    /// The hunt library section (`hunt_library.html`).
    pub library: super::hunt_library::LibrarySection,
}

/// One hunt: its id and its cells.
pub struct HuntRow {
    pub id: String,
    pub cells: Vec<String>,
}

/// What the viewer of the hunts page may do there.
pub struct HuntForms {
    pub csrf: String,
    pub start: bool,
    pub attach: bool,
    pub sites: Vec<String>,
}

impl<'a> Hunts<'a> {
    pub fn new(
        layout: Layout<'a>,
        hunts: &[pb::Hunt],
        forms: HuntForms,
        library: super::hunt_library::LibrarySection,
    ) -> Self {
        let rows = hunts
            .iter()
            .map(|h| {
                let progress: Vec<String> = h
                    .sites
                    .iter()
                    .map(|s| {
                        format!(
                            "{}: {} ({})",
                            s.site_id,
                            s.progress,
                            crate::response::directive::plural(
                                usize::try_from(s.hit_count).unwrap_or(usize::MAX),
                                "hit",
                                "hits"
                            )
                        )
                    })
                    .collect();
                HuntRow {
                    id: h.hunt_id.clone(),
                    cells: vec![
                        h.hunt_id.clone(),
                        format_millis(h.started_at_ms),
                        h.started_by.clone(),
                        h.indicators.join(", "),
                        progress.join("; "),
                        h.total_hits.to_string(),
                        h.attached_to.clone(),
                    ],
                }
            })
            .collect();
        Self {
            layout,
            rows,
            csrf: forms.csrf,
            start: forms.start,
            attach: forms.attach,
            sites: forms.sites,
            library,
        }
    }
}
