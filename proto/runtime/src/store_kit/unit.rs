//! A unit of work over a [`TreeSet`]: reads go to the trees directly but see the unit's own
//! pending writes first; writes are buffered, and [`Unit::commit`] applies them all in one sled
//! transaction (all or nothing after a crash). Domain logic runs between reads and writes,
//! outside any transaction closure, so it never re-runs. The caller serialises writers (one
//! unit at a time), which is what makes reads outside a transaction safe.
//!
//! A unit runs over raw sled trees (the agent's store) or over [`kv::Tree`]s (the hub's), both
//! [`UnitTree`]s. Over sled trees, `commit` is one sled transaction; a backend that commits
//! elsewhere (a database transaction) takes the writes with [`Unit::into_writes`].
//!
//! A unit counts its operations per tree ([`super::ops`]) and, when it was given a meter,
//! adds them to the store's exported counters once, when it ends (committed or not).

use super::kv::{self, KvError, ReadTree};
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
    /// A backend other than sled failed (a sled failure under a [`kv::Tree`] is `Sled`).
    #[error(transparent)]
    Kv(KvError),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

impl From<KvError> for UnitError {
    fn from(e: KvError) -> Self {
        match e {
            KvError::Sled(e) => UnitError::Sled(e),
            other => UnitError::Kv(other),
        }
    }
}

/// A tree a [`Unit`] works on: it reads through [`ReadTree`] and commits in one sled
/// transaction when every tree the unit writes is a sled tree.
pub trait UnitTree: ReadTree<UnitError> {
    /// The sled tree under it, for the unit's one-transaction commit.
    fn sled_tree(&self) -> Result<&sled::Tree, UnitError>;
}

impl UnitTree for sled::Tree {
    fn sled_tree(&self) -> Result<&sled::Tree, UnitError> {
        Ok(self)
    }
}

impl UnitTree for kv::Tree {
    fn sled_tree(&self) -> Result<&sled::Tree, UnitError> {
        match self {
            kv::Tree::Sled(t) => Ok(t),
            // A PostgreSQL unit commits its writes in the store's unit transaction
            // (`Unit::into_writes`), never through sled.
            kv::Tree::Pg(t) => Err(UnitError::Kv(kv::KvError::Database(format!(
                "tree {} is in PostgreSQL: its unit commits through the store's transaction",
                t.name()
            )))),
        }
    }
}

/// A pending write as [`Unit::into_writes`] hands it over: tree, key, value (`None` removes).
pub type Write<T> = (T, Vec<u8>, Option<Vec<u8>>);

pub struct Unit<'a, T: TreeSet, K: UnitTree = sled::Tree> {
    trees: &'a [K],
    pending: BTreeMap<(T, Vec<u8>), Option<Vec<u8>>>,
    ops: UnitOps,
    meter: Option<&'a OpMeter<T>>,
}

impl<'a, T: TreeSet, K: UnitTree> Unit<'a, T, K> {
    /// A unit over `trees`, every tree of the set in [`TreeSet::ALL`] order
    /// (`Trees::all`).
    pub fn new(trees: &'a [K]) -> Self {
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

    fn tree(&self, id: T) -> &K {
        &self.trees[id.index()]
    }

    pub fn get_raw(&self, id: T, key: &[u8]) -> Result<Option<Vec<u8>>, UnitError> {
        if let Some(pending) = self.pending.get(&(id, key.to_vec())) {
            return Ok(pending.clone());
        }
        self.ops.count(id.index(), Op::Get, 1);
        Ok(self.tree(id).read(key)?.map(|v| v.to_vec()))
    }

    /// The first of `keys` that holds a record, as this unit sees them: its position and the
    /// record. The keys the unit has not written are read together (one round trip on
    /// PostgreSQL).
    pub fn first_of<V: DeserializeOwned>(
        &self,
        id: T,
        keys: &[Vec<u8>],
    ) -> Result<Option<(usize, V)>, UnitError> {
        let unwritten: Vec<Vec<u8>> = keys
            .iter()
            .filter(|k| !self.pending.contains_key(&(id, (*k).clone())))
            .cloned()
            .collect();
        if !unwritten.is_empty() {
            self.ops.count(id.index(), Op::Get, unwritten.len());
        }
        let mut read = self.tree(id).read_many(&unwritten)?.into_iter();
        for (at, key) in keys.iter().enumerate() {
            let value = match self.pending.get(&(id, key.clone())) {
                Some(pending) => pending.clone(),
                None => read.next().flatten().map(|v| v.to_vec()),
            };
            if let Some(bytes) = value {
                return Ok(Some((at, id.codec().decode(&bytes)?)));
            }
        }
        Ok(None)
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
        for entry in self.tree(id).read_prefix(prefix).take(limit) {
            out.push(entry?.0);
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
            .read_range((Bound::Included(from.to_vec()), Bound::Unbounded))
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
                refs.push(self.trees[id.index()].sled_tree()?);
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

    /// Ends the unit without applying anything, handing over its writes in (tree, key) order
    /// for the caller to apply in its own transaction; counted as [`Unit::commit`] counts
    /// them.
    pub fn into_writes(mut self) -> Vec<Write<T>> {
        self.drain_writes()
    }

    fn drain_writes(&mut self) -> Vec<Write<T>> {
        self.count_writes();
        std::mem::take(&mut self.pending)
            .into_iter()
            .map(|((id, key), value)| (id, key, value))
            .collect()
    }
}

impl<T: TreeSet, K: UnitTree> Drop for Unit<'_, T, K> {
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

    #[test]
    fn a_unit_over_kv_trees_reads_and_commits_as_over_sled() -> Result<(), UnitError> {
        let db = sled::Config::new().temporary(true).open()?;
        let trees = Trees::<Demo, kv::Tree>::open_sled(&db)?;
        trees.tree(Demo::Index).insert(b"k0", b"")?;
        trees.tree(Demo::Index).insert(b"k3", b"")?;
        let mut unit = Unit::<Demo, kv::Tree>::new(trees.all());
        unit.put(Demo::Items, b"a".to_vec(), &"first".to_string())?;
        unit.put_raw(Demo::Index, b"k1".to_vec(), Vec::new());
        unit.remove(Demo::Index, b"k0".to_vec());
        let seen = unit.entries_from(Demo::Index, b"k", b"k", 10)?;
        assert_eq!(
            seen,
            vec![(b"k1".to_vec(), Vec::new()), (b"k3".to_vec(), Vec::new())]
        );
        assert_eq!(
            unit.committed_keys(Demo::Index, b"k", 10)?,
            [IVec::from(&b"k0"[..]), IVec::from(&b"k3"[..])]
        );
        assert_eq!(
            unit.seek(Demo::Index, b"k", b"k2")?,
            Some((b"k3".to_vec(), Vec::new()))
        );
        unit.commit()?;
        let index: Vec<IVec> = trees
            .tree(Demo::Index)
            .iter()
            .keys()
            .collect::<Result<_, _>>()?;
        assert_eq!(index, [IVec::from(&b"k1"[..]), IVec::from(&b"k3"[..])]);
        let stored = trees.tree(Demo::Items).get(b"a")?;
        assert_eq!(stored.as_ref().map(|v| v[0]), Some(2), "the tree's version");
        Ok(())
    }

    #[test]
    fn a_unit_hands_over_its_writes_in_key_order_and_counts_them() -> Result<(), UnitError> {
        let db = sled::Config::new().temporary(true).open()?;
        let trees = Trees::<Demo, kv::Tree>::open_sled(&db)?;
        let mut unit = Unit::<Demo, kv::Tree>::new(trees.all());
        unit.put_raw(Demo::Index, b"k2".to_vec(), b"two".to_vec());
        unit.put_u64(Demo::Meta, b"n", 7);
        unit.put_raw(Demo::Index, b"k1".to_vec(), b"one".to_vec());
        unit.remove(Demo::Index, b"k0".to_vec());
        unit.put_raw(Demo::Index, b"k2".to_vec(), b"2".to_vec());
        let writes = unit.drain_writes();
        assert_eq!(
            writes,
            vec![
                (Demo::Meta, b"n".to_vec(), Some(7u64.to_be_bytes().to_vec())),
                (Demo::Index, b"k0".to_vec(), None),
                (Demo::Index, b"k1".to_vec(), Some(b"one".to_vec())),
                (Demo::Index, b"k2".to_vec(), Some(b"2".to_vec())),
            ]
        );
        for tree in trees.all() {
            assert!(tree.is_empty()?, "nothing applied");
        }
        // [get, insert, remove, scan]: one write per key, as a commit counts them.
        let counted = |tree: Demo| Op::ALL.map(|op| unit.ops().get(tree as usize, op));
        assert_eq!(counted(Demo::Meta), [0, 1, 0, 0]);
        assert_eq!(counted(Demo::Index), [0, 2, 1, 0]);
        assert!(unit.is_empty());
        assert_eq!(unit.into_writes(), Vec::new());
        Ok(())
    }
}
