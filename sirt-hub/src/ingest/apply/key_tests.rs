//! What a unit of work writes per escalation, counted (`socfed_hub_store_ops_total`): the
//! idempotency index packed in runs, per-site records once per unit, fingerprints rewritten
//! only when stale.

use super::tests::{WINDOW_MS, counted, escalation, escalation_of, open_store, stored_in};
use super::{EscalationOutcome, Item, Outcome, apply};

/// `count` valid escalations of `site`, sequences `from..from + count`, each a local incident
/// of its own with a fingerprint of its own (every one opens an incident).
fn new_incidents(site: &str, from: u64, count: u64) -> Vec<Item> {
    (from..from + count)
        .map(|seq| {
            let domain = format!("{site}-{seq}.example");
            escalation_of(site, seq, &format!("{site}-L{seq}"), 1, &domain)
        })
        .collect()
}

/// The idempotency index is packed: a unit writes one `escalations` entry per run of
/// consecutive sequences of a (site, epoch), not one per escalation; a resend of any of them,
/// in a later unit or after a restart, is still a duplicate, and a changed resend a conflict.
#[test]
fn a_unit_writes_one_idempotency_entry_per_run_of_a_site() {
    let dir = tempfile::tempdir().expect("dir");
    let t0 = 1_700_000_000_000;
    let mut items = new_incidents("paris", 1, 8);
    items.extend(new_incidents("lyon", 1, 8));
    counted(|ops| {
        let store = open_store(dir.path());
        let written = ops.during("escalations", "insert", || {
            apply(&store, &items, t0, WINDOW_MS).expect("applied");
        });
        assert_eq!(written, 2, "one run per site");
        // A run out of order, ahead of a hole: stored, in a run of its own.
        let ahead = ops.during("escalations", "insert", || {
            apply(&store, &new_incidents("paris", 11, 2), t0 + 1, WINDOW_MS).expect("applied");
        });
        assert_eq!(ahead, 1);
        store
            .commit(&store.sync_point().expect("point"))
            .expect("durable");
    });
    let store = open_store(dir.path());
    let outcomes = |applied: super::Applied| -> Vec<EscalationOutcome> {
        applied
            .outcomes
            .into_iter()
            .map(|o| match o {
                Outcome::Escalation { outcome, .. } => outcome,
                other => panic!("{other:?}"),
            })
            .collect()
    };
    let mut resent = new_incidents("paris", 1, 8);
    resent.extend(new_incidents("paris", 11, 2));
    let again = apply(&store, &resent, t0 + 2, WINDOW_MS).expect("applied");
    assert_eq!(outcomes(again), vec![EscalationOutcome::Duplicate; 10]);
    let changed = escalation_of("lyon", 5, "other", 1, "other.example");
    let conflict = apply(&store, &[changed], t0 + 3, WINDOW_MS).expect("applied");
    assert!(matches!(
        outcomes(conflict).as_slice(),
        [EscalationOutcome::Conflict { .. }]
    ));
    // The hole filled: the mark catches up over the run stored ahead of it.
    let filled = apply(&store, &new_incidents("paris", 9, 2), t0 + 4, WINDOW_MS).expect("applied");
    assert!(matches!(
        filled.outcomes.last(),
        Some(Outcome::Escalation {
            acked_through: 12,
            ..
        })
    ));
}

/// A duplicate inside the unit that stored the original (a site resending before its
/// acknowledgement) is recognised from the unit's pending run.
#[test]
fn a_resend_within_the_same_unit_is_a_duplicate() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open_store(dir.path());
    let mut items = new_incidents("paris", 1, 3);
    items.push(items[1].clone());
    let applied = apply(&store, &items, 1_700_000_000_000, WINDOW_MS).expect("applied");
    assert!(matches!(
        applied.outcomes.last(),
        Some(Outcome::Escalation {
            outcome: EscalationOutcome::Duplicate,
            ..
        })
    ));
}

/// Per-site records a new escalation changes (the site's counters, its acknowledgement
/// mark, its state sequence) are written once per unit and site, not once per escalation.
#[test]
fn per_site_records_are_written_once_per_unit() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open_store(dir.path());
    let mut items = new_incidents("paris", 1, 8);
    items.extend(new_incidents("lyon", 1, 8));
    counted(|ops| {
        ops.take("", "");
        apply(&store, &items, 1_700_000_000_000, WINDOW_MS).expect("applied");
        let snapshot = ops.0.snapshot().into_vec();
        let inserts = |tree: &str| -> u64 {
            snapshot
                .iter()
                .filter(|(key, ..)| {
                    let key = key.key();
                    key.labels().any(|l| l.key() == "tree" && l.value() == tree)
                        && key
                            .labels()
                            .any(|l| l.key() == "op" && l.value() == "insert")
                })
                .map(|(.., value)| match value {
                    metrics_util::debugging::DebugValue::Counter(n) => *n,
                    _ => 0,
                })
                .sum()
        };
        // Meta: each site's state sequence, the commit counter, the journal mark and the
        // event log's last sequence; and each new incident's count of observables (16).
        assert_eq!(
            (inserts("sites"), inserts("epochs"), inserts("meta")),
            (2, 2, 5 + 16)
        );
    });
}

/// A revision inside the refresh interval rewrites no fingerprint (`correlate::needs_refresh`).
#[test]
fn a_revision_rewrites_only_stale_fingerprints() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open_store(dir.path());
    let t0 = 1_700_000_000_000;
    counted(|ops| {
        stored_in(&store, escalation("paris", 1, "P-1", 1), t0);
        let fresh = ops.during("fingerprints", "insert", || {
            stored_in(&store, escalation("paris", 2, "P-1", 2), t0 + 1_000);
        });
        let stale = ops.during("fingerprints", "insert", || {
            stored_in(
                &store,
                escalation("paris", 3, "P-1", 3),
                t0 + WINDOW_MS / 32,
            );
        });
        assert_eq!((fresh, stale), (0, 1));
    });
}

/// Inserts per tree while `work` runs (every counter drained first).
fn inserts_by_tree(
    ops: &super::tests::Counted,
    work: impl FnOnce(),
) -> std::collections::BTreeMap<String, u64> {
    ops.0.snapshot();
    work();
    let mut out = std::collections::BTreeMap::new();
    for (key, .., value) in ops.0.snapshot().into_vec() {
        let key = key.key();
        let label = |name: &str| {
            key.labels()
                .find(|l| l.key() == name)
                .map(|l| l.value().to_string())
        };
        if label("op").as_deref() != Some("insert") {
            continue;
        }
        if let (Some(tree), metrics_util::debugging::DebugValue::Counter(n)) =
            (label("tree"), value)
        {
            *out.entry(tree).or_default() += n;
        }
    }
    out
}

/// What observables cost per escalation: a report opening an incident writes one record per
/// indicator, its index entry and the incident's count (in `meta`); a revision carrying the
/// same indicators rewrites only the records (first/last seen, count). Nothing else changes.
#[test]
fn observables_cost_a_record_per_indicator_and_an_index_entry_when_new() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open_store(dir.path());
    let t0 = 1_700_000_000_000;
    counted(|ops| {
        let opened = inserts_by_tree(ops, || {
            stored_in(&store, escalation("paris", 1, "P-1", 1), t0);
        });
        let revised = inserts_by_tree(ops, || {
            stored_in(&store, escalation("paris", 2, "P-1", 2), t0 + 1_000);
        });
        let of =
            |m: &std::collections::BTreeMap<String, u64>, t: &str| m.get(t).copied().unwrap_or(0);
        let total = |m: &std::collections::BTreeMap<String, u64>| m.values().sum::<u64>();
        eprintln!(
            "opened: {opened:?} ({} keys)\nrevised: {revised:?} ({} keys)",
            total(&opened),
            total(&revised)
        );
        assert_eq!(
            (of(&opened, "observables"), of(&opened, "observable_index")),
            (1, 1)
        );
        assert_eq!(
            (
                of(&revised, "observables"),
                of(&revised, "observable_index")
            ),
            (1, 0)
        );
    });
    let incident = store
        .list_incidents(&Default::default(), None, 10, |_| true)
        .expect("list")
        .incidents[0]
        .id;
    let observables = store.observables(incident).expect("read");
    assert_eq!(observables.len(), 1);
    let paris = &observables[0].sites[0];
    assert_eq!(
        (paris.count, paris.first_seen_ms, paris.last_seen_ms),
        (2, t0, t0 + 1_000)
    );
}
