//! The raise committer's byte budget, and what one fold writes to the outbox.

use super::*;
use crate::service::intake::tests::{manager, open, service};
use crate::service::{ManualClock, link::RaiseLimits};
use crate::uplink::UplinkState;
use socfed_proto::pb;

/// Far more bytes than the budget, raised one call after another: each call gives its
/// share back once answered, so none waits for bytes that are never returned.
#[test]
fn the_byte_budget_is_given_back_once_each_call_is_answered() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let soc = Arc::new(service(store, clock)?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let limits = RaiseLimits {
            uplink: Arc::new(UplinkState::default()),
            max_report_bytes: 1 << 20,
        };
        let (committer, task) = RaiseCommitter::start(soc, limits);
        let raise = |title: &str, description: String| RaiseIncident {
            title: title.into(),
            description,
            severity: pb::Severity::High as i32,
            rule_id: "manual".into(),
            ..RaiseIncident::default()
        };
        // 24 calls of 4 MiB (over the report limits, so refused): 96 MiB in all.
        for i in 0..24 {
            let big = vec![raise(&format!("big {i}"), "x".repeat(4 << 20))];
            let answers = committer.raise(manager(), Origin::Single, big).await?;
            assert!(matches!(answers.as_slice(), [Err(_)]), "{answers:?}");
            assert_eq!(committer.budget.available_permits(), QUEUE_BYTES as usize);
        }
        let small = vec![raise("after", String::new())];
        let answers = committer.raise(manager(), Origin::Single, small).await?;
        assert!(matches!(answers.as_slice(), [Ok(_)]), "{answers:?}");
        assert_eq!(committer.budget.available_permits(), QUEUE_BYTES as usize);
        drop(committer);
        task.await?;
        anyhow::Ok(())
    })
}

/// A `RaiseIncidents` batch is one store unit: its escalations are one outbox run (one key),
/// every one of them counted and readable from any of its sequences.
#[test]
fn a_batch_of_raises_is_one_outbox_key() -> anyhow::Result<()> {
    use crate::store::schema::TreeId;
    use socfed_runtime::store_kit::TreeSet;
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let clock = Arc::new(ManualClock::new(1_700_000_000_000));
    let soc = Arc::new(service(store.clone(), clock)?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let answers = runtime.block_on(async {
        let limits = RaiseLimits {
            uplink: Arc::new(UplinkState::default()),
            max_report_bytes: 1 << 20,
        };
        let (committer, task) = RaiseCommitter::start(soc, limits);
        let raises: Vec<RaiseIncident> = (0..20)
            .map(|i| RaiseIncident {
                title: format!("raise {i}"),
                severity: pb::Severity::High as i32,
                rule_id: "manual".into(),
                ..RaiseIncident::default()
            })
            .collect();
        let answers = committer
            .raise(manager(), Origin::Batch("b-1".into()), raises)
            .await?;
        drop(committer);
        task.await?;
        anyhow::Ok(answers)
    })?;
    let seqs: Vec<u64> = answers
        .into_iter()
        .map(|a| a.map(|e| e.seq))
        .collect::<Result<_, _>>()?;
    assert_eq!(seqs, (1..=20).collect::<Vec<u64>>());
    let outbox = store
        .raw_tree(TreeId::Outbox.name())
        .ok_or_else(|| anyhow::anyhow!("no outbox"))?;
    assert_eq!(outbox.len(), 1, "one key for the batch");
    assert_eq!(store.outbox_len(), 20);
    let from_7: Vec<u64> = store.pending_from(7, 3)?.iter().map(|(s, _)| *s).collect();
    assert_eq!(from_7, vec![7, 8, 9]);
    Ok(())
}
