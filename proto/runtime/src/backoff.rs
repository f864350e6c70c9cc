//! Retry delays: exponential with "equal jitter" (half fixed, half random), so a fleet of
//! agents does not reconnect in lockstep after a hub restart, and webhook retries to a
//! receiver that came back do not arrive all at once. Pure: randomness is passed in. Used by
//! the agent's uplink (reconnects) and by [`crate::webhook`] (delivery retries).

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max: max.max(initial),
            attempt: 0,
        }
    }

    /// The next delay; `unit` is a random number in `[0, 1)`.
    pub fn next_delay(&mut self, unit: f64) -> Duration {
        let ceiling = self
            .initial
            .saturating_mul(2u32.saturating_pow(self.attempt.min(20)))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        half + half.mul_f64(unit.clamp(0.0, 1.0))
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_to_the_cap_with_bounded_jitter() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let lows: Vec<_> = (0..8).map(|_| b.next_delay(0.0)).collect();
        assert_eq!(lows[0], Duration::from_millis(50));
        assert_eq!(lows[1], Duration::from_millis(100));
        assert_eq!(lows[7], Duration::from_secs(1));
        let high = b.next_delay(0.999_999);
        assert!(high <= Duration::from_secs(2) && high > Duration::from_millis(1990));
        b.reset();
        assert_eq!(b.next_delay(0.0), Duration::from_millis(50));
    }
}
