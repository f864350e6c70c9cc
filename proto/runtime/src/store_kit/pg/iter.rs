//! [`PgIter`]: a key-ordered scan of one tree, fetched lazily a page at a time from whichever
//! end is read (a range scan never loads the whole tree). The two ends keep their own cursor
//! and each page is bounded by the other end's cursor, so pages never overlap and a scan read
//! from both ends yields every entry once. Like sled's, a scan is not a snapshot: each page is
//! its own statement and sees what was committed when it ran.

use std::collections::VecDeque;
use std::ops::Bound;

use futures_executor::block_on;
use sled::IVec;
use tokio_postgres::types::{ToSql, Type};

use super::{PgError, PgStore};

/// Rows fetched per page.
pub const PAGE: i64 = 256;

type Entry = (IVec, IVec);

/// An iterator over `Result<(key, value), PgError>`; after an error it ends.
pub struct PgIter {
    store: PgStore,
    tree: String,
    /// Everything at or below `lower` (as bounded) has been fetched by the front.
    lower: Bound<Vec<u8>>,
    /// Everything at or above `upper` has been fetched by the back.
    upper: Bound<Vec<u8>>,
    /// Fetched by the front, ascending.
    front: VecDeque<Entry>,
    /// Fetched by the back, descending.
    back: VecDeque<Entry>,
    /// No more rows between the cursors.
    exhausted: bool,
    failed: bool,
}

impl std::fmt::Debug for PgIter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgIter")
            .field("tree", &self.tree)
            .finish_non_exhaustive()
    }
}

/// The smallest key greater than every key starting with `prefix` (`None`: no such key).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

impl PgIter {
    pub(crate) fn new(
        store: PgStore,
        tree: String,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
    ) -> Self {
        Self {
            store,
            tree,
            lower,
            upper,
            front: VecDeque::new(),
            back: VecDeque::new(),
            exhausted: false,
            failed: false,
        }
    }

    /// The keys alone.
    pub fn keys(self) -> impl DoubleEndedIterator<Item = Result<IVec, PgError>> + Send {
        self.map(|r| r.map(|(k, _)| k))
    }

    /// The values alone.
    pub fn values(self) -> impl DoubleEndedIterator<Item = Result<IVec, PgError>> + Send {
        self.map(|r| r.map(|(_, v)| v))
    }

    /// Fetches the next page from the front (`ascending`) or the back.
    fn fetch(&mut self, ascending: bool) -> Result<(), PgError> {
        let mut sql = String::from("SELECT key, value FROM kv WHERE tree = $1");
        let mut params: Vec<(&(dyn ToSql + Sync), Type)> = vec![(&self.tree, Type::TEXT)];
        for (bound, op_incl, op_excl) in [(&self.lower, ">=", ">"), (&self.upper, "<=", "<")] {
            let (op, key) = match bound {
                Bound::Included(k) => (op_incl, k),
                Bound::Excluded(k) => (op_excl, k),
                Bound::Unbounded => continue,
            };
            params.push((key, Type::BYTEA));
            sql.push_str(&format!(" AND key {op} ${}", params.len()));
        }
        sql.push_str(if ascending {
            " ORDER BY key ASC LIMIT "
        } else {
            " ORDER BY key DESC LIMIT "
        });
        sql.push_str(&PAGE.to_string());
        let rows = self
            .store
            .with_client(|c| block_on(c.query_typed(&sql, &params)))?;
        if (rows.len() as i64) < PAGE {
            // The page held everything left between the cursors.
            self.exhausted = true;
        }
        let entries = rows.into_iter().map(|r| {
            (
                IVec::from(r.get::<_, Vec<u8>>(0)),
                IVec::from(r.get::<_, Vec<u8>>(1)),
            )
        });
        let before = (self.front.len(), self.back.len());
        if ascending {
            self.front.extend(entries);
            if let Some((k, _)) = self.front.back() {
                self.lower = Bound::Excluded(k.to_vec());
            }
        } else {
            self.back.extend(entries);
            if let Some((k, _)) = self.back.back() {
                self.upper = Bound::Excluded(k.to_vec());
            }
        }
        if before == (self.front.len(), self.back.len()) {
            self.exhausted = true;
        }
        Ok(())
    }

    fn step(&mut self, ascending: bool) -> Option<Result<Entry, PgError>> {
        if self.failed {
            return None;
        }
        loop {
            let (mine, other) = if ascending {
                (&mut self.front, &mut self.back)
            } else {
                (&mut self.back, &mut self.front)
            };
            if let Some(e) = mine.pop_front() {
                return Some(Ok(e));
            }
            if self.exhausted {
                // What is left was fetched by the other end: take it from its far side.
                return other.pop_back().map(Ok);
            }
            if let Err(e) = self.fetch(ascending) {
                self.failed = true;
                return Some(Err(e));
            }
        }
    }
}

impl Iterator for PgIter {
    type Item = Result<Entry, PgError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.step(true)
    }
}

impl DoubleEndedIterator for PgIter {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.step(false)
    }
}
