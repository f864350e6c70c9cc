//! When a library hunt runs: pure functions of its stored due time, its interval and the
//! clock the caller passes.
//!
//! A run is stored in the same unit that moves the due time on, so a hub that restarts
//! finds either the run and the next due time, or neither: it never repeats a run, and a
//! run due while it was down is made at the first pass after the start. Slots missed while
//! the hub was down are not run late one by one: one run covers them, and the next is the
//! first slot of the schedule after it.

use super::LibraryHunt;
use socfed_proto::UnixMillis;

/// The interval in milliseconds (the interval is bounded, so this never saturates in use).
pub fn interval_ms(interval_s: u64) -> i64 {
    i64::try_from(interval_s.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// Whether `hunt` should run at `now`.
pub fn is_due(hunt: &LibraryHunt, now: UnixMillis) -> bool {
    hunt.enabled && hunt.next_due_ms <= now
}

/// The first slot of the schedule (`due`, `due + interval`, ...) strictly after `now`: when
/// the run after one made at `now` is due. Before `due` it is `due` itself.
pub fn next_after(due: UnixMillis, interval_ms: i64, now: UnixMillis) -> UnixMillis {
    if now < due || interval_ms <= 0 {
        return due.max(now.saturating_add(1));
    }
    let behind = now.saturating_sub(due);
    let slots = behind / interval_ms + 1;
    due.saturating_add(slots.saturating_mul(interval_ms))
}
