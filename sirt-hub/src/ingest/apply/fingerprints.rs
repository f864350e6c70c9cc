//! Which incident a correlation fingerprint leads to. Written for a site's report
//! (`escalation.rs`) and for a technique an operator adds (`transition.rs`), by the same rule.

use super::Batch;
use crate::correlate;
use crate::incident::IncidentRecord;
use crate::store::StoreError;
use crate::store::records::FingerprintRecord;
use std::collections::HashMap;

/// Fingerprints this unit already read, as they stand in it (`None`: absent).
pub(super) type Read = HashMap<[u8; 32], Option<FingerprintRecord>>;

impl Batch<'_, '_> {
    /// Points each of `keys` at `record`, seen at `now`. Only keys the record remembers are
    /// indexed (so a merge can repoint every key), a key held by another open incident within
    /// the window is left alone (a split must stay split; the next report matching both merges
    /// them), and a
    /// key that already leads to `record` is rewritten only once its `last_seen` is stale
    /// (`correlate::needs_refresh`).
    pub(super) fn index_fingerprints<'k>(
        &mut self,
        record: &IncidentRecord,
        keys: impl IntoIterator<Item = &'k [u8; 32]>,
        read: &Read,
    ) -> Result<(), StoreError> {
        let value = FingerprintRecord {
            incident: record.id,
            last_seen_ms: self.now,
        };
        for key in keys {
            if record.fingerprints.binary_search(key).is_err() {
                continue;
            }
            let current = match read.get(key) {
                Some(known) => *known,
                None => self.unit.fingerprint(key, self.now, self.window_ms)?,
            };
            if let Some(current) = current {
                let fresh = current.incident == record.id
                    && !correlate::needs_refresh(current.last_seen_ms, self.now, self.window_ms);
                // Another open incident keeps the key only while the key can still match it
                // (`correlate::within_window`): an older one would otherwise send every later
                // report with this key to a new incident of its own.
                let held = current.incident != record.id
                    && correlate::within_window(current.last_seen_ms, self.now, self.window_ms)
                    && self.is_open(current.incident)?;
                if fresh || held {
                    continue;
                }
            }
            self.unit.put_fingerprint(key, &value)?;
        }
        Ok(())
    }
}
