//! The one write of a note on an incident (`incident_notes`, schema 10), and the reads of an
//! incident's notes: key incident ULID ++ note ULID, so a prefix scan is the work log in time
//! order.

use super::StoreUnit;
use crate::incident::notes::HubNote;
use crate::store::schema::{self, TreeId};
use crate::store::{HubStore, StoreError};
use ulid::Ulid;

fn key(incident: Ulid, id: Ulid) -> Vec<u8> {
    let mut key = incident.to_bytes().to_vec();
    key.extend_from_slice(&id.to_bytes());
    key
}

impl StoreUnit<'_> {
    pub fn put_note(&mut self, note: &HubNote) -> Result<(), StoreError> {
        self.work
            .put(TreeId::IncidentNotes, key(note.incident, note.id), note)?;
        Ok(())
    }

    /// How many notes `incident` holds as committed, counted up to `cap`.
    pub fn note_count(&self, incident: Ulid, cap: usize) -> Result<usize, StoreError> {
        Ok(self
            .work
            .committed_keys(TreeId::IncidentNotes, &incident.to_bytes(), cap)?
            .len())
    }
}

impl HubStore {
    /// An incident's notes, oldest first, at most `limit`.
    pub fn notes(&self, incident: Ulid, limit: usize) -> Result<Vec<HubNote>, StoreError> {
        self.registry
            .tree(TreeId::IncidentNotes)
            .scan_prefix(incident.to_bytes())
            .values()
            .take(limit)
            .map(|v| Ok(schema::decode(TreeId::IncidentNotes, &v?)?))
            .collect()
    }

    /// Note `id` of `incident`.
    pub fn note(&self, incident: Ulid, id: Ulid) -> Result<Option<HubNote>, StoreError> {
        match self
            .registry
            .tree(TreeId::IncidentNotes)
            .get(key(incident, id))?
        {
            Some(raw) => Ok(Some(schema::decode(TreeId::IncidentNotes, &raw)?)),
            None => Ok(None),
        }
    }
}
