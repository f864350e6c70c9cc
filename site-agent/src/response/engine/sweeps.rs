//! IOC sweeps at the site: stored alerts searched through the indicator index, then new
//! alert groups from intake matched for the sweep's duration.

use super::{MAX_HITS, ResponseEngine};
use crate::response::sweep::{Sweep, merge_hits};
use crate::response::{DirectiveRecord, State};
use crate::store::StoreError;
use socfed_proto::UnixMillis;
use socfed_runtime::terminal::plural;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use ulid::Ulid;

impl ResponseEngine {
    /// Searches stored alerts; then either finishes or starts watching new alerts.
    pub(super) fn sweep_stored(
        &self,
        record: &mut DirectiveRecord,
        sweep: Sweep,
        now: UnixMillis,
    ) -> Result<Option<Sweep>, StoreError> {
        let since = now.saturating_sub(sweep.lookback_ms);
        let mut hits = Vec::new();
        for indicator in &sweep.indicators {
            for group_id in self.store.groups_with_indicator(indicator)? {
                if let Some(group) = self.store.group(group_id)? {
                    merge_hits(&mut hits, sweep.hits_in(&group, since), MAX_HITS);
                }
            }
        }
        record.hits = hits;
        if sweep.duration_ms > 0 {
            record.watch_until_ms = now.saturating_add(sweep.duration_ms);
            let detail = format!(
                "{} in stored alerts; watching new alerts",
                plural(record.hits.len(), "hit", "hits")
            );
            record.set(State::Running, detail, now);
            // Watched only once the record is saved (see `try_receive`).
            return Ok(Some(sweep));
        }
        let detail = format!(
            "{} in stored alerts",
            plural(record.hits.len(), "hit", "hits")
        );
        record.set(State::Succeeded, detail, now);
        Ok(None)
    }

    pub(super) fn finish_sweep(&self, mut record: DirectiveRecord) -> Result<(), StoreError> {
        self.lock_watching().remove(&record.id);
        let detail = format!("{}; watch ended", plural(record.hits.len(), "hit", "hits"));
        record.set(State::Succeeded, detail, self.now());
        self.save(&record, "agent", "", "directive.finished")
    }

    /// New or changed alert groups, from intake: matched against watching sweeps.
    pub fn on_groups(&self, groups: &[Ulid]) -> Result<(), StoreError> {
        let watching: Vec<(Ulid, Sweep)> = self
            .lock_watching()
            .iter()
            .map(|(id, s)| (*id, s.clone()))
            .collect();
        for (id, sweep) in watching {
            let Some(mut record) = self.store.directive(id)? else {
                continue;
            };
            // On received time, whatever intake hands over now arrived during the watch.
            let since = if sweep.by_received {
                UnixMillis::MIN
            } else {
                record.received_at_ms.saturating_sub(sweep.lookback_ms)
            };
            let mut changed = false;
            for group_id in groups {
                if let Some(group) = self.store.group(*group_id)? {
                    changed |= merge_hits(&mut record.hits, sweep.hits_in(&group, since), MAX_HITS);
                }
            }
            if changed {
                record.updated_at_ms = self.now();
                record.detail = format!(
                    "{}; watching new alerts",
                    plural(record.hits.len(), "hit", "hits")
                );
                self.save(&record, "agent", "", "directive.hits")?;
            }
        }
        Ok(())
    }

    /// Matches new alerts against watching sweeps and ends sweeps whose time is up.
    pub async fn watch(
        self: Arc<Self>,
        mut groups: mpsc::UnboundedReceiver<Vec<Ulid>>,
        shutdown: CancellationToken,
    ) {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            let batch = tokio::select! {
                () = shutdown.cancelled() => break,
                batch = groups.recv() => match batch {
                    Some(ids) => Some(ids),
                    None => break,
                },
                _ = tick.tick() => None,
            };
            // Store reads and flushes block: off the async workers, one pass at a time.
            let engine = self.clone();
            let result = tokio::task::spawn_blocking(move || match batch {
                Some(ids) => engine.on_groups(&ids),
                None => engine.end_due_sweeps(),
            })
            .await;
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "sweep bookkeeping failed"),
                Err(e) => tracing::error!(error = %e, "sweep bookkeeping task failed"),
            }
        }
    }

    fn end_due_sweeps(&self) -> Result<(), StoreError> {
        let ids: Vec<Ulid> = self.lock_watching().keys().copied().collect();
        let now = self.now();
        for id in ids {
            match self.store.directive(id)? {
                Some(record) if record.watch_until_ms <= now => self.finish_sweep(record)?,
                Some(_) => {}
                None => {
                    self.lock_watching().remove(&id);
                }
            }
        }
        Ok(())
    }
}
