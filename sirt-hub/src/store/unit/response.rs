//! The response inside a unit: directives with their three indexes (`site_directives`, the
//! per-site outbox; `open_directives`, those not final; `incident_directives`), hunts, and
//! communications (see `schema.rs`).

use super::{StoreUnit, note};
use crate::comms::CommRecord;
use crate::response::{DirectiveRecord, DirectiveState, HuntRecord};
use crate::store::StoreError;
use crate::store::schema::{self, TreeId};
use ulid::Ulid;

impl StoreUnit<'_> {
    pub fn directive(&self, id: Ulid) -> Result<Option<DirectiveRecord>, StoreError> {
        Ok(self.work.get(TreeId::Directives, &id.to_bytes())?)
    }

    /// Writes a new directive and its index entries; a queued one wakes its site's stream at
    /// commit.
    pub fn put_directive(&mut self, d: &DirectiveRecord) -> Result<(), StoreError> {
        self.work.put_raw(
            TreeId::SiteDirectives,
            schema::site_directive_key(&d.site, d.id),
            Vec::new(),
        );
        if let Some(incident) = d.incident {
            self.work.put_raw(
                TreeId::IncidentDirectives,
                schema::pair_key(incident, d.id).to_vec(),
                Vec::new(),
            );
        }
        if d.state == DirectiveState::Queued {
            note(&mut self.touched.directive_sites, &d.site);
        }
        self.update_directive(d)
    }

    /// Writes a changed directive; `open_directives` follows its state (a final directive
    /// leaves it).
    pub fn update_directive(&mut self, d: &DirectiveRecord) -> Result<(), StoreError> {
        self.work
            .put(TreeId::Directives, d.id.to_bytes().to_vec(), d)?;
        let key = schema::site_directive_key(&d.site, d.id);
        if d.state.is_final() {
            self.work.remove(TreeId::OpenDirectives, key);
        } else {
            self.work.put_raw(TreeId::OpenDirectives, key, Vec::new());
        }
        Ok(())
    }

    /// Up to `limit` directive entries in id order, from `from` on (included; `None`: the
    /// first), as this unit sees them: each one's id (read off its key) and its record, or
    /// why the record could not be decoded, so a walk can step over one damaged record.
    pub fn directives_from(
        &self,
        from: Option<Ulid>,
        limit: usize,
    ) -> Result<Vec<DirectiveEntry>, StoreError> {
        let from = from.map(|id| id.to_bytes().to_vec()).unwrap_or_default();
        Ok(self
            .work
            .entries_from(TreeId::Directives, &[], &from, limit)?
            .into_iter()
            .map(|(key, value)| {
                let record = schema::decode(TreeId::Directives, &value).map_err(StoreError::from);
                (key_floor(&key), record)
            })
            .collect())
    }

    /// Removes a directive and every index entry it has (the per-site list, the outbox, the
    /// incident's list). The incident's timeline and the audit chain keep what they recorded.
    pub fn remove_directive(&mut self, d: &DirectiveRecord) {
        let site_key = schema::site_directive_key(&d.site, d.id);
        self.work.remove(TreeId::SiteDirectives, site_key.clone());
        self.work.remove(TreeId::OpenDirectives, site_key);
        if let Some(incident) = d.incident {
            self.work.remove(
                TreeId::IncidentDirectives,
                schema::pair_key(incident, d.id).to_vec(),
            );
        }
        self.work
            .remove(TreeId::Directives, d.id.to_bytes().to_vec());
    }

    pub fn hunt(&self, id: Ulid) -> Result<Option<HuntRecord>, StoreError> {
        Ok(self.work.get(TreeId::Hunts, &id.to_bytes())?)
    }

    pub fn put_hunt(&mut self, hunt: &HuntRecord) -> Result<(), StoreError> {
        self.work
            .put(TreeId::Hunts, hunt.id.to_bytes().to_vec(), hunt)?;
        Ok(())
    }

    /// Communication `comm` of `incident`.
    pub fn comm(&self, incident: Ulid, comm: Ulid) -> Result<Option<CommRecord>, StoreError> {
        Ok(self
            .work
            .get(TreeId::Comms, &schema::pair_key(incident, comm))?)
    }

    pub fn put_comm(&mut self, incident: Ulid, record: &CommRecord) -> Result<(), StoreError> {
        self.work.put(
            TreeId::Comms,
            schema::pair_key(incident, record.id).to_vec(),
            record,
        )?;
        Ok(())
    }
}

/// A directive's id and its record, or why the record could not be decoded.
pub type DirectiveEntry = (Ulid, Result<DirectiveRecord, StoreError>);

/// The id of a `directives` key, or for a damaged key the greatest id not above it (its
/// first 16 bytes, zero-padded): a walk resumed from there reads that key again, so it
/// always moves on past it.
fn key_floor(key: &[u8]) -> Ulid {
    let mut bytes = [0u8; 16];
    let n = key.len().min(16);
    bytes[..n].copy_from_slice(&key[..n]);
    Ulid::from_bytes(bytes)
}
