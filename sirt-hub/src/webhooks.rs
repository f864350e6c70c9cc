//! The hub's outbound event webhooks (`[[webhooks]]`): the kinds a sink may take, the hub
//! event log as their source (`webhooks/source.rs`: ids are sequences, `data` the API
//! stream's JSON, TLP:RED withheld), each sink's cursor, and the loops' start. Delivery is
//! `socfed_runtime::webhook`, shared with the agent.
//!
//! Each sink's cursor is kept in `meta` (`webhook-cursor/{sink}`) and moved through the ingest
//! writer like every hub write (invariant 3), with the audit record of a give-up in the same
//! unit: [`HubLedger`]. `app.rs` calls [`prepare`] once the writer runs, before the listeners
//! open (a new sink starts after the newest event, so nothing made meanwhile is taken for
//! history), and [`start`] after; the loops hold an ingest handle, so they are joined before
//! the writer.

mod source;

pub use source::{HubEventSource, kind_name};

use crate::ingest::IngestHandle;
use crate::ingest::apply::WebhookCursor;
use crate::service::Commands;
use crate::store::HubStore;
use socfed_runtime::webhook::{GaveUp, Ledger, LoopSettings, Sink, SourceError};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The event kinds a hub sink may take.
pub const KINDS: &[&str] = &[
    "incident-created",
    "incident-changed",
    "directive-failed",
    "hunt-hit",
    "note-added",
];

/// The log as the source and the writer as the ledger, every sink given its first cursor.
/// Runs on the blocking pool: the ledger waits for the writer.
pub async fn prepare(
    sinks: &[Sink],
    store: &Arc<HubStore>,
    ingest: &IngestHandle,
) -> Result<(Arc<HubEventSource>, Arc<HubLedger>), SourceError> {
    let source = Arc::new(HubEventSource {
        log: ingest.event_log(store.clone()),
    });
    let ledger = Arc::new(HubLedger::new(store.clone(), ingest.clone()));
    let (sinks, for_source, for_ledger) = (sinks.to_vec(), source.clone(), ledger.clone());
    tokio::task::spawn_blocking(move || {
        socfed_runtime::webhook::prepare(&sinks, &*for_source, &*for_ledger)
    })
    .await
    .map_err(|e| SourceError(format!("webhook cursors: {e}")))??;
    Ok((source, ledger))
}

/// Starts one delivery loop per sink; each ends with `shutdown`.
pub fn start(
    sinks: Vec<Sink>,
    source: Arc<HubEventSource>,
    ledger: Arc<HubLedger>,
    shutdown: &CancellationToken,
) -> Vec<JoinHandle<()>> {
    socfed_runtime::webhook::start_all(
        sinks,
        source,
        ledger,
        &LoopSettings {
            poll: POLL,
            batch: 64,
            // The hub stamps events with the system clock.
            now_ms: Arc::new(socfed_proto::now_millis),
        },
        shutdown,
    )
}

/// How often an idle sink looks for new events.
const POLL: Duration = Duration::from_millis(500);

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
