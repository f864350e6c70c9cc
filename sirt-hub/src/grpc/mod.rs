//! Thin gRPC service implementations: check the caller, decode, call the core, encode.

pub mod acting;
pub mod comms;
pub mod convert;
pub mod federation;
pub mod live;
pub mod operator;
pub mod refusal_layer;
pub mod response;
pub mod response_convert;
pub mod roster;

use crate::store::StoreError;
use tonic::Status;

/// The one mapping from storage failures to gRPC status: the client may retry later.
pub fn storage_status(error: &StoreError) -> Status {
    tracing::error!(%error, "storage failure while serving a request");
    Status::unavailable(
        "the hub could not read or write its store; retry shortly and check the hub logs",
    )
}
