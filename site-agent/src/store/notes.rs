//! The `incident_notes` tree (schema 10): each local incident's notes, keyed by the incident
//! id and the note's ULID, so one prefix scan reads an incident's work log in time order.
//! Written only with the audit entry of the same unit (`service/casework.rs`).

use super::schema::{self, TreeId};
use super::unit::Unit;
use super::{AgentStore, StoreError};
use crate::soc::notes::Note;

/// `incident ++ 0x00 ++ note ULID`.
fn note_key(incident: &str, id: ulid::Ulid) -> Vec<u8> {
    let mut key = schema::name_prefix(incident);
    key.extend_from_slice(&id.to_bytes());
    key
}

impl AgentStore {
    /// An incident's notes, oldest first, at most `limit`.
    pub fn notes(&self, incident: &str, limit: usize) -> Result<Vec<Note>, StoreError> {
        self.tree(TreeId::IncidentNotes)
            .scan_prefix(schema::name_prefix(incident))
            .values()
            .take(limit)
            .map(|v| Ok(schema::decode(TreeId::IncidentNotes, &v?)?))
            .collect()
    }
}

impl Unit<'_> {
    pub fn put_note(&mut self, note: &Note) -> Result<(), StoreError> {
        self.put(
            TreeId::IncidentNotes,
            note_key(&note.incident, note.id),
            note,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema::TreeSet as _;
    use crate::store::upgrade::tests::{raw_db, reopen as open};

    /// A store written as schema 9 opens as 10, keeps what it held, and takes notes, listed
    /// per incident in time order.
    #[test]
    fn a_schema_9_store_opens_as_10_and_keeps_notes_per_incident() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let epoch = open(dir.path())?.epoch();
        {
            let db = raw_db(dir.path())?;
            db.open_tree(TreeId::Meta.name())?
                .insert(schema::SCHEMA_VERSION_KEY, &9u32.to_be_bytes())?;
            db.drop_tree(TreeId::IncidentNotes.name())?;
            db.flush()?;
        }
        let store = open(dir.path())?;
        assert_eq!(store.epoch(), epoch);
        let note = |incident: &str, n: u64| Note {
            id: ulid::Ulid::from_parts(n, 0),
            incident: incident.into(),
            author: "ana".into(),
            at_ms: n as i64,
            text: format!("note {n}"),
            tlp: None,
        };
        // "INC-1" is a prefix of "INC-10": the 0x00 keeps them apart.
        store.unit(|unit| {
            unit.put_note(&note("INC-1", 2))?;
            unit.put_note(&note("INC-10", 1))?;
            unit.put_note(&note("INC-1", 1))
        })?;
        let texts: Vec<String> = store
            .notes("INC-1", 10)?
            .into_iter()
            .map(|n| n.text)
            .collect();
        assert_eq!(texts, ["note 1", "note 2"]);
        assert_eq!(store.notes("INC-1", 1)?.len(), 1);
        drop(store);
        let db = raw_db(dir.path())?;
        assert_eq!(
            db.open_tree(TreeId::Meta.name())?
                .get(schema::SCHEMA_VERSION_KEY)?
                .map(|v| v.to_vec()),
            Some(10u32.to_be_bytes().to_vec())
        );
        Ok(())
    }
}
