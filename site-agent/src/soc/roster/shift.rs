//! Weekly shifts in a time zone (`ShiftSpec`): parsing, the canonical string form, and the
//! exact instants of each occurrence, resolved through the tz database.

use jiff::SignedDuration;
use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};

use super::RosterError;

/// Minutes in a civil day; an end of `24:00` is stored as this value.
const DAY_MINUTES: u16 = 24 * 60;

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A weekly shift in a time zone, e.g. `"mon-fri 08:00-16:00 Europe/Paris"`,
/// `"sat,sun 00:00-24:00 UTC"`, `"mon-sun 22:00-06:00 Asia/Tokyo"`.
///
/// - Days: `mon`..`sun` (case-insensitive), ranges `mon-fri` (a range may wrap: `fri-mon`),
///   comma lists `sat,sun`, or a mix `mon,wed-fri`. The days are a set: order and repeats do
///   not matter, and the string form lists them Monday first.
/// - Times: `HH:MM` wall-clock times in the shift's zone; `24:00` is accepted as an end and means
///   the end of the day. When `end <= start` the shift crosses midnight: it starts on the listed
///   day and ends on the next one (so `08:00-08:00` is a 24-hour shift).
/// - Time zone: an IANA name (`Europe/Paris`, `UTC`), stored under its canonical spelling.
///
/// Wall-clock times are turned into instants with the zone's rules of that very day, so a
/// 22:00-06:00 night in Paris lasts 7 hours when clocks go forward and 9 when they go back. A
/// wall time that falls in a DST gap (it never shows on the clocks) resolves to the instant of
/// the jump; one that falls in a fold (it shows twice) resolves to its first showing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShiftSpec {
    /// Bit `i` set when the shift starts on the weekday `i` days after Monday.
    days: u8,
    /// Start, in minutes after local midnight: `0..1440`.
    start: u16,
    /// End, in minutes after local midnight: `0..=1440`.
    end: u16,
    /// Canonical IANA name of the time zone.
    tz: String,
}

impl ShiftSpec {
    /// The days the shift starts on, Monday first.
    pub fn days(&self) -> Vec<Weekday> {
        (0..7u8)
            .filter(|i| self.days & (1 << i) != 0)
            .filter_map(|i| Weekday::from_monday_zero_offset(i as i8).ok())
            .collect()
    }

    /// The IANA name of the shift's time zone.
    pub fn tz_name(&self) -> &str {
        &self.tz
    }

    /// Whether the shift crosses local midnight (its end is on the day after its start).
    pub fn crosses_midnight(&self) -> bool {
        self.end <= self.start
    }

    /// Whether someone on this shift is on duty at `at_ms` (Unix milliseconds). An occurrence
    /// covers `[start, end)`.
    pub fn covers(&self, at_ms: i64) -> bool {
        !self.occurrences(at_ms, at_ms.saturating_add(1)).is_empty()
    }

    /// The occurrences `[start_ms, end_ms)` of this shift that overlap `[from_ms, to_ms)`, sorted
    /// and not clipped to the window. Empty when `from_ms >= to_ms`.
    ///
    /// Cost is linear in the number of days in the window.
    pub fn occurrences(&self, from_ms: i64, to_ms: i64) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        if from_ms >= to_ms {
            return out;
        }
        let Ok(tz) = TimeZone::get(&self.tz) else {
            return out;
        };
        // An occurrence that started up to two local days before `from_ms` may still run
        // (a night shift from the day before; a fold spanning midnight), and one starting on
        // the local day after `to_ms` may start before it (a fold spanning midnight).
        let (Some(first), Some(last)) = (local_date(&tz, from_ms), local_date(&tz, to_ms)) else {
            return out;
        };
        let mut day = first.saturating_sub(SignedDuration::from_hours(48));
        let last = last.saturating_add(SignedDuration::from_hours(24));
        while day <= last {
            if self.starts_on(day.weekday())
                && let Some((start, end)) = self.occurrence_on(&tz, day)
                && start < to_ms
                && end > from_ms
            {
                out.push((start, end));
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        out
    }

    fn starts_on(&self, day: Weekday) -> bool {
        self.days & (1 << day.to_monday_zero_offset()) != 0
    }

    /// The occurrence starting on the local date `day`, if it is representable and not empty
    /// (a shift lying wholly in a DST gap is empty).
    fn occurrence_on(&self, tz: &TimeZone, day: Date) -> Option<(i64, i64)> {
        let start = instant(tz, day.to_datetime(time_of(self.start)?))?;
        let end_day = if self.end == DAY_MINUTES || self.crosses_midnight() {
            day.tomorrow().ok()?
        } else {
            day
        };
        let end = instant(tz, end_day.to_datetime(time_of(self.end % DAY_MINUTES)?))?;
        (start < end).then_some((start, end))
    }
}

/// The local date in `tz` at `at_ms`, clamped to the range jiff represents.
pub(super) fn local_date(tz: &TimeZone, at_ms: i64) -> Option<Date> {
    let min = Timestamp::MIN.as_millisecond();
    let max = Timestamp::MAX.as_millisecond();
    let ts = Timestamp::from_millisecond(at_ms.clamp(min, max)).ok()?;
    Some(tz.to_datetime(ts).date())
}

/// The instant (Unix milliseconds) of a wall-clock time in `tz`. This mapping never goes
/// backwards as the wall time advances: a time in a gap resolves to the instant of the jump, a
/// time in a fold to its first showing.
pub(super) fn instant(tz: &TimeZone, dt: DateTime) -> Option<i64> {
    let ambiguous = tz.to_ambiguous_timestamp(dt);
    let ts = match ambiguous.offset() {
        AmbiguousOffset::Gap { .. } => {
            // `earlier` lies before the jump (the wall time read with the offset after it).
            let before_jump = ambiguous.earlier().ok()?;
            match tz.following(before_jump).next() {
                Some(transition) => transition.timestamp(),
                None => ambiguous.later().ok()?,
            }
        }
        _ => ambiguous.earlier().ok()?,
    };
    Some(ts.as_millisecond())
}

fn time_of(minutes: u16) -> Option<Time> {
    Time::new((minutes / 60) as i8, (minutes % 60) as i8, 0, 0).ok()
}

fn parse_day(name: &str) -> Result<u8, RosterError> {
    let lower = name.to_ascii_lowercase();
    DAY_NAMES
        .iter()
        .position(|d| *d == lower)
        .map(|i| i as u8)
        .ok_or_else(|| RosterError::BadDay(name.to_string()))
}

/// A comma list of days and day ranges, as a bit set (bit 0 = Monday).
fn parse_days(text: &str) -> Result<u8, RosterError> {
    let mut mask = 0u8;
    for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        match item.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (parse_day(from)?, parse_day(to)?);
                let mut day = from;
                loop {
                    mask |= 1 << day;
                    if day == to {
                        break;
                    }
                    day = (day + 1) % 7;
                }
            }
            None => mask |= 1 << parse_day(item)?,
        }
    }
    if mask == 0 {
        return Err(RosterError::EmptyDays);
    }
    Ok(mask)
}

/// `HH:MM` (hour of one or two digits) as minutes after midnight; `24:00` only when `is_end`.
fn parse_time(text: &str, is_end: bool) -> Result<u16, RosterError> {
    let bad = || RosterError::BadTime(text.to_string());
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || h.len() > 2 || !digits(m) || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    match (h, m) {
        (0..=23, 0..=59) => Ok(h * 60 + m),
        (24, 0) if is_end => Ok(DAY_MINUTES),
        _ => Err(bad()),
    }
}

fn looks_like_times(token: &str) -> bool {
    token.contains(':')
}

impl std::str::FromStr for ShiftSpec {
    type Err = RosterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let tokens: Vec<&str> = s.split_whitespace().collect();
        let (days, times, tz) = match tokens.as_slice() {
            [days, times, tz] => (*days, *times, *tz),
            [times, _] if looks_like_times(times) => return Err(RosterError::EmptyDays),
            _ => return Err(RosterError::ShiftFormat(s.to_string())),
        };
        let days = parse_days(days)?;
        let (start, end) = times
            .split_once('-')
            .ok_or_else(|| RosterError::BadTimeRange(times.to_string()))?;
        let (start, end) = (parse_time(start, false)?, parse_time(end, true)?);
        let zone = TimeZone::get(tz).map_err(|_| RosterError::UnknownTimeZone(tz.to_string()))?;
        let tz = zone.iana_name().unwrap_or(tz).to_string();
        Ok(ShiftSpec {
            days,
            start,
            end,
            tz,
        })
    }
}

impl std::fmt::Display for ShiftSpec {
    /// The canonical form: days Monday first, runs of three or more days as ranges
    /// (`mon-fri`, `mon,wed-sun`, `sat,sun`), two-digit times, the canonical zone name.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        let mut i = 0usize;
        while i < 7 {
            if self.days & (1 << i) == 0 {
                i += 1;
                continue;
            }
            let mut j = i;
            while j + 1 < 7 && self.days & (1 << (j + 1)) != 0 {
                j += 1;
            }
            match j - i {
                0 => parts.push(DAY_NAMES[i].to_string()),
                1 => parts.push(format!("{},{}", DAY_NAMES[i], DAY_NAMES[j])),
                _ => parts.push(format!("{}-{}", DAY_NAMES[i], DAY_NAMES[j])),
            }
            i = j + 1;
        }
        write!(
            f,
            "{} {:02}:{:02}-{:02}:{:02} {}",
            parts.join(","),
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60,
            self.tz
        )
    }
}

impl TryFrom<String> for ShiftSpec {
    type Error = RosterError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ShiftSpec> for String {
    fn from(spec: ShiftSpec) -> String {
        spec.to_string()
    }
}
