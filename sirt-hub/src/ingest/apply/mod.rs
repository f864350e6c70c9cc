//! What each writer item does: the hub's rules for a site's stream (idempotency, the
//! acknowledgement mark, correlation) and for operators' commands (lifecycle, merge and split,
//! response, communications, observables, roster, dashboard sessions), applied to one store unit of work.
//!
//! The store (`crate::store::unit`) knows keys, encodings and indexes and decides nothing; this
//! module decides and holds no storage detail. A batch of items is one unit, so a crash leaves
//! either all of a batch or none of it. Called only by the ingest writer (and the fuzz body
//! through `service::sites::apply_unqueued`); the store's write lock serialises units anyway.

mod comms;
mod enrolment;
mod escalation;
mod fingerprints;
mod hunt_library;
mod journaled;
mod members;
mod notes;
mod observables;
mod response;
mod retention;
mod roster;
mod runbooks;
mod tokens;
mod transition;
mod web;

pub use comms::{CommEdit, CommsChange};
pub use enrolment::{EnrolmentAction, EnrolmentChange};
pub use hunt_library::{LibraryAction, LibraryChange, LibraryChanged};
pub use journaled::{item_of, journal};
pub use members::MemberChange;
pub use notes::NoteAdd;
pub use observables::ObservableChange;
pub use response::{AttachHunt, DirectiveUpdate, Issue, ResponseOutcome};
pub use retention::{PruneDirectives, PruneEvents, Pruned};
pub use roster::RosterChange;
pub use runbooks::{RunbookChange, RunbookEdit};
pub use tokens::TokenChange;
pub use web::{WebChange, WebOutcome};

use crate::incident::IncidentRecord;
use crate::store::journal::JournalError;
use crate::store::unit::StoreUnit;
use crate::store::{HubStore, StoreError};
use prost::Message;
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
    /// One step of the prune pass over finished directives (`response::retention`).
    PruneDirectives(Box<PruneDirectives>),
    /// One step of the event log's prune pass (`crate::pruning`).
    PruneEvents(Box<PruneEvents>),
    /// A communication drafted, decided or delivered.
    Comms(Box<CommsChange>),
    /// An operator added, given another role, or removed.
    Roster(Box<RosterChange>),
    /// An API token minted or revoked.
    Tokens(Box<TokenChange>),
    /// A hub runbook added, edited or retired.
    Runbook(Box<RunbookChange>),
    /// An operator added to or removed from an incident's members.
    Members(Box<MemberChange>),
    /// A note on an incident.
    Note(Box<NoteAdd>),
    /// A dashboard sign-in link issued, exchanged for a session, a sign-out, or a purge.
    Web(Box<WebChange>),
    /// An analyst added, flagged, unflagged or removed an incident's observable.
    Observable(Box<ObservableChange>),
    /// A record for the audit chain alone (refused calls, see `crate::refusals`).
    Audit(Box<socfed_runtime::audit::AuditDraft>),
    /// A webhook sink's cursor moved, with the audit record of an event given up
    /// (`crate::webhooks`).
    WebhookCursor(Box<WebhookCursor>),
    /// The hunt library changed or run (`crate::hunt_library`).
    Library(Box<LibraryChange>),
    /// A site enrolled or removed (`crate::enrolment`).
    Enrolment(Box<EnrolmentChange>),
    /// Writes nothing: its answer comes after a flush that started after it was applied, so
    /// whatever a caller read before submitting it is durable once the answer arrives.
    Barrier,
}

/// A webhook sink done with event `to`; `gave_up` when it was given up, not delivered.
#[derive(Debug, Clone)]
pub struct WebhookCursor {
    pub sink: String,
    pub to: String,
    pub gave_up: Option<socfed_runtime::audit::AuditDraft>,
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
        /// The stream's lease generation (`crate::replicas`).
        lease: u64,
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
    /// A hub runbook version was written: every site's stream has it to send.
    pub runbooks: bool,
    /// Events other than incident changes (failed directives, hunt hits), appended to the
    /// event log with the incident changes at commit (`crate::events`).
    pub events: Vec<crate::events::HubEvent>,
    /// The last event sequence the unit appended, if it appended any.
    pub last_event: Option<u64>,
}

/// The items of one unit of work, applied in order.
struct Batch<'u, 'a> {
    unit: &'u mut StoreUnit<'a>,
    now: UnixMillis,
    window_ms: i64,
    /// The journal id of the escalation being applied.
    journal: Option<u64>,
}

/// Fingerprint keys of expired generations removed per unit at most.
const PRUNE_FINGERPRINTS_PER_UNIT: usize = 256;

/// Applies `items` in order as one unit of work, after journaling their escalations. Nothing
/// is durable until [`HubStore::commit`].
pub fn apply(
    store: &HubStore,
    items: &[Item],
    now: UnixMillis,
    window_ms: i64,
) -> Result<Applied, StoreError> {
    let ids = journal(store, items, now)?;
    apply_journaled(store, items, &ids, now, window_ms)
}

/// Applies `items` in order as one unit of work; `journal_ids` are the ids of their
/// escalations, in order ([`journal`]). The unit records that they are applied, so a
/// replay at start-up (`crate::ingest::replay`) starts after them.
pub fn apply_journaled(
    store: &HubStore,
    items: &[Item],
    journal_ids: &[u64],
    now: UnixMillis,
    window_ms: i64,
) -> Result<Applied, StoreError> {
    let mut unit = store.unit()?;
    unit.take_journal(journal_ids)?;
    let mut batch = Batch {
        unit: &mut unit,
        now,
        window_ms,
        journal: None,
    };
    let mut ids = journal_ids.iter();
    let mut applied = Applied::default();
    for item in items {
        if matches!(item, Item::Escalation { .. }) {
            batch.journal = Some(*ids.next().ok_or(StoreError::Journal(JournalError::Codec(
                "an escalation to apply without its journal entry".into(),
            )))?);
        }
        let outcome = batch.item(item, &mut applied)?;
        applied.outcomes.push(outcome);
    }
    if let Some(last) = journal_ids.last() {
        unit.set_journal_applied(last.saturating_add(1));
    }
    // The events of what this unit changed, in its transaction: durable with the change.
    let mut events: Vec<crate::events::HubEvent> = applied
        .changes
        .iter()
        .map(|c| crate::events::of_incident(c.created, &c.record))
        .collect();
    events.append(&mut applied.events);
    applied.last_event = unit.append_events(&events)?;
    // Fingerprint generations past the window go a few keys per unit, so pruning keeps pace
    // with the traffic that writes new ones and never stalls one batch.
    unit.prune_fingerprints(now, window_ms, PRUNE_FINGERPRINTS_PER_UNIT)?;
    let touched = unit.commit()?;
    applied.directive_sites = touched.directive_sites;
    applied.state_sites = touched.state_sites;
    applied.runbooks = touched.runbooks;
    Ok(applied)
}

impl Batch<'_, '_> {
    fn item(&mut self, item: &Item, applied: &mut Applied) -> Result<Outcome, StoreError> {
        Ok(match item {
            Item::Hello {
                site,
                epoch,
                next_seq,
                cert_not_after_ms,
            } => {
                self.unit.load_mark(site, *epoch)?;
                self.hello(site, *epoch, *next_seq, *cert_not_after_ms)?
            }
            Item::Escalation {
                site,
                epoch,
                seq,
                dropped_before,
                enqueued_at_ms,
                offered,
            } => {
                self.unit.load_mark(site, *epoch)?;
                self.escalation(
                    site,
                    *epoch,
                    (*seq, *dropped_before),
                    *enqueued_at_ms,
                    offered,
                    &mut applied.changes,
                )?
            }
            Item::Status { site, status } => {
                self.status(site, status)?;
                Outcome::Status
            }
            Item::Split(split) => Outcome::Transition(self.split(split, &mut applied.changes)?),
            Item::Merge(merge) => {
                Outcome::Transition(self.merge_by_operator(merge, &mut applied.changes)?)
            }
            Item::Regulatory(change) => {
                Outcome::Transition(self.regulatory(change, &mut applied.changes)?)
            }
            Item::Transition(transition) => {
                Outcome::Transition(self.transition(transition, &mut applied.changes)?)
            }
            Item::Issue(issue) => Outcome::Response(self.issue(issue, applied)?),
            Item::DirectiveUpdate(update) => {
                Outcome::Response(self.directive_update(update, applied)?)
            }
            Item::AttachHunt(attach) => Outcome::Response(self.attach_hunt(attach, applied)?),
            Item::PruneDirectives(prune) => {
                Outcome::Response(ResponseOutcome::Pruned(self.prune_directives(prune)?))
            }
            Item::PruneEvents(prune) => {
                Outcome::Response(ResponseOutcome::Pruned(self.prune_events(prune)?))
            }
            Item::Comms(change) => Outcome::Response(self.comms(change, applied)?),
            Item::Roster(change) => Outcome::Response(self.roster(change)?),
            Item::Tokens(change) => Outcome::Response(self.tokens(change)?),
            Item::Runbook(change) => Outcome::Response(self.runbooks(change)?),
            Item::Web(change) => Outcome::Web(self.web(change)?),
            Item::Members(change) => Outcome::Response(self.members(change)?),
            Item::Observable(change) => Outcome::Response(self.observable_change(change, applied)?),
            Item::Note(note) => Outcome::Response(self.note(note, applied)?),
            Item::Audit(draft) => {
                self.unit.audit((**draft).clone())?;
                Outcome::Status
            }
            Item::WebhookCursor(cursor) => {
                self.unit.set_webhook_cursor(&cursor.sink, &cursor.to)?;
                if let Some(draft) = &cursor.gave_up {
                    self.unit.audit(draft.clone())?;
                }
                Outcome::Status
            }
            Item::Library(change) => Outcome::Response(self.library(change)?),
            Item::Enrolment(change) => Outcome::Response(self.enrolment(change)?),
            Item::Barrier => Outcome::Status,
        })
    }

    /// A fresh incident id at `now`.
    fn new_id(&self) -> Ulid {
        Ulid::from_parts(u64::try_from(self.now).unwrap_or_default(), rand::random())
    }

    fn hello(
        &mut self,
        site: &SiteId,
        epoch: Ulid,
        next_seq: u64,
        cert_not_after_ms: UnixMillis,
    ) -> Result<Outcome, StoreError> {
        let mut record = self.unit.site(site)?;
        let acked_through = self.unit.acked_through(site, epoch)?;
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
        record.last_seen_ms = self.now;
        self.unit.put_site(site, &record)?;
        let lease = self.unit.take_stream_lease(site)?;
        Ok(Outcome::Hello {
            acked_through,
            regression,
            epoch_changed,
            lease,
        })
    }

    fn status(&mut self, site: &SiteId, status: &pb::SiteStatus) -> Result<(), StoreError> {
        let pb::SiteStatus {
            backlog,
            oldest_unsent_age_ms,
            refused_total,
            dropped_total,
        } = *status;
        let mut record = self.unit.site(site)?;
        record.backlog = backlog;
        record.oldest_unsent_age_ms = oldest_unsent_age_ms;
        record.refused_total = refused_total;
        record.dropped_total = dropped_total;
        record.last_seen_ms = self.now;
        self.unit.put_site(site, &record)
    }
}

#[cfg(test)]
mod key_tests;
#[cfg(test)]
mod observables_tests;
#[cfg(test)]
mod retention_tests;
#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_regulated;
