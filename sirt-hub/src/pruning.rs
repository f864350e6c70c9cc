//! The prune job: every [`PRUNE_INTERVAL`] (and once at start), a pass over the finished
//! directives removes those past `[response] directive_retention`
//! (`crate::response::retention`), and a pass over the hub event log removes events past
//! `[response] event_retention` or beyond `[response] max_events` (`crate::events`). Each
//! step is one writer item removing at most `PRUNE_PER_ITEM`, so a large backlog goes in
//! bounded units with other writes between them.

use crate::config::ResponseConfig;
use crate::ingest::IngestHandle;
use crate::response::retention::PRUNE_INTERVAL;
use crate::service::Commands;
use tokio_util::sync::CancellationToken;

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Runs until `shutdown`.
pub async fn run(ingest: IngestHandle, config: ResponseConfig, shutdown: CancellationToken) {
    let retention_ms = millis(config.directive_retention);
    let mut ticker = tokio::time::interval(PRUNE_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let mut from = None;
        loop {
            let step = tokio::select! {
                () = shutdown.cancelled() => return,
                step = Commands::on(&ingest).prune_directives(retention_ms, from) => step,
            };
            match step {
                Ok(pruned) => {
                    metrics::counter!("socfed_hub_directives_pruned_total")
                        .increment(pruned.removed as u64);
                    if pruned.removed > 0 {
                        tracing::info!(
                            removed = pruned.removed,
                            "finished directives past retention pruned"
                        );
                    }
                    match pruned.resume_from {
                        Some(next) => from = Some(next),
                        None => break,
                    }
                }
                Err(e) => {
                    // A stopped writer stops the hub; anything else is retried next interval.
                    tracing::warn!(error = %e, "directive prune step failed");
                    break;
                }
            }
        }
        if !prune_events(&ingest, &config, &shutdown).await {
            return;
        }
    }
}

/// One pass over the event log; `false` once the hub is shutting down.
async fn prune_events(
    ingest: &IngestHandle,
    config: &ResponseConfig,
    shutdown: &CancellationToken,
) -> bool {
    loop {
        let step = tokio::select! {
            () = shutdown.cancelled() => return false,
            step = Commands::on(ingest)
                .prune_events(millis(config.event_retention), config.max_events) => step,
        };
        match step {
            Ok(pruned) => {
                metrics::counter!("socfed_hub_events_pruned_total")
                    .increment(pruned.removed as u64);
                if pruned.resume_from.is_none() {
                    return true;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "event log prune step failed");
                return true;
            }
        }
    }
}
