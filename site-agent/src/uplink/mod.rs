//! The connection to the hub: one escalation stream, resent from the outbox after every
//! reconnect, acknowledged by high-water mark.
//!
//! Per session: hello (site, epoch, next_seq) → welcome (hub's high-water mark, size limit,
//! batch cap) → send from the oldest unacknowledged entry with at most `window` in flight,
//! the stored bytes framed as they are and batched when the hub takes batches ([`frame`],
//! [`send`]) → remove entries as acks arrive. Any failure ends the session; the next one
//! starts after a jittered exponential backoff and resends everything still in the outbox.
//! Every store call runs on the blocking pool ([`send::blocking`]), never on an async worker.
//!
//! The same stream carries directives from the hub (handed to the [`ResponseEngine`]) and the
//! engine's reports on them back to the hub, and the hub's state of this site's escalated
//! incidents ([`hub_state`]), asked for from the last one recorded.
//!
//! With several hub addresses (replicas) each session goes to one of them, chosen by
//! [`failover::Rotation`]; the outbox makes a failover lossless like any reconnect.

pub mod failover;
mod frame;
mod hub_runbook;
mod hub_state;
mod send;

use crate::response::ResponseEngine;
use crate::store::{AgentStore, Notice, StoreError};
use frame::Outgoing;
use send::{Sending, Window, blocking};
use socfed_proto::pb::{self, hub_message, site_message};
use socfed_proto::vocab::SiteId;
use socfed_runtime::backoff::Backoff;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct UplinkSettings {
    pub site: SiteId,
    /// The hub's addresses (one, or each replica's), tried in turn.
    pub hubs: Vec<socfed_runtime::tls::Target>,
    pub window: usize,
    pub max_message_bytes: usize,
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    pub status_interval: Duration,
}

/// What the uplink shows to `site-agent status`.
#[derive(Debug, Default)]
pub struct UplinkState {
    pub connected: AtomicBool,
    /// The largest message the hub said it accepts (0 until the first welcome).
    pub hub_max_message_bytes: AtomicU64,
    /// The most escalations per batch the hub takes (0: single escalations only).
    pub hub_max_batch: AtomicU64,
    /// Escalations sent (resends included) and the batch messages among what carried them.
    pub escalations_sent: AtomicU64,
    pub batches_sent: AtomicU64,
    pub reconnects: AtomicU64,
    pub last_error: Mutex<String>,
    /// The hub address of the open stream, or the one being tried.
    pub hub_address: Mutex<String>,
    /// The last switch to another hub address than the one connected before.
    pub last_failover: Mutex<Option<failover::Failover>>,
}

/// How far one session got: what [`failover::Rotation`] needs to know of it.
#[derive(Debug, Default)]
struct Attempt {
    welcomed_at: Option<std::time::Instant>,
    delivered: bool,
}

#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("hub: {0}")]
    Hub(#[from] tonic::Status),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("protocol: {0}")]
    Protocol(String),
}

/// The hub side of the directive engine: directives in, reports out.
pub struct Directives {
    pub engine: Arc<ResponseEngine>,
    pub updates: Arc<crate::response::updates::UpdateQueue>,
}

pub async fn run(
    store: Arc<AgentStore>,
    tls: socfed_runtime::tls::Swappable<rustls::ClientConfig>,
    settings: UplinkSettings,
    state: Arc<UplinkState>,
    mut directives: Directives,
    shutdown: CancellationToken,
) {
    let mut backoff = Backoff::new(settings.backoff_initial, settings.backoff_max);
    let (hub_states, recorder) = hub_state::start(store.clone());
    let mut rotation = failover::Rotation::new(settings.hubs.len());
    // The address of the last stream that was welcomed: connecting elsewhere is a failover.
    let mut last_connected: Option<String> = None;
    while !shutdown.is_cancelled() {
        let Some(hub) = settings.hubs.get(rotation.current()) else {
            tracing::error!("no hub address configured; uplink stopped");
            break;
        };
        set_locked(&state.hub_address, hub.address.clone());
        let mut attempt = Attempt::default();
        let result = session(
            &store,
            &tls,
            (&settings, hub),
            &state,
            (&mut directives, &hub_states),
            &shutdown,
            (&mut backoff, &mut attempt, &mut last_connected),
        )
        .await;
        state.connected.store(false, Ordering::Relaxed);
        metrics::gauge!("socfed_agent_hub_connected").set(0.0);
        if attempt.welcomed_at.is_some() {
            metrics::gauge!("socfed_agent_hub_address", "address" => hub.address.clone()).set(0.0);
        }
        let message = match result {
            Ok(()) => break,
            Err(e) => e.to_string(),
        };
        set_locked(&state.last_error, format!("{}: {message}", hub.address));
        // A session that delivered, or stayed up past a status interval, was a working hub.
        let held = attempt.delivered
            || attempt
                .welcomed_at
                .is_some_and(|at| at.elapsed() >= settings.status_interval);
        let next = rotation.failed(held);
        let next_address = settings
            .hubs
            .get(rotation.current())
            .map_or("", |t| t.address.as_str());
        tracing::warn!(hub = %hub.address, next = %next_address, error = %message, backlog = store.outbox_len(), "hub stream ended; will reconnect");
        if next == failover::Next::AfterBackoff {
            let delay = backoff.next_delay(rand::random::<f64>());
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(delay) => {}
            }
        }
        state.reconnects.fetch_add(1, Ordering::Relaxed);
    }
    // What arrived is recorded before the uplink reports it stopped.
    drop(hub_states);
    if recorder.await.is_err() {
        tracing::error!("incident state recorder failed");
    }
    tracing::info!("uplink stopped");
}

fn set_locked<T>(slot: &Mutex<T>, value: T) {
    if let Ok(mut held) = slot.lock() {
        *held = value;
    }
}

/// One stream to `hub`. Returns `Ok(())` only on shutdown.
async fn session(
    store: &Arc<AgentStore>,
    tls: &socfed_runtime::tls::Swappable<rustls::ClientConfig>,
    (settings, hub): (&UplinkSettings, &socfed_runtime::tls::Target),
    state: &UplinkState,
    (directives, hub_states): (&mut Directives, &hub_state::Sender),
    shutdown: &CancellationToken,
    (backoff, attempt, last_connected): (&mut Backoff, &mut Attempt, &mut Option<String>),
) -> Result<(), SessionError> {
    let channel = socfed_runtime::tls::channel(
        &hub.address,
        &hub.server_name,
        // The certificate of the moment: a rotated one is used from the next session on.
        tls.current(),
        Duration::from_secs(5),
    )
    .map_err(|e| SessionError::Protocol(e.to_string()))?;
    let (tx, rx) = mpsc::channel::<Outgoing>(settings.window.max(16));
    let (counters, states_after, runbooks_after) = blocking(store, |s| {
        Ok((
            s.counters()?,
            s.hub_states_after()?,
            s.hub_runbooks_after()?,
        ))
    })
    .await?;
    let hello = pb::Hello {
        site_id: settings.site.to_string(),
        store_epoch: store.epoch().to_bytes().to_vec(),
        next_seq: counters.next_seq.max(1),
        agent_version: env!("CARGO_PKG_VERSION").to_string(),
        incident_states_after: Some(states_after),
        runbooks_after: Some(runbooks_after),
    };
    tx.send(Outgoing::Typed(pb::SiteMessage {
        body: Some(site_message::Body::Hello(hello)),
    }))
    .await
    .map_err(|_| SessionError::Protocol("stream closed before hello".into()))?;
    let opened = frame::escalate(channel, settings.max_message_bytes, ReceiverStream::new(rx));
    let mut inbound = tokio::select! {
        () = shutdown.cancelled() => return Ok(()),
        response = opened => response?,
    };
    let first = tokio::select! {
        () = shutdown.cancelled() => return Ok(()),
        first = inbound.message() => first?,
    };
    let welcome = match first {
        Some(pb::HubMessage {
            body: Some(hub_message::Body::Welcome(welcome)),
        }) => welcome,
        other => {
            return Err(SessionError::Protocol(format!(
                "expected welcome, got {other:?}"
            )));
        }
    };
    if welcome.sequence_regression {
        // Sending under this epoch would reuse sequences the hub already holds: move what is
        // still queued to a new epoch and reconnect with it.
        let epoch = blocking(store, AgentStore::restart_epoch).await?;
        tracing::error!(
            acked_through = welcome.acked_through,
            next_seq = counters.next_seq,
            new_epoch = %epoch,
            backlog = store.outbox_len(),
            "the hub holds sequences this store no longer has (restored from a backup?); queued escalations moved to a new store epoch"
        );
        return Err(SessionError::Protocol(
            "store restored from a backup: reconnecting under a new epoch".into(),
        ));
    }
    if welcome.max_message_bytes > 0 {
        state
            .hub_max_message_bytes
            .store(welcome.max_message_bytes, Ordering::Relaxed);
    }
    let hub_limit = usize::try_from(welcome.max_message_bytes).unwrap_or(usize::MAX);
    let send_limit = if hub_limit == 0 {
        settings.max_message_bytes
    } else {
        settings.max_message_bytes.min(hub_limit)
    };
    // An older hub advertises no batches (0) and reads only single escalations.
    state
        .hub_max_batch
        .store(u64::from(welcome.max_batch), Ordering::Relaxed);
    let sending = Sending {
        max_batch: usize::try_from(welcome.max_batch).unwrap_or(usize::MAX),
        send_limit,
        window: settings.window,
    };
    // Nothing is deleted on the strength of the welcome alone: entries the hub may already
    // hold are resent and come back as duplicates (then deleted) or as conflicts, which mean
    // this store diverged from what the hub holds (a restored backup) and move it to a new
    // epoch below. A lost ack costs a resend; a restored store never loses an escalation.
    let own_acked = counters.acked_through;
    state.connected.store(true, Ordering::Relaxed);
    metrics::counter!("socfed_agent_hub_connects_total").increment(1);
    metrics::gauge!("socfed_agent_hub_connected").set(1.0);
    metrics::gauge!("socfed_agent_outbox_depth").set(store.outbox_len() as f64);
    if let Ok(mut last) = state.last_error.lock() {
        last.clear();
    }
    attempt.welcomed_at = Some(std::time::Instant::now());
    metrics::gauge!("socfed_agent_hub_address", "address" => hub.address.clone()).set(1.0);
    if let Some(from) = last_connected
        .replace(hub.address.clone())
        .filter(|from| *from != hub.address)
    {
        metrics::counter!("socfed_agent_hub_failovers_total").increment(1);
        tracing::warn!(%from, to = %hub.address, "failed over to another hub address");
        set_locked(
            &state.last_failover,
            Some(failover::Failover {
                at_ms: socfed_proto::now_millis(),
                from,
                to: hub.address.clone(),
            }),
        );
    }
    tracing::info!(hub = %hub.address, acked_through = welcome.acked_through, backlog = store.outbox_len(), "connected to hub");

    let mut window = Window {
        acked: own_acked,
        next_to_send: own_acked + 1,
        last_sent: own_acked.min(welcome.acked_through),
    };
    let mut acked_once = false;
    let mut status_tick = tokio::time::interval(settings.status_interval);
    // A report that did not fit in the send queue; sent before any other.
    let mut report: Option<Outgoing> = None;
    loop {
        window.fill(store, &tx, sending, state).await?;
        // Directive reports, latest per directive. Never waiting on a full send queue: this
        // loop must keep reading what the hub sends, or both sides could wait on each other.
        while let Some(message) = report.take().or_else(|| {
            directives.updates.pop().map(|update| {
                Outgoing::Typed(pb::SiteMessage {
                    body: Some(site_message::Body::DirectiveUpdate(update)),
                })
            })
        }) {
            match tx.try_send(message) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(message)) => {
                    report = Some(message);
                    break;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    return Err(SessionError::Protocol("request stream closed".into()));
                }
            }
        }
        let window_full = window.in_flight() >= settings.window;
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            message = inbound.message() => match message? {
                Some(pb::HubMessage { body: Some(hub_message::Body::Ack(ack)) }) => {
                    let mut first_conflict: Option<u64> = None;
                    let mut counted = Vec::with_capacity(ack.notices.len());
                    for notice in &ack.notices {
                        let conflict = notice.kind == pb::ack_notice::Kind::Conflict as i32;
                        let kind = if conflict { Notice::Conflict } else { Notice::Rejected };
                        tracing::error!(seq = notice.seq, kind = kind.counter_name(), reason = %notice.reason, "the hub kept an escalation for review instead of applying it");
                        counted.push(kind);
                        if conflict {
                            first_conflict = Some(first_conflict.map_or(notice.seq, |s| s.min(notice.seq)));
                        }
                    }
                    if !counted.is_empty() {
                        blocking(store, move |s| counted.into_iter().try_for_each(|kind| s.count_notice(kind))).await?;
                    }
                    if let Some(seq) = first_conflict {
                        // The hub holds other content under our sequence: this store diverged
                        // (restored from a backup). Keep everything from the conflict on and
                        // deliver it under a new epoch.
                        let through = seq.saturating_sub(1).min(ack.acked_through);
                        let epoch = blocking(store, move |s| {
                            s.acknowledge(through)?;
                            s.restart_epoch()
                        }).await?;
                        tracing::error!(seq, new_epoch = %epoch, backlog = store.outbox_len(), "store diverged from the hub (restored from a backup?); undelivered escalations moved to a new store epoch");
                        return Err(SessionError::Protocol("store diverged from the hub: reconnecting under a new epoch".into()));
                    }
                    if !acked_once {
                        // A hub that welcomes and then fails every stream must not get a
                        // reconnect storm: the backoff resets only once deliveries succeed.
                        acked_once = true;
                        attempt.delivered = true;
                        backoff.reset();
                    }
                    if ack.acked_through > window.acked {
                        let acked = ack.acked_through;
                        window.acked = acked;
                        window.next_to_send = window.next_to_send.max(acked + 1);
                        blocking(store, move |s| s.acknowledge(acked)).await?;
                        metrics::gauge!("socfed_agent_outbox_depth").set(store.outbox_len() as f64);
                    }
                }
                Some(pb::HubMessage { body: Some(hub_message::Body::Directive(directive)) }) => {
                    // Recording it flushes the store: off the async workers, but awaited, so
                    // directives are still handled one at a time, in order.
                    let engine = directives.engine.clone();
                    if tokio::task::spawn_blocking(move || engine.receive(directive)).await.is_err() {
                        tracing::error!("directive task failed; the hub will resend it");
                    }
                }
                Some(pb::HubMessage { body: Some(hub_message::Body::IncidentState(state)) }) => {
                    // In order, to the recorder; waits only when it is far behind.
                    if hub_states.send(state).await.is_err() {
                        return Err(SessionError::Protocol("incident state recorder stopped".into()));
                    }
                }
                Some(pb::HubMessage { body: Some(hub_message::Body::Runbook(version)) }) => {
                    hub_runbook::record(store, version).await;
                }
                Some(other) => tracing::debug!(?other, "ignoring hub message this agent does not handle yet"),
                None => return Err(SessionError::Protocol("the hub ended the stream".into())),
            },
            () = store.enqueued.notified(), if !window_full => {}
            () = directives.updates.ready.notified(), if report.is_none() => {}
            _ = status_tick.tick() => {
                let (counters, oldest) = blocking(store, |s| Ok((s.counters()?, s.oldest_enqueued_at()?))).await?;
                let now = socfed_proto::now_millis();
                let oldest_unsent_age_ms = oldest.map_or(0, |t| (now - t).max(0) as u64);
                metrics::gauge!("socfed_agent_outbox_oldest_age_seconds").set(oldest_unsent_age_ms as f64 / 1000.0);
                let status = pb::SiteStatus {
                    backlog: store.outbox_len(),
                    oldest_unsent_age_ms,
                    refused_total: counters.refused_total,
                    dropped_total: counters.dropped_total,
                };
                if tx.try_send(Outgoing::Typed(pb::SiteMessage { body: Some(site_message::Body::Status(status)) })).is_err() {
                    tracing::debug!("status skipped: send queue full");
                }
            }
        }
    }
}
