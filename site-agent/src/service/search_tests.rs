//! What the alert search index costs an intake commit, counted by the store's operation
//! counters: inserts per tree for a commit of new groups and for a commit of repeats.

use crate::service::intake::tests::{manager, open, service};
use crate::service::{ManualClock, SocService};
use crate::soc::alert::Format;
use std::collections::BTreeMap;
use std::sync::Arc;

const START_MS: i64 = 1_700_000_000_000;

/// Inserts per tree counted so far by `snapshotter`'s recorder (cumulative: the store's
/// counter handles stay bound to the recorder they first met, so one recorder serves a test).
fn inserts(snapshotter: &metrics_util::debugging::Snapshotter) -> BTreeMap<String, u64> {
    use metrics_util::debugging::DebugValue;
    let mut out = BTreeMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let label = |name: &str| {
            key.labels()
                .find(|l| l.key() == name)
                .map(|l| l.value().to_string())
        };
        if key.name() == "socfed_agent_store_ops_total"
            && label("op").as_deref() == Some("insert")
            && let (Some(tree), DebugValue::Counter(n)) = (label("tree"), value)
        {
            *out.entry(tree).or_default() += n;
        }
    }
    out
}

/// `after` less `before`, tree by tree, without the trees that did not change.
fn since(after: &BTreeMap<String, u64>, before: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(tree, n)| (tree.clone(), n - before.get(tree).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// One alert: its own host (so its own group), a user, a technique, an indicator and a
/// three-word title: 7 terms.
fn line(n: u32, id: u32) -> (u64, String) {
    (
        u64::from(id),
        format!(
            r#"{{"id":"evt-{id}","observed_at":{START_MS},"product":"edr","rule_id":"R-1","rule_name":"Encoded PowerShell download","severity":"medium","hosts":["ws-{n}"],"users":["user-{n}"],"techniques":["T1059.001"],"indicators":["domain:c2-{n}.bad.example"]}}"#
        ),
    )
}

#[test]
fn a_new_group_costs_one_key_per_term_and_a_repeat_costs_none() -> anyhow::Result<()> {
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || measure(&snapshotter))
}

fn measure(snapshotter: &metrics_util::debugging::Snapshotter) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = open(dir.path())?;
    let soc: SocService = service(store, Arc::new(ManualClock::new(START_MS)))?;
    let groups = 200u32;
    let batch: Vec<(u64, String)> = (0..groups).map(|n| line(n, n)).collect();
    let before = inserts(snapshotter);
    let result = soc.submit(&manager(), Format::Native, &batch)?;
    assert_eq!(result.accepted, 200);
    let fresh = since(&inserts(snapshotter), &before);
    let search = fresh.get("idx_search").copied().unwrap_or(0);
    let all: u64 = fresh.values().sum();
    // host, user, technique, indicator and three title words.
    assert_eq!(search, 7 * u64::from(groups), "{fresh:?}");
    eprintln!(
        "new groups: {:.2} keys per group in all, {:.2} of them idx_search ({fresh:?})",
        all as f64 / f64::from(groups),
        search as f64 / f64::from(groups)
    );
    // Repeats change no term: the index is not written.
    let repeats: Vec<(u64, String)> = (0..groups).map(|n| line(n, n + groups)).collect();
    let before = inserts(snapshotter);
    let result = soc.submit(&manager(), Format::Native, &repeats)?;
    assert_eq!(result.aggregated, 200);
    let again = since(&inserts(snapshotter), &before);
    assert_eq!(again.get("idx_search"), None, "{again:?}");
    assert!(
        again.get("groups").is_some_and(|n| *n == u64::from(groups)),
        "{again:?}"
    );
    eprintln!(
        "repeats: {:.2} keys per alert in all ({again:?})",
        again.values().sum::<u64>() as f64 / f64::from(groups)
    );
    Ok(())
}
