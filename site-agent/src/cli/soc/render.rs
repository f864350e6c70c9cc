//! Tables, detail blocks and JSON for the local SOC commands, in the house style of
//! `sirt-hub`: comfy-table `UTF8_BORDERS_ONLY`; JSON with words for enums and RFC 3339 times.
//!
//! Everything printed to a terminal that came from the agent goes through [`clean`] first
//! (`socfed_runtime::terminal`, shared with `sirt-hub`; tables clean every cell themselves):
//! alert titles and raw records are attacker-influenced, and must not be able to drive the
//! analyst's terminal with escape sequences.

use crate::wire::{ALERT_STATUSES, INCIDENT_STATUSES, PHASES, ROLES, VERDICTS};
use serde_json::{Value, json};
use socfed_proto::pb;
use socfed_proto::vocab::{Severity, Tlp};
use socfed_runtime::cli::format_millis;
use std::borrow::Cow;
use std::fmt::Write as _;

/// Longest title shown in a list; details show it whole.
const LIST_TITLE_CHARS: usize = 60;

/// A table whose every cell is cleaned for the terminal (`socfed_runtime::terminal`).
pub fn table(headers: &[&str]) -> Table {
    Table::new(headers)
}

pub use socfed_runtime::cli::print_json;
/// The one escaping renderer both binaries share (`socfed_runtime::terminal`).
pub use socfed_runtime::terminal::{Table, clean, clean_multiline, shorten};

pub fn severity(n: i32) -> &'static str {
    Severity::from_wire(n, "severity").map_or("unknown", Severity::as_str)
}

pub fn tlp(n: i32) -> &'static str {
    Tlp::from_wire(n, "tlp").map_or("unknown", Tlp::as_str)
}

/// `native`, `ocsf`, `suricata-eve` or `wazuh`.
pub fn alert_format(n: i32) -> String {
    match pb::AlertFormat::try_from(n) {
        Ok(pb::AlertFormat::Unspecified) | Err(_) => "unknown".to_string(),
        Ok(format) => format
            .as_str_name()
            .trim_start_matches("ALERT_FORMAT_")
            .to_ascii_lowercase()
            .replace('_', "-"),
    }
}

/// `kind:value` (`socfed_proto::vocab::indicator_text`, one formatting for both binaries).
pub fn indicator(i: &pb::Indicator) -> String {
    socfed_proto::vocab::indicator_text(i)
}

/// A short duration with its two largest units: `45s`, `12m`, `3h 5m`, `2d 4h`.
pub fn short_duration(ms: u64) -> String {
    let secs = ms / 1000;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m"),
        (0, _, 0) => format!("{h}h"),
        (0, _, _) => format!("{h}h {m}m"),
        (_, 0, _) => format!("{d}d"),
        _ => format!("{d}d {h}h"),
    }
}

/// When an SLA deadline falls relative to `now_ms`: `in 12m`, `due now`, `OVERDUE 3m`;
/// empty when no clock runs (`due_ms` is 0).
pub fn sla_due(due_ms: i64, now_ms: i64) -> String {
    if due_ms <= 0 {
        return String::new();
    }
    let left = due_ms.saturating_sub(now_ms);
    if left.unsigned_abs() < 1000 {
        "due now".to_string()
    } else if left > 0 {
        format!("in {}", short_duration(left.unsigned_abs()))
    } else {
        format!("OVERDUE {}", short_duration(left.unsigned_abs()))
    }
}

/// `in 3h 5m` / `5m ago` for a moment relative to `now_ms`; empty for 0.
pub fn relative(at_ms: i64, now_ms: i64) -> String {
    if at_ms <= 0 {
        return String::new();
    }
    let delta = at_ms.saturating_sub(now_ms);
    if delta >= 0 {
        format!("in {}", short_duration(delta.unsigned_abs()))
    } else {
        format!("{} ago", short_duration(delta.unsigned_abs()))
    }
}

fn or_dash(text: &str) -> Cow<'_, str> {
    if text.is_empty() {
        Cow::Borrowed("-")
    } else {
        clean(text)
    }
}

fn joined(items: &[String]) -> String {
    clean(&items.join(", ")).into_owned()
}

// ---- alert groups -------------------------------------------------------------------------

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

pub fn incident_json(i: &pb::LocalIncident) -> Value {
    json!({
        "id": i.id,
        "title": i.title,
        "status": INCIDENT_STATUSES.show(i.status),
        "owner": i.owner,
        "severity": severity(i.severity),
        "tlp": tlp(i.tlp),
        "alert_group_ids": i.alert_group_ids,
        "hosts": i.hosts,
        "indicators": i.indicators.iter().map(indicator).collect::<Vec<_>>(),
        "techniques": i.techniques,
        "created_at": format_millis(i.created_at_ms),
        "updated_at": format_millis(i.updated_at_ms),
        "escalated": i.escalated,
        "revision": i.revision,
        "escalation_reason": i.escalation_reason,
        // What the SIRT hub last said of it; null until the hub told this site.
        "hub": i.hub.as_ref().map(|h| json!({
            "incident_id": h.incident_id,
            "phase": PHASES.show(h.phase),
            "resolution": h.resolution,
            "ir_lead": h.ir_lead,
            "updated_at": format_millis(h.updated_at_ms),
            "received_at": format_millis(h.received_at_ms),
        })),
    })
}

/// The hub's phase of an escalated incident, with why it was closed ("closed (resolved)").
fn hub_phase(h: &pb::HubView) -> String {
    if h.resolution.is_empty() {
        PHASES.show(h.phase)
    } else {
        format!("{} ({})", PHASES.show(h.phase), clean(&h.resolution))
    }
}

/// What the hub said of a local incident, for a listing: its phase and IR lead, "waiting"
/// while an escalation is not confirmed yet, "-" when never escalated.
fn hub_brief(i: &pb::LocalIncident) -> String {
    match &i.hub {
        Some(h) if h.ir_lead.is_empty() => hub_phase(h),
        Some(h) => format!("{}, lead {}", hub_phase(h), clean(&h.ir_lead)),
        None if i.escalated => "waiting".to_string(),
        None => "-".to_string(),
    }
}

fn escalation(i: &pb::LocalIncident) -> String {
    if i.escalated {
        format!("yes (revision {})", i.revision)
    } else {
        "no".to_string()
    }
}

pub fn incidents_table(incidents: &[pb::LocalIncident]) -> Table {
    let mut t = table(&[
        "id",
        "severity",
        "status",
        "owner",
        "groups",
        "escalated",
        "hub",
        "title",
        "updated",
    ]);
    for i in incidents {
        t.add_row(vec![
            clean(&i.id).into_owned(),
            severity(i.severity).to_string(),
            INCIDENT_STATUSES.show(i.status),
            or_dash(&i.owner).into_owned(),
            i.alert_group_ids.len().to_string(),
            escalation(i),
            hub_brief(i),
            shorten(&i.title, LIST_TITLE_CHARS),
            format_millis(i.updated_at_ms),
        ]);
    }
    t
}

pub fn incident_brief(i: &pb::LocalIncident) -> String {
    format!(
        "{}  {}  {}  owner {}  escalated {}  {}",
        clean(&i.id),
        severity(i.severity),
        INCIDENT_STATUSES.show(i.status),
        or_dash(&i.owner),
        escalation(i),
        shorten(&i.title, LIST_TITLE_CHARS),
    )
}

pub fn incident_detail(i: &pb::LocalIncident) -> String {
    let mut out = format!("local incident {}\n", clean(&i.id));
    let mut field = |key: &str, value: &str| {
        if !value.is_empty() {
            let _ = writeln!(out, "  {:<15}{value}", format!("{key}:"));
        }
    };
    field("title", &clean(&i.title));
    field("status", &INCIDENT_STATUSES.show(i.status));
    field("owner", &or_dash(&i.owner));
    field("severity", severity(i.severity));
    field("tlp", tlp(i.tlp));
    field("alert groups", &joined(&i.alert_group_ids));
    field("hosts", &joined(&i.hosts));
    field(
        "indicators",
        &clean(
            &i.indicators
                .iter()
                .map(indicator)
                .collect::<Vec<_>>()
                .join(", "),
        ),
    );
    field("techniques", &joined(&i.techniques));
    field("created", &format_millis(i.created_at_ms));
    field("updated", &format_millis(i.updated_at_ms));
    field("escalated", &escalation(i));
    field("because", &clean(&i.escalation_reason));
    match &i.hub {
        Some(h) => {
            field("hub incident", &clean(&h.incident_id));
            field("hub phase", &hub_phase(h));
            field("hub IR lead", &or_dash(&h.ir_lead));
            field("hub updated", &format_millis(h.updated_at_ms));
        }
        None if i.escalated => field("hub incident", "(not confirmed by the hub yet)"),
        None => {}
    }
    out.truncate(out.trim_end().len());
    out
}

// ---- roster, shifts, notifications --------------------------------------------------------

pub fn roster_json(r: &pb::Roster) -> Value {
    Value::Array(
        r.analysts
            .iter()
            .map(|a| {
                json!({
                    "name": a.name,
                    "display_name": a.display_name,
                    "role": ROLES.show(a.role),
                    "shifts": a.shifts,
                })
            })
            .collect(),
    )
}

pub fn roster_table(r: &pb::Roster) -> Table {
    let mut t = table(&["name", "display name", "role", "shifts"]);
    for a in &r.analysts {
        t.add_row(vec![
            clean(&a.name).into_owned(),
            clean(&a.display_name).into_owned(),
            ROLES.show(a.role),
            a.shifts
                .iter()
                .map(|s| clean(s).into_owned())
                .collect::<Vec<_>>()
                .join("\n"),
        ]);
    }
    t
}

fn gap_json(g: &pb::Gap) -> Value {
    json!({"from": format_millis(g.from_ms), "to": format_millis(g.to_ms)})
}

fn duty_json(d: &[pb::DutyAssignment]) -> Value {
    Value::Array(
        d.iter()
            .map(|d| json!({"duty": d.duty, "name": d.name}))
            .collect(),
    )
}

pub fn shifts_json(s: &pb::ShiftsNowResponse) -> Value {
    json!({
        "at": format_millis(s.at_ms),
        "tiers": s.tiers.iter().map(|t| json!({
            "tier": t.tier,
            "on_shift": t.on_shift,
            "gaps": t.gaps.iter().map(gap_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "duty_now": duty_json(&s.duty_now),
        "duty_next": duty_json(&s.duty_next),
        "duty_changes_at": format_millis(s.duty_changes_at_ms),
    })
}

/// `FROM → TO (LENGTH)`, or `FROM → (beyond the horizon)` when the gap has no known end.
pub fn gap(g: &pb::Gap) -> String {
    if g.to_ms <= 0 {
        return format!("{} → (beyond the horizon)", format_millis(g.from_ms));
    }
    format!(
        "{} → {} ({})",
        format_millis(g.from_ms),
        format_millis(g.to_ms),
        short_duration(g.to_ms.saturating_sub(g.from_ms).unsigned_abs())
    )
}

/// Names per duty, in the order duties first appear across `now` and `next`.
fn duty_rows(
    now: &[pb::DutyAssignment],
    next: &[pb::DutyAssignment],
) -> Vec<(String, String, String)> {
    let mut duties: Vec<&str> = Vec::new();
    for d in now.iter().chain(next) {
        if !duties.contains(&d.duty.as_str()) {
            duties.push(&d.duty);
        }
    }
    let names = |list: &[pb::DutyAssignment], duty: &str| {
        let names: Vec<String> = list
            .iter()
            .filter(|d| d.duty == duty)
            .map(|d| clean(&d.name).into_owned())
            .collect();
        if names.is_empty() {
            "(nobody)".to_string()
        } else {
            names.join(", ")
        }
    };
    duties
        .into_iter()
        .map(|duty| {
            (
                clean(duty).into_owned(),
                names(now, duty),
                names(next, duty),
            )
        })
        .collect()
}

pub fn shifts_text(s: &pb::ShiftsNowResponse, horizon_hours: u32) -> String {
    let mut out = format!("at {}\n", format_millis(s.at_ms));
    let mut coverage = table(&[
        "tier",
        "on shift now",
        &format!("coverage gaps (next {horizon_hours}h)"),
    ]);
    for t in &s.tiers {
        coverage.add_row(vec![
            t.tier.to_string(),
            if t.on_shift.is_empty() {
                "NOBODY".to_string()
            } else {
                joined(&t.on_shift)
            },
            if t.gaps.is_empty() {
                "none".to_string()
            } else {
                t.gaps.iter().map(gap).collect::<Vec<_>>().join("\n")
            },
        ]);
    }
    let _ = writeln!(out, "{coverage}");
    let rows = duty_rows(&s.duty_now, &s.duty_next);
    if rows.is_empty() {
        out.push_str("job rotation: no duties configured");
    } else {
        let mut duty = table(&["duty", "now", "next"]);
        for (name, now, next) in rows {
            duty.add_row(vec![name, now, next]);
        }
        let _ = write!(out, "{duty}");
        if s.duty_changes_at_ms > 0 {
            let _ = write!(
                out,
                "\nrotation changes at {} ({})",
                format_millis(s.duty_changes_at_ms),
                relative(s.duty_changes_at_ms, s.at_ms)
            );
        }
    }
    out
}

pub fn notifications_json(n: &[pb::Notification]) -> Value {
    Value::Array(
        n.iter()
            .map(|n| {
                json!({
                    "id": n.id,
                    "at": format_millis(n.at_ms),
                    "kind": n.kind,
                    "message": n.message,
                    "alert_group_id": n.alert_group_id,
                })
            })
            .collect(),
    )
}

pub fn notifications_table(n: &[pb::Notification]) -> Table {
    let mut t = table(&["at", "kind", "alert group", "message"]);
    for n in n {
        t.add_row(vec![
            format_millis(n.at_ms),
            clean(&n.kind).into_owned(),
            clean(&n.alert_group_id).into_owned(),
            clean(&n.message).into_owned(),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn sla_due_is_relative_to_now_and_says_overdue() {
        let now = 1_700_000_000_000;
        assert_eq!(sla_due(0, now), "");
        assert_eq!(sla_due(now + 12 * MIN, now), "in 12m");
        assert_eq!(sla_due(now + 12 * MIN + 59_000, now), "in 12m");
        assert_eq!(sla_due(now - 3 * MIN, now), "OVERDUE 3m");
        assert_eq!(sla_due(now + 45_000, now), "in 45s");
        assert_eq!(sla_due(now + 200, now), "due now");
        assert_eq!(sla_due(now + 125 * MIN, now), "in 2h 5m");
        assert_eq!(sla_due(now - 26 * 60 * MIN, now), "OVERDUE 1d 2h");
    }

    #[test]
    fn short_duration_keeps_the_two_largest_units() {
        assert_eq!(short_duration(0), "0s");
        assert_eq!(short_duration(59_999), "59s");
        assert_eq!(short_duration(3_600_000), "1h");
        assert_eq!(short_duration(3_600_000 + 61_000), "1h 1m");
        assert_eq!(short_duration(2 * 86_400_000 + 5 * 60_000), "2d");
        assert_eq!(short_duration(2 * 86_400_000 + 3_600_000), "2d 1h");
    }

    #[test]
    fn relative_times_read_both_ways() {
        assert_eq!(relative(0, 5), "");
        assert_eq!(relative(10 * MIN, 0), "in 10m");
        assert_eq!(relative(MIN, 4 * MIN), "3m ago");
    }

    #[test]
    fn the_incident_listing_shows_the_hubs_view() {
        let escalated = pb::LocalIncident {
            id: "LI-1".into(),
            escalated: true,
            ..Default::default()
        };
        let confirmed = pb::LocalIncident {
            id: "LI-2".into(),
            escalated: true,
            hub: Some(pb::HubView {
                incident_id: "01HUB".into(),
                phase: pb::IncidentStatus::Containment as i32,
                ir_lead: "ines\u{1b}[2J".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let local = pb::LocalIncident {
            id: "LI-3".into(),
            ..Default::default()
        };
        assert_eq!(hub_brief(&escalated), "waiting");
        assert_eq!(hub_brief(&local), "-");
        let shown = hub_brief(&confirmed);
        assert!(
            shown.contains("lead ines") && !shown.contains('\u{1b}'),
            "{shown}"
        );
        let table = incidents_table(&[escalated, confirmed, local]).to_string();
        assert!(
            table.contains("hub") && table.contains("waiting"),
            "{table}"
        );
    }

    #[test]
    fn clean_defuses_terminal_escapes() {
        assert_eq!(clean("plain title"), "plain title");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
        assert_eq!(clean("evil\u{1b}[2Jtitle"), "evil\\u{1b}[2Jtitle");
        assert_eq!(clean("a\nb\rc"), "a\\u{a}b\\u{d}c");
        assert_eq!(clean_multiline("a\nb\u{7}"), "a\nb\\u{7}");
        assert_eq!(clean("\u{9b}31m"), "\\u{9b}31m");
    }

    #[test]
    fn shorten_cuts_on_characters() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("ééééééé", 4), "ééé…");
    }

    #[test]
    fn enum_words_match_the_wire() {
        assert_eq!(
            alert_format(pb::AlertFormat::SuricataEve as i32),
            "suricata-eve"
        );
        assert_eq!(alert_format(pb::AlertFormat::Ocsf as i32), "ocsf");
        assert_eq!(alert_format(0), "unknown");
        assert_eq!(severity(pb::Severity::High as i32), "high");
        assert_eq!(severity(0), "unknown");
        assert_eq!(tlp(pb::Tlp::AmberStrict as i32), "amber+strict");
    }

    fn group() -> pb::AlertGroup {
        pb::AlertGroup {
            id: "ag-1".into(),
            title: "ET SCAN \u{1b}]0;pwned\u{7}".into(),
            tier: 1,
            status: pb::AlertStatus::Closed.into(),
            verdict: pb::Verdict::Benign.into(),
            severity: pb::Severity::Medium as i32,
            count: 3,
            last_seen_ms: 1_700_000_000_000,
            sla_clock: "resolve".into(),
            sla_due_ms: 1_700_000_000_000 + 5 * MIN,
            comments: vec![pb::Comment {
                at_ms: 1_700_000_000_000,
                author: "alice".into(),
                text: "line one\nline two".into(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn alert_views_show_status_verdict_sla_and_comments_safely() {
        let now = 1_700_000_000_000;
        let g = group();
        let table = alerts_table(std::slice::from_ref(&g), now).to_string();
        assert!(table.contains("closed (benign)"), "{table}");
        assert!(table.contains("in 5m"), "{table}");
        assert!(!table.contains('\u{1b}'), "{table}");
        let detail = alert_detail(&g, now);
        assert!(detail.contains("alice: line one\n    line two"), "{detail}");
        assert!(
            detail.contains("resolve due 2023-11-14T22:18:20Z (in 5m)"),
            "{detail}"
        );
        assert!(!detail.contains('\u{1b}'), "{detail}");
        let brief = alert_brief(&g, now);
        assert!(
            brief.starts_with("ag-1  tier 1  closed (benign)  unassigned"),
            "{brief}"
        );
        let json = alert_json(&g);
        assert_eq!(json["severity"], "medium");
        assert_eq!(json["sla_due"], "2023-11-14T22:18:20Z");
        assert_eq!(json["comments"][0]["at"], "2023-11-14T22:13:20Z");
    }

    #[test]
    fn duty_rows_pair_now_and_next_per_duty() {
        let d = |name: &str, duty: &str| pb::DutyAssignment {
            name: name.into(),
            duty: duty.into(),
        };
        let rows = duty_rows(
            &[d("alice", "tier1-monitoring"), d("carol", "sirt-duty")],
            &[d("bob", "tier1-monitoring")],
        );
        assert_eq!(
            rows,
            vec![
                ("tier1-monitoring".into(), "alice".into(), "bob".into()),
                ("sirt-duty".into(), "carol".into(), "(nobody)".into()),
            ]
        );
    }

    #[test]
    fn gaps_show_their_length() {
        let g = pb::Gap {
            from_ms: 1_700_000_000_000,
            to_ms: 1_700_000_000_000 + 8 * 60 * MIN,
        };
        assert_eq!(gap(&g), "2023-11-14T22:13:20Z → 2023-11-15T06:13:20Z (8h)");
    }
}
