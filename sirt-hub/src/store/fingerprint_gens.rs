//! Correlation fingerprints by time generation: which generations the `fingerprints` tree
//! holds, and a Bloom filter per generation that says which keys a generation certainly lacks.
//!
//! A fingerprint can match only within the correlation window (`correlate::within_window`),
//! and a record outside it decides exactly what no record decides (it neither matches nor
//! holds its key). So the tree is keyed by generation first (`generation u64 BE ++ key`): a
//! fingerprint is written into the generation of the time it was seen, a lookup asks only the
//! generations the window reaches, newest first, and whole generations past the window are
//! pruned. New fingerprints (most lookups, for reports that open an incident) are answered by
//! the filters without touching sled, and the keys sled does touch sit in a few recent
//! generations instead of one tree that grows with every report ever stored.
//!
//! Plain data, no I/O: the store fills it at open from the keys it holds and keeps it in step
//! as units write (a key noted for a unit that then fails only costs a lookup). Memory: about
//! 10 bits per fingerprint written within the window (a filter is dropped with its generation).

use socfed_proto::UnixMillis;
use std::collections::BTreeMap;

/// The span of one generation: a day. Fixed (a change is a layout change), so the store
/// needs no setting to open; a window of `w` days asks at most `w + 1` generations, each
/// answered by its filter in memory unless it may hold the key.
pub const SPAN_MS: i64 = 86_400_000;

/// Hash functions per filter (about 1 % false positives at 10 bits per key).
const HASHES: u64 = 7;
/// Bits per key a filter layer is sized for.
const BITS_PER_KEY: usize = 10;
/// The first layer's bits: 2^20 (128 KiB, about 100 k keys); each next layer doubles.
const FIRST_LAYER_BITS: usize = 1 << 20;

/// A scalable Bloom filter over keys that are already uniform hashes (BLAKE3): the bit
/// positions come from the key's own bytes, no hashing needed.
#[derive(Debug, Clone)]
pub struct Bloom {
    layers: Vec<Layer>,
}

#[derive(Debug, Clone)]
struct Layer {
    bits: Vec<u64>,
    /// Bit count minus one (the count is a power of two).
    mask: u64,
    keys: usize,
    capacity: usize,
}

impl Layer {
    fn with_bits(bits: usize) -> Self {
        Self {
            bits: vec![0; bits / 64],
            mask: bits as u64 - 1,
            keys: 0,
            capacity: bits / BITS_PER_KEY,
        }
    }

    fn positions(&self, key: &[u8; 32]) -> impl Iterator<Item = u64> + '_ {
        let word = |at: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&key[at..at + 8]);
            u64::from_le_bytes(bytes)
        };
        let (h1, h2) = (word(0), word(8) | 1);
        (0..HASHES).map(move |i| h1.wrapping_add(i.wrapping_mul(h2)) & self.mask)
    }

    fn contains(&self, key: &[u8; 32]) -> bool {
        self.positions(key)
            .all(|bit| self.bits[(bit / 64) as usize] & (1 << (bit % 64)) != 0)
    }

    fn insert(&mut self, key: &[u8; 32]) {
        let positions: Vec<u64> = self.positions(key).collect();
        for bit in positions {
            self.bits[(bit / 64) as usize] |= 1 << (bit % 64);
        }
        self.keys += 1;
    }
}

impl Default for Bloom {
    fn default() -> Self {
        Self {
            layers: vec![Layer::with_bits(FIRST_LAYER_BITS)],
        }
    }
}

impl Bloom {
    /// False: `key` was certainly never inserted.
    pub fn may_contain(&self, key: &[u8; 32]) -> bool {
        self.layers.iter().any(|layer| layer.contains(key))
    }

    pub fn insert(&mut self, key: &[u8; 32]) {
        if self.may_contain(key) {
            return;
        }
        let full = self
            .layers
            .last()
            .is_none_or(|layer| layer.keys >= layer.capacity);
        if full {
            let bits = self
                .layers
                .last()
                .map_or(FIRST_LAYER_BITS, |layer| layer.bits.len() * 64 * 2);
            self.layers.push(Layer::with_bits(bits));
        }
        if let Some(layer) = self.layers.last_mut() {
            layer.insert(key);
        }
    }

    /// Bytes the filter takes.
    pub fn bytes(&self) -> usize {
        self.layers.iter().map(|layer| layer.bits.len() * 8).sum()
    }
}

/// The generations the `fingerprints` tree holds, each with its filter.
#[derive(Debug, Clone)]
pub struct Generations {
    span_ms: i64,
    filters: BTreeMap<u64, Bloom>,
    /// Other hub replicas write the tree too (`store::postgres`): the filters know only this
    /// replica's keys, so every generation the window reaches is asked (in one read).
    shared: bool,
}

impl Default for Generations {
    fn default() -> Self {
        Self::new(SPAN_MS)
    }
}

impl Generations {
    /// Empty, with generations of `span_ms` (at least one millisecond).
    pub fn new(span_ms: i64) -> Self {
        Self {
            span_ms: span_ms.max(1),
            filters: BTreeMap::new(),
            shared: false,
        }
    }

    /// For a store other replicas write too: lookups no longer trust the filters.
    pub fn shared(mut self) -> Self {
        self.shared = true;
        self
    }

    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// The generation of a fingerprint seen at `at_ms` (times before 1970 are generation 0).
    pub fn generation(&self, at_ms: UnixMillis) -> u64 {
        (at_ms.max(0) / self.span_ms) as u64
    }

    /// The oldest generation a record seen within `window_ms` of `now` can be in.
    fn oldest_live(&self, now: UnixMillis, window_ms: i64) -> u64 {
        self.generation(now.saturating_sub(window_ms))
    }

    /// The generations that may hold `key` and can still match at `now`, newest first.
    /// Lazy, so a lookup allocates nothing (it runs for every fingerprint of every report).
    pub fn candidates<'a>(
        &'a self,
        key: &'a [u8; 32],
        now: UnixMillis,
        window_ms: i64,
    ) -> impl Iterator<Item = u64> + 'a {
        let oldest = self.oldest_live(now, window_ms);
        // Shared: up to one generation past this replica's clock, for another's running ahead.
        let every = self
            .shared
            .then(|| (oldest..=self.generation(now).saturating_add(1)).rev())
            .into_iter()
            .flatten();
        let filtered = (!self.shared)
            .then(|| {
                self.filters
                    .range(oldest..)
                    .rev()
                    .filter(move |(_, filter)| filter.may_contain(key))
                    .map(|(generation, _)| *generation)
            })
            .into_iter()
            .flatten();
        every.chain(filtered)
    }

    /// Records that `key` is written into `generation`.
    pub fn note(&mut self, generation: u64, key: &[u8; 32]) {
        self.filters.entry(generation).or_default().insert(key);
    }

    /// Generations entirely past the window at `now`: nothing in them can match any more.
    pub fn expired(&self, now: UnixMillis, window_ms: i64) -> Vec<u64> {
        let oldest = self.oldest_live(now, window_ms);
        self.filters.range(..oldest).map(|(g, _)| *g).collect()
    }

    /// Drops `generation` once the tree holds none of its keys.
    pub fn forget(&mut self, generation: u64) {
        self.filters.remove(&generation);
    }

    /// Generations held and the bytes their filters take.
    pub fn footprint(&self) -> (usize, usize) {
        (
            self.filters.len(),
            self.filters.values().map(Bloom::bytes).sum(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u64) -> [u8; 32] {
        *blake3::hash(&n.to_be_bytes()).as_bytes()
    }

    #[test]
    fn a_filter_never_misses_a_key_it_holds_and_rarely_claims_one_it_lacks() {
        let mut bloom = Bloom::default();
        // Past the first layer's capacity, so a second layer is used too.
        for n in 0..250_000 {
            bloom.insert(&key(n));
        }
        assert!((0..250_000).all(|n| bloom.may_contain(&key(n))));
        let false_positives = (1_000_000..1_100_000)
            .filter(|n| bloom.may_contain(&key(*n)))
            .count();
        // About 1 % per layer, two or three layers: well under 5 %.
        assert!(false_positives < 5_000, "{false_positives} of 100000");
    }

    #[test]
    fn lookups_ask_only_generations_the_window_reaches_newest_first() {
        let day = SPAN_MS;
        let window = 4 * day;
        let mut gens = Generations::default();
        let k = key(1);
        for at in [day, 5 * day, 9 * day] {
            gens.note(gens.generation(at), &k);
        }
        let now = 10 * day;
        // The window reaches back to day 6: only generation 9 is asked.
        assert_eq!(
            gens.candidates(&k, now, window).collect::<Vec<_>>(),
            vec![9]
        );
        assert_eq!(
            gens.candidates(&k, 9 * day, window).collect::<Vec<_>>(),
            vec![9, 5]
        );
        assert_eq!(gens.candidates(&key(2), now, window).count(), 0);
        assert_eq!(gens.expired(now, window), vec![1, 5]);
        gens.forget(1);
        assert_eq!(gens.expired(now, window), vec![5]);
        assert_eq!(gens.footprint().0, 2);
    }

    #[test]
    fn times_far_in_the_past_or_future_do_not_overflow() {
        let gens = Generations::default();
        assert_eq!(gens.generation(i64::MIN), 0);
        assert!(gens.generation(i64::MAX) > 0);
        assert_eq!(gens.candidates(&key(3), i64::MIN, i64::MAX).count(), 0);
        assert!(gens.expired(i64::MAX, 0).is_empty());
    }
}
