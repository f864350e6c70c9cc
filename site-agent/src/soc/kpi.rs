//! Triage KPIs at the site (issue 15, item 8), from alert groups' histories. Pure: the
//! caller reads the history (the audit chain's `alert.*` entries, bounded) and the groups'
//! facts, and passes the time in.
//!
//! What is measured, each group counted once per measure (its first such step in the window):
//! - time to acknowledge, to escalate (a tier up, by hand or by an SLA breach) and to close
//!   (closed with a verdict or promoted to an incident), each from the group's arrival (its
//!   id's time, made at intake); per tier (the tier the group was at when the step was taken)
//!   and per analyst (who took it; `sla-clock` for breaches); count, median and 90th
//!   percentile (nearest rank: the smallest value at or above that share of the values);
//! - the false-positive rate per detection rule: groups closed `false-positive` over groups
//!   closed with any verdict;
//! - workload: distinct groups each analyst acted on, and per shift (the roster shift of the
//!   analyst that covered the step's time, or "off shift");
//! - trends per ISO week (UTC) of the step: acknowledged, escalated, closed, false positives
//!   and the median time to acknowledge.

use super::Tier;
use super::roster::Analyst;
use super::triage::Verdict;
use serde::Serialize;
use socfed_proto::UnixMillis;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use ulid::Ulid;

/// What a step did, as far as the KPIs care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    Acknowledge,
    Escalate,
    /// Closed with a verdict.
    Close(Verdict),
    Promote,
    /// Anything else someone did to the group (assign, comment, reopen...): workload only.
    Other,
}

/// One step of a group's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub group: Ulid,
    pub at_ms: UnixMillis,
    pub actor: String,
    pub kind: StepKind,
    /// The group's tier when the step was taken.
    pub tier: Tier,
}

/// A count with its median and 90th percentile, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Durations {
    pub count: usize,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

impl Durations {
    fn of(mut values: Vec<i64>) -> Self {
        values.sort_unstable();
        Self {
            count: values.len(),
            median_ms: nearest_rank(&values, 50),
            p90_ms: nearest_rank(&values, 90),
        }
    }
}

/// The nearest-rank percentile of sorted `values`.
fn nearest_rank(sorted: &[i64], percent: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timings {
    pub acknowledge: Durations,
    pub escalate: Durations,
    pub close: Durations,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierKpi {
    pub tier: u8,
    #[serde(flatten)]
    pub timings: Timings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnalystKpi {
    pub analyst: String,
    #[serde(flatten)]
    pub timings: Timings,
    /// Distinct groups acted on.
    pub groups_handled: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleKpi {
    pub rule_id: String,
    pub closed: usize,
    pub false_positive: usize,
    /// `false_positive / closed`.
    pub false_positive_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShiftLoad {
    pub shift: String,
    pub groups_handled: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeekKpi {
    /// ISO week, e.g. `2026-W49`.
    pub week: String,
    pub acknowledged: usize,
    pub escalated: usize,
    pub closed: usize,
    pub false_positive: usize,
    pub median_acknowledge_ms: Option<i64>,
}

/// Every KPI over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kpis {
    pub from_ms: UnixMillis,
    pub to_ms: UnixMillis,
    pub tiers: Vec<TierKpi>,
    pub analysts: Vec<AnalystKpi>,
    pub rules: Vec<RuleKpi>,
    pub shifts: Vec<ShiftLoad>,
    /// Per ISO week, oldest first.
    pub trend: Vec<WeekKpi>,
}

/// What the KPIs know of a group besides its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupFacts {
    pub rule_id: String,
}

/// The shift label when no roster shift of the actor covers the step.
pub const OFF_SHIFT: &str = "off shift";

/// ISO week (UTC) of `at_ms`, e.g. `2026-W49`.
pub fn iso_week(at_ms: UnixMillis) -> String {
    match jiff::Timestamp::from_millisecond(at_ms) {
        Ok(ts) => {
            let week = jiff::tz::TimeZone::UTC
                .to_datetime(ts)
                .date()
                .iso_week_date();
            format!("{:04}-W{:02}", week.year(), week.week())
        }
        Err(_) => "invalid".into(),
    }
}

#[derive(Default)]
struct Samples {
    acknowledge: Vec<i64>,
    escalate: Vec<i64>,
    close: Vec<i64>,
}

impl Samples {
    fn timings(self) -> Timings {
        Timings {
            acknowledge: Durations::of(self.acknowledge),
            escalate: Durations::of(self.escalate),
            close: Durations::of(self.close),
        }
    }
}

#[derive(Default)]
struct Week {
    acknowledged: usize,
    escalated: usize,
    closed: usize,
    false_positive: usize,
    ack_ms: Vec<i64>,
}

/// The KPIs of `steps` taken in `[from_ms, to_ms)`. A step on a group missing from `groups`
/// counts in every measure but the per-rule one.
pub fn compute(
    steps: &[Step],
    groups: &HashMap<Ulid, GroupFacts>,
    roster: &[Analyst],
    from_ms: UnixMillis,
    to_ms: UnixMillis,
) -> Kpis {
    let mut ordered: Vec<&Step> = steps
        .iter()
        .filter(|s| s.at_ms >= from_ms && s.at_ms < to_ms)
        .collect();
    ordered.sort_by_key(|s| (s.at_ms, s.group));
    let mut seen: BTreeSet<(Ulid, u8)> = BTreeSet::new();
    let mut tiers: BTreeMap<u8, Samples> = BTreeMap::new();
    let mut analysts: BTreeMap<String, (Samples, BTreeSet<Ulid>)> = BTreeMap::new();
    let mut rules: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut shifts: BTreeMap<String, BTreeSet<Ulid>> = BTreeMap::new();
    let mut weeks: BTreeMap<String, Week> = BTreeMap::new();
    let people: HashMap<&str, &Analyst> = roster.iter().map(|a| (a.name.as_str(), a)).collect();
    for step in ordered {
        let arrived = i64::try_from(step.group.timestamp_ms()).unwrap_or(i64::MAX);
        let elapsed = step.at_ms.saturating_sub(arrived).max(0);
        let (tier_samples, person) = (
            tiers.entry(step.tier.number()).or_default(),
            analysts.entry(step.actor.clone()).or_default(),
        );
        person.1.insert(step.group);
        let shift = people
            .get(step.actor.as_str())
            .and_then(|a| a.shifts.iter().find(|s| s.covers(step.at_ms)))
            .map_or_else(|| OFF_SHIFT.to_string(), |s| s.to_string());
        shifts.entry(shift).or_default().insert(step.group);
        let week = weeks.entry(iso_week(step.at_ms)).or_default();
        // Measure numbers: 0 acknowledge, 1 escalate, 2 close; first of each per group.
        let measure = match step.kind {
            StepKind::Acknowledge => 0,
            StepKind::Escalate => 1,
            StepKind::Close(_) | StepKind::Promote => 2,
            StepKind::Other => continue,
        };
        if !seen.insert((step.group, measure)) {
            continue;
        }
        match step.kind {
            StepKind::Acknowledge => {
                tier_samples.acknowledge.push(elapsed);
                person.0.acknowledge.push(elapsed);
                week.acknowledged += 1;
                week.ack_ms.push(elapsed);
            }
            StepKind::Escalate => {
                tier_samples.escalate.push(elapsed);
                person.0.escalate.push(elapsed);
                week.escalated += 1;
            }
            StepKind::Close(_) | StepKind::Promote => {
                tier_samples.close.push(elapsed);
                person.0.close.push(elapsed);
                week.closed += 1;
            }
            StepKind::Other => {}
        }
        if let StepKind::Close(verdict) = step.kind {
            let fp = verdict == Verdict::FalsePositive;
            week.false_positive += usize::from(fp);
            if let Some(facts) = groups.get(&step.group) {
                let rule = rules.entry(facts.rule_id.clone()).or_default();
                rule.0 += 1;
                rule.1 += usize::from(fp);
            }
        }
    }
    Kpis {
        from_ms,
        to_ms,
        tiers: tiers
            .into_iter()
            .map(|(tier, s)| TierKpi {
                tier,
                timings: s.timings(),
            })
            .collect(),
        analysts: analysts
            .into_iter()
            .map(|(analyst, (s, handled))| AnalystKpi {
                analyst,
                timings: s.timings(),
                groups_handled: handled.len(),
            })
            .collect(),
        rules: rules
            .into_iter()
            .map(|(rule_id, (closed, fp))| RuleKpi {
                rule_id,
                closed,
                false_positive: fp,
                false_positive_rate: if closed == 0 {
                    0.0
                } else {
                    fp as f64 / closed as f64
                },
            })
            .collect(),
        shifts: shifts
            .into_iter()
            .map(|(shift, groups)| ShiftLoad {
                shift,
                groups_handled: groups.len(),
            })
            .collect(),
        trend: weeks
            .into_iter()
            .map(|(week, w)| {
                let mut ack = w.ack_ms;
                ack.sort_unstable();
                WeekKpi {
                    week,
                    acknowledged: w.acknowledged,
                    escalated: w.escalated,
                    closed: w.closed,
                    false_positive: w.false_positive,
                    median_acknowledge_ms: nearest_rank(&ack, 50),
                }
            })
            .collect(),
    }
}

#[cfg(test)]
#[path = "kpi_tests.rs"]
mod tests;
