//! A unit of work: every write at the agent goes through one. Writers are serialised by the
//! store's write lock, so a unit reads the trees directly (seeing its own pending writes first)
//! and buffers its writes; `commit` applies them in one sled transaction (all or nothing after a
//! crash) and the store then flushes once. Domain logic runs between reads and writes, outside
//! any transaction closure, so it never re-runs.

use super::schema::{self, CodecError, TreeId};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::IVec;
use std::collections::BTreeMap;

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

pub struct Unit<'a> {
    trees: &'a [sled::Tree],
    pending: BTreeMap<(TreeId, Vec<u8>), Option<Vec<u8>>>,
    /// Net change of the outbox length made by this unit.
    pub(crate) outbox_delta: i64,
    pub(crate) enqueued: bool,
    /// Seals audit entries (`socfed_runtime::audit`).
    pub(crate) audit_key: &'a socfed_runtime::audit::ChainKey,
}

#[derive(Debug, thiserror::Error)]
pub enum UnitError {
    #[error("storage: {0}")]
    Sled(#[from] sled::Error),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

impl<'a> Unit<'a> {
    pub(crate) fn new(
        trees: &'a [sled::Tree],
        audit_key: &'a socfed_runtime::audit::ChainKey,
    ) -> Self {
        Self {
            audit_key,
            trees,
            pending: BTreeMap::new(),
            outbox_delta: 0,
            enqueued: false,
        }
    }

    fn tree(&self, id: TreeId) -> &sled::Tree {
        &self.trees[id as usize]
    }

    pub fn get_raw(&self, id: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>, UnitError> {
        if let Some(pending) = self.pending.get(&(id, key.to_vec())) {
            return Ok(pending.clone());
        }
        Ok(self.tree(id).get(key)?.map(|v| v.to_vec()))
    }

    pub fn get<T: DeserializeOwned>(&self, id: TreeId, key: &[u8]) -> Result<Option<T>, UnitError> {
        match self.get_raw(id, key)? {
            Some(bytes) => Ok(Some(schema::decode(id.name(), &bytes)?)),
            None => Ok(None),
        }
    }

    pub fn put<T: Serialize>(
        &mut self,
        id: TreeId,
        key: impl Into<Vec<u8>>,
        value: &T,
    ) -> Result<(), UnitError> {
        let bytes = schema::encode(id.name(), value)?;
        self.pending.insert((id, key.into()), Some(bytes));
        Ok(())
    }

    pub fn put_raw(&mut self, id: TreeId, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.pending.insert((id, key.into()), Some(value.into()));
    }

    pub fn remove(&mut self, id: TreeId, key: impl Into<Vec<u8>>) {
        self.pending.insert((id, key.into()), None);
    }

    pub fn get_u64(&self, id: TreeId, key: &[u8]) -> Result<u64, UnitError> {
        match self.get_raw(id, key)? {
            Some(bytes) => Ok(schema::u64_of(id.name(), &bytes)?),
            None => Ok(0),
        }
    }

    pub fn put_u64(&mut self, id: TreeId, key: &[u8], value: u64) {
        self.put_raw(id, key.to_vec(), value.to_be_bytes().to_vec());
    }

    /// Keys in `id` starting with `prefix`, in order, from the committed tree only (pending
    /// writes of this unit are not included). At most `limit`.
    pub fn committed_keys(
        &self,
        id: TreeId,
        prefix: &[u8],
        limit: usize,
    ) -> Result<Vec<IVec>, UnitError> {
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
        id: TreeId,
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

    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Applies every pending write in one transaction.
    pub(crate) fn commit(self) -> Result<(), UnitError> {
        use sled::Transactional;
        use sled::transaction::{ConflictableTransactionError, TransactionError};
        let refs: Vec<&sled::Tree> = self.trees.iter().collect();
        let pending = &self.pending;
        let result = refs.as_slice().transaction(|view| {
            for ((id, key), value) in pending {
                let tree = &view[*id as usize];
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
