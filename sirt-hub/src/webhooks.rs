//! The hub's outbound event webhooks (`[[webhooks]]`): the kinds a sink may take, and the
//! sinks read at start (a missing secret, header or CA file is a configuration error, as at
//! the agent). Delivery is `socfed_runtime::webhook`, shared with the agent.
//!
//! Each sink's cursor is kept in `meta` (`webhook-cursor/{sink}`) and moved through the ingest
//! writer like every hub write (invariant 3), with the audit record of a give-up in the same
//! unit: [`HubLedger`]. Not wired yet: the hub's durable event log (incident created or
//! changed, directive failed, hunt hit), which is the `EventSource`; until it exists,
//! configured sinks are checked and reported, and nothing is sent. Plugging it in, in
//! `app.rs` once the writer runs:
//!
//! 1. an `EventSource` over the log: `after(cursor, limit)` in id order, durable entries only,
//!    each an `Event` of one of [`KINDS`]; `newest()`;
//! 2. `HubLedger::new(store, ingest)` and `socfed_runtime::webhook::prepare(&sinks, source,
//!    ledger)` on the blocking pool (the ledger waits for the writer with `block_on`, which
//!    must not run on a runtime thread), before the listeners open;
//! 3. [`start`]'s body becomes `socfed_runtime::webhook::start_all(sinks, source, ledger,
//!    &settings, &shutdown)` (`settings.now_ms`: the system clock), its handles kept in
//!    `RunningHub` and joined before the writer (they hold an ingest handle).

use crate::ingest::IngestHandle;
use crate::ingest::apply::WebhookCursor;
use crate::service::Commands;
use crate::store::HubStore;
use socfed_runtime::webhook::{GaveUp, Ledger, Sink, SourceError};
use std::sync::Arc;

/// The event kinds a hub sink may take.
pub const KINDS: &[&str] = &[
    "incident-created",
    "incident-changed",
    "directive-failed",
    "hunt-hit",
];

/// Starts the sinks' delivery loops; none yet (see the module docs): says so once per sink.
pub fn start(sinks: &[Sink]) {
    for sink in sinks {
        tracing::warn!(sink = %sink.config.name, events = ?sink.config.events, "webhook sink checked but not started: the hub's event log is not in this build, so no hub event is sent yet");
    }
}

/// The sinks' cursors in the hub store, written through the ingest writer; give-ups in the
/// audit chain with them.
pub struct HubLedger {
    store: Arc<HubStore>,
    ingest: IngestHandle,
    /// The ledger is called on the blocking pool: the writer's answer is awaited there.
    runtime: tokio::runtime::Handle,
}

impl HubLedger {
    /// Called from the runtime the writer runs on.
    pub fn new(store: Arc<HubStore>, ingest: IngestHandle) -> Self {
        Self {
            store,
            ingest,
            runtime: tokio::runtime::Handle::current(),
        }
    }
}

impl Ledger for HubLedger {
    fn cursor(&self, sink: &str) -> Result<Option<String>, SourceError> {
        self.store
            .webhook_cursor(sink)
            .map_err(|e| SourceError(e.to_string()))
    }

    fn advance(
        &self,
        sink: &str,
        to: &str,
        gave_up: Option<GaveUp<'_>>,
    ) -> Result<(), SourceError> {
        let cursor = WebhookCursor {
            sink: sink.to_string(),
            to: to.to_string(),
            gave_up: gave_up.map(|g| g.audit_draft(sink, socfed_proto::now_millis())),
        };
        self.runtime
            .block_on(Commands::on(&self.ingest).advance_webhook(cursor))
            .map_err(|e| SourceError(e.to_string()))
    }
}

#[cfg(test)]
#[path = "webhooks_tests.rs"]
mod tests;
