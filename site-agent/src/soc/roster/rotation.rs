//! Job rotation: members take turns on SIRT duty, period after period, everyone else on Tier 1
//! monitoring.

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

use super::RosterError;
use super::shift::{instant, local_date};

/// A job rotation. Periods of `period_days` days start at local midnight of `starts_on` in `tz`
/// (period 0), then every `period_days` local days; periods before `starts_on` have negative
/// numbers. In period `k` the `sirt_seats` members starting at index `(k * sirt_seats) mod len`
/// (wrapping around the list) are on [`Duty::SirtDuty`], everyone else on
/// [`Duty::Tier1Monitoring`]. A period boundary is a wall-clock midnight, so a period that
/// contains a DST change is an hour shorter or longer than `period_days * 24` hours.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rotation {
    /// Operator identity names, in rotation order.
    pub members: Vec<String>,
    pub period_days: u32,
    pub starts_on: jiff::civil::Date,
    /// IANA time zone name of the period boundaries.
    pub tz: String,
    pub sirt_seats: u32,
}

/// What a rotation member does during a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Duty {
    Tier1Monitoring,
    SirtDuty,
}

/// The assignment of a rotation now and in the next period, and when it changes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DutyView {
    /// Every member with their duty in the current period, in rotation order.
    pub now: Vec<(String, Duty)>,
    /// Every member with their duty in the next period, in rotation order.
    pub next: Vec<(String, Duty)>,
    /// Start of the next period (Unix milliseconds); `i64::MAX` when there is none.
    pub changes_at_ms: i64,
}

impl Rotation {
    /// Checks the rotation: at least one member, no empty or repeated name, a period of at
    /// least one day, no more SIRT seats than members (zero seats is allowed), a known zone.
    pub fn validate(&self) -> Result<(), RosterError> {
        if self.members.is_empty() {
            return Err(RosterError::NoMembers);
        }
        for (i, member) in self.members.iter().enumerate() {
            if member.trim().is_empty() {
                return Err(RosterError::EmptyMember);
            }
            if self.members[..i].contains(member) {
                return Err(RosterError::DuplicateMember(member.clone()));
            }
        }
        if self.period_days == 0 {
            return Err(RosterError::ZeroPeriod);
        }
        if self.sirt_seats as usize > self.members.len() {
            return Err(RosterError::TooManySirtSeats {
                seats: self.sirt_seats,
                members: self.members.len(),
            });
        }
        TimeZone::get(&self.tz).map_err(|_| RosterError::UnknownTimeZone(self.tz.clone()))?;
        Ok(())
    }

    /// The duty of `member` at `at_ms`; `None` when `member` is not in the rotation, the
    /// rotation is invalid (see [`Rotation::validate`]), or `at_ms` is out of jiff's range.
    pub fn duty(&self, member: &str, at_ms: i64) -> Option<Duty> {
        let tz = self.checked_tz()?;
        let index = self.members.iter().position(|m| m == member)?;
        let k = self.period_at(&tz, at_ms)?;
        Some(self.duty_of(k, index))
    }

    /// The current and next assignments at `at_ms`. An invalid rotation (see
    /// [`Rotation::validate`]) or an `at_ms` out of jiff's range gives empty lists and
    /// `changes_at_ms == i64::MAX`.
    pub fn view(&self, at_ms: i64) -> DutyView {
        let empty = DutyView {
            now: Vec::new(),
            next: Vec::new(),
            changes_at_ms: i64::MAX,
        };
        let Some(tz) = self.checked_tz() else {
            return empty;
        };
        let Some(k) = self.period_at(&tz, at_ms) else {
            return empty;
        };
        DutyView {
            now: self.assignment(k),
            next: self.assignment(k.saturating_add(1)),
            changes_at_ms: k
                .checked_add(1)
                .and_then(|n| self.period_start(&tz, n))
                .unwrap_or(i64::MAX),
        }
    }

    fn checked_tz(&self) -> Option<TimeZone> {
        self.validate().ok()?;
        TimeZone::get(&self.tz).ok()
    }

    fn assignment(&self, k: i64) -> Vec<(String, Duty)> {
        (0..self.members.len())
            .filter_map(|i| Some((self.members.get(i)?.clone(), self.duty_of(k, i))))
            .collect()
    }

    /// Duty of the member at `index` in period `k` (rotation already validated).
    fn duty_of(&self, k: i64, index: usize) -> Duty {
        let len = self.members.len() as i128;
        if len == 0 {
            return Duty::Tier1Monitoring;
        }
        let first = (i128::from(k) * i128::from(self.sirt_seats)).rem_euclid(len);
        let offset = (index as i128 - first).rem_euclid(len);
        if offset < i128::from(self.sirt_seats) {
            Duty::SirtDuty
        } else {
            Duty::Tier1Monitoring
        }
    }

    /// Start of period `k`: local midnight of `starts_on + k * period_days` days.
    fn period_start(&self, tz: &TimeZone, k: i64) -> Option<i64> {
        let days = k.checked_mul(i64::from(self.period_days))?;
        let day = self
            .starts_on
            .checked_add(Span::new().try_days(days).ok()?)
            .ok()?;
        instant(tz, day.to_datetime(Time::midnight()))
    }

    /// The period containing `at_ms`: floor division of local days since `starts_on`, then
    /// checked against the actual boundary instants.
    fn period_at(&self, tz: &TimeZone, at_ms: i64) -> Option<i64> {
        Timestamp::from_millisecond(at_ms).ok()?;
        let today = local_date(tz, at_ms)?;
        let days = today.duration_since(self.starts_on).as_secs() / 86_400;
        let period = i64::from(self.period_days.max(1));
        let mut k = days.div_euclid(period);
        // The local date gives the period except when midnight itself is folded; settle it on
        // the boundary instants (at most a step either way).
        for _ in 0..2 {
            if self.period_start(tz, k).is_some_and(|start| at_ms < start) {
                k -= 1;
            } else if self
                .period_start(tz, k + 1)
                .is_some_and(|next| at_ms >= next)
            {
                k += 1;
            } else {
                break;
            }
        }
        Some(k)
    }
}
