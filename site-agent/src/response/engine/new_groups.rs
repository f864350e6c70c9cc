//! New alert groups handed from intake to the sweeps that watch for them, in bounded memory.
//!
//! Intake commits far faster than a watching sweep can read groups back, so a queue of every
//! commit's groups would grow without bound while sweeps are slow. Instead the ids are
//! coalesced into one set (a group touched by ten commits is matched once), taken whole by
//! the watcher; past [`MAX_PENDING`] ids the set is dropped and a rescan asked for: the
//! watcher then searches the stored alerts again through the indicator index, which finds
//! every group the dropped ids named. Nothing is recorded while no sweep watches, so a sweep
//! that starts watching asks for a rescan too: it covers what arrived between its search of
//! the stored alerts and the moment it joined the watchers.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;
use ulid::Ulid;

/// Group ids held for the watcher at most (16 bytes each: about 1 MiB).
pub const MAX_PENDING: usize = 65_536;

/// What the watcher takes in one go.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    /// These groups are new or changed since the last take.
    Groups(Vec<Ulid>),
    /// More changed than fit, or a sweep just started watching: search the stored alerts
    /// again.
    Rescan,
}

#[derive(Default)]
struct Pending {
    ids: BTreeSet<Ulid>,
    rescan: bool,
}

#[derive(Default)]
pub struct NewGroups {
    pending: Mutex<Pending>,
    ready: Notify,
    /// Set by the engine while any sweep watches.
    watching: AtomicBool,
}

impl NewGroups {
    pub fn set_watching(&self, watching: bool) {
        self.watching.store(watching, Ordering::Release);
    }

    /// Records groups intake made durable; a no-op while no sweep watches.
    pub fn record(&self, ids: &[Ulid]) {
        if ids.is_empty() || !self.watching.load(Ordering::Acquire) {
            return;
        }
        {
            let mut pending = self.lock();
            if !pending.rescan {
                pending.ids.extend(ids.iter().copied());
                if pending.ids.len() > MAX_PENDING {
                    pending.ids = BTreeSet::new();
                    pending.rescan = true;
                    metrics::counter!("socfed_agent_sweep_overflows_total").increment(1);
                }
            }
        }
        self.ready.notify_one();
    }

    /// Asks the watcher for one search of the stored alerts (a sweep started watching).
    pub fn request_rescan(&self) {
        let mut pending = self.lock();
        pending.ids = BTreeSet::new();
        pending.rescan = true;
        drop(pending);
        self.ready.notify_one();
    }

    /// Waits until something was recorded, then takes all of it.
    pub async fn next(&self) -> Taken {
        loop {
            if let Some(taken) = self.take() {
                return taken;
            }
            self.ready.notified().await;
        }
    }

    /// Takes what is recorded, if anything.
    pub fn take(&self) -> Option<Taken> {
        let mut pending = self.lock();
        if std::mem::take(&mut pending.rescan) {
            pending.ids.clear();
            return Some(Taken::Rescan);
        }
        if pending.ids.is_empty() {
            return None;
        }
        Some(Taken::Groups(
            std::mem::take(&mut pending.ids).into_iter().collect(),
        ))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(range: std::ops::Range<u64>) -> Vec<Ulid> {
        range.map(|n| Ulid::from_parts(n, 0)).collect()
    }

    #[test]
    fn nothing_is_kept_while_no_sweep_watches() {
        let queue = NewGroups::default();
        queue.record(&ids(0..10));
        assert_eq!(queue.take(), None);
    }

    #[test]
    fn repeats_coalesce_and_a_flood_becomes_one_overflow_in_bounded_memory() {
        let queue = NewGroups::default();
        queue.set_watching(true);
        queue.record(&ids(0..3));
        queue.record(&ids(1..4));
        assert_eq!(queue.take(), Some(Taken::Groups(ids(0..4))));
        assert_eq!(queue.take(), None);
        for start in (0..(MAX_PENDING as u64 * 3)).step_by(1_000) {
            queue.record(&ids(start..start + 1_000));
            assert!(queue.lock().ids.len() <= MAX_PENDING);
        }
        assert_eq!(queue.take(), Some(Taken::Rescan));
        assert_eq!(queue.take(), None);
    }
}
