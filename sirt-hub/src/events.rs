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
//! incident now ([`EventLog::visible`], the TLP:RED rule of `crate::access`); a hunt's events
//! follow the incidents its hunt was started from or attached to ([`incidents_of`]); outbound
//! webhooks are sent no event about a RED incident (`crate::webhooks`).

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

/// One line for people (`sirt-hub incidents watch`).
pub fn summary(event: &HubEvent) -> String {
    let about = event
        .incident
        .map(|id| format!("incident {id}"))
        .unwrap_or_else(|| "no incident".into());
    match &event.kind {
        EventKind::IncidentCreated {
            title,
            severity,
            sites,
            ..
        } => format!(
            "{about} created: {severity} {title:?} at {}",
            sites.join(",")
        ),
        EventKind::IncidentChanged {
            phase,
            severity,
            what,
            ..
        } => format!("{about} changed ({phase}, {severity}): {what}"),
        EventKind::DirectiveFailed {
            directive,
            site,
            directive_kind,
            state,
            detail,
        } => {
            format!("{about}: directive {directive} ({directive_kind}) {state} at {site}: {detail}")
        }
        EventKind::HuntHit {
            hunt, site, hits, ..
        } => format!("{about}: hunt {hunt} found {hits} hits at {site}"),
        EventKind::NoteAdded { author, tlp, .. } if tlp.is_empty() => {
            format!("{about}: note by {author}")
        }
        EventKind::NoteAdded { author, tlp, .. } => format!("{about}: note by {author} ({tlp})"),
    }
}

/// An event as the HTTP API (`/api/v1/events`) and `WatchEvents` carry it: the sequence,
/// the kind's name, and the kind's fields under `data`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct EventJson {
    pub seq: u64,
    /// `incident_created`, `incident_changed`, `directive_failed`, `hunt_hit` or `note_added`.
    pub kind: String,
    pub at_ms: i64,
    /// The incident's id, if the event is about one.
    pub incident: Option<String>,
    /// The kind's fields (see the kinds in `docs/ARCHITECTURE.md`).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl EventJson {
    pub fn of(seq: u64, event: &HubEvent) -> Self {
        // Externally tagged: `{"kind": {fields}}`; the fields alone go under `data`.
        let data = match serde_json::to_value(&event.kind) {
            Ok(serde_json::Value::Object(map)) => map.into_iter().next().map(|(_, v)| v),
            _ => None,
        };
        Self {
            seq,
            kind: event.kind.name().into(),
            at_ms: event.at_ms,
            incident: event.incident.map(|id| id.to_string()),
            data: data.unwrap_or(serde_json::Value::Null),
        }
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
        let log = self.clone();
        blocking(move || log.read_after_blocking(seq, limit)).await
    }

    /// [`EventLog::read_after`] for a caller already on the blocking pool (the webhooks'
    /// source, `crate::webhooks::source`).
    pub fn read_after_blocking(
        &self,
        seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, HubEvent)>, StoreError> {
        self.store.events_after(seq, self.last(), limit)
    }

    /// The store the log reads (for a blocking-pool caller that also reads incidents).
    pub fn store(&self) -> &Arc<HubStore> {
        &self.store
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

    /// Whether `reader` may see `event` now: an event follows the TLP:RED rule of every
    /// incident whose data it carries ([`incidents_of`]), read at each check (the marking,
    /// the IR lead, the role and a hunt's attachment can change); an event about an incident
    /// no longer stored is shown to nobody, as its marking is unknown.
    pub async fn visible(&self, reader: &Reader, event: &HubEvent) -> Result<bool, StoreError> {
        let (store, event) = (self.store.clone(), event.clone());
        let records = blocking(move || {
            incidents_of(&store, &event)?
                .into_iter()
                .map(|id| store.incident(id))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
        Ok(records
            .iter()
            .all(|r| r.as_ref().is_some_and(|r| reader.can_read(r))))
    }
}

/// The incidents whose data `event` carries: the one it names and, for a hunt's sweep (a hit,
/// a failure), the incidents its hunt was started from or attached to. A standalone hunt's
/// events name no incident, yet its hits become an incident's once it is attached, so they
/// are asked of the hunt at each read, not only at the time of the event.
pub fn incidents_of(store: &HubStore, event: &HubEvent) -> Result<Vec<ulid::Ulid>, StoreError> {
    let hunt = match &event.kind {
        EventKind::HuntHit { hunt, .. } => Some(*hunt),
        EventKind::DirectiveFailed { directive, .. } => {
            store.directive(*directive)?.and_then(|d| d.hunt)
        }
        EventKind::IncidentCreated { .. }
        | EventKind::IncidentChanged { .. }
        | EventKind::NoteAdded { .. } => None,
    };
    let mut ids: Vec<ulid::Ulid> = event.incident.into_iter().collect();
    if let Some(hunt) = hunt {
        ids.extend(store.hunt_incidents(hunt)?.into_iter().flatten());
    }
    Ok(ids)
}

/// Events read per store read by [`EventLog::follow`].
const FOLLOW_PAGE: usize = 256;

impl EventLog {
    /// Sends every durable event after `since` that `reader` may see into `tx`, then each new
    /// one as it becomes durable, in order and once each, until `tx` is closed or the writer
    /// stops. A storage error is sent, then the follow ends. What a transport streams
    /// (`/api/v1/events`, `Operator.WatchEvents`).
    pub async fn follow(
        mut self,
        reader: Reader,
        since: u64,
        tx: tokio::sync::mpsc::Sender<Result<(u64, HubEvent), StoreError>>,
    ) {
        let mut cursor = since;
        loop {
            let page = match self.read_after(cursor, FOLLOW_PAGE).await {
                Ok(page) => page,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            let full = page.len() == FOLLOW_PAGE;
            for (seq, event) in page {
                cursor = seq;
                match self.visible(&reader, &event).await {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
                if tx.send(Ok((seq, event))).await.is_err() {
                    return;
                }
            }
            if full {
                continue;
            }
            tokio::select! {
                () = tx.closed() => return,
                last = self.wait_after(cursor) => if last.is_none() { return },
            }
        }
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
