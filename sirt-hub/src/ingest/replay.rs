//! Start-up replay of the journal: escalations journaled but not yet in the trees (the hub
//! stopped between the journal append and the unit's commit) are applied now, through the same
//! rules as when they arrived (`apply::apply_journaled`) and with the time they were received.
//! None of them was acknowledged; the sites resend them and hear "duplicate". Entries at or
//! after the applied mark are exactly those, so nothing is applied twice.
//!
//! A run that fails for a reason other than storage (a stored record that does not decode)
//! would fail again at every start and keep the hub down: it is skipped as the live writer
//! skips such a batch (answered with the error; the next batch's mark covers it). It stays in
//! the journal, nothing of it was acknowledged, and its site resends it to the running hub.

use super::ITEMS_PER_TRANSACTION;
use super::apply::{self, Item};
use crate::store::{HubStore, StoreError};

/// Applies every journal entry the trees do not reflect yet, and makes the result durable.
/// Returns how many were applied. Runs before the writer starts.
pub fn replay(store: &HubStore, window_ms: i64) -> Result<usize, StoreError> {
    let pending = store.unapplied_journal()?;
    if pending.is_empty() {
        return Ok(0);
    }
    let (mut start, mut applied) = (0, 0);
    while start < pending.len() {
        let received = pending[start].1.received_at_ms;
        // One unit per run of entries received together (one writer batch), at most a
        // transaction's worth.
        let len = pending[start..]
            .iter()
            .take(ITEMS_PER_TRANSACTION)
            .take_while(|(_, e)| e.received_at_ms == received)
            .count();
        let run = &pending[start..start + len];
        let items: Vec<Item> = run.iter().map(|(_, e)| apply::item_of(e)).collect();
        let ids: Vec<u64> = run.iter().map(|(id, _)| *id).collect();
        match apply::apply_journaled(store, &items, &ids, received, window_ms) {
            Ok(_) => applied += len,
            Err(error) if error.stops_the_store() => return Err(error),
            Err(error) => {
                let (first, last) = (ids.first().copied(), ids.last().copied());
                tracing::error!(
                    %error,
                    first_id = first,
                    last_id = last,
                    escalations = len,
                    "journal: entries received before the last stop could not be applied; \
                     skipped (kept in the journal, never acknowledged: their sites resend them)"
                );
                metrics::counter!("socfed_hub_journal_skipped_total").increment(len as u64);
                if let Some(last) = last {
                    let mut unit = store.unit()?;
                    unit.set_journal_applied(last.saturating_add(1));
                    unit.commit()?;
                }
            }
        }
        start += len;
    }
    store.commit(&store.sync_point()?)?;
    metrics::counter!("socfed_hub_journal_replayed_total").increment(applied as u64);
    // The count is in the message (not only a field) so tests find it in a coloured log.
    tracing::info!(
        "journal: applied {applied} escalations received before the last stop but not yet indexed"
    );
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::apply::tests::escalation_of;
    use crate::ingest::apply::{EscalationOutcome, Outcome};
    use socfed_proto::vocab::SiteId;

    const WINDOW_MS: i64 = 86_400_000;

    /// The store in `dir`, retried while a dropped one's threads still hold sled's lock.
    fn open(dir: &std::path::Path) -> HubStore {
        crate::store::query_states::tests::store(dir)
    }

    /// What a crash between the journal append and the unit's commit leaves: the journal holds
    /// escalations the trees do not. The replay applies each once; a resend is a duplicate.
    #[test]
    fn journaled_but_unindexed_escalations_are_applied_once_at_start_up() {
        if crate::store::postgres::testing_on_postgres() {
            // What only a sled store has (its files, a legacy format, a raw tree).
            return;
        }
        let dir = tempfile::tempdir().expect("dir");
        let paris = SiteId::parse("paris").expect("site");
        let epoch = ulid::Ulid::from_parts(1, 1);
        {
            let store = open(dir.path());
            apply::apply(
                &store,
                &[escalation_of("paris", 1, "P-1", 1, "a.example")],
                10,
                WINDOW_MS,
            )
            .expect("applied");
            let crashed = [
                escalation_of("paris", 2, "P-2", 1, "b.example"),
                escalation_of("paris", 3, "P-3", 1, "c.example"),
            ];
            let ids = apply::journal(&store, &crashed, 20).expect("journaled");
            assert_eq!(ids.len(), 2);
            store
                .commit(&store.sync_point().expect("point"))
                .expect("durable");
        }
        let store = open(dir.path());
        assert_eq!(store.acked_through_for(&paris, epoch).expect("reads"), 1);
        assert_eq!(replay(&store, WINDOW_MS).expect("replays"), 2);
        assert_eq!(store.acked_through_for(&paris, epoch).expect("reads"), 3);
        let (_, site) = store
            .sites()
            .expect("sites")
            .into_iter()
            .find(|(id, _)| *id == paris)
            .expect("paris");
        assert_eq!((site.escalations_stored, site.duplicates), (3, 0));
        assert_eq!(replay(&store, WINDOW_MS).expect("replays"), 0);
        drop(store);

        let store = open(dir.path());
        assert_eq!(replay(&store, WINDOW_MS).expect("replays"), 0);
        let resent = apply::apply(
            &store,
            &[escalation_of("paris", 3, "P-3", 1, "c.example")],
            30,
            WINDOW_MS,
        )
        .expect("applied");
        assert!(matches!(
            resent.outcomes.as_slice(),
            [Outcome::Escalation {
                outcome: EscalationOutcome::Duplicate,
                acked_through: 3,
                ..
            }]
        ));
    }

    /// A power loss after the journal append can leave its segment extended with zeros: the
    /// store opens, the zeros are cut, the journaled escalations are replayed and the next
    /// append lands where the zeros began.
    #[test]
    fn zeros_after_the_journal_are_cut_and_the_replay_applies_what_is_before_them() {
        if crate::store::postgres::testing_on_postgres() {
            // What only a sled store has (its files, a legacy format, a raw tree).
            return;
        }
        let dir = tempfile::tempdir().expect("dir");
        let paris = SiteId::parse("paris").expect("site");
        let epoch = ulid::Ulid::from_parts(1, 1);
        {
            let store = open(dir.path());
            let crashed = [
                escalation_of("paris", 1, "P-1", 1, "a.example"),
                escalation_of("paris", 2, "P-2", 1, "b.example"),
            ];
            apply::journal(&store, &crashed, 20).expect("journaled");
            store
                .commit(&store.sync_point().expect("point"))
                .expect("durable");
        }
        let journal_dir = dir.path().join(crate::store::journal::DIR);
        let mut segments: Vec<_> = std::fs::read_dir(&journal_dir)
            .expect("journal dir")
            .map(|e| e.expect("entry").path())
            .collect();
        segments.sort();
        let newest = segments.pop().expect("a segment");
        // The only segment starts at id 0: its length is the next id.
        let end = std::fs::metadata(&newest).expect("stat").len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&newest)
            .and_then(|f| f.set_len(end + 8192))
            .expect("extends with zeros");

        let store = open(dir.path());
        assert_eq!(replay(&store, WINDOW_MS).expect("replays"), 2);
        assert_eq!(store.acked_through_for(&paris, epoch).expect("reads"), 2);
        let next = apply::journal(
            &store,
            &[escalation_of("paris", 3, "P-3", 1, "c.example")],
            30,
        )
        .expect("journaled");
        assert_eq!(next, vec![end]);
    }

    /// A journaled batch whose apply fails for a reason other than storage (here a stored
    /// site record that does not decode) fails the same way at every start: the replay skips
    /// it as the live writer does (none of it was acknowledged; the journal keeps it and the
    /// site resends it) and applies the others, so the hub starts.
    #[test]
    fn a_batch_that_cannot_be_applied_is_skipped_and_the_others_are_replayed() {
        if crate::store::postgres::testing_on_postgres() {
            // What only a sled store has (its files, a legacy format, a raw tree).
            return;
        }
        let dir = tempfile::tempdir().expect("dir");
        let berlin = SiteId::parse("berlin").expect("site");
        let epoch = ulid::Ulid::from_parts(1, 1);
        {
            let store = open(dir.path());
            let paris = [escalation_of("paris", 1, "P-1", 1, "a.example")];
            apply::journal(&store, &paris, 20).expect("journaled");
            let berlin = [escalation_of("berlin", 1, "B-1", 1, "b.example")];
            apply::journal(&store, &berlin, 30).expect("journaled");
            store
                .commit(&store.sync_point().expect("point"))
                .expect("durable");
        }
        {
            let db = socfed_runtime::store_files::open_when_released(
                dir.path(),
                std::time::Duration::from_secs(10),
            )
            .expect("sled");
            db.open_tree(crate::store::schema::SITES)
                .and_then(|sites| sites.insert("paris", &b"not a site record"[..]))
                .and_then(|_| db.flush())
                .expect("damages paris's record");
        }
        let store = open(dir.path());
        assert_eq!(replay(&store, WINDOW_MS).expect("the hub starts"), 1);
        assert_eq!(store.acked_through_for(&berlin, epoch).expect("reads"), 1);
        assert_eq!(replay(&store, WINDOW_MS).expect("replays"), 0);
        drop(store);
        let store = open(dir.path());
        assert_eq!(replay(&store, WINDOW_MS).expect("the hub starts again"), 0);
    }
}
