//! The standard gRPC services every socfed listener serves next to its own: `grpc.health.v1`
//! and server reflection (v1) over the socfed and health descriptors.

use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_reflection::server::v1::{ServerReflection, ServerReflectionServer};

/// A health service reporting each of `services` (full proto names) as SERVING.
pub async fn health(services: &[&str]) -> HealthServer<impl Health> {
    let (reporter, service) = tonic_health::server::health_reporter();
    for name in services {
        reporter
            .set_service_status(*name, tonic_health::ServingStatus::Serving)
            .await;
    }
    service
}

/// Reflection over the socfed protos and the health service.
pub fn reflection()
-> Result<ServerReflectionServer<impl ServerReflection>, tonic_reflection::server::Error> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
}

/// How long a stopping server waits for clients to close their connections.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Waits for a tonic server task: until it ends by itself, or, once `shutdown` is cancelled,
/// at most [`SHUTDOWN_GRACE`] for open connections to close before aborting it. A client that
/// never closes its connection must not keep a service from stopping; the delivery protocol
/// makes a forced stop safe (nothing unacknowledged is lost, it is resent).
pub async fn join_server(
    server: &mut tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    shutdown: &tokio_util::sync::CancellationToken,
) -> Result<(), tonic::transport::Error> {
    tokio::select! {
        result = &mut *server => return flatten(result),
        () = shutdown.cancelled() => {}
    }
    match tokio::time::timeout(SHUTDOWN_GRACE, &mut *server).await {
        Ok(result) => flatten(result),
        Err(_) => {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "clients kept connections open past the shutdown grace period; closing them");
            server.abort();
            Ok(())
        }
    }
}

fn flatten(
    result: Result<Result<(), tonic::transport::Error>, tokio::task::JoinError>,
) -> Result<(), tonic::transport::Error> {
    match result {
        Ok(inner) => inner,
        Err(e) => {
            tracing::error!(error = %e, "server task failed");
            Ok(())
        }
    }
}
