//! Tests of who is on shift, coverage gaps across time zones and DST, and round-robin.

use proptest::prelude::*;

use super::{Analyst, coverage_gaps, next_in_rotation, on_shift, on_shift_at_tier};
use crate::soc::{Role, Tier};

fn ms(utc: &str) -> i64 {
    utc.parse::<jiff::Timestamp>()
        .expect("utc instant")
        .as_millisecond()
}

fn analyst(name: &str, role: Role, shifts: &[&str]) -> Analyst {
    Analyst {
        name: name.to_string(),
        display_name: name.to_uppercase(),
        role,
        shifts: shifts
            .iter()
            .map(|s| s.parse().expect("shift spec"))
            .collect(),
    }
}

fn names(list: &[&Analyst]) -> Vec<String> {
    list.iter().map(|a| a.name.clone()).collect()
}

/// A Paris team and a Tokyo team on Tier 1, plus a Tier 2 analyst and a SOC manager who are
/// always on shift but do not count for Tier 1.
fn paris_and_tokyo() -> Vec<Analyst> {
    let t1 = Role::Analyst(Tier::T1);
    vec![
        analyst("tom", Role::Analyst(Tier::T2), &["mon-sun 00:00-24:00 UTC"]),
        analyst("carol", t1, &["sat,sun 22:00-06:00 Europe/Paris"]),
        analyst("alice", t1, &["mon-fri 08:00-18:00 Europe/Paris"]),
        analyst("dan", t1, &["mon-fri 09:00-18:00 Asia/Tokyo"]),
        analyst("erin", t1, &["sat 10:00-19:00 Asia/Tokyo"]),
        analyst("mia", Role::SocManager, &["mon-sun 00:00-24:00 UTC"]),
    ]
}

#[test]
fn paris_and_tokyo_tier1_gaps_over_the_dst_week() {
    let team = paris_and_tokyo();
    // Monday 2026-03-23 to Tuesday 2026-03-31 (UTC); Paris goes to summer time on Sunday the 29th.
    let from = ms("2026-03-23T00:00:00Z");
    let to = ms("2026-03-31T00:00:00Z");
    let expected = vec![
        // Weekdays: Tokyo 00:00-09:00Z, Paris 07:00-17:00Z (CET); carol's Sunday night covers
        // the start of the window until 05:00Z.
        (ms("2026-03-23T17:00:00Z"), ms("2026-03-24T00:00:00Z")),
        (ms("2026-03-24T17:00:00Z"), ms("2026-03-25T00:00:00Z")),
        (ms("2026-03-25T17:00:00Z"), ms("2026-03-26T00:00:00Z")),
        (ms("2026-03-26T17:00:00Z"), ms("2026-03-27T00:00:00Z")),
        // Friday evening until erin's Saturday in Tokyo (10:00 JST = 01:00Z).
        (ms("2026-03-27T17:00:00Z"), ms("2026-03-28T01:00:00Z")),
        // Saturday between erin (until 10:00Z) and carol's night (22:00 CET = 21:00Z).
        (ms("2026-03-28T10:00:00Z"), ms("2026-03-28T21:00:00Z")),
        // Carol's DST night ends at 06:00 CEST = 04:00Z (7 hours); Sunday night starts at
        // 22:00 CEST = 20:00Z.
        (ms("2026-03-29T04:00:00Z"), ms("2026-03-29T20:00:00Z")),
        // Monday in summer time: Paris 06:00-16:00Z.
        (ms("2026-03-30T16:00:00Z"), ms("2026-03-31T00:00:00Z")),
    ];
    let gaps = coverage_gaps(&team, Tier::T1, from, to);
    assert_eq!(gaps, expected);

    // At each gap's edges: nobody of Tier 1 inside, someone just outside.
    for &(start, end) in &gaps {
        assert!(on_shift_at_tier(&team, Tier::T1, start).is_empty());
        assert!(on_shift_at_tier(&team, Tier::T1, end - 1).is_empty());
        assert!(!on_shift_at_tier(&team, Tier::T1, start - 1).is_empty());
        if end < to {
            assert!(!on_shift_at_tier(&team, Tier::T1, end).is_empty());
        }
    }
    // Tier 2 is always covered; nobody is Tier 3 (the SOC manager does not count).
    assert!(coverage_gaps(&team, Tier::T2, from, to).is_empty());
    assert_eq!(coverage_gaps(&team, Tier::T3, from, to), vec![(from, to)]);
    // A window inside a gap is one gap; an empty or reversed window has none.
    let inside = (ms("2026-03-28T12:00:00Z"), ms("2026-03-28T13:00:00Z"));
    assert_eq!(
        coverage_gaps(&team, Tier::T1, inside.0, inside.1),
        vec![inside]
    );
    assert!(coverage_gaps(&team, Tier::T1, to, to).is_empty());
    assert!(coverage_gaps(&team, Tier::T1, to, from).is_empty());
}

#[test]
fn back_to_back_shifts_leave_no_gap_on_the_dst_night() {
    let t1 = Role::Analyst(Tier::T1);
    let team = vec![
        analyst("eve", t1, &["sat 20:00-02:30 Europe/Paris"]),
        analyst("max", t1, &["sun 02:30-10:00 Europe/Paris"]),
    ];
    let from = ms("2026-03-28T19:00:00Z");
    let to = ms("2026-03-29T08:00:00Z");
    assert!(coverage_gaps(&team, Tier::T1, from, to).is_empty());
    let autumn = coverage_gaps(
        &team,
        Tier::T1,
        ms("2026-10-24T18:00:00Z"),
        ms("2026-10-25T09:00:00Z"),
    );
    assert!(autumn.is_empty(), "{autumn:?}");
}

#[test]
fn on_shift_is_sorted_by_name_and_filters_by_exact_tier() {
    let team = paris_and_tokyo();
    // Monday 2026-03-23 08:00Z: Tokyo (dan) and Paris (alice) overlap; tom and mia always on.
    let at = ms("2026-03-23T08:00:00Z");
    assert_eq!(names(&on_shift(&team, at)), ["alice", "dan", "mia", "tom"]);
    assert_eq!(
        names(&on_shift_at_tier(&team, Tier::T1, at)),
        ["alice", "dan"]
    );
    assert_eq!(names(&on_shift_at_tier(&team, Tier::T2, at)), ["tom"]);
    assert!(on_shift_at_tier(&team, Tier::T4, at).is_empty());
}

#[test]
fn next_in_rotation_wraps_and_restarts_when_last_is_gone() {
    let t1 = Role::Analyst(Tier::T1);
    let (a, b, c) = (
        analyst("alice", t1, &[]),
        analyst("bob", t1, &[]),
        analyst("carol", t1, &[]),
    );
    let unsorted = [&c, &a, &b];
    let pick = |last| next_in_rotation(&unsorted, last).map(|x| x.name.as_str());
    assert_eq!(pick(None), Some("alice"));
    assert_eq!(pick(Some("alice")), Some("bob"));
    assert_eq!(pick(Some("bob")), Some("carol"));
    assert_eq!(pick(Some("carol")), Some("alice"));
    assert_eq!(pick(Some("zoe")), Some("alice"));
    assert_eq!(next_in_rotation(&[], Some("alice")), None);
}

#[test]
fn round_robin_over_a_week_follows_who_is_on_shift() {
    let t1 = Role::Analyst(Tier::T1);
    let team = vec![
        analyst("carol", t1, &["mon-fri 12:00-20:00 Europe/Paris"]),
        analyst("bob", t1, &["mon-fri 08:00-16:00 Europe/Paris"]),
        analyst("alice", t1, &["mon-fri 08:00-16:00 Europe/Paris"]),
        // 04:00-12:00 in Tokyo is 19:00-03:00 UTC, starting the evening before in UTC.
        analyst("dan", t1, &["mon-sun 04:00-12:00 Asia/Tokyo"]),
        // Same hours as alice but Tier 2: never picked for Tier 1 alerts.
        analyst(
            "zed",
            Role::Analyst(Tier::T2),
            &["mon-fri 08:00-16:00 Europe/Paris"],
        ),
    ];
    // Alert times in the week of Monday 2026-03-23 (Paris is UTC+1) and who gets each.
    let alerts = [
        ("2026-03-23T07:30:00Z", Some("alice")), // alice, bob on shift
        ("2026-03-23T08:00:00Z", Some("bob")),
        ("2026-03-23T09:00:00Z", Some("alice")), // wraps
        ("2026-03-23T11:30:00Z", Some("bob")),   // carol has joined
        ("2026-03-23T12:00:00Z", Some("carol")),
        ("2026-03-23T13:00:00Z", Some("alice")),
        ("2026-03-23T16:00:00Z", Some("carol")), // alice and bob are off: carol alone
        ("2026-03-23T18:00:00Z", Some("carol")),
        ("2026-03-23T20:00:00Z", Some("dan")), // carol off at 19:00Z, dan on since 19:00Z
        ("2026-03-23T23:00:00Z", Some("dan")),
        ("2026-03-24T05:00:00Z", None), // 06:00 in Paris, 14:00 in Tokyo: nobody
        ("2026-03-24T07:30:00Z", Some("alice")), // dan is gone: restart in name order
        ("2026-03-24T08:30:00Z", Some("bob")),
        ("2026-03-28T10:00:00Z", None), // Saturday midday in Paris: nobody
        ("2026-03-29T22:00:00Z", Some("dan")), // Monday 07:00 in Tokyo
    ];
    let mut last: Option<String> = None;
    let mut got = Vec::new();
    for (at, _) in alerts {
        let candidates = on_shift_at_tier(&team, Tier::T1, ms(at));
        let pick = next_in_rotation(&candidates, last.as_deref());
        if let Some(a) = pick {
            last = Some(a.name.clone());
        }
        got.push((at, pick.map(|a| a.name.as_str())));
    }
    let want: Vec<_> = alerts.iter().map(|&(at, who)| (at, who)).collect();
    assert_eq!(got, want);
}

const ZONES: [&str; 8] = [
    "UTC",
    "Europe/Paris",
    "Asia/Tokyo",
    "America/New_York",
    "Australia/Lord_Howe", // half-hour DST
    "America/Santiago",    // DST changes at midnight
    "Asia/Kolkata",
    "America/St_Johns",
];

/// Instants near DST changes in 2026 (and a plain one), to start windows from.
const BASES: [&str; 6] = [
    "2026-03-27T00:00:00Z", // Europe, 29 March
    "2026-03-06T00:00:00Z", // US, 8 March
    "2026-10-23T00:00:00Z", // Europe, 25 October
    "2026-04-03T00:00:00Z", // Lord Howe, Santiago, 4-5 April
    "2026-09-04T00:00:00Z", // Santiago, 6 September
    "2026-06-10T00:00:00Z",
];

fn shift_text(days: u8, start: u16, end: u16, zone: usize) -> String {
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let list: Vec<&str> = (0..7)
        .filter(|i| days & (1 << i) != 0)
        .map(|i| NAMES[i])
        .collect();
    format!(
        "{} {:02}:{:02}-{:02}:{:02} {}",
        list.join(","),
        start / 60,
        start % 60,
        end / 60,
        end % 60,
        ZONES[zone % ZONES.len()]
    )
}

fn arb_analysts() -> impl Strategy<Value = Vec<Analyst>> {
    let shift = (1u8..128, 0u16..96, 1u16..=96, 0usize..ZONES.len())
        .prop_map(|(days, s, e, z)| shift_text(days, s * 15, e * 15, z));
    let person = (any::<bool>(), prop::collection::vec(shift, 1..3));
    prop::collection::vec(person, 1..5).prop_map(|people| {
        people
            .into_iter()
            .enumerate()
            .map(|(i, (tier1, shifts))| {
                let role = Role::Analyst(if tier1 { Tier::T1 } else { Tier::T2 });
                let shifts: Vec<&str> = shifts.iter().map(String::as_str).collect();
                analyst(&format!("a{i}"), role, &shifts)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn a_time_is_in_a_gap_iff_no_analyst_of_the_tier_covers_it(
        team in arb_analysts(),
        base in 0usize..BASES.len(),
        offset_min in 0i64..(3 * 24 * 60),
        len_min in 1i64..(4 * 24 * 60),
        samples in prop::collection::vec(0.0f64..1.0, 30),
    ) {
        let from = ms(BASES[base]) + offset_min * 60_000;
        let to = from + len_min * 60_000;
        let gaps = coverage_gaps(&team, Tier::T1, from, to);
        // Sorted, non-empty, disjoint and not touching, inside the window.
        for (i, &(s, e)) in gaps.iter().enumerate() {
            prop_assert!(from <= s && s < e && e <= to, "{:?}", gaps);
            if let Some(&(next, _)) = gaps.get(i + 1) {
                prop_assert!(e < next, "{:?}", gaps);
            }
        }
        let mut points: Vec<i64> = samples
            .iter()
            .map(|f| from + ((to - from) as f64 * f) as i64)
            .collect();
        for &(s, e) in &gaps {
            points.extend([s - 1, s, e - 1, e]);
        }
        for at in points.into_iter().filter(|&at| from <= at && at < to) {
            let in_gap = gaps.iter().any(|&(s, e)| s <= at && at < e);
            let covered = team
                .iter()
                .filter(|a| a.role == Role::Analyst(Tier::T1))
                .any(|a| a.shifts.iter().any(|s| s.covers(at)));
            prop_assert_eq!(in_gap, !covered, "at {} gaps {:?}", at, gaps);
        }
    }
}
