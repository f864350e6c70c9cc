//! The alert sample journal: every alert group's sample (the bounded original record of the
//! alert that opened it) lives outside sled, in `DIR/samples/`, an append-only journal of
//! the shared kit (`socfed_runtime::store_kit::journal`: length+CRC frames in segments, the
//! torn tail cut at open). The group record keeps a [`SampleRef`] only, so absorbing a repeat
//! or a triage action rewrites a small record, not the evidence with it.
//!
//! Each intake commit appends one compressed block holding the raw records of the groups it
//! opens (a commit of unusually long records is split into blocks of at most
//! [`BLOCK_RAW_BYTES`], all in the same write and sync). Block payload:
//! `[BLOCK_VERSION] ++ raw length u32 LE ++ lz4(postcard(Vec<String>))`: records of about a
//! KiB compress poorly alone and well together. A reader never decompresses more than
//! [`MAX_BLOCK_RAW`] bytes, whatever the header says.
//!
//! Invariant (as the hub's journal): the block is durable (fdatasync in `fsync` mode) before
//! the unit that refers to it is applied: [`Unit::journal_samples`] appends inside the unit,
//! under the store's write lock, before the unit commits. A crash between the two leaves an
//! unreferenced block (harmless). The unit records the journal's end (`meta` key
//! `samples_end`), the floor at the next open: an id a group may name is never reused, and a
//! bad frame past it is a torn append, cut.

use super::schema::{self, TreeId, TreeSet};
use super::unit::Unit;
use super::{AgentStore, StoreError};
use crate::soc::group::AlertGroup;
use serde::{Deserialize, Serialize};
use socfed_runtime::config::Durability;
use socfed_runtime::store_kit::journal::{Journal, JournalError};
use std::path::Path;

/// The journal's directory inside the store directory (a dump carries it,
/// `socfed_runtime::dump_files::SIDE_DIRS`).
pub const DIR: &str = "samples";
/// Version byte of every block this build writes.
pub const BLOCK_VERSION: u8 = 1;
/// Raw bytes after which a commit's samples go on in another block. The intake writer's
/// commits stay well under it (`MAX_COMMIT_RAW_BYTES`).
pub const BLOCK_RAW_BYTES: usize = 4 << 20;
/// The most a block may decompress to: above what any writer makes (one record over
/// [`BLOCK_RAW_BYTES`] at most, a record being at most `parse_limits.max_raw_bytes`), so a
/// larger announced size is damage, refused before anything is allocated.
pub const MAX_BLOCK_RAW: usize = 12 << 20;

/// Where a group's sample is: the block's journal id and the record's place in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleRef {
    pub block: u64,
    pub index: u32,
}

/// The sample journal of one store.
pub struct SampleJournal {
    journal: Journal,
}

fn bad(reason: impl Into<String>) -> JournalError {
    JournalError::Codec(reason.into())
}

/// One block's payload holding `raws`, in order.
pub fn encode_block(raws: &[&str]) -> Result<Vec<u8>, JournalError> {
    let plain = postcard::to_allocvec(raws).map_err(|e| bad(e.to_string()))?;
    let len = u32::try_from(plain.len()).map_err(|_| bad("a block over 4 GiB"))?;
    let mut out = vec![BLOCK_VERSION];
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&lz4_flex::block::compress(&plain));
    Ok(out)
}

/// The records of a block's payload; an error (never a panic, never more than
/// [`MAX_BLOCK_RAW`] bytes allocated) for anything this build did not write.
pub fn decode_block(payload: &[u8]) -> Result<Vec<String>, JournalError> {
    let (version, rest) = payload.split_first().ok_or_else(|| bad("an empty block"))?;
    if *version != BLOCK_VERSION {
        return Err(bad(format!(
            "sample block version {version}; this build reads {BLOCK_VERSION}"
        )));
    }
    let (len, compressed) = rest
        .split_first_chunk::<4>()
        .ok_or_else(|| bad("a sample block cut short"))?;
    let len = u32::from_le_bytes(*len) as usize;
    if len > MAX_BLOCK_RAW {
        return Err(bad(format!(
            "a sample block announcing {len} bytes, over the {MAX_BLOCK_RAW} any writer makes"
        )));
    }
    let plain = lz4_flex::block::decompress(compressed, len)
        .map_err(|e| bad(format!("a sample block does not decompress: {e}")))?;
    if plain.len() != len {
        return Err(bad(format!(
            "a sample block of {} bytes where its header announces {len}",
            plain.len()
        )));
    }
    postcard::from_bytes(&plain).map_err(|e| bad(format!("a sample block does not decode: {e}")))
}

impl SampleJournal {
    /// Opens (or creates) the journal of the store in `store_dir`; `floor` is the end the
    /// store last recorded (`samples_end`).
    pub fn open(
        store_dir: &Path,
        durability: Durability,
        floor: u64,
    ) -> Result<Self, JournalError> {
        // A damaged sample is one group's evidence lost, not a reason to stop the agent.
        let journal = Journal::open_sealing_damage(&store_dir.join(DIR), durability, floor)?;
        Ok(Self { journal })
    }

    /// Where the next block goes: what a unit records as `samples_end`.
    pub fn end(&self) -> u64 {
        self.journal.next_id()
    }

    /// Appends `raws` in blocks of at most [`BLOCK_RAW_BYTES`] (one block for any intake
    /// commit) with one write, durable before it returns; where each record went.
    pub fn append(&self, raws: &[&str]) -> Result<Vec<SampleRef>, JournalError> {
        let mut blocks: Vec<&[&str]> = Vec::new();
        let (mut start, mut bytes) = (0, 0usize);
        for (i, raw) in raws.iter().enumerate() {
            if i > start && bytes + raw.len() > BLOCK_RAW_BYTES {
                blocks.push(&raws[start..i]);
                (start, bytes) = (i, 0);
            }
            bytes += raw.len();
        }
        if start < raws.len() {
            blocks.push(&raws[start..]);
        }
        let payloads = blocks
            .iter()
            .map(|b| encode_block(b))
            .collect::<Result<Vec<_>, _>>()?;
        let ids = self.journal.append(&payloads)?;
        let mut refs = Vec::with_capacity(raws.len());
        for (block, id) in blocks.iter().zip(ids) {
            refs.extend((0..block.len()).map(|i| SampleRef {
                block: id,
                index: i as u32,
            }));
        }
        Ok(refs)
    }

    /// The journal for the layout snapshot (`layout.rs`): each block by id, its records by
    /// length.
    pub fn layout(&self) -> Result<String, JournalError> {
        let blocks = self.journal.payloads_from(0)?;
        let mut out = format!("\n## {DIR}/ (sample journal): {} blocks\n", blocks.len());
        for (id, payload) in blocks {
            let lens: Vec<String> = decode_block(&payload)?
                .iter()
                .map(|r| r.len().to_string())
                .collect();
            out.push_str(&format!(
                "block {id}\n  = v{BLOCK_VERSION} lz4, records of {} bytes\n",
                lens.join(", ")
            ));
        }
        Ok(out)
    }

    /// Every record of the block `id`.
    pub fn block(&self, id: u64) -> Result<Vec<String>, JournalError> {
        decode_block(&self.journal.get(id)?)
    }
}

/// The last block read, kept for the next group of a listing or a check: callers go through
/// groups in block order, so each block is decompressed once, and at most one block (at
/// most [`MAX_BLOCK_RAW`] bytes) is held however many groups a listing names.
#[derive(Default)]
pub struct BlockCache {
    last: Option<(u64, Result<Vec<String>, String>)>,
}

impl BlockCache {
    /// The sample `at` points to, read through the cache; the error says why it is missing.
    pub fn sample(&mut self, journal: &SampleJournal, at: SampleRef) -> Result<String, String> {
        if self.last.as_ref().is_none_or(|(id, _)| *id != at.block) {
            let read = journal.block(at.block).map_err(|e| e.to_string());
            self.last = Some((at.block, read));
        }
        match self.last.as_ref().map(|(_, block)| block) {
            Some(Ok(records)) => records.get(at.index as usize).cloned().ok_or_else(|| {
                format!(
                    "sample {} of journal block {} is not there (the block holds {})",
                    at.index,
                    at.block,
                    records.len()
                )
            }),
            Some(Err(e)) => Err(e.clone()),
            None => Err(format!("journal block {} was not read", at.block)),
        }
    }
}

impl Unit<'_> {
    /// Appends `raws` to the sample journal, durable before this returns and so before the
    /// unit commits (see the module doc); records the journal's new end in the unit.
    pub fn journal_samples(&mut self, raws: &[&str]) -> Result<Vec<SampleRef>, StoreError> {
        if raws.is_empty() {
            return Ok(Vec::new());
        }
        let samples = self.samples;
        let refs = samples.append(raws)?;
        failpoint_after_samples();
        self.put_u64(TreeId::Meta, schema::SAMPLES_END.as_bytes(), samples.end());
        Ok(refs)
    }
}

/// Environment variable of a test hook, and nothing else: `after-samples` makes the agent
/// exit abruptly ([`FAILPOINT_EXIT`]) right after a unit's sample block is durable and before
/// the unit commits: the crash window of the invariant above
/// (`tests/tests/faults/samples_crash.rs`). Unset (always, outside tests) it does nothing.
pub const FAILPOINT_ENV: &str = "SOCFED_AGENT_FAILPOINT";
/// Exit code of an agent stopped by the failpoint.
pub const FAILPOINT_EXIT: i32 = 86;

fn failpoint_after_samples() {
    static SET: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let set = *SET.get_or_init(|| match std::env::var(FAILPOINT_ENV) {
        Ok(value) if value == "after-samples" => {
            tracing::warn!(
                "test failpoint set: the agent exits after a sample block, before its unit"
            );
            true
        }
        Ok(value) => {
            tracing::warn!(%value, "unknown {FAILPOINT_ENV} value ignored");
            false
        }
        Err(_) => false,
    });
    if set {
        eprintln!("{FAILPOINT_ENV}: exiting after the sample block, before the unit's commit");
        // No destructor runs: sled is not flushed, as in a crash.
        std::process::exit(FAILPOINT_EXIT);
    }
}

impl AgentStore {
    /// The original records of `groups`, in order: from the journal, or from the record for a
    /// group not yet written (none once stored); a text saying why where it is unavailable.
    pub fn group_samples(&self, groups: &[AlertGroup]) -> Vec<Result<String, String>> {
        // Read in block order (each block decompressed once, one held at a time), answered in
        // the groups' order.
        let mut order: Vec<usize> = (0..groups.len()).collect();
        order.sort_by_key(|&i| groups[i].sample_ref.map(|at| (at.block, at.index)));
        let mut cache = BlockCache::default();
        let mut out: Vec<Result<String, String>> = vec![Ok(String::new()); groups.len()];
        for i in order {
            let g = &groups[i];
            out[i] = match g.sample_ref {
                Some(at) => cache.sample(&self.samples, at),
                None => Ok(g.sample.raw.clone()),
            };
        }
        out
    }

    /// Every group whose sample cannot be read, with why (`db check`, tests).
    pub fn unavailable_samples(&self) -> Result<Vec<(ulid::Ulid, String)>, StoreError> {
        unreadable_samples(self.tree(TreeId::Groups), &self.samples)
    }
}

/// The journal's end the store last recorded (`meta` key `samples_end`; 0 before any): the
/// floor the journal is opened with.
pub fn recorded_end(meta: &sled::Tree) -> Result<u64, StoreError> {
    Ok(match meta.get(schema::SAMPLES_END)? {
        Some(raw) => schema::u64_of(TreeId::Meta, &raw)?,
        None => 0,
    })
}

/// Every group in `groups` whose sample cannot be read from `journal`, with why. A record of
/// version 1 (before schema 8) still holds its sample: readable.
pub fn unreadable_samples(
    groups: &sled::Tree,
    journal: &SampleJournal,
) -> Result<Vec<(ulid::Ulid, String)>, StoreError> {
    let mut cache = BlockCache::default();
    let mut out = Vec::new();
    for value in groups.iter().values() {
        let (group, legacy) = schema::decode_group_any(&value?)?;
        let found = match (group.sample_ref, legacy) {
            (_, true) => Ok(()),
            (Some(at), false) => cache.sample(journal, at).map(drop),
            (None, false) => Err("the group names no sample".to_string()),
        };
        if let Err(why) = found {
            out.push((group.id, why));
        }
    }
    Ok(out)
}

/// `db check`'s look beside sled: opens the sample journal of the stopped store in `dir`
/// from the end its `meta` records (as the agent does at start: a torn last append is cut)
/// and reads every group's sample; each one unreadable is a problem.
pub fn check_beside(
    dir: &Path,
    db: &sled::Db,
    found: &mut socfed_runtime::store_check::StoreCheck,
) -> anyhow::Result<()> {
    let floor = recorded_end(&db.open_tree(TreeId::Meta.name())?)?;
    let journal = SampleJournal::open(dir, Durability::Flush, floor)?;
    for (group, why) in unreadable_samples(&db.open_tree(TreeId::Groups.name())?, &journal)? {
        found.problem(format!("alert group {group}: sample unreadable: {why}"));
    }
    Ok(())
}

#[cfg(test)]
#[path = "samples_tests.rs"]
mod tests;
