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
            ResponseOutcome::NotFound(why) => Err(Status::not_found(why)),
            ResponseOutcome::Rejected(why) => Err(Status::failed_precondition(why)),
            other => Ok(other),
        },
        _ => Err(writer_stopped(ingest)),
    }
}

/// Why the writer no longer takes requests: its storage failure when one stopped it (a full
/// disk must reach the caller as such, whichever of the stop and the failed reply it sees
/// first), otherwise an orderly shutdown.
pub fn writer_stopped(ingest: &IngestHandle) -> Status {
    match ingest.storage_failure() {
        Some(e) => storage_status(&e),
        None => Status::unavailable("the hub is shutting down; retry shortly"),
    }
}

/// The one mapping of a failed writer call to gRPC status.
pub fn call_failed(ingest: &IngestHandle, error: TransitionError) -> Status {
    match error {
        TransitionError::Store(e) => storage_status(&e),
        TransitionError::Stopped => writer_stopped(ingest),
    }
}

/// Metadata on a status caused by the hub's own storage, so that the refusal audit does not
/// record the caller as refused.
pub const STORAGE_FAILURE: &str = "socfed-storage-failure";

/// The one mapping from storage failures to gRPC status: the client may retry later. A full
/// disk says so and what to do; nothing in a refused request was acknowledged.
pub fn storage_status(error: &StoreError) -> Status {
    tracing::error!(%error, "storage failure while serving a request");
    let mut status = if is_disk_full(error) {
        Status::resource_exhausted(
            "the hub's disk is full (no space left on the device holding its data_dir): nothing in this request was stored or acknowledged; the hub stops so that its supervisor restarts it: free space on that disk (sites keep their escalations queued and resend them)",
        )
    } else {
        Status::unavailable(
            "the hub could not read or write its store; retry shortly and check the hub logs",
        )
    };
    status.metadata_mut().insert(
        STORAGE_FAILURE,
        tonic::metadata::MetadataValue::from_static("1"),
    );
    status
}

/// No space (or quota) left where the store writes, whichever layer reported it.
fn is_disk_full(error: &StoreError) -> bool {
    use socfed_runtime::disk_full;
    match error {
        StoreError::Open { source, .. } | StoreError::Sled(source) => disk_full::sled(source),
        StoreError::Sync(e) => disk_full::io(e),
        _ => false,
    }
}
