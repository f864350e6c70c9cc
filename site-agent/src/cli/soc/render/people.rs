//! People: the roster, who is on shift (gaps, rotation duty) and notifications.

use super::*;
use crate::wire::ROLES;
use serde_json::{Value, json};
use socfed_runtime::cli::format_millis;
use std::fmt::Write as _;

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
pub(super) fn duty_rows(
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
