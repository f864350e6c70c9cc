//! What alert intake keeps besides the groups: the span index that finds the group an
//! alert's time belongs to (`group_span`), and the source events already taken in
//! (`seen_events`, pruned by age through `seen_by_time`, one packed entry per commit and
//! [`schema::PACK_IDS`] events rather than one per event). Layouts in [`schema`].

use super::StoreError;
use super::schema::{self, TreeId, TreeSet};
use super::unit::Unit;
use crate::soc::aggregate::Span;
use crate::soc::group::AlertGroup;
use socfed_proto::UnixMillis;

/// Most groups of one fingerprint looked at for one alert: groups of a fingerprint rarely
/// overlap in time, so the first match comes within a few.
pub const MAX_SPANS: usize = 32;

fn u64_value(tree: TreeId, bytes: &[u8]) -> Result<u64, StoreError> {
    Ok(schema::u64_of(tree, bytes)?)
}

fn millis(v: u64) -> UnixMillis {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Unit<'_> {
    /// Groups of `fingerprint` last seen at or after `from_ms`, earliest last-seen first, at
    /// most `limit` ([`MAX_SPANS`] for one alert), `open` left false for the caller to decide.
    pub fn group_spans(
        &self,
        fingerprint: &[u8; 32],
        from_ms: UnixMillis,
        limit: usize,
    ) -> Result<Vec<Span>, StoreError> {
        let from = schema::span_key(fingerprint, from_ms, ulid::Ulid::nil());
        let mut spans = Vec::new();
        for (key, value) in self.entries_from(TreeId::GroupSpan, fingerprint, &from, limit)? {
            let tree = TreeId::GroupSpan;
            let last = key
                .get(32..40)
                .ok_or_else(|| schema::CodecError::Malformed {
                    tree: tree.name(),
                    detail: "key shorter than fingerprint and time".into(),
                })
                .and_then(|b| schema::u64_of(tree, b))?;
            let group = schema::trailing_ulid(tree, &key)?;
            spans.push(Span {
                group,
                first_seen_ms: millis(u64_value(tree, &value)?),
                last_seen_ms: millis(last),
                open: false,
            });
        }
        Ok(spans)
    }

    /// Records `group`'s span under its fingerprint, replacing the one it had when last
    /// seen at `old_last_seen_ms` (`None` for a new group).
    pub fn put_span(&mut self, old_last_seen_ms: Option<UnixMillis>, group: &AlertGroup) {
        if let Some(old) = old_last_seen_ms {
            self.remove(
                TreeId::GroupSpan,
                schema::span_key(&group.fingerprint, old, group.id),
            );
        }
        self.put_raw(
            TreeId::GroupSpan,
            schema::span_key(&group.fingerprint, group.last_seen_ms, group.id),
            (group.first_seen_ms.max(0) as u64).to_be_bytes().to_vec(),
        );
    }

    /// Whether the source event `id` was taken in before (and not yet pruned).
    pub fn seen_event(&self, id: &[u8; 32]) -> Result<bool, StoreError> {
        Ok(self.get_raw(TreeId::SeenEvents, id)?.is_some())
    }

    /// Remembers the source event `id`, first taken in at `now_ms`; its entry in the
    /// pruning order is written by [`Unit::remember_seen`] with the rest of the commit's.
    pub fn mark_seen_event(&mut self, id: &[u8; 32], now_ms: UnixMillis) {
        let at = (now_ms.max(0) as u64).to_be_bytes().to_vec();
        self.put_raw(TreeId::SeenEvents, id.to_vec(), at);
    }

    /// Puts the source events `ids`, all first taken in at `now_ms`, in the pruning order:
    /// one `seen_by_time` entry per [`schema::PACK_IDS`] of them.
    pub fn remember_seen(&mut self, now_ms: UnixMillis, ids: &[[u8; 32]]) {
        for pack in ids.chunks(schema::PACK_IDS) {
            let Some((first, rest)) = pack.split_first() else {
                continue;
            };
            self.put_raw(
                TreeId::SeenByTime,
                schema::seen_key(now_ms, first),
                rest.concat(),
            );
        }
    }

    /// Forgets source events first taken in before `cutoff_ms`, oldest first, whole
    /// `seen_by_time` entries at a time until about `max` are forgotten; returns how many.
    /// Called with every commit, so pruning keeps pace with intake.
    pub fn prune_seen(&mut self, cutoff_ms: UnixMillis, max: usize) -> Result<usize, StoreError> {
        let end = schema::seen_key(cutoff_ms, &[0; 32]);
        let tree = TreeId::SeenByTime;
        let mut forgotten = 0;
        for (key, value) in self.entries_from(tree, &[], &[], max.max(1))? {
            if key.as_slice() >= end.as_slice() || forgotten >= max {
                break;
            }
            let first = key.get(8..).ok_or_else(|| schema::CodecError::Malformed {
                tree: tree.name(),
                detail: "key shorter than a time".into(),
            })?;
            if !value.len().is_multiple_of(32) {
                return Err(schema::CodecError::Malformed {
                    tree: tree.name(),
                    detail: format!("{} bytes are not whole event ids", value.len()),
                }
                .into());
            }
            for id in std::iter::once(first).chain(value.chunks(32)) {
                self.remove(TreeId::SeenEvents, id.to_vec());
                forgotten += 1;
            }
            self.remove(tree, key);
        }
        Ok(forgotten)
    }
}
