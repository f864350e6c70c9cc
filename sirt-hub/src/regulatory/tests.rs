//! Regulatory clocks on virtual time: every instant is chosen by the test, nothing sleeps.

use jiff::civil::{Date, DateTime, date};
use jiff::tz::TimeZone;
use proptest::prelude::*;

use super::*;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Unix milliseconds of an RFC 3339 instant, e.g. `2026-01-28T10:00:00Z`.
fn utc(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>()
        .expect("valid RFC 3339 instant")
        .as_millisecond()
}

/// Unix milliseconds of a New York wall-clock time, e.g. `2026-04-21T23:59:59.999`.
fn ny(text: &str) -> i64 {
    let tz = TimeZone::get(SEC_TIME_ZONE).expect("bundled tz database");
    text.parse::<DateTime>()
        .expect("valid civil datetime")
        .to_zoned_datetime(tz)
        .expect("representable")
        .timestamp()
        .as_millisecond()
}

fn flagged(regime: Regime, started_ms: i64) -> RegulatoryClocks {
    let mut clocks = RegulatoryClocks::new();
    clocks.flag(regime, started_ms).expect("flag accepted");
    clocks
}

fn due_of(clocks: &RegulatoryClocks, kind: DeadlineKind) -> i64 {
    clocks
        .deadlines()
        .into_iter()
        .find(|d| d.kind == kind)
        .expect("deadline present")
        .due_ms
}

fn status_of(
    clocks: &RegulatoryClocks,
    kind: DeadlineKind,
    now_ms: i64,
    policy: &WarningPolicy,
) -> DeadlineStatus {
    clocks
        .status(now_ms, policy)
        .into_iter()
        .find(|(d, _)| d.kind == kind)
        .expect("deadline present")
        .1
}

fn sec_due(determined_ms: i64) -> i64 {
    due_of(
        &flagged(Regime::SecMaterial, determined_ms),
        DeadlineKind::SecForm8K,
    )
}

// ---- GDPR ----

#[test]
fn gdpr_breach_is_pending_then_due_soon_then_overdue() {
    let t = utc("2026-05-12T08:30:00Z");
    let clocks = flagged(Regime::Gdpr, t);
    let policy = WarningPolicy::default();
    let due = t + 72 * HOUR_MS;
    assert_eq!(due_of(&clocks, DeadlineKind::GdprNotification), due);

    let at = |now| status_of(&clocks, DeadlineKind::GdprNotification, now, &policy);
    assert_eq!(at(t), DeadlineStatus::Pending { due_ms: due });
    assert_eq!(
        at(t + 59 * HOUR_MS),
        DeadlineStatus::Pending { due_ms: due }
    );
    assert_eq!(
        at(t + 60 * HOUR_MS - 1),
        DeadlineStatus::Pending { due_ms: due }
    );
    assert_eq!(
        at(t + 60 * HOUR_MS),
        DeadlineStatus::DueSoon { due_ms: due }
    );
    assert_eq!(
        at(t + 61 * HOUR_MS),
        DeadlineStatus::DueSoon { due_ms: due }
    );
    assert_eq!(at(due), DeadlineStatus::DueSoon { due_ms: due });
    assert_eq!(
        at(due + 1),
        DeadlineStatus::Overdue {
            due_ms: due,
            by_ms: 1
        }
    );
    assert_eq!(
        at(due + 5 * HOUR_MS),
        DeadlineStatus::Overdue {
            due_ms: due,
            by_ms: 5 * HOUR_MS
        }
    );
}

#[test]
fn warning_lead_is_configurable() {
    let t = utc("2026-05-12T08:30:00Z");
    let clocks = flagged(Regime::Gdpr, t);
    let policy = WarningPolicy {
        gdpr_notification: std::time::Duration::from_secs(24 * 3600),
        ..WarningPolicy::default()
    };
    assert_eq!(
        status_of(
            &clocks,
            DeadlineKind::GdprNotification,
            t + 48 * HOUR_MS,
            &policy
        ),
        DeadlineStatus::DueSoon {
            due_ms: t + 72 * HOUR_MS
        }
    );
}

#[test]
fn warning_policy_reads_human_durations_and_defaults_the_rest() {
    let policy: WarningPolicy =
        toml::from_str("gdpr_notification = \"1day\"\nsec_business_days = 2\n").expect("parses");
    assert_eq!(policy.gdpr_notification.as_secs(), 24 * 3600);
    assert_eq!(policy.sec_business_days, 2);
    assert_eq!(
        policy.nis2_final_report,
        WarningPolicy::default().nis2_final_report
    );
    assert!(toml::from_str::<WarningPolicy>("gdpr = \"1h\"").is_err());
}

// ---- NIS2 ----

#[test]
fn nis2_has_three_deadlines_and_the_month_clamps_to_end_of_february() {
    // Aware 28 January 10:00 UTC: the notification is due 31 January 10:00, and one calendar
    // month after 31 January is clamped to 28 February (2026 is not a leap year).
    let t = utc("2026-01-28T10:00:00Z");
    let clocks = flagged(Regime::Nis2, t);
    let deadlines = clocks.deadlines();
    let got: Vec<(DeadlineKind, i64, i64)> = deadlines
        .iter()
        .map(|d| (d.kind, d.runs_from_ms, d.due_ms))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                DeadlineKind::Nis2EarlyWarning,
                t,
                utc("2026-01-29T10:00:00Z")
            ),
            (
                DeadlineKind::Nis2IncidentNotification,
                t,
                utc("2026-01-31T10:00:00Z")
            ),
            (
                DeadlineKind::Nis2FinalReport,
                utc("2026-01-31T10:00:00Z"),
                utc("2026-02-28T10:00:00Z")
            ),
        ]
    );
    assert!(deadlines.iter().all(|d| d.clock_start_ms == t));
}

#[test]
fn nis2_final_report_month_reaches_29_february_in_a_leap_year() {
    let clocks = flagged(Regime::Nis2, utc("2028-01-28T10:00:00Z"));
    assert_eq!(
        due_of(&clocks, DeadlineKind::Nis2FinalReport),
        utc("2028-02-29T10:00:00Z")
    );
}

#[test]
fn nis2_final_report_runs_from_the_notification_once_it_is_filed() {
    let t = utc("2026-01-28T10:00:00Z");
    let filed = utc("2026-01-28T20:15:00Z");
    let mut clocks = flagged(Regime::Nis2, t);
    clocks
        .record_filing(DeadlineKind::Nis2IncidentNotification, filed)
        .expect("filing accepted");

    let final_report = clocks
        .deadlines()
        .into_iter()
        .find(|d| d.kind == DeadlineKind::Nis2FinalReport)
        .expect("final report");
    assert_eq!(final_report.runs_from_ms, filed);
    assert_eq!(final_report.due_ms, utc("2026-02-28T20:15:00Z"));

    // Before the filing instant the month still runs from the 72 h deadline.
    let policy = WarningPolicy::default();
    let earlier = t + HOUR_MS;
    assert_eq!(
        status_of(&clocks, DeadlineKind::Nis2FinalReport, earlier, &policy),
        DeadlineStatus::Pending {
            due_ms: utc("2026-02-28T10:00:00Z")
        }
    );
    assert_eq!(
        status_of(&clocks, DeadlineKind::Nis2FinalReport, filed, &policy),
        DeadlineStatus::Pending {
            due_ms: utc("2026-02-28T20:15:00Z")
        }
    );
}

#[test]
fn nis2_leads_are_six_hours_twelve_hours_and_seven_days() {
    let t = utc("2026-01-28T10:00:00Z");
    let clocks = flagged(Regime::Nis2, t);
    let policy = WarningPolicy::default();
    let warn = |kind| {
        let d = clocks
            .deadlines()
            .into_iter()
            .find(|d| d.kind == kind)
            .expect("deadline");
        policy.warn_from_ms(&d)
    };
    assert_eq!(warn(DeadlineKind::Nis2EarlyWarning), t + 18 * HOUR_MS);
    assert_eq!(
        warn(DeadlineKind::Nis2IncidentNotification),
        t + 60 * HOUR_MS
    );
    assert_eq!(
        warn(DeadlineKind::Nis2FinalReport),
        utc("2026-02-21T10:00:00Z")
    );
}

// ---- SEC business days ----

#[test]
fn sec_determination_on_a_wednesday_is_due_tuesday_end_of_day() {
    assert_eq!(
        sec_due(ny("2026-04-15T11:00:00")),
        ny("2026-04-21T23:59:59.999")
    );
}

#[test]
fn sec_event_date_is_the_new_york_date() {
    // Wednesday 22:30 in New York is already Thursday in UTC; it still counts as Wednesday.
    let determined = ny("2026-04-15T22:30:00");
    assert_eq!(determined, utc("2026-04-16T02:30:00Z"));
    assert_eq!(sec_due(determined), ny("2026-04-21T23:59:59.999"));
}

#[test]
fn sec_count_skips_thanksgiving_and_the_weekend() {
    // Thursday a week before Thanksgiving: Fri 20, Mon 23, Tue 24, Wed 25.
    assert_eq!(
        sec_due(ny("2026-11-19T10:00:00")),
        ny("2026-11-25T23:59:59.999")
    );
    // Monday of Thanksgiving week: Tue 24, Wed 25, (Thu 26 holiday) Fri 27, (weekend) Mon 30.
    assert_eq!(
        sec_due(ny("2026-11-23T10:00:00")),
        ny("2026-11-30T23:59:59.999")
    );
    // Wednesday before Thanksgiving: Fri 27, Mon 30, Tue 1, Wed 2 December.
    assert_eq!(
        sec_due(ny("2026-11-25T16:00:00")),
        ny("2026-12-02T23:59:59.999")
    );
    // On Thanksgiving itself the period starts on, and includes, Friday 27.
    assert_eq!(
        sec_due(ny("2026-11-26T09:00:00")),
        ny("2026-12-02T23:59:59.999")
    );
}

#[test]
fn sec_count_on_independence_day_observed_friday() {
    // 4 July 2026 is a Saturday, observed Friday 3 July: a determination that day starts the
    // count on Monday 6 July: Mon 6, Tue 7, Wed 8, Thu 9.
    assert_eq!(
        sec_due(ny("2026-07-03T12:00:00")),
        ny("2026-07-09T23:59:59.999")
    );
    // The day before skips the observed holiday as well.
    assert_eq!(
        sec_due(ny("2026-07-02T12:00:00")),
        ny("2026-07-09T23:59:59.999")
    );
}

#[test]
fn sec_deadline_across_the_spring_dst_change() {
    // Thursday 5 March 2026, 09:00 EST; clocks go forward Sunday 8 March. Fri 6, Mon 9,
    // Tue 10, Wed 11 → due 23:59:59.999 EDT (UTC−4).
    let determined = ny("2026-03-05T09:00:00");
    assert_eq!(determined, utc("2026-03-05T14:00:00Z"));
    assert_eq!(sec_due(determined), utc("2026-03-12T03:59:59.999Z"));
}

#[test]
fn sec_deadline_across_the_autumn_dst_change() {
    // Thursday 29 October 2026 EDT; clocks go back Sunday 1 November. Fri 30, Mon 2, Tue 3,
    // Wed 4 → due 23:59:59.999 EST (UTC−5).
    let determined = ny("2026-10-29T15:00:00");
    assert_eq!(determined, utc("2026-10-29T19:00:00Z"));
    assert_eq!(sec_due(determined), utc("2026-11-05T04:59:59.999Z"));
}

#[test]
fn sec_count_skips_new_years_day_observed_on_the_previous_friday() {
    // 1 January 2028 is a Saturday, observed Friday 31 December 2027.
    // Tue 28 → Wed 29, Thu 30, (Fri 31 holiday) Mon 3, Tue 4 January.
    assert_eq!(
        sec_due(ny("2027-12-28T10:00:00")),
        ny("2028-01-04T23:59:59.999")
    );
}

#[test]
fn federal_holidays_observed_in_2026_and_2027() {
    let d = |y, m, dd| date(y, m, dd);
    assert_eq!(
        us_federal_holidays_observed(2026).expect("computes"),
        vec![
            d(2026, 1, 1),
            d(2026, 1, 19),
            d(2026, 2, 16),
            d(2026, 5, 25),
            d(2026, 6, 19),
            d(2026, 7, 3),
            d(2026, 9, 7),
            d(2026, 10, 12),
            d(2026, 11, 11),
            d(2026, 11, 26),
            d(2026, 12, 25),
        ]
    );
    // Juneteenth, Independence Day and Christmas fall on weekends in 2027, New Year's Day 2028
    // on a Saturday.
    assert_eq!(
        us_federal_holidays_observed(2027).expect("computes"),
        vec![
            d(2027, 1, 1),
            d(2027, 1, 18),
            d(2027, 2, 15),
            d(2027, 5, 31),
            d(2027, 6, 18),
            d(2027, 7, 5),
            d(2027, 9, 6),
            d(2027, 10, 11),
            d(2027, 11, 11),
            d(2027, 11, 25),
            d(2027, 12, 24),
        ]
    );
    assert_eq!(
        us_federal_holidays_observed(2028).expect("computes")[0],
        d(2027, 12, 31)
    );
    let business = |day: Date| is_us_business_day(day).expect("computes");
    assert!(!business(d(2027, 12, 31)));
    assert!(!business(d(2021, 12, 31)));
    assert!(business(d(2026, 12, 31)));
    assert!(!business(d(2026, 7, 4)));
    // No Juneteenth before 2021.
    assert!(business(d(2020, 6, 19)));
}

#[test]
fn sec_warning_starts_when_the_third_business_day_ends() {
    let determined = ny("2026-04-15T11:00:00");
    let clocks = flagged(Regime::SecMaterial, determined);
    let policy = WarningPolicy::default();
    let due = ny("2026-04-21T23:59:59.999");
    let at = |now| status_of(&clocks, DeadlineKind::SecForm8K, now, &policy);
    assert_eq!(
        at(ny("2026-04-20T23:59:59.999")),
        DeadlineStatus::Pending { due_ms: due }
    );
    assert_eq!(
        at(ny("2026-04-21T00:00:00")),
        DeadlineStatus::DueSoon { due_ms: due }
    );
    assert_eq!(
        at(ny("2026-04-22T00:00:00")),
        DeadlineStatus::Overdue {
            due_ms: due,
            by_ms: 1
        }
    );
}

#[test]
fn sec_warning_over_a_weekend_starts_when_the_third_business_day_ends() {
    // Tuesday 7 April 2026: Wed 8, Thu 9, Fri 10 (third), Mon 13 (fourth). The third business
    // day ends Friday night, so the deadline is due soon from Saturday 00:00.
    let clocks = flagged(Regime::SecMaterial, ny("2026-04-07T11:00:00"));
    let deadline = clocks.deadlines()[0];
    assert_eq!(deadline.due_ms, ny("2026-04-13T23:59:59.999"));
    assert_eq!(
        WarningPolicy::default().warn_from_ms(&deadline),
        ny("2026-04-11T00:00:00")
    );
}

#[test]
fn sec_lead_of_four_business_days_warns_from_the_determination() {
    let determined = ny("2026-04-15T11:00:00");
    let clocks = flagged(Regime::SecMaterial, determined);
    let policy = WarningPolicy {
        sec_business_days: 4,
        ..WarningPolicy::default()
    };
    assert_eq!(
        status_of(&clocks, DeadlineKind::SecForm8K, determined, &policy),
        DeadlineStatus::DueSoon {
            due_ms: ny("2026-04-21T23:59:59.999")
        }
    );
}

// ---- filings ----

#[test]
fn filing_before_the_deadline_is_met_on_time() {
    let t = utc("2026-05-12T08:30:00Z");
    let mut clocks = flagged(Regime::Gdpr, t);
    let filed = t + 40 * HOUR_MS;
    clocks
        .record_filing(DeadlineKind::GdprNotification, filed)
        .expect("filing accepted");
    let policy = WarningPolicy::default();
    let expected = DeadlineStatus::Met {
        at_ms: filed,
        late: false,
    };
    assert_eq!(
        status_of(&clocks, DeadlineKind::GdprNotification, filed, &policy),
        expected
    );
    assert_eq!(
        status_of(
            &clocks,
            DeadlineKind::GdprNotification,
            t + 100 * HOUR_MS,
            &policy
        ),
        expected
    );
    // Before the filing instant it was still pending.
    assert_eq!(
        status_of(&clocks, DeadlineKind::GdprNotification, filed - 1, &policy),
        DeadlineStatus::Pending {
            due_ms: t + 72 * HOUR_MS
        }
    );
}

#[test]
fn filing_exactly_at_the_due_instant_is_on_time() {
    let t = utc("2026-05-12T08:30:00Z");
    let mut clocks = flagged(Regime::Gdpr, t);
    clocks
        .record_filing(DeadlineKind::GdprNotification, t + 72 * HOUR_MS)
        .expect("filing accepted");
    assert_eq!(
        status_of(
            &clocks,
            DeadlineKind::GdprNotification,
            t + 80 * HOUR_MS,
            &WarningPolicy::default()
        ),
        DeadlineStatus::Met {
            at_ms: t + 72 * HOUR_MS,
            late: false
        }
    );
}

#[test]
fn filing_after_the_deadline_is_met_but_late() {
    let determined = ny("2026-04-15T11:00:00");
    let mut clocks = flagged(Regime::SecMaterial, determined);
    let filed = ny("2026-04-22T09:00:00");
    clocks
        .record_filing(DeadlineKind::SecForm8K, filed)
        .expect("filing accepted");
    let policy = WarningPolicy::default();
    assert_eq!(
        status_of(&clocks, DeadlineKind::SecForm8K, filed - MINUTE_MS, &policy),
        DeadlineStatus::Overdue {
            due_ms: ny("2026-04-21T23:59:59.999"),
            by_ms: 9 * HOUR_MS - MINUTE_MS + 1
        }
    );
    assert_eq!(
        status_of(&clocks, DeadlineKind::SecForm8K, filed, &policy),
        DeadlineStatus::Met {
            at_ms: filed,
            late: true
        }
    );
}

#[test]
fn filings_are_refused_without_a_flag_before_the_clock_or_twice() {
    let t = utc("2026-05-12T08:30:00Z");
    let mut clocks = flagged(Regime::Gdpr, t);
    assert_eq!(
        clocks.record_filing(DeadlineKind::Nis2EarlyWarning, t),
        Err(RegulatoryError::NotFlagged {
            kind: DeadlineKind::Nis2EarlyWarning,
            regime: Regime::Nis2
        })
    );
    assert!(matches!(
        clocks.record_filing(DeadlineKind::GdprNotification, t - 1),
        Err(RegulatoryError::FiledBeforeClockStart { .. })
    ));
    clocks
        .record_filing(DeadlineKind::GdprNotification, t + HOUR_MS)
        .expect("filing accepted");
    clocks
        .record_filing(DeadlineKind::GdprNotification, t + HOUR_MS)
        .expect("same filing again is a no-op");
    assert_eq!(
        clocks.record_filing(DeadlineKind::GdprNotification, t + 2 * HOUR_MS),
        Err(RegulatoryError::AlreadyFiled {
            kind: DeadlineKind::GdprNotification,
            at_ms: t + HOUR_MS,
            requested_ms: t + 2 * HOUR_MS
        })
    );
    assert_eq!(clocks.filings().len(), 1);
}

#[test]
fn flags_are_idempotent_and_their_start_cannot_move() {
    let t = utc("2026-05-12T08:30:00Z");
    let mut clocks = flagged(Regime::Gdpr, t);
    clocks.flag(Regime::Gdpr, t).expect("same flag is a no-op");
    assert_eq!(
        clocks.flag(Regime::Gdpr, t + 1),
        Err(RegulatoryError::AlreadyFlagged {
            regime: Regime::Gdpr,
            started_ms: t,
            requested_ms: t + 1
        })
    );
    assert_eq!(clocks.flags().len(), 1);
    assert_eq!(
        clocks.flag(Regime::Nis2, -1),
        Err(RegulatoryError::OutOfRange { at_ms: -1 })
    );
    assert_eq!(
        clocks.flag(Regime::SecMaterial, MAX_SUPPORTED_MS),
        Err(RegulatoryError::OutOfRange {
            at_ms: MAX_SUPPORTED_MS
        })
    );
    clocks
        .flag(Regime::SecMaterial, MAX_SUPPORTED_MS - 1)
        .expect("last supported instant");
    clocks
        .flag(Regime::Nis2, MIN_SUPPORTED_MS)
        .expect("first supported instant");
}

#[test]
fn every_regime_together_is_ordered_by_due_time() {
    let t = ny("2026-04-15T11:00:00");
    let mut clocks = RegulatoryClocks::new();
    for regime in Regime::ALL {
        clocks.flag(regime, t).expect("flag accepted");
    }
    let kinds: Vec<DeadlineKind> = clocks.deadlines().iter().map(|d| d.kind).collect();
    assert_eq!(
        kinds,
        vec![
            DeadlineKind::Nis2EarlyWarning,
            DeadlineKind::GdprNotification,
            DeadlineKind::Nis2IncidentNotification,
            DeadlineKind::SecForm8K,
            DeadlineKind::Nis2FinalReport,
        ]
    );
}

#[test]
fn names_round_trip_through_strings_and_json() {
    for regime in Regime::ALL {
        assert_eq!(regime.as_str().parse::<Regime>(), Ok(regime));
        assert_eq!(
            serde_json::to_string(&regime).expect("serializes"),
            format!("\"{regime}\"")
        );
    }
    for kind in DeadlineKind::ALL {
        assert_eq!(kind.as_str().parse::<DeadlineKind>(), Ok(kind));
        assert_eq!(
            serde_json::to_string(&kind).expect("serializes"),
            format!("\"{kind}\"")
        );
        assert!(kind.regime().deadline_kinds().contains(&kind));
    }
    assert!(matches!(
        "hipaa".parse::<Regime>(),
        Err(RegulatoryError::UnknownRegime(_))
    ));
}

#[test]
fn clocks_round_trip_through_json_and_invalid_state_is_refused() {
    let t = utc("2026-01-28T10:00:00Z");
    let mut clocks = flagged(Regime::Nis2, t);
    clocks
        .record_filing(DeadlineKind::Nis2EarlyWarning, t + HOUR_MS)
        .expect("filing accepted");
    let json = serde_json::to_string(&clocks).expect("serializes");
    let back: RegulatoryClocks = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, clocks);

    let orphan_filing = r#"{"flags":[],"filings":[{"kind":"gdpr_notification","at_ms":0}]}"#;
    assert!(serde_json::from_str::<RegulatoryClocks>(orphan_filing).is_err());
    let twice = r#"{"flags":[{"regime":"gdpr","started_ms":0},{"regime":"gdpr","started_ms":5}],"filings":[]}"#;
    assert!(serde_json::from_str::<RegulatoryClocks>(twice).is_err());

    let status = serde_json::to_value(DeadlineStatus::Overdue {
        due_ms: 5,
        by_ms: 1,
    })
    .expect("serializes");
    assert_eq!(
        status,
        serde_json::json!({"status": "overdue", "due_ms": 5, "by_ms": 1})
    );
}

// ---- wakeups ----

#[test]
fn next_wakeup_is_the_due_soon_boundary_then_the_overdue_instant() {
    let t = utc("2026-05-12T08:30:00Z");
    let clocks = flagged(Regime::Gdpr, t);
    let policy = WarningPolicy::default();
    let due = t + 72 * HOUR_MS;
    assert_eq!(clocks.next_wakeup(t, &policy), Some(t + 60 * HOUR_MS));
    assert_eq!(
        clocks.next_wakeup(t + 60 * HOUR_MS - 1, &policy),
        Some(t + 60 * HOUR_MS)
    );
    assert_eq!(clocks.next_wakeup(t + 60 * HOUR_MS, &policy), Some(due + 1));
    assert_eq!(clocks.next_wakeup(due, &policy), Some(due + 1));
    assert_eq!(clocks.next_wakeup(due + 1, &policy), None);
}

#[test]
fn next_wakeup_stops_once_filed() {
    let t = utc("2026-05-12T08:30:00Z");
    let mut clocks = flagged(Regime::Gdpr, t);
    let filed = t + 10 * HOUR_MS;
    clocks
        .record_filing(DeadlineKind::GdprNotification, filed)
        .expect("filing accepted");
    let policy = WarningPolicy::default();
    // Replaying from before the filing, the filing itself is the next change.
    assert_eq!(clocks.next_wakeup(t, &policy), Some(filed));
    assert_eq!(clocks.next_wakeup(filed, &policy), None);
}

#[test]
fn a_scheduler_following_next_wakeup_sees_every_change_of_every_deadline() {
    let t = ny("2026-04-15T11:00:00");
    let mut clocks = RegulatoryClocks::new();
    for regime in Regime::ALL {
        clocks.flag(regime, t).expect("flag accepted");
    }
    clocks
        .record_filing(DeadlineKind::Nis2EarlyWarning, t + 20 * HOUR_MS)
        .expect("filing accepted");
    let policy = WarningPolicy::default();
    let mut now = t;
    let mut wakeups = Vec::new();
    let mut seen = vec![clocks.status(now, &policy)];
    while let Some(next) = clocks.next_wakeup(now, &policy) {
        assert!(next > now);
        now = next;
        wakeups.push(now);
        seen.push(clocks.status(now, &policy));
    }
    // GDPR and the NIS2 incident notification share their 72 h instants; the filed early
    // warning is due soon at 18 h and met at 20 h; the final report runs from the 72 h deadline
    // (18 April 15:00 UTC) since the notification was never filed.
    assert_eq!(
        wakeups,
        vec![
            t + 18 * HOUR_MS,
            t + 20 * HOUR_MS,
            t + 60 * HOUR_MS,
            t + 72 * HOUR_MS + 1,
            ny("2026-04-21T00:00:00"),
            ny("2026-04-22T00:00:00"),
            utc("2026-05-11T15:00:00Z"),
            utc("2026-05-18T15:00:00Z") + 1,
        ]
    );
    let last = seen.last().expect("non-empty");
    assert!(last.iter().all(|(d, s)| match d.kind {
        DeadlineKind::Nis2EarlyWarning =>
            *s == DeadlineStatus::Met {
                at_ms: t + 20 * HOUR_MS,
                late: false
            },
        _ => matches!(s, DeadlineStatus::Overdue { .. }),
    }));
}

// ---- properties ----

/// 0 pending, 1 due soon, 2 overdue, 3 met.
fn rank(status: &DeadlineStatus) -> u8 {
    match status {
        DeadlineStatus::Pending { .. } => 0,
        DeadlineStatus::DueSoon { .. } => 1,
        DeadlineStatus::Overdue { .. } => 2,
        DeadlineStatus::Met { .. } => 3,
    }
}

/// A status without the growing `by_ms`, to compare "the same state".
fn shape(statuses: &[(Deadline, DeadlineStatus)]) -> Vec<(DeadlineKind, i64, u8)> {
    statuses
        .iter()
        .map(|(d, s)| (d.kind, d.due_ms, rank(s)))
        .collect()
}

fn regimes() -> impl Strategy<Value = Vec<Regime>> {
    proptest::sample::subsequence(Regime::ALL.to_vec(), 1..=3)
}

fn policies() -> impl Strategy<Value = WarningPolicy> {
    let lead = || (0u64..40 * 24 * 3600).prop_map(std::time::Duration::from_secs);
    (lead(), lead(), lead(), lead(), 0u32..6).prop_map(|(a, b, c, d, e)| WarningPolicy {
        gdpr_notification: a,
        nis2_early_warning: b,
        nis2_incident_notification: c,
        nis2_final_report: d,
        sec_business_days: e,
    })
}

// 2000-01-01 .. 2100-01-01 UTC.
const PROP_FROM_MS: i64 = 946_684_800_000;
const PROP_TO_MS: i64 = 4_102_444_800_000;

proptest! {
    #[test]
    fn every_deadline_falls_after_its_start(
        start in PROP_FROM_MS..PROP_TO_MS,
        regimes in regimes(),
    ) {
        let mut clocks = RegulatoryClocks::new();
        for &regime in &regimes {
            clocks.flag(regime, start).expect("flag accepted");
        }
        let deadlines = clocks.deadlines();
        let expected: usize = regimes.iter().map(|r| r.deadline_kinds().len()).sum();
        prop_assert_eq!(deadlines.len(), expected);
        for d in &deadlines {
            prop_assert!(d.due_ms > d.clock_start_ms, "{:?}", d);
            prop_assert!(d.due_ms > d.runs_from_ms, "{:?}", d);
            prop_assert!(d.runs_from_ms >= d.clock_start_ms, "{:?}", d);
        }
        // The SEC deadline is the end of a New York business day, 4 to 11 days after.
        if let Some(d) = deadlines.iter().find(|d| d.kind == DeadlineKind::SecForm8K) {
            let tz = TimeZone::get(SEC_TIME_ZONE).expect("bundled tz database");
            let local = tz.to_datetime(jiff::Timestamp::from_millisecond(d.due_ms).expect("in range"));
            prop_assert_eq!(local.time(), jiff::civil::time(23, 59, 59, 999_000_000));
            prop_assert!(is_us_business_day(local.date()).expect("computes"));
            prop_assert!(d.due_ms - start >= 4 * DAY_MS - 2 * HOUR_MS);
            prop_assert!(d.due_ms - start <= 12 * DAY_MS);
        }
    }

    #[test]
    fn statuses_never_go_back_without_filings(
        start in PROP_FROM_MS..PROP_TO_MS,
        regimes in regimes(),
        policy in policies(),
        mut offsets in proptest::collection::vec(-DAY_MS..60 * DAY_MS, 1..40),
    ) {
        let mut clocks = RegulatoryClocks::new();
        for &regime in &regimes {
            clocks.flag(regime, start).expect("flag accepted");
        }
        offsets.sort_unstable();
        let mut previous: Option<Vec<(DeadlineKind, i64, u8)>> = None;
        for offset in offsets {
            let now = start + offset;
            let current = shape(&clocks.status(now, &policy));
            for (_, _, r) in &current {
                prop_assert!(*r < 3, "met without a filing");
            }
            if let Some(prev) = &previous {
                prop_assert_eq!(prev.len(), current.len());
                for (p, c) in prev.iter().zip(&current) {
                    prop_assert_eq!((p.0, p.1), (c.0, c.1), "deadlines moved");
                    prop_assert!(c.2 >= p.2, "{:?} went back from {} to {}", c.0, p.2, c.2);
                }
            }
            previous = Some(current);
        }
    }

    #[test]
    fn next_wakeup_is_exactly_the_next_change(
        start in PROP_FROM_MS..PROP_TO_MS,
        regimes in regimes(),
        policy in policies(),
        offset in -DAY_MS..60 * DAY_MS,
        filed_after in proptest::option::of(0..50 * DAY_MS),
    ) {
        let mut clocks = RegulatoryClocks::new();
        for &regime in &regimes {
            clocks.flag(regime, start).expect("flag accepted");
        }
        if let Some(after) = filed_after {
            let kind = regimes[0].deadline_kinds()[0];
            clocks.record_filing(kind, start + after).expect("filing accepted");
        }
        let now = start + offset;
        let here = shape(&clocks.status(now, &policy));
        match clocks.next_wakeup(now, &policy) {
            Some(next) => {
                prop_assert!(next > now);
                prop_assert_eq!(&shape(&clocks.status(next - 1, &policy)), &here);
                prop_assert_ne!(&shape(&clocks.status(next, &policy)), &here);
            }
            None => {
                let later = shape(&clocks.status(now + 400 * DAY_MS, &policy));
                prop_assert_eq!(later, here);
            }
        }
    }
}
