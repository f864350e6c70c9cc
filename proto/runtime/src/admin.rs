//! The admin listener (plain HTTP: keep it on loopback or a management network):
//!
//! - `GET /livez`: 200 while the process serves requests at all;
//! - `GET /readyz`: 200 when ready, 503 otherwise, with the reasons one per line (and
//!   non-fatal warnings when ready);
//! - `GET /metrics`: Prometheus text exposition;
//! - `GET /crl` (when a CRL file is configured): the organisation CRL in DER
//!   (`application/pkix-crl`), the URL `sirt-hub pki init --crl-url` writes into certificates.
//!   CRLs are signed, so plain HTTP is the norm for them. The file is read on every request, so
//!   a CRL re-signed by `pki revoke` or `pki crl` is served at once.
//!
//! The binaries install the process-wide metrics recorder; libraries only record through the
//! `metrics` facade.

use crate::listen::Gate;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use rustls::pki_types::CertificateRevocationListDer;
use rustls::pki_types::pem::PemObject;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
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

/// Installs the metrics recorder for this process (binaries only, once): every histogram of
/// [`crate::metric_catalog`] with its buckets, every metric with its `# HELP`.
pub fn install_recorder() -> Result<PrometheusHandle, String> {
    use crate::metric_catalog::{Kind, METRICS, describe_all};
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    let failed = |e| format!("cannot install the metrics recorder: {e}");
    let mut builder = PrometheusBuilder::new();
    for metric in METRICS {
        if let Kind::Histogram(buckets) = metric.kind {
            builder = builder
                .set_buckets_for_metric(Matcher::Full(metric.name.into()), buckets)
                .map_err(failed)?;
        }
    }
    let handle = builder.install_recorder().map_err(failed)?;
    describe_all();
    Ok(handle)
}

/// Binds `listen` and serves the admin endpoints until `shutdown`. Connections pass `gate`
/// (caps, idle timeout; the service's descriptor budget) and hyper's header-read timeout.
pub async fn serve(
    listen: SocketAddr,
    metrics: PrometheusHandle,
    ready: ReadinessCheck,
    gate: Arc<Gate>,
    shutdown: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, String> {
    serve_with_crl(listen, metrics, ready, None, gate, shutdown).await
}

/// As [`serve`], and with `crl` (a PEM CRL file) also `GET /crl`.
pub async fn serve_with_crl(
    listen: SocketAddr,
    metrics: PrometheusHandle,
    ready: ReadinessCheck,
    crl: Option<PathBuf>,
    gate: Arc<Gate>,
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
    let app = match crl {
        Some(path) => {
            tracing::info!(%listen, crl = %path.display(), "admin listener: /livez /readyz /metrics /crl");
            let path = std::sync::Arc::new(path);
            app.route(
                "/crl",
                get(move || {
                    let path = path.clone();
                    async move { crl_der(&path).await }
                }),
            )
        }
        None => {
            tracing::info!(%listen, "admin listener: /livez /readyz /metrics");
            app
        }
    };
    let limits = gate.limits().clone();
    let incoming = crate::listen::http::tcp_incoming(listener, gate);
    Ok(crate::listen::http::serve(incoming, app, &limits, shutdown))
}

/// The CRL at `path` (PEM, as `sirt-hub pki` writes it) converted to DER, the form HTTP CRL
/// distribution points serve. 503 while the file is missing or unreadable, so a client
/// sees "no current CRL" rather than a stale or empty one.
async fn crl_der(path: &Path) -> Response {
    let unavailable = |reason: String| {
        tracing::warn!(path = %path.display(), %reason, "cannot serve the CRL");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the CRL is not available: {reason}\n"),
        )
            .into_response()
    };
    let pem = match tokio::fs::read(path).await {
        Ok(pem) => pem,
        Err(e) => return unavailable(format!("cannot read it: {e}")),
    };
    match CertificateRevocationListDer::from_pem_slice(&pem) {
        Ok(der) => (
            [(header::CONTENT_TYPE, "application/pkix-crl")],
            der.as_ref().to_vec(),
        )
            .into_response(),
        Err(e) => unavailable(format!("it holds no PEM CRL ({e})")),
    }
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
