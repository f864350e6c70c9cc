//! The ingest transaction: applies a batch of stream items atomically across all trees.
//!
//! Called only by the ingest writer, which is the single writer of every hub tree, so the
//! transaction never conflicts; it is a transaction for atomicity (a crash leaves either all of
//! a batch or none of it), and the closure does no I/O because sled may re-run it.

use super::records::{
    EscalationRecord, FingerprintRecord, IncidentRecord, ReviewKind, ReviewRecord, SiteRecord,
};
use super::schema::{self, CodecError};
use super::{HubStore, StoreError};
use crate::correlate::{self, Decision, PriorMatch};
use crate::incident;
use crate::store::records::IncidentStatus;
use prost::Message;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use socfed_proto::UnixMillis;
use socfed_proto::pb;
use socfed_proto::vocab::{IncidentReport, SiteId};
use ulid::Ulid;

/// The report inside an escalation, after wire→domain conversion.
#[derive(Debug, Clone)]
pub enum Offered {
    Valid(IncidentReport),
    Invalid {
        wire: pb::IncidentReport,
        reason: String,
    },
}

impl Offered {
    pub fn content_hash(&self) -> [u8; 32] {
        match self {
            Offered::Valid(report) => report.content_hash(),
            Offered::Invalid { wire, .. } => *blake3::hash(&wire.encode_to_vec()).as_bytes(),
        }
    }

    fn wire_bytes(&self) -> Vec<u8> {
        match self {
            Offered::Valid(report) => report.to_wire().encode_to_vec(),
            Offered::Invalid { wire, .. } => wire.encode_to_vec(),
        }
    }
}

/// One thing a site stream asks the writer to record.
// Escalation is by far the most common variant; boxing it would cost an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Item {
    Hello {
        site: SiteId,
        epoch: Ulid,
        next_seq: u64,
        cert_not_after_ms: UnixMillis,
    },
    Escalation {
        site: SiteId,
        epoch: Ulid,
        seq: u64,
        /// Sequences just before `seq` the site declared it will never send.
        dropped_before: u64,
        enqueued_at_ms: UnixMillis,
        offered: Offered,
    },
    Status {
        site: SiteId,
        status: pb::SiteStatus,
    },
    Transition(Box<Transition>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EscalationOutcome {
    Applied { incident: Ulid },
    Duplicate,
    Conflict { reason: String },
    Rejected { reason: String },
}

impl EscalationOutcome {
    /// A fixed label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            EscalationOutcome::Applied { .. } => "stored",
            EscalationOutcome::Duplicate => "duplicate",
            EscalationOutcome::Conflict { .. } => "conflict",
            EscalationOutcome::Rejected { .. } => "rejected",
        }
    }
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Hello {
        acked_through: u64,
        regression: bool,
        epoch_changed: bool,
    },
    Escalation {
        seq: u64,
        acked_through: u64,
        outcome: EscalationOutcome,
    },
    Status,
    Transition(TransitionOutcome),
}

/// What an operator's lifecycle command did.
#[derive(Debug, Clone)]
pub enum TransitionOutcome {
    Done(Box<IncidentRecord>),
    NotFound,
    Refused(crate::lifecycle::LifecycleError),
}

/// An operator's command on an incident's lifecycle, with who sent it (from the certificate).
#[derive(Debug, Clone)]
pub struct Transition {
    pub incident: Ulid,
    pub command: crate::lifecycle::Command,
    pub role: crate::lifecycle::HubRole,
    pub actor: String,
    pub actor_cert: String,
}

/// An incident created or changed by a batch, for live watchers.
#[derive(Debug, Clone)]
pub struct IncidentChange {
    pub created: bool,
    pub record: IncidentRecord,
}

#[derive(Debug, Default)]
pub struct Applied {
    pub outcomes: Vec<Outcome>,
    pub changes: Vec<IncidentChange>,
}

type TxError = ConflictableTransactionError<CodecError>;

fn codec<T>(result: Result<T, CodecError>) -> Result<T, TxError> {
    result.map_err(ConflictableTransactionError::Abort)
}

struct Tx<'a> {
    incidents: &'a TransactionalTree,
    site_incidents: &'a TransactionalTree,
    local_refs: &'a TransactionalTree,
    escalations: &'a TransactionalTree,
    epochs: &'a TransactionalTree,
    sites: &'a TransactionalTree,
    fingerprints: &'a TransactionalTree,
    reviews: &'a TransactionalTree,
    audit: &'a TransactionalTree,
    meta: &'a TransactionalTree,
}

impl HubStore {
    /// Applies `items` in order in one transaction. Nothing is durable until [`HubStore::commit`].
    pub fn apply(
        &self,
        items: &[Item],
        now: UnixMillis,
        window_ms: i64,
    ) -> Result<Applied, StoreError> {
        let t = &self.trees;
        let trees = [
            &t.incidents,
            &t.site_incidents,
            &t.local_refs,
            &t.escalations,
            &t.epochs,
            &t.sites,
            &t.fingerprints,
            &t.reviews,
            &t.audit,
            &t.meta,
        ];
        let result = trees[..].transaction(|view| {
            let [
                incidents,
                site_incidents,
                local_refs,
                escalations,
                epochs,
                sites,
                fingerprints,
                reviews,
                audit,
                meta,
            ] = view.as_slice()
            else {
                unreachable!("ten trees were passed in")
            };
            let tx = Tx {
                incidents,
                site_incidents,
                local_refs,
                escalations,
                epochs,
                sites,
                fingerprints,
                reviews,
                audit,
                meta,
            };
            let mut applied = Applied::default();
            for item in items {
                let outcome = match item {
                    Item::Hello {
                        site,
                        epoch,
                        next_seq,
                        cert_not_after_ms,
                    } => tx.hello(site, *epoch, *next_seq, *cert_not_after_ms, now)?,
                    Item::Escalation {
                        site,
                        epoch,
                        seq,
                        dropped_before,
                        enqueued_at_ms,
                        offered,
                    } => tx.escalation(
                        site,
                        *epoch,
                        (*seq, *dropped_before),
                        *enqueued_at_ms,
                        offered,
                        now,
                        window_ms,
                        &mut applied.changes,
                    )?,
                    Item::Status { site, status } => {
                        tx.status(site, status, now)?;
                        Outcome::Status
                    }
                    Item::Transition(transition) => {
                        Outcome::Transition(tx.transition(transition, now, &mut applied.changes)?)
                    }
                };
                applied.outcomes.push(outcome);
            }
            Ok(applied)
        });
        result.map_err(|e| match e {
            TransactionError::Abort(codec) => StoreError::Codec(codec),
            TransactionError::Storage(sled) => StoreError::Sled(sled),
        })
    }
}

impl Tx<'_> {
    /// Applies an operator's lifecycle command (the role check is inside the machine) and
    /// records it in the timeline and the audit chain, in the same transaction.
    fn transition(
        &self,
        t: &Transition,
        now: UnixMillis,
        changes: &mut Vec<IncidentChange>,
    ) -> Result<TransitionOutcome, TxError> {
        let Some(raw) = self.incidents.get(t.incident.to_bytes())? else {
            return Ok(TransitionOutcome::NotFound);
        };
        let mut record: IncidentRecord = codec(schema::decode(schema::INCIDENTS, &raw))?;
        let (lifecycle, events) =
            match crate::lifecycle::apply(&record.lifecycle, &t.command, t.role, &t.actor, now) {
                Ok(done) => done,
                Err(refused) => return Ok(TransitionOutcome::Refused(refused)),
            };
        if events.is_empty() {
            return Ok(TransitionOutcome::Done(Box::new(record)));
        }
        let before = serde_json::to_string(&record.lifecycle).ok();
        record.lifecycle = lifecycle;
        record.status = IncidentStatus::of(&record.lifecycle.phase);
        record.severity = record.lifecycle.severity;
        record.tlp = record.lifecycle.tlp;
        record.updated_at_ms = record.updated_at_ms.max(now);
        for event in &events {
            incident::push_timeline(&mut record, event.at_ms, &t.actor, event.change.to_string());
        }
        self.incidents.insert(
            &t.incident.to_bytes(),
            codec(schema::encode(schema::INCIDENTS, &record))?,
        )?;
        self.audit(socfed_proto::audit::AuditDraft {
            at_ms: now,
            actor: t.actor.clone(),
            actor_cert: t.actor_cert.clone(),
            action: format!("incident.{}", t.command.kind().word()),
            target: t.incident.to_string(),
            before,
            after: serde_json::to_string(&record.lifecycle).ok(),
        })?;
        changes.retain(|c| c.record.id != record.id);
        changes.push(IncidentChange {
            created: false,
            record: record.clone(),
        });
        Ok(TransitionOutcome::Done(Box::new(record)))
    }

    fn audit(&self, draft: socfed_proto::audit::AuditDraft) -> Result<(), TxError> {
        let head: Option<schema::AuditHead> = match self.meta.get(schema::AUDIT_HEAD)? {
            Some(raw) => Some(codec(schema::decode(schema::META, &raw))?),
            None => None,
        };
        let (seq, prev) = head.map_or((1, socfed_proto::audit::GENESIS), |h| (h.seq + 1, h.hash));
        let entry = socfed_proto::audit::seal(draft, seq, prev);
        self.audit.insert(
            &seq.to_be_bytes(),
            codec(schema::encode(schema::AUDIT, &entry))?,
        )?;
        self.meta.insert(
            schema::AUDIT_HEAD,
            codec(schema::encode(
                schema::META,
                &schema::AuditHead {
                    seq,
                    hash: entry.hash,
                },
            ))?,
        )?;
        Ok(())
    }

    fn site(&self, site: &SiteId) -> Result<SiteRecord, TxError> {
        match self.sites.get(site.as_str())? {
            Some(raw) => codec(schema::decode(schema::SITES, &raw)),
            None => Ok(SiteRecord::default()),
        }
    }

    fn put_site(&self, site: &SiteId, record: &SiteRecord) -> Result<(), TxError> {
        self.sites
            .insert(site.as_str(), codec(schema::encode(schema::SITES, record))?)?;
        Ok(())
    }

    fn acked_through(&self, site: &SiteId, epoch: Ulid) -> Result<u64, TxError> {
        match self.epochs.get(schema::epoch_key(site, epoch))? {
            Some(raw) => codec(schema::u64_value(schema::EPOCHS, &raw)),
            None => Ok(0),
        }
    }

    fn hello(
        &self,
        site: &SiteId,
        epoch: Ulid,
        next_seq: u64,
        cert_not_after_ms: UnixMillis,
        now: UnixMillis,
    ) -> Result<Outcome, TxError> {
        let mut record = self.site(site)?;
        let acked_through = self.acked_through(site, epoch)?;
        let epoch_changed = record.epoch.is_some_and(|known| known != epoch);
        if epoch_changed {
            record.epoch_changes += 1;
            record.sequence_regression = false;
        }
        // The site will assign `next_seq` next, so it holds nothing above `next_seq - 1`; a
        // higher acknowledged sequence means its store went back in time.
        let regression = acked_through >= next_seq;
        record.sequence_regression |= regression;
        record.epoch = Some(epoch);
        record.cert_not_after_ms = cert_not_after_ms;
        record.last_seen_ms = now;
        self.put_site(site, &record)?;
        Ok(Outcome::Hello {
            acked_through,
            regression,
            epoch_changed,
        })
    }

    fn status(
        &self,
        site: &SiteId,
        status: &pb::SiteStatus,
        now: UnixMillis,
    ) -> Result<(), TxError> {
        let pb::SiteStatus {
            backlog,
            oldest_unsent_age_ms,
            refused_total,
            dropped_total,
        } = *status;
        let mut record = self.site(site)?;
        record.backlog = backlog;
        record.oldest_unsent_age_ms = oldest_unsent_age_ms;
        record.refused_total = refused_total;
        record.dropped_total = dropped_total;
        record.last_seen_ms = now;
        self.put_site(site, &record)
    }

    #[allow(clippy::too_many_arguments)]
    fn escalation(
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
                let stored: EscalationRecord = codec(schema::decode(schema::ESCALATIONS, &raw))?;
                if stored.content_hash == offered_hash {
                    record.duplicates += 1;
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
                    record.conflicts += 1;
                    EscalationOutcome::Conflict { reason }
                }
            }
            None => {
                let (hub_incident, report, outcome) = match offered {
                    Offered::Valid(report) => {
                        let change = self.apply_report(site, report, now, window_ms)?;
                        let id = change.record.id;
                        changes.retain(|c| c.record.id != id);
                        changes.push(change);
                        record.escalations_stored += 1;
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
                        record.rejected += 1;
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
                    .insert(key, codec(schema::encode(schema::ESCALATIONS, &stored))?)?;
                outcome
            }
        };
        // The high-water mark only moves over sequences the hub holds or the site declared it
        // will never send: an undeclared hole is never acknowledged across, so the site keeps
        // (and resends) everything after it.
        let mut acked_through = self.acked_through(site, epoch)?;
        let first_declared = seq - dropped_before;
        if seq > acked_through && first_declared <= acked_through.saturating_add(1) {
            record.gaps = record
                .gaps
                .saturating_add(seq - acked_through.max(first_declared - 1) - 1);
            acked_through = seq;
            // Catch up over anything stored earlier out of order.
            while self
                .escalations
                .get(schema::escalation_key(
                    site,
                    epoch,
                    acked_through.saturating_add(1),
                ))?
                .is_some()
            {
                acked_through += 1;
            }
            self.epochs
                .insert(schema::epoch_key(site, epoch), &acked_through.to_be_bytes())?;
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
                                codec(schema::decode(schema::FINGERPRINTS, &raw))?;
                            Some(PriorMatch {
                                incident: rec.incident,
                                last_seen_ms: rec.last_seen_ms,
                            })
                        }
                        None => None,
                    };
                    candidates.push((fp.clone(), prior));
                }
                correlate::decide(&candidates, now, window_ms)
            }
        };
        let existing = match &target {
            Decision::Join { incident, .. } => match self.incidents.get(incident.to_bytes())? {
                Some(raw) => Some(codec(schema::decode::<IncidentRecord>(
                    schema::INCIDENTS,
                    &raw,
                ))?),
                None => None,
            },
            Decision::Open => None,
        };
        let (record, created) = match (existing, &target) {
            (Some(mut record), Decision::Join { reason, .. }) => {
                incident::merge(&mut record, site, report, reason, now);
                (record, false)
            }
            _ => {
                let id = Ulid::from_parts(u64::try_from(now).unwrap_or_default(), rand::random());
                (incident::open(id, site, report, now), true)
            }
        };
        let id_bytes = record.id.to_bytes();
        self.incidents.insert(
            &id_bytes,
            codec(schema::encode(schema::INCIDENTS, &record))?,
        )?;
        self.site_incidents
            .insert(schema::site_incident_key(site, record.id), &[])?;
        self.local_refs.insert(ref_key, &id_bytes)?;
        let fp_value = codec(schema::encode(
            schema::FINGERPRINTS,
            &FingerprintRecord {
                incident: record.id,
                last_seen_ms: now,
            },
        ))?;
        for fp in &fingerprints {
            self.fingerprints.insert(&fp.key, fp_value.clone())?;
        }
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
            codec(schema::encode(schema::REVIEWS, &record))?,
        )?;
        Ok(())
    }
}
