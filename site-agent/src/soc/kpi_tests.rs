//! The KPI rules on chosen histories: each case a table row, the expected numbers worked out
//! by hand from the module's definitions.

use super::*;
use crate::soc::Role;

/// 2026-12-01 00:00:00 UTC (a Tuesday, ISO week 2026-W49).
const T0: i64 = 1_796_083_200_000;
const MIN: i64 = 60_000;

fn group(n: u64) -> Ulid {
    // Arrived at T0 + n minutes.
    Ulid::from_parts(u64::try_from(T0).unwrap_or(0) + n * 60_000, u128::from(n))
}

fn step(g: u64, after_min: i64, actor: &str, kind: StepKind, tier: u8) -> Step {
    Step {
        group: group(g),
        at_ms: T0 + (g as i64) * MIN + after_min * MIN,
        actor: actor.into(),
        kind,
        tier: Tier::from_number(tier).unwrap_or(Tier::T4),
    }
}

fn facts(rules: &[(u64, &str)]) -> HashMap<Ulid, GroupFacts> {
    rules
        .iter()
        .map(|(g, r)| {
            (
                group(*g),
                GroupFacts {
                    rule_id: (*r).into(),
                },
            )
        })
        .collect()
}

#[test]
fn nearest_rank_percentiles() {
    // (values, median, p90)
    let cases: [(&[i64], Option<i64>, Option<i64>); 5] = [
        (&[], None, None),
        (&[7], Some(7), Some(7)),
        (&[1, 2], Some(1), Some(2)),
        (&[4, 1, 3, 2], Some(2), Some(4)),
        (
            &[10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
            Some(50),
            Some(90),
        ),
    ];
    for (values, median, p90) in cases {
        let d = Durations::of(values.to_vec());
        assert_eq!(
            (d.count, d.median_ms, d.p90_ms),
            (values.len(), median, p90),
            "{values:?}"
        );
    }
}

#[test]
fn timings_per_tier_and_analyst_count_each_groups_first_step() {
    use StepKind::*;
    let steps = vec![
        step(1, 5, "ana", Acknowledge, 1),
        step(1, 30, "ana", Close(Verdict::FalsePositive), 1),
        step(2, 15, "ana", Acknowledge, 1),
        step(2, 20, "ana", Escalate, 1),
        step(2, 40, "bob", Acknowledge, 2), // second acknowledgement of group 2: not counted
        step(2, 60, "bob", Close(Verdict::TruePositive), 2),
        step(3, 1, "sla-clock", Escalate, 1),
        step(3, 2, "bob", Other, 2),
    ];
    let kpis = compute(&steps, &facts(&[]), &[], T0, T0 + 7 * 24 * 60 * MIN);
    // (tier, ack count, ack median, escalate count, close count, close median)
    let expected = [
        (1u8, 2, Some(5 * MIN), 2, 1, Some(30 * MIN)),
        (2, 0, None, 0, 1, Some(60 * MIN)),
    ];
    assert_eq!(kpis.tiers.len(), expected.len());
    for (t, (tier, acks, ack_med, escs, closes, close_med)) in kpis.tiers.iter().zip(expected) {
        assert_eq!(t.tier, tier);
        assert_eq!(t.timings.acknowledge.count, acks, "tier {tier}");
        assert_eq!(t.timings.acknowledge.median_ms, ack_med, "tier {tier}");
        assert_eq!(t.timings.escalate.count, escs, "tier {tier}");
        assert_eq!(t.timings.close.count, closes, "tier {tier}");
        assert_eq!(t.timings.close.median_ms, close_med, "tier {tier}");
    }
    // (analyst, acknowledged, p90 ack, closed, groups handled)
    let expected = [
        ("ana", 2, Some(15 * MIN), 1, 2),
        ("bob", 0, None, 1, 2),
        ("sla-clock", 0, None, 0, 1),
    ];
    assert_eq!(kpis.analysts.len(), expected.len());
    for (a, (name, acks, p90, closes, handled)) in kpis.analysts.iter().zip(expected) {
        assert_eq!(a.analyst, name);
        assert_eq!(a.timings.acknowledge.count, acks, "{name}");
        assert_eq!(a.timings.acknowledge.p90_ms, p90, "{name}");
        assert_eq!(a.timings.close.count, closes, "{name}");
        assert_eq!(a.groups_handled, handled, "{name}");
    }
}

#[test]
fn false_positive_rate_per_rule() {
    use StepKind::*;
    let steps = vec![
        step(1, 1, "ana", Close(Verdict::FalsePositive), 1),
        step(2, 1, "ana", Close(Verdict::FalsePositive), 1),
        step(3, 1, "ana", Close(Verdict::Benign), 1),
        step(4, 1, "ana", Close(Verdict::TruePositive), 1),
        step(5, 1, "ana", Promote, 2), // promoted: not a verdict, not in the rate
        step(6, 1, "ana", Close(Verdict::FalsePositive), 1), // rule unknown: not in the rate
    ];
    let groups = facts(&[
        (1, "r-noisy"),
        (2, "r-noisy"),
        (3, "r-noisy"),
        (4, "r-good"),
        (5, "r-good"),
    ]);
    let kpis = compute(&steps, &groups, &[], T0, T0 + 24 * 60 * MIN);
    let rows: Vec<(&str, usize, usize, f64)> = kpis
        .rules
        .iter()
        .map(|r| {
            (
                r.rule_id.as_str(),
                r.closed,
                r.false_positive,
                r.false_positive_rate,
            )
        })
        .collect();
    assert_eq!(rows, [("r-good", 1, 0, 0.0), ("r-noisy", 3, 2, 2.0 / 3.0)]);
    assert_eq!(kpis.trend.len(), 1);
    assert_eq!((kpis.trend[0].closed, kpis.trend[0].false_positive), (6, 3));
}

#[test]
fn workload_per_shift_and_weekly_trend_and_the_window() {
    use StepKind::*;
    let morning: crate::soc::roster::ShiftSpec = match "mon-sun 00:00-12:00 UTC".parse() {
        Ok(s) => s,
        Err(e) => panic!("shift: {e}"),
    };
    let ana = Analyst {
        name: "ana".into(),
        display_name: "Ana".into(),
        role: Role::Analyst(Tier::T1),
        shifts: vec![morning.clone()],
    };
    let week = 7 * 24 * 60;
    let steps = vec![
        step(1, 10, "ana", Acknowledge, 1),      // 00:11 Tue W49, on shift
        step(2, 13 * 60, "ana", Acknowledge, 1), // 13:02, off her shift
        step(3, 20, "bob", Acknowledge, 1),      // bob is not on the roster
        step(4, week + 30, "ana", Acknowledge, 1), // W50
        step(5, 2 * week, "ana", Acknowledge, 1), // past the window
        step(6, -60 * 24, "ana", Acknowledge, 1), // before the window
    ];
    let kpis = compute(&steps, &facts(&[]), &[ana], T0, T0 + 2 * week * MIN);
    let shifts: Vec<(&str, usize)> = kpis
        .shifts
        .iter()
        .map(|s| (s.shift.as_str(), s.groups_handled))
        .collect();
    let label = morning.to_string();
    assert_eq!(shifts, [(label.as_str(), 2), (OFF_SHIFT, 2)]);
    let weeks: Vec<(&str, usize, Option<i64>)> = kpis
        .trend
        .iter()
        .map(|w| (w.week.as_str(), w.acknowledged, w.median_acknowledge_ms))
        .collect();
    assert_eq!(
        weeks,
        [
            ("2026-W49", 3, Some(20 * MIN)),
            ("2026-W50", 1, Some((week + 30) * MIN))
        ]
    );
}

#[test]
fn iso_weeks_cross_years_as_iso_says() {
    // 2027-01-01 is a Friday: ISO week 53 of 2026.
    let cases = [
        (1_798_761_600_000i64, "2026-W53"),
        (T0, "2026-W49"),
        (i64::MAX, "invalid"),
    ];
    for (at, want) in cases {
        assert_eq!(iso_week(at), want, "{at}");
    }
}
