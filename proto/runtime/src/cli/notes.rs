//! Notes on incidents as both CLIs print them (`site-agent incidents notes`, `sirt-hub
//! incidents notes`, issue 15): JSON with words and RFC 3339 times, and a table whose every
//! cell is cleaned for the terminal (`crate::terminal`). A redacted note prints its reason,
//! never an empty text that could pass for a blank note.

use super::format_millis;
use crate::terminal::{Table, clean, clean_multiline};
use serde_json::{Value, json};
use socfed_proto::pb;
use socfed_proto::vocab::Tlp;

/// `--tlp` of a note.
pub fn parse_tlp(s: &str) -> Result<Tlp, String> {
    s.parse::<Tlp>().map_err(|e| e.to_string())
}

/// A note's marking as a word; `-` when it has none of its own.
fn marking(n: i32) -> String {
    match Tlp::optional_from_wire(n, "tlp") {
        Ok(None) => "-".into(),
        Ok(Some(t)) => t.as_str().into(),
        Err(_) => "unknown".into(),
    }
}

pub fn note_json(n: &pb::IncidentNote) -> Value {
    json!({
        "id": n.id,
        "author": n.author,
        "at": format_millis(n.at_ms),
        "text": if n.redacted.is_empty() { Value::from(n.text.clone()) } else { Value::Null },
        "tlp": Tlp::optional_from_wire(n.tlp, "tlp").ok().flatten().map(Tlp::as_str),
        "redacted": (!n.redacted.is_empty()).then(|| n.redacted.clone()),
    })
}

pub fn notes_json(notes: &[pb::IncidentNote]) -> Value {
    Value::Array(notes.iter().map(note_json).collect())
}

pub fn notes_table(notes: &[pb::IncidentNote]) -> Table {
    let mut table = Table::new(["time", "author", "tlp", "note"]);
    for n in notes {
        let text = if n.redacted.is_empty() {
            clean_multiline(&n.text).into_owned()
        } else {
            format!("[redacted: {}]", clean(&n.redacted))
        };
        table.add_row([
            format_millis(n.at_ms),
            n.author.clone(),
            marking(n.tlp),
            text,
        ]);
    }
    table
}

/// `note ID added to INCIDENT by AUTHOR`.
pub fn added_line(n: &pb::IncidentNote, incident: &str) -> String {
    format!(
        "note {} added to {} by {}",
        clean(&n.id),
        clean(incident),
        clean(&n.author)
    )
}
