//! A site's escalation stream as commands: the hello that opens it, then the site's messages
//! (escalations, outbox status, reports on directives) recorded through the single writer in
//! the order they arrived.
//!
//! Escalations are answered once durable, all on one channel per stream ([`Escalations`]), so
//! the stream can cover every answer already waiting with one acknowledgement (a high-water
//! mark) and bound how many it has outstanding; the other messages are recorded without an
//! answer. The stream (`grpc/federation/`) judges each message first (`wire.rs`) and keeps its
//! batching, flow control and acknowledgement rules; this only hides the writer's untyped
//! items and outcomes behind typed ones.

use super::{Commands, call_failed, writer_stopped};
use crate::error::HubError;
use crate::ingest::apply::{DirectiveUpdate, EscalationOutcome, Item, Offered, Outcome};
use crate::ingest::{Answer, IngestHandle, Reply, reply_slot};
use crate::response::directive::SiteReport;
use crate::store::{HubStore, StoreError};
use socfed_proto::UnixMillis;
use socfed_proto::pb;
use socfed_proto::vocab::SiteId;
use tokio::sync::mpsc;
use ulid::Ulid;

/// A site's hello, checked: the store epoch it escalates under and its next sequence.
#[derive(Debug, Clone, Copy)]
pub struct SiteHello {
    pub epoch: Ulid,
    pub next_seq: u64,
    /// When the site's certificate expires (for the sites overview).
    pub cert_not_after_ms: UnixMillis,
}

impl SiteHello {
    fn item(self, site: &SiteId) -> Item {
        Item::Hello {
            site: site.clone(),
            epoch: self.epoch,
            next_seq: self.next_seq,
            cert_not_after_ms: self.cert_not_after_ms,
        }
    }
}

/// What the hub holds of the site's escalations under this epoch, for the welcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Welcomed {
    pub acked_through: u64,
    /// The hub holds sequences the site no longer has (its store went backwards).
    pub regression: bool,
    /// The site presents a store epoch other than its last one.
    pub epoch_changed: bool,
    /// The stream's lease generation in the store (`crate::replicas`).
    pub lease: u64,
}

/// An escalation with its framing checked. A report that does not convert is still stored
/// (for review) and acknowledged, so it is `Offered::Invalid`, not a refusal.
#[derive(Debug)]
pub struct Escalation {
    pub seq: u64,
    /// Sequences just before `seq` the site declared it will never send.
    pub dropped_before: u64,
    pub enqueued_at_ms: UnixMillis,
    pub offered: Offered,
}

/// One judged message of a site after its hello.
// Escalation is the common case; boxing it would cost an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum SiteInput {
    Escalation(Escalation),
    /// The site's outbox status, every number in range.
    Status(pb::SiteStatus),
    /// The site's report on one of its directives.
    DirectiveUpdate {
        directive: Ulid,
        report: SiteReport,
    },
}

impl SiteInput {
    /// Whether the writer's answer comes back on the stream's [`Escalations`]: only an
    /// escalation's does (it is what the site waits to have acknowledged).
    pub fn answered(&self) -> bool {
        matches!(self, SiteInput::Escalation(_))
    }

    /// The writer's item for `site`'s stream under `epoch`.
    fn item(self, site: &SiteId, epoch: Ulid) -> Item {
        match self {
            SiteInput::Escalation(Escalation {
                seq,
                dropped_before,
                enqueued_at_ms,
                offered,
            }) => Item::Escalation {
                site: site.clone(),
                epoch,
                seq,
                dropped_before,
                enqueued_at_ms,
                offered,
            },
            SiteInput::Status(status) => Item::Status {
                site: site.clone(),
                status,
            },
            SiteInput::DirectiveUpdate { directive, report } => {
                Item::DirectiveUpdate(Box::new(DirectiveUpdate {
                    site: site.clone(),
                    directive,
                    report,
                }))
            }
        }
    }
}

/// One escalation recorded and durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalated {
    pub seq: u64,
    /// Everything of this epoch up to here is held by the hub.
    pub acked_through: u64,
    pub outcome: EscalationOutcome,
}

/// Records one open stream's messages.
pub struct SiteStream {
    ingest: IngestHandle,
    site: SiteId,
    epoch: Ulid,
    reply: mpsc::Sender<Answer>,
}

/// The answers to one stream's escalations, in the order they became durable.
pub struct Escalations {
    rx: mpsc::Receiver<Answer>,
}

impl Commands<'_> {
    /// Records `site`'s hello and answers with what the hub holds of it, once durable; the
    /// stream's messages then go through the [`SiteStream`], their answers come on the
    /// [`Escalations`].
    ///
    /// `answers` bounds the escalations the stream has outstanding (submitted, answer not yet
    /// read): the answer channel holds that many, so it is never what a submission waits on
    /// while the stream keeps to its bound, and each answer's slot is reserved before its
    /// escalation is queued, so the writer never waits on the stream either.
    pub async fn open_site_stream(
        self,
        site: &SiteId,
        hello: SiteHello,
        answers: usize,
    ) -> Result<(Welcomed, SiteStream, Escalations), HubError> {
        let (reply, mut rx) = mpsc::channel(answers.max(1));
        let slot = reply_slot(&reply)
            .await
            .ok_or_else(|| writer_stopped(self.ingest))?;
        self.ingest
            .submit(hello.item(site), Some(slot))
            .await
            .map_err(|_| writer_stopped(self.ingest))?;
        let welcomed = match rx.recv().await {
            Some(Ok(Outcome::Hello {
                acked_through,
                regression,
                epoch_changed,
                lease,
            })) => Welcomed {
                acked_through,
                regression,
                epoch_changed,
                lease,
            },
            Some(Err(e)) => return Err(HubError::storage(&e)),
            Some(Ok(_)) | None => return Err(writer_stopped(self.ingest)),
        };
        let stream = SiteStream {
            ingest: self.ingest.clone(),
            site: site.clone(),
            epoch: hello.epoch,
            reply,
        };
        Ok((welcomed, stream, Escalations { rx }))
    }

    /// Answers once everything applied before it is durable: what a caller read before
    /// asking may then be sent on without a hub crash losing it.
    pub async fn barrier(self) -> Result<(), HubError> {
        self.ingest
            .call(Item::Barrier)
            .await
            .map(drop)
            .map_err(|e| call_failed(self.ingest, e))
    }
}

impl SiteStream {
    /// Queues one judged message behind the ones before it; waits while the writer's queue
    /// is full. An escalation's answer comes on the stream's [`Escalations`].
    pub async fn record(&self, input: SiteInput) -> Result<(), HubError> {
        let reply = match input.answered() {
            true => Some(self.slot().await?),
            false => None,
        };
        self.ingest
            .submit(input.item(&self.site, self.epoch), reply)
            .await
            .map_err(|_| writer_stopped(&self.ingest))
    }

    /// Queues a judged batch of escalations behind the ones before it, handed to the writer
    /// together; each answer comes on the stream's [`Escalations`].
    ///
    /// Every slot is reserved before the batch is queued, so a batch larger than the answer
    /// channel would wait on itself: the transport keeps batches within the stream's bound
    /// (at most `max_batch`, and `max_batch` at most `max_in_flight`, the channel's size).
    pub async fn record_batch(&self, batch: Vec<Escalation>) -> Result<(), HubError> {
        debug_assert!(
            batch.len() <= self.reply.max_capacity(),
            "a batch of {} cannot fit an answer channel of {}",
            batch.len(),
            self.reply.max_capacity()
        );
        let mut items = Vec::with_capacity(batch.len());
        for e in batch {
            let slot = self.slot().await?;
            items.push((
                SiteInput::Escalation(e).item(&self.site, self.epoch),
                Some(slot),
            ));
        }
        self.ingest
            .submit_many(items.into_iter())
            .await
            .map_err(|_| writer_stopped(&self.ingest))
    }

    /// A slot for one escalation's answer; waits only if the stream exceeds its bound.
    async fn slot(&self) -> Result<Reply, HubError> {
        reply_slot(&self.reply)
            .await
            .ok_or_else(|| writer_stopped(&self.ingest))
    }
}

impl Escalations {
    /// The next escalation answered; `None` once no answer can come.
    pub async fn next(&mut self) -> Option<Result<Escalated, HubError>> {
        loop {
            if let Some(answer) = escalated(self.rx.recv().await?) {
                return Some(answer);
            }
        }
    }

    /// An escalation already answered, without waiting.
    pub fn ready(&mut self) -> Option<Result<Escalated, HubError>> {
        loop {
            if let Some(answer) = escalated(self.rx.try_recv().ok()?) {
                return Some(answer);
            }
        }
    }
}

/// An escalation's answer; `None` for any other (only escalations are answered on a stream).
fn escalated(reply: Answer) -> Option<Result<Escalated, HubError>> {
    match reply {
        Ok(Outcome::Escalation {
            seq,
            acked_through,
            outcome,
        }) => Some(Ok(Escalated {
            seq,
            acked_through,
            outcome,
        })),
        Ok(_) => None,
        Err(e) => Some(Err(HubError::storage(&e))),
    }
}

/// What the `site_message` fuzz body applies: a checked hello, or a judged message under the
/// epoch of the last hello.
// As `SiteInput`: boxing would cost an allocation per fuzz run for nothing.
#[allow(clippy::large_enum_variant)]
pub enum Unqueued {
    Hello(SiteHello),
    Input { epoch: Ulid, input: SiteInput },
}

/// Applies one message of `site` straight to `store` through the writer's transaction, without
/// the writer and its flush: the `site_message` fuzz body looks for what the checks let through
/// and the transaction cannot take. Answers the acknowledgement mark of a hello or an
/// escalation.
pub fn apply_unqueued(
    store: &HubStore,
    site: &SiteId,
    message: Unqueued,
    now: UnixMillis,
    window_ms: i64,
) -> Result<Option<u64>, StoreError> {
    let item = match message {
        Unqueued::Hello(hello) => hello.item(site),
        Unqueued::Input { epoch, input } => input.item(site, epoch),
    };
    let applied = crate::ingest::apply::apply(store, std::slice::from_ref(&item), now, window_ms)?;
    Ok(applied
        .outcomes
        .into_iter()
        .find_map(|outcome| match outcome {
            Outcome::Hello { acked_through, .. } | Outcome::Escalation { acked_through, .. } => {
                Some(acked_through)
            }
            _ => None,
        }))
}
