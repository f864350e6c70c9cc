//! The agent's outbound event webhooks (`[[webhooks]]`): the durable source is the
//! `notifications` tree, followed in id order (ids only grow: `store/soc.rs`,
//! `put_notification`); each sink's cursor is kept in `settings` (`webhook-cursor/{sink}`) and
//! moved only after a 2xx answer or a give-up, which is audited in the same unit. Delivery
//! itself is `socfed_runtime::webhook`, shared with the hub; `app.rs` calls [`parts`] and
//! `webhook::prepare` right after the store opens, and [`start`] once the SOC service runs.
//!
//! Event kinds: one per notification kind, except that an unassigned group of critical
//! severity (the group's severity when the event is read) is `unassigned-critical`.

use crate::service::Clock;
use crate::soc::notify::{Notification, NotificationKind};
use crate::store::{AgentStore, StoreError};
use serde_json::json;
use socfed_proto::vocab::{Severity, SiteId};
use socfed_runtime::webhook::{Event, EventSource, GaveUp, Ledger, Sink, SourceError};
use std::sync::Arc;
use ulid::Ulid;

/// The event kinds an agent sink may take.
pub const KINDS: &[&str] = &[
    "sla-breach",
    "unassigned-critical",
    "unassigned",
    "escalated-to-sirt",
    "from-hub",
];

fn store_error(e: StoreError) -> SourceError {
    SourceError(e.to_string())
}

/// The `notifications` tree as a source of events.
pub struct NotificationSource {
    pub store: Arc<AgentStore>,
    pub site: SiteId,
}

impl NotificationSource {
    fn event(&self, n: Notification) -> Result<Event, SourceError> {
        let group = match n.group {
            Some(id) => self.store.group(id).map_err(store_error)?,
            None => None,
        };
        let kind = match n.kind {
            NotificationKind::Unassigned
                if group
                    .as_ref()
                    .is_some_and(|g| g.severity == Severity::Critical) =>
            {
                "unassigned-critical"
            }
            other => other.as_str(),
        };
        let group = match (n.group, group) {
            (_, Some(g)) => json!({
                "id": g.id.to_string(),
                "title": g.title,
                "rule_id": g.rule_id,
                "severity": g.severity.as_str(),
                "status": g.state.status.kind().as_str(),
                "tier": g.state.tier.number(),
                "assignee": g.state.assignee,
            }),
            (Some(id), None) => json!({ "id": id.to_string() }),
            (None, None) => serde_json::Value::Null,
        };
        Ok(Event {
            id: n.id.to_string(),
            kind: kind.to_string(),
            at_ms: n.at_ms,
            data: json!({
                "service": "site-agent",
                "site": self.site.to_string(),
                "notification": n.kind.as_str(),
                "message": n.message,
                "group": group,
            }),
        })
    }
}

impl EventSource for NotificationSource {
    fn after(&self, cursor: Option<&str>, limit: usize) -> Result<Vec<Event>, SourceError> {
        let after = match cursor {
            None | Some("") => None,
            Some(id) => Some(
                Ulid::from_string(id)
                    .map_err(|e| SourceError(format!("webhook cursor {id:?}: {e}")))?,
            ),
        };
        let notes = self
            .store
            .notifications_after(after, limit)
            .map_err(store_error)?;
        if notes.is_empty() {
            return Ok(Vec::new());
        }
        // Only what is durable is sent: an empty unit returns once every commit made so far
        // (those read above among them) is flushed.
        self.store
            .unit(|_| Ok::<_, StoreError>(()))
            .map_err(store_error)?;
        notes.into_iter().map(|n| self.event(n)).collect()
    }

    fn newest(&self) -> Result<Option<String>, SourceError> {
        Ok(self
            .store
            .newest_notification()
            .map_err(store_error)?
            .map(|id| id.to_string()))
    }
}

/// The sinks' cursors in the agent store, and give-ups in its audit chain.
pub struct CursorLedger {
    pub store: Arc<AgentStore>,
    pub clock: Arc<dyn Clock>,
}

impl Ledger for CursorLedger {
    fn cursor(&self, sink: &str) -> Result<Option<String>, SourceError> {
        self.store
            .unit(|unit| unit.webhook_cursor(sink))
            .map_err(store_error)
    }

    fn advance(
        &self,
        sink: &str,
        to: &str,
        gave_up: Option<GaveUp<'_>>,
    ) -> Result<(), SourceError> {
        let now = self.clock.now_ms();
        self.store
            .unit(|unit| {
                unit.set_webhook_cursor(sink, to)?;
                if let Some(gave_up) = gave_up {
                    unit.audit(gave_up.audit_draft(sink, now))?;
                }
                Ok::<_, StoreError>(())
            })
            .map_err(store_error)
    }
}

/// The notifications as the webhooks' source, and their cursors' ledger.
pub fn parts(
    store: &Arc<AgentStore>,
    site: &SiteId,
    clock: &Arc<dyn Clock>,
) -> (Arc<NotificationSource>, Arc<CursorLedger>) {
    (
        Arc::new(NotificationSource {
            store: store.clone(),
            site: site.clone(),
        }),
        Arc::new(CursorLedger {
            store: store.clone(),
            clock: clock.clone(),
        }),
    )
}

/// The delivery loops of the configured webhook sinks, over the notifications.
pub fn start(
    sinks: Vec<Sink>,
    source: Arc<NotificationSource>,
    ledger: Arc<CursorLedger>,
    clock: &Arc<dyn Clock>,
    shutdown: &tokio_util::sync::CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>> {
    let clock_for_ages = clock.clone();
    socfed_runtime::webhook::start_all(
        sinks,
        source,
        ledger,
        &socfed_runtime::webhook::LoopSettings {
            poll: std::time::Duration::from_millis(500),
            batch: 64,
            now_ms: Arc::new(move || clock_for_ages.now_ms()),
        },
        shutdown,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::ManualClock;
    use socfed_runtime::config::Durability;

    fn open(dir: &std::path::Path) -> Arc<AgentStore> {
        Arc::new(
            AgentStore::open(
                dir,
                Durability::Flush,
                8 << 20,
                socfed_runtime::audit::ChainKey::from_bytes([5; 32]),
            )
            .expect("open"),
        )
    }

    fn note(id: Ulid, kind: NotificationKind) -> Notification {
        Notification {
            id,
            at_ms: 1_000,
            kind,
            message: "m".into(),
            group: None,
        }
    }

    #[test]
    fn notification_ids_only_grow_so_a_cursor_misses_nothing() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = open(dir.path());
        let source = NotificationSource {
            store: store.clone(),
            site: SiteId::parse("paris").expect("site"),
        };
        // The same millisecond with a smaller random part, in one unit and the next; then a
        // clock that stepped back an hour.
        let (high, low) = (Ulid::from_parts(5_000, 9), Ulid::from_parts(5_000, 1));
        store
            .unit(|unit| {
                unit.put_notification(&note(high, NotificationKind::SlaBreach))?;
                unit.put_notification(&note(low, NotificationKind::Unassigned))
            })
            .expect("unit");
        let cursor = source.newest().expect("newest").expect("some");
        store
            .unit(|unit| {
                unit.put_notification(&note(low, NotificationKind::EscalatedToSirt))?;
                unit.put_notification(&note(Ulid::from_parts(1_000, 0), NotificationKind::FromHub))
            })
            .expect("unit");
        let all = source.after(None, 10).expect("all");
        let kinds: Vec<&str> = all.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["sla-breach", "unassigned", "escalated-to-sirt", "from-hub"]
        );
        assert!(all.windows(2).all(|w| w[0].id < w[1].id), "{all:?}");
        let later = source.after(Some(&cursor), 10).expect("after");
        assert_eq!(later, all[2..].to_vec());
        assert_eq!(source.after(Some(""), 1).expect("first"), all[..1].to_vec());
        assert!(source.after(Some("not-an-id"), 1).is_err());
        // Without a stored group, an unassigned notification is not a critical one.
        assert_eq!(all[1].data["group"], serde_json::Value::Null);
    }

    #[test]
    fn the_cursor_is_kept_per_sink_and_a_give_up_is_audited_with_it() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = open(dir.path());
        let ledger = CursorLedger {
            store: store.clone(),
            clock: Arc::new(ManualClock::new(1_000)),
        };
        assert_eq!(ledger.cursor("siem").expect("cursor"), None);
        ledger.advance("siem", "", None).expect("advance");
        assert_eq!(ledger.cursor("siem").expect("cursor").as_deref(), Some(""));
        let before = store.verify_audit().expect("audit").entries;
        let event = Event {
            id: Ulid::from_parts(7, 7).to_string(),
            kind: "sla-breach".into(),
            at_ms: 7,
            data: serde_json::Value::Null,
        };
        let gave_up = GaveUp {
            event: &event,
            attempts: 3,
            last_error: "HTTP 500",
        };
        ledger
            .advance("siem", &event.id, Some(gave_up))
            .expect("advance");
        assert_eq!(
            ledger.cursor("siem").expect("cursor"),
            Some(event.id.clone())
        );
        assert_eq!(ledger.cursor("chat").expect("cursor"), None);
        let report = store.verify_audit().expect("audit");
        assert_eq!((report.entries, report.problem), (before + 1, None));
    }
}
