//! The hub's escalation journal: every escalation as received, appended before the unit that
//! indexes it, and durable (fdatasync in `Durability::Fsync` mode) before that unit is even
//! applied, so whatever sled writes in the background never refers to a journal entry the disk
//! does not hold.
//!
//! Layout: `DIR/journal/<first id, 20 digits>.log`, a set of append-only segments of
//! length+CRC frames holding entries (`entry.rs`); segments, frames and the torn-tail cut are
//! the shared kit's (`socfed_runtime::store_kit::journal`), which the agent's sample journal
//! uses too. An entry's id is its offset in
//! the concatenation of all segments: monotonic, and read back with one positioned read
//! without an index. A segment is closed at [`SEGMENT_BYTES`]; the next starts at the next id
//! (or further on: ids may skip, never repeat).
//!
//! At open the newest segment is scanned: a torn append (a crash during an append: a frame cut
//! short, zeroed bytes, a frame that does not check at or past the applied mark) is cut off
//! with everything after it; a frame that does not check before the mark is damage, reported
//! with file and offset. The index (`meta` key `journal_applied`) records below which id
//! everything is applied; entries from there on are re-applied at start-up (`crate::ingest::replay`).

mod entry;

pub use entry::{JournalEntry, JournaledOffer};
pub use socfed_runtime::store_kit::journal::{JournalError, SEGMENT_BYTES};

use socfed_runtime::config::Durability;
use socfed_runtime::store_kit::journal as kit;
#[cfg(test)]
use socfed_runtime::store_kit::journal::frame;
use std::path::Path;
#[cfg(test)]
use std::path::PathBuf;

/// The journal's directory inside the store directory.
pub const DIR: &str = "journal";

/// The segments, frames and torn-tail handling are the shared kit's
/// (`socfed_runtime::store_kit::journal`); this adds the entries' codec and the metrics.
pub struct Journal {
    inner: kit::Journal,
}

impl Journal {
    /// Opens (or creates) the journal of the store in `store_dir`; cuts a torn tail. `floor` is
    /// the lowest id the next append may take (the index's applied mark: an id it already
    /// names is never given to another entry, whatever the disk lost).
    pub fn open(
        store_dir: &Path,
        durability: Durability,
        floor: u64,
    ) -> Result<Self, JournalError> {
        let inner = kit::Journal::open(&store_dir.join(DIR), durability, floor)?;
        metrics::gauge!("socfed_hub_journal_bytes").set(inner.bytes() as f64);
        Ok(Self { inner })
    }

    /// The id the next entry will get.
    pub fn next_id(&self) -> u64 {
        self.inner.next_id()
    }

    /// Bytes held in every segment.
    pub fn bytes(&self) -> u64 {
        self.inner.bytes()
    }

    /// Appends `entries` in order and makes them durable; returns their ids.
    pub fn append(&self, entries: &[JournalEntry]) -> Result<Vec<u64>, JournalError> {
        let payloads = entries
            .iter()
            .map(JournalEntry::encode)
            .collect::<Result<Vec<_>, _>>()?;
        let before = self.inner.next_id();
        let ids = self.inner.append(&payloads)?;
        metrics::counter!("socfed_hub_journal_appends_total").increment(entries.len() as u64);
        if !ids.is_empty() {
            let written = self.inner.next_id().saturating_sub(before.max(ids[0]));
            metrics::gauge!("socfed_hub_journal_bytes").increment(written as f64);
        }
        Ok(ids)
    }

    /// The entry with id `id`.
    pub fn get(&self, id: u64) -> Result<JournalEntry, JournalError> {
        JournalEntry::decode(&self.inner.get(id)?)
    }

    /// Every entry's id and encoded bytes (as [`JournalEntry::encode`] wrote them), in order,
    /// handed to `visit` one segment at a time (`store::migrate` copies them as they are).
    pub fn visit_encoded<E: From<JournalError>>(
        &self,
        visit: impl FnMut(Vec<(u64, Vec<u8>)>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.inner.visit_from(0, visit)
    }

    /// Every entry with an id of at least `from`, in order: what a replay applies.
    pub fn entries_from(&self, from: u64) -> Result<Vec<(u64, JournalEntry)>, JournalError> {
        self.inner
            .payloads_from(from)?
            .into_iter()
            .map(|(id, payload)| Ok((id, JournalEntry::decode(&payload)?)))
            .collect()
    }
}

#[cfg(test)]
mod tests;
