//! Tables, detail blocks and JSON for the local SOC commands, in the house style of
//! `sirt-hub`: comfy-table `UTF8_BORDERS_ONLY`; JSON with words for enums and RFC 3339 times.
//!
//! Everything printed to a terminal that came from the agent goes through [`clean`] first
//! (`socfed_runtime::terminal`, shared with `sirt-hub`; tables clean every cell themselves):
//! alert titles and raw records are attacker-influenced, and must not be able to drive the
//! analyst's terminal with escape sequences.

mod alerts;
mod incidents;
mod people;

pub use alerts::{alert_brief, alert_detail, alert_json, alerts_table};
pub use incidents::{incident_brief, incident_detail, incident_json, incidents_table};
pub use people::{
    notifications_json, notifications_table, roster_json, roster_table, shifts_json, shifts_text,
};

use socfed_proto::pb;
use socfed_proto::vocab::{Severity, Tlp};
use std::borrow::Cow;

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

#[cfg(test)]
mod tests;
