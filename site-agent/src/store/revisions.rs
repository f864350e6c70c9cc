//! The `idx_revision_pending` index: the local incidents whose next revision could not be
//! queued (the outbox was at its cap) and waits for room. The SLA clock retries them on every
//! tick; the index lets it read just those ids instead of decoding every local incident
//! (which it did every 15 s, so its cost grew with the whole incident history).
//!
//! Kept in step by [`Unit::put_incident`](super::unit::Unit): the only writer of
//! `incidents` writes the index entry in the same unit.

use super::schema::{self, TreeId};
use super::unit::Unit;
use super::{AgentStore, StoreError};
use crate::soc::incident::LocalIncident;

impl Unit<'_> {
    /// Adds or removes `incident`'s entry to match its `revision_pending` flag, counting the
    /// change ([`AgentStore`] keeps the count): while the index is empty, the usual case, an
    /// incident write costs no read of it at all.
    pub(super) fn index_revision_pending(
        &mut self,
        incident: &LocalIncident,
    ) -> Result<(), StoreError> {
        let key = incident.id.as_bytes();
        let may_hold = self
            .revisions_pending_at_start
            .saturating_add_signed(self.revisions_pending_delta)
            > 0;
        if incident.revision_pending {
            if !may_hold || self.get_raw(TreeId::IdxRevisionPending, key)?.is_none() {
                self.put_raw(TreeId::IdxRevisionPending, key.to_vec(), Vec::new());
                self.revisions_pending_delta += 1;
            }
        } else if may_hold && self.get_raw(TreeId::IdxRevisionPending, key)?.is_some() {
            self.remove(TreeId::IdxRevisionPending, key.to_vec());
            self.revisions_pending_delta -= 1;
        }
        Ok(())
    }
}

impl AgentStore {
    /// Up to `limit` local incidents with a revision waiting for room in the outbox, oldest
    /// first (incident ids are time-ordered).
    pub fn pending_revision_ids(&self, limit: usize) -> Result<Vec<String>, StoreError> {
        self.tree(TreeId::IdxRevisionPending)
            .iter()
            .keys()
            .take(limit)
            .map(|key| Ok(schema::text_of(TreeId::IdxRevisionPending, &key?)?))
            .collect()
    }
}

/// Schema 4: builds the index from `incidents` (older stores kept only the flag).
pub(super) fn index_existing(
    trees: &socfed_runtime::store_kit::Trees<TreeId>,
) -> Result<usize, StoreError> {
    let index = trees.tree(TreeId::IdxRevisionPending);
    let mut batch = sled::Batch::default();
    let mut count = 0;
    for value in trees.tree(TreeId::Incidents).iter().values() {
        let incident: LocalIncident = schema::decode(TreeId::Incidents, &value?)?;
        if incident.revision_pending {
            batch.insert(incident.id.as_bytes(), Vec::<u8>::new());
            count += 1;
        }
    }
    index.apply_batch(batch)?;
    Ok(count)
}
