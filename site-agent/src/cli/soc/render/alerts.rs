//! Alert groups: JSON, the queue table, briefs and the detail block.

use super::*;
use crate::wire::{ALERT_STATUSES, VERDICTS};
use serde_json::{Value, json};
use socfed_runtime::cli::format_millis;
use std::fmt::Write as _;

pub fn alert_json(g: &pb::AlertGroup) -> Value {
    let entities = g.entities.clone().unwrap_or_default();
    json!({
        "id": g.id,
        "title": g.title,
        "rule_id": g.rule_id,
        "product": g.product,
        "format": alert_format(g.format),
        "severity": severity(g.severity),
        "tlp": tlp(g.tlp),
        "tier": g.tier,
        "status": ALERT_STATUSES.show(g.status),
        "verdict": VERDICTS.show(g.verdict),
        "assignee": g.assignee,
        "incident_id": g.incident_id,
        "count": g.count,
        "first_seen": format_millis(g.first_seen_ms),
        "last_seen": format_millis(g.last_seen_ms),
        "entities": {
            "hosts": entities.hosts,
            "users": entities.users,
            "ips": entities.ips,
        },
        "indicators": g.indicators.iter().map(indicator).collect::<Vec<_>>(),
        "techniques": g.techniques,
        "comments": g.comments.iter().map(comment_json).collect::<Vec<_>>(),
        "sla_clock": g.sla_clock,
        "sla_due": format_millis(g.sla_due_ms),
        "sample_raw": g.sample_raw,
    })
}

fn comment_json(c: &pb::Comment) -> Value {
    json!({"at": format_millis(c.at_ms), "author": c.author, "text": c.text})
}

fn alert_status(g: &pb::AlertGroup) -> String {
    let status = ALERT_STATUSES.show(g.status);
    match VERDICTS.show(g.verdict) {
        verdict if verdict.is_empty() => status,
        verdict => format!("{status} ({verdict})"),
    }
}

pub fn alerts_table(groups: &[pb::AlertGroup], now_ms: i64) -> Table {
    let mut t = table(&[
        "id",
        "tier",
        "status",
        "severity",
        "count",
        "assignee",
        "title",
        "last seen",
        "SLA due",
    ]);
    for g in groups {
        t.add_row(vec![
            clean(&g.id).into_owned(),
            g.tier.to_string(),
            alert_status(g),
            severity(g.severity).to_string(),
            g.count.to_string(),
            or_dash(&g.assignee).into_owned(),
            shorten(&g.title, LIST_TITLE_CHARS),
            format_millis(g.last_seen_ms),
            sla_due(g.sla_due_ms, now_ms),
        ]);
    }
    t
}

/// One line after an action: what the group looks like now.
pub fn alert_brief(g: &pb::AlertGroup, now_ms: i64) -> String {
    let mut out = format!(
        "{}  tier {}  {}  {}  {}",
        clean(&g.id),
        g.tier,
        alert_status(g),
        if g.assignee.is_empty() {
            "unassigned".to_string()
        } else {
            format!("assigned to {}", clean(&g.assignee))
        },
        shorten(&g.title, LIST_TITLE_CHARS),
    );
    if !g.incident_id.is_empty() {
        let _ = write!(out, "  (incident {})", clean(&g.incident_id));
    }
    if g.sla_due_ms > 0 {
        let _ = write!(
            out,
            "  SLA {} {}",
            clean(&g.sla_clock),
            sla_due(g.sla_due_ms, now_ms)
        );
    }
    out
}

pub fn alert_detail(g: &pb::AlertGroup, now_ms: i64) -> String {
    let mut out = format!("alert group {}\n", clean(&g.id));
    let mut field = |key: &str, value: &str| {
        if !value.is_empty() {
            let _ = writeln!(out, "  {:<12}{value}", format!("{key}:"));
        }
    };
    field("title", &clean(&g.title));
    field("rule", &clean(&g.rule_id));
    field(
        "product",
        &format!("{} ({})", or_dash(&g.product), alert_format(g.format)),
    );
    field("severity", severity(g.severity));
    field("tlp", tlp(g.tlp));
    field("tier", &g.tier.to_string());
    field("status", &alert_status(g));
    field("assignee", &or_dash(&g.assignee));
    field("incident", &clean(&g.incident_id));
    field("count", &g.count.to_string());
    field("first seen", &format_millis(g.first_seen_ms));
    field("last seen", &format_millis(g.last_seen_ms));
    if g.sla_due_ms > 0 {
        field(
            "SLA",
            &format!(
                "{} due {} ({})",
                clean(&g.sla_clock),
                format_millis(g.sla_due_ms),
                sla_due(g.sla_due_ms, now_ms)
            ),
        );
    }
    if let Some(e) = &g.entities {
        field("hosts", &joined(&e.hosts));
        field("users", &joined(&e.users));
        field("ips", &joined(&e.ips));
    }
    field(
        "indicators",
        &clean(
            &g.indicators
                .iter()
                .map(indicator)
                .collect::<Vec<_>>()
                .join(", "),
        ),
    );
    field("techniques", &joined(&g.techniques));
    let _ = writeln!(out, "comments ({}):", g.comments.len());
    for c in &g.comments {
        let _ = writeln!(
            out,
            "  {} {}: {}",
            format_millis(c.at_ms),
            clean(&c.author),
            indent_continuation(&clean_multiline(&c.text), "    ")
        );
    }
    if !g.sample_raw.is_empty() {
        let _ = writeln!(
            out,
            "sample:\n  {}",
            indent_continuation(&clean_multiline(&g.sample_raw), "  ")
        );
    }
    out.truncate(out.trim_end().len());
    out
}

fn indent_continuation(text: &str, indent: &str) -> String {
    text.trim_end().replace('\n', &format!("\n{indent}"))
}

// ---- local incidents ----------------------------------------------------------------------
