//! The store kit's PostgreSQL backend: the key-value trees of a store in one table
//! `kv (tree, key, value)` (bytea sorts bytewise, so range scans are key-ordered like sled),
//! plus what several replicas over one database need: a connection pool with rustls TLS,
//! versioned migrations, unit transactions serialised by one advisory lock, LISTEN/NOTIFY and
//! raw SQL for a caller's own tables.
//!
//! The API is blocking, like the sled stores it stands beside: connections are tokio-postgres
//! sessions driven on a small private runtime owned by [`PgStore`], and callers wait with
//! `futures_executor::block_on`, which works on any thread, also inside a caller's tokio task
//! (tokio's own `block_on` would panic there).
//!
//! - [`config`]: [`PgConfig`] (URL, `sslmode`, CA file, schema, pool, timeouts).
//! - [`pool`]: connections, opened lazily and reopened after a loss.
//! - [`migrate`]: [`Migration`]s recorded in `schema_migrations`, applied under a lock.
//! - [`tree`] and [`iter`]: [`PgTree`], the tree interface, and its paged [`PgIter`].
//! - [`unit`]: [`PgUnit`], one transaction holding the store's unit lock.
//! - [`listen`]: [`PgStore::subscribe`], notifications and reconnect events.
//! - [`tls`]: rustls behind tokio-postgres.

pub mod config;
mod error;
pub mod iter;
pub mod listen;
pub mod migrate;
mod pool;
mod tls;
pub mod tree;
pub mod unit;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_faults;
#[cfg(test)]
mod tests_store;

use std::sync::{Arc, Mutex};

use futures_executor::block_on;
use tokio::runtime::{Handle, Runtime};
use tokio_postgres::Client;

pub use config::{PgConfig, SslMode};
pub use error::PgError;
pub use iter::PgIter;
pub use listen::PgEvent;
pub use migrate::{BASE_MIGRATIONS, Migration};
pub use tokio_postgres::Row;
pub use tokio_postgres::types::ToSql;
pub use tree::PgTree;
pub use unit::{PgUnit, TreeWrite};

use pool::{Conn, Connector, Pool};

/// A store in one PostgreSQL schema. Cheap to clone (shared inside); the private runtime
/// stops when the last clone (and every tree, iterator and unit of it) is gone.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Arc<Pool>,
    handle: Handle,
    runtime: Mutex<Option<Runtime>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle may be dropped inside a caller's async context, where dropping a
        // runtime panics: shut it down without waiting.
        if let Some(rt) = self.runtime.lock().ok().and_then(|mut r| r.take()) {
            rt.shutdown_background();
        }
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("schema", &self.inner.pool.connector.schema)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects, creates the schema when missing and applies [`BASE_MIGRATIONS`] and then the
    /// caller's `migrations` (versions from 100 up) that the database has not recorded.
    /// Refuses a database whose recorded version is newer than the newest known here.
    pub fn connect(config: &PgConfig, migrations: &[Migration]) -> Result<PgStore, PgError> {
        let connector = Arc::new(Connector::new(config)?);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("socfed-pg")
            .enable_all()
            .build()
            .map_err(|e| PgError::Database(format!("PostgreSQL runtime: {e}")))?;
        let store = PgStore {
            inner: Arc::new(Inner {
                pool: Arc::new(Pool::new(connector, config.pool_size)),
                handle: runtime.handle().clone(),
                runtime: Mutex::new(Some(runtime)),
            }),
        };
        migrate::apply(&store, migrations)?;
        Ok(store)
    }

    /// The tree `name` (rows of `kv` with `tree = name`; nothing to create).
    pub fn tree(&self, name: &str) -> PgTree {
        PgTree::new(self.clone(), name)
    }

    /// Runs a statement outside any unit (autocommit); the number of rows it touched.
    pub fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, PgError> {
        let conn = self.checkout()?;
        let result = block_on(conn.client().execute(sql, params));
        Ok(result?)
    }

    /// Runs a query outside any unit (autocommit); all its rows.
    pub fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, PgError> {
        let conn = self.checkout()?;
        let result = block_on(conn.client().query(sql, params));
        Ok(result?)
    }

    /// The schema the store lives in.
    pub fn schema(&self) -> &str {
        &self.inner.pool.connector.schema
    }

    /// Runs `fut` on the private runtime and waits for it from this thread.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        fut: impl Future<Output = Result<T, PgError>> + Send + 'static,
    ) -> Result<T, PgError> {
        match block_on(self.inner.handle.spawn(fut)) {
            Ok(result) => result,
            Err(e) => Err(PgError::Unavailable(format!("PostgreSQL runtime: {e}"))),
        }
    }

    pub(crate) fn handle(&self) -> &Handle {
        &self.inner.handle
    }

    pub(crate) fn pool(&self) -> &Arc<Pool> {
        &self.inner.pool
    }

    pub(crate) fn connector(&self) -> Arc<Connector> {
        self.inner.pool.connector.clone()
    }

    /// A pooled connection (waits while all `pool_size` are checked out).
    pub(crate) fn checkout(&self) -> Result<Conn, PgError> {
        if let Some(conn) = self.inner.pool.try_checkout() {
            return Ok(conn);
        }
        self.run(self.inner.pool.clone().checkout())
    }

    /// Runs an idempotent operation on a pooled connection. A pooled connection can have gone
    /// stale (the database restarted since it was last used): the operation is then retried
    /// on another, up to a fresh one, so a restart costs the next call only a reconnect.
    pub(crate) fn with_client<T>(
        &self,
        mut op: impl FnMut(&Client) -> Result<T, tokio_postgres::Error>,
    ) -> Result<T, PgError> {
        loop {
            let mut conn = self.checkout()?;
            match op(conn.client()) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    let lost = conn.client().is_closed();
                    let retry = lost && conn.reused;
                    if lost {
                        conn.discard();
                    }
                    if !retry {
                        return Err(e.into());
                    }
                }
            }
        }
    }
}
