//! SLA clocks: how long an alert group may wait to be acknowledged and then resolved at its
//! tier, per severity, and when its running clock is due.
//!
//! It owns the [`SlaPolicy`] (read from the `[sla]` table of the agent's configuration) and the
//! arithmetic from a [`GroupState`] to a [`Deadline`]. It never reads the clock: `now_ms` (Unix
//! milliseconds) comes in as an argument, and the caller that finds a breach applies
//! [`Action::SlaBreach`](super::triage::Action::SlaBreach) itself.
//!
//! Both clocks are per tier: escalation restarts the acknowledge clock at the new tier (from
//! `tier_since_ms`), and acknowledging starts the resolve clock (from `acknowledged_at_ms`).
//!
//! In TOML, every severity is optional and so is every field inside one; what is left out keeps
//! its default:
//!
//! ```toml
//! [sla.critical]
//! ack_within = "10m"
//! resolve_within = "2h"
//!
//! [sla.low]
//! resolve_within = "5days"
//! ```

#[cfg(test)]
mod tests;

use super::triage::{GroupState, Status};
use serde::{Deserialize, Deserializer, Serialize};
use socfed_proto::vocab::Severity;
use std::time::Duration;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// The two SLA targets of one severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaTargets {
    /// From reaching a tier to being acknowledged there.
    #[serde(with = "humantime_serde")]
    pub ack_within: Duration,
    /// From being acknowledged to being closed or promoted.
    #[serde(with = "humantime_serde")]
    pub resolve_within: Duration,
}

impl SlaTargets {
    pub const fn new(ack_within: Duration, resolve_within: Duration) -> Self {
        SlaTargets {
            ack_within,
            resolve_within,
        }
    }

    /// The built-in targets of a severity (what [`SlaPolicy::default`] holds).
    pub const fn default_for(severity: Severity) -> Self {
        let (ack, resolve) = match severity {
            Severity::Critical => (15 * MINUTE, 4 * HOUR),
            Severity::High => (HOUR, 24 * HOUR),
            Severity::Medium => (4 * HOUR, 3 * DAY),
            Severity::Low => (24 * HOUR, 7 * DAY),
            Severity::Informational => (72 * HOUR, 30 * DAY),
        };
        SlaTargets::new(Duration::from_secs(ack), Duration::from_secs(resolve))
    }
}

/// SLA targets per severity: the `[sla]` table of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlaPolicy {
    #[serde(deserialize_with = "critical")]
    pub critical: SlaTargets,
    #[serde(deserialize_with = "high")]
    pub high: SlaTargets,
    #[serde(deserialize_with = "medium")]
    pub medium: SlaTargets,
    #[serde(deserialize_with = "low")]
    pub low: SlaTargets,
    #[serde(deserialize_with = "informational")]
    pub informational: SlaTargets,
}

/// critical 15m / 4h, high 1h / 24h, medium 4h / 3 days, low 24h / 7 days,
/// informational 72h / 30 days (acknowledge / resolve).
impl Default for SlaPolicy {
    fn default() -> Self {
        SlaPolicy {
            critical: SlaTargets::default_for(Severity::Critical),
            high: SlaTargets::default_for(Severity::High),
            medium: SlaTargets::default_for(Severity::Medium),
            low: SlaTargets::default_for(Severity::Low),
            informational: SlaTargets::default_for(Severity::Informational),
        }
    }
}

impl SlaPolicy {
    pub fn targets(&self, severity: Severity) -> SlaTargets {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Informational => self.informational,
        }
    }

    pub fn ack_within(&self, severity: Severity) -> Duration {
        self.targets(severity).ack_within
    }

    pub fn resolve_within(&self, severity: Severity) -> Duration {
        self.targets(severity).resolve_within
    }

    /// Every duration is positive, and a more severe level never allows longer than a less
    /// severe one (which catches swapped values). The message names the `sla.*` key to fix.
    pub fn validate(&self) -> Result<(), String> {
        for severity in Severity::ALL {
            for (field, value) in fields(self.targets(severity)) {
                if value.is_zero() {
                    return Err(format!(
                        "sla.{severity}.{field} is zero; give a positive duration such as \"15m\""
                    ));
                }
            }
        }
        // Severity::ALL runs from least to most severe.
        for (milder, graver) in Severity::ALL.iter().zip(Severity::ALL.iter().skip(1)) {
            let milder_fields = fields(self.targets(*milder));
            for ((field, graver_value), (_, milder_value)) in
                fields(self.targets(*graver)).into_iter().zip(milder_fields)
            {
                if graver_value > milder_value {
                    return Err(format!(
                        "sla.{graver}.{field} ({}) is longer than sla.{milder}.{field} ({}); \
                         a more severe alert must not wait longer, so shorten the first or \
                         lengthen the second",
                        humantime::format_duration(graver_value),
                        humantime::format_duration(milder_value),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn fields(targets: SlaTargets) -> [(&'static str, Duration); 2] {
    [
        ("ack_within", targets.ack_within),
        ("resolve_within", targets.resolve_within),
    ]
}

/// Which SLA clock is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Waiting to be acknowledged at the current tier.
    Acknowledge,
    /// Acknowledged, waiting to be closed or promoted.
    Resolve,
}

impl std::fmt::Display for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Clock::Acknowledge => "acknowledge",
            Clock::Resolve => "resolve",
        })
    }
}

/// When a group's running clock runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub clock: Clock,
    /// Unix milliseconds; the group is breached from this instant on.
    pub due_ms: i64,
}

/// The running deadline of a group: the acknowledge clock while `New` (from `tier_since_ms`),
/// the resolve clock while `Acknowledged` (from `acknowledged_at_ms`); `None` when closed or
/// promoted.
///
/// An `Acknowledged` state without `acknowledged_at_ms` cannot come out of
/// [`triage::apply`](super::triage::apply); if stored data holds one, the resolve clock starts at
/// `tier_since_ms`, which is earlier and so errs towards an early breach rather than none.
/// Sums past the end of `i64` saturate.
pub fn deadline(policy: &SlaPolicy, state: &GroupState, severity: Severity) -> Option<Deadline> {
    let targets = policy.targets(severity);
    match state.status {
        Status::New => Some(Deadline {
            clock: Clock::Acknowledge,
            due_ms: after(state.tier_since_ms, targets.ack_within),
        }),
        Status::Acknowledged => Some(Deadline {
            clock: Clock::Resolve,
            due_ms: after(
                state.acknowledged_at_ms.unwrap_or(state.tier_since_ms),
                targets.resolve_within,
            ),
        }),
        Status::Closed { .. } | Status::Promoted { .. } => None,
    }
}

/// The running deadline, if it has passed: `Some` when `now_ms >= due_ms`.
pub fn breached(
    policy: &SlaPolicy,
    state: &GroupState,
    severity: Severity,
    now_ms: i64,
) -> Option<Deadline> {
    deadline(policy, state, severity).filter(|due| now_ms >= due.due_ms)
}

fn after(start_ms: i64, within: Duration) -> i64 {
    let within_ms = i64::try_from(within.as_millis()).unwrap_or(i64::MAX);
    start_ms.saturating_add(within_ms)
}

/// One severity's table in TOML: fields left out keep that severity's defaults.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialTargets {
    #[serde(default, with = "humantime_serde")]
    ack_within: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    resolve_within: Option<Duration>,
}

fn targets_over<'de, D: Deserializer<'de>>(
    deserializer: D,
    severity: Severity,
) -> Result<SlaTargets, D::Error> {
    let PartialTargets {
        ack_within,
        resolve_within,
    } = PartialTargets::deserialize(deserializer)?;
    let default = SlaTargets::default_for(severity);
    Ok(SlaTargets {
        ack_within: ack_within.unwrap_or(default.ack_within),
        resolve_within: resolve_within.unwrap_or(default.resolve_within),
    })
}

fn critical<'de, D: Deserializer<'de>>(d: D) -> Result<SlaTargets, D::Error> {
    targets_over(d, Severity::Critical)
}

fn high<'de, D: Deserializer<'de>>(d: D) -> Result<SlaTargets, D::Error> {
    targets_over(d, Severity::High)
}

fn medium<'de, D: Deserializer<'de>>(d: D) -> Result<SlaTargets, D::Error> {
    targets_over(d, Severity::Medium)
}

fn low<'de, D: Deserializer<'de>>(d: D) -> Result<SlaTargets, D::Error> {
    targets_over(d, Severity::Low)
}

fn informational<'de, D: Deserializer<'de>>(d: D) -> Result<SlaTargets, D::Error> {
    targets_over(d, Severity::Informational)
}
