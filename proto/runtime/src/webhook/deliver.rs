//! The delivery loop of one sink: read the source after the sink's cursor, send each event
//! the sink takes until it is answered 2xx or given up, move the cursor durably, repeat.
//!
//! One event at a time, in order: a receiver sees events in the order they happened, and the
//! cursor is one id. The price is head-of-line blocking: a receiver that refuses one event
//! holds the later ones until it takes it or it is `max_age` old.

use super::sink::Sink;
use super::{Event, EventSource, GaveUp, Ledger, SourceError};
use crate::backoff::Backoff;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The metric every sink counts its outcomes in.
const METRIC: &str = "socfed_webhook_deliveries_total";

/// How a service runs its sinks.
#[derive(Clone)]
pub struct LoopSettings {
    /// How often an idle sink looks for new events.
    pub poll: Duration,
    /// Events read from the source at once.
    pub batch: usize,
    /// The service's clock (Unix milliseconds), which stamped the events: their age is
    /// measured on it.
    pub now_ms: Arc<dyn Fn() -> i64 + Send + Sync>,
}

impl std::fmt::Debug for LoopSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopSettings")
            .field("poll", &self.poll)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

/// Gives each sink seen for the first time its starting cursor: after the newest event (a new
/// sink is not sent the history; `""` when there is none yet). Called at start before anything
/// can make an event, so an event made while the loops start is never taken for history.
pub fn prepare(
    sinks: &[Sink],
    source: &dyn EventSource,
    ledger: &dyn Ledger,
) -> Result<(), SourceError> {
    for sink in sinks {
        let name = &sink.config.name;
        if ledger.cursor(name)?.is_none() {
            let start = source.newest()?.unwrap_or_default();
            ledger.advance(name, &start, None)?;
        }
    }
    Ok(())
}

/// Starts one loop per sink; each ends with `shutdown`.
pub fn start_all(
    sinks: Vec<Sink>,
    source: Arc<dyn EventSource>,
    ledger: Arc<dyn Ledger>,
    settings: &LoopSettings,
    shutdown: &CancellationToken,
) -> Vec<JoinHandle<()>> {
    sinks
        .into_iter()
        .map(|sink| {
            tokio::spawn(run(
                sink,
                source.clone(),
                ledger.clone(),
                settings.clone(),
                shutdown.clone(),
            ))
        })
        .collect()
}

enum Outcome {
    Delivered,
    GaveUp { attempts: u32, last_error: String },
    Stopped,
}

/// Runs `sink` until `shutdown`.
pub async fn run(
    sink: Sink,
    source: Arc<dyn EventSource>,
    ledger: Arc<dyn Ledger>,
    settings: LoopSettings,
    shutdown: CancellationToken,
) {
    let name = sink.config.name.clone();
    let Some(mut cursor) = first_cursor(&name, &source, &ledger, &settings, &shutdown).await else {
        return;
    };
    tracing::info!(sink = %name, host = %crate::cli::url_host(&sink.config.url), events = ?sink.config.events, "webhook sink running");
    loop {
        let (from, limit) = (cursor.clone(), settings.batch);
        let read = blocking(&source, move |s| s.after(Some(&from), limit)).await;
        let batch = match read {
            Ok(batch) if !batch.is_empty() => batch,
            Ok(_) => {
                if !pause(settings.poll, &shutdown).await {
                    return;
                }
                continue;
            }
            Err(e) => {
                tracing::warn!(sink = %name, error = %e, "cannot read webhook events; will retry");
                if !pause(settings.poll, &shutdown).await {
                    return;
                }
                continue;
            }
        };
        let mut skipped = false;
        for event in batch {
            if !sink.wants(&event.kind) {
                cursor = event.id;
                skipped = true;
                continue;
            }
            let gave_up = match deliver(&sink, &event, &settings, &shutdown).await {
                Outcome::Stopped => return,
                Outcome::Delivered => None,
                Outcome::GaveUp {
                    attempts,
                    last_error,
                } => Some((attempts, last_error)),
            };
            save(&ledger, &name, &event, gave_up).await;
            cursor = event.id;
            skipped = false;
        }
        if skipped {
            // Events this sink does not take: saved so a restart does not read them again
            // (an optimisation only; reading them again would skip them again).
            let (to, sink_name) = (cursor.clone(), name.clone());
            if let Err(e) = blocking(&ledger, move |l| l.advance(&sink_name, &to, None)).await {
                tracing::warn!(sink = %name, error = %e, "cannot save the webhook cursor");
            }
        }
    }
}

/// The sink's saved cursor. A sink seen for the first time (a service that did not call
/// [`prepare`]) starts after the newest event, saved at once so that a restart before its
/// first delivery does not skip what happened meanwhile. `""` is before the first event.
/// `None`: stopped.
async fn first_cursor(
    name: &str,
    source: &Arc<dyn EventSource>,
    ledger: &Arc<dyn Ledger>,
    settings: &LoopSettings,
    shutdown: &CancellationToken,
) -> Option<String> {
    loop {
        let sink = name.to_string();
        let found = blocking(ledger, move |l| l.cursor(&sink)).await;
        let start = match found {
            Ok(Some(cursor)) => return Some(cursor),
            Ok(None) => match blocking(source, |s| s.newest()).await {
                Ok(newest) => Ok(newest.unwrap_or_default()),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        let saved = match start {
            Ok(start) => {
                let (sink, to) = (name.to_string(), start.clone());
                blocking(ledger, move |l| l.advance(&sink, &to, None))
                    .await
                    .map(|()| start)
            }
            Err(e) => Err(e),
        };
        match saved {
            Ok(start) => return Some(start),
            Err(e) => {
                tracing::warn!(sink = %name, error = %e, "cannot read the webhook cursor; will retry")
            }
        }
        if !pause(settings.poll, shutdown).await {
            return None;
        }
    }
}

/// Attempts `event` until a 2xx answer, `max_age`, or shutdown.
async fn deliver(
    sink: &Sink,
    event: &Event,
    settings: &LoopSettings,
    shutdown: &CancellationToken,
) -> Outcome {
    let name = sink.config.name.as_str();
    let max_age_ms = i64::try_from(sink.config.max_age.as_millis()).unwrap_or(i64::MAX);
    let mut backoff = Backoff::new(sink.config.backoff_initial, sink.config.backoff_max);
    let mut attempts: u32 = 0;
    loop {
        attempts = attempts.saturating_add(1);
        let attempt = tokio::select! {
            // A stop abandons the attempt: the cursor has not moved, so the event is sent
            // again after the restart.
            () = shutdown.cancelled() => return Outcome::Stopped,
            attempt = sink.attempt(event, unix_seconds()) => attempt,
        };
        let error = match attempt {
            Ok(()) => {
                metrics::counter!(METRIC, "sink" => name.to_string(), "outcome" => "delivered")
                    .increment(1);
                tracing::debug!(sink = %name, event = %event.id, kind = %event.kind, attempts, "webhook delivered");
                return Outcome::Delivered;
            }
            Err(e) => e.0,
        };
        let age_ms = (settings.now_ms)().saturating_sub(event.at_ms);
        if age_ms >= max_age_ms {
            metrics::counter!(METRIC, "sink" => name.to_string(), "outcome" => "given_up")
                .increment(1);
            tracing::error!(sink = %name, event = %event.id, kind = %event.kind, attempts, %error, max_age = ?sink.config.max_age, "webhook event given up: not delivered within max_age");
            return Outcome::GaveUp {
                attempts,
                last_error: error,
            };
        }
        metrics::counter!(METRIC, "sink" => name.to_string(), "outcome" => "retried").increment(1);
        tracing::warn!(sink = %name, event = %event.id, kind = %event.kind, attempts, %error, "webhook delivery failed; will retry");
        let delay = retry_wait(&mut backoff, rand::random::<f64>(), age_ms, max_age_ms);
        if !pause(delay, shutdown).await {
            return Outcome::Stopped;
        }
    }
}

/// The wait before the next attempt of an event `age_ms` old: the backoff's next delay
/// (`unit` its randomness), cut so that the last attempt falls at `max_age_ms`, not a whole
/// backoff after it.
fn retry_wait(backoff: &mut Backoff, unit: f64, age_ms: i64, max_age_ms: i64) -> Duration {
    let left = Duration::from_millis(u64::try_from(max_age_ms.saturating_sub(age_ms)).unwrap_or(0));
    backoff.next_delay(unit).min(left)
}

/// Saves the cursor after `event`; a failure is logged (the store failed: the service stops,
/// and the event is sent again after the restart, which the receiver's de-duplication absorbs).
async fn save(ledger: &Arc<dyn Ledger>, name: &str, event: &Event, gave_up: Option<(u32, String)>) {
    let (sink, event) = (name.to_string(), event.clone());
    let saved = blocking(ledger, move |l| {
        let gave_up = gave_up.as_ref().map(|(attempts, last_error)| GaveUp {
            event: &event,
            attempts: *attempts,
            last_error,
        });
        l.advance(&sink, &event.id, gave_up)
    })
    .await;
    if let Err(e) = saved {
        tracing::warn!(sink = %name, error = %e, "cannot save the webhook cursor");
    }
}

/// Runs a store call on the blocking pool.
async fn blocking<T: ?Sized + Send + Sync + 'static, R: Send + 'static>(
    on: &Arc<T>,
    call: impl FnOnce(&T) -> Result<R, SourceError> + Send + 'static,
) -> Result<R, SourceError> {
    let on = on.clone();
    tokio::task::spawn_blocking(move || call(&on))
        .await
        .map_err(|e| SourceError(format!("store call ended: {e}")))?
}

/// Waits `delay`; false once `shutdown` is cancelled.
async fn pause(delay: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        () = shutdown.cancelled() => false,
        () = tokio::time::sleep(delay) => true,
    }
}

/// The signature's time: the receiver's clock is the wall clock, whatever the service's.
fn unix_seconds() -> i64 {
    socfed_proto::now_millis() / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_the_cap_and_the_last_one_falls_at_max_age() {
        // The defaults: 1 s doubling to 5 min; an event given up after a day.
        let day = 86_400_000;
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
        let lows: Vec<u64> = (0..12)
            .map(|_| retry_wait(&mut backoff, 0.0, 0, day).as_millis() as u64)
            .collect();
        assert_eq!(
            lows,
            [
                500, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128_000, 150_000, 150_000,
                150_000
            ]
        );
        let high = retry_wait(&mut backoff, 0.999_999, 0, day);
        assert!(high > Duration::from_secs(299) && high <= Duration::from_secs(300));
        // Ten seconds before max_age: the wait ends at max_age, then nothing is left.
        assert_eq!(
            retry_wait(&mut backoff, 0.5, day - 10_000, day),
            Duration::from_secs(10)
        );
        assert_eq!(retry_wait(&mut backoff, 0.5, day + 5, day), Duration::ZERO);
    }
}
