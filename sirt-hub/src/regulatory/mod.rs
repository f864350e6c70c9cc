//! Regulatory notification clocks of a hub incident: which regimes the incident is flagged
//! under, the deadlines those flags start, the filings recorded against them, and the status of
//! every deadline at a given instant (pending, due soon, overdue, met on time or late).
//!
//! Pure: no I/O and no clock. Every instant is `i64` Unix milliseconds passed in by the caller,
//! so tests run on virtual time and a scheduler can sleep until [`RegulatoryClocks::next_wakeup`].
//! Storage, audit and notification delivery belong to the callers, never to this module.
//!
//! # The rules modelled
//!
//! | flag | clock starts when | deadline | rule |
//! |---|---|---|---|
//! | [`Regime::Gdpr`] | the controller becomes aware of a personal-data breach | notification to the supervisory authority: start + 72 h | GDPR (EU 2016/679) Art. 33(1) |
//! | [`Regime::Nis2`] | the entity becomes aware of a significant incident | early warning: start + 24 h | NIS2 (EU 2022/2555) Art. 23(4)(a) |
//! | | | incident notification: start + 72 h | Art. 23(4)(b) |
//! | | | final report: one calendar month after the incident notification | Art. 23(4)(d) |
//! | [`Regime::SecMaterial`] | the registrant determines the incident is material | Form 8-K Item 1.05: end of the fourth US business day after | Form 8-K General Instruction B.1 |
//!
//! # Choices (the regulations leave these open or this module simplifies them)
//!
//! - **Hour periods are exact durations**: 72 h is 259 200 000 ms after the start, whatever the
//!   time zone or DST. A filing exactly at the due instant is on time; the deadline is overdue
//!   from the next millisecond.
//! - **NIS2 final report**: the month runs from the incident notification as filed when a filing
//!   of [`DeadlineKind::Nis2IncidentNotification`] is recorded, otherwise from that
//!   notification's 72 h deadline. The month is a calendar month on the UTC calendar, same wall
//!   time, the day clamped to the end of a shorter month (notification due 31 January 10:00 UTC
//!   → final report due 28 February 10:00 UTC, 29 February in a leap year). This is the
//!   earliest reading: the end-of-day and next-working-day extensions of Regulation 1182/71 are
//!   not applied, and the intermediate report of Art. 23(4)(c) (on request only) is not modelled.
//! - **SEC business days**: counted on the New York calendar ([`SEC_TIME_ZONE`]). The event date
//!   is the New York date of the determination; the count starts the day after it and skips
//!   Saturdays, Sundays and observed US federal holidays (see [`us_federal_holidays_observed`]),
//!   which also gives Instruction B.1's rule for an event on a non-business day. The deadline is
//!   the last millisecond of the fourth business day, 23:59:59.999 New York time, although
//!   EDGAR dates a Form 8-K submitted after 17:30 to the next business day. Ad hoc federal
//!   closures (days of mourning, executive-order holidays) are not known to this module.
//! - **Warning leads** ([`WarningPolicy`]): a deadline is due soon from `due - lead` through its
//!   due instant. The SEC lead is counted in business days: with a lead of one, the deadline is
//!   due soon once the third business day has ended.
//! - **Filings count from their own instant**: at `now_ms` a filing recorded for a later instant
//!   is not yet taken into account, so replaying history at an earlier `now_ms` shows what was
//!   true then.

mod calendar;
mod kinds;

#[cfg(test)]
mod tests;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use kinds::{DeadlineKind, HOUR_MS, Regime, SEC_BUSINESS_DAYS};

pub use calendar::{
    MAX_SUPPORTED_MS, MIN_SUPPORTED_MS, SEC_TIME_ZONE, is_us_business_day,
    us_federal_holidays_observed,
};

/// A regime the incident is flagged under, with the instant its clock started (awareness for
/// GDPR and NIS2, the materiality determination for the SEC), as given by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flag {
    pub regime: Regime,
    pub started_ms: i64,
}

/// A notification recorded as filed with the authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filing {
    pub kind: DeadlineKind,
    pub at_ms: i64,
}

/// One deadline started by a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub kind: DeadlineKind,
    /// When the regime's clock started (the flag's `started_ms`).
    pub clock_start_ms: i64,
    /// The instant the period runs from: the clock start, or for the NIS2 final report the
    /// incident notification (its filing when recorded, otherwise its deadline).
    pub runs_from_ms: i64,
    /// The last instant at which filing is on time.
    pub due_ms: i64,
}

/// Where a deadline stands at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DeadlineStatus {
    /// Not filed, and the warning lead has not started.
    Pending { due_ms: i64 },
    /// Not filed, within the warning lead, not yet past due.
    DueSoon { due_ms: i64 },
    /// Not filed and past due by `by_ms` milliseconds.
    Overdue { due_ms: i64, by_ms: i64 },
    /// Filed at `at_ms`; `late` when that was after the due instant.
    Met { at_ms: i64, late: bool },
}

/// How long before each deadline it counts as due soon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WarningPolicy {
    /// Lead before the GDPR 72 h notification; default 12 h.
    #[serde(with = "humantime_serde")]
    pub gdpr_notification: Duration,
    /// Lead before the NIS2 24 h early warning; default 6 h.
    #[serde(with = "humantime_serde")]
    pub nis2_early_warning: Duration,
    /// Lead before the NIS2 72 h incident notification; default 12 h.
    #[serde(with = "humantime_serde")]
    pub nis2_incident_notification: Duration,
    /// Lead before the NIS2 one-month final report; default 7 days.
    #[serde(with = "humantime_serde")]
    pub nis2_final_report: Duration,
    /// Lead before the SEC deadline, in US business days; default 1.
    pub sec_business_days: u32,
}

impl Default for WarningPolicy {
    fn default() -> Self {
        let hours = |h: u64| Duration::from_secs(h * 3600);
        Self {
            gdpr_notification: hours(12),
            nis2_early_warning: hours(6),
            nis2_incident_notification: hours(12),
            nis2_final_report: hours(7 * 24),
            sec_business_days: 1,
        }
    }
}

impl WarningPolicy {
    /// The first instant at which `deadline` counts as due soon (when not filed). May lie before
    /// the clock start when the lead is longer than the period.
    pub fn warn_from_ms(&self, deadline: &Deadline) -> i64 {
        let before_due = |lead: Duration| {
            let lead_ms = i64::try_from(lead.as_millis()).unwrap_or(i64::MAX);
            deadline.due_ms.saturating_sub(lead_ms)
        };
        match deadline.kind {
            DeadlineKind::GdprNotification => before_due(self.gdpr_notification),
            DeadlineKind::Nis2EarlyWarning => before_due(self.nis2_early_warning),
            DeadlineKind::Nis2IncidentNotification => before_due(self.nis2_incident_notification),
            DeadlineKind::Nis2FinalReport => before_due(self.nis2_final_report),
            DeadlineKind::SecForm8K => {
                match SEC_BUSINESS_DAYS.checked_sub(self.sec_business_days) {
                    Some(days) if days > 0 => {
                        calendar::end_of_nth_business_day_after(deadline.clock_start_ms, days)
                            .map_or(deadline.clock_start_ms, |end| end + 1)
                    }
                    _ => deadline.clock_start_ms,
                }
            }
        }
    }
}

/// Why a flag or filing was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegulatoryError {
    #[error(
        "incident is already flagged {regime} with its clock started at {started_ms} ms; a clock start cannot be moved to {requested_ms} ms"
    )]
    AlreadyFlagged {
        regime: Regime,
        started_ms: i64,
        requested_ms: i64,
    },
    #[error("cannot record {kind}: the incident is not flagged {regime}; flag it first")]
    NotFlagged { kind: DeadlineKind, regime: Regime },
    #[error(
        "{kind} is already recorded as filed at {at_ms} ms; cannot record it again at {requested_ms} ms"
    )]
    AlreadyFiled {
        kind: DeadlineKind,
        at_ms: i64,
        requested_ms: i64,
    },
    #[error("{kind} filed at {at_ms} ms would precede the {regime} clock start at {started_ms} ms")]
    FiledBeforeClockStart {
        kind: DeadlineKind,
        regime: Regime,
        at_ms: i64,
        started_ms: i64,
    },
    #[error("instant {at_ms} ms is outside the supported range (1970-01-01 to 9999-01-01 UTC)")]
    OutOfRange { at_ms: i64 },
    #[error("calendar arithmetic failed for {at_ms} ms: {reason}")]
    Calendar { at_ms: i64, reason: String },
    #[error("time zone {name} is missing from the bundled tz database: {reason}")]
    TimeZone { name: &'static str, reason: String },
    #[error("unknown regime {0:?}; expected gdpr, nis2 or sec_material")]
    UnknownRegime(String),
    #[error(
        "unknown deadline {0:?}; expected gdpr_notification, nis2_early_warning, nis2_incident_notification, nis2_final_report or sec_form_8k"
    )]
    UnknownDeadlineKind(String),
}

/// The regulatory flags of one incident and the filings recorded against their deadlines.
///
/// Invariants, kept by [`flag`](Self::flag) and [`record_filing`](Self::record_filing) and
/// re-checked on deserialization: at most one flag per regime and one filing per deadline,
/// every filing belongs to a flagged regime and is not before its clock start, and every
/// instant is in the supported range (so every deadline can be computed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawClocks")]
pub struct RegulatoryClocks {
    flags: Vec<Flag>,
    filings: Vec<Filing>,
}

/// The serialized form, validated into [`RegulatoryClocks`] by replaying it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClocks {
    flags: Vec<Flag>,
    filings: Vec<Filing>,
}

impl TryFrom<RawClocks> for RegulatoryClocks {
    type Error = RegulatoryError;

    fn try_from(raw: RawClocks) -> Result<Self, Self::Error> {
        let RawClocks { flags, filings } = raw;
        let mut clocks = RegulatoryClocks::new();
        for flag in flags {
            clocks.flag(flag.regime, flag.started_ms)?;
        }
        for filing in filings {
            clocks.record_filing(filing.kind, filing.at_ms)?;
        }
        Ok(clocks)
    }
}

impl RegulatoryClocks {
    /// No flags, no filings.
    pub fn new() -> Self {
        Self::default()
    }

    /// The flags, in the order they were set.
    pub fn flags(&self) -> &[Flag] {
        &self.flags
    }

    /// The recorded filings, in the order they were recorded.
    pub fn filings(&self) -> &[Filing] {
        &self.filings
    }

    /// The flag of `regime`, if set.
    pub fn flag_of(&self, regime: Regime) -> Option<Flag> {
        self.flags.iter().copied().find(|f| f.regime == regime)
    }

    /// The filing recorded for `kind`, if any.
    pub fn filing_of(&self, kind: DeadlineKind) -> Option<Filing> {
        self.filings.iter().copied().find(|f| f.kind == kind)
    }

    /// Flags the incident under `regime`, its clock started at `started_ms`. Flagging again
    /// with the same start is a no-op (replays are safe); with another start it is refused.
    pub fn flag(&mut self, regime: Regime, started_ms: i64) -> Result<(), RegulatoryError> {
        if let Some(existing) = self.flag_of(regime) {
            if existing.started_ms == started_ms {
                return Ok(());
            }
            return Err(RegulatoryError::AlreadyFlagged {
                regime,
                started_ms: existing.started_ms,
                requested_ms: started_ms,
            });
        }
        calendar::check_range(started_ms)?;
        let flag = Flag { regime, started_ms };
        // Compute every deadline once so that a flag which is accepted always has them.
        for &kind in regime.deadline_kinds() {
            compute(kind, started_ms, None)?;
        }
        self.flags.push(flag);
        Ok(())
    }

    /// Records that the notification `kind` was filed at `at_ms`. Recording the same filing
    /// again is a no-op; another instant for a filed deadline is refused.
    pub fn record_filing(&mut self, kind: DeadlineKind, at_ms: i64) -> Result<(), RegulatoryError> {
        let regime = kind.regime();
        let flag = self
            .flag_of(regime)
            .ok_or(RegulatoryError::NotFlagged { kind, regime })?;
        if let Some(existing) = self.filing_of(kind) {
            if existing.at_ms == at_ms {
                return Ok(());
            }
            return Err(RegulatoryError::AlreadyFiled {
                kind,
                at_ms: existing.at_ms,
                requested_ms: at_ms,
            });
        }
        calendar::check_range(at_ms)?;
        if at_ms < flag.started_ms {
            return Err(RegulatoryError::FiledBeforeClockStart {
                kind,
                regime,
                at_ms,
                started_ms: flag.started_ms,
            });
        }
        if kind == DeadlineKind::Nis2IncidentNotification {
            // The filing becomes the anchor of the final report: check that it computes.
            compute(DeadlineKind::Nis2FinalReport, flag.started_ms, Some(at_ms))?;
        }
        self.filings.push(Filing { kind, at_ms });
        Ok(())
    }

    /// Every deadline of the set flags, taking every recorded filing into account, ordered by
    /// due instant (then kind).
    pub fn deadlines(&self) -> Vec<Deadline> {
        self.deadlines_as_of(i64::MAX)
    }

    /// The status of every deadline at `now_ms`, ordered as [`deadlines`](Self::deadlines).
    /// Filings recorded for instants after `now_ms` are not yet taken into account.
    pub fn status(&self, now_ms: i64, policy: &WarningPolicy) -> Vec<(Deadline, DeadlineStatus)> {
        self.deadlines_as_of(now_ms)
            .into_iter()
            .map(|d| {
                let status = self.status_of(&d, now_ms, policy);
                (d, status)
            })
            .collect()
    }

    /// Whether every deadline of the flagged regimes is met at `now_ms` by a filing already in
    /// effect: nothing is left to watch (the deadline watch stops reading the incident, until
    /// another regime is flagged).
    pub fn all_met(&self, now_ms: i64) -> bool {
        !self.flags.is_empty()
            && self.filings.iter().all(|f| f.at_ms <= now_ms)
            && self
                .status(now_ms, &WarningPolicy::default())
                .iter()
                .all(|(_, status)| matches!(status, DeadlineStatus::Met { .. }))
    }

    /// Whether the deadline watch still has anything to read here at `now_ms`: some regime is
    /// flagged and some deadline is not met by a recorded filing. A filing recorded a little
    /// ahead of the hub's clock (the skew `regulatory_instant` allows) counts as in effect:
    /// nothing would change the answer before it takes effect but the filing itself.
    pub fn needs_watch(&self, now_ms: i64) -> bool {
        let latest = self.filings.iter().map(|f| f.at_ms).max().unwrap_or(now_ms);
        !self.flags.is_empty() && !self.all_met(now_ms.max(latest))
    }

    /// The first instant after `now_ms` at which some deadline's status changes state (pending
    /// → due soon → overdue, or met when a filing recorded for a later instant takes effect),
    /// so a scheduler can sleep until then. Overdue becomes effective one millisecond after the
    /// due instant. The growth of `by_ms` while overdue is not a change. `None` when nothing
    /// will change any more.
    pub fn next_wakeup(&self, now_ms: i64, policy: &WarningPolicy) -> Option<i64> {
        let deadline_changes = self
            .deadlines_as_of(now_ms)
            .into_iter()
            .filter(|d| self.visible_filing(d.kind, now_ms).is_none())
            .flat_map(|d| [policy.warn_from_ms(&d), d.due_ms.saturating_add(1)]);
        let filings_taking_effect = self.filings.iter().map(|f| f.at_ms);
        deadline_changes
            .chain(filings_taking_effect)
            .filter(|&t| t > now_ms)
            .min()
    }

    fn visible_filing(&self, kind: DeadlineKind, now_ms: i64) -> Option<Filing> {
        self.filing_of(kind).filter(|f| f.at_ms <= now_ms)
    }

    fn deadlines_as_of(&self, now_ms: i64) -> Vec<Deadline> {
        let notified = self
            .visible_filing(DeadlineKind::Nis2IncidentNotification, now_ms)
            .map(|f| f.at_ms);
        let mut out: Vec<Deadline> = self
            .flags
            .iter()
            .flat_map(|flag| {
                flag.regime.deadline_kinds().iter().map(move |&kind| {
                    // `flag` and `record_filing` computed this already, so the fallback is
                    // unreachable; should it ever be reached, the deadline shows as due at the
                    // clock start, loudly overdue rather than silently late.
                    let (runs_from_ms, due_ms) = compute(kind, flag.started_ms, notified)
                        .unwrap_or((flag.started_ms, flag.started_ms));
                    Deadline {
                        kind,
                        clock_start_ms: flag.started_ms,
                        runs_from_ms,
                        due_ms,
                    }
                })
            })
            .collect();
        out.sort_by_key(|d| (d.due_ms, d.kind));
        out
    }

    fn status_of(
        &self,
        deadline: &Deadline,
        now_ms: i64,
        policy: &WarningPolicy,
    ) -> DeadlineStatus {
        let due_ms = deadline.due_ms;
        if let Some(filing) = self.visible_filing(deadline.kind, now_ms) {
            DeadlineStatus::Met {
                at_ms: filing.at_ms,
                late: filing.at_ms > due_ms,
            }
        } else if now_ms > due_ms {
            DeadlineStatus::Overdue {
                due_ms,
                by_ms: now_ms.saturating_sub(due_ms),
            }
        } else if now_ms >= policy.warn_from_ms(deadline) {
            DeadlineStatus::DueSoon { due_ms }
        } else {
            DeadlineStatus::Pending { due_ms }
        }
    }
}

/// `(runs_from_ms, due_ms)` of `kind` for a clock started at `start_ms`; `notified_ms` is the
/// NIS2 incident notification filing, when known.
fn compute(
    kind: DeadlineKind,
    start_ms: i64,
    notified_ms: Option<i64>,
) -> Result<(i64, i64), RegulatoryError> {
    let hours_after = |h: i64| (start_ms, start_ms.saturating_add(h * HOUR_MS));
    Ok(match kind {
        DeadlineKind::GdprNotification | DeadlineKind::Nis2IncidentNotification => hours_after(72),
        DeadlineKind::Nis2EarlyWarning => hours_after(24),
        DeadlineKind::Nis2FinalReport => {
            let anchor = notified_ms.unwrap_or(start_ms.saturating_add(72 * HOUR_MS));
            (anchor, calendar::add_calendar_month_utc(anchor)?)
        }
        DeadlineKind::SecForm8K => (
            start_ms,
            calendar::end_of_nth_business_day_after(start_ms, SEC_BUSINESS_DAYS)?,
        ),
    })
}
