//! Seeded randomness for the fault-injection tests, and the switch between their short and long
//! variants.
//!
//! Every random choice a fault test makes (when to kill, how many bytes a proxied connection
//! carries before it is cut, how writes are sliced, how much latency is added) comes from one
//! seed. The seed is printed at the start of the test; `SOCFED_FAULT_SEED=N` replays the same
//! choices. Thread scheduling and process start-up times are not under the seed's control, so a
//! replay repeats the faults, not every interleaving.

/// The environment variable that fixes the seed of a fault test.
pub const SEED_VAR: &str = "SOCFED_FAULT_SEED";
/// The environment variable that selects the long variants (`SOCFED_LONG_FAULTS=1`).
pub const LONG_VAR: &str = "SOCFED_LONG_FAULTS";

/// True when the long variants were asked for.
pub fn long() -> bool {
    std::env::var(LONG_VAR).is_ok_and(|v| v == "1")
}

/// `short` in the default suite, `long` with `SOCFED_LONG_FAULTS=1`.
pub fn scale<T>(short: T, long: T) -> T {
    if self::long() { long } else { short }
}

/// The seed for `test`: `SOCFED_FAULT_SEED` if set (decimal or `0x` hex), otherwise fresh.
/// Printed either way, so a failure names the seed that replays it.
pub fn seed_for(test: &str) -> u64 {
    let given = std::env::var(SEED_VAR).ok().and_then(|text| {
        let text = text.trim();
        match text.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => text.parse().ok(),
        }
    });
    let seed = given.unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        // Mixed with the pid so two tests started in the same nanosecond still differ.
        Rng::new(nanos ^ (u64::from(std::process::id()) << 32)).next_u64()
    });
    eprintln!(
        "{test}: fault seed {seed} (replay: {SEED_VAR}={seed}; long variant: {}={})",
        LONG_VAR,
        u8::from(long())
    );
    seed
}

/// SplitMix64: small, fast and good enough to spread faults; not for cryptography.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (returns `lo` when `hi <= lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = hi - lo + 1;
        lo + self.next_u64() % span
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// An independent generator for a sub-task (a connection, a direction, a site), derived
    /// from this one so that the whole tree replays from one seed.
    pub fn fork(&mut self, label: u64) -> Rng {
        Rng::new(self.next_u64() ^ label.wrapping_mul(0xD6E8_FEB8_6659_FD93))
    }

    /// `count` sorted values uniform in `lo..=hi`: moments (counts, byte offsets) at which to
    /// inject a fault.
    pub fn sorted_points(&mut self, count: usize, lo: u64, hi: u64) -> Vec<u64> {
        let mut points: Vec<u64> = (0..count).map(|_| self.range(lo, hi)).collect();
        points.sort_unstable();
        points
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn the_same_seed_gives_the_same_choices() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let xs: Vec<u64> = (0..100).map(|_| a.range(10, 20)).collect();
        let ys: Vec<u64> = (0..100).map(|_| b.range(10, 20)).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().all(|x| (10..=20).contains(x)));
        assert!(xs.contains(&10) && xs.contains(&20));
    }
}
