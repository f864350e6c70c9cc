//! Tests of `ShiftSpec`: parsing, the string form, `covers`, DST nights, gaps and folds.

use super::{RosterError, ShiftSpec};

fn ms(utc: &str) -> i64 {
    utc.parse::<jiff::Timestamp>()
        .expect("utc instant")
        .as_millisecond()
}

fn spec(s: &str) -> ShiftSpec {
    s.parse().expect("shift spec")
}

const HOUR: i64 = 3_600_000;

#[test]
fn parse_and_display_round_trip() {
    let cases = [
        (
            "mon-fri 08:00-16:00 Europe/Paris",
            "mon-fri 08:00-16:00 Europe/Paris",
        ),
        ("sat,sun 00:00-24:00 UTC", "sat,sun 00:00-24:00 UTC"),
        (
            "mon-sun 22:00-06:00 Asia/Tokyo",
            "mon-sun 22:00-06:00 Asia/Tokyo",
        ),
        (
            "Sun,SAT 8:30-17:00 europe/paris",
            "sat,sun 08:30-17:00 Europe/Paris",
        ),
        ("fri-mon 22:00-06:00 UTC", "mon,fri-sun 22:00-06:00 UTC"),
        (
            "mon,wed-fri,wed 09:00-17:00 America/New_York",
            "mon,wed-fri 09:00-17:00 America/New_York",
        ),
        ("  tue   00:00-00:00   UTC ", "tue 00:00-00:00 UTC"),
        (
            "sun-sat 07:15-19:45 Asia/Kolkata",
            "mon-sun 07:15-19:45 Asia/Kolkata",
        ),
        ("thu-thu 12:00-13:00 UTC", "thu 12:00-13:00 UTC"),
    ];
    for (input, canonical) in cases {
        let parsed = spec(input);
        assert_eq!(parsed.to_string(), canonical, "display of {input:?}");
        let reparsed = spec(&parsed.to_string());
        assert_eq!(reparsed, parsed, "round trip of {input:?}");
        assert_eq!(reparsed.to_string(), canonical);
    }
    assert_eq!(
        spec("sat,sun 10:00-12:00 UTC"),
        spec("sun,sat 10:00-12:00 UTC")
    );
    let night = spec("mon-sun 22:00-06:00 Asia/Tokyo");
    assert!(night.crosses_midnight());
    assert_eq!(night.tz_name(), "Asia/Tokyo");
    assert_eq!(night.days().len(), 7);
    assert!(!spec("sat,sun 00:00-24:00 UTC").crosses_midnight());
}

#[test]
fn serde_uses_the_string_form() {
    let s = spec("mon-fri 08:00-16:00 Europe/Paris");
    let json = serde_json::to_string(&s).expect("serialize");
    assert_eq!(json, "\"mon-fri 08:00-16:00 Europe/Paris\"");
    let back: ShiftSpec = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, s);
    let bad = serde_json::from_str::<ShiftSpec>("\"mon-fri 08:00-16:00 Nowhere/Land\"");
    assert!(bad.is_err());
}

#[test]
fn parse_errors_say_what_is_accepted() {
    use RosterError::*;
    let cases: [(&str, RosterError); 16] = [
        ("", ShiftFormat(String::new())),
        (
            "mon-fri 08:00-16:00",
            ShiftFormat("mon-fri 08:00-16:00".into()),
        ),
        (
            "mon 08:00-16:00 UTC extra",
            ShiftFormat("mon 08:00-16:00 UTC extra".into()),
        ),
        ("mon-fry 08:00-16:00 UTC", BadDay("fry".into())),
        ("monday 08:00-16:00 UTC", BadDay("monday".into())),
        ("mon,xx 08:00-16:00 UTC", BadDay("xx".into())),
        (", 08:00-16:00 UTC", EmptyDays),
        ("08:00-16:00 UTC", EmptyDays),
        ("mon 08:00 UTC", BadTimeRange("08:00".into())),
        ("mon 0800-1600 UTC", BadTime("0800".into())),
        ("mon 24:00-06:00 UTC", BadTime("24:00".into())),
        ("mon 08:60-09:00 UTC", BadTime("08:60".into())),
        ("mon 08:00-24:30 UTC", BadTime("24:30".into())),
        ("mon 8:0-09:00 UTC", BadTime("8:0".into())),
        ("mon 123:00-09:00 UTC", BadTime("123:00".into())),
        (
            "mon 08:00-16:00 Mars/Olympus",
            UnknownTimeZone("Mars/Olympus".into()),
        ),
    ];
    for (input, expected) in cases {
        let err = input.parse::<ShiftSpec>().expect_err(input);
        assert_eq!(err, expected, "error for {input:?}");
        let message = err.to_string();
        assert!(
            message.starts_with(|c: char| c.is_ascii_lowercase()),
            "{message}"
        );
        assert!(
            message.contains("expected")
                || message.contains("e.g.")
                || message.contains("days are"),
            "{message}"
        );
    }
}

#[test]
fn covers_across_midnight() {
    // 2026-03-23 is a Monday.
    let night = spec("mon 22:00-06:00 UTC");
    assert!(!night.covers(ms("2026-03-23T21:59:59.999Z")));
    assert!(night.covers(ms("2026-03-23T22:00:00Z")));
    assert!(night.covers(ms("2026-03-24T05:59:59.999Z")));
    assert!(!night.covers(ms("2026-03-24T06:00:00Z")));
    // Only the Monday night: Tuesday night and Sunday night are off.
    assert!(!night.covers(ms("2026-03-24T23:00:00Z")));
    assert!(!night.covers(ms("2026-03-23T01:00:00Z")));
    assert!(night.covers(ms("2026-03-31T01:00:00Z")));

    let weekend = spec("sat,sun 00:00-24:00 UTC");
    assert!(weekend.covers(ms("2026-03-28T00:00:00Z")));
    assert!(weekend.covers(ms("2026-03-29T23:59:59.999Z")));
    assert!(!weekend.covers(ms("2026-03-30T00:00:00Z")));
    assert!(!weekend.covers(ms("2026-03-27T23:59:59.999Z")));

    let all_day = spec("wed 08:00-08:00 UTC");
    assert!(all_day.covers(ms("2026-03-26T07:59:59.999Z")));
    assert!(!all_day.covers(ms("2026-03-26T08:00:00Z")));
}

#[test]
fn covers_in_another_time_zone() {
    // 09:00-18:00 in Tokyo (UTC+9, no DST) is 00:00-09:00 UTC on the same day.
    let tokyo = spec("mon-fri 09:00-18:00 Asia/Tokyo");
    assert!(!tokyo.covers(ms("2026-03-22T23:59:59.999Z")));
    assert!(tokyo.covers(ms("2026-03-23T00:00:00Z")));
    assert!(tokyo.covers(ms("2026-03-27T08:59:59.999Z")));
    assert!(!tokyo.covers(ms("2026-03-27T09:00:00Z")));
    assert!(!tokyo.covers(ms("2026-03-28T00:00:00Z")));
    // A Tokyo Monday night starts on Monday afternoon UTC.
    let tokyo_night = spec("mon 22:00-06:00 Asia/Tokyo");
    assert!(tokyo_night.covers(ms("2026-03-23T13:00:00Z")));
    assert!(tokyo_night.covers(ms("2026-03-23T20:59:59Z")));
    assert!(!tokyo_night.covers(ms("2026-03-23T21:00:00Z")));
    // New York in summer time (UTC-4) on a Monday evening is Tuesday in UTC.
    let ny = spec("mon 20:00-23:00 America/New_York");
    assert!(ny.covers(ms("2026-06-02T00:30:00Z")));
    assert!(!ny.covers(ms("2026-06-01T00:30:00Z")));
}

#[test]
fn night_shift_lasts_seven_or_nine_hours_when_clocks_change() {
    let night = spec("sat 22:00-06:00 Europe/Paris");
    // Clocks go forward on Sunday 2026-03-29 at 02:00 CET: 22:00 CET to 06:00 CEST.
    let spring = night.occurrences(ms("2026-03-28T00:00:00Z"), ms("2026-03-29T12:00:00Z"));
    assert_eq!(
        spring,
        vec![(ms("2026-03-28T21:00:00Z"), ms("2026-03-29T04:00:00Z"))]
    );
    assert_eq!(spring[0].1 - spring[0].0, 7 * HOUR);
    // Clocks go back on Sunday 2026-10-25 at 03:00 CEST: 22:00 CEST to 06:00 CET.
    let autumn = night.occurrences(ms("2026-10-24T00:00:00Z"), ms("2026-10-25T12:00:00Z"));
    assert_eq!(
        autumn,
        vec![(ms("2026-10-24T20:00:00Z"), ms("2026-10-25T05:00:00Z"))]
    );
    assert_eq!(autumn[0].1 - autumn[0].0, 9 * HOUR);
    // An ordinary Saturday night is eight hours.
    let plain = night.occurrences(ms("2026-03-21T00:00:00Z"), ms("2026-03-22T12:00:00Z"));
    assert_eq!(
        plain,
        vec![(ms("2026-03-21T21:00:00Z"), ms("2026-03-22T05:00:00Z"))]
    );
}

#[test]
fn wall_times_in_a_dst_gap_resolve_to_the_jump_and_in_a_fold_to_the_first_showing() {
    // 02:30 never shows in Paris on 2026-03-29: the clocks jump 02:00 CET -> 03:00 CEST at 01:00Z.
    let late_start = spec("sun 02:30-10:00 Europe/Paris");
    let occ = late_start.occurrences(ms("2026-03-29T00:00:00Z"), ms("2026-03-29T12:00:00Z"));
    assert_eq!(
        occ,
        vec![(ms("2026-03-29T01:00:00Z"), ms("2026-03-29T08:00:00Z"))]
    );
    // A shift ending at 02:30 that night ends at the jump too: back-to-back shifts stay so.
    let early_end = spec("sat 20:00-02:30 Europe/Paris");
    let occ = early_end.occurrences(ms("2026-03-28T00:00:00Z"), ms("2026-03-29T12:00:00Z"));
    assert_eq!(
        occ,
        vec![(ms("2026-03-28T19:00:00Z"), ms("2026-03-29T01:00:00Z"))]
    );
    // A shift wholly inside the gap does not happen that day, but does the week before.
    let ghost = spec("sun 02:15-02:45 Europe/Paris");
    let from = ms("2026-03-22T00:00:00Z");
    let to = ms("2026-03-30T00:00:00Z");
    assert_eq!(
        ghost.occurrences(from, to),
        vec![(ms("2026-03-22T01:15:00Z"), ms("2026-03-22T01:45:00Z"))]
    );
    // 02:30 shows twice in Paris on 2026-10-25 (00:30Z in CEST, 01:30Z in CET): the first counts.
    let fold = spec("sun 02:30-04:00 Europe/Paris");
    let occ = fold.occurrences(ms("2026-10-25T00:00:00Z"), ms("2026-10-25T12:00:00Z"));
    assert_eq!(
        occ,
        vec![(ms("2026-10-25T00:30:00Z"), ms("2026-10-25T03:00:00Z"))]
    );
    assert!(fold.covers(ms("2026-10-25T01:45:00Z")));
}

#[test]
fn occurrences_of_an_empty_or_reversed_window_are_empty() {
    let s = spec("mon-sun 00:00-24:00 UTC");
    assert!(s.occurrences(10, 10).is_empty());
    assert!(s.occurrences(10, 5).is_empty());
    // Instants far outside jiff's range are never covered and never panic.
    assert!(!s.covers(i64::MAX));
    assert!(!s.covers(i64::MIN));
    assert!(s.occurrences(i64::MAX - 1, i64::MAX).is_empty());
}
