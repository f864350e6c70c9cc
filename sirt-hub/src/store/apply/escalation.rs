//! Escalations inside the ingest transaction: idempotency by (site, epoch, seq), conflicts and
//! rejections kept for review, correlation into hub incidents, and the high-water mark.

use super::{EscalationOutcome, IncidentChange, Offered, Outcome, Tx, TxError, codec};
use crate::correlate::{self, Decision, PriorMatch};
use crate::incident;
use crate::incident::IncidentRecord;
use crate::store::records::{EscalationRecord, FingerprintRecord, ReviewKind, ReviewRecord};
use crate::store::schema;
use socfed_proto::UnixMillis;
use socfed_proto::vocab::{IncidentReport, SiteId};
use ulid::Ulid;

impl Tx<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn escalation(
        &self,
        site: &SiteId,
        epoch: Ulid,
        (seq, dropped_before): (u64, u64),
        enqueued_at_ms: UnixMillis,
        offered: &Offered,
        now: UnixMillis,
        window_ms: i64,
        changes: &mut Vec<IncidentChange>,
    ) -> Result<Outcome, TxError> {
        let key = schema::escalation_key(site, epoch, seq);
        let offered_hash = offered.content_hash();
        let mut record = self.site(site)?;
        record.last_seen_ms = now;
        let outcome = match self.escalations.get(&key)? {
            Some(raw) => {
                let stored: EscalationRecord = codec(schema::decode_escalation(&raw))?;
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
                        now,
                    )?;
                    record.conflicts = record.conflicts.saturating_add(1);
                    EscalationOutcome::Conflict { reason }
                }
            }
            None => {
                let (hub_incident, report, outcome) = match offered {
                    Offered::Valid(report) => {
                        let change = self.apply_report(site, report, now, window_ms, changes)?;
                        let id = change.record.id;
                        changes.retain(|c| c.record.id != id);
                        changes.push(change);
                        record.escalations_stored = record.escalations_stored.saturating_add(1);
                        (
                            Some(id),
                            Some(report.clone()),
                            EscalationOutcome::Applied { incident: id },
                        )
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
                            now,
                        )?;
                        record.rejected = record.rejected.saturating_add(1);
                        (
                            None,
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
                    report,
                };
                self.escalations
                    .insert(key, codec(schema::encode_escalation(&stored))?)?;
                outcome
            }
        };
        // The high-water mark only moves over sequences the hub holds or the site declared it
        // will never send: an undeclared hole is never acknowledged across, so the site keeps
        // (and resends) everything after it.
        // Sequences come from the site: the stream refuses any above `bounds::MAX_SEQ`, and
        // every step here is checked or saturating anyway, so no input can wrap the mark.
        let mut acked_through = self.acked_through(site, epoch)?;
        let first_declared = seq.saturating_sub(dropped_before).max(1);
        if seq > acked_through && first_declared <= acked_through.saturating_add(1) {
            let gap = seq
                .saturating_sub(acked_through.max(first_declared - 1))
                .saturating_sub(1);
            record.gaps = record.gaps.saturating_add(gap);
            acked_through = seq;
            // Catch up over anything stored earlier out of order.
            while let Some(next) = acked_through.checked_add(1)
                && self
                    .escalations
                    .get(schema::escalation_key(site, epoch, next))?
                    .is_some()
            {
                acked_through = next;
            }
            self.set_acked_through(site, epoch, acked_through);
        } else if seq > acked_through.saturating_add(1) {
            record.out_of_order = record.out_of_order.saturating_add(1);
        }
        self.put_site(site, &record)?;
        Ok(Outcome::Escalation {
            seq,
            acked_through,
            outcome,
        })
    }

    /// Attaches the report to the incident it belongs to, opening one when nothing matches.
    fn apply_report(
        &self,
        site: &SiteId,
        report: &IncidentReport,
        now: UnixMillis,
        window_ms: i64,
        changes: &mut Vec<IncidentChange>,
    ) -> Result<IncidentChange, TxError> {
        let ref_key = schema::local_ref_key(site, &report.local_incident_id);
        let fingerprints = correlate::fingerprints(report);
        // A revision of a local incident the hub already knows updates that incident.
        let known = match self.local_refs.get(&ref_key)? {
            Some(raw) => Some(codec(schema::ulid_from_key(schema::LOCAL_REFS, &raw))?),
            None => None,
        };
        let target = match known {
            Some(id) => Decision::Join {
                incident: id,
                reason: "revision of a known local incident".into(),
            },
            None => {
                let mut candidates = Vec::with_capacity(fingerprints.len());
                for fp in &fingerprints {
                    let prior = match self.fingerprints.get(fp.key)? {
                        Some(raw) => {
                            let rec: FingerprintRecord =
                                codec(schema::decode(schema::TreeId::Fingerprints, &raw))?;
                            Some(PriorMatch {
                                incident: rec.incident,
                                last_seen_ms: rec.last_seen_ms,
                            })
                        }
                        None => None,
                    };
                    candidates.push((fp.clone(), prior));
                }
                let mut matched = correlate::matches(&candidates, now, window_ms);
                // Closed incidents (resolved, or merged away) take no new reports.
                let mut open = Vec::with_capacity(matched.len());
                for (id, reason) in matched.drain(..) {
                    if self.is_open(id)? {
                        open.push((id, reason));
                    }
                }
                let matched = open;
                // More than one match: the report proves those incidents are one threat.
                if let [(survivor, _), others @ ..] = matched.as_slice() {
                    for (other, reason) in others {
                        self.merge_incidents(
                            *survivor,
                            *other,
                            reason,
                            "correlation",
                            "",
                            now,
                            changes,
                        )?;
                    }
                }
                match matched.into_iter().next() {
                    Some((incident, reason)) => Decision::Join { incident, reason },
                    None => Decision::Open,
                }
            }
        };
        let existing = match &target {
            Decision::Join { incident, .. } => self.incident_for_change(*incident)?,
            Decision::Open => None,
        };
        let (record, indexed, created) = match (existing, &target) {
            (Some((mut record, indexed)), Decision::Join { reason, .. }) => {
                incident::merge(&mut record, site, report, reason, now);
                (record, Some(indexed), false)
            }
            _ => {
                let id = Ulid::from_parts(u64::try_from(now).unwrap_or_default(), rand::random());
                (incident::open(id, site, report, now), None, true)
            }
        };
        let mut record = record;
        incident::remember_fingerprints(&mut record, fingerprints.iter().map(|fp| fp.key));
        let id_bytes = record.id.to_bytes();
        self.put_incident(indexed.as_ref(), &mut record)?;
        self.local_refs.insert(ref_key, &id_bytes)?;
        self.index_fingerprints(&record, fingerprints.iter().map(|fp| &fp.key), now)?;
        Ok(IncidentChange { created, record })
    }

    #[allow(clippy::too_many_arguments)]
    fn review(
        &self,
        site: &SiteId,
        epoch: Ulid,
        seq: u64,
        kind: ReviewKind,
        reason: &str,
        stored_hash: Option<[u8; 32]>,
        offered: &Offered,
        now: UnixMillis,
    ) -> Result<(), TxError> {
        let record = ReviewRecord {
            site: site.clone(),
            epoch,
            seq,
            kind,
            reason: reason.to_string(),
            recorded_at_ms: now,
            stored_hash,
            offered_hash: offered.content_hash(),
            offered_wire: offered.wire_bytes(),
        };
        // The ULID suffix keeps every conflicting offer, not only the latest.
        let id = Ulid::from_parts(u64::try_from(now).unwrap_or_default(), rand::random());
        self.reviews.insert(
            schema::review_key(site, epoch, seq, id),
            codec(schema::encode(schema::TreeId::Reviews, &record))?,
        )?;
        Ok(())
    }

    /// Merges incident `other` into `survivor` and repoints everything that led to `other`
    /// (fingerprints, local incident references, per-site index) at the survivor.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn merge_incidents(
        &self,
        survivor: Ulid,
        other: Ulid,
        reason: &str,
        actor: &str,
        actor_cert: &str,
        now: UnixMillis,
        changes: &mut Vec<IncidentChange>,
    ) -> Result<(), TxError> {
        let (Some((mut target, target_was)), Some((mut absorbed, absorbed_was))) = (
            self.incident_for_change(survivor)?,
            self.incident_for_change(other)?,
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
        let pointer = codec(schema::encode(
            schema::TreeId::Fingerprints,
            &FingerprintRecord {
                incident: survivor,
                last_seen_ms: now,
            },
        ))?;
        for key in &fingerprints {
            self.fingerprints.insert(key.as_slice(), pointer.clone())?;
        }
        for sighting in &absorbed.sightings {
            let local_ids = sighting.local_incident_ids();
            self.relink(
                &sighting.site,
                &local_ids,
                other,
                survivor,
                reason,
                actor,
                now,
            )?;
            for local in &local_ids {
                self.local_refs.insert(
                    schema::local_ref_key(&sighting.site, local),
                    &survivor.to_bytes(),
                )?;
            }
        }
        // The survivor gains the duplicate's sites; the duplicate keeps its own, closed.
        self.put_incident(Some(&target_was), &mut target)?;
        self.put_incident(Some(&absorbed_was), &mut absorbed)?;
        if !target.regulatory.flags().is_empty() {
            self.meta.insert(schema::regulated_key(survivor), &[])?;
        }
        self.audit(socfed_runtime::audit::AuditDraft {
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
    pub(super) fn is_open(&self, id: Ulid) -> Result<bool, TxError> {
        match self.incidents.get(id.to_bytes())? {
            Some(raw) => {
                let record: IncidentRecord = codec(schema::decode_incident(&raw))?;
                Ok(!matches!(
                    record.lifecycle.phase,
                    crate::lifecycle::Phase::Closed { .. }
                ))
            }
            None => Ok(false),
        }
    }
}
