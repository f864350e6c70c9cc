//! The escalation outbox: sequence assignment, the cap policy, request-id replay, counters.
//! Its runs (how escalations are stored, read and removed) are `outbox_runs.rs`.

use super::cap::{self, Admission, OnFull};
use super::schema::{self, OutboxEntry, RequestRecord, TreeId};
use super::unit::Unit;
use super::{AgentStore, StoreError};
use socfed_proto::UnixMillis;

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
                    .oldest_queued_at()
                    .ok()
                    .flatten()
                    .map_or(0, |at| (now - at).max(0) as u64 / 1000);
                return Err(StoreError::OutboxFull {
                    len,
                    cap,
                    oldest_age_s: oldest,
                });
            }
        };
        // Only a full outbox is read: with room, a raise reads nothing of it.
        let dropped = self.drop_oldest(drop_count)?;
        if !dropped.is_empty() {
            let total = self.get_u64(TreeId::Meta, schema::DROPPED_TOTAL.as_bytes())?
                + dropped.len() as u64;
            self.put_u64(TreeId::Meta, schema::DROPPED_TOTAL.as_bytes(), total);
        }
        let seq = self
            .get_u64(TreeId::Meta, schema::NEXT_SEQ.as_bytes())?
            .max(1);
        let next = seq.checked_add(1).ok_or_else(|| {
            StoreError::Codec(schema::CodecError::Malformed {
                tree: "meta",
                detail: format!("next_seq {seq} leaves no sequence to assign"),
            })
        })?;
        self.put_u64(TreeId::Meta, schema::NEXT_SEQ.as_bytes(), next);
        // Written as part of a run when the unit ends (`outbox_runs.rs`).
        self.new_outbox.push((
            seq,
            OutboxEntry {
                enqueued_at_ms: now,
                report,
            },
        ));
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
