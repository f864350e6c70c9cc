//! The pure checks of what a site sends on the escalation stream: the hello, each
//! escalation's framing and report, and directive updates. The stream handler calls these and
//! nothing else to judge a message, and [`site_message`] (the fuzz target body shared by
//! `fuzz/` and the stable smoke test) runs them over arbitrary bytes.

use crate::grpc::response_convert;
use crate::store::apply::Offered;
use prost::Message;
use socfed_proto::pb::{self, site_message};
use socfed_proto::vocab::{IncidentReport, ReportLimits, SiteId};
use tonic::Status;
use ulid::Ulid;

/// A hello that names the certificate's site, with a well-formed epoch and next sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hello {
    pub epoch: Ulid,
    pub next_seq: u64,
}

/// Checks the first message of a stream opened by `site`.
pub fn hello(first: Option<pb::SiteMessage>, site: &SiteId) -> Result<Hello, Status> {
    let Some(pb::SiteMessage {
        body: Some(site_message::Body::Hello(hello)),
    }) = first
    else {
        return Err(Status::invalid_argument(
            "the first message of an escalation stream must be hello",
        ));
    };
    let pb::Hello {
        site_id,
        store_epoch,
        next_seq,
        agent_version: _,
    } = hello;
    if site_id != site.as_str() {
        return Err(Status::permission_denied(format!(
            "site certificate names {:?} but the stream claims {site_id:?}",
            site.as_str()
        )));
    }
    let epoch: [u8; 16] = store_epoch.as_slice().try_into().map_err(|_| {
        Status::invalid_argument(format!(
            "store_epoch must be 16 bytes, got {}",
            store_epoch.len()
        ))
    })?;
    if next_seq == 0 {
        return Err(Status::invalid_argument("next_seq starts at 1"));
    }
    Ok(Hello {
        epoch: Ulid::from_bytes(epoch),
        next_seq,
    })
}

/// An escalation's framing checked and its report judged. A report that does not convert is
/// still stored (for review) and acknowledged, so it is `Offered::Invalid`, not an error;
/// only broken framing ends the stream.
#[derive(Debug)]
pub struct Checked {
    pub seq: u64,
    pub dropped_before: u64,
    pub enqueued_at_ms: i64,
    pub offered: Offered,
}

pub fn escalation(e: pb::Escalation, limits: &ReportLimits) -> Result<Checked, Status> {
    let pb::Escalation {
        seq,
        report,
        enqueued_at_ms,
        dropped_before,
    } = e;
    if seq == 0 {
        return Err(Status::invalid_argument(
            "escalation sequence numbers start at 1",
        ));
    }
    if dropped_before >= seq {
        return Err(Status::invalid_argument(format!(
            "escalation {seq} declares {dropped_before} dropped sequences before it; at most {} exist",
            seq - 1
        )));
    }
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
    Ok(Checked {
        seq,
        dropped_before,
        enqueued_at_ms,
        offered,
    })
}

/// Fuzz target body: decodes `data` as a `SiteMessage` (with prost's own limits, as tonic
/// does) and runs the check its kind gets on a live stream.
pub fn site_message(data: &[u8]) {
    let Ok(message) = pb::SiteMessage::decode(data) else {
        return;
    };
    let Ok(site) = SiteId::parse("paris") else {
        return;
    };
    match message.body.clone() {
        Some(site_message::Body::Hello(_)) => {
            if let Ok(h) = hello(Some(message), &site) {
                assert!(h.next_seq >= 1);
            }
        }
        Some(site_message::Body::Escalation(e)) => {
            if let Ok(checked) = escalation(e, &ReportLimits::default()) {
                assert!(checked.seq >= 1 && checked.dropped_before < checked.seq);
            }
        }
        Some(site_message::Body::DirectiveUpdate(u)) => {
            let _ = response_convert::update(u);
        }
        Some(site_message::Body::Status(_)) | None => {}
    }
}
