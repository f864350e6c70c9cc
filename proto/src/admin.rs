//! The admin listener (plain HTTP: keep it on loopback or a management network):
//!
//! - `GET /livez`: 200 while the process serves requests at all;
//! - `GET /readyz`: 200 when ready, 503 otherwise, with the reasons one per line (and
//!   non-fatal warnings when ready);
//! - `GET /metrics`: Prometheus text exposition.
//!
//! The binaries install the process-wide metrics recorder; libraries only record through the
//! `metrics` facade.

use axum::http::StatusCode;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What `/readyz` reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readiness {
    /// Why the service is not ready; empty when ready.
    pub blockers: Vec<String>,
    /// Worth knowing, not a reason to take the service out of rotation.
    pub warnings: Vec<String>,
}

pub type ReadinessCheck = Arc<dyn Fn() -> Readiness + Send + Sync>;

/// Installs the metrics recorder for this process (binaries only, once).
pub fn install_recorder() -> Result<PrometheusHandle, String> {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| format!("cannot install the metrics recorder: {e}"))
}

/// Binds `listen` and serves the admin endpoints until `shutdown`.
pub async fn serve(
    listen: SocketAddr,
    metrics: PrometheusHandle,
    ready: ReadinessCheck,
    shutdown: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot start the admin listener on {listen}: {e}"))?;
    let app = axum::Router::new()
        .route("/livez", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let ready = ready.clone();
                async move { readyz(&ready()) }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move { metrics.render() }
            }),
        );
    tracing::info!(%listen, "admin listener: /livez /readyz /metrics");
    Ok(tokio::spawn(async move {
        let stop = async move { shutdown.cancelled().await };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e, "admin listener failed");
        }
    }))
}

fn readyz(r: &Readiness) -> (StatusCode, String) {
    let mut body = String::new();
    let status = if r.blockers.is_empty() {
        body.push_str("ready\n");
        StatusCode::OK
    } else {
        body.push_str("not ready\n");
        for b in &r.blockers {
            body.push_str(&format!("- {b}\n"));
        }
        StatusCode::SERVICE_UNAVAILABLE
    };
    for w in &r.warnings {
        body.push_str(&format!("warning: {w}\n"));
    }
    (status, body)
}
