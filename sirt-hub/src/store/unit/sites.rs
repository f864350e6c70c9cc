//! Per-site facts inside a unit: the site's counters (`sites`), each epoch's acknowledgement
//! mark (`epochs`), and the queue of incident states the hub owes the site (`site_states`,
//! `site_state_log`, with its sequence in `meta`; see `schema.rs`).
//!
//! The small records every escalation rewrites are written to the unit, which keeps the last
//! value per key: many escalations from few sites in one unit cost one tree write per record,
//! not one per escalation (each write copies a sled leaf).
//!
//! The state queue: what the hub says of a site's local incident (which hub incident, its
//! phase, its IR lead) goes back to that site whenever it changes. A change queues the local
//! incident under the site's next sequence and drops its earlier entry, so the log holds one
//! entry per local incident and a site that reconnects gets each changed incident once, in the
//! order of its last change. The state sent is read when it is sent (`query_states.rs`), so it
//! is always the latest.

use super::{StoreUnit, note};
use crate::store::StoreError;
use crate::store::marks::EpochMark;
use crate::store::records::SiteRecord;
use crate::store::schema::{self, TreeId};
use socfed_proto::vocab::SiteId;
use ulid::Ulid;

impl StoreUnit<'_> {
    /// What the hub knows of `site` (all zero for a site never seen).
    pub fn site(&self, site: &SiteId) -> Result<SiteRecord, StoreError> {
        Ok(self
            .work
            .get(TreeId::Sites, site.as_str().as_bytes())?
            .unwrap_or_default())
    }

    pub fn put_site(&mut self, site: &SiteId, record: &SiteRecord) -> Result<(), StoreError> {
        self.work
            .put(TreeId::Sites, site.as_str().as_bytes().to_vec(), record)?;
        Ok(())
    }

    /// Takes `site`'s next stream lease generation (a stream's hello): the newest stream
    /// holds the lease, and the replicas are told at commit (`crate::replicas`).
    pub fn take_stream_lease(&mut self, site: &SiteId) -> Result<u64, StoreError> {
        let key = schema::stream_lease_key(site);
        let generation = self.work.get_u64(TreeId::Meta, &key)?.saturating_add(1);
        self.work.put_u64(TreeId::Meta, &key, generation);
        self.touched.stream = Some((site.clone(), generation));
        Ok(generation)
    }

    /// The highest sequence of `site`'s `epoch` acknowledged so far (0: none), from the
    /// delivery state in memory (`store/marks.rs`), which equals `epochs`.
    pub fn acked_through(&self, site: &SiteId, epoch: Ulid) -> Result<u64, StoreError> {
        Ok(self.mark(site, epoch).map_or(0, |m| m.acked))
    }

    pub fn set_acked_through(&mut self, site: &SiteId, epoch: Ulid, through: u64) {
        self.work
            .put_u64(TreeId::Epochs, &schema::epoch_key(site, epoch), through);
        self.mark_mut(site, epoch).set_acked(through);
    }

    /// Whether anything may be stored under (`site`, `epoch`, `seq`): when not, no read of
    /// `escalations` is needed to know it is new.
    pub fn may_hold_escalation(&self, site: &SiteId, epoch: Ulid, seq: u64) -> bool {
        self.mark(site, epoch).is_some_and(|m| m.may_hold(seq))
    }

    /// The (site, epoch) state as this unit sees it.
    fn mark(&self, site: &SiteId, epoch: Ulid) -> Option<&EpochMark> {
        let key = (site.clone(), epoch);
        self.changed_marks
            .get(&key)
            .or_else(|| self.marks.get(&key))
    }

    /// This unit's copy of the (site, epoch) state, to change.
    pub(super) fn mark_mut(&mut self, site: &SiteId, epoch: Ulid) -> &mut EpochMark {
        let key = (site.clone(), epoch);
        let base = &self.marks;
        self.changed_marks
            .entry(key)
            .or_insert_with_key(|key| base.get(key).cloned().unwrap_or_default())
    }

    /// Queues the state of `site`'s local incident `local` for sending to the site.
    pub(super) fn queue_state(&mut self, site: &SiteId, local: &str) -> Result<(), StoreError> {
        // The same layout as `local_refs`: site ++ 0x00 ++ local incident id.
        let key = schema::local_ref_key(site, local);
        if let Some(raw) = self.work.get_raw(TreeId::SiteStates, &key)? {
            let earlier = schema::u64_value(schema::SITE_STATES, &raw)?;
            self.work
                .remove(TreeId::SiteStateLog, schema::state_log_key(site, earlier));
        }
        let seq_key = schema::state_seq_key(site);
        let seq = self.work.get_u64(TreeId::Meta, &seq_key)?.saturating_add(1);
        self.work.put_u64(TreeId::Meta, &seq_key, seq);
        self.work.put_raw(
            TreeId::SiteStateLog,
            schema::state_log_key(site, seq),
            local.as_bytes().to_vec(),
        );
        self.work.put_u64(TreeId::SiteStates, &key, seq);
        note(&mut self.touched.state_sites, site);
        Ok(())
    }
}
