//! The hub store on PostgreSQL (`[store] kind = "postgres"`), shared by every hub replica.
//!
//! The trees are the same as sled's, as rows of the kit's `kv` table
//! (`socfed_runtime::store_kit::pg`): every query and unit of work of `store/` runs unchanged.
//! What sled keeps beside its trees lives in two tables of this module's migrations:
//!
//! - `escalation_journal (id, entry)`: every escalation as received. Written by the unit that
//!   indexes it, in the same transaction, so the two commit together and there is nothing to
//!   replay at start (sled's journal is appended before its unit; see `store/journal`). Ids
//!   come from a sequence: unique across replicas, never reused.
//! - `escalation_keys (site, epoch, seq)`, primary key: one row per stored escalation, inserted
//!   by the unit that stores it. Exactly once is then a constraint of the database, checked in
//!   the transaction that stores the escalation, whatever any replica holds in memory: a unit
//!   that would store a key twice fails as a whole and nothing of it is acknowledged.
//!
//! Units of work from every replica run one at a time: each holds the kit's unit lock (a
//! transaction-scoped advisory lock) from its first read to its commit. The hub keeps one
//! audit chain and one event log, both total orders whose next entry depends on the last one,
//! so every unit that audits or records an event is serial by nature, and a finer lock (per
//! correlation fingerprint) would add deadlock cases without letting any more units run at
//! once. Correlation is race-free for the same reason: two replicas storing matching reports
//! run their units one after the other, and the second sees the first's incident.
//!
//! What a replica holds in memory about the trees (the delivery marks, the fingerprint
//! generations) stays exact: each unit reads the store's commit counter under the lock, and
//! when another replica committed since this one's last unit, the unit reloads what it uses
//! (`unit/mod.rs`).

use super::journal::JournalEntry;
use super::schema::{self, TreeId};
use super::{Backend, HubStore, StoreError, Trees};
use socfed_runtime::store_kit::kv;
use socfed_runtime::store_kit::pg::{Migration, PgConfig, PgStore};
use socfed_runtime::store_kit::{self, TreeSet};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The hub's tables beside the kit's `kv` (versions from 100; the kit keeps 1..=99).
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 100,
        name: "hub escalation journal",
        sql: "CREATE SEQUENCE escalation_journal_ids; \
              CREATE TABLE escalation_journal (id bigint PRIMARY KEY, entry bytea NOT NULL)",
    },
    Migration {
        version: 101,
        name: "hub idempotency keys",
        sql: "CREATE TABLE escalation_keys (site text NOT NULL, epoch bytea NOT NULL, \
              seq bigint NOT NULL, journal bigint NOT NULL, PRIMARY KEY (site, epoch, seq))",
    },
];

/// The hub's share of a PostgreSQL store: the connection pool and what this replica keeps
/// about it.
pub struct Shared {
    pub pg: PgStore,
    /// This replica's name, as its wakes carry it (`crate::replicas`).
    pub replica: String,
    /// Journal entries appended and not yet written by a unit: id → encoded entry.
    pending_journal: Mutex<BTreeMap<u64, Vec<u8>>>,
    /// The store's commit counter after this replica's last unit; another value at the start
    /// of a unit means another replica committed meanwhile.
    seen_commits: AtomicU64,
}

impl Shared {
    pub fn new(pg: PgStore, replica: String, commits: u64) -> Self {
        Self {
            pg,
            replica,
            pending_journal: Mutex::new(BTreeMap::new()),
            seen_commits: AtomicU64::new(commits),
        }
    }

    /// Takes ids for `entries` from the journal sequence and keeps the entries until the unit
    /// that indexes them writes them ([`Shared::take_journal`]).
    pub fn journal_append(&self, entries: &[JournalEntry]) -> Result<Vec<u64>, StoreError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let encoded = entries
            .iter()
            .map(|e| e.encode())
            .collect::<Result<Vec<_>, _>>()?;
        let count = i64::try_from(entries.len()).unwrap_or(i64::MAX);
        let rows = self
            .pg
            .query(
                "SELECT nextval('escalation_journal_ids') FROM generate_series(1, $1::bigint)",
                &[&count],
            )
            .map_err(kv)?;
        let ids: Vec<u64> = rows
            .iter()
            .map(|row| u64::try_from(row.get::<_, i64>(0)).unwrap_or_default())
            .collect();
        let mut pending = self
            .pending_journal
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // Entries a failed batch left here were never acknowledged (the site resends them
        // under new ids): only this writer's latest batch is kept.
        pending.retain(|id, _| ids.first().is_some_and(|first| id >= first));
        pending.extend(ids.iter().copied().zip(encoded));
        Ok(ids)
    }

    /// The entries under `ids`, for the unit that indexes them; a missing one fails the unit
    /// (its index would name a journal row that does not exist).
    pub fn take_journal(&self, ids: &[u64]) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        let mut pending = self
            .pending_journal
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        ids.iter()
            .map(|id| {
                let entry = pending.remove(id).ok_or_else(|| {
                    StoreError::Journal(super::journal::JournalError::Codec(format!(
                        "journal entry {id} is not held for its unit"
                    )))
                })?;
                Ok((i64::from_be_bytes(id.to_be_bytes()), entry))
            })
            .collect()
    }

    /// The escalation as received under journal id `id`.
    pub fn journal_entry(&self, id: u64) -> Result<JournalEntry, StoreError> {
        let key = i64::try_from(id).unwrap_or(i64::MAX);
        let rows = self
            .pg
            .query(
                "SELECT entry FROM escalation_journal WHERE id = $1",
                &[&key],
            )
            .map_err(kv)?;
        let Some(row) = rows.first() else {
            return Err(StoreError::Journal(super::journal::JournalError::Codec(
                format!("no journal entry {id}"),
            )));
        };
        Ok(JournalEntry::decode(&row.get::<_, Vec<u8>>(0))?)
    }

    /// Whether another replica committed since this replica's last unit (read under the
    /// unit lock).
    pub fn others_committed(&self, commits: u64) -> bool {
        self.seen_commits.load(Ordering::Acquire) != commits
    }

    /// After a commit whose outcome is unknown: the next unit reads everything again.
    pub fn forget_commits(&self) {
        self.seen_commits.store(u64::MAX, Ordering::Release);
    }

    /// Records the commit counter this replica's unit left.
    pub fn committed(&self, commits: u64) {
        self.seen_commits.store(commits, Ordering::Release);
    }
}

/// A PostgreSQL error as the store reports it.
pub fn kv(e: socfed_runtime::store_kit::pg::PgError) -> StoreError {
    StoreError::Kv(e.into())
}

impl HubStore {
    /// Opens the hub store in the PostgreSQL schema of `config` as replica `replica`: applies
    /// the schema's migrations, checks the audit key, and reads what this replica keeps in
    /// memory. Replicas opening at once take turns (the unit lock is held throughout).
    pub fn open_postgres(
        config: &PgConfig,
        replica: String,
        durability: super::Durability,
        audit_key: socfed_runtime::audit::ChainKey,
    ) -> Result<Self, StoreError> {
        let pg = PgStore::connect(config, MIGRATIONS).map_err(kv)?;
        let opening = pg.begin_unit().map_err(kv)?;
        let registry = store_kit::Trees::<TreeId, kv::Tree>::open_with(|id| {
            Ok::<_, StoreError>(kv::Tree::Pg(pg.tree(id.name())))
        })?;
        let trees = Trees::of(&registry);
        let found = super::schema_version(&trees.meta)?;
        match found {
            // Rows without a version: a `db migrate` that stopped before its end (it writes
            // the version last), not a store to start on.
            None if !pg
                .query("SELECT 1 FROM kv LIMIT 1", &[])
                .map_err(kv)?
                .is_empty() =>
            {
                return Err(StoreError::Damaged {
                    dir: PathBuf::from(format!("postgres schema {}", pg.schema())),
                    reason: "it holds an incomplete copy (a `sirt-hub db migrate` that did not finish): drop the schema and migrate again".into(),
                });
            }
            None => trees.meta.insert(
                schema::SCHEMA_VERSION_KEY,
                schema::SCHEMA_VERSION.to_be_bytes(),
            )?,
            // A PostgreSQL store starts at this schema (`sirt-hub db migrate` copies an
            // upgraded sled store); a later build brings its own upgrade steps.
            Some(found) if found != schema::SCHEMA_VERSION => {
                return Err(StoreError::SchemaVersion {
                    found,
                    expected: schema::SCHEMA_VERSION,
                });
            }
            Some(_) => {}
        }
        let dir = PathBuf::from(format!("postgres schema {}", pg.schema()));
        super::keyed_from(&dir, &trees.meta, &audit_key)?;
        super::index_open_directives(&trees)?;
        let commits = match trees.meta.get(schema::COMMITS)? {
            Some(raw) => schema::u64_value(schema::META, &raw)?,
            None => 0,
        };
        // The lock only for the checks and writes above: the reads below scan whole trees, and
        // other replicas' units wait for the lock. What commits meanwhile moves the commit
        // counter past `commits`, so this replica's first unit reads the marks back.
        opening.commit().map_err(kv)?;
        let marks =
            super::marks::Marks::rebuild(&trees.epochs, registry.tree(TreeId::Escalations))?;
        // The generations for pruning; lookups ask the database, not the filters.
        let fingerprint_gens =
            super::fingerprint_generations(registry.tree(TreeId::Fingerprints))?.shared();
        Ok(Self {
            backend: Backend::Postgres(Shared::new(pg, replica, commits)),
            dir,
            trees,
            registry,
            write_lock: std::sync::Mutex::new(()),
            audit_key,
            ops: store_kit::ops::OpMeter::new(super::OPS_METRIC),
            durability,
            marks: std::sync::Mutex::new(marks),
            fingerprint_gens: std::sync::Mutex::new(fingerprint_gens),
        })
    }

    /// The PostgreSQL store this hub shares with its other replicas, if it is on one.
    pub fn shared(&self) -> Option<&Shared> {
        match &self.backend {
            Backend::Postgres(shared) => Some(shared),
            Backend::Sled { .. } => None,
        }
    }
}

/// With `SOCFED_HUB_TEST_STORE=postgres` (and the test database of `.ci/postgres`): the
/// PostgreSQL schema that stands for the sled store at `dir` in the store tests, the same for
/// every open of that directory, so a test that reopens its store finds what it wrote.
#[cfg(test)]
pub fn test_database_for(dir: &std::path::Path) -> Option<PgConfig> {
    if std::env::var("SOCFED_HUB_TEST_STORE").ok()? != "postgres" {
        return None;
    }
    let url = std::env::var("SOCFED_TEST_PG_URL")
        .expect("SOCFED_HUB_TEST_STORE=postgres needs SOCFED_TEST_PG_URL (.ci/postgres start)");
    let hash = blake3::hash(dir.as_os_str().as_encoded_bytes());
    let mut config = PgConfig::new(url);
    config.ca_file = std::env::var_os("SOCFED_TEST_PG_CA").map(PathBuf::from);
    config.schema = format!("hub_{}", &hash.to_hex()[..20]);
    Some(config)
}

/// Whether the store tests run on PostgreSQL: the tests of what only sled has (its files,
/// legacy upgrades, the layout dump) have nothing to test there.
#[cfg(test)]
pub fn testing_on_postgres() -> bool {
    std::env::var("SOCFED_HUB_TEST_STORE").is_ok_and(|v| v == "postgres")
}
