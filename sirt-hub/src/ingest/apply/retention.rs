//! One step of the directive prune pass (`crate::response::retention`): the writer removes
//! up to [`PRUNE_PER_ITEM`] finished directives past the retention, reading at most
//! [`SCAN_PER_ITEM`] in id order from where the previous step stopped; and one step of the
//! event log's (`crate::events`), up to [`PRUNE_PER_ITEM`] of its oldest events.

use super::Batch;
use crate::response::DirectiveRecord;
use crate::response::retention::{self, PRUNE_PER_ITEM, SCAN_PER_ITEM};
use crate::store::StoreError;
use ulid::Ulid;

/// Prune finished directives older than `retention_ms` at the writer's clock.
#[derive(Debug, Clone)]
pub struct PruneDirectives {
    pub retention_ms: i64,
    /// Where the previous step stopped; `None` starts a pass.
    pub from: Option<Ulid>,
}

/// What one step removed, and where the next one starts (`None`: the pass is done).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    pub removed: usize,
    pub resume_from: Option<Ulid>,
}

impl Batch<'_, '_> {
    pub(super) fn prune_directives(&mut self, p: &PruneDirectives) -> Result<Pruned, StoreError> {
        let cutoff = retention::cutoff(self.now, p.retention_ms);
        // One more than the step reads: it tells whether the tree goes on past the window.
        let mut entries = self.unit.directives_from(p.from, SCAN_PER_ITEM + 1)?;
        let next = entries.get(SCAN_PER_ITEM).map(|(id, _)| *id);
        entries.truncate(SCAN_PER_ITEM);
        // A record that does not decode is stepped over, not fatal: failing here would fail
        // the writer batch the step runs in, and with it every escalation in that batch.
        // `db check` reports the damage; the walk goes on past it.
        let window: Vec<DirectiveRecord> = entries
            .into_iter()
            .filter_map(|(id, record)| {
                record
                    .inspect_err(|e| {
                        tracing::warn!(directive = %id, error = %e, "directive record unreadable; prune steps over it")
                    })
                    .ok()
            })
            .collect();
        let selection = retention::select(&window, next, cutoff, PRUNE_PER_ITEM);
        let chosen: std::collections::HashSet<Ulid> = selection.prune.iter().copied().collect();
        for d in window.iter().filter(|d| chosen.contains(&d.id)) {
            self.unit.remove_directive(d);
        }
        Ok(Pruned {
            removed: selection.prune.len(),
            resume_from: selection.resume_from,
        })
    }
}

/// Prune the event log: events older than `retention_ms` at the writer's clock, and all but
/// the newest `keep`.
#[derive(Debug, Clone)]
pub struct PruneEvents {
    pub retention_ms: i64,
    pub keep: u64,
}

impl Batch<'_, '_> {
    pub(super) fn prune_events(&mut self, p: &PruneEvents) -> Result<Pruned, StoreError> {
        let cutoff = retention::cutoff(self.now, p.retention_ms);
        let removed = self.unit.prune_events(cutoff, p.keep, PRUNE_PER_ITEM)?;
        Ok(Pruned {
            removed,
            // The next step starts from the oldest end again; "more" is all it needs.
            resume_from: (removed == PRUNE_PER_ITEM).then(Ulid::nil),
        })
    }
}
