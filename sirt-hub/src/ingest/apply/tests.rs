//! The writer's rules through [`apply`] on a real store in a temporary directory, at chosen
//! times.

use super::{EscalationOutcome, Item, Offered, Outcome, apply};
use crate::store::HubStore;
use socfed_proto::pb;
use socfed_proto::vocab::{IncidentReport, ReportLimits, SiteId};
use ulid::Ulid;

pub(super) const WINDOW_MS: i64 = 86_400_000;

/// The store in `dir`, retried while a dropped one's threads still hold sled's lock.
pub(super) fn open_store(dir: &std::path::Path) -> HubStore {
    crate::store::query_states::tests::store(dir)
}

pub(super) fn escalation(site: &str, seq: u64, local: &str, revision: u32) -> Item {
    escalation_of(site, seq, local, revision, "c2.example")
}

/// A valid escalation of `site`'s local incident `local` (rule `r1`, one domain indicator),
/// in epoch `1:1`; shared with the store's tests.
pub(crate) fn escalation_of(
    site: &str,
    seq: u64,
    local: &str,
    revision: u32,
    domain: &str,
) -> Item {
    let wire = pb::IncidentReport {
        local_incident_id: local.into(),
        revision,
        title: format!("{local} r{revision}"),
        severity: pb::Severity::High as i32,
        indicators: vec![pb::Indicator {
            kind: pb::IndicatorKind::Domain as i32,
            value: domain.into(),
        }],
        rule_id: "r1".into(),
        ..Default::default()
    };
    Item::Escalation {
        site: SiteId::parse(site).expect("site"),
        epoch: Ulid::from_parts(1, 1),
        seq,
        dropped_before: 0,
        enqueued_at_ms: 1,
        offered: Offered::Valid(
            IncidentReport::from_wire(wire, &ReportLimits::default()).expect("valid"),
        ),
    }
}

/// The incident an escalation was stored into.
pub(super) fn stored_in(store: &HubStore, item: Item, at_ms: i64) -> Ulid {
    let applied = apply(store, &[item], at_ms, WINDOW_MS).expect("applied");
    match applied.outcomes.as_slice() {
        [
            Outcome::Escalation {
                outcome: EscalationOutcome::Applied { incident },
                ..
            },
        ] => *incident,
        other => panic!("not stored: {other:?}"),
    }
}

/// Revisions refresh a fingerprint only once it is a 64th of the window old
/// (`correlate::needs_refresh`), so an incident a site keeps revising stays matchable for as
/// long as it is revised, however many windows that lasts.
#[test]
fn a_steadily_revised_incident_keeps_its_fingerprints_live() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open_store(dir.path());
    let t0 = 1_700_000_000_000;
    let first = stored_in(&store, escalation("paris", 1, "P-1", 1), t0);
    let step = WINDOW_MS / 128;
    let mut at = t0;
    let mut seq = 1;
    while at < t0 + 3 * WINDOW_MS {
        at += step;
        seq += 1;
        let revision = u32::try_from(seq).expect("small");
        let id = stored_in(&store, escalation("paris", seq, "P-1", revision), at);
        assert_eq!(id, first);
    }
    let joined = stored_in(&store, escalation("lyon", 1, "L-1", 1), at + WINDOW_MS / 2);
    assert_eq!(
        joined, first,
        "the other site's report joins the live incident"
    );
}

/// The price of fewer writes: a revision inside the refresh interval leaves `last_seen` where
/// it was, so the window, counted from the last refresh, can end up to a 64th early.
#[test]
fn a_revision_inside_the_refresh_interval_does_not_move_the_window() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open_store(dir.path());
    let t0 = 1_700_000_000_000;
    let first = stored_in(&store, escalation("paris", 1, "P-1", 1), t0);
    let revised = stored_in(
        &store,
        escalation("paris", 2, "P-1", 2),
        t0 + WINDOW_MS / 128,
    );
    assert_eq!(revised, first);
    let inside = stored_in(&store, escalation("lyon", 1, "L-1", 1), t0 + WINDOW_MS);
    assert_eq!(inside, first, "within the window of the first sighting");
    let other_dir = tempfile::tempdir().expect("dir");
    let other = open_store(other_dir.path());
    let first = stored_in(&other, escalation("paris", 1, "P-1", 1), t0);
    stored_in(
        &other,
        escalation("paris", 2, "P-1", 2),
        t0 + WINDOW_MS / 128,
    );
    let late = stored_in(&other, escalation("lyon", 1, "L-1", 1), t0 + WINDOW_MS + 1);
    assert_ne!(
        late, first,
        "a window after the last refresh, not the last revision"
    );
}

/// An open incident whose fingerprint last matched more than a window ago no longer holds it:
/// the next incident with that fingerprint takes it, and later reports join that one instead
/// of each opening an incident of its own.
#[test]
fn a_fingerprint_outside_the_window_passes_to_the_newer_incident() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open_store(dir.path());
    let t0 = 1_700_000_000_000;
    let old = stored_in(&store, escalation("paris", 1, "P-1", 1), t0);
    let later = t0 + 2 * WINDOW_MS;
    let newer = stored_in(&store, escalation("lyon", 1, "L-1", 1), later);
    assert_ne!(newer, old, "the old incident is outside the window");
    let third = stored_in(&store, escalation("rome", 1, "R-1", 1), later + 3_600_000);
    assert_eq!(third, newer, "the newer incident holds the fingerprint now");
    // Within the window the older incident keeps its fingerprints: a split stays split.
    let other = stored_in(
        &store,
        escalation_of("paris", 2, "P-2", 1, "x.example"),
        later,
    );
    let again = stored_in(
        &store,
        escalation_of("oslo", 1, "O-1", 1, "x.example"),
        later + 1,
    );
    assert_eq!(again, other);
}

/// Store operations counted under a recorder of the test's own. A store's counter handles are
/// bound to the recorder in place at their first use, so every measure taken of one store must
/// come from the same recorder: a second recorder would read 0 whatever happened.
pub(super) struct Counted(pub(super) metrics_util::debugging::Snapshotter);

impl Counted {
    /// Operations `op` on `tree` while `work` runs.
    pub(super) fn during(&self, tree: &str, op: &str, work: impl FnOnce()) -> u64 {
        self.take(tree, op);
        work();
        self.take(tree, op)
    }

    /// Store reads of `tree` while `work` runs.
    pub(super) fn gets(&self, tree: &str, work: impl FnOnce()) -> u64 {
        self.during(tree, "get", work)
    }

    /// Operations `op` on `tree` since the last snapshot (which drains every counter).
    pub(super) fn take(&self, tree: &str, op: &str) -> u64 {
        use metrics_util::debugging::DebugValue;
        self.0
            .snapshot()
            .into_vec()
            .into_iter()
            .filter(|(key, ..)| {
                let key = key.key();
                key.name() == "socfed_hub_store_ops_total"
                    && key.labels().any(|l| l.key() == "tree" && l.value() == tree)
                    && key.labels().any(|l| l.key() == "op" && l.value() == op)
            })
            .map(|(.., value)| match value {
                DebugValue::Counter(n) => n,
                _ => 0,
            })
            .sum()
    }
}

/// Runs `test` with its own recorder installed, measuring through `Counted`.
pub(super) fn counted(test: impl FnOnce(&Counted)) {
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let counted = Counted(recorder.snapshotter());
    metrics::with_local_recorder(&recorder, || test(&counted));
}

/// A fingerprint never seen within the window is answered by its generation's filter with
/// no store read (most reports open an incident, so most lookups are such misses); one seen
/// is read once, from the newest generation that may hold it.
#[test]
fn a_new_fingerprint_costs_no_store_read_and_a_known_one_costs_one() {
    if crate::store::postgres::testing_on_postgres() {
        // What only a sled store has (its files, a legacy format, a raw tree).
        return;
    }
    counted(|c| {
        let dir = tempfile::tempdir().expect("dir");
        let store = open_store(dir.path());
        let t0 = 1_700_000_000_000;
        let (mut first, mut second) = (Ulid::nil(), Ulid::nil());
        let new = c.gets("fingerprints", || {
            first = stored_in(&store, escalation("paris", 1, "P-1", 1), t0);
        });
        let known = c.gets("fingerprints", || {
            second = stored_in(&store, escalation("lyon", 1, "L-1", 1), t0 + 1_000);
        });
        assert_eq!((new, known), (0, 1));
        assert_eq!(second, first, "the known fingerprint still correlates");
    });
}

/// Generations wholly past the window are pruned by later units, key by key, so the tree
/// holds only fingerprints that can still match.
#[test]
fn fingerprints_past_the_window_are_pruned_by_later_units() {
    counted(|c| {
        let dir = tempfile::tempdir().expect("dir");
        let store = open_store(dir.path());
        let t0 = 1_700_000_000_000;
        let old = stored_in(&store, escalation("paris", 1, "P-1", 1), t0);
        let later = t0 + 3 * WINDOW_MS;
        let removed = c.during("fingerprints", "remove", || {
            stored_in(
                &store,
                escalation_of("lyon", 1, "L-1", 1, "other.example"),
                later,
            );
        });
        assert_eq!(removed, 1, "the old generation's one key");
        let newer = stored_in(&store, escalation("rome", 1, "R-1", 1), later + 1);
        assert_ne!(newer, old);
        let none = c.during("fingerprints", "remove", || {
            stored_in(&store, escalation("oslo", 1, "O-1", 1), later + 2);
        });
        assert_eq!(none, 0, "nothing left to prune");
    });
}

/// A report that joins an incident by correlation reads that incident once: the read that
/// checked it is open serves the join.
#[test]
fn a_joining_report_reads_the_incident_it_joins_once() {
    counted(|c| {
        let dir = tempfile::tempdir().expect("dir");
        let store = open_store(dir.path());
        let t0 = 1_700_000_000_000;
        let first = stored_in(&store, escalation("paris", 1, "P-1", 1), t0);
        let mut joined = None;
        let reads = c.gets("incidents", || {
            joined = Some(stored_in(&store, escalation("lyon", 1, "L-1", 1), t0 + 1));
        });
        assert_eq!(joined, Some(first));
        assert_eq!(reads, 1);
    });
}

/// An incident whose every deadline is met leaves the deadline watch's scan; flagging another
/// regime puts it back.
#[test]
fn an_incident_with_every_deadline_met_leaves_the_deadline_scan() {
    use super::{RegulatoryChange, RegulatoryEdit};
    use crate::regulatory::{DeadlineKind, Regime};
    let dir = tempfile::tempdir().expect("dir");
    let store = open_store(dir.path());
    let t0 = 1_700_000_000_000;
    let id = stored_in(&store, escalation("paris", 1, "P-1", 1), t0);
    let change = |change, at_ms| {
        Item::Regulatory(Box::new(RegulatoryChange {
            incident: id,
            change,
            at_ms,
            actor: "ines".into(),
            actor_cert: String::new(),
        }))
    };
    let watched = |store: &HubStore| -> Vec<Ulid> {
        let list = store.regulated_incidents().expect("read");
        list.into_iter().map(|record| record.id).collect()
    };
    apply(
        &store,
        &[change(RegulatoryEdit::Flag(Regime::Gdpr), t0)],
        t0 + 1,
        WINDOW_MS,
    )
    .expect("flag");
    assert_eq!(watched(&store), vec![id]);
    let filed = RegulatoryEdit::Filed(DeadlineKind::GdprNotification);
    apply(&store, &[change(filed, t0 + 2)], t0 + 3, WINDOW_MS).expect("file");
    assert_eq!(watched(&store), Vec::<Ulid>::new(), "nothing left to watch");
    apply(
        &store,
        &[change(RegulatoryEdit::Flag(Regime::Nis2), t0 + 4)],
        t0 + 5,
        WINDOW_MS,
    )
    .expect("flag");
    assert_eq!(
        watched(&store),
        vec![id],
        "a new regime's deadlines are watched"
    );
}

/// The delivery state in memory (`store/marks.rs`) is rebuilt at open to what the trees hold:
/// sequences stored ahead of a hole before a restart are caught up over after it, an
/// in-order new sequence is stored, and a resend of a stored one is a duplicate.
#[test]
fn sequences_stored_ahead_of_a_hole_are_caught_up_over_after_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let epoch = Ulid::from_parts(1, 1);
    let paris = SiteId::parse("paris").expect("site");
    let acked = |outcomes: &[Outcome]| match outcomes {
        [Outcome::Escalation { acked_through, .. }] => *acked_through,
        other => panic!("{other:?}"),
    };
    {
        let store = open_store(dir.path());
        for seq in [1, 3, 4, 6] {
            let domain = format!("d{seq}.example");
            let item = escalation_of("paris", seq, &format!("P-{seq}"), 1, &domain);
            apply(&store, &[item], 10, WINDOW_MS).expect("applied");
        }
        assert_eq!(store.acked_through_for(&paris, epoch).expect("reads"), 1);
        store
            .commit(&store.sync_point().expect("point"))
            .expect("durable");
    }
    let store = open_store(dir.path());
    let resent = apply(&store, &[escalation("paris", 4, "P-4", 1)], 20, WINDOW_MS);
    let resent = resent.expect("applied");
    assert!(matches!(
        resent.outcomes.as_slice(),
        [Outcome::Escalation {
            outcome: EscalationOutcome::Conflict { .. },
            acked_through: 1,
            ..
        }]
    ));
    let two = escalation_of("paris", 2, "P-2", 1, "d2.example");
    let applied = apply(&store, &[two], 30, WINDOW_MS).expect("applied");
    assert_eq!(acked(&applied.outcomes), 4, "caught up over 3 and 4, not 6");
    let five = escalation_of("paris", 5, "P-5", 1, "d5.example");
    let applied = apply(&store, &[five], 40, WINDOW_MS).expect("applied");
    assert_eq!(acked(&applied.outcomes), 6);
    let seven = escalation_of("paris", 7, "P-7", 1, "d7.example");
    let applied = apply(&store, std::slice::from_ref(&seven), 50, WINDOW_MS).expect("applied");
    assert_eq!(acked(&applied.outcomes), 7);
    let again = apply(&store, &[seven], 60, WINDOW_MS).expect("applied");
    assert!(matches!(
        again.outcomes.as_slice(),
        [Outcome::Escalation {
            outcome: EscalationOutcome::Duplicate,
            acked_through: 7,
            ..
        }]
    ));
    assert_eq!(store.acked_through_for(&paris, epoch).expect("reads"), 7);
}

/// A new in-order escalation reads neither its idempotency key nor the acknowledgement mark
/// (the delivery state in memory answers both); a resend of a stored one reads its key once.
#[test]
fn a_new_in_order_escalation_reads_no_idempotency_key_or_mark() {
    counted(|c| {
        let dir = tempfile::tempdir().expect("dir");
        let store = open_store(dir.path());
        let t0 = 1_700_000_000_000;
        let items: Vec<Item> = (1..=3)
            .map(|seq| {
                escalation_of(
                    "paris",
                    seq,
                    &format!("P-{seq}"),
                    1,
                    &format!("d{seq}.example"),
                )
            })
            .collect();
        let reads = c.gets("escalations", || {
            for (i, item) in items.iter().enumerate() {
                stored_in(&store, item.clone(), t0 + i as i64);
            }
        });
        assert_eq!(reads, 0);
        let resend = c.gets("escalations", || {
            apply(&store, &items[1..2], t0 + 10, WINDOW_MS).expect("applied");
        });
        assert_eq!(resend, 1);
        let marks = c.gets("epochs", || {
            apply(
                &store,
                &[escalation_of("paris", 4, "P-4", 1, "d4.example")],
                t0 + 11,
                WINDOW_MS,
            )
            .expect("applied");
        });
        assert_eq!(marks, 0);
    });
}

/// The hunt library's schedule through the writer at chosen times, across a restart (the
/// store closed and opened again): a due run is made once, a repeated pass makes none, a run
/// due while the hub was down is made at the first pass after, and the one after it keeps to
/// the schedule.
#[test]
fn a_scheduled_library_run_is_made_once_across_restarts_and_never_skipped() {
    use super::{LibraryAction, LibraryChange, LibraryChanged, ResponseOutcome};
    use crate::hunt_library::LibrarySpec;
    use socfed_proto::vocab::{Indicator, Severity, Tlp};
    const MIN: i64 = 60_000;
    let dir = tempfile::tempdir().expect("temp dir");
    let sites = vec![
        SiteId::parse("paris").expect("valid"),
        SiteId::parse("lyon").expect("valid"),
    ];
    let change = |action| {
        Item::Library(Box::new(LibraryChange {
            action,
            actor: "ines".into(),
            actor_cert: String::new(),
        }))
    };
    let library = |store: &HubStore, item: Item, at: i64| -> LibraryChanged {
        let applied = apply(store, &[item], at, WINDOW_MS).expect("applied");
        let point = store.sync_point().expect("point");
        store.commit(&point).expect("committed");
        match applied.outcomes.into_iter().next() {
            Some(Outcome::Response(ResponseOutcome::Library(changed))) => *changed,
            other => panic!("not a library outcome: {other:?}"),
        }
    };
    let run = |id| {
        change(LibraryAction::Run {
            id,
            scheduled: true,
            enrolled: sites.clone(),
        })
    };
    let spec = LibrarySpec {
        name: "C2".into(),
        description: String::new(),
        indicators: vec![Indicator::parse_typed("domain:c2.example").expect("valid")],
        techniques: Vec::new(),
        severity: Severity::High,
        tlp: Tlp::Amber,
        interval_s: 3600,
        lookback_s: 86_400,
    };
    let id = {
        let store = open_store(dir.path());
        let added = library(
            &store,
            change(LibraryAction::Add {
                spec,
                enabled: true,
            }),
            10 * MIN,
        );
        let id = added.hunt.id;
        let first = library(&store, run(id), 10 * MIN + 1);
        assert!(first.run.is_some(), "due at once: run");
        assert_eq!(first.hunt.next_due_ms, 70 * MIN);
        assert!(
            library(&store, run(id), 10 * MIN + 2).run.is_none(),
            "a repeated pass runs nothing"
        );
        id
    };
    // Restarted before the next slot: nothing to run again.
    {
        let store = open_store(dir.path());
        assert!(
            library(&store, run(id), 20 * MIN).run.is_none(),
            "no double run after a restart"
        );
        assert_eq!(store.library_runs(id, 10).expect("read").len(), 1);
    }
    // Down across three slots: one run at the first pass, then the schedule's next slot.
    let store = open_store(dir.path());
    let late = library(&store, run(id), 200 * MIN);
    assert!(
        late.run.is_some(),
        "a run due while down is made, not skipped"
    );
    assert_eq!(late.hunt.next_due_ms, 250 * MIN);
    assert_eq!(late.hunt.runs, 2);
    assert!(library(&store, run(id), 249 * MIN).run.is_none());
    assert!(library(&store, run(id), 250 * MIN).run.is_some());
    let runs = store.library_runs(id, 10).expect("read");
    assert_eq!(runs.len(), 3);
    for (hunt, sweeps) in &runs {
        assert_eq!(sweeps.len(), 2, "hunt {} went to both sites", hunt.id);
    }
}

/// A library hunt keeps its latest `KEEP_RUNS` runs: the next run removes the oldest with its
/// hunt and sweeps, so a frequent schedule does not grow the store.
#[test]
fn a_library_hunt_keeps_its_latest_runs_and_removes_older_ones_with_their_sweeps() {
    use super::{LibraryAction, LibraryChange, ResponseOutcome};
    use crate::hunt_library::{KEEP_RUNS, LibrarySpec};
    use socfed_proto::vocab::{Indicator, Severity, Tlp};
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open_store(dir.path());
    let sites = vec![SiteId::parse("paris").expect("valid")];
    let change = |action| {
        Item::Library(Box::new(LibraryChange {
            action,
            actor: "ines".into(),
            actor_cert: String::new(),
        }))
    };
    let spec = LibrarySpec {
        name: "C2".into(),
        description: String::new(),
        indicators: vec![Indicator::parse_typed("domain:c2.example").expect("valid")],
        techniques: Vec::new(),
        severity: Severity::High,
        tlp: Tlp::Amber,
        interval_s: 3600,
        lookback_s: 86_400,
    };
    let added = apply(
        &store,
        &[change(LibraryAction::Add {
            spec,
            enabled: false,
        })],
        1,
        WINDOW_MS,
    )
    .expect("applied");
    let Some(Outcome::Response(ResponseOutcome::Library(added))) = added.outcomes.first() else {
        panic!("not added");
    };
    let id = added.hunt.id;
    // Runs are ordered by their hunt's ULID (the wall clock's millisecond, then random bits):
    // two runs made in the same millisecond may order either way, so the one that goes is the
    // lowest id, not necessarily the first made.
    let mut made = Vec::new();
    for at in 0..=KEEP_RUNS as i64 {
        let run = change(LibraryAction::Run {
            id,
            scheduled: false,
            enrolled: sites.clone(),
        });
        let applied = apply(&store, &[run], 10 + at, WINDOW_MS).expect("applied");
        if let Some(Outcome::Response(ResponseOutcome::Library(c))) = applied.outcomes.first()
            && let Some(run) = c.run.clone()
        {
            made.push(run);
        }
    }
    assert_eq!(made.len(), KEEP_RUNS + 1, "every run made");
    let first = made
        .into_iter()
        .min_by_key(|run| run.id)
        .expect("the oldest run");
    let runs = store.library_runs(id, KEEP_RUNS + 10).expect("read");
    assert_eq!(runs.len(), KEEP_RUNS, "the oldest run went");
    assert!(
        store.hunt(first.id).expect("read").is_none(),
        "its hunt went"
    );
    for sweep in &first.directives {
        assert!(
            store.directive(*sweep).expect("read").is_none(),
            "its sweeps went"
        );
    }
    assert_eq!(
        store.library_hunt(id).expect("read").map(|h| h.runs),
        Some(KEEP_RUNS as u64 + 1),
        "the run count counts every run"
    );
}
