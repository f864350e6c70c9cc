//! The renderers' pure parts: times, durations, the terminal-safe text and listings.

use super::incidents::hub_brief;
use super::people::{duty_rows, gap};
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
