//! [`PgUnit`]: one unit of work as one transaction holding the store's unit lock (a
//! transaction-scoped advisory lock keyed by the schema), so units across every replica over
//! the database run one at a time: the hub's audit chain and event log stay total orders.
//! Tree writes go in batched statements over arrays; the caller's own tables are reached with
//! [`PgUnit::execute`] and [`PgUnit::query`] in the same transaction; notifications are sent
//! at commit. Dropped without [`PgUnit::commit`], the transaction is rolled back.

use futures_executor::block_on;
use sled::IVec;
use tokio::sync::OwnedSemaphorePermit;
use tokio_postgres::types::Type;

use super::pool::Conn;
use super::tree::fold_writes;
use super::{PgError, PgStore, Row, ToSql};

/// Advisory lock class of units (the second key is the schema's hash).
const UNIT_LOCK_CLASS: i32 = 0x736f_7500;

/// One tree write of a unit: tree, key, `Some(value)` to insert or `None` to remove.
pub type TreeWrite = (String, Vec<u8>, Option<Vec<u8>>);

/// An open unit transaction (see the module doc).
pub struct PgUnit {
    store: PgStore,
    conn: Option<Conn>,
    _place: OwnedSemaphorePermit,
}

impl std::fmt::Debug for PgUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgUnit").finish_non_exhaustive()
    }
}

impl PgStore {
    /// Begins a unit: a pooled connection, `BEGIN`, then the unit lock (waits while another
    /// unit, on any replica, holds it).
    pub fn begin_unit(&self) -> Result<PgUnit, PgError> {
        let schema = self.schema().to_owned();
        let place = self.run(self.pool().clone().unit_permit())?;
        loop {
            let mut conn = self.checkout()?;
            let begun = block_on(async {
                let c = conn.client();
                c.batch_execute("BEGIN").await?;
                c.execute_typed(
                    "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                    &[(&UNIT_LOCK_CLASS, Type::INT4), (&schema, Type::TEXT)],
                )
                .await
            });
            match begun {
                Ok(_) => {
                    return Ok(PgUnit {
                        store: self.clone(),
                        conn: Some(conn),
                        _place: place,
                    });
                }
                Err(e) => {
                    // A stale pooled connection (the database restarted): try another.
                    let retry = conn.client().is_closed() && conn.reused;
                    conn.discard();
                    if !retry {
                        return Err(e.into());
                    }
                }
            }
        }
    }
}

impl PgUnit {
    fn conn(&mut self) -> Result<&mut Conn, PgError> {
        self.conn
            .as_mut()
            .ok_or_else(|| PgError::Database("the unit has ended".into()))
    }

    /// Runs a statement of the unit; a failure ends the unit (rolled back).
    fn guard<T>(&mut self, result: Result<T, tokio_postgres::Error>) -> Result<T, PgError> {
        result.map_err(|e| {
            self.abort();
            e.into()
        })
    }

    /// A tree's value as this transaction sees it.
    pub fn get(&mut self, tree: &str, key: &[u8]) -> Result<Option<IVec>, PgError> {
        let conn = self.conn()?;
        let row = block_on(conn.client().query_typed_opt(
            "SELECT value FROM kv WHERE tree = $1 AND key = $2",
            &[(&tree, Type::TEXT), (&key, Type::BYTEA)],
        ));
        Ok(self.guard(row)?.map(|r| IVec::from(r.get::<_, Vec<u8>>(0))))
    }

    /// Tree writes (tree, key, `Some(value)` or `None` to remove; the last write of a key
    /// wins): one delete and one upsert statement over arrays, whatever their number.
    pub fn apply(&mut self, writes: &[TreeWrite]) -> Result<(), PgError> {
        let (puts, values, removed) = fold_writes(
            writes
                .iter()
                .map(|(t, k, v)| ((t.as_str(), k.as_slice()), v.as_deref())),
        );
        let (put_trees, put_keys): (Vec<&str>, Vec<&[u8]>) = puts.into_iter().unzip();
        let (del_trees, del_keys): (Vec<&str>, Vec<&[u8]>) = removed.into_iter().unzip();
        let conn = self.conn()?;
        let result = block_on(async {
            let c = conn.client();
            if !del_keys.is_empty() {
                c.execute_typed(
                    "DELETE FROM kv USING unnest($1::text[], $2::bytea[]) AS w(t, k) \
                     WHERE kv.tree = w.t AND kv.key = w.k",
                    &[
                        (&del_trees, Type::TEXT_ARRAY),
                        (&del_keys, Type::BYTEA_ARRAY),
                    ],
                )
                .await?;
            }
            if !put_keys.is_empty() {
                c.execute_typed(
                    "INSERT INTO kv (tree, key, value) \
                     SELECT t, k, v FROM unnest($1::text[], $2::bytea[], $3::bytea[]) AS w(t, k, v) \
                     ON CONFLICT (tree, key) DO UPDATE SET value = excluded.value",
                    &[
                        (&put_trees, Type::TEXT_ARRAY),
                        (&put_keys, Type::BYTEA_ARRAY),
                        (&values, Type::BYTEA_ARRAY),
                    ],
                )
                .await?;
            }
            Ok(())
        });
        self.guard(result)
    }

    /// A statement on the caller's own tables, in this transaction; rows touched.
    pub fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, PgError> {
        let conn = self.conn()?;
        let result = block_on(conn.client().execute(sql, params));
        self.guard(result)
    }

    /// A query in this transaction.
    pub fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, PgError> {
        let conn = self.conn()?;
        let result = block_on(conn.client().query(sql, params));
        self.guard(result)
    }

    /// Queues a notification on `channel`; listeners get it when (and only if) the unit commits.
    /// PostgreSQL limits a payload to 8000 bytes: send a key to read, not the record.
    pub fn notify(&mut self, channel: &str, payload: &str) -> Result<(), PgError> {
        let conn = self.conn()?;
        let result = block_on(conn.client().execute_typed(
            "SELECT pg_notify($1, $2)",
            &[(&channel, Type::TEXT), (&payload, Type::TEXT)],
        ));
        self.guard(result).map(drop)
    }

    /// Commits every write of the unit and releases the unit lock.
    pub fn commit(mut self) -> Result<(), PgError> {
        let conn = self.conn()?;
        let result = block_on(conn.client().batch_execute("COMMIT"));
        let committed = self.guard(result);
        if committed.is_ok() {
            // Back to the pool, its transaction closed.
            self.conn = None;
        }
        committed
    }

    /// Rolls back on the store's runtime (without waiting) and returns the connection then.
    fn abort(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.store.handle().spawn(async move {
                let mut conn = conn;
                if conn.client().batch_execute("ROLLBACK").await.is_err() {
                    conn.discard();
                }
            });
        }
    }
}

impl Drop for PgUnit {
    fn drop(&mut self) {
        self.abort();
    }
}
