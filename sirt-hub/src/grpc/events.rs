//! `Operator.WatchEvents`: the hub event log (`crate::events`) from a sequence on, then live.
//! What `sirt-hub incidents watch --since` follows; the same reader and follow as
//! `/api/v1/events`.

use super::acting::Reader;
use crate::error::HubError;
use crate::events::{EventJson, EventLog};
use socfed_proto::pb;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tonic::Status;

/// Streams the log after `since` into `tx` until the caller goes, the hub stops, or the
/// writer stops.
pub async fn follow(
    log: EventLog,
    reader: Reader,
    since: u64,
    tx: mpsc::Sender<Result<pb::HubEventRecord, Status>>,
    shutdown: CancellationToken,
) {
    let (events_tx, mut events) = mpsc::channel(64);
    let follower = tokio::spawn(log.follow(reader, since, events_tx));
    loop {
        let next = tokio::select! {
            () = shutdown.cancelled() => break,
            () = tx.closed() => break,
            next = events.recv() => next,
        };
        let message = match next {
            None => break,
            Some(Err(e)) => Err(HubError::storage(&e).into()),
            Some(Ok((seq, event))) => Ok(pb::HubEventRecord {
                seq,
                kind: event.kind.name().into(),
                at_ms: event.at_ms,
                incident_id: event.incident.map(|id| id.to_string()).unwrap_or_default(),
                summary: crate::events::summary(&event),
                json: serde_json::to_string(&EventJson::of(seq, &event)).unwrap_or_default(),
            }),
        };
        let fatal = message.is_err();
        if tx.send(message).await.is_err() || fatal {
            break;
        }
    }
    // Closing the receiver ends the follower at its next send or wait.
    drop(events);
    follower.abort();
}
