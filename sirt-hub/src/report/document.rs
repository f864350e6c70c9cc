//! One incident as a document: summary, sites and sightings, regulatory clocks, tasks,
//! directives with results, communications and the timeline. Built once as sections of rows,
//! then rendered as Markdown or HTML, so both formats always say the same thing.

use super::rows::{clock_rows, communication_rows, directive_rows, sighting_rows, task_rows};
use crate::view::words;
use socfed_proto::pb;
use socfed_runtime::cli::format_millis;
use std::fmt::Write;

/// What a report is made from.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub incident: pb::HubIncident,
    /// Directives and tasks of the incident (tasks are directives with a title).
    pub directives: Vec<pb::DirectiveStatus>,
    pub communications: Vec<pb::Communication>,
    /// The incident's notes as the reader got them (`HubCasework`), merged into the timeline.
    pub notes: Vec<pb::IncidentNote>,
    /// Who the report is for: notes marked above its clearance are withheld.
    pub audience: Option<crate::comms::Audience>,
}

pub(super) struct Section {
    pub(super) title: &'static str,
    pub(super) headers: &'static [&'static str],
    pub(super) rows: Vec<Vec<String>>,
}

/// The report's TLP marking, e.g. `TLP:RED`: the incident's. A value this build does not know
/// is marked RED, the most restrictive, rather than left unmarked.
pub fn marking(i: &pb::HubIncident) -> String {
    socfed_proto::vocab::Tlp::from_wire(i.tlp, "tlp")
        .map_or_else(|_| "TLP:RED".into(), crate::comms::tlp_label)
}

/// The line a reader sees first and last: the marking and what it means for sharing.
fn banner(i: &pb::HubIncident) -> String {
    let marking = marking(i);
    let rule = match marking.as_str() {
        "TLP:RED" => "for the named recipients only; do not share further",
        "TLP:AMBER+STRICT" => "within the recipient's organisation only",
        "TLP:AMBER" => "within the recipient's organisation and its clients, as needed",
        "TLP:GREEN" => "within the community; not public",
        _ => "no limit on disclosure",
    };
    format!("{marking}: {rule}")
}

pub(super) fn sections(r: &Report) -> Vec<Section> {
    let i = &r.incident;
    let mut out = vec![Section {
        title: "Summary",
        headers: &["", ""],
        rows: summary(i)
            .into_iter()
            .map(|(k, v)| vec![k.to_string(), v])
            .collect(),
    }];
    out.push(Section {
        title: "Sites",
        headers: &[
            "site",
            "local incidents",
            "local status",
            "local owner",
            "severity",
            "first seen",
            "last seen",
            "joined because",
        ],
        rows: sighting_rows(i),
    });
    let optional = [
        Section {
            title: "Indicators",
            headers: &["indicator"],
            rows: i
                .indicators
                .iter()
                .map(words::indicator)
                .chain(words::indicators_elided(i))
                .map(|x| vec![x])
                .collect(),
        },
        Section {
            title: "Regulatory clocks",
            headers: &["obligation", "due", "status"],
            rows: clock_rows(i),
        },
        Section {
            title: "Tasks",
            headers: &["site", "task", "due", "state", "by", "note"],
            rows: task_rows(&r.directives),
        },
        Section {
            title: "Directives",
            headers: &["site", "kind", "issued by", "state", "exit", "result"],
            rows: directive_rows(&r.directives),
        },
        Section {
            title: "Communications",
            headers: &["audience", "marking", "state", "sent", "subject"],
            rows: communication_rows(&r.communications),
        },
    ];
    out.extend(optional.into_iter().filter(|s| !s.rows.is_empty()));
    out.push(Section {
        title: "Timeline",
        headers: &["at", "who", "what"],
        rows: super::notes::work_log_rows(i, &r.notes, r.audience),
    });
    out
}

/// The report as Markdown; every value is escaped so site-supplied text cannot inject markup.
pub fn markdown(r: &Report) -> String {
    let banner = md(&banner(&r.incident));
    let mut out = format!(
        "**{banner}**\n\n# Incident {}: {}\n",
        md(&r.incident.id),
        md(&r.incident.title)
    );
    for section in sections(r) {
        let _ = write!(out, "\n## {}\n\n", section.title);
        let _ = writeln!(out, "| {} |", section.headers.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(section.headers.len()));
        for row in &section.rows {
            let cells: Vec<String> = row.iter().map(|c| md(c)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
    }
    let _ = write!(out, "\n**{banner}**\n");
    out
}

/// The same report as a standalone HTML page; every value is escaped.
pub fn html(r: &Report) -> String {
    let e = escape;
    let mut out = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{} Incident {}</title></head><body>\n<p class=\"tlp\"><strong>{}</strong></p>\n<h1>Incident {}: {}</h1>\n",
        e(&marking(&r.incident)),
        e(&r.incident.id),
        e(&banner(&r.incident)),
        e(&r.incident.id),
        e(&r.incident.title)
    );
    for section in sections(r) {
        let _ = writeln!(out, "<h2>{}</h2>\n<table>", section.title);
        if section.headers.iter().any(|h| !h.is_empty()) {
            let heads: Vec<String> = section
                .headers
                .iter()
                .map(|h| format!("<th>{}</th>", e(h)))
                .collect();
            let _ = writeln!(out, "<tr>{}</tr>", heads.join(""));
        }
        for row in &section.rows {
            let cells: Vec<String> = row.iter().map(|c| format!("<td>{}</td>", e(c))).collect();
            let _ = writeln!(out, "<tr>{}</tr>", cells.join(""));
        }
        out.push_str("</table>\n");
    }
    let _ = writeln!(
        out,
        "<p class=\"tlp\"><strong>{}</strong></p>",
        e(&banner(&r.incident))
    );
    out.push_str("</body></html>\n");
    out
}

fn summary(i: &pb::HubIncident) -> Vec<(&'static str, String)> {
    let mut rows = vec![
        ("marking", marking(i)),
        ("status", words::status(i.status).to_string()),
        ("severity", words::severity(i.severity).to_string()),
        ("priority", i.priority.clone()),
        (
            "IR lead",
            if i.ir_lead.is_empty() {
                "(none)".into()
            } else {
                i.ir_lead.clone()
            },
        ),
        ("sites", words::sites_of(i)),
        ("techniques", i.techniques.join(", ")),
        ("opened", format_millis(i.created_at_ms)),
    ];
    for (label, at) in [
        ("triage", i.triage_at_ms),
        ("contained", i.contained_at_ms),
        ("recovered", i.recovered_at_ms),
        ("closed", i.closed_at_ms),
    ] {
        if at > 0 {
            rows.push((
                label,
                format!(
                    "{} (+{})",
                    format_millis(at),
                    socfed_runtime::cli::format_age((at - i.created_at_ms).max(0) as u64)
                ),
            ));
        }
    }
    if !i.resolution.is_empty() {
        rows.push(("resolution", i.resolution.clone()));
    }
    if i.reopened > 0 {
        rows.push((
            "reopened",
            if i.reopened == 1 {
                "once".to_string()
            } else {
                format!("{} times", i.reopened)
            },
        ));
    }
    rows
}

/// Text from sites and operators inside Markdown: one line, no HTML, no links or emphasis.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '|' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Text as HTML (element content or a quoted attribute value).
pub fn escape(text: &str) -> String {
    socfed_runtime::web::escape::html(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            incident: pb::HubIncident {
                id: "01J".into(),
                title: "<script>alert(1)</script> | pipe".into(),
                sightings: vec![pb::Sighting {
                    site_id: "paris".into(),
                    joined_because: "rule a|b".into(),
                    ..Default::default()
                }],
                timeline: vec![pb::TimelineEntry {
                    at_ms: 0,
                    actor: "site paris".into(),
                    text: "escalated".into(),
                }],
                ..Default::default()
            },
            directives: vec![
                pb::DirectiveStatus {
                    directive: Some(pb::Directive {
                        kind: "block_indicator".into(),
                        issued_by: "ines".into(),
                        ..Default::default()
                    }),
                    site_id: "paris".into(),
                    state: pb::DirectiveState::Succeeded as i32,
                    exit_code: Some(0),
                    detail: "fw exited 0".into(),
                    ..Default::default()
                },
                pb::DirectiveStatus {
                    site_id: "lyon".into(),
                    task_title: "collect proxy logs".into(),
                    state: pb::DirectiveState::Received as i32,
                    overdue: true,
                    ..Default::default()
                },
            ],
            communications: vec![pb::Communication {
                audience: "board".into(),
                tlp: pb::Tlp::Amber as i32,
                state: pb::CommState::Delivered as i32,
                counts_as_sent: true,
                subject: "Update".into(),
                ..Default::default()
            }],
            notes: vec![],
            audience: None,
        }
    }

    #[test]
    fn reports_carry_tasks_directives_and_communications_in_both_formats() {
        let r = report();
        let md = markdown(&r);
        for needle in [
            "## Tasks",
            "collect proxy logs",
            "received \\(overdue\\)",
            "## Directives",
            "block\\_indicator",
            "succeeded",
            "## Communications",
            "TLP:AMBER",
            "## Timeline",
            "## Sites",
        ] {
            assert!(md.contains(needle), "{needle:?} missing from {md}");
        }
        let page = html(&r);
        for needle in [
            "<h2>Tasks</h2>",
            "<h2>Directives</h2>",
            "<h2>Communications</h2>",
            "block_indicator",
        ] {
            assert!(page.contains(needle), "{needle:?} missing from {page}");
        }
        let empty = markdown(&Report {
            directives: vec![],
            communications: vec![],
            ..r
        });
        assert!(!empty.contains("## Tasks") && !empty.contains("## Communications"));
    }

    #[test]
    fn reports_escape_what_came_from_sites() {
        let r = report();
        let page = html(&r);
        assert!(!page.contains("<script>") && page.contains("&lt;script&gt;"));
        let md = markdown(&r);
        assert!(md.contains("rule a\\|b"), "table cells escape pipes: {md}");
        let mut hostile = r.clone();
        hostile.incident.timeline[0].text =
            "ok\n# injected [x](javascript:alert(1)) <img src=x onerror=y>".into();
        let md = markdown(&hostile);
        assert!(
            !md.contains("\n# injected") && !md.contains("<img") && !md.contains("](javascript"),
            "{md}"
        );
    }
}
