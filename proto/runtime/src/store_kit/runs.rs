//! Runs of consecutive sequences stored as one value: an index whose entries one unit of work
//! writes together under sequences that follow each other (the hub's idempotency index, the
//! agent's outbox) costs one key per unit, not one per sequence. A run is keyed by its last
//! sequence, big-endian, so the run holding sequence `s` is the first key at or after `s`:
//! one seek. The store's `schema.rs` owns the key; this module owns only the run's shape and
//! its arithmetic, which never overflows, even on a damaged run that reaches past u64::MAX.

use serde::{Deserialize, Serialize};

/// `records[i]` is sequence `first + i`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run<T> {
    pub first: u64,
    pub records: Vec<T>,
}

impl<T> Run<T> {
    /// The last sequence of the run (`first` for an empty one, which is never stored).
    pub fn last(&self) -> u64 {
        let len = u64::try_from(self.records.len()).unwrap_or(u64::MAX);
        self.first.saturating_add(len.saturating_sub(1))
    }

    /// The record of sequence `seq`, if the run holds it.
    pub fn get(&self, seq: u64) -> Option<&T> {
        let index = usize::try_from(seq.checked_sub(self.first)?).ok()?;
        self.records.get(index)
    }

    /// Every (sequence, record), in order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        // Not `(first..).zip(..)`: a range steps past its item eagerly, which overflows (a
        // panic with overflow checks) on a damaged run that reaches u64::MAX.
        self.records
            .iter()
            .enumerate()
            .map(|(i, r)| (self.first.saturating_add(i as u64), r))
    }

    /// Whether the run's sequences fit in a u64 (a damaged store's run may not).
    pub fn fits(&self) -> bool {
        let len = u64::try_from(self.records.len()).unwrap_or(u64::MAX);
        self.first.checked_add(len.saturating_sub(1)).is_some()
    }

    /// Whether the run holds records and ends at `key_last`, the sequence its key names: what
    /// a stored run must satisfy before anything reads it.
    pub fn stored_under(&self, key_last: u64) -> bool {
        !self.records.is_empty() && self.fits() && self.last() == key_last
    }
}

/// Groups `items` (sequence, record), in ascending order, into runs of consecutive sequences;
/// a run also closes once `fits(run so far, next)` says the next record would make it too
/// large (a count or byte cap). Every run holds at least one record.
pub fn consecutive<T>(
    items: impl IntoIterator<Item = (u64, T)>,
    mut fits: impl FnMut(&Run<T>, &T) -> bool,
) -> Vec<Run<T>> {
    let mut runs: Vec<Run<T>> = Vec::new();
    for (seq, record) in items {
        match runs.last_mut() {
            Some(open) if open.last().checked_add(1) == Some(seq) && fits(open, &record) => {
                open.records.push(record);
            }
            _ => runs.push(Run {
                first: seq,
                records: vec![record],
            }),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_at_holes_and_caps_and_never_overflow() {
        let items = [1u64, 2, 3, 5, 6, 7, 8].map(|s| (s, s));
        let runs = consecutive(items, |run, _| run.records.len() < 3);
        let shape: Vec<(u64, u64)> = runs.iter().map(|r| (r.first, r.last())).collect();
        assert_eq!(shape, vec![(1, 3), (5, 7), (8, 8)]);
        assert_eq!(runs[1].get(6), Some(&6));
        assert_eq!(runs[1].get(4), None);
        assert!(runs[0].stored_under(3));
        assert!(!runs[0].stored_under(2));

        let top = consecutive([(u64::MAX - 1, 'a'), (u64::MAX, 'b')], |_, _| true);
        assert_eq!(top.len(), 1);
        assert_eq!(top[0].last(), u64::MAX);
        let seqs: Vec<u64> = top[0].iter().map(|(s, _)| s).collect();
        assert_eq!(seqs, vec![u64::MAX - 1, u64::MAX]);
        // A damaged run reaching past u64::MAX: refused, walked without a panic.
        let damaged = Run {
            first: u64::MAX,
            records: vec![1, 2, 3],
        };
        assert!(!damaged.fits());
        assert!(!damaged.stored_under(u64::MAX));
        assert_eq!(damaged.iter().count(), 3);
        assert_eq!(damaged.get(u64::MAX), Some(&1));
        let empty: Run<u8> = Run {
            first: 4,
            records: Vec::new(),
        };
        assert!(!empty.stored_under(4));
    }
}
