//! `sirt-hub incidents notes ID` and `sirt-hub incidents note ID --text T [--tlp red]` over
//! `HubCasework`: a hub incident's work log. Everything from the hub is cleaned for the
//! terminal (`socfed_runtime::terminal`; tables clean their cells).

use super::HubTarget;
use super::render;
use serde_json::{Value, json};
use socfed_proto::pb::{self, hub_casework_client::HubCaseworkClient};
use socfed_proto::vocab::Tlp;
use socfed_runtime::cli::{OutputFormat, explain, format_millis};
use socfed_runtime::terminal::{clean, clean_multiline};

/// `--tlp` of a note.
pub fn parse_tlp(s: &str) -> Result<Tlp, String> {
    s.parse::<Tlp>().map_err(|e| e.to_string())
}

fn marking(n: i32) -> String {
    if n == pb::Tlp::Unspecified as i32 {
        "-".into()
    } else {
        Tlp::from_wire(n, "tlp").map_or("unknown".into(), |t| t.as_str().to_string())
    }
}

fn note_json(n: &pb::IncidentNote) -> Value {
    json!({
        "id": n.id,
        "author": n.author,
        "at": format_millis(n.at_ms),
        "text": if n.redacted.is_empty() { Value::from(n.text.clone()) } else { Value::Null },
        "tlp": (n.tlp != pb::Tlp::Unspecified as i32).then(|| marking(n.tlp)),
        "redacted": (!n.redacted.is_empty()).then(|| n.redacted.clone()),
    })
}

pub async fn notes(target: &HubTarget, id: String) -> anyhow::Result<()> {
    let mut client = HubCaseworkClient::new(target.channel()?);
    let notes = client
        .list_hub_incident_notes(pb::ListIncidentNotesRequest { incident_id: id })
        .await
        .map_err(|s| explain(&s, &target.name()))?
        .into_inner()
        .notes;
    match target.format() {
        OutputFormat::Json => {
            render::print_json(&Value::Array(notes.iter().map(note_json).collect()))?
        }
        OutputFormat::Table => {
            let mut table = render::Table::new(["time", "author", "tlp", "note"]);
            for n in &notes {
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
            socfed_runtime::outln!("{table}");
        }
    }
    Ok(())
}

pub async fn note(
    target: &HubTarget,
    id: String,
    text: String,
    tlp: Option<Tlp>,
) -> anyhow::Result<()> {
    let mut client = HubCaseworkClient::new(target.channel()?);
    let added = client
        .add_hub_incident_note(pb::AddIncidentNoteRequest {
            incident_id: id.clone(),
            text,
            tlp: tlp.map_or(pb::Tlp::Unspecified, Tlp::to_wire).into(),
        })
        .await
        .map_err(|s| explain(&s, &target.name()))?
        .into_inner();
    match target.format() {
        OutputFormat::Json => render::print_json(&note_json(&added))?,
        OutputFormat::Table => socfed_runtime::outln!(
            "note {} added to {} by {}",
            clean(&added.id),
            clean(&id),
            clean(&added.author)
        ),
    }
    Ok(())
}
