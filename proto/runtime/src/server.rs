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

/// The standard services every listener serves next to its own, as reflection names them.
const STANDARD_SERVICES: [&str; 3] = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// Server reflection, v1 and v1alpha (grpcurl and older clients still ask v1alpha), listing
/// exactly `services` (the socfed services this listener serves) and the standard ones: the
/// socfed descriptor set holds every socfed service, and a listener must not advertise one it
/// does not serve.
pub fn reflection(
    services: &[&str],
) -> Result<
    (
        ServerReflectionServer<impl ServerReflection>,
        tonic_reflection::server::v1alpha::ServerReflectionServer<
            impl tonic_reflection::server::v1alpha::ServerReflection,
        >,
    ),
    tonic_reflection::server::Error,
> {
    let builder = || {
        services.iter().chain(STANDARD_SERVICES.iter()).fold(
            tonic_reflection::server::Builder::configure()
                .register_encoded_file_descriptor_set(socfed_proto::pb::FILE_DESCRIPTOR_SET)
                .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET),
            |builder, name| builder.with_service_name(*name),
        )
    };
    Ok((builder().build_v1()?, builder().build_v1alpha()?))
}

/// How long a stopping server waits for clients to close their connections.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// After the grace, how long the closed connections get to wind down before the task is
/// aborted (their I/O already fails, so this is only scheduling time).
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// A tonic server with the HTTP/2 settings of `limits`: keepalive pings (a dead peer is
/// found and its connection closed) and the cap on concurrent streams per connection.
pub fn builder(limits: &crate::listen::ListenLimits) -> tonic::transport::Server {
    tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(limits.keepalive_interval))
        .http2_keepalive_timeout(Some(limits.keepalive_timeout))
        .max_concurrent_streams(limits.max_streams_per_connection)
}

/// Waits for a tonic server task: until it ends by itself, or, once `shutdown` is cancelled,
/// at most [`SHUTDOWN_GRACE`] for open connections to close; then `gate` closes every
/// connection still open (their tasks end, and with them the handles they hold on the
/// service) and the task is aborted if it still runs. Connections without a client
/// certificate are closed as soon as `shutdown` fires (see [`crate::listen::Gate`]). A client
/// that never closes its connection must not keep a service from stopping; the delivery
/// protocol makes a forced stop safe (nothing unacknowledged is lost, it is resent).
pub async fn join_server(
    server: &mut tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    shutdown: &tokio_util::sync::CancellationToken,
    gate: &crate::listen::Gate,
) -> Result<(), tonic::transport::Error> {
    tokio::select! {
        result = &mut *server => return flatten(result),
        () = shutdown.cancelled() => {}
    }
    if let Ok(result) = tokio::time::timeout(SHUTDOWN_GRACE, &mut *server).await {
        return flatten(result);
    }
    tracing::warn!(grace = ?SHUTDOWN_GRACE, listener = gate.name(), "clients kept connections open past the shutdown grace period; closing them");
    gate.close_all();
    match tokio::time::timeout(CLOSE_WAIT, &mut *server).await {
        Ok(result) => flatten(result),
        Err(_) => {
            server.abort();
            Ok(())
        }
    }
}

/// The same for an HTTP listener task ([`crate::listen::http::serve`]).
pub async fn join_http(
    task: &mut tokio::task::JoinHandle<()>,
    shutdown: &tokio_util::sync::CancellationToken,
    gate: &crate::listen::Gate,
) {
    shutdown.cancelled().await;
    if tokio::time::timeout(SHUTDOWN_GRACE, &mut *task)
        .await
        .is_ok()
    {
        return;
    }
    gate.close_all();
    if tokio::time::timeout(CLOSE_WAIT, &mut *task).await.is_err() {
        task.abort();
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

/// The services whose request latency is recorded by name; anything else is "other", so a
/// client sending made-up paths cannot grow the metric's label set.
const KNOWN_SERVICES: [&str; 11] = [
    "socfed.v1.Federation",
    "socfed.v1.Operator",
    "socfed.v1.Response",
    "socfed.v1.Communications",
    "socfed.v1.OperatorRoster",
    "socfed.v1.SiteLocal",
    "socfed.v1.SiteSoc",
    "socfed.v1.SiteResponse",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

fn service_label(path: &str) -> &'static str {
    let service = path.trim_start_matches('/').split('/').next().unwrap_or("");
    KNOWN_SERVICES
        .iter()
        .find(|known| **known == service)
        .copied()
        .unwrap_or("other")
}

/// Records `socfed_grpc_request_seconds{service}`: time to the response headers (for a stream,
/// until it opens).
#[derive(Debug, Clone, Copy, Default)]
pub struct LatencyLayer;

impl<S> tower::Layer<S> for LatencyLayer {
    type Service = Latency<S>;
    fn layer(&self, inner: S) -> Latency<S> {
        Latency { inner }
    }
}

#[derive(Debug, Clone)]
pub struct Latency<S> {
    inner: S,
}

impl<S, B> tower::Service<tonic::codegen::http::Request<B>> for Latency<S>
where
    S: tower::Service<tonic::codegen::http::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: tonic::codegen::http::Request<B>) -> Self::Future {
        let service = service_label(request.uri().path());
        let started = std::time::Instant::now();
        let response = self.inner.call(request);
        Box::pin(async move {
            let result = response.await;
            metrics::histogram!("socfed_grpc_request_seconds", "service" => service)
                .record(started.elapsed().as_secs_f64());
            result
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_known_services_become_labels() {
        assert_eq!(
            super::service_label("/socfed.v1.Operator/ListIncidents"),
            "socfed.v1.Operator"
        );
        assert_eq!(
            super::service_label("/socfed.v1.Operator/Whatever"),
            "socfed.v1.Operator"
        );
        assert_eq!(super::service_label("/evil.Service/x"), "other");
        assert_eq!(super::service_label(""), "other");
    }
}
