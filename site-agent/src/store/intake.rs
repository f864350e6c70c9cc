//! What alert intake keeps besides the groups: the span index that finds the group an
//! alert's time belongs to (`group_span`), and the source events already taken in
//! (`seen_events`, pruned by age through `seen_by_time`). Layouts in [`schema`].

use super::StoreError;
use super::schema::{self, TreeId, TreeSet};
use super::unit::Unit;
use crate::soc::aggregate::Span;
use crate::soc::group::AlertGroup;
use socfed_proto::UnixMillis;

/// Most groups of one fingerprint looked at for one alert: groups of a fingerprint rarely
/// overlap in time, so the first match comes within a few.
const MAX_SPANS: usize = 32;

fn u64_value(tree: TreeId, bytes: &[u8]) -> Result<u64, StoreError> {
    Ok(schema::u64_of(tree, bytes)?)
}

fn millis(v: u64) -> UnixMillis {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Unit<'_> {
    /// Groups of `fingerprint` last seen at or after `from_ms`, earliest last-seen first,
    /// with whether each is still open to repeats.
    pub fn group_spans(
        &self,
        fingerprint: &[u8; 32],
        from_ms: UnixMillis,
    ) -> Result<Vec<Span>, StoreError> {
        let from = schema::span_key(fingerprint, from_ms, ulid::Ulid::nil());
        let mut spans = Vec::new();
        for (key, value) in self.entries_from(TreeId::GroupSpan, fingerprint, &from, MAX_SPANS)? {
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

    /// Remembers the source event `id`, first taken in at `now_ms`.
    pub fn mark_seen(&mut self, id: &[u8; 32], now_ms: UnixMillis) {
        let at = (now_ms.max(0) as u64).to_be_bytes().to_vec();
        self.put_raw(TreeId::SeenEvents, id.to_vec(), at);
        self.put_raw(TreeId::SeenByTime, schema::seen_key(now_ms, id), Vec::new());
    }

    /// Forgets at most `max` source events first taken in before `cutoff_ms`, oldest first;
    /// returns how many. Called with every batch, so pruning keeps pace with intake.
    pub fn prune_seen(&mut self, cutoff_ms: UnixMillis, max: usize) -> Result<usize, StoreError> {
        let end = schema::seen_key(cutoff_ms, &[0; 32]);
        let old: Vec<Vec<u8>> = self
            .entries_from(TreeId::SeenByTime, &[], &[], max)?
            .into_iter()
            .map(|(key, _)| key)
            .take_while(|key| key.as_slice() < end.as_slice())
            .collect();
        for key in &old {
            if let Some(id) = key.get(8..) {
                self.remove(TreeId::SeenEvents, id.to_vec());
            }
            self.remove(TreeId::SeenByTime, key.clone());
        }
        Ok(old.len())
    }
}
