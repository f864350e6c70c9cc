//! Folding repeated audit records into counts, so that a client repeating a refused request
//! cannot grow a hash-chained audit log without bound. Within a window the first record of a
//! key is written at once (count 1) and identical ones after it only counted; when the window
//! ends, one record per key carries how many more there were. At most `max` records are
//! written per window; keys past that are summed into one count for a summary record. Plain
//! data, time passed in: the caller writes what it is handed.

use socfed_proto::UnixMillis;
use std::collections::HashMap;
use std::hash::Hash;

/// What to write now: `(key, count)` records, and how many occurrences the per-window bound
/// left out (written as one summary record when not zero).
#[derive(Debug, PartialEq, Eq)]
pub struct Due<K> {
    pub records: Vec<(K, u64)>,
    pub unrecorded: u64,
}

impl<K> Due<K> {
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.unrecorded == 0
    }
}

/// The coalescing state of the current window.
#[derive(Debug)]
pub struct Coalescer<K> {
    window_ms: i64,
    max: usize,
    started_ms: Option<UnixMillis>,
    /// Keys seen this window → occurrences after the first (not yet written).
    seen: HashMap<K, u64>,
    written: usize,
    unrecorded: u64,
}

impl<K: Eq + Hash + Ord + Clone> Coalescer<K> {
    /// Windows of `window_ms`, at most `max` records written in each.
    pub fn new(window_ms: i64, max: usize) -> Self {
        Self {
            window_ms,
            max,
            started_ms: None,
            seen: HashMap::new(),
            written: 0,
            unrecorded: 0,
        }
    }

    /// Notes one occurrence of `key` at `now`: the counts of a window that has ended, then
    /// this occurrence if it is the first of its key in the window (and under the bound).
    pub fn note(&mut self, key: K, now: UnixMillis) -> Due<K> {
        let mut due = self.roll(now);
        self.started_ms.get_or_insert(now);
        if let Some(more) = self.seen.get_mut(&key) {
            *more += 1;
        } else if self.written >= self.max {
            self.unrecorded += 1;
        } else {
            self.written += 1;
            self.seen.insert(key.clone(), 0);
            due.records.push((key, 1));
        }
        due
    }

    /// The counts of the current window if it has ended by `now` (nothing otherwise).
    pub fn roll(&mut self, now: UnixMillis) -> Due<K> {
        match self.started_ms {
            Some(started) if now.saturating_sub(started) >= self.window_ms => self.end_window(),
            _ => Due {
                records: Vec::new(),
                unrecorded: 0,
            },
        }
    }

    /// Ends the window now (at a stop): one record per key repeated since its first record,
    /// loudest first, within the bound, and the count of everything the bound left out.
    pub fn end_window(&mut self) -> Due<K> {
        let mut repeats: Vec<(K, u64)> = self.seen.drain().filter(|(_, more)| *more > 0).collect();
        repeats.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut unrecorded = self.unrecorded;
        let mut records = Vec::new();
        for (i, repeat) in repeats.into_iter().enumerate() {
            if i < self.max {
                records.push(repeat);
            } else {
                unrecorded += repeat.1;
            }
        }
        self.started_ms = None;
        self.written = 0;
        self.unrecorded = 0;
        Due {
            records,
            unrecorded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_counted_and_written_when_the_window_ends() {
        let mut c = Coalescer::new(10_000, 2);
        assert_eq!(c.note("a", 0).records, vec![("a", 1)]);
        for t in 1..200 {
            assert!(c.note("a", t).is_empty());
        }
        assert_eq!(c.note("b", 300).records, vec![("b", 1)]);
        // Over the bound: counted, not written.
        assert!(c.note("c", 400).is_empty());
        // The window ends at the next occurrence past it: its counts, then the new first.
        let due = c.note("a", 10_000);
        assert_eq!(due.records, vec![("a", 199), ("a", 1)]);
        assert_eq!(due.unrecorded, 1);
        assert!(c.roll(10_001).is_empty());
        assert!(c.note("a", 10_002).is_empty());
        assert_eq!(
            c.end_window(),
            Due {
                records: vec![("a", 1)],
                unrecorded: 0
            }
        );
    }
}
