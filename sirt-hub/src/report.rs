//! Incident reports (Markdown or HTML) and response KPIs, from what the operator API returns.
//! Pure: no I/O, no clock; the CLI fetches the incidents and prints the result.

use crate::cli::render;
use socfed_proto::cli::format_millis;
use socfed_proto::pb;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The report of one incident as Markdown: summary, sites and sightings, regulatory clocks,
/// timeline.
pub fn markdown(i: &pb::HubIncident) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Incident {}: {}\n", md(&i.id), md(&i.title));
    let _ = writeln!(out, "| | |\n|---|---|");
    for (key, value) in summary(i) {
        let _ = writeln!(out, "| {key} | {} |", md(&value));
    }
    let _ = writeln!(
        out,
        "\n## Sites\n\n| site | local incidents | severity | first seen | last seen | joined because |\n|---|---|---|---|---|---|"
    );
    for s in &i.sightings {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            md(&s.site_id),
            md(&s.local_incident_ids.join(", ")),
            render::severity(s.local_severity),
            format_millis(s.first_seen_ms),
            format_millis(s.last_seen_ms),
            md(&s.joined_because)
        );
    }
    if !i.deadlines.is_empty() {
        let _ = writeln!(
            out,
            "\n## Regulatory clocks\n\n| obligation | due | status |\n|---|---|---|"
        );
        for d in &i.deadlines {
            let _ = writeln!(
                out,
                "| {} ({}) | {} | {} |",
                d.kind,
                d.citation,
                format_millis(d.due_ms),
                d.status
            );
        }
    }
    let _ = writeln!(out, "\n## Timeline\n");
    for t in &i.timeline {
        let _ = writeln!(
            out,
            "- {} — **{}**: {}",
            format_millis(t.at_ms),
            md(&t.actor),
            md(&t.text)
        );
    }
    out
}

/// The same report as a standalone HTML page; every value from the incident is escaped.
pub fn html(i: &pb::HubIncident) -> String {
    let e = escape;
    let mut out = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Incident {}</title></head><body>\n<h1>Incident {}: {}</h1>\n<table>\n",
        e(&i.id),
        e(&i.id),
        e(&i.title)
    );
    for (key, value) in summary(i) {
        let _ = writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", e(key), e(&value));
    }
    out.push_str("</table>\n<h2>Sites</h2>\n<ul>\n");
    for s in &i.sightings {
        let _ = writeln!(
            out,
            "<li>{}: {} ({}), {}</li>",
            e(&s.site_id),
            e(&s.local_incident_ids.join(", ")),
            render::severity(s.local_severity),
            e(&s.joined_because)
        );
    }
    out.push_str("</ul>\n<h2>Timeline</h2>\n<ol>\n");
    for t in &i.timeline {
        let _ = writeln!(
            out,
            "<li>{} <b>{}</b>: {}</li>",
            e(&format_millis(t.at_ms)),
            e(&t.actor),
            e(&t.text)
        );
    }
    out.push_str("</ol>\n</body></html>\n");
    out
}

fn summary(i: &pb::HubIncident) -> Vec<(&'static str, String)> {
    let mut rows = vec![
        ("status", render::status(i.status).to_string()),
        ("severity", render::severity(i.severity).to_string()),
        ("priority", i.priority.clone()),
        (
            "IR lead",
            if i.ir_lead.is_empty() {
                "(none)".into()
            } else {
                i.ir_lead.clone()
            },
        ),
        ("sites", render::sites_of(i)),
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
                    socfed_proto::cli::format_age((at - i.created_at_ms).max(0) as u64)
                ),
            ));
        }
    }
    if !i.resolution.is_empty() {
        rows.push(("resolution", i.resolution.clone()));
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

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Median times from opening to triage, containment and closure, over the incidents that got
/// there.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Kpi {
    pub incidents: usize,
    pub to_triage_ms: Option<i64>,
    pub to_contain_ms: Option<i64>,
    pub to_resolve_ms: Option<i64>,
}

fn median(mut values: Vec<i64>) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2
    } else {
        values[mid]
    })
}

fn kpi<'a>(incidents: impl Iterator<Item = &'a pb::HubIncident>) -> Kpi {
    let (mut n, mut triage, mut contain, mut resolve) = (0, Vec::new(), Vec::new(), Vec::new());
    for i in incidents {
        n += 1;
        for (at, list) in [
            (i.triage_at_ms, &mut triage),
            (i.contained_at_ms, &mut contain),
            (i.closed_at_ms, &mut resolve),
        ] {
            if at > 0 {
                list.push((at - i.created_at_ms).max(0));
            }
        }
    }
    Kpi {
        incidents: n,
        to_triage_ms: median(triage),
        to_contain_ms: median(contain),
        to_resolve_ms: median(resolve),
    }
}

/// KPIs overall and per site (an incident counts for every site that saw it).
pub fn kpis(incidents: &[pb::HubIncident]) -> (Kpi, BTreeMap<String, Kpi>) {
    let mut sites: BTreeMap<String, Vec<&pb::HubIncident>> = BTreeMap::new();
    for i in incidents {
        for s in &i.sightings {
            sites.entry(s.site_id.clone()).or_default().push(i);
        }
    }
    (
        kpi(incidents.iter()),
        sites
            .into_iter()
            .map(|(site, list)| (site, kpi(list.into_iter())))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(
        site: &str,
        created: i64,
        triage: i64,
        contained: i64,
        closed: i64,
    ) -> pb::HubIncident {
        pb::HubIncident {
            id: "01J".into(),
            title: "<script>alert(1)</script> | pipe".into(),
            created_at_ms: created,
            triage_at_ms: triage,
            contained_at_ms: contained,
            closed_at_ms: closed,
            sightings: vec![pb::Sighting {
                site_id: site.into(),
                joined_because: "rule a|b".into(),
                ..Default::default()
            }],
            timeline: vec![pb::TimelineEntry {
                at_ms: created,
                actor: "site paris".into(),
                text: "escalated".into(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn kpis_are_medians_over_incidents_that_reached_each_phase() {
        let list = vec![
            incident("paris", 0, 10, 100, 1_000),
            incident("paris", 0, 30, 0, 0),
            incident("lyon", 0, 20, 300, 0),
        ];
        let (overall, per_site) = kpis(&list);
        assert_eq!(
            overall,
            Kpi {
                incidents: 3,
                to_triage_ms: Some(20),
                to_contain_ms: Some(200),
                to_resolve_ms: Some(1_000)
            }
        );
        assert_eq!(
            per_site["paris"],
            Kpi {
                incidents: 2,
                to_triage_ms: Some(20),
                to_contain_ms: Some(100),
                to_resolve_ms: Some(1_000)
            }
        );
        assert_eq!(per_site["lyon"].to_resolve_ms, None);
    }

    #[test]
    fn reports_escape_what_came_from_sites() {
        let i = incident("paris", 0, 10, 0, 0);
        let page = html(&i);
        assert!(!page.contains("<script>") && page.contains("&lt;script&gt;"));
        let md = markdown(&i);
        assert!(md.contains("## Timeline") && md.contains("## Sites"));
        assert!(md.contains("rule a\\|b"), "table cells escape pipes: {md}");
        let mut hostile = i.clone();
        hostile.timeline[0].text =
            "ok\n# injected [x](javascript:alert(1)) <img src=x onerror=y>".into();
        let md = markdown(&hostile);
        assert!(
            !md.contains("\n# injected") && !md.contains("<img") && !md.contains("](javascript"),
            "{md}"
        );
    }
}
