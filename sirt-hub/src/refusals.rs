//! Every refused call, stream and TLS handshake goes into the hub's hash-chained audit log,
//! without letting a flood turn into a disk-write amplifier.
//!
//! A refusal is keyed by (who, peer IP, API, reason). The first of a key in a window is
//! recorded at once (count 1); the identical ones after it are only counted, and at the end
//! of the window one record carries how many more there were. At most
//! [`MAX_RECORDS_PER_WINDOW`] records are written per window; refusals beyond that (a flood
//! of distinct keys) are counted and summarised in one record. So the audit log grows by at
//! most about `2 × MAX_RECORDS_PER_WINDOW + 1` entries per window whatever the attack rate.
//!
//! Audited: refusals of a caller who presented a certificate: a verified one, one of the
//! organisation CA naming no usable identity, or one refused at the TLS handshake (expired,
//! revoked, another CA: an event about a credential, with rustls's reason). Not audited: calls
//! from a caller without any certificate ([`ANONYMOUS`]), who is anyone on the network and could otherwise grow the chain with
//! records of its choosing (method names, rates). Those are counted in
//! `socfed_hub_unauthenticated_refusals_total` and logged at most once every few seconds
//! (with how many were not logged).
//!
//! Records go through the ingest writer (`service::Commands::audit`), the single writer of the
//! chain.
//! The coalescing state is plain data ([`Coalescer`]); [`spawn`] is the thin async shell.

use crate::ingest::IngestHandle;
use crate::service::Commands;
use socfed_proto::UnixMillis;
use socfed_runtime::audit::AuditDraft;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How long identical refusals are folded into one record.
pub const WINDOW: Duration = Duration::from_secs(10);
/// Records written per window at most (first sightings and repeat counts together).
pub const MAX_RECORDS_PER_WINDOW: usize = 100;
/// The `api` of a refused TLS handshake.
pub const HANDSHAKE: &str = "tls handshake";
/// How a caller without any client certificate is named (its refusals are not audited).
pub const ANONYMOUS: &str = "anonymous";
/// The audit `action` of every refusal record.
pub const ACTION: &str = "refused";
/// The audit `action` of a site stream superseded by one from another address: whoever holds
/// a site's key can keep the real site off by reconnecting, so it is a security event.
pub const TAKEOVER: &str = "stream.takeover";
/// The audit `action` of an API token's use (`crate::api`): every use is audited through the
/// same window as refusals (the first of a kind at once, repeats as a count), so a busy
/// integration cannot turn the chain into a disk-write amplifier or stall the writer.
pub const TOKEN_USE: &str = "token.use";

/// One refusal as the edge saw it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Refusal {
    /// [`ACTION`] for a refusal, [`TAKEOVER`] for a stream takeover.
    pub action: &'static str,
    /// The certificate's SPIFFE URI, or what was wrong with it (`no client certificate`).
    pub who: String,
    /// BLAKE3 fingerprint of the presented certificate, when there was a usable one.
    pub cert: String,
    pub peer_ip: Option<IpAddr>,
    /// e.g. `/socfed.v1.Operator/ListIncidents`, or `tls handshake`.
    pub api: String,
    pub reason: String,
}

impl Refusal {
    fn draft(&self, at_ms: UnixMillis, count: u64) -> AuditDraft {
        let peer = self.peer_ip.map(|ip| ip.to_string()).unwrap_or_default();
        AuditDraft {
            at_ms,
            actor: self.who.clone(),
            actor_cert: self.cert.clone(),
            action: self.action.into(),
            target: self.api.clone(),
            before: None,
            after: Some(
                serde_json::json!({ "peer": peer, "reason": self.reason, "count": count })
                    .to_string(),
            ),
        }
    }
}

/// The coalescing state of the current window (`socfed_runtime::audit_coalesce`, the rule the
/// agent's console refusals follow too), turned into audit records. Pure: time is passed in.
#[derive(Debug)]
pub struct Coalescer(socfed_runtime::audit_coalesce::Coalescer<Refusal>);

impl Default for Coalescer {
    fn default() -> Self {
        let window_ms = i64::try_from(WINDOW.as_millis()).unwrap_or(i64::MAX);
        Self(socfed_runtime::audit_coalesce::Coalescer::new(
            window_ms,
            MAX_RECORDS_PER_WINDOW,
        ))
    }
}

impl Coalescer {
    /// Notes one refusal; returns the records to write now: this one if it is the first of its
    /// key in the window, and the counts of a window that ended before the timer saw it.
    pub fn note(&mut self, refusal: Refusal, now: UnixMillis) -> Vec<AuditDraft> {
        drafts(self.0.note(refusal, now), now)
    }

    /// Ends the window: one record per key refused again since its first record (bounded,
    /// loudest first), and one summary of everything the bound left out.
    pub fn end_window(&mut self, now: UnixMillis) -> Vec<AuditDraft> {
        drafts(self.0.end_window(), now)
    }
}

fn drafts(due: socfed_runtime::audit_coalesce::Due<Refusal>, now: UnixMillis) -> Vec<AuditDraft> {
    let mut out: Vec<AuditDraft> = due
        .records
        .iter()
        .map(|(refusal, count)| refusal.draft(now, *count))
        .collect();
    if due.unrecorded > 0 {
        let summary = Refusal {
            action: ACTION,
            who: "various".into(),
            cert: String::new(),
            peer_ip: None,
            api: "various".into(),
            reason: format!(
                "more refusals than the audit bound of {MAX_RECORDS_PER_WINDOW} records per {} s; see the logs and metrics",
                WINDOW.as_secs()
            ),
        };
        out.push(summary.draft(now, due.unrecorded));
    }
    out
}

/// Where edges report refusals. Cheap to call from any thread; never blocks.
#[derive(Debug)]
pub struct RefusalAudit {
    state: Mutex<Coalescer>,
    out: mpsc::Sender<AuditDraft>,
    unauthenticated_log: socfed_runtime::listen::RefusedLog,
    takeover_log: socfed_runtime::listen::RefusedLog,
}

impl RefusalAudit {
    pub fn record(&self, refusal: Refusal) {
        // No verified certificate: metrics and a rate-limited log, never the chain.
        if refusal.who.starts_with(ANONYMOUS) {
            metrics::counter!("socfed_hub_unauthenticated_refusals_total").increment(1);
            if let Some(suppressed) = self.unauthenticated_log.allow() {
                tracing::warn!(
                    who = %refusal.who,
                    peer = ?refusal.peer_ip,
                    api = %refusal.api,
                    reason = %refusal.reason,
                    suppressed,
                    "refused a caller without a verified certificate (counted in socfed_hub_unauthenticated_refusals_total, not audited)"
                );
            }
            return;
        }
        metrics::counter!("socfed_hub_refusals_total").increment(1);
        self.audit(refusal);
    }

    /// A site stream superseded by one from another address: logged (rate-limited), counted
    /// in `socfed_hub_stream_takeovers_total` and audited through the same window as
    /// refusals, so a key holder reconnecting every half second leaves one record per window
    /// with a count, not one per stream.
    pub fn takeover(&self, event: Refusal) {
        metrics::counter!("socfed_hub_stream_takeovers_total").increment(1);
        if let Some(suppressed) = self.takeover_log.allow() {
            tracing::warn!(
                who = %event.who,
                peer = ?event.peer_ip,
                reason = %event.reason,
                suppressed,
                "site stream taken over from another address (audited as stream.takeover)"
            );
        }
        self.audit(event);
    }

    /// An API token used for a call (`action` [`TOKEN_USE`]; `who` names the token by id and
    /// name, never its secret).
    pub fn token_use(&self, event: Refusal) {
        metrics::counter!("socfed_hub_api_token_uses_total").increment(1);
        self.audit(event);
    }

    fn audit(&self, refusal: Refusal) {
        let drafts = match self.state.lock() {
            Ok(mut state) => state.note(refusal, socfed_proto::now_millis()),
            Err(_) => return,
        };
        for draft in drafts {
            if self.out.try_send(draft).is_err() {
                metrics::counter!("socfed_hub_refusal_audit_dropped_total").increment(1);
            }
        }
    }
}

/// Starts the task that writes refusal records through `ingest`. It ends with `shutdown`,
/// after writing the counts of the last window; join it before the writer.
pub fn spawn(
    ingest: IngestHandle,
    shutdown: CancellationToken,
) -> (Arc<RefusalAudit>, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel(MAX_RECORDS_PER_WINDOW * 2);
    let audit = Arc::new(RefusalAudit {
        state: Mutex::new(Coalescer::default()),
        out: tx,
        unauthenticated_log: Default::default(),
        takeover_log: Default::default(),
    });
    let state = audit.clone();
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(WINDOW);
        tick.tick().await;
        loop {
            let drafts = tokio::select! {
                Some(draft) = rx.recv() => vec![draft],
                _ = tick.tick() => end_window(&state),
                () = shutdown.cancelled() => {
                    let mut last: Vec<AuditDraft> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
                    last.extend(end_window(&state));
                    submit(&ingest, last).await;
                    return;
                }
            };
            submit(&ingest, drafts).await;
        }
    });
    (audit, task)
}

fn end_window(audit: &RefusalAudit) -> Vec<AuditDraft> {
    match audit.state.lock() {
        Ok(mut state) => state.end_window(socfed_proto::now_millis()),
        Err(_) => Vec::new(),
    }
}

async fn submit(ingest: &IngestHandle, drafts: Vec<AuditDraft>) {
    for draft in drafts {
        if Commands::on(ingest).audit(draft).await.is_err() {
            tracing::warn!("refusal not audited: the ingest writer has stopped");
            return;
        }
    }
}

#[cfg(test)]
mod tests;
