//! Reports waiting to go to the hub: the latest per directive. A long hub outage therefore
//! holds one report per open directive, not every intermediate one (sweeps report often).

use socfed_proto::pb;
use std::collections::BTreeMap;
use std::sync::Mutex;
use tokio::sync::Notify;
use ulid::Ulid;

#[derive(Debug, Default)]
pub struct UpdateQueue {
    pending: Mutex<BTreeMap<Ulid, pb::DirectiveUpdate>>,
    /// Signalled on every push; a push with nobody waiting leaves a permit, so no wake-up is lost.
    pub ready: Notify,
}

impl UpdateQueue {
    /// Queues `update`, replacing an unsent older one for the same directive.
    pub fn push(&self, id: Ulid, update: pb::DirectiveUpdate) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, update);
        self.ready.notify_one();
    }

    pub fn pop(&self) -> Option<pb::DirectiveUpdate> {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_first()
            .map(|(_, update)| update)
    }

    pub fn len(&self) -> usize {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_latest_report_per_directive() {
        let queue = UpdateQueue::default();
        let (a, b) = (Ulid::from_parts(1, 1), Ulid::from_parts(2, 2));
        for detail in ["1 hit", "2 hits", "3 hits"] {
            queue.push(
                a,
                pb::DirectiveUpdate {
                    detail: detail.into(),
                    ..Default::default()
                },
            );
        }
        queue.push(b, pb::DirectiveUpdate::default());
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.pop().map(|u| u.detail), Some("3 hits".to_string()));
        assert!(queue.pop().is_some() && queue.is_empty());
    }
}
