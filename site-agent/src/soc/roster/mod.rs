//! The site roster: who the analysts are, their weekly shifts in their own time zones, who is
//! on shift at an instant, where a tier's coverage has gaps, round-robin assignment among the
//! analysts on shift, and the job rotation between Tier 1 monitoring and SIRT duty.
//!
//! Pure: every time is an argument in Unix milliseconds; wall-clock times are resolved with the
//! bundled tz database, day by day, so DST changes move shift instants exactly.
//!
//! - [`shift`]: [`ShiftSpec`], a weekly shift such as `"mon-fri 08:00-16:00 Europe/Paris"`.
//! - [`rotation`]: [`Rotation`], periods of SIRT duty taken in turn.

pub mod rotation;
pub mod shift;

#[cfg(test)]
mod tests_coverage;
#[cfg(test)]
mod tests_rotation;
#[cfg(test)]
mod tests_shift;

pub use rotation::{Duty, DutyView, Rotation};
pub use shift::ShiftSpec;

use super::{Role, Tier};

/// Why a shift spec or a rotation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RosterError {
    #[error(
        "shift {0:?} is not of the form \"DAYS HH:MM-HH:MM TIME_ZONE\", e.g. \"mon-fri 08:00-16:00 Europe/Paris\""
    )]
    ShiftFormat(String),
    #[error(
        "unknown day {0:?}: days are mon, tue, wed, thu, fri, sat or sun, a range such as mon-fri, or a comma list such as sat,sun"
    )]
    BadDay(String),
    #[error("shift has no days: list at least one day, e.g. mon-fri or sat,sun")]
    EmptyDays,
    #[error("bad shift times {0:?}: expected START-END such as 08:00-16:00 or 22:00-06:00")]
    BadTimeRange(String),
    #[error("bad time {0:?}: expected HH:MM from 00:00 to 23:59, or 24:00 as an end")]
    BadTime(String),
    #[error(
        "unknown time zone {0:?}: expected an IANA name such as Europe/Paris, Asia/Tokyo or UTC"
    )]
    UnknownTimeZone(String),
    #[error("rotation has no members: list at least one operator name")]
    NoMembers,
    #[error("rotation has an empty member name: members are operator identity names")]
    EmptyMember,
    #[error("rotation lists {0:?} more than once: each member appears once")]
    DuplicateMember(String),
    #[error("rotation period is 0 days: a period is at least 1 day")]
    ZeroPeriod,
    #[error(
        "rotation has {seats} SIRT seats for {members} members: seats are at most the member count"
    )]
    TooManySirtSeats { seats: u32, members: usize },
}

/// A person on the site roster.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Analyst {
    /// Operator identity name, as in its certificate.
    pub name: String,
    pub display_name: String,
    pub role: Role,
    pub shifts: Vec<ShiftSpec>,
}

impl Analyst {
    /// Whether any of the analyst's shifts covers `at_ms`.
    pub fn is_on_shift(&self, at_ms: i64) -> bool {
        self.shifts.iter().any(|s| s.covers(at_ms))
    }
}

/// Everyone (any role) on shift at `at_ms`, sorted by name.
pub fn on_shift(analysts: &[Analyst], at_ms: i64) -> Vec<&Analyst> {
    let mut out: Vec<&Analyst> = analysts.iter().filter(|a| a.is_on_shift(at_ms)).collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The analysts whose role is exactly `Role::Analyst(tier)` on shift at `at_ms`, sorted by name.
pub fn on_shift_at_tier(analysts: &[Analyst], tier: Tier, at_ms: i64) -> Vec<&Analyst> {
    let mut out: Vec<&Analyst> = analysts
        .iter()
        .filter(|a| a.role == Role::Analyst(tier) && a.is_on_shift(at_ms))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Intervals `[from, to)` within `[from_ms, to_ms)` when no analyst of `tier` (role exactly
/// `Role::Analyst(tier)`) is on shift: merged, sorted, exact to the millisecond at shift
/// boundaries. Empty when `from_ms >= to_ms`. Cost is linear in the days of the window times
/// the number of shifts: callers bound the window (a week, a month).
pub fn coverage_gaps(
    analysts: &[Analyst],
    tier: Tier,
    from_ms: i64,
    to_ms: i64,
) -> Vec<(i64, i64)> {
    if from_ms >= to_ms {
        return Vec::new();
    }
    let mut covered: Vec<(i64, i64)> = analysts
        .iter()
        .filter(|a| a.role == Role::Analyst(tier))
        .flat_map(|a| a.shifts.iter())
        .flat_map(|s| s.occurrences(from_ms, to_ms))
        .map(|(start, end)| (start.max(from_ms), end.min(to_ms)))
        .collect();
    covered.sort_unstable();
    let mut gaps = Vec::new();
    let mut cursor = from_ms;
    for (start, end) in covered {
        if start > cursor {
            gaps.push((cursor, start));
        }
        cursor = cursor.max(end);
    }
    if cursor < to_ms {
        gaps.push((cursor, to_ms));
    }
    gaps
}

/// Round-robin: the candidate after `last` in name order (wrapping); the first in name order
/// when `last` is `None` or not among the candidates. `None` when there is no candidate.
pub fn next_in_rotation<'a>(candidates: &[&'a Analyst], last: Option<&str>) -> Option<&'a Analyst> {
    let mut sorted: Vec<&'a Analyst> = candidates.to_vec();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let first = sorted.first().copied()?;
    // The first name after the cursor, wrapping; this stays fair when the last assignee
    // has gone off shift (restarting at the first name would favour it).
    match last {
        Some(l) => sorted
            .iter()
            .find(|a| a.name.as_str() > l)
            .copied()
            .or(Some(first)),
        None => Some(first),
    }
}
