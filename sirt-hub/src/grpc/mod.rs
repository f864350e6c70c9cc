//! Thin gRPC service implementations: check the caller, decode, call the core, encode.

pub mod acting;
pub mod comms;
pub mod convert;
pub mod federation;
pub mod live;
mod members;
pub mod operator;
pub mod refusal_layer;
pub mod response;
pub mod response_convert;
pub mod roster;
pub mod watches;

use crate::error::HubError;
use crate::ingest::{IngestHandle, TransitionError};
use crate::store::StoreError;
use crate::store::apply::{Item, Outcome, ResponseOutcome};
use tonic::Status;

/// Runs one response-side change (directives, hunts, comms, roster) through the writer and
/// maps its refusals: the one mapping every response-side service uses.
pub(crate) async fn run_response(
    ingest: &IngestHandle,
    item: Item,
) -> Result<ResponseOutcome, Status> {
    match ingest
        .call(item)
        .await
        .map_err(|e| call_failed(ingest, e))?
    {
        Outcome::Response(outcome) => match outcome {
            ResponseOutcome::NotFound(why) => Err(HubError::not_found(why).into()),
            ResponseOutcome::Rejected(why) => Err(HubError::refused(why).into()),
            other => Ok(other),
        },
        _ => Err(writer_stopped(ingest).into()),
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
pub fn call_failed(ingest: &IngestHandle, error: TransitionError) -> HubError {
    match error {
        TransitionError::Store(e) => HubError::storage(&e),
        TransitionError::Stopped => writer_stopped(ingest),
    }
}

pub use crate::error::STORAGE_FAILURE;

/// A storage failure as a gRPC status (`HubError::storage`, the one mapping).
pub fn storage_status(error: &StoreError) -> Status {
    HubError::storage(error).into()
}
