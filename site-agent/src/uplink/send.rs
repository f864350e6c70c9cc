//! The sending side of a session: the window of escalations in flight, filled from the outbox
//! as stored ([`super::frame`]), and the store calls of the stream, each run on the blocking
//! pool ([`blocking`]) so sled never stalls an async worker (and with it the reading of acks
//! and directives).

use super::SessionError;
use super::frame::{Entry, Outgoing, Packer};
use crate::store::AgentStore;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::mpsc;

/// Runs `call` on the store from the blocking pool and waits for it: sled calls may wait on
/// the disk (a flush, a page read), which must not hold an async worker thread.
pub(super) async fn blocking<T, F>(store: &Arc<AgentStore>, call: F) -> Result<T, SessionError>
where
    T: Send + 'static,
    F: FnOnce(&AgentStore) -> Result<T, crate::store::StoreError> + Send + 'static,
{
    let store = store.clone();
    tokio::task::spawn_blocking(move || call(&store))
        .await
        .map_err(|_| SessionError::Protocol("a store task of the uplink failed".into()))?
        .map_err(SessionError::from)
}

/// Where the stream stands in the outbox's sequence.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    /// Everything up to here is acknowledged (and removed from the outbox).
    pub acked: u64,
    /// The next sequence to send.
    pub next_to_send: u64,
    /// The last sequence sent or held by the hub: anything missing between it and the next
    /// entry is gone from here (dropped at the cap, or deleted after an ack the hub no longer
    /// holds) and is declared, so the hub acknowledges across it.
    pub last_sent: u64,
}

/// How the stream sends: the batch cap the hub advertised (0: single escalations), the
/// message size limit, the window.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sending {
    pub max_batch: usize,
    pub send_limit: usize,
    pub window: usize,
}

impl Window {
    pub fn in_flight(&self) -> usize {
        usize::try_from(self.next_to_send.saturating_sub(self.acked + 1)).unwrap_or(usize::MAX)
    }

    /// Sends from the outbox until the window or the send queue is full. Sending happens only
    /// from what the outbox holds (durably written).
    pub async fn fill(
        &mut self,
        store: &Arc<AgentStore>,
        tx: &mpsc::Sender<Outgoing>,
        sending: Sending,
        state: &super::UplinkState,
    ) -> Result<(), SessionError> {
        let in_flight = self.in_flight();
        // Nothing new is durable (an atomic read): no trip to the blocking pool. Most passes
        // of the session's loop (an ack, a directive report) find nothing to send.
        if in_flight >= sending.window || self.next_to_send > store.durable_through() {
            return Ok(());
        }
        let (from, limit) = (self.next_to_send, sending.window - in_flight);
        let entries = blocking(store, move |s| s.pending_from(from, limit)).await?;
        let mut packer = Packer::new(sending.max_batch, sending.send_limit);
        // The last sequence in the packer or sent: the next entry declares what lies between.
        let mut packed_last = self.last_sent;
        for (seq, entry) in &entries {
            let seq = *seq;
            let out = Entry {
                seq,
                enqueued_at_ms: entry.enqueued_at_ms,
                dropped_before: seq.saturating_sub(packed_last + 1),
                report: &entry.report,
            };
            if out.single_message_len() > sending.send_limit {
                tracing::error!(
                    seq,
                    bytes = entry.report.len(),
                    limit = sending.send_limit,
                    "outbox entry is larger than the hub accepts; set aside as dropped"
                );
                metrics::counter!("socfed_agent_outbox_dropped_total").increment(1);
                blocking(store, move |s| s.set_aside(seq)).await?;
                continue;
            }
            if !packer.fits(&out) && !self.send(&mut packer, tx, state)? {
                // The send queue is full: what was fetched and not sent is fetched again.
                return Ok(());
            }
            packer.push(&out);
            packed_last = seq;
        }
        if !self.send(&mut packer, tx, state)? {
            return Ok(());
        }
        // Everything fetched was sent or set aside: entries set aside at the end are passed
        // over too.
        if let Some((last, _)) = entries.last() {
            self.next_to_send = self.next_to_send.max(last + 1);
        }
        Ok(())
    }

    /// Sends what `packer` holds; `false` when the send queue is full (nothing is sent).
    fn send(
        &mut self,
        packer: &mut Packer,
        tx: &mpsc::Sender<Outgoing>,
        state: &super::UplinkState,
    ) -> Result<bool, SessionError> {
        let Some(packed) = packer.take() else {
            return Ok(true);
        };
        match tx.try_send(packed.message) {
            Ok(()) => {
                self.next_to_send = packed.last_seq + 1;
                self.last_sent = packed.last_seq;
                if packed.count > 1 {
                    metrics::counter!("socfed_agent_escalation_batches_sent_total").increment(1);
                    state.batches_sent.fetch_add(1, Ordering::Relaxed);
                }
                state
                    .escalations_sent
                    .fetch_add(packed.count as u64, Ordering::Relaxed);
                Ok(true)
            }
            Err(mpsc::error::TrySendError::Full(_)) => Ok(false),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                Err(SessionError::Protocol("request stream closed".into()))
            }
        }
    }
}
