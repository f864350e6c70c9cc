//! [`PgTree`]: one key-value tree of a store, the rows of `kv` with its name, with the method
//! set of the kit's tree interface (the same names and arguments as sled's). Single writes are
//! single statements (an upsert, a delete); a batch is one transaction.

use std::collections::BTreeMap;
use std::ops::{Bound, RangeBounds};

use futures_executor::block_on;
use sled::IVec;
use tokio_postgres::Client;
use tokio_postgres::types::Type;

use super::iter::{PgIter, prefix_end};
use super::{PgError, PgStore};

/// A tree of a [`PgStore`]. Cheap to clone.
#[derive(Clone)]
pub struct PgTree {
    store: PgStore,
    name: String,
}

impl std::fmt::Debug for PgTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTree").field("name", &self.name).finish()
    }
}

/// A batch's writes folded to one per key (the last wins, as in sled), split into the rows to
/// upsert and the keys to delete: each becomes one statement over arrays.
pub(crate) fn fold_writes<'a, K: Ord + Clone + 'a>(
    writes: impl IntoIterator<Item = (K, Option<&'a [u8]>)>,
) -> (Vec<K>, Vec<Vec<u8>>, Vec<K>) {
    let last: BTreeMap<K, Option<&[u8]>> = writes.into_iter().collect();
    let (mut put_keys, mut put_values, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    for (k, v) in last {
        match v {
            Some(v) => {
                put_keys.push(k);
                put_values.push(v.to_vec());
            }
            None => removed.push(k),
        }
    }
    (put_keys, put_values, removed)
}

impl PgTree {
    pub(crate) fn new(store: PgStore, name: &str) -> Self {
        Self {
            store,
            name: name.to_owned(),
        }
    }

    /// The tree's name.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<IVec>, PgError> {
        let key = key.as_ref();
        self.with(|c, tree| {
            let row = block_on(c.query_typed_opt(
                "SELECT value FROM kv WHERE tree = $1 AND key = $2",
                &[(&tree, Type::TEXT), (&key, Type::BYTEA)],
            ))?;
            Ok(row.map(|r| IVec::from(r.get::<_, Vec<u8>>(0))))
        })
    }

    /// The values of `keys`, in their order: one round trip, whatever their number.
    pub fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<IVec>>, PgError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let mut found = self.with(|c, tree| {
            let rows = block_on(c.query_typed(
                "SELECT key, value FROM kv WHERE tree = $1 AND key = ANY($2)",
                &[(&tree, Type::TEXT), (&wanted, Type::BYTEA_ARRAY)],
            ))?;
            Ok(rows
                .into_iter()
                .map(|r| (r.get::<_, Vec<u8>>(0), IVec::from(r.get::<_, Vec<u8>>(1))))
                .collect::<BTreeMap<Vec<u8>, IVec>>())
        })?;
        Ok(keys.iter().map(|k| found.remove(k)).collect())
    }

    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool, PgError> {
        let key = key.as_ref();
        self.with(|c, tree| {
            let row = block_on(c.query_typed_one(
                "SELECT EXISTS (SELECT 1 FROM kv WHERE tree = $1 AND key = $2)",
                &[(&tree, Type::TEXT), (&key, Type::BYTEA)],
            ))?;
            Ok(row.get(0))
        })
    }

    pub fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<(), PgError> {
        let (key, value) = (key.as_ref(), value.as_ref());
        self.with(|c, tree| {
            block_on(c.execute_typed(
                "INSERT INTO kv (tree, key, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (tree, key) DO UPDATE SET value = excluded.value",
                &[
                    (&tree, Type::TEXT),
                    (&key, Type::BYTEA),
                    (&value, Type::BYTEA),
                ],
            ))
            .map(drop)
        })
    }

    pub fn remove(&self, key: impl AsRef<[u8]>) -> Result<(), PgError> {
        let key = key.as_ref();
        self.with(|c, tree| {
            block_on(c.execute_typed(
                "DELETE FROM kv WHERE tree = $1 AND key = $2",
                &[(&tree, Type::TEXT), (&key, Type::BYTEA)],
            ))
            .map(drop)
        })
    }

    /// Every entry in key order, fetched a page at a time.
    pub fn iter(&self) -> PgIter {
        PgIter::new(
            self.store.clone(),
            self.name.clone(),
            Bound::Unbounded,
            Bound::Unbounded,
        )
    }

    /// The entries with keys in `range`, in key order, fetched a page at a time.
    pub fn range(&self, range: impl RangeBounds<Vec<u8>>) -> PgIter {
        PgIter::new(
            self.store.clone(),
            self.name.clone(),
            range.start_bound().cloned(),
            range.end_bound().cloned(),
        )
    }

    /// The entries whose keys start with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> PgIter {
        let prefix = prefix.as_ref().to_vec();
        let end = prefix_end(&prefix).map_or(Bound::Unbounded, Bound::Excluded);
        PgIter::new(
            self.store.clone(),
            self.name.clone(),
            Bound::Included(prefix),
            end,
        )
    }

    pub fn len(&self) -> Result<usize, PgError> {
        self.with(|c, tree| {
            let row = block_on(c.query_typed_one(
                "SELECT count(*) FROM kv WHERE tree = $1",
                &[(&tree, Type::TEXT)],
            ))?;
            Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(usize::MAX))
        })
    }

    pub fn is_empty(&self) -> Result<bool, PgError> {
        Ok(!self.with(|c, tree| {
            let row = block_on(c.query_typed_one(
                "SELECT EXISTS (SELECT 1 FROM kv WHERE tree = $1)",
                &[(&tree, Type::TEXT)],
            ))?;
            Ok(row.get::<_, bool>(0))
        })?)
    }

    pub fn first(&self) -> Result<Option<(IVec, IVec)>, PgError> {
        self.end("SELECT key, value FROM kv WHERE tree = $1 ORDER BY key LIMIT 1")
    }

    pub fn last(&self) -> Result<Option<(IVec, IVec)>, PgError> {
        self.end("SELECT key, value FROM kv WHERE tree = $1 ORDER BY key DESC LIMIT 1")
    }

    fn end(&self, sql: &str) -> Result<Option<(IVec, IVec)>, PgError> {
        self.with(|c, tree| {
            let row = block_on(c.query_typed_opt(sql, &[(&tree, Type::TEXT)]))?;
            Ok(row.map(|r| {
                (
                    IVec::from(r.get::<_, Vec<u8>>(0)),
                    IVec::from(r.get::<_, Vec<u8>>(1)),
                )
            }))
        })
    }

    /// Removes every entry of the tree.
    pub fn clear(&self) -> Result<(), PgError> {
        self.with(|c, tree| {
            block_on(c.execute_typed("DELETE FROM kv WHERE tree = $1", &[(&tree, Type::TEXT)]))
                .map(drop)
        })
    }

    /// Applies `writes` (key, `Some(value)` to insert or `None` to remove; the last write of a
    /// key wins) atomically: one transaction, one statement per kind.
    pub fn apply_batch(&self, writes: &[(Vec<u8>, Option<Vec<u8>>)]) -> Result<(), PgError> {
        let (put_keys, put_values, removed) =
            fold_writes(writes.iter().map(|(k, v)| (k.clone(), v.as_deref())));
        self.with(|c, tree| {
            block_on(async {
                c.batch_execute("BEGIN").await?;
                let body = async {
                    if !removed.is_empty() {
                        c.execute_typed(
                            "DELETE FROM kv WHERE tree = $1 AND key = ANY($2)",
                            &[(&tree, Type::TEXT), (&removed, Type::BYTEA_ARRAY)],
                        )
                        .await?;
                    }
                    if !put_keys.is_empty() {
                        c.execute_typed(
                            "INSERT INTO kv (tree, key, value) \
                             SELECT $1, k, v FROM unnest($2::bytea[], $3::bytea[]) AS w(k, v) \
                             ON CONFLICT (tree, key) DO UPDATE SET value = excluded.value",
                            &[
                                (&tree, Type::TEXT),
                                (&put_keys, Type::BYTEA_ARRAY),
                                (&put_values, Type::BYTEA_ARRAY),
                            ],
                        )
                        .await?;
                    }
                    c.batch_execute("COMMIT").await
                };
                let result = body.await;
                if result.is_err() {
                    let _ = c.batch_execute("ROLLBACK").await;
                }
                result
            })
        })
    }

    /// Nothing to do: every write is durable when its statement returns.
    pub fn flush(&self) -> Result<(), PgError> {
        Ok(())
    }

    fn with<T>(
        &self,
        mut op: impl FnMut(&Client, &str) -> Result<T, tokio_postgres::Error>,
    ) -> Result<T, PgError> {
        self.store.with_client(|c| op(c, &self.name))
    }
}
