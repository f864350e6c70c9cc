//! The hub's outbound event webhooks (`[[webhooks]]`): the kinds a sink may take, and the
//! sinks read at start (a missing secret, header or CA file is a configuration error, as at
//! the agent). Delivery is `socfed_runtime::webhook`, shared with the agent.
//!
//! Not wired yet: the hub's durable event log (incident created or changed, directive failed,
//! hunt hit) is the `EventSource`, and each sink's cursor needs a `Ledger` that writes through
//! the ingest writer (invariant 3). Until both exist, configured sinks are checked and
//! reported, and nothing is sent. Plugging them in is [`start`]'s body:
//! `socfed_runtime::webhook::start_all(sinks, source, ledger, &settings, &shutdown)`.

use socfed_runtime::webhook::{Sink, SinkError, WebhookConfig};

/// The event kinds a hub sink may take.
pub const KINDS: &[&str] = &[
    "incident-created",
    "incident-changed",
    "directive-failed",
    "hunt-hit",
];

/// Reads every sink's files (at start, before anything listens).
pub fn load(configs: &[WebhookConfig]) -> Result<Vec<Sink>, SinkError> {
    configs.iter().map(Sink::load).collect()
}

/// Starts the sinks' delivery loops; none yet (see the module docs): says so once per sink.
pub fn start(sinks: &[Sink]) {
    for sink in sinks {
        tracing::warn!(sink = %sink.config.name, events = ?sink.config.events, "webhook sink checked but not started: the hub's event log is not in this build, so no hub event is sent yet");
    }
}
