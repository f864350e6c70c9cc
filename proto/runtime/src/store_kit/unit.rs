//! A unit of work over a [`TreeSet`]: reads go to the trees directly but see the unit's own
//! pending writes first; writes are buffered, and [`Unit::commit`] applies them all in one sled
//! transaction (all or nothing after a crash). Domain logic runs between reads and writes,
//! outside any transaction closure, so it never re-runs. The caller serialises writers (one
//! unit at a time), which is what makes reads outside a transaction safe.
//!
//! A unit counts its operations per tree ([`super::ops`]) and, when it was given a meter,
//! adds them to the store's exported counters once, when it ends (committed or not).

use super::ops::{Op, OpMeter, UnitOps};
use super::{CodecError, TreeSet, codec};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::IVec;
use std::collections::BTreeMap;

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

#[derive(Debug, thiserror::Error)]
pub enum UnitError {
    #[error("storage: {0}")]
    Sled(#[from] sled::Error),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

pub struct Unit<'a, T: TreeSet> {
    trees: &'a [sled::Tree],
    pending: BTreeMap<(T, Vec<u8>), Option<Vec<u8>>>,
    ops: UnitOps,
    meter: Option<&'a OpMeter<T>>,
}

impl<'a, T: TreeSet> Unit<'a, T> {
    /// A unit over `trees`, every tree of the set in [`TreeSet::ALL`] order
    /// (`Trees::all`).
    pub fn new(trees: &'a [sled::Tree]) -> Self {
        Self {
            trees,
            pending: BTreeMap::new(),
            ops: UnitOps::new(trees.len()),
            meter: None,
        }
    }

    /// Adds this unit's operation counts to `meter` when it ends.
    pub fn metered(mut self, meter: &'a OpMeter<T>) -> Self {
        self.meter = Some(meter);
        self
    }

    /// The operations counted so far (writes are counted at commit).
    pub fn ops(&self) -> &UnitOps {
        &self.ops
    }

    fn tree(&self, id: T) -> &sled::Tree {
        &self.trees[id.index()]
    }

    pub fn get_raw(&self, id: T, key: &[u8]) -> Result<Option<Vec<u8>>, UnitError> {
        if let Some(pending) = self.pending.get(&(id, key.to_vec())) {
            return Ok(pending.clone());
        }
        self.ops.count(id.index(), Op::Get, 1);
        Ok(self.tree(id).get(key)?.map(|v| v.to_vec()))
    }

    /// A record, decoded with its tree's codec.
    pub fn get<V: DeserializeOwned>(&self, id: T, key: &[u8]) -> Result<Option<V>, UnitError> {
        match self.get_raw(id, key)? {
            Some(bytes) => Ok(Some(id.codec().decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Writes a record, encoded with its tree's codec.
    pub fn put<V: Serialize>(
        &mut self,
        id: T,
        key: impl Into<Vec<u8>>,
        value: &V,
    ) -> Result<(), UnitError> {
        let bytes = id.codec().encode(value)?;
        self.pending.insert((id, key.into()), Some(bytes));
        Ok(())
    }

    pub fn put_raw(&mut self, id: T, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.pending.insert((id, key.into()), Some(value.into()));
    }

    pub fn remove(&mut self, id: T, key: impl Into<Vec<u8>>) {
        self.pending.insert((id, key.into()), None);
    }

    /// A big-endian u64 value; 0 when absent.
    pub fn get_u64(&self, id: T, key: &[u8]) -> Result<u64, UnitError> {
        match self.get_raw(id, key)? {
            Some(bytes) => Ok(codec::u64_be(id.name(), &bytes)?),
            None => Ok(0),
        }
    }

    pub fn put_u64(&mut self, id: T, key: &[u8], value: u64) {
        self.put_raw(id, key.to_vec(), value.to_be_bytes().to_vec());
    }

    /// Keys in `id` starting with `prefix`, in order, from the committed tree only (pending
    /// writes of this unit are not included). At most `limit`.
    pub fn committed_keys(
        &self,
        id: T,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<IVec>, UnitError> {
        self.ops.count(id.index(), Op::Scan, 1);
        let mut out = Vec::new();
        for key in self.tree(id).scan_prefix(prefix).keys().take(limit) {
            out.push(key?);
        }
        Ok(out)
    }

    /// Entries of `id` whose key starts with `prefix` and is at least `from`, in key order,
    /// as this unit sees them (its own pending writes and removals included). At most `limit`.
    pub fn entries_from(
        &self,
        id: T,
        prefix: &[u8],
        from: &[u8],
        limit: usize,
    ) -> Result<Vec<Entry>, UnitError> {
        self.ops.count(id.index(), Op::Scan, 1);
        self.merged_from(id, prefix, from, limit)
    }

    /// The first entry of `id` whose key starts with `prefix` and is at least `from`, as
    /// this unit sees it: a point read by seek (counted as a lookup), for indexes whose entry
    /// covers a range of keys and is stored under the range's end.
    pub fn seek(&self, id: T, prefix: &[u8], from: &[u8]) -> Result<Option<Entry>, UnitError> {
        self.ops.count(id.index(), Op::Get, 1);
        Ok(self.merged_from(id, prefix, from, 1)?.into_iter().next())
    }

    fn merged_from(
        &self,
        id: T,
        prefix: &[u8],
        from: &[u8],
        limit: usize,
    ) -> Result<Vec<Entry>, UnitError> {
        use std::ops::Bound;
        let in_range = |key: &[u8]| key.starts_with(prefix) && key >= from;
        let pending: Vec<(&Vec<u8>, &Option<Vec<u8>>)> = self
            .pending
            .range((Bound::Included((id, from.to_vec())), Bound::Unbounded))
            .take_while(|((tree, key), _)| *tree == id && key.starts_with(prefix))
            .map(|((_, key), value)| (key, value))
            .collect();
        // Pending removals may hide committed entries: read enough to still fill `limit`.
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for entry in self
            .tree(id)
            .range(from.to_vec()..)
            .take(limit.saturating_add(pending.len()))
        {
            let (key, value) = entry?;
            if !in_range(&key) {
                break;
            }
            merged.insert(key.to_vec(), value.to_vec());
        }
        for (key, value) in pending {
            match value {
                Some(v) => merged.insert(key.clone(), v.clone()),
                None => merged.remove(key),
            };
        }
        Ok(merged.into_iter().take(limit).collect())
    }

    /// Nothing written (yet).
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// One insert or remove per pending key, as the commit applies them.
    fn count_writes(&self) {
        for ((id, _), value) in &self.pending {
            let op = if value.is_some() {
                Op::Insert
            } else {
                Op::Remove
            };
            self.ops.count(id.index(), op, 1);
        }
    }

    /// Applies every pending write in one transaction.
    pub fn commit(self) -> Result<(), UnitError> {
        use sled::Transactional;
        use sled::transaction::{ConflictableTransactionError, TransactionError};
        // Counted here, not in the closure: sled may run it more than once.
        self.count_writes();
        if self.pending.is_empty() {
            return Ok(());
        }
        // Only the trees this unit writes take part: sled locks and commits every tree given
        // to a transaction, and a unit usually writes a third of a store's trees.
        let mut position = vec![usize::MAX; self.trees.len()];
        let mut refs: Vec<&sled::Tree> = Vec::new();
        for (id, _) in self.pending.keys() {
            if position[id.index()] == usize::MAX {
                position[id.index()] = refs.len();
                refs.push(&self.trees[id.index()]);
            }
        }
        let pending = &self.pending;
        let result = refs.as_slice().transaction(|view| {
            for ((id, key), value) in pending {
                let tree = &view[position[id.index()]];
                match value {
                    Some(bytes) => {
                        tree.insert(key.as_slice(), bytes.as_slice())?;
                    }
                    None => {
                        tree.remove(key.as_slice())?;
                    }
                }
            }
            Ok::<(), ConflictableTransactionError<()>>(())
        });
        match result {
            Ok(()) => Ok(()),
            Err(TransactionError::Storage(e)) => Err(UnitError::Sled(e)),
            // The closure never aborts.
            Err(TransactionError::Abort(())) => Ok(()),
        }
    }
}

impl<T: TreeSet> Drop for Unit<'_, T> {
    fn drop(&mut self) {
        if let Some(meter) = self.meter {
            meter.add_unit(&self.ops);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Trees;
    use super::super::tests::Demo;
    use super::*;

    #[test]
    fn a_unit_sees_its_own_writes_and_commits_them_together() -> Result<(), UnitError> {
        let db = sled::Config::new().temporary(true).open()?;
        let trees = Trees::<Demo>::open(&db)?;
        let mut unit = Unit::<Demo>::new(trees.all());
        unit.put(Demo::Items, b"a".to_vec(), &"first".to_string())?;
        unit.put_u64(Demo::Meta, b"n", 2);
        unit.put_raw(Demo::Index, b"k1".to_vec(), Vec::new());
        unit.put_raw(Demo::Index, b"k2".to_vec(), Vec::new());
        unit.remove(Demo::Index, b"k1".to_vec());
        assert_eq!(
            unit.get::<String>(Demo::Items, b"a")?.as_deref(),
            Some("first")
        );
        assert_eq!(unit.get_u64(Demo::Meta, b"n")?, 2);
        let seen = unit.entries_from(Demo::Index, b"k", b"k", 10)?;
        assert_eq!(seen, vec![(b"k2".to_vec(), Vec::new())]);
        assert!(trees.tree(Demo::Items).is_empty(), "nothing before commit");
        unit.commit()?;
        let stored = trees.tree(Demo::Items).get(b"a")?.map(|v| v.to_vec());
        assert_eq!(stored.as_ref().map(|v| v[0]), Some(2), "the tree's version");
        assert_eq!(trees.tree(Demo::Index).len(), 1);
        Ok(())
    }

    #[test]
    fn a_unit_counts_what_reaches_the_trees() -> Result<(), UnitError> {
        let db = sled::Config::new().temporary(true).open()?;
        let trees = Trees::<Demo>::open(&db)?;
        let mut unit = Unit::<Demo>::new(trees.all());
        assert_eq!(unit.get_u64(Demo::Meta, b"n")?, 0);
        unit.put_u64(Demo::Meta, b"n", 1);
        // Its own pending write: no lookup.
        assert_eq!(unit.get_u64(Demo::Meta, b"n")?, 1);
        unit.put_u64(Demo::Meta, b"n", 2);
        unit.put_raw(Demo::Index, b"k1".to_vec(), Vec::new());
        unit.remove(Demo::Index, b"k0".to_vec());
        unit.entries_from(Demo::Index, b"k", b"k", 10)?;
        unit.committed_keys(Demo::Items, b"", 1)?;
        let counts =
            |unit: &Unit<Demo>, tree: Demo| Op::ALL.map(|op| unit.ops().get(tree as usize, op));
        // [get, insert, remove, scan]
        assert_eq!(counts(&unit, Demo::Meta), [1, 0, 0, 0]);
        assert_eq!(counts(&unit, Demo::Index), [0, 0, 0, 1]);
        assert_eq!(counts(&unit, Demo::Items), [0, 0, 0, 1]);
        unit.count_writes();
        assert_eq!(
            counts(&unit, Demo::Meta),
            [1, 1, 0, 0],
            "one insert per key, however often written"
        );
        assert_eq!(counts(&unit, Demo::Index), [0, 1, 1, 1]);
        Ok(())
    }
}
