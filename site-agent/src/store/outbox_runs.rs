//! The outbox's runs (`schema/outbox.rs`): the escalations one unit queued are written as
//! runs of consecutive sequences, each under its last sequence; this module writes them, reads
//! them for the uplink (the stored report bytes shared, never decoded or copied), and removes
//! from them: acknowledgements, the cap's drop-oldest, set-aside, the epoch restart. Every
//! removal keeps `outbox_len` exact: it counts escalations, not runs.
//!
//! A partly acknowledged run is trimmed (rewritten without its acknowledged escalations), not
//! filtered through the `acked_through` mark: what the tree holds stays exactly what is
//! queued, which the cap, drop-oldest, set-aside, the epoch restart, `db check`, dumps and the
//! status counts all rely on, and which a restored or imported store cannot get out of step
//! with. A mark would also filter escalations queued after an acknowledgement past them (a
//! hub ahead of a restored store), which trimming never loses. The cost is one rewrite of at
//! most one run per acknowledgement, bounded by `MAX_OUTBOX_RUN_BYTES`.

use super::schema::{self, OutboxEntry, OutboxRun, TreeId};
use super::unit::Unit;
use super::{AgentStore, StoreError};
use sled::Transactional;
use socfed_proto::UnixMillis;
use socfed_runtime::store_kit::ops::Op;
use socfed_runtime::store_kit::runs;
use std::sync::atomic::Ordering;
use ulid::Ulid;

/// One queued escalation as the uplink reads it.
#[derive(Debug, Clone)]
pub struct Queued {
    pub enqueued_at_ms: UnixMillis,
    /// The `IncidentReport` bytes as stored, to be forwarded as they are.
    pub report: StoredReport,
}

/// Report bytes shared with the run value read from the store (no copy).
#[derive(Clone)]
pub struct StoredReport(sled::IVec);

impl std::ops::Deref for StoredReport {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for StoredReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} report bytes>", self.0.len())
    }
}

impl StoredReport {
    /// `report`, a slice of `value` (a field of its view), as a share of `value`.
    fn within(value: &sled::IVec, report: &[u8]) -> Result<Self, StoreError> {
        let offset = (report.as_ptr() as usize).checked_sub(value.as_ptr() as usize);
        match offset {
            Some(offset) if offset.checked_add(report.len()) <= Some(value.len()) => {
                Ok(Self(value.subslice(offset, report.len())))
            }
            _ => Err(StoreError::Codec(schema::CodecError::Malformed {
                tree: "outbox",
                detail: "a report outside its run's value".into(),
            })),
        }
    }
}

/// `run` without its first `count` escalations (`count` < its length).
fn trimmed(run: &schema::OutboxRunView<'_>, count: usize) -> OutboxRun {
    OutboxRun {
        first: run.first.saturating_add(count as u64),
        records: run.records[count..]
            .iter()
            .map(|r| OutboxEntry {
                enqueued_at_ms: r.enqueued_at_ms,
                report: r.report.to_vec(),
            })
            .collect(),
    }
}

/// Runs drop-oldest reads at a time (each at most a run's cap of report bytes).
const DROP_CHUNK_RUNS: usize = 64;

impl Unit<'_> {
    /// Writes the escalations this unit queued as runs (called once, as the unit ends): a run
    /// per [`schema::MAX_OUTBOX_RUN`] escalations or [`schema::MAX_OUTBOX_RUN_BYTES`].
    pub(crate) fn write_outbox_runs(&mut self) -> Result<(), StoreError> {
        let queued = std::mem::take(&mut self.new_outbox);
        let packed = runs::consecutive(queued, |run, next| {
            let bytes: usize = run.records.iter().map(|r| r.report.len()).sum();
            run.records.len() < schema::MAX_OUTBOX_RUN
                && bytes.saturating_add(next.report.len()) <= schema::MAX_OUTBOX_RUN_BYTES
        });
        for run in packed {
            self.put(
                TreeId::Outbox,
                schema::outbox_key(run.last()).to_vec(),
                &run,
            )?;
        }
        Ok(())
    }

    /// Removes the `count` oldest escalations stored before this unit (the cap's drop-oldest),
    /// trimming the run it stops inside; returns their sequences. What this unit queued itself
    /// is never dropped: its callers are told it was queued.
    pub(super) fn drop_oldest(&mut self, count: u64) -> Result<Vec<u64>, StoreError> {
        let mut dropped = Vec::new();
        if count == 0 {
            return Ok(dropped);
        }
        // Read a few runs at a time, as this unit sees the tree (runs an earlier enqueue of it
        // dropped or trimmed included): a cap lowered far below the queue drops most of it,
        // and reading every run at once would hold the whole outbox in memory.
        let mut from: Vec<u8> = Vec::new();
        while (dropped.len() as u64) < count {
            let chunk = self.entries_from(TreeId::Outbox, &[], &from, DROP_CHUNK_RUNS)?;
            let Some((last_key, _)) = chunk.last() else {
                break;
            };
            // The next chunk starts just after this one's last key.
            from = last_key.clone();
            from.push(0);
            for (key, value) in chunk {
                let want = count.saturating_sub(dropped.len() as u64);
                if want == 0 {
                    break;
                }
                let run = schema::outbox_run_at(&key, &value)?;
                if run.records.len() as u64 <= want {
                    dropped.extend(run.iter().map(|(seq, _)| seq));
                    self.remove(TreeId::Outbox, key);
                } else {
                    let cut = usize::try_from(want).unwrap_or(usize::MAX);
                    dropped.extend(run.iter().take(cut).map(|(seq, _)| seq));
                    // Trimmed at the front: it still ends where its key says.
                    let kept = trimmed(&run, cut);
                    self.put(TreeId::Outbox, key, &kept)?;
                }
            }
        }
        Ok(dropped)
    }

    /// When the oldest escalation stored before this unit was queued.
    pub(super) fn oldest_queued_at(&self) -> Result<Option<UnixMillis>, StoreError> {
        match self.seek(TreeId::Outbox, &[], &[])? {
            Some((key, value)) => Ok(schema::outbox_run_at(&key, &value)?
                .records
                .first()
                .map(|r| r.enqueued_at_ms)),
            None => Ok(None),
        }
    }
}

impl AgentStore {
    /// Removes every escalation the hub acknowledged: whole runs at or below `acked_through`,
    /// and the run it ends inside trimmed (module docs). Not flushed: losing a removal only
    /// causes a resend, which the hub recognises as a duplicate.
    pub fn acknowledge(&self, acked_through: u64) -> Result<u64, StoreError> {
        let _guard = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let outbox = self.tree(TreeId::Outbox);
        let meta = self.tree(TreeId::Meta);
        let mut batch = sled::Batch::default();
        let (mut removed, mut runs_removed, mut trims) = (0u64, 0u64, 0u64);
        for item in outbox.iter() {
            let (key, value) = item?;
            let run = schema::outbox_run_at(&key, &value)?;
            if run.first > acked_through {
                break;
            }
            if run.last() <= acked_through {
                removed += run.records.len() as u64;
                runs_removed += 1;
                batch.remove(key);
                continue;
            }
            // `first <= acked_through < last`: the cut is inside the run.
            let cut = usize::try_from(acked_through - run.first + 1).unwrap_or(usize::MAX);
            batch.insert(key, schema::encode(TreeId::Outbox, &trimmed(&run, cut))?);
            removed += cut as u64;
            trims = 1;
            break;
        }
        outbox.apply_batch(batch)?;
        let previous = self.counter_value(schema::ACKED_THROUGH)?;
        // The write path outside units counts too (`store_kit::ops`); counted before the
        // acknowledged sequence moves, so whoever sees it moved sees the removals counted.
        self.ops.add(TreeId::Outbox, Op::Scan, 1);
        self.ops.add(TreeId::Outbox, Op::Remove, runs_removed);
        self.ops.add(TreeId::Outbox, Op::Insert, trims);
        self.ops.add(TreeId::Meta, Op::Get, 1);
        self.ops.add(
            TreeId::Meta,
            Op::Insert,
            1 + u64::from(acked_through > previous),
        );
        if acked_through > previous {
            meta.insert(schema::ACKED_THROUGH, &acked_through.to_be_bytes())?;
        }
        let len = self.outbox_len().saturating_sub(removed);
        meta.insert(schema::OUTBOX_LEN, &len.to_be_bytes())?;
        self.outbox_len.store(len, Ordering::Relaxed);
        Ok(removed)
    }

    /// Escalations with `seq >= from`, in order, at most `limit`, none past what is durable:
    /// one seek finds the run holding `from`, and each report is the stored bytes, shared.
    pub fn pending_from(&self, from: u64, limit: usize) -> Result<Vec<(u64, Queued)>, StoreError> {
        let durable = self.durable_through();
        let mut out = Vec::new();
        if from > durable || limit == 0 {
            return Ok(out);
        }
        self.ops.add(TreeId::Outbox, Op::Scan, 1);
        for item in self.tree(TreeId::Outbox).range(schema::outbox_key(from)..) {
            let (key, value) = item?;
            let run = schema::outbox_run_at(&key, &value)?;
            if run.first > durable {
                break;
            }
            for (seq, entry) in run.iter().filter(|(seq, _)| *seq >= from) {
                if seq > durable || out.len() >= limit {
                    return Ok(out);
                }
                let report = StoredReport::within(&value, entry.report)?;
                out.push((
                    seq,
                    Queued {
                        enqueued_at_ms: entry.enqueued_at_ms,
                        report,
                    },
                ));
            }
        }
        Ok(out)
    }

    pub fn oldest_enqueued_at(&self) -> Result<Option<UnixMillis>, StoreError> {
        match self.tree(TreeId::Outbox).first()? {
            Some((key, value)) => Ok(schema::outbox_run_at(&key, &value)?
                .records
                .first()
                .map(|r| r.enqueued_at_ms)),
            None => Ok(None),
        }
    }

    /// Removes one escalation that can never be delivered (larger than the hub accepts),
    /// counted as dropped; the next escalation declares it to the hub. Inside a run, the run
    /// is split around it: runs hold consecutive sequences only.
    pub fn set_aside(&self, seq: u64) -> Result<(), StoreError> {
        self.unit(|unit| {
            let Some((key, value)) = unit.seek(TreeId::Outbox, &[], &schema::outbox_key(seq))?
            else {
                return Ok::<_, StoreError>(());
            };
            let run = schema::outbox_run_owned(&key, &value)?;
            let Some(index) = seq
                .checked_sub(run.first)
                .and_then(|i| usize::try_from(i).ok())
            else {
                return Ok(());
            };
            let mut before = run.records;
            let after = before.split_off(index).split_off(1);
            if after.is_empty() {
                unit.remove(TreeId::Outbox, key);
            } else {
                let after = OutboxRun {
                    first: seq.saturating_add(1),
                    records: after,
                };
                unit.put(TreeId::Outbox, key, &after)?;
            }
            if !before.is_empty() {
                let before = OutboxRun {
                    first: run.first,
                    records: before,
                };
                let key = schema::outbox_key(before.last()).to_vec();
                unit.put(TreeId::Outbox, key, &before)?;
            }
            let len = unit
                .get_u64(TreeId::Meta, schema::OUTBOX_LEN.as_bytes())?
                .saturating_sub(1);
            unit.put_u64(TreeId::Meta, schema::OUTBOX_LEN.as_bytes(), len);
            let dropped = unit.get_u64(TreeId::Meta, schema::DROPPED_TOTAL.as_bytes())? + 1;
            unit.put_u64(TreeId::Meta, schema::DROPPED_TOTAL.as_bytes(), dropped);
            unit.outbox_delta -= 1;
            Ok(())
        })
    }

    /// The hub holds more of this epoch than the store has: the store was restored from a
    /// backup. Everything still queued moves to a fresh epoch, renumbered from 1 in order, in
    /// one transaction; the hub sees a new epoch and nothing collides with what it holds.
    pub fn restart_epoch(&self) -> Result<Ulid, StoreError> {
        let _guard = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        self.refuse_if_failed()?;
        self.restart_epoch_locked().map_err(|e| self.fail_on_io(e))
    }

    fn restart_epoch_locked(&self) -> Result<Ulid, StoreError> {
        let outbox = self.tree(TreeId::Outbox);
        let meta = self.tree(TreeId::Meta);
        let mut old_keys = Vec::new();
        let mut renumbered = Vec::new();
        let mut count = 0u64;
        for item in outbox.iter() {
            let (key, value) = item?;
            let mut run = schema::outbox_run_owned(&key, &value)?;
            // Each run keeps its escalations, in order, from the next free sequence.
            run.first = count + 1;
            count += run.records.len() as u64;
            renumbered.push((
                schema::outbox_key(run.last()),
                schema::encode(TreeId::Outbox, &run)?,
            ));
            old_keys.push(key);
        }
        let epoch = Ulid::new();
        let result = (outbox, meta).transaction(|(outbox, meta)| {
            for key in &old_keys {
                outbox.remove(key)?;
            }
            for (key, value) in &renumbered {
                outbox.insert(key, value.as_slice())?;
            }
            meta.insert(schema::EPOCH, &epoch.to_bytes())?;
            meta.insert(schema::NEXT_SEQ, &(count + 1).to_be_bytes())?;
            meta.insert(schema::ACKED_THROUGH, &0u64.to_be_bytes())?;
            meta.insert(schema::OUTBOX_LEN, &count.to_be_bytes())?;
            Ok::<_, sled::transaction::ConflictableTransactionError<()>>(())
        });
        if let Err(sled::transaction::TransactionError::Storage(e)) = result {
            return Err(StoreError::Sled(e));
        }
        self.sync_locked()?;
        *self.epoch.write().unwrap_or_else(|p| p.into_inner()) = epoch;
        self.outbox_len.store(count, Ordering::Relaxed);
        self.durable_through.store(count, Ordering::Release);
        Ok(epoch)
    }
}
