//! Group commit for the agent store: when a unit's writes become durable.
//!
//! A unit commits its transaction under the write lock and takes a ticket (commits are
//! numbered in commit order). It then waits, outside the write lock, until a flush that started
//! after its commit has completed. Flushes run one at a time; every unit that committed while
//! one was running is covered by the next, so under concurrent writers one flush and one
//! fdatasync serve many units, and a lone writer pays exactly what it paid before.
//!
//! What a flush covers is read under the write lock (the sync point): the last ticket, the
//! sequence the uplink may send up to, and the commit witness. Reading them together keeps the
//! witness from ever running ahead of what the flush made durable.

use super::{AgentStore, StoreError, witness_error};
use socfed_runtime::witness::Witness;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub(super) struct SyncState {
    /// Tickets handed out so far; advanced only under the write lock.
    committed: AtomicU64,
    /// Every ticket up to this one is durable.
    synced: AtomicU64,
    /// One flush at a time. Lock order: the write lock, then this one, never the reverse.
    flushing: Mutex<()>,
}

impl SyncState {
    /// The ticket of a commit that just happened; call with the write lock held.
    pub(super) fn committed(&self) -> u64 {
        self.committed.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// The ticket of the last commit so far; call with the write lock held.
    pub(super) fn latest(&self) -> u64 {
        self.committed.load(Ordering::Acquire)
    }
}

/// What one flush makes durable, read under the write lock.
struct SyncPoint {
    through_ticket: u64,
    witness: Witness,
}

impl AgentStore {
    fn sync_point(&self) -> Result<SyncPoint, StoreError> {
        Ok(SyncPoint {
            through_ticket: self.sync.committed.load(Ordering::Acquire),
            witness: self.witness()?,
        })
    }

    /// Returns once the commit with `ticket` is durable, flushing if no one else has.
    /// Refuses once a flush failed, whatever the ticket: a later fdatasync that succeeds does
    /// not write again the pages the failed one lost, so nothing committed before or after
    /// the failure may be answered as durable (a retried request id would otherwise be
    /// answered from a commit whose data may be gone).
    pub(super) fn sync_through(&self, ticket: u64) -> Result<(), StoreError> {
        self.refuse_if_failed()?;
        if self.sync.synced.load(Ordering::Acquire) >= ticket {
            return Ok(());
        }
        // Taken before the flush lock: the lock order is write, then flush.
        let point = {
            let _write = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
            self.sync_point()?
        };
        let _flushing = self.sync.flushing.lock().unwrap_or_else(|p| p.into_inner());
        // A flush that finished while this one waited may have covered it. If not, no flush
        // with a later sync point has finished, so this point is the newest one to record.
        // One that failed meanwhile recorded it under this lock.
        self.refuse_if_failed()?;
        if self.sync.synced.load(Ordering::Acquire) >= ticket {
            return Ok(());
        }
        self.flush(&point)
    }

    /// Makes everything committed so far durable. The caller holds the write lock.
    pub(super) fn sync_locked(&self) -> Result<(), StoreError> {
        let point = self.sync_point()?;
        let _flushing = self.sync.flushing.lock().unwrap_or_else(|p| p.into_inner());
        self.flush(&point)
    }

    /// Flushes everything (used at shutdown).
    pub fn close(&self) -> Result<(), StoreError> {
        let _write = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        self.sync_locked()
    }

    /// The flush itself; the caller holds the flush lock. A failure is recorded before the
    /// lock is released, so no flush waiting behind this one can succeed and answer first.
    fn flush(&self, point: &SyncPoint) -> Result<(), StoreError> {
        self.refuse_if_failed()?;
        let durable = self
            .db
            .flush()
            .map(drop)
            .map_err(StoreError::from)
            .and_then(|()| self.data_sync.after_flush().map_err(StoreError::from))
            // Only after the store is durable: the witness must never run ahead of it.
            .and_then(|()| {
                socfed_runtime::witness::write(&self.dir, &point.witness)
                    .map_err(|e| witness_error(&self.dir, e))
            });
        durable.map_err(|e| self.fail(e))?;
        self.durable_through
            .store(point.witness.seq, Ordering::Release);
        self.sync
            .synced
            .fetch_max(point.through_ticket, Ordering::AcqRel);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Durability;
    use crate::store::cap::OnFull;
    use std::sync::Arc;

    fn key() -> socfed_runtime::audit::ChainKey {
        socfed_runtime::audit::ChainKey::from_bytes([1; 32])
    }

    /// An outbox with room takes a raise without scanning itself; a full one scans to drop.
    #[test]
    fn only_a_full_outbox_is_scanned_on_enqueue() {
        use crate::store::schema::TreeId;
        use socfed_runtime::store_kit::TreeSet;
        use socfed_runtime::store_kit::ops::Op;
        let dir = tempfile::tempdir().expect("temp dir");
        let store = AgentStore::open(dir.path(), Durability::Flush, 8 << 20, key()).expect("open");
        let scans = |cap, on_full| {
            store
                .unit(|u| {
                    u.enqueue(vec![7; 64], 0, cap, on_full)?;
                    Ok::<_, StoreError>(u.ops().get(TreeId::Outbox.index(), Op::Scan))
                })
                .expect("enqueue")
        };
        assert_eq!(scans(1_000, OnFull::RefuseNew), 0);
        assert_eq!(scans(1_000, OnFull::RefuseNew), 0);
        assert_eq!(
            scans(2, OnFull::DropOldest),
            1,
            "full: the oldest is dropped"
        );
    }

    #[test]
    fn concurrent_units_each_return_durable_and_the_witness_follows_the_store() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(
            AgentStore::open(dir.path(), Durability::Fsync, 8 << 20, key()).expect("open"),
        );
        let (threads, each) = (8u64, 50u64);
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let mut seqs = Vec::new();
                    for _ in 0..each {
                        let (seq, _) = store
                            .unit(|u| u.enqueue(vec![7; 64], 0, 1_000_000, OnFull::RefuseNew))
                            .expect("enqueue");
                        // Returned means durable: the uplink may already send it.
                        assert!(store.durable_through() >= seq);
                        seqs.push(seq);
                    }
                    seqs
                })
            })
            .collect();
        let mut seqs: Vec<u64> = workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=threads * each).collect::<Vec<_>>());
        assert_eq!(store.durable_through(), threads * each);
        assert_eq!(store.outbox_len(), threads * each);
        let witness = socfed_runtime::witness::read(dir.path())
            .expect("witness")
            .expect("written");
        assert_eq!(witness.seq, threads * each);
        drop(store);
        let reopened =
            AgentStore::open(dir.path(), Durability::Fsync, 8 << 20, key()).expect("reopen");
        assert_eq!(
            reopened.pending_from(1, 10_000).expect("read").len() as u64,
            threads * each
        );
    }

    /// The two-stage committer commits fold k+1 before fold k's flush ends. Once a flush
    /// failed, whatever is waiting is refused, even if a later fdatasync would succeed (the
    /// pages the failed one lost are not written again) and even if a flush before the failure
    /// covered it: nothing is answered as durable from a store whose flush failed.
    #[test]
    fn after_a_failed_flush_no_unit_is_answered_as_durable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = AgentStore::open(dir.path(), Durability::Fsync, 8 << 20, key()).expect("open");
        let enqueue = |u: &mut crate::store::unit::Unit| {
            u.enqueue(vec![7; 64], 0, 1_000_000, OnFull::RefuseNew)
        };
        let (_, earlier) = store.unit_deferred(enqueue).expect("fold k-1 commits");
        let covered = crate::store::Pending {
            ticket: earlier.ticket,
            enqueued: false,
        };
        store.wait_durable(earlier).expect("fold k-1 is durable");
        let (_, fold_k) = store.unit_deferred(enqueue).expect("fold k commits");
        let (_, fold_k1) = store.unit_deferred(enqueue).expect("fold k+1 commits");
        // Fold k's flush fails (as an fdatasync error would make it).
        let failure = store.fail(StoreError::Sync(std::io::Error::other("fdatasync: EIO")));
        assert!(matches!(failure, StoreError::Sync(_)));
        assert!(matches!(
            store.wait_durable(fold_k),
            Err(StoreError::Failed { .. })
        ));
        assert!(
            matches!(store.wait_durable(fold_k1), Err(StoreError::Failed { .. })),
            "fold k+1 answered durable after fold k's flush failed"
        );
        assert!(
            matches!(store.wait_durable(covered), Err(StoreError::Failed { .. })),
            "a wait answered from an earlier flush after the failure"
        );
        assert!(
            store.close().is_err(),
            "a failed store is not flushed again"
        );
    }
}
