//! Schema 6 → 7: the outbox packed in runs. Every version 1 `outbox` value (one escalation
//! under its own sequence) joins the run of consecutive sequences it belongs to, at most
//! `MAX_OUTBOX_RUN` escalations or `MAX_OUTBOX_RUN_BYTES` of reports; each run is written
//! under its last sequence and the other keys removed, in one atomic batch per group of runs.
//! Runs already written (version 2) are left as they are, so a crash part way repeats the
//! step for the escalations still unpacked, and no two runs overlap. The bytes of every report
//! are moved as they are: what the hub hashes does not change.

use super::StoreError;
use super::schema::{self, OutboxEntry, OutboxRun, TreeId};
use socfed_runtime::store_kit::{Codec, TreeSet};

/// Runs written per batch, at most.
const RUNS_PER_BATCH: usize = 256;

/// A run being gathered, and the keys it replaces.
struct Gathering {
    run: OutboxRun,
    bytes: usize,
    keys: Vec<sled::IVec>,
}

/// Adds the write of `done` and the removal of the keys it replaces to `batch`.
fn close(done: Gathering, batch: &mut sled::Batch) -> Result<(), StoreError> {
    let key = schema::outbox_key(done.run.last());
    for old in &done.keys {
        if old.as_ref() != key.as_slice() {
            batch.remove(old);
        }
    }
    batch.insert(&key, schema::encode(TreeId::Outbox, &done.run)?);
    Ok(())
}

/// Packs every version 1 value of `outbox` into runs (module docs); returns the runs written
/// and the escalations they hold.
pub(super) fn pack_outbox(outbox: &sled::Tree) -> Result<(u64, u64), StoreError> {
    let v1 = Codec::new(TreeId::Outbox.name(), 1);
    let mut batch = sled::Batch::default();
    let (mut in_batch, mut runs, mut escalations) = (0usize, 0u64, 0u64);
    let mut open: Option<Gathering> = None;
    for item in outbox.iter() {
        let (key, raw) = item?;
        let (version, body) = v1.split(&raw)?;
        let mut closed = None;
        if version != 1 {
            // A run already: never extended, so runs stay apart.
            closed = open.take();
        } else {
            let decoded = v1
                .body::<OutboxEntry>(body)
                .map_err(StoreError::from)
                .and_then(|entry| Ok((entry, schema::u64_of(TreeId::Outbox, &key)?)));
            let (entry, seq) = match decoded {
                Ok(found) => found,
                Err(e) => {
                    // One damaged escalation must not keep the agent from starting (local
                    // intake stops with it): it stays as it is, between runs, and delivery
                    // stops at it with this error as it did before the upgrade.
                    tracing::error!(
                        key = %socfed_proto::hex::encode(&key),
                        error = %e,
                        "outbox entry unreadable; left unpacked"
                    );
                    if let Some(done) = open.take() {
                        runs += 1;
                        escalations += done.run.records.len() as u64;
                        close(done, &mut batch)?;
                        in_batch += 1;
                    }
                    continue;
                }
            };
            let len = entry.report.len();
            match open.as_mut() {
                Some(g)
                    if g.run.last().checked_add(1) == Some(seq)
                        && g.run.records.len() < schema::MAX_OUTBOX_RUN
                        && g.bytes.saturating_add(len) <= schema::MAX_OUTBOX_RUN_BYTES =>
                {
                    g.run.records.push(entry);
                    g.bytes += len;
                    g.keys.push(key);
                }
                _ => {
                    closed = open.replace(Gathering {
                        run: OutboxRun {
                            first: seq,
                            records: vec![entry],
                        },
                        bytes: len,
                        keys: vec![key],
                    });
                }
            }
        }
        if let Some(done) = closed {
            runs += 1;
            escalations += done.run.records.len() as u64;
            close(done, &mut batch)?;
            in_batch += 1;
            // Only between runs: a run's write and its removals go in one batch.
            if in_batch >= RUNS_PER_BATCH {
                outbox.apply_batch(std::mem::take(&mut batch))?;
                in_batch = 0;
            }
        }
    }
    if let Some(done) = open.take() {
        runs += 1;
        escalations += done.run.records.len() as u64;
        close(done, &mut batch)?;
    }
    outbox.apply_batch(batch)?;
    Ok((runs, escalations))
}

#[cfg(test)]
mod tests {
    use super::super::outbox_tests::seqs_from;
    use super::super::upgrade::tests::{raw_db, reopen};
    use super::*;
    use crate::store::cap::OnFull;

    /// A schema 6 store held one escalation per key: at open they are packed in runs of
    /// consecutive sequences with every report's bytes unchanged, the counts stay right, and
    /// delivery and acknowledgement go on from where they were.
    #[test]
    fn a_schema_6_outbox_is_packed_in_runs() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        drop(reopen(dir.path())?);
        let v1 = Codec::new(TreeId::Outbox.name(), 1);
        /// `OutboxEntry` as schema 6 builds wrote it (the report a plain byte sequence).
        #[derive(serde::Serialize)]
        struct Schema6Entry {
            enqueued_at_ms: i64,
            report: Vec<u8>,
        }
        let entry = |seq: u64| OutboxEntry {
            enqueued_at_ms: 1_000 + seq as i64,
            report: vec![seq as u8; 10 + seq as usize],
        };
        // 4 was acknowledged-then-lost or set aside: a hole between two runs.
        let seqs = [1u64, 2, 3, 5, 6];
        {
            let db = raw_db(dir.path())?;
            let meta = db.open_tree(TreeId::Meta.name())?;
            meta.insert(schema::SCHEMA_VERSION_KEY, &6u32.to_be_bytes())?;
            meta.insert(schema::NEXT_SEQ, &7u64.to_be_bytes())?;
            meta.insert(schema::OUTBOX_LEN, &5u64.to_be_bytes())?;
            let outbox = db.open_tree(TreeId::Outbox.name())?;
            for seq in seqs {
                let OutboxEntry {
                    enqueued_at_ms,
                    report,
                } = entry(seq);
                let old = Schema6Entry {
                    enqueued_at_ms,
                    report,
                };
                let old = v1.encode(&old)?;
                // This build writes a report as one byte string: the same bytes.
                assert_eq!(v1.encode(&entry(seq))?, old);
                outbox.insert(seq.to_be_bytes(), old)?;
            }
            db.flush()?;
        }
        let store = reopen(dir.path())?;
        let outbox = store
            .raw_tree(TreeId::Outbox.name())
            .ok_or_else(|| anyhow::anyhow!("no outbox"))?;
        let shape: Vec<(u64, u64)> = outbox
            .iter()
            .map(|item| {
                let (key, value) = item?;
                let run = schema::outbox_run_owned(&key, &value)?;
                Ok((run.first, run.last()))
            })
            .collect::<anyhow::Result<_>>()?;
        assert_eq!(shape, vec![(1, 3), (5, 6)]);
        let pending = store.pending_from(1, 100)?;
        let read: Vec<(u64, i64, Vec<u8>)> = pending
            .iter()
            .map(|(seq, q)| (*seq, q.enqueued_at_ms, q.report.to_vec()))
            .collect();
        let expected: Vec<(u64, i64, Vec<u8>)> = seqs
            .iter()
            .map(|s| (*s, entry(*s).enqueued_at_ms, entry(*s).report))
            .collect();
        assert_eq!(read, expected);
        assert_eq!(store.outbox_len(), 5);
        assert_eq!(store.oldest_enqueued_at()?, Some(1_001));
        let (seq, _) = store.unit(|u| u.enqueue(vec![9; 4], 2_000, 100, OnFull::RefuseNew))?;
        assert_eq!(seq, 7);
        assert_eq!(store.acknowledge(5)?, 4);
        assert_eq!(store.outbox_len(), 2);
        assert_eq!(seqs_from(&store, 1)?, vec![6, 7]);
        drop(store);
        // Opened again, nothing is packed twice.
        let store = reopen(dir.path())?;
        assert_eq!(seqs_from(&store, 1)?, vec![6, 7]);
        Ok(())
    }

    /// One unreadable schema 6 entry: the agent still opens (its local intake goes on), the
    /// entries around it are packed, and the damaged one stays where it was.
    #[test]
    fn a_damaged_schema_6_entry_stays_and_the_rest_is_packed() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        drop(reopen(dir.path())?);
        let v1 = Codec::new(TreeId::Outbox.name(), 1);
        {
            let db = raw_db(dir.path())?;
            let meta = db.open_tree(TreeId::Meta.name())?;
            meta.insert(schema::SCHEMA_VERSION_KEY, &6u32.to_be_bytes())?;
            meta.insert(schema::NEXT_SEQ, &5u64.to_be_bytes())?;
            meta.insert(schema::OUTBOX_LEN, &4u64.to_be_bytes())?;
            let outbox = db.open_tree(TreeId::Outbox.name())?;
            for seq in [1u64, 2, 4] {
                let entry = OutboxEntry {
                    enqueued_at_ms: 1_000,
                    report: vec![seq as u8; 12],
                };
                outbox.insert(seq.to_be_bytes(), v1.encode(&entry)?)?;
            }
            outbox.insert(3u64.to_be_bytes(), &[1u8, 0xff, 0xff, 0xff][..])?;
            db.flush()?;
        }
        let store = reopen(dir.path())?;
        let outbox = store
            .raw_tree(TreeId::Outbox.name())
            .ok_or_else(|| anyhow::anyhow!("no outbox"))?;
        let keys: Vec<u64> = outbox
            .iter()
            .keys()
            .map(|k| Ok(schema::u64_of(TreeId::Outbox, &k?)?))
            .collect::<anyhow::Result<_>>()?;
        assert_eq!(
            keys,
            vec![2, 3, 4],
            "runs 1-2 and 4-4 around the damaged entry 3"
        );
        // Delivery stops at the damaged entry with an error naming the outbox, as before.
        let stalled = store.pending_from(1, 10).expect_err("the damaged entry");
        assert!(stalled.to_string().contains("outbox"), "{stalled}");
        assert_eq!(store.outbox_len(), 4);
        Ok(())
    }
}
