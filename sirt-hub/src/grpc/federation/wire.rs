//! The pure checks of what a site sends on the escalation stream: the hello, each
//! escalation's framing and report, status reports and directive updates, each turned into
//! the [`SiteInput`] the stream records through `service::sites`. The stream handler calls
//! these and nothing else to judge a message.
//!
//! Every number a site sends is range-checked here (`vocab::bounds`): sequences and counts
//! at most 2^53 − 1, times between 1970 and 9999. Out of range is refused, never clamped or
//! wrapped: a legitimate agent cannot produce such values, and the writer's arithmetic on
//! them (the acknowledgement high-water mark) must never overflow. A refused hello, escalation
//! or status ends the stream with `INVALID_ARGUMENT` naming the field; a refused directive
//! update is dropped and counted (the site would only send it again on a new stream). A batch of
//! escalations is judged escalation by escalation with the same checks (and the same errors),
//! plus its count cap and strictly rising sequences.
//!
//! [`site_message`] is the fuzz target body shared by `fuzz/` and the stable smoke test: it
//! runs these checks over arbitrary bytes and applies what they accept to a real hub store,
//! through the same transaction the writer runs.

use crate::error::HubError;
use crate::ingest::apply::Offered;
use crate::service::sites::{self, Escalation, SiteHello, SiteInput, Unqueued};
use crate::view::response_convert;
use prost::Message;
use socfed_proto::pb::{self, site_message};
use socfed_proto::vocab::{IncidentReport, InvalidField, ReportLimits, SiteId, bounds};
use tonic::Status;
use ulid::Ulid;

/// A hello that names the certificate's site, with a well-formed epoch and next sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hello {
    pub epoch: Ulid,
    pub next_seq: u64,
    /// The last incident state the site stored; `None`: the site keeps none (an older agent),
    /// so none are sent.
    pub incident_states_after: Option<u64>,
    /// The last hub runbook version the site stored; `None`: the site keeps none.
    pub runbooks_after: Option<u64>,
}

fn invalid(e: InvalidField) -> Status {
    HubError::invalid(format!(
        "{e}; this stream is closed (a site agent never sends this: check the agent's version and store)"
    )).into()
}

/// Checks the first message of a stream opened by `site`.
pub fn hello(first: Option<pb::SiteMessage>, site: &SiteId) -> Result<Hello, Status> {
    let Some(pb::SiteMessage {
        body: Some(site_message::Body::Hello(hello)),
    }) = first
    else {
        return Err(
            HubError::invalid("the first message of an escalation stream must be hello").into(),
        );
    };
    let pb::Hello {
        site_id,
        store_epoch,
        next_seq,
        agent_version: _,
        incident_states_after,
        runbooks_after,
    } = hello;
    if site_id != site.as_str() {
        return Err(HubError::denied(format!(
            "site certificate names {:?} but the stream claims {site_id:?}",
            site.as_str()
        ))
        .into());
    }
    let epoch: [u8; 16] = store_epoch.as_slice().try_into().map_err(|_| {
        HubError::invalid(format!(
            "store_epoch must be 16 bytes, got {}",
            store_epoch.len()
        ))
    })?;
    if next_seq == 0 {
        return Err(HubError::invalid("next_seq starts at 1").into());
    }
    // The next sequence the site will assign: one past the largest it may use.
    if next_seq > bounds::MAX_SEQ + 1 {
        return Err(invalid(InvalidField::new(
            "hello.next_seq",
            format!(
                "{next_seq} is past the last sequence number ({})",
                bounds::MAX_SEQ
            ),
        )));
    }
    // 0 (nothing stored yet) or a sequence the hub could have sent.
    let incident_states_after = match incident_states_after {
        None | Some(0) => incident_states_after,
        Some(after) => Some(bounds::seq("hello.incident_states_after", after).map_err(invalid)?),
    };
    let runbooks_after = match runbooks_after {
        None | Some(0) => runbooks_after,
        Some(after) => Some(bounds::seq("hello.runbooks_after", after).map_err(invalid)?),
    };
    Ok(Hello {
        epoch: Ulid::from_bytes(epoch),
        next_seq,
        incident_states_after,
        runbooks_after,
    })
}

/// An escalation's framing checked and its report judged. A report that does not convert is
/// still stored (for review) and acknowledged, so it is `Offered::Invalid`, not an error;
/// only broken framing ends the stream.
pub fn escalation(e: pb::Escalation, limits: &ReportLimits) -> Result<Escalation, Status> {
    let pb::Escalation {
        seq,
        report,
        enqueued_at_ms,
        dropped_before,
    } = e;
    if seq == 0 {
        return Err(HubError::invalid("escalation sequence numbers start at 1").into());
    }
    let seq = bounds::seq("escalation.seq", seq).map_err(invalid)?;
    if dropped_before >= seq {
        return Err(HubError::invalid(format!(
            "escalation {seq} declares {dropped_before} dropped sequences before it; at most {} exist",
            seq - 1
        )).into());
    }
    let enqueued_at_ms =
        bounds::time("escalation.enqueued_at_ms", enqueued_at_ms).map_err(invalid)?;
    let offered = match report {
        None => Offered::Invalid {
            wire: pb::IncidentReport::default(),
            reason: "the escalation carries no report".into(),
        },
        Some(wire) => match IncidentReport::from_wire(wire.clone(), limits) {
            Ok(report) => Offered::Valid(report),
            Err(e) => Offered::Invalid {
                wire,
                reason: e.to_string(),
            },
        },
    };
    Ok(Escalation {
        seq,
        dropped_before,
        enqueued_at_ms,
        offered,
    })
}

/// The most escalations a batch may carry when the caller names no cap (the fuzz body).
pub const FUZZ_MAX_BATCH: usize = 256;

/// A batch of escalations: at least one and at most `max_batch` (the cap this hub advertised;
/// 0: it advertised none, so no honest agent sends one), each judged by [`escalation`] exactly
/// as if it came alone, with sequences rising strictly. The message's size was already bounded
/// by the decoding limit, as for a single escalation.
pub fn batch(
    b: pb::EscalationBatch,
    max_batch: usize,
    limits: &ReportLimits,
) -> Result<Vec<Escalation>, Status> {
    let pb::EscalationBatch { escalations } = b;
    if escalations.is_empty() {
        return Err(
            HubError::invalid("an escalation batch must carry at least one escalation").into(),
        );
    }
    if escalations.len() > max_batch {
        return Err(invalid(InvalidField::new(
            "escalation_batch.escalations",
            format!(
                "{} escalations in one batch; this hub takes at most {max_batch} (its welcome's max_batch)",
                escalations.len()
            ),
        )));
    }
    let mut judged: Vec<Escalation> = Vec::with_capacity(escalations.len());
    for e in escalations {
        let e = escalation(e, limits)?;
        if let Some(previous) = judged.last().map(|p| p.seq)
            && e.seq <= previous
        {
            return Err(invalid(InvalidField::new(
                "escalation_batch.escalations",
                format!(
                    "sequence {} follows {previous}: sequences in a batch rise strictly",
                    e.seq
                ),
            )));
        }
        judged.push(e);
    }
    Ok(judged)
}

/// A site's outbox status with every number in range: counts at most 2^53 − 1 and the age
/// of the oldest unsent escalation no longer than the Unix epoch is old.
pub fn status(s: pb::SiteStatus) -> Result<pb::SiteStatus, Status> {
    let pb::SiteStatus {
        backlog,
        oldest_unsent_age_ms,
        refused_total,
        dropped_total,
    } = s;
    let checked = || -> Result<pb::SiteStatus, InvalidField> {
        Ok(pb::SiteStatus {
            backlog: bounds::count("status.backlog", backlog)?,
            oldest_unsent_age_ms: bounds::time(
                "status.oldest_unsent_age_ms",
                i64::try_from(oldest_unsent_age_ms).unwrap_or(i64::MAX),
            )?
            .unsigned_abs(),
            refused_total: bounds::count("status.refused_total", refused_total)?,
            dropped_total: bounds::count("status.dropped_total", dropped_total)?,
        })
    };
    checked().map_err(invalid)
}

/// What the stream does with one message after the hello.
// Apply is the common case (every escalation); boxing it would cost an allocation per message,
// as for `SiteInput` itself.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Judged {
    /// Record this (an escalation's outcome comes back to the stream).
    Apply(SiteInput),
    /// Record these escalations together (each outcome comes back to the stream).
    Batch(Vec<Escalation>),
    /// Drop the message: a malformed directive update, with the reason to log.
    Ignore(String),
}

/// Judges one message of a site's stream after its hello; `max_batch` is the batch cap this
/// hub advertised. `Err` ends the stream with that status.
pub fn judge(
    message: pb::SiteMessage,
    max_batch: usize,
    limits: &ReportLimits,
) -> Result<Judged, Status> {
    match message.body {
        Some(site_message::Body::Escalation(e)) => {
            Ok(Judged::Apply(SiteInput::Escalation(escalation(e, limits)?)))
        }
        Some(site_message::Body::EscalationBatch(b)) => {
            Ok(Judged::Batch(batch(b, max_batch, limits)?))
        }
        Some(site_message::Body::Status(s)) => Ok(Judged::Apply(SiteInput::Status(status(s)?))),
        Some(site_message::Body::DirectiveUpdate(u)) => Ok(match response_convert::update(u) {
            Ok((directive, report)) => {
                Judged::Apply(SiteInput::DirectiveUpdate { directive, report })
            }
            Err(reason) => Judged::Ignore(reason),
        }),
        Some(site_message::Body::Hello(_)) => {
            Err(HubError::invalid("hello may only be the first message of a stream").into())
        }
        None => Err(HubError::invalid("empty site message").into()),
    }
}

/// A hub store in a temporary directory for [`site_message`], opened once per thread and
/// replaced now and then so a long fuzzing run does not grow it without bound.
struct FuzzHub {
    _dir: tempfile::TempDir,
    store: crate::store::HubStore,
    applied: u32,
    epoch: Ulid,
}

const FUZZ_STORE_RUNS: u32 = 20_000;

thread_local! {
    static FUZZ_HUB: std::cell::RefCell<Option<FuzzHub>> = const { std::cell::RefCell::new(None) };
}

fn fuzz_hub() -> Option<FuzzHub> {
    let dir = tempfile::tempdir().ok()?;
    let store = crate::store::HubStore::open(
        dir.path(),
        crate::store::Durability::Flush,
        socfed_runtime::audit::ChainKey::from_bytes([7; 32]),
    )
    .ok()?;
    Some(FuzzHub {
        _dir: dir,
        store,
        applied: 0,
        epoch: Ulid::from_parts(1, 1),
    })
}

/// Fuzz target body: decodes `data` as a `SiteMessage` (with prost's own limits, as tonic
/// does), judges it as the stream does, and applies whatever is accepted to a real hub store
/// through the writer's transaction. Panics (the fuzzer's findings) if a check lets through
/// what it promises to refuse, if the writer fails on an accepted message, or if the
/// acknowledgement mark leaves the sequence range.
pub fn site_message(data: &[u8]) {
    let Ok(message) = pb::SiteMessage::decode(data) else {
        return;
    };
    let Ok(site) = SiteId::parse("paris") else {
        return;
    };
    FUZZ_HUB.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot
            .as_ref()
            .is_none_or(|hub| hub.applied >= FUZZ_STORE_RUNS)
        {
            *slot = fuzz_hub();
        }
        let Some(hub) = slot.as_mut() else {
            return;
        };
        let message = if let Some(site_message::Body::Hello(_)) = message.body {
            match hello(Some(message), &site) {
                Ok(h) => {
                    assert!((1..=bounds::MAX_SEQ + 1).contains(&h.next_seq));
                    hub.epoch = h.epoch;
                    vec![Unqueued::Hello(SiteHello {
                        epoch: h.epoch,
                        next_seq: h.next_seq,
                        cert_not_after_ms: 0,
                    })]
                }
                Err(_) => return,
            }
        } else {
            let inputs = match judge(message, FUZZ_MAX_BATCH, &ReportLimits::default()) {
                Ok(Judged::Apply(input)) => vec![input],
                Ok(Judged::Batch(batch)) => {
                    assert!(!batch.is_empty() && batch.len() <= FUZZ_MAX_BATCH);
                    assert!(batch.windows(2).all(|w| w[0].seq < w[1].seq));
                    batch.into_iter().map(SiteInput::Escalation).collect()
                }
                Ok(Judged::Ignore(_)) | Err(_) => return,
            };
            for input in &inputs {
                if let SiteInput::Escalation(Escalation {
                    seq,
                    dropped_before,
                    ..
                }) = input
                {
                    assert!((1..=bounds::MAX_SEQ).contains(seq) && dropped_before < seq);
                }
            }
            let epoch = hub.epoch;
            inputs
                .into_iter()
                .map(|input| Unqueued::Input { epoch, input })
                .collect()
        };
        for message in message {
            hub.applied += 1;
            let acked =
                sites::apply_unqueued(&hub.store, &site, message, 1_700_000_000_000, 86_400_000)
                    .expect("the writer applies every message the checks accept");
            if let Some(acked_through) = acked {
                assert!(acked_through <= bounds::MAX_SEQ, "ack mark {acked_through}");
            }
        }
    });
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
