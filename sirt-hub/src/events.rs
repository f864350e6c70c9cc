//! The hub event log: what happened at the hub, in order, for whoever follows it from outside
//! (the `/api/v1/events` stream, `sirt-hub incidents watch`, outbound webhooks).
//!
//! Every event has a sequence that only grows and is never handed out twice. The single
//! writer appends events in the same store unit as the change they describe
//! (`crate::ingest::apply`), so an event is durable exactly when its change is: never ahead
//! of it, never behind it. Readers see only what is durable: [`EventLog`] reads up to the
//! sequence the writer last announced after a flush, and [`EventLog::wait_after`] waits for
//! the next announcement.
//!
//! Kinds: an incident created, an incident changed (phase, severity, TLP, IR lead, a merge
//! or split, a note on its timeline; one event per incident per unit, in its latest state),
//! a directive a site reported failed or refused, and a hunt sweep that found hits.
//!
//! Retention: the prune job (`crate::pruning`) removes events past `[events] retention` and
//! beyond `[events] max_events`, oldest first; a reader resuming from a pruned sequence gets
//! what is left ([`EventLog::oldest`] says where that starts).
//!
//! Visibility: an event about an incident is shown only to readers who may read that
//! incident now ([`EventLog::visible`], the TLP:RED rule of `crate::access`).

use crate::access::reader::Reader;
use crate::store::{HubStore, StoreError};
use std::sync::Arc;
use tokio::sync::watch;

pub use crate::store::records::{EventKind, HubEvent};

/// The event from an incident a unit created or changed.
pub fn of_incident(created: bool, record: &crate::incident::IncidentRecord) -> HubEvent {
    let phase = record.lifecycle.phase.kind().as_str().to_string();
    let (severity, tlp) = (record.severity().as_str(), record.tlp().as_str());
    let kind = if created {
        EventKind::IncidentCreated {
            title: record.title.clone(),
            phase,
            severity: severity.into(),
            tlp: tlp.into(),
            sites: record
                .sightings
                .iter()
                .map(|s| s.site.as_str().to_string())
                .collect(),
        }
    } else {
        EventKind::IncidentChanged {
            phase,
            severity: severity.into(),
            tlp: tlp.into(),
            ir_lead: record.lifecycle.ir_lead.clone(),
            what: record
                .timeline
                .last()
                .map(|t| t.text.clone())
                .unwrap_or_default(),
        }
    };
    HubEvent {
        at_ms: record.updated_at_ms,
        incident: Some(record.id),
        kind,
    }
}

/// Reads the durable part of the log. Cheap to clone; one per reader.
#[derive(Clone)]
pub struct EventLog {
    store: Arc<HubStore>,
    durable: watch::Receiver<u64>,
}

impl EventLog {
    /// The log of `store`, bounded by the writer's announcements
    /// (`crate::ingest::IngestHandle::durable_events`).
    pub fn new(store: Arc<HubStore>, durable: watch::Receiver<u64>) -> Self {
        Self { store, durable }
    }

    /// The last durable sequence (0: none yet).
    pub fn last(&self) -> u64 {
        *self.durable.borrow()
    }

    /// The oldest sequence still kept, if any.
    pub async fn oldest(&self) -> Result<Option<u64>, StoreError> {
        let store = self.store.clone();
        blocking(move || store.oldest_event()).await
    }

    /// Up to `limit` durable events with a sequence above `seq`, oldest first.
    pub async fn read_after(
        &self,
        seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, HubEvent)>, StoreError> {
        let (store, upto) = (self.store.clone(), self.last());
        blocking(move || store.events_after(seq, upto, limit)).await
    }

    /// Waits until an event above `seq` is durable; returns the last durable sequence, or
    /// `None` once the writer has stopped.
    pub async fn wait_after(&mut self, seq: u64) -> Option<u64> {
        self.durable
            .wait_for(|last| *last > seq)
            .await
            .ok()
            .map(|last| *last)
    }

    /// Whether `reader` may see `event` now: events about an incident follow its TLP:RED
    /// rule, read at each check (the marking, the IR lead and the role can change); an
    /// event about an incident no longer stored is shown to nobody, as its marking is unknown.
    pub async fn visible(&self, reader: &Reader, event: &HubEvent) -> Result<bool, StoreError> {
        let Some(id) = event.incident else {
            return Ok(true);
        };
        let store = self.store.clone();
        let record = blocking(move || store.incident(id)).await?;
        Ok(record.is_some_and(|r| reader.can_read(&r)))
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or(Err(StoreError::Stopped))
}

#[cfg(test)]
#[path = "events_tests.rs"]
pub(crate) mod tests;
