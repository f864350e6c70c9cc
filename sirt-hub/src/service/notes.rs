//! Notes on hub incidents (issue 15), for every transport (gRPC, the API): writing one (the
//! access matrix's `WriteNote`, the incident's read rule for the writer, the text checked,
//! then the writer) and reading an incident's notes as one reader may (each note's text
//! through the same read rule at the note's marking, `incident::notes`).

use super::Commands;
use crate::access::acting::Acting;
use crate::access::incident::{IncidentAccess, may_read};
use crate::access::reader::{Reader, Roles};
use crate::access::{Api, check};
use crate::error::HubError;
use crate::incident::notes::{self, HubNote, MAX_NOTE_CHARS, MAX_NOTES_PER_INCIDENT};
use crate::ingest::IngestHandle;
use crate::ingest::apply::{Item, NoteAdd};
use crate::store::HubStore;
use crate::view::read;
use serde::Serialize;
use socfed_proto::vocab::Tlp;
use std::sync::Arc;
use ulid::Ulid;

/// A note as one reader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteView {
    pub id: Ulid,
    pub author: String,
    pub at_ms: socfed_proto::UnixMillis,
    /// Empty when redacted.
    pub text: String,
    pub tlp: Option<Tlp>,
    pub redacted: Option<String>,
}

fn not_found(incident: Ulid) -> HubError {
    HubError::not_found(format!(
        "no incident {incident}; list incidents to see valid ids"
    ))
}

/// `note` as `reader` may see it, on `record`'s incident.
fn view(
    note: &HubNote,
    reader: &Reader,
    roles: &Roles,
    record: &crate::incident::IncidentRecord,
) -> NoteView {
    let access = IncidentAccess {
        id: record.id,
        tlp: notes::read_marking(note, record.tlp()),
        ir_lead: record.lifecycle.ir_lead.as_deref(),
        member: roles.is_member(record.id, &reader.name),
    };
    let allowed = may_read(&reader.name, roles.get(&reader.name), access).is_ok();
    NoteView {
        id: note.id,
        author: note.author.clone(),
        at_ms: note.at_ms,
        text: if allowed {
            note.text.clone()
        } else {
            String::new()
        },
        tlp: note.tlp,
        redacted: (!allowed).then(|| notes::REDACTED.to_string()),
    }
}

/// An incident's notes, oldest first, as `reader` may see them; refused when the reader may
/// not read the incident at all.
pub async fn list(
    store: &Arc<HubStore>,
    reader: &Reader,
    roles: &Roles,
    incident: Ulid,
) -> Result<Vec<NoteView>, HubError> {
    let (record, stored) = read(store, move |s| {
        Ok::<_, crate::store::StoreError>((
            s.incident(incident)?,
            s.notes(incident, MAX_NOTES_PER_INCIDENT)?,
        ))
    })
    .await?;
    let record = record.ok_or_else(|| not_found(incident))?;
    reader.may_read(&record)?;
    Ok(stored
        .iter()
        .map(|n| view(n, reader, roles, &record))
        .collect())
}

/// A note by `acting` on `incident`: the note as stored, as its author sees it.
pub async fn add(
    store: &Arc<HubStore>,
    ingest: &IngestHandle,
    roles: &Roles,
    acting: &Acting,
    incident: Ulid,
    text: &str,
    tlp: Option<Tlp>,
) -> Result<NoteView, HubError> {
    check(&acting.name, acting.role, Api::WriteNote)
        .map_err(|d| HubError::denied(d.to_string()))?;
    let text = socfed_proto::text::checked_note(text, MAX_NOTE_CHARS)
        .map_err(|e| HubError::invalid(e.to_string()))?;
    let reader = Reader::named(&acting.name, roles);
    let record = read(store, move |s| s.incident(incident))
        .await?
        .ok_or_else(|| not_found(incident))?;
    reader.may_read(&record)?;
    let id = Ulid::new();
    Commands::on(ingest)
        .add_note(NoteAdd {
            id,
            incident,
            text,
            tlp,
            actor: acting.name.clone(),
            actor_cert: acting.cert.clone(),
        })
        .await?;
    let note = read(store, move |s| s.note(incident, id))
        .await?
        .ok_or_else(|| HubError::internal("a note written was not found"))?;
    Ok(view(&note, &reader, roles, &record))
}

impl Commands<'_> {
    /// A note written through the writer, with its audit entry.
    pub async fn add_note(self, note: NoteAdd) -> Result<(), HubError> {
        self.response(Item::Note(Box::new(note)), "add_note")
            .await
            .map(drop)
    }
}
