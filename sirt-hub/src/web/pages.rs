//! The dashboard's HTML: plain server-rendered pages, every value escaped, no build step.

use crate::report::escape_html as esc;
use crate::view::words;
use socfed_proto::pb;
use socfed_proto::vocab::DirectiveState;
use socfed_runtime::cli::format_millis;
use std::fmt::Write;

/// A page of a signed-in operator; `csrf` is the token of its sign-out form.
pub fn page(title: &str, operator: &str, csrf: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} · socfed</title>\
<link rel=\"stylesheet\" href=\"/app.css\"><script src=\"/app.js\" defer></script></head><body>\
<nav><b>socfed SIRT</b> <a href=\"/\">Incidents</a> <a href=\"/sites\">Sites</a> <a href=\"/hunts\">Hunts</a>\
<form class=\"who\" method=\"post\" action=\"/logout\">{} <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<button>Sign out</button></form></nav><main>{}</main></body></html>",
        esc(title),
        esc(operator),
        esc(csrf),
        body
    )
}

/// The sign-in confirmation: names who the link signs in as; only its button signs in.
pub fn confirm_sign_in(operator: &str, token: &str, csrf: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in · socfed</title>\
<link rel=\"stylesheet\" href=\"/app.css\"></head><body><main><h1>Sign in</h1>\
<p>This link signs this browser in to the SIRT dashboard as operator <b id=\"operator\">{op}</b>.</p>\
<p>If you did not run <code>sirt-hub login</code> yourself just now, or that is not you, close this page.</p>\
<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"token\" value=\"{token}\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button id=\"sign-in\">Sign in as {op}</button></form>\
</main></body></html>",
        op = esc(operator),
        token = esc(token),
        csrf = esc(csrf),
    )
}

pub fn signed_out(reason: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in · socfed</title>\
<link rel=\"stylesheet\" href=\"/app.css\"></head><body><main><h1>Sign in</h1><p>{}</p>\
<p>Run <code>sirt-hub login</code> with your operator certificate and open the link it prints.</p></main></body></html>",
        esc(reason)
    )
}

fn tlp(n: i32) -> String {
    socfed_proto::vocab::Tlp::from_wire(n, "tlp")
        .map_or("?".to_string(), |t| t.to_string().to_uppercase())
}

fn lead(i: &pb::HubIncident) -> &str {
    if i.ir_lead.is_empty() {
        "(none)"
    } else {
        &i.ir_lead
    }
}

/// The rows of the incident board (also served alone, for live refresh).
pub fn board_rows(incidents: &[pb::HubIncident]) -> String {
    let mut out = String::new();
    for i in incidents {
        let status = if i.resolution.is_empty() {
            words::status(i.status).to_string()
        } else {
            format!("{} ({})", words::status(i.status), i.resolution)
        };
        let _ = write!(
            out,
            "<tr data-id=\"{id}\"><td><a href=\"/incidents/{id}\">{title}</a></td><td>{status}</td>\
<td class=\"sev-{sev}\">{sev}</td><td>{prio}</td><td class=\"tlp\">TLP:{tlp}</td><td>{lead}</td>\
<td>{sites}</td><td>{n}</td><td>{updated}</td></tr>",
            id = esc(&i.id),
            title = esc(&i.title),
            status = esc(&status),
            sev = words::severity(i.severity),
            prio = esc(&i.priority),
            tlp = esc(&tlp(i.tlp)),
            lead = esc(lead(i)),
            sites = esc(&words::sites_of(i)),
            n = i.sightings.len(),
            updated = esc(&format_millis(i.updated_at_ms)),
        );
    }
    if incidents.is_empty() {
        out.push_str("<tr><td colspan=\"9\">No incidents match.</td></tr>");
    }
    out
}

pub fn board(incidents: &[pb::HubIncident], site: &str, status: &str, severity: &str) -> String {
    let option = |value: &str, label: &str, current: &str| {
        format!(
            "<option value=\"{v}\"{s}>{l}</option>",
            v = esc(value),
            l = esc(label),
            s = if value == current { " selected" } else { "" }
        )
    };
    let statuses: String = [
        ("", "open"),
        ("all", "all"),
        ("new", "new"),
        ("triage", "triage"),
        ("containment", "containment"),
        ("eradication", "eradication"),
        ("recovery", "recovery"),
        ("post-incident", "post-incident"),
        ("closed", "closed"),
    ]
    .iter()
    .map(|(v, l)| option(v, l, status))
    .collect();
    let severities: String = ["", "low", "medium", "high", "critical"]
        .iter()
        .map(|s| option(s, s, severity))
        .collect();
    format!(
        "<h1>Incidents across sites</h1><form method=\"get\" class=\"filters\">\
<label>Site <input name=\"site\" value=\"{site}\"></label> <label>Status <select name=\"status\">{statuses}</select></label> \
<label>Min severity <select name=\"severity\">{severities}</select></label> <button>Filter</button></form>\
<p class=\"live\" id=\"live\">Live: updates appear as sites escalate.</p>\
<table><thead><tr><th>Incident</th><th>Status</th><th>Severity</th><th>Priority</th><th>Marking</th><th>IR lead</th>\
<th>Sites</th><th>Sightings</th><th>Updated</th></tr></thead>\
<tbody id=\"rows\">{rows}</tbody></table>",
        site = esc(site),
        rows = board_rows(incidents)
    )
}

fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table><thead><tr>");
    for h in headers {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", esc(cell));
        }
        out.push_str("</tr>");
    }
    if rows.is_empty() {
        let _ = write!(out, "<tr><td colspan=\"{}\">None.</td></tr>", headers.len());
    }
    out.push_str("</tbody></table>");
    out
}

pub fn incident(
    i: &pb::HubIncident,
    directives: &[pb::DirectiveStatus],
    comms: &[pb::Communication],
) -> String {
    let sightings = crate::report::sighting_rows(i);
    let tasks: Vec<Vec<String>> = directives
        .iter()
        .filter(|d| !d.task_title.is_empty())
        .map(|d| {
            vec![
                d.site_id.clone(),
                d.task_title.clone(),
                DirectiveState::word(d.state).to_string()
                    + if d.overdue { " (overdue)" } else { "" },
                d.detail.clone(),
            ]
        })
        .collect();
    let actions: Vec<Vec<String>> = directives
        .iter()
        .filter(|d| d.task_title.is_empty())
        .map(|d| {
            let wire = d.directive.clone().unwrap_or_default();
            vec![
                d.site_id.clone(),
                wire.kind,
                DirectiveState::word(d.state).to_string(),
                d.exit_code.map_or_else(String::new, |c| c.to_string()),
                d.detail.clone(),
            ]
        })
        .collect();
    let communications: Vec<Vec<String>> = comms
        .iter()
        .map(|c| {
            vec![
                c.audience.clone(),
                words::marking(c.tlp),
                words::comm_state(c.state),
                if c.counts_as_sent { "yes" } else { "no" }.into(),
                c.subject.clone(),
            ]
        })
        .collect();
    let clocks: Vec<Vec<String>> = i
        .deadlines
        .iter()
        .map(|d| {
            vec![
                format!("{} ({})", d.kind, d.citation),
                format_millis(d.due_ms),
                words::deadline_status(d.status),
            ]
        })
        .collect();
    let indicators: Vec<Vec<String>> = i
        .indicators
        .iter()
        .map(|x| {
            vec![
                pb::IndicatorKind::try_from(x.kind).map_or_else(
                    |_| "unknown".to_string(),
                    |k| {
                        k.as_str_name()
                            .trim_start_matches("INDICATOR_KIND_")
                            .to_ascii_lowercase()
                    },
                ),
                x.value.clone(),
            ]
        })
        .chain(words::indicators_elided(i).map(|note| vec![String::new(), note]))
        .collect();
    let techniques: Vec<Vec<String>> = i.techniques.iter().map(|t| vec![t.clone()]).collect();
    let timeline: Vec<Vec<String>> = i
        .timeline
        .iter()
        .map(|t| vec![format_millis(t.at_ms), t.actor.clone(), t.text.clone()])
        .collect();
    format!(
        "<h1>{title}</h1><p class=\"meta\">{id} · {status} · {sev} · priority {prio} · TLP:{tlp} · IR lead {lead}</p>\
<h2>Indicators</h2>{ind}<h2>ATT&amp;CK techniques</h2>{tech}\
<h2>Sightings per site</h2>{s}<h2>Tasks</h2>{t}<h2>Directives and results</h2>{d}\
<h2>Communications</h2>{c}<h2>Regulatory clocks</h2>{r}<h2>Timeline</h2>{tl}",
        title = esc(&i.title),
        id = esc(&i.id),
        status = words::status(i.status),
        sev = words::severity(i.severity),
        prio = esc(&i.priority),
        tlp = esc(&tlp(i.tlp)),
        lead = esc(lead(i)),
        ind = table(&["Kind", "Value"], &indicators),
        tech = table(&["Technique"], &techniques),
        s = table(
            &[
                "Site",
                "Local incidents",
                "Local status",
                "Local owner",
                "Local severity",
                "First seen",
                "Last seen",
                "Joined because"
            ],
            &sightings
        ),
        t = table(&["Site", "Task", "State", "Detail"], &tasks),
        d = table(&["Site", "Kind", "State", "Exit", "Result"], &actions),
        c = table(
            &["Audience", "Marking", "State", "Sent", "Subject"],
            &communications
        ),
        r = table(&["Obligation", "Due", "Status"], &clocks),
        tl = table(&["At", "Who", "What"], &timeline),
    )
}

pub fn sites(sites: &[pb::SiteSummary]) -> String {
    let rows: Vec<Vec<String>> = sites
        .iter()
        .map(|s| {
            vec![
                s.site_id.clone(),
                if s.connected {
                    "connected"
                } else {
                    "not connected"
                }
                .into(),
                format_millis(s.last_seen_ms),
                s.backlog.to_string(),
                socfed_runtime::cli::format_age(s.oldest_unsent_age_ms),
                s.acked_through.to_string(),
                format_millis(s.cert_not_after_ms),
            ]
        })
        .collect();
    format!(
        "<h1>Sites</h1>{}",
        table(
            &[
                "Site",
                "Link",
                "Last seen",
                "Backlog",
                "Oldest unsent",
                "Last acked seq",
                "Certificate expires"
            ],
            &rows
        )
    )
}

pub fn hunts(hunts: &[pb::Hunt]) -> String {
    let rows: Vec<Vec<String>> = hunts
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
            vec![
                h.hunt_id.clone(),
                format_millis(h.started_at_ms),
                h.started_by.clone(),
                h.indicators.join(", "),
                progress.join("; "),
                h.total_hits.to_string(),
            ]
        })
        .collect();
    format!(
        "<h1>Threat hunts</h1>{}",
        table(
            &[
                "Hunt",
                "Started",
                "By",
                "Indicators",
                "Progress per site",
                "Hits"
            ],
            &rows
        )
    )
}

pub const CSS: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1b1f23}nav{background:#1b1f23;color:#fff;padding:.6em 1em}\
nav a{color:#9cd;margin-left:1em}nav .who{float:right;color:#bbb;margin:0}main{padding:1em 1.5em}table{border-collapse:collapse;width:100%;margin-bottom:1em}\
th,td{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top}th{background:#f4f4f4}\
.sev-critical{color:#b00;font-weight:bold}.sev-high{color:#d60}.live{color:#666;font-size:12px}.meta{color:#555}form.filters{margin-bottom:1em}";

pub const JS: &str = "(function(){var rows=document.getElementById('rows');if(!rows||!window.EventSource)return;\
var es=new EventSource('/events');var pending=false;\
es.addEventListener('signed-out',function(){es.close();document.getElementById('live').textContent='Signed out: run sirt-hub login for a new link.';});es.onmessage=function(){if(pending)return;pending=true;\
setTimeout(function(){pending=false;var q=new URLSearchParams(location.search);q.set('fragment','rows');\
fetch(location.pathname+'?'+q.toString(),{credentials:'same-origin'}).then(function(r){return r.ok?r.text():null})\
.then(function(html){if(html!==null){rows.innerHTML=html;document.getElementById('live').textContent='Live: updated '+new Date().toLocaleTimeString();}});},200);};})();";
