//! The library's pure rules: checks, versions, the schedule's due times, a run's sweeps.

use super::schedule::{is_due, next_after};
use super::*;
use socfed_proto::vocab::SiteId;

const MIN: i64 = 60_000;

fn spec() -> LibrarySpec {
    LibrarySpec {
        name: "  Emotet C2  ".into(),
        description: "known C2 domains".into(),
        indicators: vec![
            Indicator::parse_typed("domain:evil.example").expect("valid"),
            Indicator::parse_typed("domain:evil.example").expect("valid"),
        ],
        techniques: vec![Technique::parse("T1071").expect("valid")],
        severity: Severity::High,
        tlp: Tlp::Amber,
        interval_s: 3600,
        lookback_s: 86_400,
    }
}

/// Every due-time case: before the slot, at it, just after, several slots late (a hub down
/// for hours runs once, then keeps to its schedule), and a degenerate interval.
#[test]
fn the_next_due_time_is_the_first_slot_after_the_run() {
    let due = 1_000 * MIN;
    let hour = 60 * MIN;
    let table: [(&str, i64, i64, i64); 7] = [
        ("not due yet: unchanged", due, hour, due - 1),
        ("run exactly on time", due, hour, due),
        ("run a minute late", due, hour, due + MIN),
        ("run just before the next slot", due, hour, due + hour - 1),
        (
            "run on the next slot: that slot is taken",
            due,
            hour,
            due + hour,
        ),
        (
            "run three and a half slots late",
            due,
            hour,
            due + 3 * hour + 30 * MIN,
        ),
        ("no interval: after now", due, 0, due + 5),
    ];
    let expected = [
        due,
        due + hour,
        due + hour,
        due + hour,
        due + 2 * hour,
        due + 4 * hour,
        due + 6,
    ];
    for ((what, due, interval, now), want) in table.into_iter().zip(expected) {
        assert_eq!(next_after(due, interval, now), want, "{what}");
        assert!(next_after(due, interval, now) > now.min(due - 1), "{what}");
    }
}

#[test]
fn only_an_enabled_hunt_past_its_due_time_is_due() {
    let hunt = LibraryHunt::added(spec().checked().expect("valid"), true, "ines", 10 * MIN);
    assert!(is_due(&hunt, 10 * MIN), "due at once when added enabled");
    assert!(!is_due(&hunt, 10 * MIN - 1));
    let off = hunt.switched(false, "ines", 11 * MIN);
    assert!(!is_due(&off, 100 * MIN), "a disabled hunt never runs");
    let on = off.switched(true, "ines", 200 * MIN);
    assert_eq!(on.next_due_ms, 200 * MIN, "enabled again: due at once");
    let again = on.switched(true, "ines", 300 * MIN);
    assert_eq!(again.next_due_ms, 200 * MIN, "enabling twice moves nothing");
}

#[test]
fn a_spec_is_normalised_and_every_bound_named() {
    let checked = spec().checked().expect("valid");
    assert_eq!(checked.name, "Emotet C2");
    assert_eq!(checked.indicators.len(), 1, "de-duplicated");
    type Spoil = fn(&mut LibrarySpec);
    let refusals: [(&str, Spoil); 7] = [
        ("needs a name", |s| s.name = " ".into()),
        ("control characters", |s| s.name = "a\u{1b}[31m".into()),
        ("at least one indicator", |s| s.indicators.clear()),
        ("every 5 minutes", |s| s.interval_s = 299),
        ("every 5 minutes", |s| s.interval_s = 31 * 86_400),
        ("lookback", |s| s.lookback_s = 0),
        ("lookback", |s| s.lookback_s = 366 * 86_400),
    ];
    for (why, spoil) in refusals {
        let mut bad = spec();
        spoil(&mut bad);
        let refused = bad.checked().expect_err(why);
        assert!(refused.0.contains(why), "{why}: {refused}");
    }
}

#[test]
fn an_edit_is_a_new_version_that_keeps_the_schedule() {
    let hunt = LibraryHunt::added(spec().checked().expect("valid"), true, "ines", 0);
    let ran = LibraryHunt {
        next_due_ms: 60 * MIN,
        runs: 1,
        ..hunt
    };
    let mut next = ran.spec();
    next.name = "Emotet C2 (2026)".into();
    next.interval_s = 600;
    let edited = ran.edited(next.checked().expect("valid"), "omar", 5 * MIN);
    assert_eq!(edited.version, 2);
    assert_eq!(edited.runs, 1);
    assert_eq!(edited.id, ran.id);
    assert_eq!(
        edited.next_due_ms,
        15 * MIN,
        "never later than one new interval"
    );
    assert_eq!(edited.updated_by, "omar");
}

/// A run sweeps every site in detection mode, its sweeps expiring when the next run is due;
/// the first looks back the full lookback, the later ones one interval.
#[test]
fn a_run_sends_detection_sweeps_that_expire_at_the_next_run() {
    let sites = [
        SiteId::parse("paris").expect("valid"),
        SiteId::parse("lyon").expect("valid"),
    ];
    let hunt = LibraryHunt::added(spec().checked().expect("valid"), true, "ines", 0);
    let first = run::plan(&hunt, &sites, 2 * MIN).expect("planned");
    assert_eq!(first.library.runs, 1);
    assert_eq!(first.library.next_due_ms, 60 * MIN);
    assert_eq!(first.hunt.sweeps.len(), 2);
    assert_eq!(first.hunt.hunt.lookback_ms, 86_400_000);
    assert_eq!(first.hunt.hunt.duration_ms, 58 * MIN);
    for sweep in &first.hunt.sweeps {
        assert_eq!(sweep.expires_at_ms, 60 * MIN);
        assert_eq!(sweep.params.get("mode").map(String::as_str), Some("detect"));
        assert_eq!(
            sweep.params.get("rule_id"),
            Some(&format!("hunt:{}", hunt.id))
        );
        assert_eq!(
            sweep.params.get("title").map(String::as_str),
            Some("Emotet C2")
        );
        assert_eq!(
            sweep.params.get("techniques").map(String::as_str),
            Some("T1071")
        );
        assert_eq!(
            sweep.params.get("time").map(String::as_str),
            Some("received")
        );
    }
    let second = run::plan(&first.library, &sites, 61 * MIN).expect("planned");
    assert_eq!(second.hunt.hunt.lookback_ms, 3_600_000, "one interval back");
    assert_eq!(second.library.next_due_ms, 120 * MIN);
    assert!(run::plan(&hunt, &[], 0).is_err(), "no site: nothing to run");
}
