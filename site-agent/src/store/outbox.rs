//! The escalation outbox: sequence assignment, the cap policy, acknowledgements.

use super::cap::{self, Admission, OnFull};
use super::schema::{self, OutboxEntry, RequestRecord, TreeId};
use super::unit::Unit;
use super::{AgentStore, StoreError};
use sled::Transactional;
use socfed_proto::UnixMillis;
use socfed_runtime::store_kit::ops::Op;
use std::sync::atomic::Ordering;
use ulid::Ulid;

/// What an enqueue did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    pub local_incident_id: String,
    pub seq: u64,
    /// The request id was seen before; nothing new was queued.
    pub replayed: bool,
    /// Oldest entries dropped to make room (drop-oldest policy).
    pub dropped: Vec<u64>,
}

/// A hub notice about one of our escalations, counted in `meta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The hub holds other content under that sequence.
    Conflict,
    /// The hub refused the report.
    Rejected,
}

impl Notice {
    /// The counter's name (as `site-agent status` shows it), which is also its `meta` key.
    pub fn counter_name(self) -> &'static str {
        match self {
            Notice::Conflict => schema::CONFLICTS_REPORTED,
            Notice::Rejected => schema::REJECTED_REPORTED,
        }
    }
}

/// Counters kept in `meta`, read together for status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    pub next_seq: u64,
    pub acked_through: u64,
    pub refused_total: u64,
    pub dropped_total: u64,
    pub conflicts_reported: u64,
    pub rejected_reported: u64,
}

impl Unit<'_> {
    /// Queues one escalation (an encoded `IncidentReport`) under the next sequence number,
    /// applying the cap policy. A refusal is counted even though the unit fails: the count is
    /// written by [`AgentStore::count_refusal`].
    pub fn enqueue(
        &mut self,
        report: Vec<u8>,
        now: UnixMillis,
        cap: u64,
        on_full: OnFull,
    ) -> Result<(u64, Vec<u64>), StoreError> {
        let len = self.get_u64(TreeId::Meta, schema::OUTBOX_LEN.as_bytes())?;
        let drop_count = match cap::admit(len, cap, on_full) {
            Admission::Admit => 0,
            Admission::AdmitDroppingOldest(n) => n,
            Admission::Refuse => {
                let oldest = self
                    .committed_keys(TreeId::Outbox, &[], 1)?
                    .first()
                    .and_then(|k| self.get::<OutboxEntry>(TreeId::Outbox, k).ok().flatten())
                    .map_or(0, |e| (now - e.enqueued_at_ms).max(0) as u64 / 1000);
                return Err(StoreError::OutboxFull {
                    len,
                    cap,
                    oldest_age_s: oldest,
                });
            }
        };
        let mut dropped = Vec::new();
        // Only a full outbox is scanned: with room, every raise used to read up to 64 keys to
        // drop none. Skip entries this unit already removed (several enqueues in one unit).
        let scan = if drop_count > 0 {
            self.committed_keys(TreeId::Outbox, &[], drop_count as usize + 64)?
        } else {
            Vec::new()
        };
        for key in scan {
            if dropped.len() as u64 == drop_count {
                break;
            }
            if self.get_raw(TreeId::Outbox, &key)?.is_some() {
                dropped.push(schema::u64_of(TreeId::Outbox, &key)?);
                self.remove(TreeId::Outbox, key.to_vec());
            }
        }
        if !dropped.is_empty() {
            let total = self.get_u64(TreeId::Meta, schema::DROPPED_TOTAL.as_bytes())?
                + dropped.len() as u64;
            self.put_u64(TreeId::Meta, schema::DROPPED_TOTAL.as_bytes(), total);
        }
        let seq = self
            .get_u64(TreeId::Meta, schema::NEXT_SEQ.as_bytes())?
            .max(1);
        self.put_u64(TreeId::Meta, schema::NEXT_SEQ.as_bytes(), seq + 1);
        self.put(
            TreeId::Outbox,
            seq.to_be_bytes().to_vec(),
            &OutboxEntry {
                enqueued_at_ms: now,
                report,
            },
        )?;
        let new_len = len + 1 - dropped.len() as u64;
        self.put_u64(TreeId::Meta, schema::OUTBOX_LEN.as_bytes(), new_len);
        self.outbox_delta += 1 - dropped.len() as i64;
        self.enqueued = true;
        Ok((seq, dropped))
    }

    /// The answer given to `actor`'s request id `id`, if it was seen before. Ids are the
    /// caller's, so they are kept per caller: two tools that both number their requests
    /// from 1 never take each other's answers.
    pub fn request(&self, actor: &str, id: &str) -> Result<Option<RequestRecord>, StoreError> {
        if let Some(found) = self.get(TreeId::Requests, &schema::request_key(actor, id))? {
            return Ok(Some(found));
        }
        // Kept by the id alone before schema 5: a retry across the upgrade still finds them.
        if self.legacy_request_keys {
            return Ok(self.get(TreeId::Requests, id.as_bytes())?);
        }
        Ok(None)
    }

    /// Records the answer given to `actor`'s request id `id`, replayed if the caller retries.
    pub fn put_request(
        &mut self,
        actor: &str,
        id: &str,
        record: &RequestRecord,
    ) -> Result<(), StoreError> {
        Ok(self.put(TreeId::Requests, schema::request_key(actor, id), record)?)
    }
}

impl AgentStore {
    /// Counts one escalation refused at the cap (its own unit: the refused one wrote nothing).
    pub fn count_refusal(&self) -> Result<(), StoreError> {
        self.bump(schema::REFUSED_TOTAL)
    }

    /// Counts a hub notice about one of our escalations (conflict or rejection).
    pub fn count_notice(&self, notice: Notice) -> Result<(), StoreError> {
        self.bump(notice.counter_name())
    }

    fn bump(&self, key: &'static str) -> Result<(), StoreError> {
        self.unit(|unit| {
            let value = unit.get_u64(TreeId::Meta, key.as_bytes())? + 1;
            unit.put_u64(TreeId::Meta, key.as_bytes(), value);
            Ok::<_, StoreError>(())
        })
    }

    /// Removes every entry the hub acknowledged. Not flushed: losing a removal only causes a
    /// resend, which the hub recognises as a duplicate.
    pub fn acknowledge(&self, acked_through: u64) -> Result<u64, StoreError> {
        let _guard = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let outbox = self.tree(TreeId::Outbox);
        let meta = self.tree(TreeId::Meta);
        let mut batch = sled::Batch::default();
        let mut removed = 0u64;
        for key in outbox.range(..=acked_through.to_be_bytes()).keys() {
            batch.remove(key?);
            removed += 1;
        }
        outbox.apply_batch(batch)?;
        let previous = self.counter(schema::ACKED_THROUGH)?;
        // The write path outside units counts too (`store_kit::ops`); counted before the
        // acknowledged sequence moves, so whoever sees it moved sees the removals counted.
        self.ops.add(TreeId::Outbox, Op::Scan, 1);
        self.ops.add(TreeId::Outbox, Op::Remove, removed);
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

    /// Entries with `seq >= from`, in order, at most `limit`.
    pub fn pending_from(
        &self,
        from: u64,
        limit: usize,
    ) -> Result<Vec<(u64, OutboxEntry)>, StoreError> {
        let durable = self.durable_through();
        if from > durable {
            return Ok(Vec::new());
        }
        self.ops.add(TreeId::Outbox, Op::Scan, 1);
        self.tree(TreeId::Outbox)
            .range(from.to_be_bytes()..=durable.to_be_bytes())
            .take(limit)
            .map(|entry| {
                let (key, value) = entry?;
                Ok((
                    schema::u64_of(TreeId::Outbox, &key)?,
                    schema::decode(TreeId::Outbox, &value)?,
                ))
            })
            .collect()
    }

    pub fn oldest_enqueued_at(&self) -> Result<Option<UnixMillis>, StoreError> {
        match self.tree(TreeId::Outbox).first()? {
            Some((_, value)) => Ok(Some(
                schema::decode::<OutboxEntry>(TreeId::Outbox, &value)?.enqueued_at_ms,
            )),
            None => Ok(None),
        }
    }

    pub fn counters(&self) -> Result<Counters, StoreError> {
        Ok(Counters {
            next_seq: self.counter(schema::NEXT_SEQ)?,
            acked_through: self.counter(schema::ACKED_THROUGH)?,
            refused_total: self.counter(schema::REFUSED_TOTAL)?,
            dropped_total: self.counter(schema::DROPPED_TOTAL)?,
            conflicts_reported: self.counter(schema::CONFLICTS_REPORTED)?,
            rejected_reported: self.counter(schema::REJECTED_REPORTED)?,
        })
    }

    fn counter(&self, key: &str) -> Result<u64, StoreError> {
        self.counter_value(key)
    }
}

impl AgentStore {
    /// Removes one entry that can never be delivered (larger than the hub accepts), counted
    /// as dropped; the next escalation declares it to the hub.
    pub fn set_aside(&self, seq: u64) -> Result<(), StoreError> {
        self.unit(|unit| {
            if unit.get_raw(TreeId::Outbox, &seq.to_be_bytes())?.is_none() {
                return Ok::<_, StoreError>(());
            }
            unit.remove(TreeId::Outbox, seq.to_be_bytes().to_vec());
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
        let entries: Vec<(sled::IVec, sled::IVec)> = outbox.iter().collect::<Result<_, _>>()?;
        let epoch = Ulid::new();
        let count = entries.len() as u64;
        let result = (outbox, meta).transaction(|(outbox, meta)| {
            for (key, _) in &entries {
                outbox.remove(key)?;
            }
            for (i, (_, value)) in entries.iter().enumerate() {
                outbox.insert(&(i as u64 + 1).to_be_bytes(), value)?;
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
