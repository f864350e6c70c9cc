//! The summary a person or a script reads: the agent's counts with local rejections folded
//! in, the rejected lines (a reason repeated many times is listed a few times, then
//! counted), and a hint at the likely format when many lines were rejected.

use super::super::render::clean;
use super::feed::MAX_REJECTIONS;
use serde_json::{Value, json};
use socfed_proto::pb;
use std::collections::HashMap;

/// How many lines one identical reason is listed for before the rest are only counted.
const SAME_REASON_LISTED: usize = 5;

/// What the input is made of: lines, or the records of one JSON array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    Lines,
    Records,
}

impl Unit {
    fn singular(self) -> &'static str {
        match self {
            Unit::Lines => "line",
            Unit::Records => "record",
        }
    }

    pub(super) fn plural(self) -> &'static str {
        match self {
            Unit::Lines => "lines",
            Unit::Records => "records",
        }
    }
}

/// The agent's summary with the lines rejected here folded in, rejections by line number.
pub(super) fn merge(
    mut summary: pb::IntakeSummary,
    rejected: u64,
    local: Vec<pb::LineRejection>,
) -> pb::IntakeSummary {
    summary.lines += rejected;
    summary.rejected += rejected;
    summary.rejections.extend(local);
    summary.rejections.sort_by_key(|r| r.line_no);
    summary.rejections.truncate(MAX_REJECTIONS);
    summary
}

pub(super) fn summary_line(s: &pb::IntakeSummary, unit: Unit) -> String {
    format!(
        "accepted {}, aggregated {}, duplicates {}, rejected {}, skipped {} (of {} {})",
        s.accepted,
        s.aggregated,
        s.duplicates,
        s.rejected,
        s.skipped,
        s.lines,
        unit.plural()
    )
}

/// A reason without its parenthesised detail (`line: not valid JSON (… column 7)` →
/// `line: not valid JSON`): what makes two rejections "the same".
fn reason_kind(reason: &str) -> &str {
    reason.split_once(" (").map_or(reason, |(kind, _)| kind)
}

/// `line N: reason` for each listed rejection; a reason seen more than
/// [`SAME_REASON_LISTED`] times (detail in parentheses aside) is listed that often, then
/// counted once at the end.
pub(super) fn rejection_lines(s: &pb::IntakeSummary, unit: Unit) -> Vec<String> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut lines = Vec::new();
    let mut folded: Vec<&str> = Vec::new();
    for r in &s.rejections {
        let n = seen.entry(reason_kind(&r.reason)).or_default();
        *n += 1;
        if *n <= SAME_REASON_LISTED {
            lines.push(format!(
                "{} {}: {}",
                unit.singular(),
                r.line_no,
                clean(&r.reason)
            ));
        } else if *n == SAME_REASON_LISTED + 1 {
            folded.push(reason_kind(&r.reason));
        }
    }
    for reason in folded {
        let more = seen.get(reason).copied().unwrap_or(0) - SAME_REASON_LISTED;
        lines.push(format!(
            "(and {more} more {} with the same reason: {})",
            unit.plural(),
            clean(reason)
        ));
    }
    let listed = u64::try_from(s.rejections.len()).unwrap_or(u64::MAX);
    if s.rejected > listed {
        lines.push(format!(
            "(only the first {listed} of {} rejections are listed)",
            s.rejected
        ));
    }
    lines
}

pub(super) fn print_rejections(s: &pb::IntakeSummary, unit: Unit, hint: Option<&str>) {
    use std::io::Write as _;
    let mut err = std::io::stderr().lock();
    for line in rejection_lines(s, unit)
        .iter()
        .map(String::as_str)
        .chain(hint)
    {
        if writeln!(err, "{line}").is_err() {
            return;
        }
    }
}

pub(super) fn summary_json(s: &pb::IntakeSummary, unit: Unit, hint: Option<&str>) -> Value {
    json!({
        "unit": unit.plural(),
        "lines": s.lines,
        "accepted": s.accepted,
        "aggregated": s.aggregated,
        "duplicates": s.duplicates,
        "rejected": s.rejected,
        "skipped": s.skipped,
        "rejections": s.rejections.iter().map(|r| json!({
            "line_no": r.line_no,
            "reason": r.reason,
        })).collect::<Vec<_>>(),
        "hint": hint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_rejections_merge_into_the_summary_in_line_order() {
        let summary = pb::IntakeSummary {
            lines: 4,
            accepted: 2,
            aggregated: 1,
            rejected: 1,
            skipped: 0,
            rejections: vec![pb::LineRejection {
                line_no: 5,
                reason: "severity: expected 1-4".into(),
            }],
            duplicates: 0,
        };
        let local = vec![pb::LineRejection {
            line_no: 2,
            reason: "line: not valid UTF-8 (at byte 3)".into(),
        }];
        let merged = merge(summary, 1, local);
        assert_eq!(
            summary_line(&merged, Unit::Lines),
            "accepted 2, aggregated 1, duplicates 0, rejected 2, skipped 0 (of 5 lines)"
        );
        assert_eq!(
            rejection_lines(&merged, Unit::Lines),
            vec![
                "line 2: line: not valid UTF-8 (at byte 3)",
                "line 5: severity: expected 1-4"
            ]
        );
        let json = summary_json(&merged, Unit::Lines, None);
        assert_eq!(json["rejections"][0]["line_no"], 2);
        assert_eq!(json["rejected"], 2);
    }

    #[test]
    fn unlisted_rejections_are_counted() {
        let summary = pb::IntakeSummary {
            lines: 5000,
            rejected: 1500,
            rejections: (1..=1000)
                .map(|n| pb::LineRejection {
                    line_no: n,
                    reason: format!("bad {n}"),
                })
                .collect(),
            ..Default::default()
        };
        let lines = rejection_lines(&summary, Unit::Lines);
        assert_eq!(lines.len(), 1001);
        assert_eq!(
            lines[1000],
            "(only the first 1000 of 1500 rejections are listed)"
        );
    }

    #[test]
    fn a_reason_repeated_many_times_is_listed_a_few_times_then_counted() {
        let summary = pb::IntakeSummary {
            lines: 300,
            rejected: 300,
            rejections: (1..=300)
                .map(|n| pb::LineRejection {
                    line_no: n,
                    reason: if n == 7 {
                        "rule.level: expected an integer 0-16".into()
                    } else {
                        format!("line: not valid JSON (at column {n})")
                    },
                })
                .collect(),
            ..Default::default()
        };
        let lines = rejection_lines(&summary, Unit::Records);
        assert_eq!(
            lines,
            [
                "record 1: line: not valid JSON (at column 1)",
                "record 2: line: not valid JSON (at column 2)",
                "record 3: line: not valid JSON (at column 3)",
                "record 4: line: not valid JSON (at column 4)",
                "record 5: line: not valid JSON (at column 5)",
                "record 7: rule.level: expected an integer 0-16",
                "(and 294 more records with the same reason: line: not valid JSON)",
            ]
        );
        assert_eq!(
            summary_line(&summary, Unit::Records),
            "accepted 0, aggregated 0, duplicates 0, rejected 300, skipped 0 (of 300 records)"
        );
        let json = summary_json(&summary, Unit::Records, Some("hint: x"));
        assert_eq!(
            (json["unit"].as_str(), json["hint"].as_str()),
            (Some("records"), Some("hint: x"))
        );
        assert_eq!(json["rejections"].as_array().map(Vec::len), Some(300));
    }
}
