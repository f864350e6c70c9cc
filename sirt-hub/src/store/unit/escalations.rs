//! What the hub holds of each escalation inside a unit: the record under its idempotency key
//! (`escalations`, packed in runs of consecutive sequences, one entry per run per unit), offers kept for review (`reviews`), which hub incident each local incident
//! is part of (`local_refs`), and where each correlation fingerprint leads (`fingerprints`).

use super::StoreUnit;
use crate::store::StoreError;
use crate::store::records::{EscalationRecord, EscalationRun, FingerprintRecord, ReviewRecord};
use crate::store::schema::{self, TreeId};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::SiteId;
use ulid::Ulid;

impl StoreUnit<'_> {
    /// The escalation stored under (`site`, `epoch`, `seq`): from this unit's own, or from
    /// the run holding `seq` (one seek: runs are keyed by their last sequence, `schema.rs`).
    pub fn escalation(
        &self,
        site: &SiteId,
        epoch: Ulid,
        seq: u64,
    ) -> Result<Option<EscalationRecord>, StoreError> {
        if let Some(own) = self.new_escalations.get(&(site.clone(), epoch))
            && let Some((_, record)) = own.iter().find(|(s, _)| *s == seq)
        {
            return Ok(Some(record.clone()));
        }
        let prefix = schema::epoch_key(site, epoch);
        let key = schema::escalation_key(site, epoch, seq);
        match self.work.seek(TreeId::Escalations, &prefix, &key)? {
            Some((key, raw)) => {
                let run = schema::decode_escalation_run_at(&key, &raw)?;
                Ok(run.get(seq).cloned())
            }
            None => Ok(None),
        }
    }

    /// Whether an escalation is stored under (`site`, `epoch`, `seq`) above the
    /// acknowledgement mark, from the delivery state in memory (no read).
    pub fn holds_above_mark(&self, site: &SiteId, epoch: Ulid, seq: u64) -> bool {
        self.acked_through(site, epoch)
            .is_ok_and(|acked| seq > acked)
            && self.may_hold_escalation(site, epoch, seq)
    }

    /// Stores `record` under (`site`, `epoch`, `seq`), which holds nothing yet: kept in the
    /// unit and written at commit in its run (`write_escalation_runs`).
    pub fn put_escalation(
        &mut self,
        site: &SiteId,
        epoch: Ulid,
        seq: u64,
        record: &EscalationRecord,
    ) -> Result<(), StoreError> {
        self.new_escalations
            .entry((site.clone(), epoch))
            .or_default()
            .push((seq, record.clone()));
        let mark = self.mark_mut(site, epoch);
        if seq > mark.acked {
            mark.above.insert(seq);
        }
        Ok(())
    }

    /// Writes the escalations this unit stored: per (site, epoch), one entry per run of
    /// consecutive sequences, at most [`schema::MAX_ESCALATION_RUN`] long (a site sending in order makes one run
    /// per unit).
    pub(super) fn write_escalation_runs(&mut self) -> Result<(), StoreError> {
        for ((site, epoch), mut stored) in std::mem::take(&mut self.new_escalations) {
            stored.sort_by_key(|(seq, _)| *seq);
            if let Some(shared) = &mut self.shared {
                shared.note_keys(&(site.clone(), epoch), &stored)?;
            }
            let runs = socfed_runtime::store_kit::runs::consecutive(stored, |run, _| {
                run.records.len() < schema::MAX_ESCALATION_RUN
            });
            for run in runs {
                self.put_run(&site, epoch, &run)?;
            }
        }
        Ok(())
    }

    fn put_run(
        &mut self,
        site: &SiteId,
        epoch: Ulid,
        run: &EscalationRun,
    ) -> Result<(), StoreError> {
        self.work.put_raw(
            TreeId::Escalations,
            schema::escalation_key(site, epoch, run.last()),
            schema::encode_escalation_run(run)?,
        );
        Ok(())
    }

    /// Keeps an offer for review under `id`, beside every earlier offer of the same key.
    pub fn put_review(&mut self, id: Ulid, record: &ReviewRecord) -> Result<(), StoreError> {
        let key = schema::review_key(&record.site, record.epoch, record.seq, id);
        self.work.put(TreeId::Reviews, key, record)?;
        Ok(())
    }

    /// The hub incident `site`'s local incident `local` is part of.
    pub fn local_ref(&self, site: &SiteId, local: &str) -> Result<Option<Ulid>, StoreError> {
        match self
            .work
            .get_raw(TreeId::LocalRefs, &schema::local_ref_key(site, local))?
        {
            Some(raw) => Ok(Some(schema::ulid_from_key(schema::LOCAL_REFS, &raw)?)),
            None => Ok(None),
        }
    }

    pub fn set_local_ref(&mut self, site: &SiteId, local: &str, incident: Ulid) {
        self.work.put_raw(
            TreeId::LocalRefs,
            schema::local_ref_key(site, local),
            incident.to_bytes().to_vec(),
        );
    }

    /// Where correlation fingerprint `key` last led, if that can still match at `now`: only
    /// the generations `window_ms` reaches are asked, newest first, and only those whose
    /// filter may hold the key (`fingerprint_gens.rs`). A record past the window decides what
    /// no record decides (`correlate::within_window`), so none is returned for it.
    pub fn fingerprint(
        &self,
        key: &[u8; 32],
        now: UnixMillis,
        window_ms: i64,
    ) -> Result<Option<FingerprintRecord>, StoreError> {
        if self.generations.is_shared() {
            let keys: Vec<Vec<u8>> = self
                .generations
                .candidates(key, now, window_ms)
                .map(|generation| schema::fingerprint_key(generation, key))
                .collect();
            return Ok(self
                .work
                .first_of(TreeId::Fingerprints, &keys)?
                .map(|(_, record)| record));
        }
        for generation in self.generations.candidates(key, now, window_ms) {
            let found: Option<FingerprintRecord> = self.work.get(
                TreeId::Fingerprints,
                &schema::fingerprint_key(generation, key),
            )?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// Points `key` at `record`, in the generation of its `last_seen_ms`. A copy in an older
    /// generation stays until that generation is pruned: lookups take the newest.
    pub fn put_fingerprint(
        &mut self,
        key: &[u8; 32],
        record: &FingerprintRecord,
    ) -> Result<(), StoreError> {
        let generation = self.generations.generation(record.last_seen_ms);
        self.work.put(
            TreeId::Fingerprints,
            schema::fingerprint_key(generation, key),
            record,
        )?;
        // Noted before the commit: should the unit fail, the filter only claims a key the
        // tree lacks, which costs one lookup.
        self.generations.note(generation, key);
        Ok(())
    }

    /// Removes up to `max` keys of generations wholly past the window at `now`; a generation
    /// found empty is forgotten. Called once per writer batch, so pruning is spread out.
    pub fn prune_fingerprints(
        &mut self,
        now: UnixMillis,
        window_ms: i64,
        max: usize,
    ) -> Result<usize, StoreError> {
        let mut removed = 0;
        for generation in self.generations.expired(now, window_ms) {
            let prefix = generation.to_be_bytes();
            let keys = self
                .work
                .committed_keys(TreeId::Fingerprints, &prefix, max - removed)?;
            if keys.is_empty() {
                self.generations.forget(generation);
                continue;
            }
            for key in keys {
                self.work.remove(TreeId::Fingerprints, key.to_vec());
                removed += 1;
            }
            if removed >= max {
                break;
            }
        }
        Ok(removed)
    }
}
