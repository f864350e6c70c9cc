//! `sirt-hub incidents notes ID` and `sirt-hub incidents note ID --text T [--tlp red]` over
//! `HubCasework`: a hub incident's work log, printed as the site's CLI prints its notes
//! (`socfed_runtime::cli::notes`: cleaned for the terminal, JSON with words).

use super::HubTarget;
use super::render;
use socfed_proto::pb::{self, hub_casework_client::HubCaseworkClient};
use socfed_proto::vocab::Tlp;
use socfed_runtime::cli::notes::{added_line, note_json, notes_json, notes_table};
use socfed_runtime::cli::{OutputFormat, explain};

pub use socfed_runtime::cli::notes::parse_tlp;

pub async fn notes(target: &HubTarget, id: String) -> anyhow::Result<()> {
    let mut client = HubCaseworkClient::new(target.channel()?);
    let notes = client
        .list_hub_incident_notes(pb::ListIncidentNotesRequest { incident_id: id })
        .await
        .map_err(|s| explain(&s, &target.name()))?
        .into_inner()
        .notes;
    match target.format() {
        OutputFormat::Json => render::print_json(&notes_json(&notes))?,
        OutputFormat::Table => socfed_runtime::outln!("{}", notes_table(&notes)),
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
            tlp: Tlp::optional_to_wire(tlp),
        })
        .await
        .map_err(|s| explain(&s, &target.name()))?
        .into_inner();
    match target.format() {
        OutputFormat::Json => render::print_json(&note_json(&added))?,
        OutputFormat::Table => socfed_runtime::outln!("{}", added_line(&added, &id)),
    }
    Ok(())
}
