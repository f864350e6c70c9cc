//! The connection pool: at most `pool_size` connections, opened lazily and reopened after a
//! loss (a database restart costs the next call a reconnect, nothing more), each with the
//! store's `search_path` and `statement_timeout`. Connections are driven on the store's
//! private runtime; a connection attempt is bounded by `connect_timeout`, so a call while the
//! database is down fails with `Unavailable` instead of hanging. Units take at most all but
//! one connection (units waiting for the unit lock hold theirs), so the unit holding the lock
//! can always read through the pool.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, Connection, Socket};

use super::tls::{MakeRustls, RustlsStream};
use super::{PgConfig, PgError, SslMode};

/// What opening a connection needs (shared with the listener tasks, which must not keep the
/// store's runtime alive).
pub(crate) struct Connector {
    config: tokio_postgres::Config,
    tls: MakeRustls,
    pub(crate) schema: String,
    statement_timeout: Duration,
    connect_timeout: Duration,
}

pub(crate) type PgConnection = Connection<Socket, RustlsStream<Socket>>;

impl Connector {
    pub(crate) fn new(config: &PgConfig) -> Result<Self, PgError> {
        let (pg, mode) = config.parse()?;
        let roots = match (&config.ca_file, mode) {
            (_, SslMode::Disable) | (None, _) => None,
            (Some(path), _) => Some(
                std::fs::read(path)
                    .map_err(|e| PgError::Database(format!("CA file {}: {e}", path.display())))?,
            ),
        };
        Ok(Self {
            config: pg,
            tls: MakeRustls::new(roots.as_deref())?,
            schema: config.schema.clone(),
            statement_timeout: config.statement_timeout,
            connect_timeout: config.connect_timeout,
        })
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// A new session (not yet driven), its `search_path` and `statement_timeout` set once the
    /// caller drives the connection. Must run on the store's runtime (timers, sockets).
    pub(crate) async fn open(&self) -> Result<(Client, PgConnection), PgError> {
        match tokio::time::timeout(self.connect_timeout, self.config.connect(self.tls.clone()))
            .await
        {
            Ok(Ok(pair)) => Ok(pair),
            Ok(Err(e)) => Err(match PgError::from(e) {
                PgError::Database(m) => PgError::Unavailable(m),
                other => other,
            }),
            Err(_) => Err(PgError::Unavailable(format!(
                "no connection within {:?}",
                self.connect_timeout
            ))),
        }
    }

    /// Session settings every connection gets before its first use.
    pub(crate) async fn prepare(&self, client: &Client) -> Result<(), PgError> {
        // The server ends a session whose unit stalled between statements, or whose client
        // host vanished (keepalives), so the unit lock it holds cannot stop every other
        // replica's writes for longer than that; commits are synchronous whatever the
        // server's default, since an acknowledgement follows the commit.
        let sql = format!(
            "SET search_path TO {}; SET statement_timeout = {}; \
             SET idle_in_transaction_session_timeout = {}; SET tcp_keepalives_idle = 10; \
             SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3; \
             SET synchronous_commit = on",
            self.schema,
            self.statement_timeout.as_millis().max(1),
            self.statement_timeout.as_millis().max(1),
        );
        let setup = client.batch_execute(&sql);
        match tokio::time::timeout(self.connect_timeout, setup).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(PgError::Unavailable("session set-up timed out".into())),
        }
    }

    /// A connection driven on the current (the store's) runtime, ready to use.
    pub(crate) async fn connect(&self) -> Result<Client, PgError> {
        let (client, connection) = self.open().await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "PostgreSQL connection ended");
            }
        });
        self.prepare(&client).await?;
        Ok(client)
    }
}

/// Idle connections and the permits that bound how many exist.
pub(crate) struct Pool {
    pub(crate) connector: Arc<Connector>,
    idle: Mutex<Vec<Client>>,
    permits: Arc<Semaphore>,
    /// Units under way, at most `size - 1`: units waiting for the unit lock hold connections,
    /// and the unit holding it must still get one for its reads through the trees.
    unit_permits: Arc<Semaphore>,
}

/// A connection checked out of the pool; back to it on drop unless it was lost.
pub(crate) struct Conn {
    client: Option<Client>,
    pool: Arc<Pool>,
    /// Reused from the pool (not opened for this call): a failure may just mean it went stale.
    pub(crate) reused: bool,
    _permit: OwnedSemaphorePermit,
}

impl Conn {
    pub(crate) fn client(&self) -> &Client {
        // Present from checkout until drop.
        self.client
            .as_ref()
            .expect("a checked-out connection has its client")
    }

    /// Forget the connection (its session state is unknown): the next checkout opens anew.
    pub(crate) fn discard(&mut self) {
        self.client = None;
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(client) = self.client.take()
            && !client.is_closed()
            && let Ok(mut idle) = self.pool.idle.lock()
        {
            idle.push(client);
        }
    }
}

impl Pool {
    pub(crate) fn new(connector: Arc<Connector>, size: usize) -> Self {
        Self {
            connector,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(size)),
            unit_permits: Arc::new(Semaphore::new(size.saturating_sub(1).max(1))),
        }
    }

    /// A place among the units under way (waits while all are taken).
    pub(crate) async fn unit_permit(self: Arc<Self>) -> Result<OwnedSemaphorePermit, PgError> {
        self.unit_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| PgError::Unavailable("the store is closing".into()))
    }

    /// An idle open connection with a free permit, taken without waiting (no runtime hop:
    /// the common case of every call).
    pub(crate) fn try_checkout(self: &Arc<Self>) -> Option<Conn> {
        let permit = self.permits.clone().try_acquire_owned().ok()?;
        let client = {
            let mut idle = self.idle.lock().ok()?;
            idle.retain(|c| !c.is_closed());
            idle.pop()?
        };
        Some(Conn {
            client: Some(client),
            pool: self.clone(),
            reused: true,
            _permit: permit,
        })
    }

    /// A connection: an idle one that is still open, or a new one. Runs on the store's runtime.
    pub(crate) async fn checkout(self: Arc<Self>) -> Result<Conn, PgError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| PgError::Unavailable("the store is closing".into()))?;
        let reusable = {
            let mut idle = self
                .idle
                .lock()
                .map_err(|_| PgError::Database("pool lock poisoned".into()))?;
            idle.retain(|c| !c.is_closed());
            idle.pop()
        };
        let (client, reused) = match reusable {
            Some(c) => (c, true),
            None => (self.connector.connect().await?, false),
        };
        Ok(Conn {
            client: Some(client),
            pool: self,
            reused,
            _permit: permit,
        })
    }
}
