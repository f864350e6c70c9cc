//! Per-(site, epoch) delivery state in memory: the acknowledged-through mark (`epochs`) and
//! the sequences stored above it (out of order, ahead of a hole). With it a new in-order
//! escalation needs no `escalations` read (nothing can be stored under a sequence above the
//! mark that is not in the set) and the catch-up over later sequences reads nothing either.
//!
//! Rebuilt at open from `epochs` and `escalations` (one seek per (site, epoch) plus the runs
//! ending above its mark, never a full scan). A unit of work changes a copy of the
//! entries it touches (`unit/sites.rs`) and replaces them here only after its transaction
//! committed, so this always equals the trees; a unit that fails leaves it as it was.

use super::StoreError;
use super::schema;
use socfed_proto::vocab::SiteId;
use socfed_runtime::store_kit::kv;
use std::collections::{BTreeSet, HashMap};
use ulid::Ulid;

/// One (site, epoch).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EpochMark {
    /// The highest sequence acknowledged (0: none).
    pub acked: u64,
    /// Sequences stored above `acked`.
    pub above: BTreeSet<u64>,
}

impl EpochMark {
    /// Whether an escalation may be stored under `seq`: at or below the mark (stored, or
    /// declared never sent) or stored above it.
    pub fn may_hold(&self, seq: u64) -> bool {
        seq <= self.acked || self.above.contains(&seq)
    }

    /// Moves the mark to `through`, forgetting what is now below it.
    pub fn set_acked(&mut self, through: u64) {
        self.acked = through;
        self.above = self.above.split_off(&through.saturating_add(1));
        if through == u64::MAX {
            self.above.clear();
        }
    }
}

pub type Key = (SiteId, Ulid);

#[derive(Debug)]
pub struct Marks {
    epochs: HashMap<Key, EpochMark>,
    /// Every (site, epoch) the trees hold is here, so one that is absent has nothing stored.
    /// False once another hub replica committed (`store::postgres`): entries are then read
    /// back from the trees as units need them ([`Marks::needs_load`]).
    complete: bool,
}

impl Default for Marks {
    fn default() -> Self {
        Self {
            epochs: HashMap::new(),
            complete: true,
        }
    }
}

impl Marks {
    /// Forgets everything: another replica changed the trees since they were read.
    pub fn forget_all(&mut self) {
        self.epochs.clear();
        self.complete = false;
    }

    /// Whether `key` must be read from the trees before a unit uses it.
    pub fn needs_load(&self, key: &Key) -> bool {
        !self.complete && !self.epochs.contains_key(key)
    }

    /// One (site, epoch) as the trees hold it: its mark and the sequences stored above it.
    pub fn load(
        epochs: &kv::Tree,
        escalations: &kv::Tree,
        (site, epoch): &Key,
    ) -> Result<EpochMark, StoreError> {
        let key = schema::epoch_key(site, *epoch);
        let mut mark = EpochMark::default();
        if let Some(raw) = epochs.get(&key)? {
            mark.acked = schema::u64_value(schema::EPOCHS, &raw)?;
        }
        // `escalations` keys share the `epochs` key as their prefix (site ++ 0x00 ++ epoch).
        above_mark(escalations, &key, &mut mark)?;
        Ok(mark)
    }

    pub fn get(&self, key: &Key) -> Option<&EpochMark> {
        self.epochs.get(key)
    }

    /// Takes a committed unit's changed entries.
    pub fn replace(&mut self, changed: HashMap<Key, EpochMark>) {
        self.epochs.extend(changed);
    }

    /// Reads the state from the trees (module docs).
    pub fn rebuild(epochs: &kv::Tree, escalations: &kv::Tree) -> Result<Self, StoreError> {
        let mut marks = Marks::default();
        for item in epochs.iter() {
            let (key, value) = item?;
            let Some(id) = epoch_of(&key) else {
                continue;
            };
            let acked = schema::u64_value(schema::EPOCHS, &value)?;
            marks.epochs.entry(id).or_default().acked = acked;
        }
        // One seek per (site, epoch) prefix of `escalations`: the runs ending above its mark.
        let mut from: Vec<u8> = Vec::new();
        while let Some(item) = escalations.range(from.clone()..).next() {
            let (key, _) = item?;
            let Some((id, prefix_len)) = escalation_prefix(&key) else {
                return Err(StoreError::Codec(schema::key_length(
                    schema::ESCALATIONS,
                    key.len(),
                )));
            };
            let prefix = &key[..prefix_len];
            let mark = marks.epochs.entry(id).or_default();
            above_mark(escalations, prefix, mark)?;
            // Past every key of this prefix: site ids hold no 0x00, so any later prefix is
            // greater than the prefix followed by anything.
            let mut end = prefix.to_vec();
            end.extend_from_slice(&u64::MAX.to_be_bytes());
            end.push(0);
            from = end;
        }
        Ok(marks)
    }
}

/// Adds to `mark` the sequences stored above it: the runs of `prefix` (site ++ 0x00 ++ epoch)
/// ending above the mark.
fn above_mark(
    escalations: &kv::Tree,
    prefix: &[u8],
    mark: &mut EpochMark,
) -> Result<(), StoreError> {
    if mark.acked == u64::MAX {
        return Ok(());
    }
    let mut start = prefix.to_vec();
    start.extend_from_slice(&mark.acked.saturating_add(1).to_be_bytes());
    let mut end = prefix.to_vec();
    end.extend_from_slice(&u64::MAX.to_be_bytes());
    for item in escalations.range(start..=end) {
        let (key, value) = item?;
        let run = schema::decode_escalation_run_at(&key, &value)?;
        let acked = mark.acked;
        mark.above
            .extend(run.iter().map(|(seq, _)| seq).filter(|seq| *seq > acked));
    }
    Ok(())
}

/// (site, epoch) of an `epochs` key: site ++ 0x00 ++ epoch (16).
fn epoch_of(key: &[u8]) -> Option<Key> {
    let split = key.iter().position(|b| *b == 0)?;
    let site = SiteId::parse(std::str::from_utf8(&key[..split]).ok()?).ok()?;
    let epoch: [u8; 16] = key.get(split + 1..)?.try_into().ok()?;
    Some((site, Ulid::from_bytes(epoch)))
}

/// (site, epoch) of an `escalations` key and the length of its (site, epoch) prefix.
fn escalation_prefix(key: &[u8]) -> Option<(Key, usize)> {
    let split = key.iter().position(|b| *b == 0)?;
    let prefix_len = split + 1 + 16;
    if key.len() != prefix_len + 8 {
        return None;
    }
    Some((epoch_of(&key[..prefix_len])?, prefix_len))
}
