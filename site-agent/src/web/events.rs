//! The triage queue's live updates: server-sent events when the alert groups change (new
//! groups from intake, every action), each sent only while the session is still good
//! (re-checked on every change and every 30 s); when it ends the stream says `signed-out` and
//! stops. The page's script fetches the rows again.
//!
//! One thread drains sled's watch of the `groups` tree into a counter ([`watch`]) that every
//! stream follows: sled's subscriber would block the store's writers once 1,024 events wait
//! unread, so no stream (a browser that stops reading) ever holds one itself.

use super::WebState;
use super::auth::{Viewer, current};
use axum::Extension;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use std::time::Duration;

/// How often an idle stream re-checks its session.
const SESSION_RECHECK: Duration = Duration::from_secs(30);

struct Stream {
    state: WebState,
    viewer: Viewer,
    changes: tokio::sync::watch::Receiver<u64>,
    ended: bool,
}

/// The counter of changes to the alert groups, bumped by one thread draining sled's watch of
/// the `groups` tree until `shutdown`.
pub fn watch(
    store: &crate::store::AgentStore,
    shutdown: tokio_util::sync::CancellationToken,
) -> tokio::sync::watch::Receiver<u64> {
    let (tx, rx) = tokio::sync::watch::channel(0u64);
    let mut subscriber = store.watch_groups();
    let spawned = std::thread::Builder::new()
        .name("console-watch".into())
        .spawn(move || {
            while !shutdown.is_cancelled() {
                match subscriber.next_timeout(Duration::from_secs(1)) {
                    Ok(_) => tx.send_modify(|n| *n = n.wrapping_add(1)),
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "the console's live queue could not start; pages still work");
    }
    rx
}

/// `GET /events`
pub async fn events(
    State(state): State<WebState>,
    Extension(viewer): Extension<Viewer>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>>> {
    // Changes before this stream opened are in the page already.
    let mut changes = state.changes.clone();
    changes.mark_unchanged();
    let start = Stream {
        changes,
        state,
        viewer,
        ended: false,
    };
    let stream = futures_util::stream::unfold(start, |mut s| async move {
        if s.ended {
            return None;
        }
        loop {
            let until_expiry = Duration::from_millis(
                u64::try_from(s.viewer.expires_ms - socfed_proto::now_millis()).unwrap_or(0),
            );
            let change = tokio::select! {
                changed = s.changes.changed() => match changed {
                    Ok(()) => true,
                    // The watch ended: the agent is stopping.
                    Err(_) => return None,
                },
                () = tokio::time::sleep(until_expiry.min(SESSION_RECHECK)) => false,
            };
            match current(&s.state, &s.viewer.secret).await {
                Ok(viewer) => s.viewer = viewer,
                Err(_) => {
                    s.ended = true;
                    let end = Event::default().event("signed-out").data("session ended");
                    return Some((Ok(end), s));
                }
            }
            if change {
                return Some((Ok(Event::default().data("groups")), s));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
