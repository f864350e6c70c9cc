//! The ingest transaction: applies a batch of stream items atomically across all trees.
//!
//! Called only by the ingest writer, which is the single writer of every hub tree, so the
//! transaction never conflicts; it is a transaction for atomicity (a crash leaves either all of
//! a batch or none of it), and the closure does no I/O because sled may re-run it.

mod comms;
mod escalation;
mod fingerprints;
mod incident_index;
mod members;
mod response;
mod roster;
mod site_states;
mod transition;
mod web;
mod write_behind;

pub use comms::{CommEdit, CommsChange};
pub use members::MemberChange;
pub use response::{AttachHunt, DirectiveUpdate, Issue, ResponseOutcome};
pub use roster::RosterChange;
pub use web::{WebChange, WebOutcome};

use super::schema::{self, CodecError};
use super::{HubStore, StoreError};
use crate::incident::IncidentRecord;
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
    Regulatory(Box<RegulatoryChange>),
    Merge(Box<Merge>),
    Split(Box<Split>),
    /// Directives (and possibly the hunt they belong to) issued by an operator.
    Issue(Box<Issue>),
    /// A site's report on one of its directives.
    DirectiveUpdate(Box<DirectiveUpdate>),
    AttachHunt(Box<AttachHunt>),
    /// A communication drafted, decided or delivered.
    Comms(Box<CommsChange>),
    /// An operator added, given another role, or removed.
    Roster(Box<RosterChange>),
    /// An operator added to or removed from an incident's members.
    Members(Box<MemberChange>),
    /// A dashboard sign-in link issued, exchanged for a session, a sign-out, or a purge.
    Web(Box<WebChange>),
    /// A record for the audit chain alone (refused calls, see `crate::refusals`).
    Audit(Box<socfed_runtime::audit::AuditDraft>),
    /// Writes nothing: its answer comes after a flush that started after it was applied, so
    /// whatever a caller read before submitting it is durable once the answer arrives.
    Barrier,
}

/// An operator splitting one site's sighting off an incident (IR lead or CISO).
#[derive(Debug, Clone)]
pub struct Split {
    pub incident: Ulid,
    pub site: SiteId,
    pub reason: String,
    pub actor: String,
    pub actor_cert: String,
}

/// Flag an incident for a regime, or record a filing (IR lead or CISO, checked by the caller).
#[derive(Debug, Clone)]
pub struct RegulatoryChange {
    pub incident: Ulid,
    pub change: RegulatoryEdit,
    pub at_ms: UnixMillis,
    pub actor: String,
    pub actor_cert: String,
}

/// An operator merging two incidents (IR lead or CISO, checked by the caller).
#[derive(Debug, Clone)]
pub struct Merge {
    pub survivor: Ulid,
    pub other: Ulid,
    pub reason: String,
    pub actor: String,
    pub actor_cert: String,
}

#[derive(Debug, Clone)]
pub enum RegulatoryEdit {
    Flag(crate::regulatory::Regime),
    Filed(crate::regulatory::DeadlineKind),
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
    Response(ResponseOutcome),
    Web(WebOutcome),
}

/// What an operator's lifecycle command did.
#[derive(Debug, Clone)]
pub enum TransitionOutcome {
    Done(Box<IncidentRecord>),
    NotFound,
    Refused(crate::lifecycle::LifecycleError),
    /// The change does not make sense for this incident (e.g. a filing for an unflagged regime).
    Rejected(String),
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
    /// Sites with new directives to send.
    pub directive_sites: Vec<SiteId>,
    /// Sites with new incident states to send (`site_states.rs`).
    pub state_sites: Vec<SiteId>,
}

type TxError = ConflictableTransactionError<CodecError>;

fn codec<T>(result: Result<T, CodecError>) -> Result<T, TxError> {
    result.map_err(ConflictableTransactionError::Abort)
}

struct Tx<'a> {
    incidents: &'a TransactionalTree,
    site_incidents: &'a TransactionalTree,
    status_incidents: &'a TransactionalTree,
    local_refs: &'a TransactionalTree,
    escalations: &'a TransactionalTree,
    epochs: &'a TransactionalTree,
    sites: &'a TransactionalTree,
    fingerprints: &'a TransactionalTree,
    reviews: &'a TransactionalTree,
    audit: &'a TransactionalTree,
    meta: &'a TransactionalTree,
    directives: &'a TransactionalTree,
    site_directives: &'a TransactionalTree,
    incident_directives: &'a TransactionalTree,
    open_directives: &'a TransactionalTree,
    hunts: &'a TransactionalTree,
    operators: &'a TransactionalTree,
    comms: &'a TransactionalTree,
    web_sessions: &'a TransactionalTree,
    site_states: &'a TransactionalTree,
    site_state_log: &'a TransactionalTree,
    /// Sites given new directives in this transaction (a re-run starts a fresh `Tx`).
    new_directives: std::cell::RefCell<Vec<SiteId>>,
    /// Sites given new incident states in this transaction.
    new_states: std::cell::RefCell<Vec<SiteId>>,
    write_behind: write_behind::WriteBehind,
    audit_key: &'a socfed_runtime::audit::ChainKey,
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
            &t.status_incidents,
            &t.local_refs,
            &t.escalations,
            &t.epochs,
            &t.sites,
            &t.fingerprints,
            &t.reviews,
            &t.audit,
            &t.meta,
            &t.directives,
            &t.site_directives,
            &t.incident_directives,
            &t.open_directives,
            &t.hunts,
            &t.operators,
            &t.comms,
            &t.web_sessions,
            &t.site_states,
            &t.site_state_log,
        ];
        let result = trees[..].transaction(|view| {
            let [
                incidents,
                site_incidents,
                status_incidents,
                local_refs,
                escalations,
                epochs,
                sites,
                fingerprints,
                reviews,
                audit,
                meta,
                directives,
                site_directives,
                incident_directives,
                open_directives,
                hunts,
                operators,
                comms,
                web_sessions,
                site_states,
                site_state_log,
            ] = view.as_slice()
            else {
                unreachable!("twenty-one trees were passed in")
            };
            let tx = Tx {
                incidents,
                site_incidents,
                status_incidents,
                local_refs,
                escalations,
                epochs,
                sites,
                fingerprints,
                reviews,
                audit,
                meta,
                directives,
                site_directives,
                incident_directives,
                open_directives,
                hunts,
                operators,
                comms,
                web_sessions,
                site_states,
                site_state_log,
                new_directives: std::cell::RefCell::new(Vec::new()),
                new_states: std::cell::RefCell::new(Vec::new()),
                write_behind: write_behind::WriteBehind::default(),
                audit_key: &self.audit_key,
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
                    Item::Split(split) => {
                        Outcome::Transition(tx.split(split, now, &mut applied.changes)?)
                    }
                    Item::Merge(merge) => Outcome::Transition(tx.merge_by_operator(
                        merge,
                        now,
                        &mut applied.changes,
                    )?),
                    Item::Regulatory(change) => {
                        Outcome::Transition(tx.regulatory(change, now, &mut applied.changes)?)
                    }
                    Item::Transition(transition) => {
                        Outcome::Transition(tx.transition(transition, now, &mut applied.changes)?)
                    }
                    Item::Issue(issue) => Outcome::Response(tx.issue(issue, now, &mut applied)?),
                    Item::DirectiveUpdate(update) => {
                        Outcome::Response(tx.directive_update(update, now, &mut applied)?)
                    }
                    Item::AttachHunt(attach) => {
                        Outcome::Response(tx.attach_hunt(attach, now, &mut applied)?)
                    }
                    Item::Comms(change) => {
                        Outcome::Response(tx.comms(change, now, &mut applied)?)
                    }
                    Item::Roster(change) => Outcome::Response(tx.roster(change, now)?),
                    Item::Web(change) => Outcome::Web(tx.web(change, now)?),
                    Item::Members(change) => Outcome::Response(tx.members(change, now)?),
                    Item::Audit(draft) => {
                        tx.audit((**draft).clone())?;
                        Outcome::Status
                    }
                    Item::Barrier => Outcome::Status,
                };
                applied.outcomes.push(outcome);
            }
            applied.directive_sites = tx.new_directives.take();
            applied.state_sites = tx.new_states.take();
            tx.write_behind()?;
            // The commit counter the store's witness records (see `store::witness`).
            let commits = match tx.meta.get(schema::COMMITS)? {
                Some(raw) => codec(schema::u64_value(schema::META, &raw))?,
                None => 0,
            };
            tx.meta
                .insert(schema::COMMITS, &(commits + 1).to_be_bytes())?;
            Ok(applied)
        });
        result.map_err(|e| match e {
            TransactionError::Abort(codec) => StoreError::Codec(codec),
            TransactionError::Storage(sled) => StoreError::Sled(sled),
        })
    }
}

impl Tx<'_> {
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
            record.epoch_changes = record.epoch_changes.saturating_add(1);
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
}
