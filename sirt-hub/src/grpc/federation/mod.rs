//! The `Federation.Escalate` stream: binds the stream to the site in the client certificate,
//! records escalations through `service::sites` and acknowledges by high-water mark once
//! durable.
//! The hub → site half lives in [`directives`] (response actions) and [`states`] (the hub's
//! state of the site's incidents); [`wire`] judges each site message.

mod directives;
mod opening;
mod runbooks;
mod states;
pub mod wire;

use crate::error::HubError;
use crate::ingest::IngestHandle;
use crate::ingest::apply::EscalationOutcome;
use crate::live::LiveSites;
use crate::service::Commands;
use crate::service::sites::{Escalated, Escalations, SiteHello, SiteInput, SiteStream};
use opening::{code_label, inbound_error, read_hello, refused, warn_if_expiring};
use socfed_proto::identity::Identity;
use socfed_proto::pb::{self, hub_message};
use socfed_proto::vocab::{ReportLimits, SiteId};
use socfed_runtime::peer::{caller, require_role};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Code, Request, Response, Status, Streaming};
use ulid::Ulid;

#[derive(Clone)]
pub struct FederationService {
    pub ingest: IngestHandle,
    pub store: Arc<crate::store::HubStore>,
    pub live: Arc<LiveSites>,
    pub enrolled: crate::enrolment::Enrolled,
    pub limits: ReportLimits,
    /// Escalations one stream may have submitted and not yet seen committed.
    pub max_in_flight: usize,
    /// Escalations one batch may carry, announced in the welcome; 0: batches are refused.
    /// At most `max_in_flight` (config validation).
    pub max_batch: usize,
    /// The decoding limit, announced to sites in the welcome.
    pub max_message_bytes: usize,
    pub shutdown: CancellationToken,
    /// Refusals after the stream opened (oversized messages) go to the audit from here;
    /// refusals at open are seen by `grpc::refusal_layer`.
    pub refusals: Arc<crate::refusals::RefusalAudit>,
}

/// The refusal of a stream from a site that is not (or no longer) enrolled.
fn not_enrolled(site: &SiteId) -> Status {
    HubError::denied(format!(
        "site {site:?} is not enrolled at this hub; an admin or the CISO enrols it with `sirt-hub sites enrol {site}`"
    ))
    .into()
}

type Outbound = mpsc::Sender<Result<pb::HubMessage, Status>>;

#[tonic::async_trait]
impl pb::federation_server::Federation for FederationService {
    type EscalateStream = ReceiverStream<Result<pb::HubMessage, Status>>;

    async fn escalate(
        &self,
        request: Request<Streaming<pb::SiteMessage>>,
    ) -> Result<Response<Self::EscalateStream>, Status> {
        let remote = request.remote_addr().or_else(|| {
            request
                .extensions()
                .get::<socfed_runtime::peer::PeerInfo>()
                .and_then(|i| i.remote_addr)
        });
        let peer = caller(&request).inspect_err(|s| refused(None, remote, s))?;
        require_role(&peer, "site", "the escalation stream")
            .inspect_err(|s| refused(None, remote, s))?;
        let Identity::Site(site) = peer.identity.clone() else {
            return Err(HubError::denied("the escalation stream needs a site certificate").into());
        };
        // The store's enrolled sites, read at every open: an enrolment or removal takes effect
        // with the site's next stream, no restart (`crate::enrolment`).
        if !self.enrolled.contains(&site)? {
            let status = not_enrolled(&site);
            refused(Some(&site), remote, &status);
            return Err(status);
        }
        let mut inbound = request.into_inner();
        let hello = read_hello(&mut inbound, &site)
            .await
            .inspect_err(|s| refused(Some(&site), remote, s))?;

        let (welcomed, stream, escalations) = Commands::on(&self.ingest)
            .open_site_stream(
                &site,
                SiteHello {
                    epoch: hello.epoch,
                    next_seq: hello.next_seq,
                    cert_not_after_ms: peer.not_after_ms,
                },
                self.max_in_flight,
            )
            .await?;
        if welcomed.epoch_changed {
            tracing::warn!(site = %site, epoch = %hello.epoch, "site presents a new store epoch: its store was recreated or restored");
        }
        if welcomed.regression {
            tracing::error!(site = %site, epoch = %hello.epoch, next_seq = hello.next_seq, acked_through = welcomed.acked_through, "site store went backwards: the hub holds sequences the site no longer has");
        }
        let welcome = pb::Welcome {
            acked_through: welcomed.acked_through,
            sequence_regression: welcomed.regression,
            max_message_bytes: self.max_message_bytes as u64,
            max_batch: u32::try_from(self.max_batch).unwrap_or(u32::MAX),
        };

        let (out_tx, out_rx) = mpsc::channel(64);
        let now = socfed_proto::now_millis();
        warn_if_expiring(&site, peer.not_after_ms, now);
        let registered = self.live.register(&site, remote, &self.shutdown, now);
        if let Some(previous) = registered.taken_from(remote) {
            self.refusals.takeover(crate::refusals::Refusal {
                action: crate::refusals::TAKEOVER,
                who: peer.uri.clone(),
                cert: peer.fingerprint.clone(),
                peer_ip: remote.map(|a| a.ip()),
                api: "/socfed.v1.Federation/Escalate".into(),
                reason: format!(
                    "a new stream for site {site} superseded its open stream from {previous}"
                ),
            });
        }
        let (generation, cancel) = (registered.generation, registered.cancel);
        self.live.set_lease(&site, generation, welcomed.lease);
        // Removed between the check above and the registration: the removal's end of the
        // stream came before there was one to end, so end it here.
        if !self.enrolled.contains(&site)? {
            self.live.unregister(&site, generation);
            let status = not_enrolled(&site);
            refused(Some(&site), remote, &status);
            return Err(status);
        }
        tracing::info!(site = %site, ?remote, epoch = %hello.epoch, acked_through = welcome.acked_through, "site stream open");
        let first = pb::HubMessage {
            body: Some(hub_message::Body::Welcome(welcome)),
        };
        if out_tx.send(Ok(first)).await.is_err() {
            self.live.unregister(&site, generation);
            return Err(Status::cancelled("the site went away"));
        }
        let session = Session {
            service: self.clone(),
            site,
            out: out_tx,
            stream,
            in_flight: 0,
            answered_max: 0,
            sent_directives: HashSet::new(),
            states_after: None,
            states_blocked: false,
            runbooks_after: None,
            runbooks_blocked: false,
            peer_uri: peer.uri.clone(),
            peer_cert: peer.fingerprint.clone(),
            remote,
        };
        metrics::counter!("socfed_hub_stream_connects_total").increment(1);
        metrics::gauge!("socfed_hub_streams_open").increment(1.0);
        tokio::spawn(async move {
            let site = session.site.clone();
            let live = session.service.live.clone();
            session.run(inbound, escalations, cancel, hello).await;
            live.unregister(&site, generation);
            metrics::gauge!("socfed_hub_streams_open").decrement(1.0);
        });
        Ok(Response::new(ReceiverStream::new(out_rx)))
    }
}

/// How soon incident states that found the outbound queue full are tried again.
const STATES_RETRY: std::time::Duration = std::time::Duration::from_millis(50);

struct Session {
    service: FederationService,
    site: SiteId,
    out: Outbound,
    /// Records this stream's messages (escalations answered on the session's `Escalations`).
    stream: SiteStream,
    in_flight: usize,
    /// Highest sequence of this stream whose outcome came back from the writer.
    answered_max: u64,
    /// Directives sent on this stream (a new stream sends every open one again).
    sent_directives: HashSet<Ulid>,
    /// The last incident state sent on this stream; `None`: the site keeps none.
    states_after: Option<u64>,
    /// The outbound queue was full when states were due: the rest waits for the retry arm of
    /// the loop, which keeps reading the site meanwhile (blocking here while the site blocks
    /// sending to us would stop both).
    states_blocked: bool,
    /// The last hub runbook version sent on this stream; `None`: the site keeps none.
    runbooks_after: Option<u64>,
    /// Like `states_blocked`, for runbook versions.
    runbooks_blocked: bool,
    /// The caller, for audit records: certificate URI and fingerprint, address.
    peer_uri: String,
    peer_cert: String,
    remote: Option<std::net::SocketAddr>,
}

/// Why a session stops reading.
enum Ending {
    /// The site closed its side; finish and end cleanly.
    Finished,
    /// End with this status once in-flight escalations are acknowledged.
    Fail(Status),
}

impl Session {
    async fn run(
        mut self,
        mut inbound: Streaming<pb::SiteMessage>,
        mut escalations: Escalations,
        cancel: CancellationToken,
        hello: wire::Hello,
    ) {
        let incident_states_after = hello.incident_states_after;
        let mut ending: Option<Ending> = None;
        // Subscribe before the first read so a directive issued (or a state queued) in between
        // is not missed.
        let mut directive_events = self.service.ingest.subscribe_directives();
        let mut directives_open = true;
        let mut state_events = self.service.ingest.subscribe_states();
        let mut states_open = incident_states_after.is_some();
        let mut runbook_events = self.service.ingest.subscribe_runbooks();
        let mut runbooks_open = hello.runbooks_after.is_some();
        if let Err(status) = self.send_directives().await {
            ending = Some(Ending::Fail(status));
        } else if let Err(status) = self.start_states(incident_states_after).await {
            ending = Some(Ending::Fail(status));
        } else if let Err(status) = self.start_runbooks(hello.runbooks_after).await {
            ending = Some(Ending::Fail(status));
        }
        loop {
            if ending.is_some() && self.in_flight == 0 {
                break;
            }
            // Room for the largest message this stream may send (a full batch), so the cap on
            // escalations in flight holds with batches too.
            let can_read = ending.is_none()
                && self.in_flight + self.service.max_batch.max(1) <= self.service.max_in_flight;
            tokio::select! {
                biased;
                answer = escalations.next() => match answer {
                    Some(first) => {
                        if let Err(status) = self.acknowledge(first, &mut escalations).await {
                            ending = Some(Ending::Fail(status));
                            // Outcomes still pending cannot be acknowledged on a failed stream.
                            self.in_flight = 0;
                        }
                    }
                    None => break,
                },
                () = cancel.cancelled(), if ending.is_none() => {
                    let reason = if self.service.shutdown.is_cancelled() {
                        super::writer_stopped(&self.service.ingest)
                    } else {
                        HubError::aborted("the hub ended this stream (a newer stream from this site, or reloaded certificates); reconnect")
                    };
                    ending = Some(Ending::Fail(reason.into()));
                }
                event = directive_events.recv(), if ending.is_none() && directives_open => {
                    if self.concerns(event, &mut directives_open)
                        && let Err(status) = self.send_directives().await
                    {
                        ending = Some(Ending::Fail(status));
                    }
                }
                event = state_events.recv(), if ending.is_none() && states_open => {
                    if self.concerns(event, &mut states_open)
                        && let Err(status) = self.send_states().await
                    {
                        ending = Some(Ending::Fail(status));
                    }
                }
                changed = runbook_events.changed(), if ending.is_none() && runbooks_open => {
                    runbooks_open = changed.is_ok();
                    if let Err(status) = self.send_runbooks().await {
                        ending = Some(Ending::Fail(status));
                    }
                }
                () = tokio::time::sleep(STATES_RETRY), if ending.is_none() && self.states_blocked => {
                    self.states_blocked = false;
                    if let Err(status) = self.send_states().await {
                        ending = Some(Ending::Fail(status));
                    }
                }
                () = tokio::time::sleep(STATES_RETRY), if ending.is_none() && self.runbooks_blocked => {
                    self.runbooks_blocked = false;
                    if let Err(status) = self.send_runbooks().await {
                        ending = Some(Ending::Fail(status));
                    }
                }
                message = inbound.message(), if can_read => match message {
                    Ok(Some(message)) => {
                        if let Err(status) = self.handle(message).await {
                            tracing::warn!(site = %self.site, code = ?status.code(), reason = status.message(), "closing escalation stream");
                            if status.code() == Code::InvalidArgument {
                                // A value no honest agent sends (wire::judge): a security event
                                // of an authenticated site, counted and audited (coalesced).
                                self.refuse_mid_stream(&status);
                            }
                            ending = Some(Ending::Fail(status));
                        }
                    }
                    Ok(None) => ending = Some(Ending::Finished),
                    Err(status) => {
                        let status = inbound_error(&status);
                        if status.code() == Code::ResourceExhausted {
                            tracing::warn!(site = %self.site, reason = status.message(), "oversized message on escalation stream");
                            self.refuse_mid_stream(&status);
                        }
                        ending = Some(Ending::Fail(status));
                    }
                },
            }
        }
        if let Some(Ending::Fail(status)) = ending {
            let _ = self.out.send(Err(status)).await;
        }
        tracing::info!(site = %self.site, "site stream closed");
    }

    /// Whether a writer notice (a site with new directives or states) concerns this stream.
    /// Missed notices count as ours: looking costs one read. A closed channel stops `open`.
    fn concerns(
        &self,
        event: Result<SiteId, tokio::sync::broadcast::error::RecvError>,
        open: &mut bool,
    ) -> bool {
        use tokio::sync::broadcast::error::RecvError;
        match event {
            Ok(site) => site == self.site,
            Err(RecvError::Lagged(_)) => true,
            Err(RecvError::Closed) => {
                *open = false;
                false
            }
        }
    }

    /// A refusal after the stream opened: counted like refusals at open, and into the audit
    /// (refusals at open are seen by `grpc::refusal_layer`).
    fn refuse_mid_stream(&self, status: &Status) {
        metrics::counter!("socfed_hub_streams_refused_total", "code" => code_label(status.code()))
            .increment(1);
        self.service.refusals.record(crate::refusals::Refusal {
            action: crate::refusals::ACTION,
            who: self.peer_uri.clone(),
            cert: self.peer_cert.clone(),
            peer_ip: self.remote.map(|a| a.ip()),
            api: "/socfed.v1.Federation/Escalate".into(),
            reason: format!("{:?}: {}", status.code(), status.message()),
        });
    }

    async fn handle(&mut self, message: pb::SiteMessage) -> Result<(), Status> {
        let input = match wire::judge(message, self.service.max_batch, &self.service.limits)? {
            wire::Judged::Apply(input) => input,
            wire::Judged::Batch(batch) => {
                let count = batch.len();
                metrics::counter!("socfed_hub_escalation_batches_total").increment(1);
                self.stream.record_batch(batch).await?;
                self.in_flight += count;
                return Ok(());
            }
            wire::Judged::Ignore(reason) => {
                // Only directive updates are ignored: a malformed one is logged and dropped
                // rather than closing the stream (the site would reconnect and resend it).
                metrics::counter!("socfed_hub_directive_updates_total", "outcome" => "invalid")
                    .increment(1);
                tracing::warn!(site = %self.site, %reason, "ignoring malformed directive update");
                return Ok(());
            }
        };
        if matches!(input, SiteInput::DirectiveUpdate { .. }) {
            metrics::counter!("socfed_hub_directive_updates_total", "outcome" => "received")
                .increment(1);
        }
        let answered = input.answered();
        self.stream.record(input).await?;
        if answered {
            self.in_flight += 1;
        }
        Ok(())
    }

    /// Sends one ack covering `first` and every outcome already waiting: batching acks by
    /// high-water mark keeps the return path cheap under load.
    async fn acknowledge(
        &mut self,
        first: Result<Escalated, HubError>,
        escalations: &mut Escalations,
    ) -> Result<(), Status> {
        let mut ack = pb::Ack::default();
        let mut next = Some(first);
        while let Some(answer) = next.take() {
            let Escalated {
                seq,
                acked_through,
                outcome,
            } = answer?;
            self.in_flight = self.in_flight.saturating_sub(1);
            // Never acknowledge past what this stream has had answered: the hub may hold
            // higher sequences of this epoch with other content (a site restored from a
            // backup), and the site must hear about the conflict before it deletes.
            self.answered_max = self.answered_max.max(seq);
            ack.acked_through = ack.acked_through.max(acked_through.min(self.answered_max));
            let notice = match outcome {
                EscalationOutcome::Applied { .. } | EscalationOutcome::Duplicate => None,
                EscalationOutcome::Conflict { reason } => {
                    Some((pb::ack_notice::Kind::Conflict, reason))
                }
                EscalationOutcome::Rejected { reason } => {
                    Some((pb::ack_notice::Kind::Rejected, reason))
                }
            };
            if let Some((kind, reason)) = notice {
                tracing::warn!(site = %self.site, seq, ?kind, %reason, "escalation kept for review");
                ack.notices.push(pb::AckNotice {
                    seq,
                    kind: kind as i32,
                    reason,
                });
            }
            next = escalations.ready();
        }
        if ack.acked_through > 0 {
            let message = pb::HubMessage {
                body: Some(hub_message::Body::Ack(ack)),
            };
            self.out
                .send(Ok(message))
                .await
                .map_err(|_| Status::cancelled("the site went away"))?;
        }
        Ok(())
    }
}
