//! `GET /api/v1/events`: the hub event log (`crate::events`) as server-sent events. Each
//! SSE `id:` is the event's sequence, so a client that reconnects with `Last-Event-ID` (or
//! `?since=N`) gets every event after it, none twice. Without either, the stream starts at
//! the newest event. Heartbeat comments keep proxies from closing an idle stream; the
//! credential is checked again at each event and every [`RECHECK`], and the stream ends
//! (`event: end`) once it no longer holds, as the dashboard's stream does. Each event's
//! visibility is asked again as it is sent (not only when it was queued), and each caller
//! holds at most `limits.max_watches_per_operator` streams (429 past it), counted with its
//! gRPC watches.

use super::auth::{Caller, Presented};
use super::error::ApiError;
use crate::access::reader::Reader;
use crate::error::HubError;
use crate::events::{EventJson, EventLog, HubEvent};
use crate::grpc::watches::WatchSlot;
use crate::store::StoreError;
use crate::web::WebState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use socfed_runtime::api_token::Scope;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often a quiet stream checks its credential again.
pub const RECHECK: Duration = Duration::from_secs(15);
/// How often an idle stream sends a heartbeat comment.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Resume after this sequence (the `Last-Event-ID` header wins when both are given).
    pub since: Option<u64>,
}

fn last_event_id(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(raw) = headers.get("last-event-id") else {
        return Ok(None);
    };
    raw.to_str()
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError(HubError::invalid(
                "Last-Event-ID is not an event sequence (a number from an `id:` line)",
            ))
        })
}

struct Follow {
    rx: mpsc::Receiver<Result<(u64, HubEvent), StoreError>>,
    caller: Caller,
    reader: Reader,
    log: EventLog,
    state: WebState,
    ended: bool,
    /// Held for as long as the stream is open.
    _slot: WatchSlot,
}

enum Wake {
    Event(Option<Result<(u64, HubEvent), StoreError>>),
    Recheck,
}

#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsQuery,
        ("Last-Event-ID" = Option<u64>, Header, description = "resume after this sequence")),
    responses((status = 200, content_type = "text/event-stream", body = EventJson,
        description = "SSE: `id:` the sequence, `event:` the kind, `data:` the event as JSON")),
    security(("bearer" = []), ("client_certificate" = [])))]
pub async fn stream(
    State(state): State<WebState>,
    presented: Presented,
    headers: HeaderMap,
    q: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let caller = presented.caller(&state, Scope::Read).await?;
    let Query(q) = q.map_err(super::error::bad_query)?;
    // Each stream is a task on the hub: one credential holds a bounded number (429 past it).
    // Counted per operator (a token's creator), with their gRPC watches: one certificate or
    // many tokens get no more streams than the person has.
    let slot = state.watches.take(&caller.name)?;
    let log = state.ingest.event_log(state.store.clone());
    let since = match last_event_id(&headers)? {
        Some(seq) => seq,
        None => q.since.unwrap_or_else(|| log.last()),
    };
    let (tx, rx) = mpsc::channel(64);
    let reader = caller.reader(&state);
    tokio::spawn(log.clone().follow(reader.clone(), since, tx));
    let start = Follow {
        rx,
        caller,
        reader,
        log,
        state,
        ended: false,
        _slot: slot,
    };
    let events = futures_util::stream::unfold(start, |mut s| async move {
        if s.ended {
            return None;
        }
        loop {
            let wake = tokio::select! {
                next = s.rx.recv() => Wake::Event(next),
                () = tokio::time::sleep(RECHECK) => Wake::Recheck,
            };
            // Nothing is sent on a credential that no longer holds.
            if !s.caller.still_valid(&s.state).await {
                s.ended = true;
                let end = Event::default()
                    .event("end")
                    .data("the credential is no longer valid");
                return Some((Ok(end), s));
            }
            let event = match wake {
                Wake::Recheck => continue,
                Wake::Event(None) => return None,
                Wake::Event(Some(Err(e))) => {
                    s.ended = true;
                    tracing::warn!(error = %e, "event stream read failed");
                    Event::default()
                        .event("end")
                        .data("the hub could not read its event log")
                }
                // Asked again as it leaves: the incident may have been marked RED (or the
                // reader lost a role) while the event waited in the channel. When the store
                // cannot tell, the stream ends rather than skip the event for good (the
                // client's Last-Event-ID would move past it): it resumes from here.
                Wake::Event(Some(Ok((seq, event)))) => {
                    match s.log.visible(&s.reader, &event).await {
                        Ok(false) => continue,
                        Ok(true) => Event::default()
                            .id(seq.to_string())
                            .event(event.kind.name())
                            .json_data(EventJson::of(seq, &event))
                            .unwrap_or_else(|_| Event::default().comment("unencodable event")),
                        Err(e) => {
                            s.ended = true;
                            tracing::warn!(error = %e, "event stream visibility check failed");
                            Event::default().event("end").data(
                                "the hub could not read its store; reconnect with Last-Event-ID",
                            )
                        }
                    }
                }
            };
            return Some((Ok(event), s));
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(HEARTBEAT)))
}
