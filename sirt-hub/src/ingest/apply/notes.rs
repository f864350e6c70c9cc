//! A note on an incident (issue 15), with its audit entry, in one store unit: the author
//! comes from the caller's certificate (the service's `Acting`), the time is the writer's
//! clock. The incident must exist; at most `MAX_NOTES_PER_INCIDENT` notes an incident.

use super::Batch;
use super::response::ResponseOutcome;
use crate::incident::notes::{HubNote, MAX_NOTES_PER_INCIDENT};
use crate::store::StoreError;
use socfed_proto::vocab::Tlp;
use ulid::Ulid;

#[derive(Debug, Clone)]
pub struct NoteAdd {
    pub id: Ulid,
    pub incident: Ulid,
    /// Checked text (`socfed_proto::text::checked_note`).
    pub text: String,
    pub tlp: Option<Tlp>,
    pub actor: String,
    pub actor_cert: String,
}

impl Batch<'_, '_> {
    pub(super) fn note(
        &mut self,
        n: &NoteAdd,
        applied: &mut super::Applied,
    ) -> Result<ResponseOutcome, StoreError> {
        if self.unit.incident(n.incident)?.is_none() {
            return Ok(ResponseOutcome::NotFound(format!(
                "no incident {}; list incidents to see valid ids",
                n.incident
            )));
        }
        if self.unit.note_count(n.incident, MAX_NOTES_PER_INCIDENT)? >= MAX_NOTES_PER_INCIDENT {
            return Ok(ResponseOutcome::Rejected(format!(
                "incident {} already holds {MAX_NOTES_PER_INCIDENT} notes, the most one keeps",
                n.incident
            )));
        }
        let note = HubNote {
            id: n.id,
            incident: n.incident,
            author: n.actor.clone(),
            at_ms: self.now,
            text: n.text.clone(),
            tlp: n.tlp,
        };
        self.unit.put_note(&note)?;
        // The incident search finds it by the note's words only when the note has no marking
        // of its own (it follows the incident's, whatever that becomes): a marked note may be
        // stricter than the incident, now or after a downgrade, and a hit would then tell a
        // reader of the incident something of a note they may not read. Notes are never
        // removed, so the words are only added.
        if n.tlp.is_none() {
            self.unit.index_incident_text(n.incident, "", &n.text)?;
        }
        self.unit.audit(socfed_runtime::audit::AuditDraft {
            at_ms: self.now,
            actor: n.actor.clone(),
            actor_cert: n.actor_cert.clone(),
            action: "incident.note".into(),
            target: n.incident.to_string(),
            before: None,
            after: serde_json::to_string(&note).ok(),
        })?;
        // The live page, the event stream and the webhooks learn of it in the same unit.
        applied.events.push(crate::events::HubEvent {
            at_ms: self.now,
            incident: Some(n.incident),
            kind: crate::store::records::EventKind::NoteAdded {
                note: n.id,
                author: n.actor.clone(),
                tlp: n.tlp.map(|t| t.as_str().to_string()).unwrap_or_default(),
            },
        });
        Ok(ResponseOutcome::Updated(true))
    }
}
