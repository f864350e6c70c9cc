//! The deadline watch's scan set (`meta/regulated/`) through [`apply`]: it holds the incidents
//! with a deadline still to watch, and shrinks as they stop having one.

use super::tests::{escalation_of, open_store, stored_in};
use super::{Item, Merge, RegulatoryChange, RegulatoryEdit, apply};
use crate::regulatory::{DeadlineKind, Regime};
use crate::store::HubStore;
use ulid::Ulid;

const WINDOW_MS: i64 = 86_400_000;
const T0: i64 = 1_700_000_000_000;

fn watched(store: &HubStore) -> Vec<Ulid> {
    let list = store.regulated_incidents().expect("read");
    let mut ids: Vec<Ulid> = list.into_iter().map(|record| record.id).collect();
    ids.sort();
    ids
}

fn regulatory(incident: Ulid, change: RegulatoryEdit, at_ms: i64) -> Item {
    Item::Regulatory(Box::new(RegulatoryChange {
        incident,
        change,
        at_ms,
        actor: "ines".into(),
        actor_cert: String::new(),
    }))
}

/// Two unrelated incidents (different domains, so they do not correlate), both GDPR-flagged.
fn two_flagged(store: &HubStore) -> (Ulid, Ulid) {
    let a = stored_in(store, escalation_of("paris", 1, "P-1", 1, "a.example"), T0);
    let b = stored_in(
        store,
        escalation_of("rome", 1, "R-1", 1, "b.example"),
        T0 + 1,
    );
    assert_ne!(a, b);
    let flags = [
        regulatory(a, RegulatoryEdit::Flag(Regime::Gdpr), T0),
        regulatory(b, RegulatoryEdit::Flag(Regime::Gdpr), T0),
    ];
    apply(store, &flags, T0 + 2, WINDOW_MS).expect("flag");
    let mut both = vec![a, b];
    both.sort();
    assert_eq!(watched(store), both);
    (a, b)
}

/// A merged-away incident's clocks move to the survivor: the scan reads the survivor only.
#[test]
fn a_merged_away_incident_leaves_the_deadline_scan() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open_store(dir.path());
    let (survivor, other) = two_flagged(&store);
    let merge = Item::Merge(Box::new(Merge {
        survivor,
        other,
        reason: String::new(),
        actor: "ines".into(),
        actor_cert: String::new(),
    }));
    apply(&store, &[merge], T0 + 3, WINDOW_MS).expect("merge");
    assert_eq!(watched(&store), vec![survivor]);
    // Filing the one deadline the survivor carries empties the scan.
    let filed = regulatory(
        survivor,
        RegulatoryEdit::Filed(DeadlineKind::GdprNotification),
        T0 + 4,
    );
    apply(&store, &[filed], T0 + 5, WINDOW_MS).expect("file");
    assert_eq!(watched(&store), Vec::<Ulid>::new());
}

/// A filing recorded a little ahead of the hub's clock (allowed skew) still meets the
/// deadline: the incident does not stay on the scan forever for it.
#[test]
fn a_filing_slightly_ahead_of_the_clock_takes_the_incident_off_the_scan() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open_store(dir.path());
    let (a, b) = two_flagged(&store);
    let filed = regulatory(
        a,
        RegulatoryEdit::Filed(DeadlineKind::GdprNotification),
        T0 + 60_000,
    );
    apply(&store, &[filed], T0 + 3, WINDOW_MS).expect("file");
    assert_eq!(watched(&store), vec![b]);
}

/// Closing an incident keeps its unmet deadlines watched: a legal deadline outlives closure.
#[test]
fn a_closed_incident_with_a_deadline_to_meet_stays_on_the_scan() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open_store(dir.path());
    let (a, b) = two_flagged(&store);
    let close = Item::Transition(Box::new(super::Transition {
        incident: a,
        command: crate::lifecycle::Command::CloseAsFalsePositive,
        role: crate::lifecycle::HubRole::Ciso,
        actor: "ines".into(),
        actor_cert: String::new(),
    }));
    apply(&store, &[close], T0 + 3, WINDOW_MS).expect("close");
    let mut both = vec![a, b];
    both.sort();
    assert_eq!(watched(&store), both);
}
