//! The triage queue (groups by status, tier and id) and the SLA agenda (groups by deadline),
//! kept in memory rather than in sled (schema 6): write-behind indexes rebuilt from `groups`
//! at open, so a new alert group costs no index key of either.
//!
//! Why memory and not packs per commit: both are read whole-range (the newest of a queue, the
//! deadlines up to now) and changed one group at a time by triage, so a pack would be read and
//! rewritten by every status change, while the memory index is exact and cheap to keep. The
//! cost is stated in `docs/PERFORMANCE.md`: the keys are the schema 5 sled keys as byte arrays
//! (18 + 24 bytes, about 90 bytes a group with the B-tree's own), and opening the store reads
//! and decodes every group once.
//!
//! A unit records its changes ([`Change`]) beside its sled writes; the store applies them
//! under the write lock once the unit's commit succeeded, so readers see a group in the queue
//! exactly when they can read its record, as with the sled trees before. The keys sort as
//! the sled keys did (big-endian), so listings and the SLA clock's order are unchanged.

use super::schema::{self, TreeId};
use super::{AgentStore, StoreError};
use crate::soc::group::AlertGroup;
use crate::soc::sla::{self, SlaPolicy};
use socfed_proto::UnixMillis;
use socfed_runtime::store_kit::Trees;
use std::collections::BTreeSet;
use std::sync::RwLockReadGuard;
use ulid::Ulid;

/// `status ++ tier ++ group`, as `idx_queue` keys were.
pub(crate) type QueueKey = [u8; 18];
/// `due ms ++ group`, as `sla_due` keys were.
pub(crate) type DueKey = [u8; 24];

/// One change a unit makes to the in-memory indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    AddQueue(QueueKey),
    RemoveQueue(QueueKey),
    AddDue(DueKey),
    RemoveDue(DueKey),
}

pub(crate) fn queue_key(group: &AlertGroup) -> QueueKey {
    let mut key = [0u8; 18];
    key[0] = schema::queue_status(&group.state.status);
    key[1] = group.state.tier.number();
    key[2..].copy_from_slice(&group.id.to_bytes());
    key
}

pub(crate) fn due_key(due_ms: UnixMillis, id: Ulid) -> DueKey {
    let mut key = [0u8; 24];
    key[..8].copy_from_slice(&(due_ms.max(0) as u64).to_be_bytes());
    key[8..].copy_from_slice(&id.to_bytes());
    key
}

/// The deadline key of `group` under `policy`, if its clock runs.
pub(crate) fn group_due(policy: &SlaPolicy, group: &AlertGroup) -> Option<DueKey> {
    sla::deadline(policy, &group.state, group.severity).map(|d| due_key(d.due_ms, group.id))
}

fn trailing_id(key: &[u8]) -> Ulid {
    let mut id = [0u8; 16];
    if let Some(tail) = key.len().checked_sub(16).and_then(|at| key.get(at..)) {
        id.copy_from_slice(tail);
    }
    Ulid::from_bytes(id)
}

/// The queue and the agenda.
#[derive(Debug, Default)]
pub(crate) struct Agenda {
    queue: BTreeSet<QueueKey>,
    due: BTreeSet<DueKey>,
}

impl Agenda {
    /// Takes `group` in (at open): its queue entry, and its deadline under `policy` if any.
    pub(crate) fn add_group(&mut self, group: &AlertGroup, policy: Option<&SlaPolicy>) {
        self.queue.insert(queue_key(group));
        if let Some(key) = policy.and_then(|p| group_due(p, group)) {
            self.due.insert(key);
        }
    }

    /// Replaces the agenda with `due` (a rebuild under another SLA policy).
    pub(crate) fn replace_due(&mut self, due: BTreeSet<DueKey>) {
        self.due = due;
    }

    /// Applies a committed unit's changes, in the order it made them.
    pub(crate) fn apply(&mut self, changes: &[Change]) {
        for change in changes {
            match change {
                Change::AddQueue(key) => self.queue.insert(*key),
                Change::RemoveQueue(key) => self.queue.remove(key),
                Change::AddDue(key) => self.due.insert(*key),
                Change::RemoveDue(key) => self.due.remove(key),
            };
        }
    }

    /// The newest `limit` groups of one queue (status and tier), newest first.
    pub(crate) fn newest(&self, status: u8, tier: u8, limit: usize) -> Vec<Ulid> {
        let mut from = [0u8; 18];
        let mut to = [0xffu8; 18];
        (from[0], from[1], to[0], to[1]) = (status, tier, status, tier);
        self.queue
            .range(from..=to)
            .rev()
            .take(limit)
            .map(|k| trailing_id(k))
            .collect()
    }

    /// Groups whose deadline is at or before `now`, earliest first, at most `limit`.
    pub(crate) fn due_by(&self, now: UnixMillis, limit: usize) -> Vec<(i64, Ulid)> {
        let end = due_key(now, Ulid::from_bytes([0xff; 16]));
        self.due
            .range(..=end)
            .take(limit)
            .map(|key| {
                let mut ms = [0u8; 8];
                ms.copy_from_slice(&key[..8]);
                (
                    i64::try_from(u64::from_be_bytes(ms)).unwrap_or(i64::MAX),
                    trailing_id(key),
                )
            })
            .collect()
    }

    /// Entries held: (queue, agenda).
    pub(crate) fn len(&self) -> (usize, usize) {
        (self.queue.len(), self.due.len())
    }
}

/// The SLA policy the agenda was last built for, as `meta` holds it (JSON; `None` for a new
/// store, or one whose record does not read as a policy: rebuilt at the next start).
fn stored_policy(trees: &Trees<TreeId>) -> Result<Option<SlaPolicy>, StoreError> {
    Ok(trees
        .tree(TreeId::Meta)
        .get(schema::SLA_POLICY)?
        .and_then(|raw| serde_json::from_slice(&raw).ok()))
}

/// Both indexes from every group of the store (at open): deadlines under the policy last
/// recorded, which the agent's start replaces if its configuration changed it.
pub(super) fn build(trees: &Trees<TreeId>) -> Result<Agenda, StoreError> {
    let started = std::time::Instant::now();
    let policy = stored_policy(trees)?;
    let mut agenda = Agenda::default();
    for value in trees.tree(TreeId::Groups).iter().values() {
        let group: AlertGroup = schema::decode(TreeId::Groups, &value?)?;
        agenda.add_group(&group, policy.as_ref());
    }
    let (queued, due) = agenda.len();
    tracing::info!(
        queued,
        due,
        ms = started.elapsed().as_millis() as u64,
        "triage queue and SLA agenda built from the alert groups"
    );
    Ok(agenda)
}

impl AgentStore {
    pub(super) fn agenda_read(&self) -> RwLockReadGuard<'_, Agenda> {
        self.agenda.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies a committed unit's changes (under the write lock, right after its commit).
    pub(super) fn apply_agenda(&self, changes: &[Change]) {
        if changes.is_empty() {
            return;
        }
        self.agenda
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .apply(changes);
    }

    /// Groups whose SLA deadline is at or before `now`, earliest first.
    pub fn groups_due(
        &self,
        now: UnixMillis,
        limit: usize,
    ) -> Result<Vec<(i64, Ulid)>, StoreError> {
        Ok(self.agenda_read().due_by(now, limit))
    }

    /// Rebuilds the SLA agenda from the groups when the SLA policy changed since the last
    /// start (deadlines depend on it), so no deadline of the old policy lingers; records the
    /// policy, which the next open builds the agenda under.
    pub fn rebuild_sla_agenda_if_changed(&self, policy: &SlaPolicy) -> Result<bool, StoreError> {
        let text = serde_json::to_vec(policy).unwrap_or_default();
        let meta = self.tree(TreeId::Meta);
        if meta
            .get(schema::SLA_POLICY)?
            .is_some_and(|stored| stored.as_ref() == text.as_slice())
        {
            return Ok(false);
        }
        let _guard = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        self.refuse_if_failed()?;
        self.rebuild_sla_agenda_locked(policy, &text)
            .map_err(|e| self.fail_on_io(e))?;
        Ok(true)
    }

    fn rebuild_sla_agenda_locked(&self, policy: &SlaPolicy, text: &[u8]) -> Result<(), StoreError> {
        let mut due = BTreeSet::new();
        for value in self.tree(TreeId::Groups).iter().values() {
            let group: AlertGroup = schema::decode(TreeId::Groups, &value?)?;
            due.extend(group_due(policy, &group));
        }
        self.agenda
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .replace_due(due);
        self.tree(TreeId::Meta).insert(schema::SLA_POLICY, text)?;
        self.sync_locked()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> Ulid {
        Ulid::from_parts(1_700_000_000_000 + n, u128::from(n))
    }

    #[test]
    fn a_queue_lists_its_newest_first_and_only_its_own() {
        let mut agenda = Agenda::default();
        let key = |status: u8, tier: u8, n: u64| {
            let mut k = [0u8; 18];
            (k[0], k[1]) = (status, tier);
            k[2..].copy_from_slice(&id(n).to_bytes());
            k
        };
        agenda.apply(&[
            Change::AddQueue(key(0, 1, 1)),
            Change::AddQueue(key(0, 1, 3)),
            Change::AddQueue(key(0, 2, 2)),
            Change::AddQueue(key(1, 1, 4)),
            Change::AddQueue(key(0, 1, 5)),
            Change::RemoveQueue(key(0, 1, 5)),
        ]);
        assert_eq!(agenda.newest(0, 1, 10), vec![id(3), id(1)]);
        assert_eq!(agenda.newest(0, 1, 1), vec![id(3)]);
        assert_eq!(agenda.newest(0, 2, 10), vec![id(2)]);
        assert!(agenda.newest(2, 1, 10).is_empty());
    }

    #[test]
    fn the_agenda_gives_what_is_due_by_now_earliest_first() {
        let mut agenda = Agenda::default();
        agenda.apply(&[
            Change::AddDue(due_key(300, id(1))),
            Change::AddDue(due_key(100, id(2))),
            Change::AddDue(due_key(200, id(3))),
            Change::RemoveDue(due_key(200, id(3))),
        ]);
        assert_eq!(agenda.due_by(250, 10), vec![(100, id(2))]);
        assert_eq!(agenda.due_by(300, 10), vec![(100, id(2)), (300, id(1))]);
        assert_eq!(agenda.due_by(300, 1), vec![(100, id(2))]);
        assert_eq!(agenda.len(), (0, 2));
    }
}
