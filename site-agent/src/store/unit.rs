//! A unit of work: every write at the agent goes through one. The generic part (reads that see
//! the unit's own writes, one transaction at commit) is `socfed_runtime::store_kit::unit`;
//! this adds what the agent's units carry besides: the outbox length change, whether anything
//! was enqueued, and the key that seals audit entries. Its operations per tree are added to
//! `socfed_agent_store_ops_total` when it ends. Writers are serialised by the store's
//! write lock, so a unit reads the trees directly; domain logic runs between reads and writes,
//! outside any transaction closure, so it never re-runs.

use super::schema::TreeId;
use socfed_runtime::store_kit::ops::OpMeter;
use socfed_runtime::store_kit::unit::Unit as KitUnit;

pub use socfed_runtime::store_kit::unit::{Entry, UnitError};

pub struct Unit<'a> {
    work: KitUnit<'a, TreeId>,
    /// Net change of the outbox length made by this unit.
    pub(crate) outbox_delta: i64,
    /// Escalations this unit queued, in sequence order: written as runs when the unit ends
    /// (`outbox_runs.rs`), so a unit of many raises writes one outbox key per run.
    pub(crate) new_outbox: Vec<(u64, super::schema::OutboxEntry)>,
    pub(crate) enqueued: bool,
    /// Seals audit entries (`socfed_runtime::audit`).
    pub(crate) audit_key: &'a socfed_runtime::audit::ChainKey,
    /// The store holds request records keyed by the id alone (written before schema 5).
    pub(crate) legacy_request_keys: bool,
    /// Entries in `idx_revision_pending` when the unit began, and this unit's change to them.
    pub(crate) revisions_pending_at_start: u64,
    pub(crate) revisions_pending_delta: i64,
    /// Changes to the in-memory queue and SLA agenda (`agenda.rs`), applied once the unit's
    /// commit succeeded.
    pub(crate) agenda_changes: Vec<super::agenda::Change>,
    /// The alert sample journal, appended to before the unit commits (`samples.rs`).
    pub(crate) samples: &'a super::samples::SampleJournal,
}

impl<'a> Unit<'a> {
    pub(crate) fn new(
        trees: &'a [sled::Tree],
        audit_key: &'a socfed_runtime::audit::ChainKey,
        ops: &'a OpMeter<TreeId>,
        legacy_request_keys: bool,
        revisions_pending: u64,
        samples: &'a super::samples::SampleJournal,
    ) -> Self {
        Self {
            work: KitUnit::new(trees).metered(ops),
            outbox_delta: 0,
            new_outbox: Vec::new(),
            enqueued: false,
            audit_key,
            legacy_request_keys,
            revisions_pending_at_start: revisions_pending,
            revisions_pending_delta: 0,
            agenda_changes: Vec::new(),
            samples,
        }
    }

    /// Applies every pending write in one transaction.
    pub(crate) fn commit(self) -> Result<(), UnitError> {
        self.work.commit()
    }
}

/// Reads and writes are the kit's: `get`, `put`, `get_raw`, `put_raw`, `remove`, `get_u64`,
/// `put_u64`, `committed_keys`, `entries_from`, `is_empty`.
impl<'a> std::ops::Deref for Unit<'a> {
    type Target = KitUnit<'a, TreeId>;

    fn deref(&self) -> &Self::Target {
        &self.work
    }
}

impl std::ops::DerefMut for Unit<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.work
    }
}
