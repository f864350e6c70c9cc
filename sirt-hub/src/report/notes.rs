//! The report's work log: the incident's timeline with its notes merged in time order. A
//! note is shown as the reader got it (its text already withheld when the reader may not
//! read it, `service::notes`), and, when the report is made for an audience, withheld again
//! when its marking (its own, or the incident's) is above what that audience is cleared for
//! (`comms::redact::cleared`, the rule communications follow).

use crate::comms::Audience;
use crate::comms::redact::cleared;
use socfed_proto::pb;
use socfed_proto::vocab::Tlp;
use socfed_runtime::cli::format_millis;

/// The text a note shows in a report for `audience` (none: the reader's own report).
fn note_text(n: &pb::IncidentNote, incident: Tlp, audience: Option<Audience>) -> String {
    let own = Tlp::from_wire(n.tlp, "tlp").ok();
    let marking = if n.tlp == pb::Tlp::Unspecified as i32 {
        incident
    } else {
        // A marking this build does not know is the most restrictive.
        own.unwrap_or(Tlp::Red)
    };
    let label = crate::comms::tlp_label(marking);
    if !n.redacted.is_empty() {
        return format!("note ({label}): [redacted: {}]", n.redacted);
    }
    if let Some(audience) = audience.filter(|a| !cleared(marking, *a)) {
        return format!(
            "note ({label}): [withheld: {audience} are cleared for {}]",
            crate::comms::tlp_label(audience.clearance())
        );
    }
    format!("note ({label}): {}", n.text)
}

/// The timeline's rows and the notes' rows, in time order (at, who, what).
pub fn work_log_rows(
    i: &pb::HubIncident,
    notes: &[pb::IncidentNote],
    audience: Option<Audience>,
) -> Vec<Vec<String>> {
    let incident = Tlp::from_wire(i.tlp, "tlp").unwrap_or(Tlp::Red);
    let mut rows: Vec<(i64, Vec<String>)> = i
        .timeline
        .iter()
        .map(|t| (t.at_ms, vec![t.actor.clone(), t.text.clone()]))
        .chain(notes.iter().map(|n| {
            (
                n.at_ms,
                vec![n.author.clone(), note_text(n, incident, audience)],
            )
        }))
        .collect();
    // Stable: a note written in the millisecond of a timeline line comes after it.
    rows.sort_by_key(|(at, _)| *at);
    rows.into_iter()
        .map(|(at, mut row)| {
            row.insert(0, format_millis(at));
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(at_ms: i64, tlp: pb::Tlp, text: &str, redacted: &str) -> pb::IncidentNote {
        pb::IncidentNote {
            id: String::new(),
            author: "ines".into(),
            at_ms,
            text: text.into(),
            tlp: tlp as i32,
            redacted: redacted.into(),
        }
    }

    #[test]
    fn notes_merge_with_the_timeline_and_are_withheld_above_the_audience() {
        let incident = pb::HubIncident {
            tlp: pb::Tlp::Amber as i32,
            timeline: vec![
                pb::TimelineEntry {
                    at_ms: 1_000,
                    actor: "site paris".into(),
                    text: "escalated".into(),
                },
                pb::TimelineEntry {
                    at_ms: 3_000,
                    actor: "ines".into(),
                    text: "contained".into(),
                },
            ],
            ..Default::default()
        };
        let notes = [
            note(2_000, pb::Tlp::Unspecified, "beacon to c2", ""),
            note(2_500, pb::Tlp::Red, "legal hold", ""),
            note(4_000, pb::Tlp::Red, "", "TLP:RED note: for the CISO"),
            note(5_000, pb::Tlp::Green, "patched", ""),
        ];
        // (audience, the texts of the note rows)
        let cases: [(Option<Audience>, [&str; 4]); 3] = [
            (
                None,
                [
                    "note (TLP:AMBER): beacon to c2",
                    "note (TLP:RED): legal hold",
                    "note (TLP:RED): [redacted: TLP:RED note: for the CISO]",
                    "note (TLP:GREEN): patched",
                ],
            ),
            (
                Some(Audience::Board),
                [
                    "note (TLP:AMBER): beacon to c2",
                    "note (TLP:RED): [withheld: board are cleared for TLP:AMBER]",
                    "note (TLP:RED): [redacted: TLP:RED note: for the CISO]",
                    "note (TLP:GREEN): patched",
                ],
            ),
            (
                Some(Audience::Clients),
                [
                    "note (TLP:AMBER): [withheld: clients are cleared for TLP:GREEN]",
                    "note (TLP:RED): [withheld: clients are cleared for TLP:GREEN]",
                    "note (TLP:RED): [redacted: TLP:RED note: for the CISO]",
                    "note (TLP:GREEN): patched",
                ],
            ),
        ];
        for (audience, expected) in cases {
            let rows = work_log_rows(&incident, &notes, audience);
            let whats: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
            assert_eq!(
                whats,
                [
                    "escalated",
                    expected[0],
                    expected[1],
                    "contained",
                    expected[2],
                    expected[3]
                ],
                "{audience:?}"
            );
        }
    }
}
