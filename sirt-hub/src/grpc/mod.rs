//! Thin gRPC service implementations: check the caller, decode, call the core, encode.

pub mod acting;
pub mod casework;
pub mod comms;
pub mod enrolment;
pub mod events;
pub mod federation;
pub mod hunt_library;
mod members;
pub mod observables;
pub mod operator;
pub mod refusal_layer;
pub mod response;
pub mod roster;
pub mod runbooks;
pub mod tokens;
pub mod watches;

use crate::error::HubError;
use crate::store::StoreError;
use tonic::Status;

pub use crate::service::writer_stopped;

pub use crate::error::STORAGE_FAILURE;

/// A storage failure as a gRPC status (`HubError::storage`, the one mapping).
pub fn storage_status(error: &StoreError) -> Status {
    HubError::storage(error).into()
}
