#![allow(
    clippy::unwrap_used,
    reason = "a test that unwraps fails loudly, which is the point"
)]

use super::*;
use crate::soc::Tier;
use crate::soc::triage::{Action, Effect, Verdict, apply};

const T: i64 = 1_700_000_000_000;
const SECOND: i64 = 1_000;
const MIN: i64 = 60 * SECOND;

fn mins(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}

fn hours(n: u64) -> Duration {
    Duration::from_secs(n * 3_600)
}

fn days(n: u64) -> Duration {
    hours(24 * n)
}

#[derive(Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    sla: SlaPolicy,
}

fn parse(toml_text: &str) -> Result<SlaPolicy, String> {
    toml::from_str::<Config>(toml_text)
        .map(|c| c.sla)
        .map_err(|e| e.to_string())
}

#[test]
fn default_policy_matches_the_documented_targets() {
    let policy = SlaPolicy::default();
    let expected = [
        (Severity::Critical, mins(15), hours(4)),
        (Severity::High, hours(1), hours(24)),
        (Severity::Medium, hours(4), days(3)),
        (Severity::Low, hours(24), days(7)),
        (Severity::Informational, hours(72), days(30)),
    ];
    for (severity, ack, resolve) in expected {
        assert_eq!(policy.ack_within(severity), ack, "{severity}");
        assert_eq!(policy.resolve_within(severity), resolve, "{severity}");
    }
    assert_eq!(policy.validate(), Ok(()));
}

#[test]
fn toml_overrides_keep_defaults_for_everything_left_out() {
    let policy = parse(
        r#"
        [sla.critical]
        ack_within = "10m"
        resolve_within = "2h"

        [sla.low]
        resolve_within = "5days"
        "#,
    )
    .unwrap();
    let want = SlaPolicy {
        critical: SlaTargets::new(mins(10), hours(2)),
        low: SlaTargets::new(hours(24), days(5)),
        ..SlaPolicy::default()
    };
    assert_eq!(policy, want);
    assert_eq!(parse("").unwrap(), SlaPolicy::default());
    assert_eq!(parse("[sla]").unwrap(), SlaPolicy::default());
}

#[test]
fn toml_round_trips() {
    let config = Config {
        sla: SlaPolicy {
            high: SlaTargets::new(mins(45), hours(12)),
            ..SlaPolicy::default()
        },
    };
    let text = toml::to_string(&config).unwrap();
    assert!(text.contains("[sla.critical]"), "{text}");
    assert!(text.contains("ack_within = \"15m\""), "{text}");
    assert_eq!(toml::from_str::<Config>(&text).unwrap(), config);
}

#[test]
fn toml_rejects_unknown_keys_and_bad_durations() {
    let unknown_severity = parse("[sla.urgent]\nack_within = \"5m\"").unwrap_err();
    assert!(
        unknown_severity.contains("unknown field `urgent`"),
        "{unknown_severity}"
    );
    let unknown_field = parse("[sla.high]\nack = \"5m\"").unwrap_err();
    assert!(
        unknown_field.contains("unknown field `ack`"),
        "{unknown_field}"
    );
    let bad = parse("[sla.high]\nack_within = \"soon\"").unwrap_err();
    assert!(bad.contains("ack_within"), "{bad}");
}

#[test]
fn validate_names_the_key_to_fix() {
    let zero = SlaPolicy {
        medium: SlaTargets::new(Duration::ZERO, days(3)),
        ..SlaPolicy::default()
    };
    assert_eq!(
        zero.validate(),
        Err("sla.medium.ack_within is zero; give a positive duration such as \"15m\"".into())
    );
    let swapped = SlaPolicy {
        critical: SlaTargets::new(hours(2), hours(4)),
        ..SlaPolicy::default()
    };
    assert_eq!(
        swapped.validate(),
        Err(
            "sla.critical.ack_within (2h) is longer than sla.high.ack_within (1h); \
             a more severe alert must not wait longer, so shorten the first or lengthen \
             the second"
                .into()
        )
    );
    let equal = SlaPolicy {
        critical: SlaTargets::new(hours(1), hours(24)),
        ..SlaPolicy::default()
    };
    assert_eq!(equal.validate(), Ok(()));
}

#[test]
fn critical_group_breaches_at_exactly_15_minutes_and_the_breach_restarts_the_clock() {
    let policy = SlaPolicy::default();
    let state = GroupState::new(T);
    let due = Deadline {
        clock: Clock::Acknowledge,
        due_ms: T + 15 * MIN,
    };
    assert_eq!(deadline(&policy, &state, Severity::Critical), Some(due));
    let just_before = T + 14 * MIN + 59 * SECOND;
    assert_eq!(
        breached(&policy, &state, Severity::Critical, just_before),
        None
    );
    let at = T + 15 * MIN;
    assert_eq!(breached(&policy, &state, Severity::Critical, at), Some(due));

    let (next, effects) = apply(&state, &Action::SlaBreach, at).unwrap();
    assert_eq!(next.tier, Tier::T2);
    assert_eq!(
        effects[0],
        Effect::TierRaised {
            from: Tier::T1,
            to: Tier::T2
        }
    );
    assert_eq!(
        deadline(&policy, &next, Severity::Critical),
        Some(Deadline {
            clock: Clock::Acknowledge,
            due_ms: at + 15 * MIN,
        })
    );
    assert_eq!(breached(&policy, &next, Severity::Critical, at), None);
}

#[test]
fn acknowledged_group_runs_the_resolve_clock_from_its_acknowledgement() {
    let policy = SlaPolicy::default();
    let acked_at = T + 5 * MIN;
    let (state, _) = apply(&GroupState::new(T), &Action::Acknowledge, acked_at).unwrap();
    let due = Deadline {
        clock: Clock::Resolve,
        due_ms: acked_at + 4 * 60 * MIN,
    };
    assert_eq!(deadline(&policy, &state, Severity::Critical), Some(due));
    // Past the acknowledge deadline does not matter any more.
    assert_eq!(
        breached(&policy, &state, Severity::Critical, T + 16 * MIN),
        None
    );
    assert_eq!(
        breached(&policy, &state, Severity::Critical, due.due_ms - 1),
        None
    );
    assert_eq!(
        breached(&policy, &state, Severity::Critical, due.due_ms),
        Some(due)
    );
}

#[test]
fn closed_and_promoted_groups_have_no_deadline() {
    let policy = SlaPolicy::default();
    let open = GroupState::new(T);
    let closed = apply(
        &open,
        &Action::Close {
            verdict: Verdict::Duplicate,
        },
        T + MIN,
    )
    .unwrap()
    .0;
    let promoted = apply(
        &open,
        &Action::Promote {
            incident: "INC-3".into(),
        },
        T + MIN,
    )
    .unwrap()
    .0;
    for severity in Severity::ALL {
        assert_eq!(deadline(&policy, &closed, severity), None);
        assert_eq!(deadline(&policy, &promoted, severity), None);
        assert_eq!(breached(&policy, &closed, severity, i64::MAX), None);
        assert_eq!(breached(&policy, &promoted, severity, i64::MAX), None);
    }
}

#[test]
fn breach_at_tier_4_escalates_to_the_sirt_hub_and_is_reported_once() {
    let policy = SlaPolicy::default();
    let mut state = GroupState::new(T);
    let mut now = T;
    // Nobody acknowledges: breach after breach climbs the ladder one tier at a time.
    for tier in [Tier::T2, Tier::T3, Tier::T4] {
        now = breached(&policy, &state, Severity::High, now + 60 * MIN)
            .unwrap()
            .due_ms;
        state = apply(&state, &Action::SlaBreach, now).unwrap().0;
        assert_eq!(state.tier, tier);
    }
    let at = now + 60 * MIN;
    assert!(breached(&policy, &state, Severity::High, at).is_some());
    let (next, effects) = apply(&state, &Action::SlaBreach, at).unwrap();
    assert_eq!(next.tier, Tier::T4);
    assert!(effects.contains(&Effect::EscalateToSirt));
    // The clock restarted, so the next tick does not report the same breach again.
    assert_eq!(breached(&policy, &next, Severity::High, at), None);
    assert_eq!(
        deadline(&policy, &next, Severity::High).map(|d| d.due_ms),
        Some(at + 60 * MIN)
    );
}

#[test]
fn deadlines_saturate_instead_of_overflowing() {
    let policy = SlaPolicy {
        informational: SlaTargets::new(Duration::MAX, Duration::MAX),
        ..SlaPolicy::default()
    };
    let state = GroupState::new(T);
    assert_eq!(
        deadline(&policy, &state, Severity::Informational).map(|d| d.due_ms),
        Some(i64::MAX)
    );
}
