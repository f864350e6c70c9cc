//! The outbox's runs through the store's own API (`outbox.rs`, `outbox_runs.rs`): one key per
//! unit, found by one seek, trimmed by partial acknowledgements and by drop-oldest, split by a
//! set-aside, refused with a clear error when damaged, counted exactly throughout.

use super::cap::OnFull;
use super::schema::{self, OutboxEntry, OutboxRun, TreeId};
use super::{AgentStore, Durability, StoreError};
use socfed_runtime::store_kit::TreeSet;

fn open(dir: &std::path::Path) -> Result<AgentStore, StoreError> {
    AgentStore::open(
        dir,
        Durability::Flush,
        8 << 20,
        socfed_runtime::audit::ChainKey::from_bytes([3; 32]),
    )
}

/// The report of sequence-to-be `n`: distinct bytes per escalation.
fn report(n: u8) -> Vec<u8> {
    vec![n; 20 + usize::from(n)]
}

/// Queues `reports` in one unit (as one fold of the raise committer does), at `cap`.
fn queue(
    store: &AgentStore,
    reports: &[u8],
    cap: u64,
    on_full: OnFull,
) -> Result<Vec<(u64, Vec<u64>)>, StoreError> {
    store.unit(|u| {
        reports
            .iter()
            .map(|n| u.enqueue(report(*n), 1_000 + i64::from(*n), cap, on_full))
            .collect()
    })
}

/// Every run in the outbox: (first, last).
fn runs(store: &AgentStore) -> anyhow::Result<Vec<(u64, u64)>> {
    let tree = store
        .raw_tree(TreeId::Outbox.name())
        .ok_or_else(|| anyhow::anyhow!("no outbox"))?;
    tree.iter()
        .map(|item| {
            let (key, value) = item?;
            let run = schema::outbox_run_owned(&key, &value)?;
            Ok((run.first, run.last()))
        })
        .collect()
}

/// The sequences queued from `from` on, as the uplink reads them.
pub(super) fn seqs_from(store: &AgentStore, from: u64) -> anyhow::Result<Vec<u64>> {
    Ok(store
        .pending_from(from, 1_000)?
        .iter()
        .map(|(s, _)| *s)
        .collect())
}

#[test]
fn a_unit_queues_one_run_found_from_any_of_its_sequences() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    queue(&store, &[1, 2], 100, OnFull::RefuseNew)?;
    queue(&store, &[3, 4, 5, 6], 100, OnFull::RefuseNew)?;
    assert_eq!(runs(&store)?, vec![(1, 2), (3, 6)]);
    let from_4 = store.pending_from(4, 2)?;
    let read: Vec<(u64, i64, Vec<u8>)> = from_4
        .iter()
        .map(|(s, q)| (*s, q.enqueued_at_ms, q.report.to_vec()))
        .collect();
    assert_eq!(
        read,
        vec![(4, 1_004, report(4)), (5, 1_005, report(5))],
        "the stored bytes, from inside the run, at most the limit"
    );
    assert_eq!(seqs_from(&store, 2)?, vec![2, 3, 4, 5, 6]);
    assert!(seqs_from(&store, 7)?.is_empty());
    assert_eq!(store.outbox_len(), 6);
    assert_eq!(store.oldest_enqueued_at()?, Some(1_001));
    Ok(())
}

/// A fold of N raises writes one outbox key (and removes none); acknowledging it removes one.
#[test]
fn a_batch_of_raises_writes_one_outbox_key() -> anyhow::Result<()> {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let outbox_ops = || {
        let mut counts = [0u64; 2];
        for (key, _, _, value) in snapshotter.snapshot().into_vec() {
            let key = key.key();
            let label = |name: &str| {
                key.labels()
                    .find(|l| l.key() == name)
                    .map(|l| l.value().to_string())
            };
            if key.name() != "socfed_agent_store_ops_total"
                || label("tree").as_deref() != Some("outbox")
            {
                continue;
            }
            let slot = match label("op").as_deref() {
                Some("insert") => 0,
                Some("remove") => 1,
                _ => continue,
            };
            if let DebugValue::Counter(n) = value {
                counts[slot] += n;
            }
        }
        counts
    };
    metrics::with_local_recorder(&recorder, || -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = open(dir.path())?;
        outbox_ops();
        let batch: Vec<u8> = (1..=50).collect();
        queue(&store, &batch, 1_000, OnFull::RefuseNew)?;
        assert_eq!(outbox_ops(), [1, 0], "[inserts, removes] of one fold");
        assert_eq!(store.outbox_len(), 50);
        assert_eq!(store.acknowledge(50)?, 50);
        assert_eq!(
            outbox_ops(),
            [0, 1],
            "[inserts, removes] of its acknowledgement"
        );
        Ok(())
    })
}

#[test]
fn a_partial_acknowledgement_trims_the_run_and_counts_exactly() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    queue(&store, &[1, 2, 3], 100, OnFull::RefuseNew)?;
    queue(&store, &[4, 5, 6, 7], 100, OnFull::RefuseNew)?;
    let outbox = store
        .raw_tree(TreeId::Outbox.name())
        .ok_or_else(|| anyhow::anyhow!("no outbox"))?;
    let bytes = || {
        outbox
            .iter()
            .values()
            .map(|v| v.map(|v| v.len()))
            .sum::<Result<usize, _>>()
    };
    let before = bytes()?;
    assert_eq!(store.acknowledge(5)?, 5);
    assert_eq!(runs(&store)?, vec![(6, 7)]);
    assert!(bytes()? < before, "acknowledged bytes leave the disk");
    assert_eq!(store.outbox_len(), 2);
    assert_eq!(store.counters()?.acked_through, 5);
    assert_eq!(store.oldest_enqueued_at()?, Some(1_006));
    assert_eq!(seqs_from(&store, 1)?, vec![6, 7]);
    // Again, and lower: nothing more is removed.
    assert_eq!(store.acknowledge(5)?, 0);
    assert_eq!(store.acknowledge(2)?, 0);
    assert_eq!(store.counters()?.acked_through, 5);
    assert_eq!(store.acknowledge(7)?, 2);
    assert!(runs(&store)?.is_empty());
    assert_eq!((store.outbox_len(), store.oldest_enqueued_at()?), (0, None));
    // The counts hold across a reopen.
    queue(&store, &[8, 9], 100, OnFull::RefuseNew)?;
    store.acknowledge(8)?;
    drop(store);
    let store = open(dir.path())?;
    assert_eq!(store.outbox_len(), 1);
    assert_eq!(seqs_from(&store, 1)?, vec![9]);
    Ok(())
}

#[test]
fn drop_oldest_drops_inside_a_run_and_never_what_the_unit_queued() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    queue(&store, &[1, 2, 3, 4, 5], 5, OnFull::DropOldest)?;
    let dropped = queue(&store, &[6], 5, OnFull::DropOldest)?;
    assert_eq!(dropped, vec![(6, vec![1])]);
    assert_eq!(runs(&store)?, vec![(2, 5), (6, 6)]);
    // The cap lowered to 3: three oldest go for one more, across the runs.
    let dropped = queue(&store, &[7], 3, OnFull::DropOldest)?;
    assert_eq!(dropped, vec![(7, vec![2, 3, 4])]);
    assert_eq!(runs(&store)?, vec![(5, 5), (6, 6), (7, 7)]);
    // One unit of three at cap 2: the stored ones go, the unit's own stay.
    let dropped = queue(&store, &[8, 9, 10], 2, OnFull::DropOldest)?;
    assert_eq!(
        dropped,
        vec![(8, vec![5, 6]), (9, vec![7]), (10, Vec::new())]
    );
    assert_eq!(runs(&store)?, vec![(8, 10)]);
    assert_eq!(store.outbox_len(), 3);
    assert_eq!(store.counters()?.dropped_total, 7);
    assert_eq!(store.oldest_enqueued_at()?, Some(1_008));
    // Refused at the cap: the age comes from the oldest run's first escalation.
    let full = queue(&store, &[11], 3, OnFull::RefuseNew);
    assert!(matches!(full, Err(StoreError::OutboxFull { len: 3, .. })));
    Ok(())
}

/// A cap lowered far below the queue: drop-oldest walks many runs (more than it reads at a
/// time) and stops inside the right one.
#[test]
fn drop_oldest_past_many_runs_stops_inside_the_right_one() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    // 150 runs of two escalations each.
    for _ in 0..150 {
        queue(&store, &[1, 2], 1_000, OnFull::DropOldest)?;
    }
    // At cap 3 one more escalation drops all but two of the 300 stored.
    let dropped = queue(&store, &[3], 3, OnFull::DropOldest)?;
    assert_eq!(dropped, vec![(301, (1..=298).collect::<Vec<u64>>())]);
    assert_eq!(runs(&store)?, vec![(299, 300), (301, 301)]);
    assert_eq!(store.outbox_len(), 3);
    Ok(())
}

#[test]
fn set_aside_splits_the_run_around_the_escalation() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    queue(&store, &[1, 2, 3, 4, 5, 6], 100, OnFull::RefuseNew)?;
    store.set_aside(3)?;
    assert_eq!(runs(&store)?, vec![(1, 2), (4, 6)]);
    store.set_aside(6)?;
    store.set_aside(1)?;
    assert_eq!(runs(&store)?, vec![(2, 2), (4, 5)]);
    // Not queued (any more): nothing changes.
    store.set_aside(3)?;
    store.set_aside(99)?;
    assert_eq!(seqs_from(&store, 1)?, vec![2, 4, 5]);
    assert_eq!(store.outbox_len(), 3);
    assert_eq!(store.counters()?.dropped_total, 3);
    assert_eq!(
        store
            .pending_from(4, 1)?
            .first()
            .map(|(_, q)| q.report.to_vec()),
        Some(report(4))
    );
    Ok(())
}

#[test]
fn an_epoch_restart_renumbers_the_runs_in_order() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    queue(&store, &[1, 2, 3], 100, OnFull::RefuseNew)?;
    queue(&store, &[4, 5], 100, OnFull::RefuseNew)?;
    store.set_aside(2)?;
    store.restart_epoch()?;
    assert_eq!(runs(&store)?, vec![(1, 1), (2, 2), (3, 4)]);
    let reports: Vec<Vec<u8>> = store
        .pending_from(1, 10)?
        .iter()
        .map(|(_, q)| q.report.to_vec())
        .collect();
    assert_eq!(reports, vec![report(1), report(3), report(4), report(5)]);
    assert_eq!(store.counters()?.next_seq, 5);
    assert_eq!(store.outbox_len(), 4);
    Ok(())
}

/// A damaged run (cut short, under the wrong key, reaching past u64::MAX) is refused with an
/// error naming the outbox, by every reader and writer; a sound run ending at u64::MAX works.
#[test]
fn a_damaged_run_is_refused_and_sequences_near_the_top_do_not_overflow() -> anyhow::Result<()> {
    let entry = |n: u8| OutboxEntry {
        enqueued_at_ms: 5,
        report: report(n),
    };
    let two = |first: u64| OutboxRun {
        first,
        records: vec![entry(1), entry(2)],
    };
    let sound = schema::encode(TreeId::Outbox, &two(u64::MAX - 1))?;
    let damaged: [(u64, Vec<u8>); 3] = [
        (u64::MAX, sound[..sound.len() - 3].to_vec()),
        (u64::MAX - 1, sound.clone()),
        (u64::MAX, schema::encode(TreeId::Outbox, &two(u64::MAX))?),
    ];
    for (key, value) in damaged {
        let dir = tempfile::tempdir()?;
        let store = open(dir.path())?;
        store
            .raw_tree(TreeId::Outbox.name())
            .ok_or_else(|| anyhow::anyhow!("no outbox"))?
            .insert(key.to_be_bytes(), value.clone())?;
        store.unit(|u| {
            u.put_u64(TreeId::Meta, schema::NEXT_SEQ.as_bytes(), u64::MAX);
            Ok::<_, StoreError>(())
        })?;
        drop(store);
        let store = open(dir.path())?;
        let errors = [
            store.pending_from(u64::MAX - 1, 10).map(drop),
            store.oldest_enqueued_at().map(drop),
            store.acknowledge(u64::MAX - 1).map(drop),
            store.set_aside(u64::MAX - 1),
            store.restart_epoch().map(drop),
        ];
        for error in errors {
            let error = error.err().ok_or_else(|| anyhow::anyhow!("accepted"))?;
            assert!(error.to_string().contains("outbox"), "{error}");
        }
        assert!(super::check::record("outbox", &key.to_be_bytes(), &value).is_err());
    }
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    store
        .raw_tree(TreeId::Outbox.name())
        .ok_or_else(|| anyhow::anyhow!("no outbox"))?
        .insert(u64::MAX.to_be_bytes(), sound)?;
    store.unit(|u| {
        u.put_u64(TreeId::Meta, schema::NEXT_SEQ.as_bytes(), u64::MAX);
        u.put_u64(TreeId::Meta, schema::OUTBOX_LEN.as_bytes(), 2);
        Ok::<_, StoreError>(())
    })?;
    drop(store);
    let store = open(dir.path())?;
    // Durable through u64::MAX - 1 (the next sequence is u64::MAX).
    assert_eq!(seqs_from(&store, u64::MAX - 1)?, vec![u64::MAX - 1]);
    assert_eq!(store.acknowledge(u64::MAX - 1)?, 1);
    assert_eq!(runs(&store)?, vec![(u64::MAX, u64::MAX)]);
    assert_eq!(store.acknowledge(u64::MAX)?, 1);
    assert_eq!(store.outbox_len(), 0);
    // No sequence is left to assign (the next one would not fit `next_seq`): the store
    // refuses, it does not wrap.
    let refused = store.unit(|u| u.enqueue(report(1), 1, 10, OnFull::RefuseNew));
    let error = refused.err().ok_or_else(|| anyhow::anyhow!("wrapped"))?;
    assert!(
        error.to_string().contains("no sequence to assign"),
        "{error}"
    );
    assert_eq!(store.outbox_len(), 0);
    Ok(())
}
