//! The hub's unit of work: the only way anything changes the hub's trees at run time. The
//! application (`crate::ingest::apply`) decides what changes; this module knows how each record
//! is keyed, encoded and indexed, and keeps the derived trees in step with the records.
//!
//! A unit is `socfed_runtime::store_kit::unit` (reads see the unit's own writes; every write is
//! applied at [`StoreUnit::commit`] in one transaction, all or nothing after a crash) with
//! typed reads and writes per record, so no key, tree or codec leaves `store/`. Units are
//! serialised by the store's write lock, held from [`HubStore::unit`] to commit: that is what
//! makes reading the trees outside a transaction safe, and the domain logic between reads and
//! writes runs once, never inside a closure sled may re-run.
//!
//! Nothing is durable until [`HubStore::commit`](super::HubStore::commit) flushes; the ingest
//! writer answers no one before that.
//!
//! One file per group of records: `incidents.rs` (records and listing indexes, and the states
//! owed to sites), `sites.rs` (per-site facts and acknowledgement marks), `escalations.rs`
//! (idempotency records, reviews, local references, fingerprints), `response.rs` (directives,
//! hunts, communications), `people.rs` (roster, members, dashboard grants, the audit chain), `events.rs` (the hub
//! event log), `observables.rs` (incidents' observables and their index), `runbooks.rs` (the hub's runbooks and the log of versions sent to sites), `hunt_library.rs` (the hunt library), `enrolment.rs` (the enrolled sites).

mod enrolment;
mod escalations;
mod events;
mod hunt_library;
mod incidents;
mod notes;
mod observables;
mod people;
mod response;
mod runbooks;
mod search;
mod shared;
mod sites;

pub use incidents::Indexed;
pub use people::GrantKey;

use super::fingerprint_gens::Generations;
use super::marks::{self, EpochMark, Marks};
use super::records::EscalationRecord;
use super::schema::{self, TreeId};
use super::{HubStore, StoreError};
use socfed_proto::vocab::SiteId;
use socfed_runtime::store_kit::kv;
use socfed_runtime::store_kit::unit::{Unit as KitUnit, UnitError};
use std::collections::HashMap;
use std::sync::MutexGuard;

impl From<UnitError> for StoreError {
    fn from(e: UnitError) -> Self {
        match e {
            UnitError::Sled(e) => StoreError::Sled(e),
            UnitError::Kv(e) => StoreError::Kv(e),
            UnitError::Codec(e) => StoreError::Codec(e),
        }
    }
}

/// Sites a committed unit gave something to send: the writer wakes their streams.
#[derive(Debug, Default)]
pub struct Touched {
    /// Sites with new directives queued.
    pub directive_sites: Vec<SiteId>,
    /// Sites with new incident states queued (`sites.rs`).
    pub state_sites: Vec<SiteId>,
    /// A hub runbook version written: every site is owed it (`runbooks.rs`).
    pub runbooks: bool,
    /// A site's stream took the lease under this generation (`sites.rs`).
    pub stream: Option<(SiteId, u64)>,
    /// The first and last event-log sequences the unit appended (`events.rs`).
    pub first_event: Option<u64>,
    pub last_event: Option<u64>,
}

fn note(sites: &mut Vec<SiteId>, site: &SiteId) {
    if !sites.contains(site) {
        sites.push(site.clone());
    }
}

pub struct StoreUnit<'a> {
    work: KitUnit<'a, TreeId, kv::Tree>,
    /// The store's delivery state as last committed (`store/marks.rs`).
    marks: MutexGuard<'a, Marks>,
    /// This unit's changes to it, taken over only once the unit committed.
    changed_marks: HashMap<marks::Key, EpochMark>,
    /// Escalations this unit stored, per (site, epoch): written at commit as runs
    /// (`escalations.rs`).
    new_escalations: HashMap<marks::Key, Vec<(u64, EscalationRecord)>>,
    /// The fingerprint generations and their filters (`fingerprint_gens.rs`).
    generations: MutexGuard<'a, Generations>,
    touched: Touched,
    audit_key: &'a socfed_runtime::audit::ChainKey,
    /// The store's trees, to read back what another replica changed (`load_mark`).
    registry: &'a socfed_runtime::store_kit::Trees<TreeId, kv::Tree>,
    /// On a PostgreSQL store: the unit's transaction (`shared.rs`).
    shared: Option<shared::SharedUnit<'a>>,
    /// Held until commit or drop: one unit at a time.
    _writer: MutexGuard<'a, ()>,
}

impl HubStore {
    /// A unit of work; waits for the one in progress, if any. Dropped without
    /// [`StoreUnit::commit`], it changes nothing.
    pub fn unit(&self) -> Result<StoreUnit<'_>, StoreError> {
        // The process's own lock first, then (PostgreSQL) the database's unit lock.
        let writer = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let (shared, stale) = match self.shared() {
            Some(store) => {
                let (unit, stale) = shared::SharedUnit::begin(store)?;
                (Some(unit), stale)
            }
            None => (None, false),
        };
        let mut unit = StoreUnit {
            work: KitUnit::new(self.registry.all()).metered(&self.ops),
            registry: &self.registry,
            shared,
            touched: Touched::default(),
            audit_key: &self.audit_key,
            // A unit that panicked wrote nothing, so the lock guards no broken state.
            _writer: writer,
            // Taken after the write lock, by units only; a panicked unit changed nothing here.
            marks: self.marks.lock().unwrap_or_else(|p| p.into_inner()),
            changed_marks: HashMap::new(),
            new_escalations: HashMap::new(),
            // A filter that claims too much costs lookups only, so a panicked unit's notes
            // are harmless.
            generations: self
                .fingerprint_gens
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        };
        if stale {
            // Another replica committed since this one's last unit: the delivery state is
            // read back from the trees as this unit needs it.
            unit.marks.forget_all();
        }
        Ok(unit)
    }
}

impl StoreUnit<'_> {
    /// Takes the journal entries of `ids` to write with this unit (PostgreSQL: the journal is
    /// written in the unit that indexes it, `store::postgres`; sled appended them already).
    pub fn take_journal(&mut self, ids: &[u64]) -> Result<(), StoreError> {
        match &mut self.shared {
            Some(shared) => shared.take_journal(ids),
            None => Ok(()),
        }
    }

    /// Reads `(site, epoch)`'s delivery state back from the trees when another replica may
    /// have changed it (`marks::Marks::needs_load`); a no-op otherwise.
    pub fn load_mark(&mut self, site: &SiteId, epoch: ulid::Ulid) -> Result<(), StoreError> {
        let key = (site.clone(), epoch);
        if self.changed_marks.contains_key(&key) || !self.marks.needs_load(&key) {
            return Ok(());
        }
        let mark = Marks::load(
            self.registry.tree(TreeId::Epochs),
            self.registry.tree(TreeId::Escalations),
            &key,
        )?;
        self.changed_marks.insert(key, mark);
        Ok(())
    }

    /// Records that every journal entry below `below` is applied, in this unit's transaction:
    /// a replay at start-up begins there (`crate::ingest::replay`).
    pub fn set_journal_applied(&mut self, below: u64) {
        self.work
            .put_u64(TreeId::Meta, schema::JOURNAL_APPLIED.as_bytes(), below);
    }

    /// Applies every write of the unit in one transaction, with the commit counter the store's
    /// witness records (`store::witness_of`).
    pub fn commit(mut self) -> Result<Touched, StoreError> {
        self.write_escalation_runs()?;
        let commits = match &self.shared {
            // Read under the unit lock as the unit began.
            Some(shared) => shared.commits(),
            None => self
                .work
                .get_u64(TreeId::Meta, schema::COMMITS.as_bytes())?,
        };
        self.work
            .put_u64(TreeId::Meta, schema::COMMITS.as_bytes(), commits + 1);
        match self.shared.take() {
            None => self.work.commit()?,
            Some(shared) => {
                let writes = std::mem::replace(&mut self.work, KitUnit::new(self.registry.all()))
                    .into_writes();
                shared.commit(writes, &self.touched, commits + 1)?;
            }
        }
        // Only now: the delivery state in memory never runs ahead of the trees.
        let changed = std::mem::take(&mut self.changed_marks);
        self.marks.replace(changed);
        Ok(self.touched)
    }
}
