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
