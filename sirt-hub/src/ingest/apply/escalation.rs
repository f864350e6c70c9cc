//! Escalations: idempotency by (site, epoch, seq), conflicts and rejections kept for review,
//! correlation into hub incidents, merges the correlation proves, and the high-water mark.

use super::fingerprints::Read;
use super::{Batch, EscalationOutcome, IncidentChange, Offered, Outcome};
use crate::correlate::{self, Decision, PriorMatch};
use crate::incident;
use crate::incident::IncidentRecord;
use crate::store::StoreError;
use crate::store::records::{EscalationRecord, FingerprintRecord, ReviewKind, ReviewRecord};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::{IncidentReport, SiteId};
use ulid::Ulid;

impl Batch<'_, '_> {
    pub(super) fn escalation(
        &mut self,
        site: &SiteId,
        epoch: Ulid,
        (seq, dropped_before): (u64, u64),
        enqueued_at_ms: UnixMillis,
        offered: &Offered,
        changes: &mut Vec<IncidentChange>,
    ) -> Result<Outcome, StoreError> {
        let now = self.now;
        let offered_hash = offered.content_hash();
        let mut record = self.unit.site(site)?;
        record.last_seen_ms = now;
        // Only a sequence the delivery state says may be stored costs a read.
        let stored = if self.unit.may_hold_escalation(site, epoch, seq) {
            self.unit.escalation(site, epoch, seq)?
        } else {
            None
        };
        let outcome = match stored {
            Some(stored) => {
                if stored.content_hash == offered_hash {
                    record.duplicates = record.duplicates.saturating_add(1);
                    EscalationOutcome::Duplicate
                } else {
                    let reason = format!(
                        "sequence {seq} of epoch {epoch} is already stored with different content"
                    );
                    self.review(
                        site,
                        epoch,
                        seq,
                        ReviewKind::Conflict,
                        &reason,
                        Some(stored.content_hash),
                        offered,
                    )?;
                    record.conflicts = record.conflicts.saturating_add(1);
                    EscalationOutcome::Conflict { reason }
                }
            }
            None => {
                let (hub_incident, outcome) = match offered {
                    Offered::Valid(report) => {
                        let change = self.apply_report(site, report, changes)?;
                        let id = change.record.id;
                        changes.retain(|c| c.record.id != id);
                        changes.push(change);
                        record.escalations_stored = record.escalations_stored.saturating_add(1);
                        (Some(id), EscalationOutcome::Applied { incident: id })
                    }
                    Offered::Invalid { reason, .. } => {
                        self.review(
                            site,
                            epoch,
                            seq,
                            ReviewKind::Rejected,
                            reason,
                            None,
                            offered,
                        )?;
                        record.rejected = record.rejected.saturating_add(1);
                        (
                            None,
                            EscalationOutcome::Rejected {
                                reason: reason.clone(),
                            },
                        )
                    }
                };
                let stored = EscalationRecord {
                    content_hash: offered_hash,
                    received_at_ms: now,
                    enqueued_at_ms,
                    hub_incident,
                    journal: self.journal.ok_or(StoreError::Journal(
                        crate::store::journal::JournalError::Codec(
                            "an escalation applied without its journal entry".into(),
                        ),
                    ))?,
                };
                self.unit.put_escalation(site, epoch, seq, &stored)?;
                outcome
            }
        };
        // The high-water mark only moves over sequences the hub holds or the site declared it
        // will never send: an undeclared hole is never acknowledged across, so the site keeps
        // (and resends) everything after it.
        // Sequences come from the site: the stream refuses any above `bounds::MAX_SEQ`, and
        // every step here is checked or saturating anyway, so no input can wrap the mark.
        let mut acked_through = self.unit.acked_through(site, epoch)?;
        let first_declared = seq.saturating_sub(dropped_before).max(1);
        if seq > acked_through && first_declared <= acked_through.saturating_add(1) {
            let gap = seq
                .saturating_sub(acked_through.max(first_declared - 1))
                .saturating_sub(1);
            record.gaps = record.gaps.saturating_add(gap);
            acked_through = seq;
            // Catch up over anything stored earlier out of order.
            while let Some(next) = acked_through.checked_add(1)
                && self.unit.holds_above_mark(site, epoch, next)
            {
                acked_through = next;
            }
            self.unit.set_acked_through(site, epoch, acked_through);
        } else if seq > acked_through.saturating_add(1) {
            record.out_of_order = record.out_of_order.saturating_add(1);
        }
        self.unit.put_site(site, &record)?;
        Ok(Outcome::Escalation {
            seq,
            acked_through,
            outcome,
        })
    }

    /// Attaches the report to the incident it belongs to, opening one when nothing matches.
    fn apply_report(
        &mut self,
        site: &SiteId,
        report: &IncidentReport,
        changes: &mut Vec<IncidentChange>,
    ) -> Result<IncidentChange, StoreError> {
        let (now, window_ms) = (self.now, self.window_ms);
        let fingerprints = correlate::fingerprints(report);
        // A revision of a local incident the hub already knows updates that incident.
        let known = self.unit.local_ref(site, &report.local_incident_id)?;
        // Fingerprints read for correlation, reused by the index rule below so each key is read
        // once; dropped if a merge rewrote fingerprints in between.
        let mut read: Read = Read::new();
        // The incident a new report joins, as read while matching.
        let mut loaded_target = None;
        let target = match known {
            Some(id) => Decision::Join {
                incident: id,
                reason: "revision of a known local incident".into(),
            },
            None => {
                let mut candidates = Vec::with_capacity(fingerprints.len());
                for fp in &fingerprints {
                    let stored = self.unit.fingerprint(&fp.key, now, window_ms)?;
                    read.insert(fp.key, stored);
                    let prior = stored.map(|rec| PriorMatch {
                        incident: rec.incident,
                        last_seen_ms: rec.last_seen_ms,
                    });
                    candidates.push((fp.clone(), prior));
                }
                let matched = correlate::matches(&candidates, now, window_ms);
                // Closed incidents (resolved, or merged away) take no new reports. The records
                // read here serve the join below unless a merge changes them first.
                let mut open = Vec::with_capacity(matched.len());
                for (id, reason) in matched {
                    if let Some(loaded) = self.unit.incident_for_change(id)?
                        && !is_closed(&loaded.0)
                    {
                        open.push((id, reason, loaded));
                    }
                }
                // More than one match: the report proves those incidents are one threat.
                let merged = open.len() > 1;
                if let [(survivor, ..), others @ ..] = open.as_slice() {
                    for (other, reason, _) in others {
                        self.merge_incidents(
                            *survivor,
                            *other,
                            reason,
                            ("correlation", ""),
                            changes,
                        )?;
                    }
                }
                if merged {
                    // The merge rewrote fingerprints and the survivor: read them again.
                    read.clear();
                }
                match open.into_iter().next() {
                    Some((incident, reason, loaded)) => {
                        loaded_target = (!merged).then_some(loaded);
                        Decision::Join { incident, reason }
                    }
                    None => Decision::Open,
                }
            }
        };
        let existing = match (&target, loaded_target) {
            (Decision::Join { .. }, Some(loaded)) => Some(loaded),
            (Decision::Join { incident, .. }, None) => self.unit.incident_for_change(*incident)?,
            (Decision::Open, _) => None,
        };
        let (record, indexed, created) = match (existing, &target) {
            (Some((mut record, indexed)), Decision::Join { reason, .. }) => {
                incident::merge(&mut record, site, report, reason, now);
                (record, Some(indexed), false)
            }
            _ => (incident::open(self.new_id(), site, report, now), None, true),
        };
        let mut record = record;
        incident::remember_fingerprints(&mut record, fingerprints.iter().map(|fp| fp.key));
        self.unit.put_incident(indexed.as_ref(), &mut record)?;
        self.unit
            .set_local_ref(site, &report.local_incident_id, record.id);
        self.index_fingerprints(&record, fingerprints.iter().map(|fp| &fp.key), &read)?;
        self.sight_observables(site, &report.indicators, record.id)?;
        Ok(IncidentChange { created, record })
    }

    #[allow(clippy::too_many_arguments)]
    fn review(
        &mut self,
        site: &SiteId,
        epoch: Ulid,
        seq: u64,
        kind: ReviewKind,
        reason: &str,
        stored_hash: Option<[u8; 32]>,
        offered: &Offered,
    ) -> Result<(), StoreError> {
        let record = ReviewRecord {
            site: site.clone(),
            epoch,
            seq,
            kind,
            reason: reason.to_string(),
            recorded_at_ms: self.now,
            stored_hash,
            offered_hash: offered.content_hash(),
            offered_wire: offered.wire_bytes(),
        };
        // The ULID suffix keeps every conflicting offer, not only the latest.
        let id = self.new_id();
        self.unit.put_review(id, &record)
    }

    /// Merges incident `other` into `survivor` and repoints everything that led to `other`
    /// (fingerprints, local incident references, per-site index) at the survivor.
    pub(super) fn merge_incidents(
        &mut self,
        survivor: Ulid,
        other: Ulid,
        reason: &str,
        (actor, actor_cert): (&str, &str),
        changes: &mut Vec<IncidentChange>,
    ) -> Result<(), StoreError> {
        let now = self.now;
        let (Some((mut target, target_was)), Some((mut absorbed, absorbed_was))) = (
            self.unit.incident_for_change(survivor)?,
            self.unit.incident_for_change(other)?,
        ) else {
            return Ok(());
        };
        let closed = |r: &IncidentRecord| {
            matches!(r.lifecycle.phase, crate::lifecycle::Phase::Closed { .. })
        };
        if closed(&absorbed) || closed(&target) {
            return Ok(());
        }
        let before = serde_json::to_string(&(&target.lifecycle, &absorbed.lifecycle)).ok();
        let fingerprints = absorbed.fingerprints.clone();
        incident::absorb(&mut target, &mut absorbed, reason, now);
        let pointer = FingerprintRecord {
            incident: survivor,
            last_seen_ms: now,
        };
        for key in &fingerprints {
            self.unit.put_fingerprint(key, &pointer)?;
        }
        for sighting in &absorbed.sightings {
            let local_ids = sighting.local_incident_ids();
            self.relink(&sighting.site, &local_ids, other, survivor, reason, actor)?;
            for local in &local_ids {
                self.unit.set_local_ref(&sighting.site, local, survivor);
            }
        }
        // The survivor gains the duplicate's sites; the duplicate keeps its own, closed.
        self.unit.put_incident(Some(&target_was), &mut target)?;
        self.unit.put_incident(Some(&absorbed_was), &mut absorbed)?;
        // The duplicate's clocks moved to the survivor, which the deadline watch reads from
        // now on: the duplicate leaves the scan (were it reopened, the survivor still holds
        // its clocks, so it is not watched twice).
        self.unit.watch_regulated(&target, now);
        self.unit.unmark_regulated(other);
        // The duplicate's observables (and their index entries) move to the survivor.
        self.merge_observables(survivor, other)?;
        self.unit.audit(socfed_runtime::audit::AuditDraft {
            at_ms: now,
            actor: actor.to_string(),
            actor_cert: actor_cert.to_string(),
            action: "incident.merge".into(),
            target: format!("{other} -> {survivor}"),
            before,
            after: Some(reason.to_string()),
        })?;
        tracing::info!(%survivor, %other, reason, actor, "two incidents merged");
        for record in [target, absorbed] {
            changes.retain(|c| c.record.id != record.id);
            changes.push(IncidentChange {
                created: false,
                record,
            });
        }
        Ok(())
    }

    /// Whether `id` exists and is not closed.
    pub(super) fn is_open(&self, id: Ulid) -> Result<bool, StoreError> {
        Ok(self
            .unit
            .incident(id)?
            .is_some_and(|record| !is_closed(&record)))
    }
}

/// Closed incidents (resolved, or merged away) take no new reports or fingerprints.
fn is_closed(record: &IncidentRecord) -> bool {
    matches!(
        record.lifecycle.phase,
        crate::lifecycle::Phase::Closed { .. }
    )
}
