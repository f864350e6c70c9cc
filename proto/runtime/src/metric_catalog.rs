//! Every metric either service exports, in one table: its name, its kind, its `# HELP` text
//! and, for histograms, its buckets. The binaries install the recorder from this table
//! (`admin::install_recorder`), so every series in `/metrics` carries `# HELP` and every
//! latency is a histogram: buckets add up across agents and hubs, summaries' quantiles do not.
//!
//! A metric recorded anywhere must be listed here; `tests/tests/operations/metrics_catalog.rs` checks the
//! sources, docs/ARCHITECTURE.md and a live `/metrics` against this table.

/// What kind of series a metric is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Counter,
    Gauge,
    /// A histogram with these upper bounds (`le`), ascending.
    Histogram(&'static [f64]),
}

/// One exported metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metric {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
}

/// Request and commit latencies: 0.5 ms to 10 s, the range between an in-memory answer and a
/// disk that stalls.
pub const LATENCY_SECONDS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Items per group commit: one up to the writer's largest batch.
pub const COMMIT_ITEMS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];

const fn counter(name: &'static str, help: &'static str) -> Metric {
    Metric {
        name,
        kind: Kind::Counter,
        help,
    }
}

const fn gauge(name: &'static str, help: &'static str) -> Metric {
    Metric {
        name,
        kind: Kind::Gauge,
        help,
    }
}

const fn histogram(name: &'static str, buckets: &'static [f64], help: &'static str) -> Metric {
    Metric {
        name,
        kind: Kind::Histogram(buckets),
        help,
    }
}

/// Every metric of both services.
pub const METRICS: &[Metric] = &[
    // Both services.
    histogram(
        "socfed_grpc_request_seconds",
        LATENCY_SECONDS,
        "gRPC request latency by service (known services only; others are `other`)",
    ),
    counter(
        "socfed_tls_reloads_total",
        "Certificate and CRL reloads by outcome (reloaded, failed)",
    ),
    counter(
        "socfed_webhook_deliveries_total",
        "Outbound event webhook attempts by sink and outcome (delivered, retried, given_up)",
    ),
    counter(
        "socfed_revoked_connections_closed_total",
        "Open connections closed because their peer's certificate was revoked after they opened",
    ),
    counter(
        "socfed_listener_refused_total",
        "Connections closed at accept by a listener's caps, by listener and reason (descriptors, listener_full, peer_full, unauthenticated_full, unauthenticated_peer_full)",
    ),
    counter(
        "socfed_listener_closed_total",
        "Connections a listener closed by a timer or at shutdown, by listener and reason (handshake_timeout, unauthenticated_lifetime, idle, shutdown)",
    ),
    gauge(
        "socfed_listener_connections",
        "Connections a listener holds now, by listener and pool (unauthenticated, established)",
    ),
    // Site agent.
    counter(
        "socfed_agent_alerts_total",
        "Alerts taken in, by outcome (accepted, aggregated, duplicate, rejected, skipped)",
    ),
    gauge(
        "socfed_agent_outbox_depth",
        "Escalation revisions stored and not yet acknowledged by the hub",
    ),
    gauge(
        "socfed_agent_outbox_oldest_age_seconds",
        "Age of the oldest unacknowledged escalation revision",
    ),
    counter(
        "socfed_agent_raises_total",
        "Raises taken by the raise committer (RaiseIncident calls and each raise of a RaiseIncidents batch)",
    ),
    counter(
        "socfed_agent_raise_units_total",
        "Store units the raise committer ran: the raises waiting together share one",
    ),
    counter(
        "socfed_agent_outbox_refused_total",
        "Escalations refused because the outbox was full",
    ),
    counter(
        "socfed_agent_outbox_dropped_total",
        "Escalation revisions the hub rejected for good and the agent dropped",
    ),
    counter(
        "socfed_agent_escalation_batches_sent_total",
        "Escalation batch messages sent to the hub (two or more escalations in one message)",
    ),
    gauge(
        "socfed_agent_hub_connected",
        "1 while the escalation stream to the hub is open, else 0",
    ),
    counter(
        "socfed_agent_hub_connects_total",
        "Escalation streams opened to the hub",
    ),
    gauge(
        "socfed_agent_hub_address",
        "1 for the hub address (label address) the escalation stream is open to, else 0",
    ),
    counter(
        "socfed_agent_hub_failovers_total",
        "Escalation streams opened to another hub address than the one connected before",
    ),
    counter(
        "socfed_agent_directives_total",
        "Directives received from the hub, by outcome (new, resent)",
    ),
    counter(
        "socfed_agent_directive_updates_total",
        "Directive state updates sent to the hub, by state",
    ),
    counter(
        "socfed_agent_notifications_total",
        "Notifications raised at the site, by kind",
    ),
    counter(
        "socfed_agent_unassigned_groups_total",
        "Alert groups that found nobody on shift to assign them to",
    ),
    counter(
        "socfed_agent_sla_breaches_total",
        "Alert groups whose acknowledgement SLA ran out",
    ),
    counter(
        "socfed_agent_revisions_deferred_total",
        "Incident revisions that could not be queued and wait for the SLA clock's retry",
    ),
    counter(
        "socfed_agent_sweep_overflows_total",
        "Times more alert groups changed during a watching sweep than are held for it; the sweep then searched the stored alerts again",
    ),
    counter(
        "socfed_agent_hunt_alerts_total",
        "Local alerts raised by hits of the hub's library hunts (detection mode)",
    ),
    counter(
        "socfed_agent_incident_states_total",
        "Hub states (hub incident, phase, IR lead) of local incidents recorded at the site",
    ),
    counter(
        "socfed_agent_store_ops_total",
        "Store operations of the write path (units of work, group commits, the uplink's outbox reads and acknowledgements), by tree and op (get, insert, remove, scan)",
    ),
    // SIRT hub.
    counter(
        "socfed_hub_store_ops_total",
        "Store operations of the hub's units of work (every write: escalations, operator commands, sessions), by tree and op (get, insert, remove, scan)",
    ),
    counter(
        "socfed_hub_escalations_total",
        "Escalations received, by outcome (stored, duplicate, conflict, rejected)",
    ),
    counter(
        "socfed_hub_stream_connects_total",
        "Site escalation streams opened",
    ),
    counter(
        "socfed_hub_streams_refused_total",
        "Site escalation streams refused, by gRPC code",
    ),
    counter(
        "socfed_hub_escalation_batches_total",
        "Escalation batch messages received from sites",
    ),
    gauge(
        "socfed_hub_streams_open",
        "Site escalation streams open now",
    ),
    counter(
        "socfed_hub_stream_takeovers_total",
        "Site streams superseded by a stream of the same site from another address (audited as stream.takeover)",
    ),
    histogram(
        "socfed_hub_apply_seconds",
        LATENCY_SECONDS,
        "Time to apply one batch of the ingest writer (in memory, before the flush)",
    ),
    histogram(
        "socfed_hub_commit_seconds",
        LATENCY_SECONDS,
        "Time of one group commit: write-out and fdatasync of every batch applied since the last",
    ),
    histogram(
        "socfed_hub_commit_items",
        COMMIT_ITEMS,
        "Items made durable by one group commit",
    ),
    counter(
        "socfed_hub_journal_appends_total",
        "Escalations appended to the hub's journal as received",
    ),
    counter(
        "socfed_hub_journal_replayed_total",
        "Journaled escalations applied at start-up (received before a stop, not yet indexed)",
    ),
    counter(
        "socfed_hub_journal_skipped_total",
        "Journaled escalations skipped at start-up because their batch could not be applied (never acknowledged: their site resends them)",
    ),
    gauge(
        "socfed_hub_journal_bytes",
        "Bytes in the hub journal's segments",
    ),
    counter(
        "socfed_hub_incident_states_sent_total",
        "Hub incident states (phase, IR lead, incident id) sent to sites",
    ),
    counter(
        "socfed_hub_directives_sent_total",
        "Directives sent to sites",
    ),
    counter(
        "socfed_hub_runbooks_sent_total",
        "Hub runbook versions sent to sites",
    ),
    counter(
        "socfed_agent_runbooks_total",
        "Hub runbook versions received, by outcome (stored, duplicate, invalid)",
    ),
    counter(
        "socfed_hub_directive_updates_total",
        "Directive state updates from sites, by outcome (received, invalid)",
    ),
    counter(
        "socfed_hub_directives_pruned_total",
        "Finished directives removed at the hub past [response] directive_retention",
    ),
    counter(
        "socfed_hub_library_runs_total",
        "Runs of the hunt library's hunts the scheduler started",
    ),
    counter(
        "socfed_hub_events_pruned_total",
        "Hub event log entries removed past [response] event_retention or max_events",
    ),
    counter(
        "socfed_hub_api_token_uses_total",
        "Calls to /api/v1 authenticated by an API token (each audited as token.use)",
    ),
    counter(
        "socfed_hub_comms_deliveries_total",
        "Approved communications delivered to their webhook, by outcome (delivered, failed)",
    ),
    gauge(
        "socfed_hub_regulatory_deadlines",
        "Regulatory notification deadlines not yet met, by status (due_soon, overdue)",
    ),
    gauge(
        "socfed_hub_site_cert_expires_in_seconds",
        "Seconds until a connected site's certificate expires, by site",
    ),
    counter(
        "socfed_hub_refusals_total",
        "Calls, streams and handshakes refused to a caller with a verified certificate (each audited, coalesced)",
    ),
    counter(
        "socfed_hub_unauthenticated_refusals_total",
        "Calls and handshakes refused to a caller without a verified certificate (counted and logged, not audited)",
    ),
    counter(
        "socfed_hub_refusal_audit_dropped_total",
        "Refusal audit records dropped because the audit queue was full",
    ),
    counter(
        "socfed_hub_watches_refused_total",
        "WatchIncidents streams refused because the operator held limits.max_watches_per_operator",
    ),
];

/// The metric named `name`, if it is one of ours.
pub fn find(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.name == name)
}

/// Registers `# HELP` text for every metric with the installed recorder.
pub fn describe_all() {
    for metric in METRICS {
        match metric.kind {
            Kind::Counter => metrics::describe_counter!(metric.name, metric.help),
            Kind::Gauge => metrics::describe_gauge!(metric.name, metric.help),
            Kind::Histogram(_) => metrics::describe_histogram!(metric.name, metric.help),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_buckets_ascend() {
        for (i, metric) in METRICS.iter().enumerate() {
            assert!(
                METRICS[i + 1..].iter().all(|m| m.name != metric.name),
                "{} listed twice",
                metric.name
            );
            assert!(metric.name.starts_with("socfed_"), "{}", metric.name);
            assert!(!metric.help.is_empty(), "{}", metric.name);
            if let Kind::Histogram(buckets) = metric.kind {
                assert!(!buckets.is_empty(), "{}", metric.name);
                assert!(
                    buckets.windows(2).all(|w| w[0] < w[1]),
                    "{} buckets must ascend",
                    metric.name
                );
            }
        }
    }
}
