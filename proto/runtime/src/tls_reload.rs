//! Certificates, keys and the CRL reloaded from disk while a service runs: a rotated
//! certificate or a new revocation takes effect at the next handshake, without a restart.
//!
//! [`Swappable`] holds the configuration of the moment; [`watch`] polls the files and, when
//! any of them changed and the new set loads cleanly, swaps in configurations built from it.
//! A set that fails to load (half-copied files, a key that does not match) is logged and the
//! previous configuration stays in force.

pub use crate::revocation::Revocation;
pub use crate::tls::Swappable;
use crate::tls::{TlsFiles, TlsMaterial};
use socfed_proto::identity::TrustDomain;
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

/// Polls `files` every `interval` until `shutdown`. On a change that loads cleanly, still
/// names the same identity and carries a CRL no older than the one in force, calls `apply`
/// with the new material (which builds and swaps the configurations it needs), puts it in
/// force for open connections ([`Revocation::install`] closes those whose certificate no
/// longer verifies), then calls `after`. Every poll also lets `revocation` notice a CRL
/// passing its nextUpdate.
pub fn watch(
    files: TlsFiles,
    domain: TrustDomain,
    interval: Duration,
    shutdown: CancellationToken,
    revocation: Revocation,
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
            count_closed(revocation.tick());
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
                Ok(material)
            });
            let material = match loaded {
                Ok(material) => material,
                Err(e) => {
                    // Retried on the next change (or the next poll, for a half-written set).
                    metrics::counter!("socfed_tls_reloads_total", "outcome" => "failed")
                        .increment(1);
                    tracing::error!(error = %e, "TLS material changed on disk but does not load; keeping the current configuration");
                    continue;
                }
            };
            if let Err(e) = revocation.admit(&material) {
                // A deliberate refusal, not a half-written file: said once per change.
                seen = now;
                metrics::counter!("socfed_tls_reloads_total", "outcome" => "refused_older_crl")
                    .increment(1);
                tracing::error!(error = %e, crl = ?files.crl, "CRL refused");
                continue;
            }
            match apply(&material).and_then(|()| revocation.install(&material)) {
                Ok(closed) => {
                    seen = now;
                    metrics::counter!("socfed_tls_reloads_total", "outcome" => "applied")
                        .increment(1);
                    count_closed(closed);
                    tracing::info!(
                        cert = %files.cert.display(),
                        crl = ?files.crl,
                        closed,
                        "TLS material reloaded: certificate, CA and CRL apply to new connections and every new call; connections whose certificate no longer verifies were closed"
                    );
                    after();
                }
                Err(e) => {
                    metrics::counter!("socfed_tls_reloads_total", "outcome" => "failed")
                        .increment(1);
                    tracing::error!(error = %e, "TLS material changed on disk but does not load; keeping the current configuration");
                }
            }
        }
    })
}

fn count_closed(closed: usize) {
    if closed > 0 {
        metrics::counter!("socfed_revoked_connections_closed_total")
            .increment(u64::try_from(closed).unwrap_or(u64::MAX));
    }
}
