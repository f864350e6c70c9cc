//! How long the hub keeps finished directives, and which ones a prune pass removes.
//!
//! A directive whose site reported a final state (succeeded, failed, refused, expired,
//! interrupted, dry run) changes no more; past the retention it is removed with its index
//! entries. What an incident needs of it stays elsewhere: the timeline lines written as it
//! advanced and the audit chain's records are not touched. A hunt's sweeps are kept: a hunt
//! reads its per-site progress and hit counts from them (`hunt::SiteProgress`), so pruning one
//! would change what the hunt shows.
//!
//! The walk goes through the `directives` tree in id order. Ids are ULIDs made when the hub
//! issues the directive, so id order is issue-time order, and no directive issued after the
//! cutoff can have finished before it: the walk stops at the first such id and never reads
//! the newer part of the tree. Old directives that stay (not final yet, a hunt's sweep) are
//! stepped over, so one pass reads at most [`SCAN_PER_ITEM`] records per writer item.

use super::directive::{DirectiveRecord, KIND_SWEEP};
use socfed_proto::UnixMillis;
use std::time::Duration;
use ulid::Ulid;

/// How long a finished directive is kept by default.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);
/// The shortest retention accepted: an operator must have time to read a result.
pub const MIN_RETENTION: Duration = Duration::from_secs(24 * 3600);
/// How often the hub prunes.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(3600);
/// Directives one writer item removes at most: one bounded unit of work, so a backlog is
/// removed in several units with other writes between them.
pub const PRUNE_PER_ITEM: usize = 1000;
/// Directives one writer item reads at most (removed or stepped over).
pub const SCAN_PER_ITEM: usize = 4 * PRUNE_PER_ITEM;

/// Directives finished at or before this time may go.
pub fn cutoff(now: UnixMillis, retention_ms: i64) -> UnixMillis {
    now.saturating_sub(retention_ms)
}

/// Issued after `cutoff`, by its id: it cannot have finished before it.
pub fn issued_after(id: Ulid, cutoff: UnixMillis) -> bool {
    i64::try_from(id.timestamp_ms()).unwrap_or(i64::MAX) > cutoff
}

/// Final, finished at or before `cutoff` (a final directive's last update is when it became
/// final: `DirectiveRecord::apply` changes nothing after), and not a sweep a hunt reads.
pub fn prunable(d: &DirectiveRecord, cutoff: UnixMillis) -> bool {
    d.state.is_final() && d.updated_at_ms <= cutoff && !(d.kind == KIND_SWEEP && d.hunt.is_some())
}

/// What one step of the walk removes, and where the next step starts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    pub prune: Vec<Ulid>,
    /// `None`: the pass is done (it reached the cutoff or the end of the tree).
    pub resume_from: Option<Ulid>,
}

/// Chooses from `window`, directives in id order from where the walk stands; `next` is the
/// id after the window when the tree holds more. At most `max_prune` are chosen.
pub fn select(
    window: &[DirectiveRecord],
    next: Option<Ulid>,
    cutoff: UnixMillis,
    max_prune: usize,
) -> Selection {
    let mut prune = Vec::new();
    for d in window {
        if issued_after(d.id, cutoff) {
            return Selection {
                prune,
                resume_from: None,
            };
        }
        if prune.len() == max_prune {
            return Selection {
                prune,
                resume_from: Some(d.id),
            };
        }
        if prunable(d, cutoff) {
            prune.push(d.id);
        }
    }
    Selection {
        prune,
        resume_from: next.filter(|id| !issued_after(*id, cutoff)),
    }
}
