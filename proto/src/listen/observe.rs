//! What a listener tells the operator: the descriptions of its metrics (`# HELP`), and a log
//! line limiter for events a flood repeats (refusals, failed handshakes).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A log line at most every few seconds for a kind of event a flood repeats: the first is
/// logged, the rest counted and summarised with the next one logged.
#[derive(Debug, Default)]
pub struct RefusedLog {
    state: Mutex<(Option<Instant>, u64)>,
}

impl RefusedLog {
    const EVERY: Duration = Duration::from_secs(5);

    /// `Some(suppressed since the last line)` when a line may be written now.
    pub fn allow(&self) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match state.0 {
            Some(last) if now.duration_since(last) < Self::EVERY => {
                state.1 += 1;
                None
            }
            _ => {
                let suppressed = state.1;
                *state = (Some(now), 0);
                Some(suppressed)
            }
        }
    }
}

pub(super) fn describe_metrics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        metrics::describe_counter!(
            "socfed_listener_refused_total",
            "Connections closed at accept by a listener's caps, by listener and reason (descriptors, listener_full, peer_full, unauthenticated_full, unauthenticated_peer_full)"
        );
        metrics::describe_counter!(
            "socfed_listener_closed_total",
            "Connections a listener closed by a timer or at shutdown, by listener and reason (handshake_timeout, unauthenticated_lifetime, idle, shutdown)"
        );
        metrics::describe_gauge!(
            "socfed_listener_connections",
            "Connections a listener holds now, by listener and pool (unauthenticated, established)"
        );
    });
}
