//! The hub event log (`crate::events`) as the webhooks' source: an event's id is its
//! sequence (decimal, as the API stream's SSE `id:`), its kind the config's name of the log's
//! kind ([`kind_name`]), its `data` exactly the JSON `/api/v1/events` carries
//! (`EventJson`), so a receiver of either sees one shape.
//!
//! TLP:RED: a sink is an integration outside the hub, which the RED rule (named members only)
//! cannot follow; an event about an incident marked RED when it happened or when it is read
//! here (a hunt's events: the incidents its hunt was started from or attached to,
//! `crate::events::incidents_of`), or about an incident no longer stored (its marking is
//! unknown), is withheld
//! (`socfed_runtime::webhook::WITHHELD`): no sink is sent it, and each cursor moves past it.

use crate::events::{EventJson, EventKind, EventLog, HubEvent};
use crate::store::StoreError;
use socfed_proto::vocab::Tlp;
use socfed_runtime::webhook::{Event, EventSource, SourceError, WITHHELD};

/// The config's name of an event's kind (one of `super::KINDS`).
pub fn kind_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::IncidentCreated { .. } => "incident-created",
        EventKind::IncidentChanged { .. } => "incident-changed",
        EventKind::DirectiveFailed { .. } => "directive-failed",
        EventKind::HuntHit { .. } => "hunt-hit",
        EventKind::NoteAdded { .. } => "note-added",
    }
}

fn store_error(e: StoreError) -> SourceError {
    SourceError(e.to_string())
}

/// The durable part of the hub event log, for the sinks.
pub struct HubEventSource {
    pub log: EventLog,
}

impl HubEventSource {
    /// Whether `event` may leave the hub: not about an incident that is or was TLP:RED, nor
    /// about one whose marking is unknown.
    fn may_leave(&self, event: &HubEvent) -> Result<bool, SourceError> {
        let red = Tlp::Red.as_str();
        let recorded_red = match &event.kind {
            EventKind::IncidentCreated { tlp, .. } | EventKind::IncidentChanged { tlp, .. } => {
                tlp == red
            }
            // A TLP:RED note is withheld like a TLP:RED incident's events.
            EventKind::NoteAdded { tlp, .. } => tlp == red,
            EventKind::DirectiveFailed { .. } | EventKind::HuntHit { .. } => false,
        };
        if recorded_red {
            return Ok(false);
        }
        // The same incidents as the event stream's rule (`EventLog::visible`): a hunt's events
        // are its incidents', the one it was attached to included.
        let store = self.log.store();
        for id in crate::events::incidents_of(store, event).map_err(store_error)? {
            let record = store.incident(id).map_err(store_error)?;
            if record.is_none_or(|r| r.tlp() == Tlp::Red) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn event(&self, seq: u64, event: &HubEvent) -> Result<Event, SourceError> {
        if !self.may_leave(event)? {
            return Ok(Event {
                id: seq.to_string(),
                kind: WITHHELD.into(),
                at_ms: event.at_ms,
                data: serde_json::Value::Null,
            });
        }
        let data = serde_json::to_value(EventJson::of(seq, event))
            .map_err(|e| SourceError(format!("event {seq}: {e}")))?;
        Ok(Event {
            id: seq.to_string(),
            kind: kind_name(&event.kind).into(),
            at_ms: event.at_ms,
            data,
        })
    }
}

/// A cursor as a sequence: `""` is before the first event.
fn parse_cursor(cursor: Option<&str>) -> Result<u64, SourceError> {
    match cursor {
        None | Some("") => Ok(0),
        Some(raw) => raw
            .parse()
            .map_err(|_| SourceError(format!("webhook cursor {raw:?} is not an event sequence"))),
    }
}

impl EventSource for HubEventSource {
    fn after(&self, cursor: Option<&str>, limit: usize) -> Result<Vec<Event>, SourceError> {
        let after = parse_cursor(cursor)?;
        let page = self
            .log
            .read_after_blocking(after, limit)
            .map_err(store_error)?;
        if let Some((first, _)) = page.first() {
            // Sequences have no holes but the pruned ones: a cursor the prune job passed
            // continues from the oldest kept event, and the loss is said.
            if *first > after.saturating_add(1)
                && self.log.store().oldest_event().map_err(store_error)? == Some(*first)
            {
                tracing::warn!(
                    cursor = after,
                    resumed_at = *first,
                    missed = *first - after - 1,
                    "webhook cursor older than the oldest kept event ([events] retention or max_events pruned them before they were sent); continuing from the oldest"
                );
            }
        }
        page.iter()
            .map(|(seq, event)| self.event(*seq, event))
            .collect()
    }

    fn newest(&self) -> Result<Option<String>, SourceError> {
        Ok(match self.log.last() {
            0 => None,
            seq => Some(seq.to_string()),
        })
    }
}
