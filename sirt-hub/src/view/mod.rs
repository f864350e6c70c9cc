//! The read model: the hub's records as the views people and tools see (the wire's view
//! types), one conversion for the gRPC services, the dashboard, the CLI's JSON and the report.
//! Neither transport owns it; `web` and `grpc` both import it and never each other.

pub mod comms;
pub mod convert;
pub mod library;
pub mod observables;
pub mod response_convert;
pub mod sites;
pub mod wire;
pub mod words;

use crate::error::HubError;
use crate::store::HubStore;
use std::sync::Arc;

/// Runs a blocking store read off the async workers.
pub async fn read<T: Send + 'static>(
    store: &Arc<HubStore>,
    f: impl FnOnce(&HubStore) -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, HubError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|_| HubError::internal("store read task failed"))?
        .map_err(|e| HubError::storage(&e))
}
