//! The hub's application layer: one typed command per use case that changes the hub, each
//! with a typed result or a [`HubError`]. Transports (the gRPC services, the federation
//! stream, the dashboard) and the hub's own tasks (delivery, the refusal audit, the roster
//! seed) decode, authorise through the access matrix and call these; none of them builds a
//! writer `Item` or matches on the writer's untyped `Outcome`.
//!
//! Every command runs through the single ingest writer and answers once its change is durable
//! (the writer's rule, unchanged). What the writer answers is checked here, once: an answer
//! of the wrong kind is a defect of the hub (`internal`), a refusal keeps its reason.
//!
//! - [`incident`]: lifecycle, regulatory, merge, split, members.
//! - [`response`]: directives, tasks, hunts.
//! - [`enrolment`]: sites enrolled and removed (who may open an escalation stream).
//! - [`sites`]: a site's escalation stream (hello, escalations, status, directive reports).
//! - [`comms`]: communications as an operator drafts, decides and records them.
//! - [`observables`]: an incident's observables as analysts add, flag and remove them.
//! - [`sessions`]: the dashboard's sign-in links and sessions.
//! - [`tokens`]: API tokens minted and revoked.
//! - here: communications, the roster, the refusal audit, the barrier.

use crate::comms::CommRecord;
use crate::error::HubError;
use crate::ingest::apply::{
    CommsChange, Item, Outcome, ResponseOutcome, RosterChange, WebhookCursor,
};
use crate::ingest::{IngestHandle, TransitionError};
use socfed_runtime::audit::AuditDraft;

pub mod comms;
pub mod enrolment;
pub mod hunt_library;
pub mod incident;
pub mod notes;
pub mod observables;
pub mod response;
pub mod runbooks;
pub mod search;
pub mod sessions;
pub mod sites;
pub mod tokens;

#[cfg(test)]
mod boundary_tests;

pub use incident::IncidentCommand;
pub use response::HuntStarted;

/// Who runs a command: the operator's name and certificate, for the records and the audit.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub cert: String,
}

/// The commands, over the writer of one running hub.
#[derive(Clone, Copy)]
pub struct Commands<'a> {
    ingest: &'a IngestHandle,
}

impl<'a> Commands<'a> {
    pub fn on(ingest: &'a IngestHandle) -> Self {
        Self { ingest }
    }

    /// A communication drafted, approved, sent or withdrawn: the communication as stored.
    pub async fn change_comms(self, change: CommsChange) -> Result<CommRecord, HubError> {
        match self
            .response(Item::Comms(Box::new(change)), "change_comms")
            .await?
        {
            ResponseOutcome::Comm(record) => Ok(*record),
            other => Err(wrong_answer("change_comms", &other)),
        }
    }

    /// An operator's role set or removed in the hub's roster.
    pub async fn change_roster(self, change: RosterChange) -> Result<(), HubError> {
        match self
            .response(Item::Roster(Box::new(change)), "change_roster")
            .await?
        {
            ResponseOutcome::Updated(_) => Ok(()),
            other => Err(wrong_answer("change_roster", &other)),
        }
    }

    /// A record for the audit chain alone (a refused call, `crate::refusals`). Queued, not
    /// awaited: the refusal it records was answered already, and a flood of them must not
    /// wait on the disk one by one.
    pub async fn audit(self, draft: AuditDraft) -> Result<(), HubError> {
        self.ingest
            .submit(Item::Audit(Box::new(draft)), None)
            .await
            .map_err(|_| writer_stopped(self.ingest))
    }

    /// A webhook sink's cursor moved (and an event given up audited), once durable.
    pub async fn advance_webhook(self, cursor: WebhookCursor) -> Result<(), HubError> {
        self.ingest
            .call(Item::WebhookCursor(Box::new(cursor)))
            .await
            .map(drop)
            .map_err(|e| call_failed(self.ingest, e))
    }

    /// Runs a response-side change; its refusals become errors here, once.
    async fn response(self, item: Item, command: &str) -> Result<ResponseOutcome, HubError> {
        let outcome = self
            .ingest
            .call(item)
            .await
            .map_err(|e| call_failed(self.ingest, e))?;
        match outcome {
            Outcome::Response(ResponseOutcome::NotFound(why)) => Err(HubError::not_found(why)),
            Outcome::Response(ResponseOutcome::Rejected(why)) => Err(HubError::refused(why)),
            Outcome::Response(other) => Ok(other),
            // The writer answers nothing else to a response-side change unless it stops.
            _ => {
                tracing::debug!(command, "writer answered without a response outcome");
                Err(writer_stopped(self.ingest))
            }
        }
    }
}

/// Why the writer no longer takes requests: its storage failure when one stopped it (a full
/// disk must reach the caller as such, whichever of the stop and the failed reply it sees
/// first), otherwise an orderly shutdown.
pub fn writer_stopped(ingest: &IngestHandle) -> HubError {
    match ingest.storage_failure() {
        Some(e) => HubError::storage(&e),
        None => HubError::unavailable("the hub is shutting down; retry shortly"),
    }
}

/// The one mapping of a failed writer call to the hub's error.
fn call_failed(ingest: &IngestHandle, error: TransitionError) -> HubError {
    match error {
        TransitionError::Store(e) => HubError::storage(&e),
        TransitionError::Stopped => writer_stopped(ingest),
    }
}

/// A defect: the writer answered a command with the outcome of another.
fn wrong_answer(command: &str, outcome: &ResponseOutcome) -> HubError {
    let kind = match outcome {
        ResponseOutcome::Directives(_) => "directives",
        ResponseOutcome::Hunt(_) => "a hunt",
        ResponseOutcome::Comm(_) => "a communication",
        ResponseOutcome::Observable(_) => "an observable",
        ResponseOutcome::Runbook(_) => "a runbook",
        ResponseOutcome::Updated(_) => "an update",
        ResponseOutcome::Pruned(_) => "a prune step",
        ResponseOutcome::Library(_) => "a library hunt",
        ResponseOutcome::Enrolment(_) => "a site's enrolment",
        ResponseOutcome::NotFound(_) | ResponseOutcome::Rejected(_) => "a refusal",
    };
    HubError::internal(format!("the writer answered {command} with {kind}"))
}
