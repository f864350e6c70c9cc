//! Certificates, keys and the CRL reloaded from disk while a service runs: a rotated
//! certificate or a new revocation takes effect at the next handshake, without a restart.
//!
//! [`Swappable`] holds the configuration of the moment; [`watch`] polls the files and, when
//! any of them changed and the new set loads cleanly, swaps in configurations built from it.
//! A set that fails to load (half-copied files, a key that does not match) is logged and the
//! previous configuration stays in force.

use crate::identity::TrustDomain;
pub use crate::tls::Swappable;
use crate::tls::{TlsFiles, TlsMaterial};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

/// Modification time and length of every file of `files` (a missing file reads as `None`).
fn stamp(files: &TlsFiles) -> Vec<Option<(SystemTime, u64)>> {
    let mut paths: Vec<&PathBuf> = vec![&files.ca, &files.cert, &files.key];
    paths.extend(files.crl.as_ref());
    paths
        .into_iter()
        .map(|p| {
            std::fs::metadata(p)
                .ok()
                .and_then(|m| Some((m.modified().ok()?, m.len())))
        })
        .collect()
}

/// Polls `files` every `interval` until `shutdown`. On a change that loads cleanly and still
/// names the same identity, calls `apply` with the new material (which builds and swaps the
/// configurations it needs), then `after` (e.g. to end sessions of peers now revoked).
pub fn watch(
    files: TlsFiles,
    domain: TrustDomain,
    interval: Duration,
    shutdown: CancellationToken,
    apply: impl Fn(&TlsMaterial) -> Result<(), crate::tls::TlsError> + Send + 'static,
    after: impl Fn() + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen = stamp(&files);
        let own = TlsMaterial::load(&files, domain.clone())
            .ok()
            .map(|m| m.own.uri);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
            let now = stamp(&files);
            if now == seen {
                continue;
            }
            let loaded = TlsMaterial::load(&files, domain.clone()).and_then(|material| {
                if own.as_ref().is_some_and(|uri| *uri != material.own.uri) {
                    return Err(crate::tls::TlsError::Verifier(format!(
                        "the new certificate names {}, not {}; keeping the current one",
                        material.own.uri,
                        own.as_deref().unwrap_or("")
                    )));
                }
                apply(&material)
            });
            match loaded {
                Ok(()) => {
                    seen = now;
                    metrics::counter!("socfed_tls_reloads_total", "outcome" => "applied")
                        .increment(1);
                    tracing::info!(
                        cert = %files.cert.display(),
                        crl = ?files.crl,
                        "TLS material reloaded: certificate, CA and CRL apply to new connections"
                    );
                    after();
                }
                Err(e) => {
                    // Retried on the next change (or the next poll, for a half-written set).
                    metrics::counter!("socfed_tls_reloads_total", "outcome" => "failed")
                        .increment(1);
                    tracing::error!(error = %e, "TLS material changed on disk but does not load; keeping the current configuration");
                }
            }
        }
    })
}
