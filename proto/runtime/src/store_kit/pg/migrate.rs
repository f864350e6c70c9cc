//! Versioned migrations of a store's schema, recorded in `schema_migrations(version, name,
//! applied_at)`. Each runs in its own transaction, all under a session advisory lock (per
//! schema), so replicas starting together apply each migration once. A database that has
//! recorded a version newer than this build knows is refused: an older binary must not write
//! a layout it does not understand.
//!
//! Numbering: versions 1..=99 are the store kit's ([`BASE_MIGRATIONS`], applied first by
//! [`super::PgStore::connect`]); a caller's own migrations start at 100, in increasing order,
//! and are never renumbered or edited once released (append a new one instead).

use futures_executor::block_on;
use tokio_postgres::types::Type;

use super::{PgError, PgStore};

/// One step of a schema: SQL run once, in a transaction, with the store's `search_path`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// The kit's own migrations (versions 1..=99): the key-value table of every [`super::PgTree`].
pub const BASE_MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "kv",
    sql: "CREATE TABLE kv (tree text NOT NULL, key bytea NOT NULL, value bytea NOT NULL, \
          PRIMARY KEY (tree, key))",
}];

/// The first version a caller's migration may have.
pub const FIRST_CALLER_VERSION: u32 = 100;

/// Advisory lock class of migrations (the second key is the schema's hash).
const MIGRATION_LOCK_CLASS: i32 = 0x736f_6d00;

/// Checks the caller's list, then applies what the database lacks.
pub(crate) fn apply(store: &PgStore, migrations: &[Migration]) -> Result<(), PgError> {
    let mut previous = 0;
    for (i, m) in BASE_MIGRATIONS.iter().chain(migrations).enumerate() {
        let base = i < BASE_MIGRATIONS.len();
        if !base && m.version < FIRST_CALLER_VERSION {
            return Err(PgError::Database(format!(
                "migration {} ({}): caller migrations start at {FIRST_CALLER_VERSION}",
                m.version, m.name
            )));
        }
        if m.version <= previous {
            return Err(PgError::Database(format!(
                "migration {} ({}) is not after {previous}: versions must increase",
                m.version, m.name
            )));
        }
        previous = m.version;
    }
    let newest = previous;
    let all: Vec<Migration> = BASE_MIGRATIONS.iter().chain(migrations).copied().collect();
    // A session of its own, closed at the end: the session lock goes with it.
    let connector = store.connector();
    let client = store.run(async move { connector.connect().await })?;
    let schema = store.schema().to_owned();
    let run = async {
        // Waiting for another replica's migrations, and a long migration, are not bounded by
        // the statement timeout of ordinary calls.
        client.batch_execute("SET statement_timeout = 0").await?;
        client
            .execute_typed(
                "SELECT pg_advisory_lock($1, hashtext($2))",
                &[(&MIGRATION_LOCK_CLASS, Type::INT4), (&schema, Type::TEXT)],
            )
            .await?;
        client
            .batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {schema}; \
                 CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, \
                 name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            ))
            .await?;
        let rows = client
            .query(
                "SELECT version FROM schema_migrations ORDER BY version",
                &[],
            )
            .await?;
        let recorded: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
        if let Some(&max) = recorded.last()
            && i64::from(max) > i64::from(newest)
        {
            return Ok(Err(PgError::Database(format!(
                "the database schema {schema} is at version {max}, newer than this build \
                 knows ({newest}): upgrade this binary"
            ))));
        }
        for m in &all {
            let version = i32::try_from(m.version).unwrap_or(i32::MAX);
            if recorded.contains(&version) {
                continue;
            }
            client.batch_execute("BEGIN").await?;
            let step = async {
                client.batch_execute(m.sql).await?;
                client
                    .execute_typed(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        &[(&version, Type::INT4), (&m.name, Type::TEXT)],
                    )
                    .await?;
                client.batch_execute("COMMIT").await
            };
            if let Err(e) = step.await {
                let _ = client.batch_execute("ROLLBACK").await;
                return Ok(Err(PgError::Database(format!(
                    "migration {} ({}): {}",
                    m.version,
                    m.name,
                    PgError::from(e)
                ))));
            }
            tracing::info!(version = m.version, name = m.name, schema = %schema, "applied migration");
        }
        Ok::<_, tokio_postgres::Error>(Ok(()))
    };
    block_on(run)?
}
