//! The hub's durable state. The only module that touches sled: trees and key layouts are in
//! [`schema`], values in [`records`], typed writes in the unit of work ([`unit`]), reads in
//! [`query`]. It persists and answers; what to write is decided by the application
//! (`crate::ingest::apply`).
//!
//! The trees are the storage interface's (`socfed_runtime::store_kit::kv`), so that the store's
//! reads, units and upgrades serve a second backend unchanged; sled is named only where the
//! store is sled's: opening it ([`HubStore::open`]), the durable flush and the witness, the
//! layout text ([`layout`]) and `db check` (which read the raw database).
//!
//! Durability: a `commit` flushes sled and then, in `Durability::Fsync` mode, `fdatasync`s the
//! data file, because sled's own flush only guarantees survival of a process crash.
//!
//! Escalations as received live outside sled, in the append-only [`journal`]: appended and
//! synced before the unit that indexes them, re-applied at start-up from the index's applied
//! mark (`crate::ingest::replay`).

mod audit_log;
pub mod check;
pub mod fingerprint_gens;
pub mod journal;
pub mod layout;
mod legacy;
pub mod marks;
pub mod migrate;
pub mod postgres;
pub mod query;
mod query_directives;
mod query_enrolment;
mod query_events;
mod query_index;
mod query_library;
mod query_observables;
mod query_response;
mod query_runbooks;
mod query_search;
pub(crate) mod query_states;
mod query_web;
pub mod records;
pub mod schema;
pub mod unit;
mod upgrade;
pub mod wake;

use schema::{CodecError, TreeId};
use socfed_runtime::store_kit;
use socfed_runtime::store_kit::kv::{self, KvError};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store at {path}: {source}")]
    Open { path: PathBuf, source: sled::Error },
    #[error(
        "store schema version {found} is newer than this build understands ({expected}); upgrade socfed"
    )]
    SchemaVersion { found: u32, expected: u32 },
    #[error("storage: {0}")]
    Sled(#[from] sled::Error),
    /// The store's database failed or cannot be reached (a sled failure is `Sled`).
    #[error(transparent)]
    Kv(KvError),
    #[error("storage sync: {0}")]
    Sync(#[from] std::io::Error),
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error("the store at {dir} is damaged: {reason}")]
    Damaged { dir: PathBuf, reason: String },
    #[error("the hub's store failed and the hub is stopping; it stores again once restarted")]
    Stopped,
    #[error(
        "the audit chain of the store at {dir} was sealed with another audit key than the one given; restore the hub's `.audit-key` file (beside its TLS key) from the backup of that directory"
    )]
    AuditKey { dir: PathBuf },
}

impl StoreError {
    /// A storage failure: sled takes no more writes after one, so the hub stops (the ingest
    /// writer, the journal replay). Other errors (a record that does not decode) fail only
    /// the batch that met them. A database's failure ([`StoreError::Kv`]: unreachable, a
    /// query that failed, a conflict) does not stop the hub either: the database keeps its
    /// own state consistent (a failed transaction changed nothing), an outage is transient,
    /// and a hub that stopped would only be restarted into the same outage; it refuses with
    /// UNAVAILABLE and the sender retries.
    pub fn stops_the_store(&self) -> bool {
        matches!(
            self,
            StoreError::Sled(_) | StoreError::Sync(_) | StoreError::Journal(_)
        )
    }
}

impl From<KvError> for StoreError {
    fn from(e: KvError) -> Self {
        match e {
            KvError::Sled(e) => StoreError::Sled(e),
            other => StoreError::Kv(other),
        }
    }
}

fn witness_error(dir: &Path, e: socfed_runtime::witness::WitnessError) -> StoreError {
    match e {
        socfed_runtime::witness::WitnessError::Behind(reason) => StoreError::Damaged {
            dir: dir.to_path_buf(),
            reason,
        },
        socfed_runtime::witness::WitnessError::Io(e) => StoreError::Sync(e),
    }
}

/// The witness tag of a hub store (agents use their store epoch).
const HUB_TAG: u128 = 0x736f_6366_6564_2d68_7562;

pub use query_directives::{DirectiveFilter, DirectivesPage, Visibility};
pub use query_response::HuntsPage;
pub use socfed_runtime::config::Durability;

pub(crate) struct Trees {
    pub incidents: kv::Tree,
    pub site_incidents: kv::Tree,
    pub status_incidents: kv::Tree,
    pub local_refs: kv::Tree,
    pub epochs: kv::Tree,
    pub sites: kv::Tree,
    pub reviews: kv::Tree,
    pub audit: kv::Tree,
    pub meta: kv::Tree,
    pub directives: kv::Tree,
    pub site_directives: kv::Tree,
    pub incident_directives: kv::Tree,
    pub open_directives: kv::Tree,
    pub hunts: kv::Tree,
    pub operators: kv::Tree,
    pub comms: kv::Tree,
    pub web_sessions: kv::Tree,
    pub site_states: kv::Tree,
    pub site_state_log: kv::Tree,
}

impl Trees {
    /// The named trees of a registry.
    fn of(registry: &store_kit::Trees<TreeId, kv::Tree>) -> Self {
        let tree = |id| registry.tree(id).clone();
        Trees {
            incidents: tree(TreeId::Incidents),
            site_incidents: tree(TreeId::SiteIncidents),
            status_incidents: tree(TreeId::StatusIncidents),
            local_refs: tree(TreeId::LocalRefs),
            epochs: tree(TreeId::Epochs),
            sites: tree(TreeId::Sites),
            reviews: tree(TreeId::Reviews),
            audit: tree(TreeId::Audit),
            meta: tree(TreeId::Meta),
            directives: tree(TreeId::Directives),
            site_directives: tree(TreeId::SiteDirectives),
            incident_directives: tree(TreeId::IncidentDirectives),
            open_directives: tree(TreeId::OpenDirectives),
            hunts: tree(TreeId::Hunts),
            operators: tree(TreeId::Operators),
            comms: tree(TreeId::Comms),
            web_sessions: tree(TreeId::WebSessions),
            site_states: tree(TreeId::SiteStates),
            site_state_log: tree(TreeId::SiteStateLog),
        }
    }
}

/// The commit witness as it stood when a batch finished applying.
#[derive(Debug, Clone, Copy)]
pub struct SyncPoint(socfed_runtime::witness::Witness);

/// Where the trees live, and what each backend keeps beside them.
enum Backend {
    /// Embedded in `dir`: the escalation journal is files beside sled.
    Sled {
        db: sled::Db,
        /// Makes a flush power-safe in fsync mode (sled's log file and blob files).
        data_sync: socfed_runtime::store_files::DataSync,
        /// Escalations as received (`journal/`).
        journal: journal::Journal,
    },
    /// A PostgreSQL schema shared by every hub replica (`postgres.rs`).
    Postgres(postgres::Shared),
}

pub struct HubStore {
    backend: Backend,
    /// The store's directory (sled), or a name of its database (PostgreSQL) for messages.
    dir: PathBuf,
    trees: Trees,
    /// The same trees in registry order, for units of work (`unit/`).
    registry: store_kit::Trees<TreeId, kv::Tree>,
    /// One unit of work at a time (`unit/`).
    write_lock: std::sync::Mutex<()>,
    /// Keys the audit chain (`socfed_runtime::audit`); kept outside the store.
    audit_key: socfed_runtime::audit::ChainKey,
    /// Operations per tree of the units of work (`socfed_hub_store_ops_total`).
    ops: store_kit::ops::OpMeter<TreeId>,
    durability: Durability,
    /// Per-(site, epoch) delivery state, equal to the trees (`marks.rs`); units hold it.
    marks: std::sync::Mutex<marks::Marks>,
    /// Which generations `fingerprints` holds, with their filters (`fingerprint_gens.rs`).
    fingerprint_gens: std::sync::Mutex<fingerprint_gens::Generations>,
}

/// The generations `fingerprints` holds and their filters, from its keys (read once at open;
/// keys only, about 40 bytes each).
fn fingerprint_generations(tree: &kv::Tree) -> Result<fingerprint_gens::Generations, StoreError> {
    let mut generations = fingerprint_gens::Generations::default();
    for key in tree.iter().keys() {
        let (generation, fingerprint) = schema::fingerprint_key_parts(&key?)?;
        generations.note(generation, &fingerprint);
    }
    Ok(generations)
}

/// Builds `open_directives` once for a store written before the index existed.
fn index_open_directives(trees: &Trees) -> Result<(), StoreError> {
    if trees.meta.get(schema::OPEN_DIRECTIVES_INDEXED)?.is_some() {
        return Ok(());
    }
    for value in trees.directives.iter().values() {
        let d: crate::response::DirectiveRecord =
            schema::decode(schema::TreeId::Directives, &value?)?;
        if !d.state.is_final() {
            trees
                .open_directives
                .insert(schema::site_directive_key(&d.site, d.id), [])?;
        }
    }
    trees.meta.insert(schema::OPEN_DIRECTIVES_INDEXED, [])?;
    Ok(())
}

/// Checks that the audit chain was sealed with `key`, or, at the first open with a key,
/// records where keyed sealing begins (the head now; entries before it stay unkeyed).
fn keyed_from(
    dir: &Path,
    meta: &kv::Tree,
    key: &socfed_runtime::audit::ChainKey,
) -> Result<(), StoreError> {
    use socfed_runtime::audit::KeyedFrom;
    if let Some(raw) = meta.get(schema::AUDIT_KEYED_FROM)? {
        let point: KeyedFrom = schema::decode(schema::TreeId::Meta, &raw)?;
        if !point.made_with(key) {
            return Err(StoreError::AuditKey {
                dir: dir.to_path_buf(),
            });
        }
        return Ok(());
    }
    let head = match meta.get(schema::AUDIT_HEAD)? {
        Some(raw) => Some(schema::decode::<schema::AuditHead>(
            schema::TreeId::Meta,
            &raw,
        )?),
        None => None,
    };
    let point = KeyedFrom::at(key, head.map(|h| (h.seq, h.hash)));
    meta.insert(
        schema::AUDIT_KEYED_FROM,
        schema::encode(schema::TreeId::Meta, &point)?,
    )?;
    Ok(())
}

/// The schema version a store's `meta` records, if any.
fn schema_version(meta: &kv::Tree) -> Result<Option<u32>, StoreError> {
    match meta.get(schema::SCHEMA_VERSION_KEY)? {
        None => Ok(None),
        Some(raw) => Ok(Some(
            raw.as_ref()
                .try_into()
                .map(u32::from_be_bytes)
                .map_err(|_| schema::key_length(schema::META, raw.len()))?,
        )),
    }
}

/// Operations per tree of the hub's units of work (`store_kit::ops`).
const OPS_METRIC: &str = "socfed_hub_store_ops_total";

/// sled's page cache when the config does not say (`ingest.cache_bytes`).
pub const DEFAULT_CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// Every journal id below this is applied to the trees (`schema::JOURNAL_APPLIED`).
fn journal_applied(meta: &kv::Tree) -> Result<u64, StoreError> {
    Ok(match meta.get(schema::JOURNAL_APPLIED)? {
        Some(raw) => schema::u64_value(schema::META, &raw)?,
        None => 0,
    })
}

/// What the store holds now, as its commit witness records it.
fn witness_of(meta: &kv::Tree) -> Result<socfed_runtime::witness::Witness, StoreError> {
    let commits = match meta.get(schema::COMMITS)? {
        Some(raw) => schema::u64_value(schema::META, &raw)?,
        None => 0,
    };
    let audit = match meta.get(schema::AUDIT_HEAD)? {
        Some(raw) => schema::decode::<schema::AuditHead>(schema::TreeId::Meta, &raw)?.seq,
        None => 0,
    };
    Ok(socfed_runtime::witness::Witness {
        epoch: HUB_TAG,
        seq: commits,
        audit,
    })
}

impl HubStore {
    pub fn open(
        dir: &Path,
        durability: Durability,
        audit_key: socfed_runtime::audit::ChainKey,
    ) -> Result<Self, StoreError> {
        Self::open_with_cache(dir, durability, DEFAULT_CACHE_BYTES, audit_key)
    }

    /// Opens with a page cache of `cache_bytes`: a store much larger than its cache pays
    /// cache misses on every random index key (docs/PERFORMANCE.md, "stored").
    pub fn open_with_cache(
        dir: &Path,
        durability: Durability,
        cache_bytes: u64,
        audit_key: socfed_runtime::audit::ChainKey,
    ) -> Result<Self, StoreError> {
        #[cfg(test)]
        if let Some(config) = postgres::test_database_for(dir) {
            // The store tests, run again on PostgreSQL (`SOCFED_HUB_TEST_STORE=postgres`).
            return Self::open_postgres(&config, "test".into(), durability, audit_key);
        }
        // TLP:RED incidents: nobody but the service's user reads the store, whatever the umask.
        socfed_runtime::store_files::private_dir(dir).map_err(StoreError::Sync)?;
        let db = socfed_runtime::store_files::sled_config(dir)
            .map_err(StoreError::Sync)?
            .cache_capacity(cache_bytes)
            .open()
            .map_err(|source| StoreError::Open {
                path: dir.to_path_buf(),
                source,
            })?;
        let meta = db.open_tree(schema::META)?;
        let found = schema_version(&kv::Tree::Sled(meta.clone()))?;
        if let Some(found) = found
            && found > schema::SCHEMA_VERSION
        {
            return Err(StoreError::SchemaVersion {
                found,
                expected: schema::SCHEMA_VERSION,
            });
        }
        // Every tree of the registry (`schema::TreeId`), opened only once the version is one
        // this build reads.
        let registry = store_kit::Trees::<TreeId, kv::Tree>::open_sled(&db)?;
        let trees = Trees::of(&registry);
        // Before anything is rewritten (open-directive index, schema upgrade): a store that is
        // refused stays as it was, openable by the build that wrote it.
        socfed_runtime::witness::check(dir, &witness_of(&trees.meta)?, "sirt-hub db import")
            .map_err(|e| witness_error(dir, e))?;
        keyed_from(dir, &trees.meta, &audit_key)?;
        index_open_directives(&trees)?;
        let applied = journal_applied(&trees.meta)?;
        let journal = journal::Journal::open(dir, durability, applied)?;
        match found {
            // A new store: every index is written from the first incident on.
            None => {
                meta.insert(
                    schema::SCHEMA_VERSION_KEY,
                    &schema::SCHEMA_VERSION.to_be_bytes(),
                )?;
            }
            Some(found) if found < schema::SCHEMA_VERSION => {
                if found < 10 {
                    // Before the steps that record the version: a crash repeats it.
                    let indexed = query_search::index_existing(
                        &trees.incidents,
                        registry.tree(TreeId::IncidentSearch),
                    )?;
                    tracing::info!(indexed, "incidents indexed for search (store schema 10)");
                }
                let rewritten = (
                    registry.tree(TreeId::Escalations),
                    registry.tree(TreeId::Fingerprints),
                );
                upgrade::upgrade(&trees, rewritten, &journal, found)?
            }
            Some(_) => {}
        }
        let marks = marks::Marks::rebuild(&trees.epochs, registry.tree(TreeId::Escalations))?;
        let fingerprint_gens = fingerprint_generations(registry.tree(TreeId::Fingerprints))?;
        db.flush()?;
        socfed_runtime::store_files::restrict_contents(dir)?;
        // Whatever an earlier run or this open left unsynced, and the store's own files'
        // directory entries, in fsync mode.
        let data_sync = socfed_runtime::store_files::DataSync::open(dir, durability)?;
        let store = Self {
            backend: Backend::Sled {
                db,
                data_sync,
                journal,
            },
            dir: dir.to_path_buf(),
            trees,
            registry,
            write_lock: std::sync::Mutex::new(()),
            audit_key,
            ops: store_kit::ops::OpMeter::new(OPS_METRIC),
            durability,
            marks: std::sync::Mutex::new(marks),
            fingerprint_gens: std::sync::Mutex::new(fingerprint_gens),
        };
        Ok(store)
    }

    /// Appends escalations as received to the journal and makes them durable; their ids.
    pub fn journal_append(
        &self,
        entries: &[journal::JournalEntry],
    ) -> Result<Vec<u64>, StoreError> {
        match &self.backend {
            Backend::Sled { journal, .. } => Ok(journal.append(entries)?),
            Backend::Postgres(shared) => shared.journal_append(entries),
        }
    }

    /// The escalation as received under journal id `id` (`EscalationRecord::journal`).
    pub fn journal_entry(&self, id: u64) -> Result<journal::JournalEntry, StoreError> {
        match &self.backend {
            Backend::Sled { journal, .. } => Ok(journal.get(id)?),
            Backend::Postgres(shared) => shared.journal_entry(id),
        }
    }

    /// Journal entries the trees do not reflect yet (a crash between journal and index).
    pub fn unapplied_journal(&self) -> Result<Vec<(u64, journal::JournalEntry)>, StoreError> {
        match &self.backend {
            Backend::Sled { journal, .. } => {
                Ok(journal.entries_from(journal_applied(&self.trees.meta)?)?)
            }
            // Journaled in the unit that indexes it: nothing is ever left over.
            Backend::Postgres(_) => Ok(Vec::new()),
        }
    }

    /// What the store holds now, as its commit witness records it.
    /// (Also the store's state at a [`SyncPoint`].)
    fn witness(&self) -> Result<socfed_runtime::witness::Witness, StoreError> {
        witness_of(&self.trees.meta)
    }

    /// What a flush started now will make durable, read by the single writer right after it
    /// applied something. Passed to [`HubStore::commit`] so the witness written after the
    /// flush never claims writes applied while the flush ran.
    pub fn sync_point(&self) -> Result<SyncPoint, StoreError> {
        Ok(SyncPoint(self.witness()?))
    }

    /// Makes everything applied before `point` was read durable (and possibly more). Called
    /// once per group of batches, before any of them is acknowledged.
    pub fn commit(&self, point: &SyncPoint) -> Result<(), StoreError> {
        let Backend::Sled { db, data_sync, .. } = &self.backend else {
            // Every unit committed its own transaction, durable in the database.
            return Ok(());
        };
        db.flush()?;
        data_sync.after_flush()?;
        // Only after the store is durable: the witness never runs ahead of it.
        socfed_runtime::witness::write(&self.dir, &point.0).map_err(|e| witness_error(&self.dir, e))
    }

    /// The sled database under a sled store (tests that reach past the trees).
    #[cfg(test)]
    pub(crate) fn sled_db(&self) -> &sled::Db {
        match &self.backend {
            Backend::Sled { db, .. } => db,
            Backend::Postgres(_) => panic!("a sled-only test opened a PostgreSQL store"),
        }
    }

    pub fn durability(&self) -> Durability {
        self.durability
    }
}
