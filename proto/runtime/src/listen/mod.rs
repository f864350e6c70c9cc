//! Connection admission for every socfed listener (the gRPC ports of hub and agent, the
//! dashboard, the admin listeners): how many connections a listener holds, how many one peer
//! address holds, how long a connection may take to say who it is, and how long an idle one
//! lives. The descriptors the process needs for its store are kept out of the listeners' reach.
//!
//! - [`ListenLimits`]: the `[connections]` config table, with defaults a production hub can run.
//! - [`DescriptorBudget`]: raises the soft `RLIMIT_NOFILE` to the hard limit at start and sizes
//!   one budget of connections for the whole process, leaving a reserve for the store, TLS
//!   reloads and logs: a connection flood is refused at accept instead of starving a `sync`.
//! - [`Gate`] (one per listener): admits a connection at accept, moves it to the established
//!   pool once it has shown a client certificate (or at once on listeners that need none), and
//!   gives it a [`ConnGuard`] that closes it on a handshake timeout, after an idle period, at
//!   the end of the short life of a connection without a certificate, or when the service stops.
//! - [`http`]: serving an axum router on such connections with hyper's header-read timeout
//!   and HTTP/2 keepalive (the dashboard and the admin listener).

mod gate;
pub mod guarded;
pub mod http;
mod observe;

pub use gate::{ConnGuard, Gate, Pending, Refused};
pub use observe::RefusedLog;

use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// `[connections]`: caps and timers of every listener of the service. Each listener applies
/// them on its own (the caps are per listener), all within one [`DescriptorBudget`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListenLimits {
    /// Established connections one listener holds at once; further ones are closed at accept.
    pub max_connections: usize,
    /// Established connections from one peer IP address on one listener.
    pub max_connections_per_ip: usize,
    /// Connections still in the TLS handshake or without a client certificate, per listener:
    /// a separate small budget, so that a flood of them never takes an established slot.
    pub max_unauthenticated: usize,
    /// The same, from one peer IP address.
    pub max_unauthenticated_per_ip: usize,
    /// Time from accept to a completed TLS handshake.
    #[serde(with = "humantime_serde")]
    pub handshake_timeout: Duration,
    /// How long a connection without a client certificate stays open on a listener that
    /// requires one (enough to be told UNAUTHENTICATED, never enough to hold a slot).
    #[serde(with = "humantime_serde")]
    pub unauthenticated_lifetime: Duration,
    /// A connection on which the peer sends nothing at all (not even an HTTP/2 keepalive
    /// acknowledgement) for this long is closed.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// HTTP/2 keepalive: the server pings every connection this often...
    #[serde(with = "humantime_serde")]
    pub keepalive_interval: Duration,
    /// ...and closes it when the ping is not answered within this.
    #[serde(with = "humantime_serde")]
    pub keepalive_timeout: Duration,
    /// HTTP/2 streams (calls) open at once on one connection (SETTINGS_MAX_CONCURRENT_STREAMS).
    pub max_streams_per_connection: u32,
    /// Time a client has to send a request's headers (HTTP/1.1 listeners: dashboard, admin).
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
}

impl Default for ListenLimits {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            max_connections_per_ip: 256,
            max_unauthenticated: 256,
            max_unauthenticated_per_ip: 32,
            handshake_timeout: Duration::from_secs(5),
            unauthenticated_lifetime: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(300),
            keepalive_interval: Duration::from_secs(30),
            keepalive_timeout: Duration::from_secs(20),
            max_streams_per_connection: 128,
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

impl ListenLimits {
    /// Range checks, naming the key under `table` (e.g. `connections`).
    pub fn validate(&self) -> Result<(), crate::config::Invalid> {
        use crate::config::in_range;
        in_range(
            "connections.max_connections",
            self.max_connections,
            1..=1_000_000,
        )?;
        in_range(
            "connections.max_connections_per_ip",
            self.max_connections_per_ip,
            1..=1_000_000,
        )?;
        in_range(
            "connections.max_unauthenticated",
            self.max_unauthenticated,
            1..=1_000_000,
        )?;
        in_range(
            "connections.max_unauthenticated_per_ip",
            self.max_unauthenticated_per_ip,
            1..=1_000_000,
        )?;
        in_range(
            "connections.max_streams_per_connection",
            self.max_streams_per_connection,
            1..=65_536,
        )?;
        let timers = [
            ("connections.handshake_timeout", self.handshake_timeout),
            (
                "connections.unauthenticated_lifetime",
                self.unauthenticated_lifetime,
            ),
            ("connections.idle_timeout", self.idle_timeout),
            ("connections.keepalive_interval", self.keepalive_interval),
            ("connections.keepalive_timeout", self.keepalive_timeout),
            ("connections.header_read_timeout", self.header_read_timeout),
        ];
        for (key, value) in timers {
            if value < Duration::from_millis(100) || value > Duration::from_secs(24 * 3600) {
                return Err((
                    key,
                    format!("must be between 100ms and 24h (got {value:?})"),
                ));
            }
        }
        Ok(())
    }
}

/// Descriptors kept out of the listeners' reach at most (the store, TLS and CRL reloads,
/// logs, the transient descriptor of a connection refused at accept).
const MAX_RESERVE: u64 = 1024;
const MIN_RESERVE: u64 = 64;

/// Connections the whole process may hold, sized from `RLIMIT_NOFILE`. Shared by all its
/// listeners: whatever they admit, the reserve stays free for the store.
#[derive(Debug)]
pub struct DescriptorBudget {
    total: usize,
    used: AtomicUsize,
}

impl DescriptorBudget {
    /// Raises the soft descriptor limit to the hard one (a flood then meets the caps, not the
    /// kernel's limit) and sizes the budget from the result. Call once at start.
    pub fn from_rlimit() -> Arc<Self> {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        if limit.current != limit.maximum {
            let raised = Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            };
            if let Err(e) = setrlimit(Resource::Nofile, raised) {
                tracing::warn!(error = %e, "cannot raise the open-file limit to its hard limit");
            }
        }
        let soft = getrlimit(Resource::Nofile).current;
        let budget = Self::sized(soft);
        tracing::info!(
            open_file_limit = ?soft,
            connection_budget = budget.total,
            "connections of all listeners together stay within the open-file limit, minus a reserve for the store"
        );
        Arc::new(budget)
    }

    /// The budget for a soft limit of `soft` descriptors (`None`: unlimited).
    pub fn sized(soft: Option<u64>) -> Self {
        let soft = soft.unwrap_or(1 << 20).min(1 << 24);
        let reserve = (soft / 4).clamp(MIN_RESERVE, MAX_RESERVE);
        let total = usize::try_from(soft.saturating_sub(reserve))
            .unwrap_or(usize::MAX)
            .max(8);
        Self {
            total,
            used: AtomicUsize::new(0),
        }
    }

    /// A budget of exactly `total` connections (tests, embedding).
    pub fn fixed(total: usize) -> Arc<Self> {
        Arc::new(Self {
            total,
            used: AtomicUsize::new(0),
        })
    }

    pub fn total(&self) -> usize {
        self.total
    }

    fn take(&self) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                (used < self.total).then_some(used + 1)
            })
            .is_ok()
    }

    fn give_back(&self) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(1))
            });
    }
}

#[cfg(test)]
mod tests;
