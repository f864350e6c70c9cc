//! One listener's admission state: two pools of connections (unauthenticated: in the TLS
//! handshake or without a client certificate; established) with a cap per pool and per peer
//! address, and the guard each admitted connection carries until it closes.

use super::observe::RefusedLog;
use super::{DescriptorBudget, ListenLimits};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Context;
use std::time::Duration;
use tokio::time::Sleep;
// The connection timers read tokio's clock (tests pause and advance it).
use tokio::time::Instant as TimerInstant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Why a connection was closed at accept (the `reason` label of
/// `socfed_listener_refused_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The process has no descriptors left for connections (its reserve is for the store).
    Descriptors,
    /// The listener holds `max_connections` established connections.
    ListenerFull,
    /// This peer address holds `max_connections_per_ip`.
    PeerFull,
    /// The listener holds `max_unauthenticated` connections without a certificate (yet).
    UnauthenticatedFull,
    /// This peer address holds `max_unauthenticated_per_ip` of them.
    UnauthenticatedPeerFull,
}

impl Refused {
    pub fn label(self) -> &'static str {
        match self {
            Refused::Descriptors => "descriptors",
            Refused::ListenerFull => "listener_full",
            Refused::PeerFull => "peer_full",
            Refused::UnauthenticatedFull => "unauthenticated_full",
            Refused::UnauthenticatedPeerFull => "unauthenticated_peer_full",
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    unauthenticated: usize,
    unauthenticated_by_ip: HashMap<IpAddr, usize>,
    established: usize,
    established_by_ip: HashMap<IpAddr, usize>,
}

fn dec(map: &mut HashMap<IpAddr, usize>, ip: IpAddr) {
    if let Some(n) = map.get_mut(&ip) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            map.remove(&ip);
        }
    }
}

/// The admission state of one listener. Shared by its accept loop and its connections.
#[derive(Debug)]
pub struct Gate {
    name: &'static str,
    limits: ListenLimits,
    /// Whether a connection needs a client certificate to be established (gRPC listeners);
    /// the dashboard and admin listeners serve people and scrapers without one.
    requires_certificate: bool,
    budget: Arc<DescriptorBudget>,
    counts: Mutex<Counts>,
    /// Cancelled when the service starts stopping: connections without a certificate close.
    draining: CancellationToken,
    /// Cancelled after the shutdown grace: every connection closes.
    closing: CancellationToken,
    log: RefusedLog,
}

impl Gate {
    /// `shutdown`: the service's stop token (connections without a certificate close at once
    /// when it fires; the rest when [`Gate::close_all`] is called after the grace period).
    pub fn new(
        name: &'static str,
        limits: ListenLimits,
        budget: Arc<DescriptorBudget>,
        requires_certificate: bool,
        shutdown: &CancellationToken,
    ) -> Arc<Self> {
        // Each pool never exceeds the process budget; the unauthenticated pool keeps to a
        // quarter of it, so a flood of strangers leaves room for the sites and operators.
        let mut limits = limits;
        limits.max_connections = limits.max_connections.min(budget.total());
        limits.max_unauthenticated = limits.max_unauthenticated.min((budget.total() / 4).max(1));
        let closing = CancellationToken::new();
        let draining = closing.child_token();
        let drain_on_stop = (shutdown.clone(), draining.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = drain_on_stop.0.cancelled() => drain_on_stop.1.cancel(),
                () = drain_on_stop.1.cancelled() => {}
            }
        });
        Arc::new(Self {
            name,
            limits,
            requires_certificate,
            budget,
            counts: Mutex::new(Counts::default()),
            draining,
            closing,
            log: RefusedLog::default(),
        })
    }

    pub fn limits(&self) -> &ListenLimits {
        &self.limits
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Closes every connection now (after the shutdown grace: a client that keeps a
    /// connection open must not keep the service from stopping).
    pub fn close_all(&self) {
        self.closing.cancel();
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// At accept: a slot in the unauthenticated pool for the handshake, or why not. A refusal
    /// is counted and (rate-limited) logged; the caller drops the connection.
    pub fn admit(self: &Arc<Self>, remote: SocketAddr) -> Result<Pending, Refused> {
        let ip = remote.ip();
        let verdict = {
            let mut c = self.counts();
            let from_ip = c.unauthenticated_by_ip.get(&ip).copied().unwrap_or(0);
            if c.unauthenticated >= self.limits.max_unauthenticated {
                Err(Refused::UnauthenticatedFull)
            } else if from_ip >= self.limits.max_unauthenticated_per_ip {
                Err(Refused::UnauthenticatedPeerFull)
            } else if !self.budget.take() {
                Err(Refused::Descriptors)
            } else {
                c.unauthenticated += 1;
                *c.unauthenticated_by_ip.entry(ip).or_default() += 1;
                Ok(c.unauthenticated)
            }
        };
        match verdict {
            Ok(open) => {
                metrics::gauge!("socfed_listener_connections", "listener" => self.name, "pool" => "unauthenticated")
                    .set(open as f64);
                Ok(Pending {
                    gate: Some(self.clone()),
                    ip,
                })
            }
            Err(refused) => {
                self.refused(remote, refused);
                Err(refused)
            }
        }
    }

    fn refused(&self, remote: SocketAddr, refused: Refused) {
        metrics::counter!("socfed_listener_refused_total", "listener" => self.name, "reason" => refused.label())
            .increment(1);
        if let Some(suppressed) = self.log.allow() {
            tracing::warn!(
                listener = self.name,
                %remote,
                reason = refused.label(),
                suppressed,
                "connection refused at accept: over the listener's connection caps (see socfed_listener_refused_total)"
            );
        }
    }

    fn release_unauthenticated(&self, ip: IpAddr) {
        let mut c = self.counts();
        c.unauthenticated = c.unauthenticated.saturating_sub(1);
        dec(&mut c.unauthenticated_by_ip, ip);
        metrics::gauge!("socfed_listener_connections", "listener" => self.name, "pool" => "unauthenticated")
            .set(c.unauthenticated as f64);
    }

    fn release_established(&self, ip: IpAddr) {
        let mut c = self.counts();
        c.established = c.established.saturating_sub(1);
        dec(&mut c.established_by_ip, ip);
        metrics::gauge!("socfed_listener_connections", "listener" => self.name, "pool" => "established")
            .set(c.established as f64);
    }

    pub(super) fn closed(&self, reason: &'static str) {
        metrics::counter!("socfed_listener_closed_total", "listener" => self.name, "reason" => reason)
            .increment(1);
    }
}

/// A connection admitted at accept, in its TLS handshake. Dropping it (handshake failed or
/// timed out) frees its slot.
#[derive(Debug)]
pub struct Pending {
    gate: Option<Arc<Gate>>,
    ip: IpAddr,
}

impl Pending {
    /// Call when the handshake timed out (counted; the slot is freed on drop).
    pub fn timed_out(&self) {
        if let Some(gate) = &self.gate {
            gate.closed("handshake_timeout");
        }
    }

    /// The handshake completed; `identified` says whether the peer showed a usable client
    /// certificate. An identified peer (or any peer, on a listener that requires none) moves
    /// to the established pool if there is room; an unidentified one on a listener that
    /// requires a certificate stays in the unauthenticated pool, for a short life only.
    pub fn established(
        mut self,
        remote: SocketAddr,
        identified: bool,
    ) -> Result<ConnGuard, Refused> {
        let Some(gate) = self.gate.take() else {
            return Err(Refused::ListenerFull);
        };
        let ip = self.ip;
        if gate.requires_certificate && !identified {
            let life = gate.limits.unauthenticated_lifetime;
            return Ok(ConnGuard::new(gate, ip, Pool::Unauthenticated, Some(life)));
        }
        let verdict = {
            let mut c = gate.counts();
            let from_ip = c.established_by_ip.get(&ip).copied().unwrap_or(0);
            if c.established >= gate.limits.max_connections {
                Err(Refused::ListenerFull)
            } else if from_ip >= gate.limits.max_connections_per_ip {
                Err(Refused::PeerFull)
            } else {
                c.established += 1;
                *c.established_by_ip.entry(ip).or_default() += 1;
                Ok(c.established)
            }
        };
        gate.release_unauthenticated(ip);
        match verdict {
            Ok(open) => {
                metrics::gauge!("socfed_listener_connections", "listener" => gate.name, "pool" => "established")
                    .set(open as f64);
                Ok(ConnGuard::new(gate, ip, Pool::Established, None))
            }
            Err(refused) => {
                gate.budget.give_back();
                gate.refused(remote, refused);
                Err(refused)
            }
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(gate) = self.gate.take() {
            gate.release_unauthenticated(self.ip);
            gate.budget.give_back();
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pool {
    Unauthenticated,
    Established,
}

/// Carried by an admitted connection's stream until it closes (its slot and descriptor are
/// then given back). The stream asks [`ConnGuard::poll_expired`] on every read and write and
/// fails the I/O when the connection must close: the peer sent nothing for `idle_timeout`,
/// an unauthenticated connection reached its lifetime, or the service is stopping.
pub struct ConnGuard {
    gate: Arc<Gate>,
    ip: IpAddr,
    pool: Pool,
    idle: Duration,
    last_read: TimerInstant,
    idle_timer: Pin<Box<Sleep>>,
    lifetime: Option<Pin<Box<Sleep>>>,
    stop: Pin<Box<WaitForCancellationFutureOwned>>,
    expired: Option<(io::ErrorKind, &'static str)>,
}

impl std::fmt::Debug for ConnGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnGuard")
            .field("listener", &self.gate.name)
            .field("ip", &self.ip)
            .field("pool", &self.pool)
            .finish()
    }
}

impl ConnGuard {
    fn new(gate: Arc<Gate>, ip: IpAddr, pool: Pool, lifetime: Option<Duration>) -> Self {
        let idle = gate.limits.idle_timeout;
        let stop = match pool {
            Pool::Unauthenticated => gate.draining.clone(),
            Pool::Established => gate.closing.clone(),
        };
        Self {
            idle,
            last_read: TimerInstant::now(),
            idle_timer: Box::pin(tokio::time::sleep(idle)),
            lifetime: lifetime.map(|d| Box::pin(tokio::time::sleep(d))),
            stop: Box::pin(stop.cancelled_owned()),
            expired: None,
            gate,
            ip,
            pool,
        }
    }

    /// Whether the peer showed a certificate (or needed none).
    pub fn is_established(&self) -> bool {
        self.pool == Pool::Established
    }

    /// The peer sent bytes: the idle timer restarts (lazily, when it fires).
    pub fn note_read(&mut self) {
        self.last_read = TimerInstant::now();
    }

    /// `Some(error)` once the connection must close; registers the timers' wakers otherwise.
    pub fn poll_expired(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        if self.expired.is_none() {
            self.expired = self.check(cx);
        }
        self.expired
            .map(|(kind, why)| io::Error::new(kind, why.to_string()))
    }

    fn check(&mut self, cx: &mut Context<'_>) -> Option<(io::ErrorKind, &'static str)> {
        if self.stop.as_mut().poll(cx).is_ready() {
            self.gate.closed("shutdown");
            return Some((io::ErrorKind::ConnectionAborted, "the service is stopping"));
        }
        if let Some(life) = self.lifetime.as_mut()
            && life.as_mut().poll(cx).is_ready()
        {
            self.gate.closed("unauthenticated_lifetime");
            return Some((
                io::ErrorKind::TimedOut,
                "closed: this listener serves only connections with a client certificate",
            ));
        }
        loop {
            if self.idle_timer.as_mut().poll(cx).is_pending() {
                return None;
            }
            let due = self.last_read + self.idle;
            if due <= TimerInstant::now() {
                self.gate.closed("idle");
                return Some((io::ErrorKind::TimedOut, "closed: idle for too long"));
            }
            // Read since the timer was set: re-arm it for the new deadline and poll again
            // (which registers the waker).
            self.idle_timer.as_mut().reset(due);
        }
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        match self.pool {
            Pool::Unauthenticated => self.gate.release_unauthenticated(self.ip),
            Pool::Established => self.gate.release_established(self.ip),
        }
        self.gate.budget.give_back();
    }
}
