//! Tests of the job rotation between Tier 1 monitoring and SIRT duty.

use super::{Duty, RosterError, Rotation};

fn ms(utc: &str) -> i64 {
    utc.parse::<jiff::Timestamp>()
        .expect("utc instant")
        .as_millisecond()
}

/// Five members, weekly periods from Monday 2026-03-02 in Paris, two SIRT seats.
fn weekly() -> Rotation {
    Rotation {
        members: ["a", "b", "c", "d", "e"].map(String::from).to_vec(),
        period_days: 7,
        starts_on: jiff::civil::date(2026, 3, 2),
        tz: "Europe/Paris".into(),
        sirt_seats: 2,
    }
}

fn sirt(list: &[(String, Duty)]) -> Vec<&str> {
    list.iter()
        .filter(|(_, d)| *d == Duty::SirtDuty)
        .map(|(m, _)| m.as_str())
        .collect()
}

#[test]
fn validate_accepts_a_good_rotation_and_names_each_fault() {
    assert_eq!(weekly().validate(), Ok(()));
    let with = |f: fn(&mut Rotation)| {
        let mut r = weekly();
        f(&mut r);
        r.validate()
    };
    assert_eq!(with(|r| r.members.clear()), Err(RosterError::NoMembers));
    assert_eq!(
        with(|r| r.members.push(" ".into())),
        Err(RosterError::EmptyMember)
    );
    assert_eq!(
        with(|r| r.members.push("c".into())),
        Err(RosterError::DuplicateMember("c".into()))
    );
    assert_eq!(with(|r| r.period_days = 0), Err(RosterError::ZeroPeriod));
    assert_eq!(
        with(|r| r.sirt_seats = 6),
        Err(RosterError::TooManySirtSeats {
            seats: 6,
            members: 5
        })
    );
    assert_eq!(
        with(|r| r.tz = "Europe/Atlantis".into()),
        Err(RosterError::UnknownTimeZone("Europe/Atlantis".into()))
    );
    assert_eq!(with(|r| r.sirt_seats = 0), Ok(()));
    assert_eq!(with(|r| r.sirt_seats = 5), Ok(()));
    let message = with(|r| r.sirt_seats = 6)
        .expect_err("too many")
        .to_string();
    assert!(message.contains("at most the member count"), "{message}");
}

#[test]
fn weekly_view_across_periods_wrap_around_and_dst() {
    let r = weekly();
    // Period k starts at Paris midnight of 2 March + 7k days; SIRT starts at index 2k mod 5.
    let periods: [(&str, &str, [&str; 2]); 8] = [
        // (an instant in the period, start of the next period, SIRT members)
        ("2026-02-17T12:00:00Z", "2026-02-22T23:00:00Z", ["b", "c"]), // k = -2
        ("2026-02-25T12:00:00Z", "2026-03-01T23:00:00Z", ["d", "e"]), // k = -1
        ("2026-03-02T12:00:00Z", "2026-03-08T23:00:00Z", ["a", "b"]), // k = 0
        ("2026-03-09T12:00:00Z", "2026-03-15T23:00:00Z", ["c", "d"]), // k = 1
        ("2026-03-16T12:00:00Z", "2026-03-22T23:00:00Z", ["a", "e"]), // k = 2: e, a wrap
        // k = 3 ends at Paris midnight in summer time: 22:00Z, one hour early in UTC.
        ("2026-03-23T12:00:00Z", "2026-03-29T22:00:00Z", ["b", "c"]),
        ("2026-03-30T12:00:00Z", "2026-04-05T22:00:00Z", ["d", "e"]), // k = 4
        ("2026-04-06T12:00:00Z", "2026-04-12T22:00:00Z", ["a", "b"]), // k = 5
    ];
    for (i, (at, changes, want)) in periods.iter().enumerate() {
        let view = r.view(ms(at));
        assert_eq!(sirt(&view.now), want, "now at {at}");
        assert_eq!(view.changes_at_ms, ms(changes), "change after {at}");
        assert_eq!(view.now.len(), 5);
        let names: Vec<&str> = view.now.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "d", "e"]);
        if let Some((_, _, next)) = periods.get(i + 1) {
            assert_eq!(sirt(&view.next), next, "next at {at}");
        }
        // The next view starts exactly at the change.
        assert_eq!(r.view(ms(changes)).now, view.next);
        assert_eq!(r.view(ms(changes) - 1).now, view.now);
    }
}

#[test]
fn duty_at_period_boundaries_and_before_starts_on() {
    let r = weekly();
    // Start of period 0: 2 March 00:00 CET = 1 March 23:00Z.
    assert_eq!(
        r.duty("d", ms("2026-03-01T22:59:59.999Z")),
        Some(Duty::SirtDuty)
    );
    assert_eq!(
        r.duty("a", ms("2026-03-01T22:59:59.999Z")),
        Some(Duty::Tier1Monitoring)
    );
    assert_eq!(
        r.duty("a", ms("2026-03-01T23:00:00Z")),
        Some(Duty::SirtDuty)
    );
    assert_eq!(
        r.duty("d", ms("2026-03-01T23:00:00Z")),
        Some(Duty::Tier1Monitoring)
    );
    // The DST boundary: 30 March 00:00 CEST = 29 March 22:00Z.
    assert_eq!(
        r.duty("b", ms("2026-03-29T21:59:59.999Z")),
        Some(Duty::SirtDuty)
    );
    assert_eq!(
        r.duty("b", ms("2026-03-29T22:00:00Z")),
        Some(Duty::Tier1Monitoring)
    );
    assert_eq!(
        r.duty("d", ms("2026-03-29T22:00:00Z")),
        Some(Duty::SirtDuty)
    );
    // A year before starts_on still rotates (floor division): -53 weeks, index 2*(-53) mod 5 = 4.
    let long_ago = ms("2025-02-25T12:00:00Z");
    assert_eq!(sirt(&r.view(long_ago).now), ["a", "e"]);
    assert_eq!(r.duty("zoe", ms("2026-03-02T12:00:00Z")), None);
}

#[test]
fn every_member_takes_sirt_duty_in_turn() {
    let r = Rotation {
        members: ["x", "y", "z"].map(String::from).to_vec(),
        period_days: 1,
        starts_on: jiff::civil::date(2026, 1, 1),
        tz: "UTC".into(),
        sirt_seats: 1,
    };
    let day = 86_400_000;
    let start = ms("2025-12-29T06:00:00Z");
    let got: Vec<Vec<String>> = (0..7)
        .map(|i| r.view(start + i * day))
        .map(|v| sirt(&v.now).into_iter().map(String::from).collect())
        .collect();
    // 29 Dec is period -3 (index 0), then one member a day.
    assert_eq!(got, [["x"], ["y"], ["z"], ["x"], ["y"], ["z"], ["x"]]);

    let mut none = r.clone();
    none.sirt_seats = 0;
    assert!(
        none.view(start)
            .now
            .iter()
            .all(|(_, d)| *d == Duty::Tier1Monitoring)
    );
    let mut all = r.clone();
    all.sirt_seats = 3;
    assert!(
        all.view(start)
            .next
            .iter()
            .all(|(_, d)| *d == Duty::SirtDuty)
    );
}

#[test]
fn an_invalid_rotation_has_no_duties() {
    let mut r = weekly();
    r.period_days = 0;
    let at = ms("2026-03-02T12:00:00Z");
    assert_eq!(r.duty("a", at), None);
    let view = r.view(at);
    assert!(view.now.is_empty() && view.next.is_empty());
    assert_eq!(view.changes_at_ms, i64::MAX);
    assert_eq!(weekly().duty("a", i64::MAX), None);
}

#[test]
fn duty_serializes_in_kebab_case() {
    let json = serde_json::to_string(&[Duty::Tier1Monitoring, Duty::SirtDuty]).expect("json");
    assert_eq!(json, r#"["tier1-monitoring","sirt-duty"]"#);
    let r = weekly();
    let back: Rotation =
        serde_json::from_str(&serde_json::to_string(&r).expect("json")).expect("rotation");
    assert_eq!(back, r);
}
