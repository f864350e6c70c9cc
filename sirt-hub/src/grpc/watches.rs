//! How many watch streams (`WatchIncidents`, `WatchEvents`, `/api/v1/events`) each caller
//! holds open: each one is a task and a subscription on the hub, so one certificate or API
//! token must not open thousands of them. A slot is
//! taken when a watch opens and given back when its task ends (the client left, the stream
//! failed or the hub stops).

use crate::error::HubError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug)]
pub struct WatchSlots {
    per_operator: usize,
    held: Mutex<HashMap<String, usize>>,
}

/// One open watch; dropping it gives the slot back.
#[derive(Debug)]
pub struct WatchSlot {
    slots: Arc<WatchSlots>,
    who: String,
}

impl WatchSlots {
    pub fn new(per_operator: usize) -> Arc<Self> {
        Arc::new(Self {
            per_operator,
            held: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for `who` (the caller's certificate identity, or an API token), or
    /// `Exhausted` (RESOURCE_EXHAUSTED, HTTP 429) saying what to do.
    pub fn take(self: &Arc<Self>, who: &str) -> Result<WatchSlot, HubError> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let open = held.entry(who.to_string()).or_default();
        if *open >= self.per_operator {
            metrics::counter!("socfed_hub_watches_refused_total").increment(1);
            return Err(HubError::exhausted(format!(
                "{who} already has {open} watches open, the most one operator may hold (limits.max_watches_per_operator); close one (end an `incidents watch` or an event stream) and retry"
            )));
        }
        *open += 1;
        Ok(WatchSlot {
            slots: self.clone(),
            who: who.to_string(),
        })
    }
}

impl Drop for WatchSlot {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(open) = held.get_mut(&self.who) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                held.remove(&self.who);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_operator_has_its_own_bounded_count_and_closing_frees_a_slot() {
        let slots = super::WatchSlots::new(2);
        let a1 = slots.take("spiffe://x/operator/a").expect("first");
        let _a2 = slots.take("spiffe://x/operator/a").expect("second");
        let refused = tonic::Status::from(slots.take("spiffe://x/operator/a").expect_err("third"));
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        assert!(
            refused.message().contains("max_watches_per_operator"),
            "{}",
            refused.message()
        );
        let _b = slots
            .take("spiffe://x/operator/b")
            .expect("another operator is not affected");
        drop(a1);
        let _a3 = slots
            .take("spiffe://x/operator/a")
            .expect("a closed watch frees its slot");
    }
}
