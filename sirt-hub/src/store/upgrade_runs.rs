//! Schema 7 → 8: the idempotency index packed. Every version 3 `escalations` value (one record
//! under its own `(site, epoch, seq)` key) joins the run of consecutive sequences it belongs to;
//! each run is written under the key of its last sequence and the other keys removed, in one
//! atomic batch per group of runs. Runs already written (version 4) are left as they are, so a
//! crash part-way repeats the step for the records still unpacked, and no two runs overlap.

use super::super::records::EscalationRun;
use super::super::{StoreError, schema};
use socfed_runtime::store_kit::kv;

/// Runs written per batch, at most.
const RUNS_PER_BATCH: usize = 1024;

/// A run being gathered: its (site, epoch) prefix, the run, and the keys it replaces.
struct Gathering {
    prefix: Vec<u8>,
    run: EscalationRun,
    keys: Vec<kv::IVec>,
}

/// Packs every version 3 record of `tree` into runs (module docs).
pub(super) fn pack_escalation_runs(tree: &kv::Tree) -> Result<(), StoreError> {
    let mut batch = kv::Batch::default();
    let (mut in_batch, mut runs, mut records) = (0usize, 0u64, 0u64);
    let mut open: Option<Gathering> = None;
    let mut close = |open: &mut Option<Gathering>, batch: &mut kv::Batch| {
        let Some(done) = open.take() else {
            return Ok::<bool, StoreError>(false);
        };
        let mut key = done.prefix;
        key.extend_from_slice(&done.run.last().to_be_bytes());
        for old in &done.keys {
            if old.as_ref() != key.as_slice() {
                batch.remove(old);
            }
        }
        batch.insert(key, schema::encode_escalation_run(&done.run)?);
        runs += 1;
        records += done.run.records.len() as u64;
        Ok(true)
    };
    for item in tree.iter() {
        let (key, raw) = item?;
        let closed = if raw.first() != Some(&3) {
            // A run already: never extended, so runs stay apart.
            close(&mut open, &mut batch)?
        } else {
            let record = schema::decode_escalation_v3(&raw)?;
            let Some((site, epoch, seq)) = schema::escalation_key_parts(&key) else {
                return Err(StoreError::Codec(schema::key_length(
                    schema::ESCALATIONS,
                    key.len(),
                )));
            };
            let prefix = schema::epoch_key(&site, epoch);
            match open.as_mut() {
                Some(g)
                    if g.prefix == prefix
                        && g.run.last().checked_add(1) == Some(seq)
                        && g.run.records.len() < schema::MAX_ESCALATION_RUN =>
                {
                    g.run.records.push(record);
                    g.keys.push(key);
                    false
                }
                _ => {
                    let closed = close(&mut open, &mut batch)?;
                    open = Some(Gathering {
                        prefix,
                        run: EscalationRun {
                            first: seq,
                            records: vec![record],
                        },
                        keys: vec![key],
                    });
                    closed
                }
            }
        };
        if closed {
            in_batch += 1;
            // Only between runs: a run's write and its removals go in one batch.
            if in_batch >= RUNS_PER_BATCH {
                tree.apply_batch(std::mem::take(&mut batch))?;
                in_batch = 0;
            }
        }
    }
    close(&mut open, &mut batch)?;
    tree.apply_batch(batch)?;
    tracing::info!(
        runs,
        records,
        "escalation records packed in runs (store schema 7 to 8)"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::super::HubStore;
    use super::super::super::records::EscalationRecord;
    use super::*;
    use crate::ingest::apply::tests::escalation_of;
    use crate::ingest::apply::{EscalationOutcome, Outcome};

    fn open(dir: &std::path::Path) -> HubStore {
        super::super::super::query_states::tests::store(dir)
    }

    fn outcomes(applied: crate::ingest::apply::Applied) -> Vec<(EscalationOutcome, u64)> {
        applied
            .outcomes
            .into_iter()
            .map(|o| match o {
                Outcome::Escalation {
                    outcome,
                    acked_through,
                    ..
                } => (outcome, acked_through),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    /// A schema 7 store held one record per key: at open they are packed in runs of
    /// consecutive sequences, every one still answers its resend as a duplicate, and a
    /// sequence stored ahead of a hole is still caught up over.
    #[test]
    fn a_schema_7_store_packs_its_escalations_in_runs() {
        if crate::store::postgres::testing_on_postgres() {
            // What only a sled store has (its files, a legacy format, a raw tree).
            return;
        }
        let dir = tempfile::tempdir().expect("dir");
        let seqs = [1u64, 2, 3, 5];
        let item = |seq: u64| {
            escalation_of(
                "paris",
                seq,
                &format!("P-{seq}"),
                1,
                &format!("d{seq}.example"),
            )
        };
        let mut before: Vec<(u64, EscalationRecord)> = Vec::new();
        {
            let store = open(dir.path());
            let items: Vec<_> = seqs.iter().map(|s| item(*s)).collect();
            crate::ingest::apply::apply(&store, &items, 10, 1000).expect("applied");
            // As a schema 7 build left it: one version 3 record per key.
            let tree = store.registry.tree(schema::TreeId::Escalations).clone();
            let stored: Vec<_> = tree.iter().map(|i| i.expect("reads")).collect();
            for (key, raw) in stored {
                let run = schema::decode_escalation_run_at(&key, &raw).expect("run");
                tree.remove(&key).expect("rm");
                for (seq, record) in run.iter() {
                    let mut bytes = vec![3u8];
                    bytes.extend(postcard::to_allocvec(record).expect("encodes"));
                    let site = socfed_proto::vocab::SiteId::parse("paris").expect("site");
                    let key = schema::escalation_key(&site, ulid::Ulid::from_parts(1, 1), seq);
                    tree.insert(key, bytes).expect("writes");
                    before.push((seq, record.clone()));
                }
            }
            assert_eq!(tree.len().expect("len"), 4);
            store
                .trees
                .meta
                .insert(schema::SCHEMA_VERSION_KEY, 7u32.to_be_bytes())
                .expect("version");
            store.sled_db().flush().expect("flush");
        }
        let store = open(dir.path());
        let tree = store.registry.tree(schema::TreeId::Escalations).clone();
        let runs: Vec<EscalationRun> = tree
            .iter()
            .map(|i| {
                let (key, raw) = i.expect("reads");
                schema::decode_escalation_run_at(&key, &raw).expect("a run")
            })
            .collect();
        let shape: Vec<(u64, u64)> = runs.iter().map(|r| (r.first, r.last())).collect();
        assert_eq!(shape, vec![(1, 3), (5, 5)]);
        let packed: Vec<(u64, EscalationRecord)> = runs
            .iter()
            .flat_map(|r| r.iter().map(|(s, rec)| (s, rec.clone())))
            .collect();
        assert_eq!(packed, before);
        let resent: Vec<_> = seqs.iter().map(|s| item(*s)).collect();
        let again = crate::ingest::apply::apply(&store, &resent, 20, 1000).expect("applied");
        assert!(
            outcomes(again)
                .iter()
                .all(|(o, _)| *o == EscalationOutcome::Duplicate)
        );
        let four = crate::ingest::apply::apply(&store, &[item(4)], 30, 1000).expect("applied");
        assert!(matches!(
            outcomes(four).as_slice(),
            [(EscalationOutcome::Applied { .. }, 5)]
        ));
    }
}
