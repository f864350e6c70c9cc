//! The calendar arithmetic behind the regulatory clocks: calendar months on the UTC calendar and
//! US business days on the New York calendar. Pure: no clock and no I/O; time-zone rules come
//! from jiff's bundled tz database, so every machine gives the same answers.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use super::RegulatoryError;

/// The time zone whose calendar decides SEC business days and the end of a filing day.
pub const SEC_TIME_ZONE: &str = "America/New_York";

/// Earliest instant the clocks accept: 1970-01-01T00:00:00Z.
pub const MIN_SUPPORTED_MS: i64 = 0;

/// First instant the clocks refuse: 9999-01-01T00:00:00Z. Keeps a month and a few business days
/// after any accepted instant inside the range jiff represents.
pub const MAX_SUPPORTED_MS: i64 = 253_370_764_800_000;

/// Refuses instants outside `[MIN_SUPPORTED_MS, MAX_SUPPORTED_MS)`.
pub(super) fn check_range(at_ms: i64) -> Result<(), RegulatoryError> {
    if (MIN_SUPPORTED_MS..MAX_SUPPORTED_MS).contains(&at_ms) {
        Ok(())
    } else {
        Err(RegulatoryError::OutOfRange { at_ms })
    }
}

fn timestamp(at_ms: i64) -> Result<Timestamp, RegulatoryError> {
    check_range(at_ms)?;
    Timestamp::from_millisecond(at_ms).map_err(|e| calendar(at_ms, &e))
}

fn calendar(at_ms: i64, error: &jiff::Error) -> RegulatoryError {
    RegulatoryError::Calendar {
        at_ms,
        reason: error.to_string(),
    }
}

fn new_york() -> Result<TimeZone, RegulatoryError> {
    TimeZone::get(SEC_TIME_ZONE).map_err(|e| RegulatoryError::TimeZone {
        name: SEC_TIME_ZONE,
        reason: e.to_string(),
    })
}

/// The same wall-clock time one calendar month later on the UTC calendar. A day that the next
/// month lacks is clamped to its last day: 31 January → 28 (or 29) February, 31 March → 30 April.
pub(super) fn add_calendar_month_utc(at_ms: i64) -> Result<i64, RegulatoryError> {
    let dt = TimeZone::UTC.to_datetime(timestamp(at_ms)?);
    let later = dt.checked_add(1.month()).map_err(|e| calendar(at_ms, &e))?;
    let zoned = later
        .to_zoned_datetime(TimeZone::UTC)
        .map_err(|e| calendar(at_ms, &e))?;
    Ok(zoned.timestamp().as_millisecond())
}

/// The last millisecond (23:59:59.999 New York time) of the `n`th US business day after the
/// New York calendar date of `at_ms`; `n = 0` is the end of that date itself.
///
/// Counting starts on the day after the event date whatever that date is, which is the Form 8-K
/// rule: an event on a Saturday, Sunday or holiday starts the period on, and includes, the next
/// business day, and that day is also the first business day after the event date.
pub(super) fn end_of_nth_business_day_after(at_ms: i64, n: u32) -> Result<i64, RegulatoryError> {
    let tz = new_york()?;
    let mut day = tz.to_datetime(timestamp(at_ms)?).date();
    let mut counted = 0;
    while counted < n {
        day = day.tomorrow().map_err(|e| calendar(at_ms, &e))?;
        if is_us_business_day(day).map_err(|e| calendar(at_ms, &e))? {
            counted += 1;
        }
    }
    // Midnight always exists in New York (its DST changes happen at 02:00), so the end of a day
    // is one millisecond before the next local midnight, whatever the day's length.
    let next_midnight = day
        .tomorrow()
        .and_then(|d| d.to_zoned_datetime(tz))
        .map_err(|e| calendar(at_ms, &e))?;
    Ok(next_midnight.timestamp().as_millisecond() - 1)
}

/// Whether `day` is a US business day: not a Saturday, a Sunday or an observed federal holiday.
pub fn is_us_business_day(day: Date) -> Result<bool, jiff::Error> {
    if matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) {
        return Ok(false);
    }
    // New Year's Day of the next year may be observed on 31 December of this one.
    let mut holidays = us_federal_holidays_observed(day.year())?;
    if day.month() == 12 && day.day() == 31 && day.year() < 9999 {
        holidays.extend(us_federal_holidays_observed(day.year() + 1)?);
    }
    Ok(!holidays.contains(&day))
}

/// The observed dates of the US federal holidays of `year` (5 U.S.C. 6103), in calendar order.
///
/// Fixed-date holidays falling on a Saturday are observed the Friday before, on a Sunday the
/// Monday after, so New Year's Day of `year` may be observed on 31 December of `year - 1`.
/// Juneteenth counts from 2021, when it became a holiday; the other rules are today's, applied
/// to every year (Martin Luther King Jr. Day, for one, only exists since 1986).
pub fn us_federal_holidays_observed(year: i16) -> Result<Vec<Date>, jiff::Error> {
    let fixed = |month: i8, day: i8| Date::new(year, month, day).and_then(observed);
    let nth = |month: i8, nth: i8, weekday: Weekday| {
        Date::new(year, month, 1).and_then(|d| d.nth_weekday_of_month(nth, weekday))
    };
    let mut days = vec![
        fixed(1, 1)?,                   // New Year's Day
        nth(1, 3, Weekday::Monday)?,    // Birthday of Martin Luther King, Jr.
        nth(2, 3, Weekday::Monday)?,    // Washington's Birthday
        nth(5, -1, Weekday::Monday)?,   // Memorial Day
        fixed(7, 4)?,                   // Independence Day
        nth(9, 1, Weekday::Monday)?,    // Labor Day
        nth(10, 2, Weekday::Monday)?,   // Columbus Day
        fixed(11, 11)?,                 // Veterans Day
        nth(11, 4, Weekday::Thursday)?, // Thanksgiving Day
        fixed(12, 25)?,                 // Christmas Day
    ];
    if year >= 2021 {
        days.push(fixed(6, 19)?); // Juneteenth National Independence Day
    }
    days.sort();
    Ok(days)
}

/// The day a fixed-date holiday is observed: Saturday → Friday before, Sunday → Monday after.
fn observed(day: Date) -> Result<Date, jiff::Error> {
    match day.weekday() {
        Weekday::Saturday => day.yesterday(),
        Weekday::Sunday => day.tomorrow(),
        _ => Ok(day),
    }
}
