//! The agent's durable state, the only module that touches sled: the escalation outbox
//! (`outbox.rs`, packed in runs of consecutive sequences by `outbox_runs.rs`), the local
//! SOC's alert groups, incidents, roster and notifications (`soc.rs`), settings
//! (`settings.rs`), the audit chain (`audit.rs`), directives (`directives.rs`) and the hub's
//! incident states (`hub_states.rs`), all in one sled database whose layout is in `schema.rs`;
//! beside it, the alert groups' samples in an append-only journal (`samples.rs`).
//!
//! Writes go through [`AgentStore::unit`]: one writer at a time, all of a unit's writes in one
//! transaction, and the unit returns only once a flush (and fdatasync in `fsync` mode) that
//! started after its commit has completed. That flush is shared (group commit, `sync.rs`):
//! units that commit while a flush is running are all covered by the next one.
//! Invariant: an escalation is in the outbox and flushed before anything is told it was
//! queued, and the uplink only ever sends what is in the outbox.

mod agenda;
mod audit;
pub mod cap;
pub mod check;
mod directives;
mod hub_states;
mod intake;
mod keyed;
mod layout;
pub mod notes;
mod outbox;
mod outbox_runs;
#[cfg(test)]
mod outbox_tests;
mod revisions;
pub mod runbooks;
pub mod samples;
pub mod schema;
mod search;
#[cfg(test)]
mod search_tests;
mod settings;
mod soc;
mod sync;
pub mod tokens;
pub mod unit;
mod upgrade;
mod upgrade_outbox;
mod web;

pub use audit::AuditReport;
pub use hub_states::Recorded;
pub use intake::MAX_SPANS;
pub use outbox::{Counters, Enqueued, Notice};
pub use outbox_runs::{Queued, StoredReport};
pub use schema::{HubState, RequestRecord};
pub use soc::GroupFilter;
pub use socfed_runtime::config::Durability;

use schema::{CodecError, TreeId};
use socfed_runtime::store_kit::Trees;
use socfed_runtime::store_kit::ops::{Op, OpMeter};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use ulid::Ulid;
use unit::{Unit, UnitError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store at {path}: {}", open_advice(.error))]
    Open { path: PathBuf, error: sled::Error },
    #[error("store schema version {0} is newer than this build understands; upgrade socfed")]
    SchemaVersion(u32),
    #[error("storage: {}", socfed_runtime::disk_full::sled_reason(.0))]
    Sled(#[from] sled::Error),
    #[error("storage sync: {0}")]
    Sync(#[from] std::io::Error),
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error("the store at {dir} is damaged: {reason}")]
    Damaged { dir: PathBuf, reason: String },
    #[error("alert samples: {0}")]
    Samples(#[from] socfed_runtime::store_kit::journal::JournalError),
    #[error("store witness: {0}")]
    Witness(std::io::Error),
    /// A library hunt's hits could not raise their alerts (`response::detect`): the hits are
    /// not saved, so the next match raises them again.
    #[error("hunt alerts: {0}")]
    HuntAlerts(String),
    #[error(
        "the audit chain of the store at {dir} was sealed with another audit key than the one given; restore the site's `.audit-key` file (beside its TLS key) from the backup of that directory"
    )]
    AuditKey { dir: PathBuf },
    #[error(
        "the outbox is full ({len} of {cap} escalations waiting for the hub, oldest {oldest_age_s} s old) and on_full = \"refuse-new\"; restore the hub connection or raise outbox.max_entries"
    )]
    OutboxFull {
        len: u64,
        cap: u64,
        oldest_age_s: u64,
    },
    /// A write or flush failed earlier: what is on disk is only known after a reopen (and
    /// sled refuses every write after an I/O error), so the store takes nothing more.
    #[error(
        "the store at {dir} takes no more writes since a write failed ({cause}); the agent stops so that a restart reopens it from what is on disk{}",
        if *.disk_full { ": free space on that disk, then start the agent again (systemd restarts it by itself)" } else { "" }
    )]
    Failed {
        dir: PathBuf,
        cause: String,
        disk_full: bool,
    },
}

impl StoreError {
    /// The disk holding the store is full (or its quota used up): free space, then restart.
    pub fn is_disk_full(&self) -> bool {
        use socfed_runtime::disk_full;
        match self {
            StoreError::Open { error, .. } | StoreError::Sled(error) => disk_full::sled(error),
            StoreError::Sync(e) | StoreError::Witness(e) => disk_full::io(e),
            StoreError::Failed { disk_full, .. } => *disk_full,
            StoreError::Samples(socfed_runtime::store_kit::journal::JournalError::Io {
                source,
                ..
            }) => disk_full::io(source),
            StoreError::SchemaVersion(_)
            | StoreError::Codec(_)
            | StoreError::Samples(_)
            | StoreError::Damaged { .. }
            | StoreError::AuditKey { .. }
            | StoreError::OutboxFull { .. }
            | StoreError::HuntAlerts(_) => false,
        }
    }
}

fn open_advice(source: &sled::Error) -> String {
    let reason = socfed_runtime::disk_full::sled_reason(source);
    if socfed_runtime::disk_full::sled(source) {
        format!("{reason}; the disk holding it is full: free space there and start the agent again")
    } else {
        format!("{reason}; if another site-agent uses this data_dir, stop it first")
    }
}

impl From<UnitError> for StoreError {
    fn from(e: UnitError) -> Self {
        match e {
            UnitError::Sled(e) => StoreError::Sled(e),
            // Never: the agent's units run over sled trees, whose failures are `Sled`.
            UnitError::Kv(e) => StoreError::Sled(sled::Error::Unsupported(e.to_string())),
            UnitError::Codec(e) => StoreError::Codec(e),
        }
    }
}

/// The counter of the store's operations per tree and kind (`store_kit::ops`).
const OPS_METRIC: &str = "socfed_agent_store_ops_total";

fn witness_error(dir: &Path, e: socfed_runtime::witness::WitnessError) -> StoreError {
    match e {
        socfed_runtime::witness::WitnessError::Behind(reason) => StoreError::Damaged {
            dir: dir.to_path_buf(),
            reason,
        },
        socfed_runtime::witness::WitnessError::Io(e) => StoreError::Witness(e),
    }
}

/// A committed unit not yet known to be durable ([`AgentStore::unit_deferred`]).
#[must_use = "a unit is durable only once `wait_durable` returned for it"]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pending {
    /// The unit's commit ticket (`sync.rs`); a flush covering it covers every earlier one.
    ticket: u64,
    /// It put something in the outbox: the uplink is woken once it is durable.
    enqueued: bool,
}

impl Pending {
    /// One wait for both: the later ticket covers the earlier commit.
    pub fn and(self, other: Pending) -> Pending {
        Pending {
            ticket: self.ticket.max(other.ticket),
            enqueued: self.enqueued || other.enqueued,
        }
    }
}

pub struct AgentStore {
    db: sled::Db,
    /// The data directory, where the commit witness lives beside sled's files.
    dir: std::path::PathBuf,
    trees: Trees<TreeId>,
    /// Alert groups' samples, outside sled (`samples.rs`).
    samples: samples::SampleJournal,
    /// Changes only when a restored store is detected (see `outbox::restart_epoch`).
    epoch: std::sync::RwLock<Ulid>,
    /// fdatasync of sled's log and blob files after each flush (fsync mode); used under the
    /// flush lock.
    data_sync: socfed_runtime::store_files::DataSync,
    /// Keys the audit chain (`socfed_runtime::audit`); kept outside the store.
    audit_key: socfed_runtime::audit::ChainKey,
    /// Operations per tree of the write path (`socfed_agent_store_ops_total`).
    ops: OpMeter<TreeId>,
    /// Request records keyed by the id alone exist (an upgraded store, `schema`).
    legacy_request_keys: bool,
    /// Entries in `idx_revision_pending` (`revisions.rs`), counted at open, kept by units.
    revisions_pending: AtomicU64,
    /// The triage queue and SLA agenda (`agenda.rs`): built at open, changed by units once
    /// they commit.
    agenda: std::sync::RwLock<agenda::Agenda>,
    /// Serialises writers: units read without a transaction and never conflict.
    write_lock: Mutex<()>,
    /// Group commit: which commits are durable, and the one flush at a time.
    sync: sync::SyncState,
    outbox_len: AtomicU64,
    /// Highest sequence that is flushed: the uplink never sends beyond it (invariant 1).
    durable_through: AtomicU64,
    /// Wakes the uplink when something was enqueued.
    pub enqueued: tokio::sync::Notify,
    /// The first failed write or flush (its message, and whether the disk was full); from
    /// then on every unit is refused.
    failure: std::sync::OnceLock<(String, bool)>,
    /// Cancelled on that failure: the agent stops (see `app.rs`).
    failed: tokio_util::sync::CancellationToken,
}

impl AgentStore {
    /// Opens (or creates, with a fresh epoch) the store in `dir`.
    pub fn open(
        dir: &Path,
        durability: Durability,
        cache_bytes: u64,
        audit_key: socfed_runtime::audit::ChainKey,
    ) -> Result<Self, StoreError> {
        // TLP:RED incidents: nobody but the service's user reads the store, whatever the umask.
        socfed_runtime::store_files::private_dir(dir).map_err(|e| StoreError::Open {
            path: dir.to_path_buf(),
            error: sled::Error::Io(e),
        })?;
        let db = socfed_runtime::store_files::sled_config(dir)
            .map_err(|e| StoreError::Open {
                path: dir.to_path_buf(),
                error: sled::Error::Io(e),
            })?
            .cache_capacity(cache_bytes)
            .open()
            .map_err(|error| StoreError::Open {
                path: dir.to_path_buf(),
                error,
            })?;
        let trees = Trees::<TreeId>::open(&db)?;
        let meta = trees.tree(TreeId::Meta);
        if let Some(raw) = meta.get(schema::SCHEMA_VERSION_KEY)? {
            let found = raw
                .as_ref()
                .try_into()
                .map(u32::from_be_bytes)
                .unwrap_or(u32::MAX);
            if found > schema::SCHEMA_VERSION {
                return Err(StoreError::SchemaVersion(found));
            }
        }
        let samples_end = samples::recorded_end(meta)?;
        let samples = samples::SampleJournal::open(dir, durability, samples_end)?;
        upgrade::run(&db, &trees, &samples)?;
        let legacy_request_keys = meta.get(schema::LEGACY_REQUEST_KEYS)?.is_some();
        let revisions_pending = trees.tree(TreeId::IdxRevisionPending).len() as u64;
        let agenda = agenda::build(&trees)?;
        let epoch = match meta.get(schema::EPOCH)? {
            Some(raw) => schema::ulid_of(TreeId::Meta, &raw)?,
            None => {
                // A new store is a new epoch: the hub keys everything by (site, epoch, seq), so
                // sequence numbers of a recreated store never collide with the old ones.
                let epoch = Ulid::new();
                meta.insert(
                    schema::SCHEMA_VERSION_KEY,
                    &schema::SCHEMA_VERSION.to_be_bytes(),
                )?;
                meta.insert(schema::NEXT_SEQ, &1u64.to_be_bytes())?;
                meta.insert(schema::EPOCH, &epoch.to_bytes())?;
                epoch
            }
        };
        let len = match meta.get(schema::OUTBOX_LEN)? {
            Some(raw) => schema::u64_of(TreeId::Meta, &raw)?,
            None => trees.tree(TreeId::Outbox).len() as u64,
        };
        let next_seq = match meta.get(schema::NEXT_SEQ)? {
            Some(raw) => schema::u64_of(TreeId::Meta, &raw)?,
            None => 1,
        };
        keyed::keyed_from(dir, meta, &audit_key)?;
        db.flush()?;
        socfed_runtime::store_files::restrict_contents(dir)?;
        let data_sync = socfed_runtime::store_files::DataSync::open(dir, durability)?;
        let store = Self {
            db,
            dir: dir.to_path_buf(),
            trees,
            samples,
            epoch: std::sync::RwLock::new(epoch),
            data_sync,
            audit_key,
            ops: OpMeter::new(OPS_METRIC),
            legacy_request_keys,
            revisions_pending: AtomicU64::new(revisions_pending),
            agenda: std::sync::RwLock::new(agenda),
            write_lock: Mutex::new(()),
            sync: sync::SyncState::default(),
            outbox_len: AtomicU64::new(len),
            durable_through: AtomicU64::new(next_seq.saturating_sub(1)),
            enqueued: tokio::sync::Notify::new(),
            failure: std::sync::OnceLock::new(),
            failed: tokio_util::sync::CancellationToken::new(),
        };
        socfed_runtime::witness::check(dir, &store.witness()?, "site-agent db import")
            .map_err(|e| witness_error(dir, e))?;
        Ok(store)
    }

    /// What the store holds now, as the commit witness records it.
    fn witness(&self) -> Result<socfed_runtime::witness::Witness, StoreError> {
        // Three `meta` reads, once per group commit (the write path, `store_kit::ops`).
        self.ops.add(TreeId::Meta, Op::Get, 3);
        let audit = match self.tree(TreeId::Meta).get(schema::AUDIT_HEAD)? {
            Some(raw) => schema::decode::<schema::AuditHead>(TreeId::Meta, &raw)?.seq,
            None => 0,
        };
        // From the store, not memory: an epoch restart writes it before updating the cache.
        let epoch = match self.tree(TreeId::Meta).get(schema::EPOCH)? {
            Some(raw) => schema::ulid_of(TreeId::Meta, &raw)?,
            None => self.epoch(),
        };
        Ok(socfed_runtime::witness::Witness {
            epoch: u128::from(epoch),
            seq: self.counter_value(schema::NEXT_SEQ)?.saturating_sub(1),
            audit,
        })
    }

    pub fn epoch(&self) -> Ulid {
        *self.epoch.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The highest sequence flushed to disk.
    pub fn durable_through(&self) -> u64 {
        self.durable_through.load(Ordering::Acquire)
    }

    pub fn outbox_len(&self) -> u64 {
        self.outbox_len.load(Ordering::Relaxed)
    }

    pub(crate) fn tree(&self, id: TreeId) -> &sled::Tree {
        self.trees.tree(id)
    }

    /// Runs `work` as one unit: its writes are applied atomically and flushed before this
    /// returns. An `Err` from `work` discards every write it made.
    pub fn unit<T, E>(&self, work: impl FnOnce(&mut Unit) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let (value, pending) = self.unit_deferred(work)?;
        self.wait_durable(pending)?;
        Ok(value)
    }

    /// [`Self::unit`] without the wait: the unit is committed (later units see it) but not
    /// yet durable. Nothing may be told of its writes before [`Self::wait_durable`] returns
    /// for the [`Pending`] (or for a later one, which covers it): the intake pipeline commits
    /// the next batch while this one's flush runs.
    pub fn unit_deferred<T, E>(
        &self,
        work: impl FnOnce(&mut Unit) -> Result<T, E>,
    ) -> Result<(T, Pending), E>
    where
        E: From<StoreError>,
    {
        let (value, ticket, enqueued) = {
            let _guard = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
            self.refuse_if_failed()?;
            let mut unit = Unit::new(
                self.trees.all(),
                &self.audit_key,
                &self.ops,
                self.legacy_request_keys,
                self.revisions_pending.load(Ordering::Relaxed),
                &self.samples,
            );
            let value = work(&mut unit)?;
            unit.write_outbox_runs()?;
            let changes = std::mem::take(&mut unit.agenda_changes);
            if unit.is_empty() {
                // An agenda repair (the SLA clock's) may change the agenda alone.
                self.apply_agenda(&changes);
                // Nothing written, but the answer may rest on another unit's commit (a retried
                // request id finds the first attempt's record): it is given only once that
                // commit is durable, never from a commit whose flush failed.
                (value, self.sync.latest(), false)
            } else {
                let (delta, enqueued) = (unit.outbox_delta, unit.enqueued);
                let revisions = unit
                    .revisions_pending_at_start
                    .saturating_add_signed(unit.revisions_pending_delta);
                unit.commit().map_err(|e| self.fail(StoreError::from(e)))?;
                // Under the write lock: the next unit's changes come after these.
                self.apply_agenda(&changes);
                // Under the write lock, so the next unit starts from this count.
                self.revisions_pending.store(revisions, Ordering::Relaxed);
                if delta != 0 {
                    // Counted before the flush: the cap check may only err on the full side.
                    let len = self.outbox_len().saturating_add_signed(delta);
                    self.outbox_len.store(len, Ordering::Relaxed);
                }
                (value, self.sync.committed(), enqueued)
            }
        };
        Ok((value, Pending { ticket, enqueued }))
    }

    /// Returns once the unit(s) `pending` stands for are durable.
    pub fn wait_durable(&self, pending: Pending) -> Result<(), StoreError> {
        // Outside the write lock, so other units commit while this one waits for its flush.
        self.sync_through(pending.ticket)
            .map_err(|e| self.fail(e))?;
        if pending.enqueued {
            // Only now, after the flush, may the uplink see the new entries.
            self.enqueued.notify_one();
        }
        Ok(())
    }

    /// Why the store takes no more writes, once a write or flush failed.
    pub fn failure(&self) -> Option<StoreError> {
        self.failure
            .get()
            .map(|(cause, disk_full)| StoreError::Failed {
                dir: self.dir.clone(),
                cause: cause.clone(),
                disk_full: *disk_full,
            })
    }

    /// Cancelled when a write or flush fails.
    pub fn failed(&self) -> tokio_util::sync::CancellationToken {
        self.failed.clone()
    }

    pub(super) fn refuse_if_failed(&self) -> Result<(), StoreError> {
        self.failure().map_or(Ok(()), Err)
    }

    /// Records the first failed write or flush (later ones only follow from it) and returns
    /// the error for the caller that hit it.
    fn fail(&self, error: StoreError) -> StoreError {
        if self
            .failure
            .set((error.to_string(), error.is_disk_full()))
            .is_ok()
        {
            tracing::error!(%error, dir = %self.dir.display(), "a store write failed: the store takes no more writes and the agent stops");
        }
        self.failed.cancel();
        error
    }

    /// [`Self::fail`] for I/O errors of writes made outside a unit (epoch restart, SLA agenda
    /// rebuild); other errors (a record that does not decode) do not stop the store.
    pub(super) fn fail_on_io(&self, error: StoreError) -> StoreError {
        match error {
            StoreError::Sled(_) | StoreError::Sync(_) | StoreError::Witness(_) => self.fail(error),
            other => other,
        }
    }

    fn counter_value(&self, key: &str) -> Result<u64, StoreError> {
        match self.tree(TreeId::Meta).get(key)? {
            Some(raw) => Ok(schema::u64_of(TreeId::Meta, &raw)?),
            None => Ok(0),
        }
    }
}
