//! The `fingerprints` index inside the ingest transaction: which incident a correlation
//! fingerprint leads to. Written for a site's report (`escalation.rs`) and for a technique an
//! operator adds (`transition.rs`), by the same rule.

use super::{Tx, TxError, codec};
use crate::incident::IncidentRecord;
use crate::store::records::FingerprintRecord;
use crate::store::schema;
use socfed_proto::UnixMillis;

impl Tx<'_> {
    /// Points each of `keys` at `record`, seen at `now`. Only keys the record remembers are
    /// indexed (so a merge can repoint every key), and a key held by another open incident is
    /// left alone (a split must stay split; the next report matching both merges them).
    pub(super) fn index_fingerprints<'k>(
        &self,
        record: &IncidentRecord,
        keys: impl IntoIterator<Item = &'k [u8; 32]>,
        now: UnixMillis,
    ) -> Result<(), TxError> {
        let value = codec(schema::encode(
            schema::TreeId::Fingerprints,
            &FingerprintRecord {
                incident: record.id,
                last_seen_ms: now,
            },
        ))?;
        for key in keys {
            if record.fingerprints.binary_search(key).is_err() {
                continue;
            }
            if let Some(raw) = self.fingerprints.get(key)? {
                let current: FingerprintRecord =
                    codec(schema::decode(schema::TreeId::Fingerprints, &raw))?;
                if current.incident != record.id && self.is_open(current.incident)? {
                    continue;
                }
            }
            self.fingerprints.insert(key.as_slice(), value.clone())?;
        }
        Ok(())
    }
}
