//! The hub store's storage interface: ordered key-value trees ([`Tree`]), their iterators
//! ([`Iter`]), atomic batches ([`Batch`]) and one error type ([`KvError`]). The hub keeps every
//! record in such trees (key layouts in its `schema.rs`); its store names this module's types,
//! not a backend's, so that a second backend (PostgreSQL, for several hub replicas over one
//! database) serves the same store code. sled stays the default and embedded backend.
//!
//! [`Tree`] is an enum with one variant per backend, and every method is one `match` arm per
//! backend: a backend is a variant, not a trait object, so the store stays `Sync` and its calls
//! stay static. Every method returns a `Result`, also `len` and `clear`, because on a database
//! any read can fail (and then transiently: [`KvError::Unavailable`]).
//!
//! [`ReadTree`] is the few reads the kit's own read paths need (units of work, search
//! postings), implemented for a raw `sled::Tree` as well, so the agent's sled store keeps
//! using them unchanged.

use std::ops::{Bound, RangeBounds};

/// A stored key or value: just bytes (a backend other than sled builds it from a `Vec<u8>`).
pub use sled::IVec;

#[derive(Debug, thiserror::Error)]
pub enum KvError {
    /// sled failed: it takes no more writes after an I/O error.
    #[error("storage: {0}")]
    Sled(#[from] sled::Error),
    /// A database query failed.
    #[error("database: {0}")]
    Database(String),
    /// The database cannot be reached (a transient outage: callers refuse and retry).
    #[error("the store's database is unreachable: {0}")]
    Unavailable(String),
    /// A unique constraint refused a write.
    #[error("write conflict: {0}")]
    Conflict(String),
}

/// One ordered key-value tree of a store, in whichever backend holds it.
#[derive(Clone, Debug)]
pub enum Tree {
    Sled(sled::Tree),
    /// Rows of a PostgreSQL store's `kv` table (`super::pg`).
    Pg(super::pg::PgTree),
}

impl From<sled::Tree> for Tree {
    fn from(tree: sled::Tree) -> Self {
        Tree::Sled(tree)
    }
}

/// Entries of a tree in key order (either end), each read possibly failing.
pub struct Iter {
    inner: Box<dyn DoubleEndedIterator<Item = Result<(IVec, IVec), KvError>> + Send>,
}

impl Iter {
    /// An iterator over a backend's entries.
    pub fn new(
        inner: impl DoubleEndedIterator<Item = Result<(IVec, IVec), KvError>> + Send + 'static,
    ) -> Self {
        Self {
            inner: Box::new(inner),
        }
    }

    /// The keys alone.
    pub fn keys(self) -> impl DoubleEndedIterator<Item = Result<IVec, KvError>> + Send {
        self.map(|entry| entry.map(|(key, _)| key))
    }

    /// The values alone.
    pub fn values(self) -> impl DoubleEndedIterator<Item = Result<IVec, KvError>> + Send {
        self.map(|entry| entry.map(|(_, value)| value))
    }
}

impl Iterator for Iter {
    type Item = Result<(IVec, IVec), KvError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next()
    }
}

impl DoubleEndedIterator for Iter {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back()
    }
}

impl std::fmt::Debug for Iter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("kv::Iter")
    }
}

fn sled_iter(iter: sled::Iter) -> Iter {
    Iter::new(iter.map(|entry| entry.map_err(KvError::from)))
}

fn pg_iter(iter: super::pg::PgIter) -> Iter {
    Iter::new(iter.map(|entry| entry.map_err(KvError::from)))
}

impl From<super::pg::PgError> for KvError {
    fn from(e: super::pg::PgError) -> Self {
        use super::pg::PgError;
        match e {
            PgError::Database(m) => KvError::Database(m),
            PgError::Unavailable(m) => KvError::Unavailable(m),
            PgError::Conflict(m) => KvError::Conflict(m),
        }
    }
}

/// Writes to one tree, applied all together or not at all ([`Tree::apply_batch`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    writes: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    pub fn insert(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.writes
            .push((key.as_ref().to_vec(), Some(value.as_ref().to_vec())));
    }

    pub fn remove(&mut self, key: impl AsRef<[u8]>) {
        self.writes.push((key.as_ref().to_vec(), None));
    }

    /// The writes in the order given (a later write to a key wins); `None` removes.
    pub fn writes(&self) -> &[(Vec<u8>, Option<Vec<u8>>)] {
        &self.writes
    }

    /// The writes in the order given, owned.
    pub fn into_writes(self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        self.writes
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

impl Tree {
    /// The tree's name.
    pub fn name(&self) -> String {
        match self {
            Tree::Sled(t) => String::from_utf8_lossy(&t.name()).into_owned(),
            Tree::Pg(t) => t.name(),
        }
    }

    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<IVec>, KvError> {
        match self {
            Tree::Sled(t) => Ok(t.get(key)?),
            Tree::Pg(t) => Ok(t.get(key)?),
        }
    }

    /// The values of `keys`, in their order (one round trip on PostgreSQL).
    pub fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<IVec>>, KvError> {
        match self {
            Tree::Sled(t) => Ok(keys.iter().map(|k| t.get(k)).collect::<Result<_, _>>()?),
            Tree::Pg(t) => Ok(t.get_many(keys)?),
        }
    }

    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool, KvError> {
        match self {
            Tree::Sled(t) => Ok(t.contains_key(key)?),
            Tree::Pg(t) => Ok(t.contains_key(key)?),
        }
    }

    pub fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<(), KvError> {
        match self {
            Tree::Sled(t) => {
                t.insert(key.as_ref(), value.as_ref())?;
                Ok(())
            }
            Tree::Pg(t) => Ok(t.insert(key, value)?),
        }
    }

    pub fn remove(&self, key: impl AsRef<[u8]>) -> Result<(), KvError> {
        match self {
            Tree::Sled(t) => {
                t.remove(key)?;
                Ok(())
            }
            Tree::Pg(t) => Ok(t.remove(key)?),
        }
    }

    /// Every entry, in key order.
    pub fn iter(&self) -> Iter {
        match self {
            Tree::Sled(t) => sled_iter(t.iter()),
            Tree::Pg(t) => pg_iter(t.iter()),
        }
    }

    /// The entries whose keys are in `range`, in key order.
    pub fn range(&self, range: impl RangeBounds<Vec<u8>>) -> Iter {
        match self {
            Tree::Sled(t) => sled_iter(t.range(range)),
            Tree::Pg(t) => pg_iter(t.range(range)),
        }
    }

    /// The entries whose keys start with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Iter {
        match self {
            Tree::Sled(t) => sled_iter(t.scan_prefix(prefix)),
            Tree::Pg(t) => pg_iter(t.scan_prefix(prefix)),
        }
    }

    /// How many entries (a full scan on sled).
    pub fn len(&self) -> Result<usize, KvError> {
        match self {
            Tree::Sled(t) => Ok(t.len()),
            Tree::Pg(t) => Ok(t.len()?),
        }
    }

    pub fn is_empty(&self) -> Result<bool, KvError> {
        match self {
            Tree::Sled(t) => Ok(t.is_empty()),
            Tree::Pg(t) => Ok(t.is_empty()?),
        }
    }

    /// The entry with the smallest key.
    pub fn first(&self) -> Result<Option<(IVec, IVec)>, KvError> {
        match self {
            Tree::Sled(t) => Ok(t.first()?),
            Tree::Pg(t) => Ok(t.first()?),
        }
    }

    /// The entry with the largest key.
    pub fn last(&self) -> Result<Option<(IVec, IVec)>, KvError> {
        match self {
            Tree::Sled(t) => Ok(t.last()?),
            Tree::Pg(t) => Ok(t.last()?),
        }
    }

    /// Removes every entry.
    pub fn clear(&self) -> Result<(), KvError> {
        match self {
            Tree::Sled(t) => Ok(t.clear()?),
            Tree::Pg(t) => Ok(t.clear()?),
        }
    }

    /// Applies every write of `batch`, atomically.
    pub fn apply_batch(&self, batch: Batch) -> Result<(), KvError> {
        match self {
            Tree::Sled(t) => {
                let mut sled_batch = sled::Batch::default();
                for (key, value) in batch.writes {
                    match value {
                        Some(value) => sled_batch.insert(key, value),
                        None => sled_batch.remove(key),
                    }
                }
                Ok(t.apply_batch(sled_batch)?)
            }
            Tree::Pg(t) => Ok(t.apply_batch(&batch.writes)?),
        }
    }

    /// Makes the tree's writes durable (sled's flush; a database commits each write itself).
    pub fn flush(&self) -> Result<(), KvError> {
        match self {
            Tree::Sled(t) => {
                t.flush()?;
                Ok(())
            }
            Tree::Pg(t) => Ok(t.flush()?),
        }
    }
}

/// The reads the kit's own read paths need of a tree ([`super::unit`], [`super::postings`]),
/// with errors of the caller's type `E`: a raw `sled::Tree` (the agent's store) and a [`Tree`]
/// (the hub's) both serve them.
pub trait ReadTree<E> {
    fn read(&self, key: &[u8]) -> Result<Option<IVec>, E>;

    /// The values of `keys`, in their order; a backend with round trips reads them in one.
    fn read_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<IVec>>, E> {
        keys.iter().map(|k| self.read(k)).collect()
    }

    /// The entries whose keys are in `range`, in key order (either end).
    fn read_range(
        &self,
        range: (Bound<Vec<u8>>, Bound<Vec<u8>>),
    ) -> impl DoubleEndedIterator<Item = Result<(IVec, IVec), E>>;

    /// The entries whose keys start with `prefix`, in key order.
    fn read_prefix(
        &self,
        prefix: &[u8],
    ) -> impl DoubleEndedIterator<Item = Result<(IVec, IVec), E>>;
}

/// The one implementation for both tree kinds: the same three calls (a [`Tree`] has sled's
/// method names), each failure converted into the caller's error.
macro_rules! read_tree {
    ($tree:ty, $error:ty $(, $many:ident)?) => {
        impl<E: From<$error>> ReadTree<E> for $tree {
            fn read(&self, key: &[u8]) -> Result<Option<IVec>, E> {
                Ok(self.get(key)?)
            }
            $(
            fn read_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<IVec>>, E> {
                Ok(self.$many(keys)?)
            }
            )?

            fn read_range(
                &self,
                range: (Bound<Vec<u8>>, Bound<Vec<u8>>),
            ) -> impl DoubleEndedIterator<Item = Result<(IVec, IVec), E>> {
                self.range(range).map(|entry| entry.map_err(E::from))
            }

            fn read_prefix(
                &self,
                prefix: &[u8],
            ) -> impl DoubleEndedIterator<Item = Result<(IVec, IVec), E>> {
                self.scan_prefix(prefix).map(|entry| entry.map_err(E::from))
            }
        }
    };
}

read_tree!(sled::Tree, sled::Error);
read_tree!(Tree, KvError, get_many);

#[cfg(test)]
#[path = "kv_tests.rs"]
mod tests;
