//! Escalations on the wire, built from the outbox's stored bytes.
//!
//! The outbox holds each report already encoded (`IncidentReport`, prost): the `Escalation`
//! frame is written by hand around those bytes, so a report is never decoded or encoded again
//! on its way out (what the hub hashes is exactly what the site stored, and the uplink spends
//! no CPU on it). Consecutive entries are packed into one `EscalationBatch` when the hub's
//! welcome advertises batches (`max_batch` > 0), up to its count cap and message size limit;
//! otherwise, and for a lone entry, each goes as a single `escalation`, which every hub reads.
//!
//! The request stream carries [`Outgoing`]: a typed `SiteMessage` (hello, status, directive
//! update) or one already encoded here. The generated client takes only the typed message, so
//! [`escalate`] opens the same gRPC call by hand with a codec for [`Outgoing`].

use prost::bytes::{Buf, BufMut};
use prost::encoding::{
    DecodeContext, WireType, encode_key, encode_varint, encoded_len_varint, key_len, skip_field,
};
use socfed_proto::pb;
use tokio_stream::wrappers::ReceiverStream;

/// `SiteMessage.escalation` and `SiteMessage.escalation_batch` (federation.proto).
const SITE_ESCALATION: u32 = 2;
const SITE_ESCALATION_BATCH: u32 = 5;
/// `EscalationBatch.escalations`.
const BATCH_ESCALATIONS: u32 = 1;
/// `Escalation` fields.
const SEQ: u32 = 1;
const REPORT: u32 = 2;
const ENQUEUED_AT_MS: u32 = 3;
const DROPPED_BEFORE: u32 = 4;

/// One message of the request stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    Typed(pb::SiteMessage),
    /// A `SiteMessage` whose only field, number `field`, holds `body` (length-delimited).
    Frame {
        field: u32,
        body: Vec<u8>,
    },
}

impl From<pb::SiteMessage> for Outgoing {
    fn from(message: pb::SiteMessage) -> Self {
        Outgoing::Typed(message)
    }
}

impl prost::Message for Outgoing {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        match self {
            Outgoing::Typed(message) => message.encode_raw(buf),
            Outgoing::Frame { field, body } => {
                encode_key(*field, WireType::LengthDelimited, buf);
                encode_varint(body.len() as u64, buf);
                buf.put_slice(body);
            }
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        // Only ever sent, never decoded: skipping keeps the trait's contract without a parser.
        skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        match self {
            Outgoing::Typed(message) => message.encoded_len(),
            Outgoing::Frame { field, body } => delimited_len(*field, body.len()),
        }
    }

    fn clear(&mut self) {
        *self = Outgoing::Typed(pb::SiteMessage::default());
    }
}

/// Opens `Federation.Escalate` on `channel` with `outbound` as the request stream.
pub async fn escalate(
    channel: tonic::transport::Channel,
    max_message_bytes: usize,
    outbound: ReceiverStream<Outgoing>,
) -> Result<tonic::Streaming<pb::HubMessage>, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel)
        .max_decoding_message_size(max_message_bytes)
        .max_encoding_message_size(max_message_bytes);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(format!("hub not ready: {e}")))?;
    let codec = tonic_prost::ProstCodec::<Outgoing, pb::HubMessage>::default();
    let path =
        tonic::codegen::http::uri::PathAndQuery::from_static("/socfed.v1.Federation/Escalate");
    let mut request = tonic::Request::new(outbound);
    request
        .extensions_mut()
        .insert(tonic::GrpcMethod::new("socfed.v1.Federation", "Escalate"));
    Ok(grpc.streaming(request, path, codec).await?.into_inner())
}

/// One outbox entry as it goes out.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub seq: u64,
    pub enqueued_at_ms: i64,
    pub dropped_before: u64,
    /// The stored `IncidentReport` bytes.
    pub report: &'a [u8],
}

fn delimited_len(field: u32, len: usize) -> usize {
    key_len(field) + encoded_len_varint(len as u64) + len
}

fn varint_field_len(field: u32, value: u64) -> usize {
    if value == 0 {
        0
    } else {
        key_len(field) + encoded_len_varint(value)
    }
}

impl Entry<'_> {
    /// Encoded length of the `Escalation` (as prost encodes it: zero scalars left out).
    fn len(&self) -> usize {
        varint_field_len(SEQ, self.seq)
            + delimited_len(REPORT, self.report.len())
            // int64 goes on the wire as its two's complement, as prost writes it.
            + varint_field_len(ENQUEUED_AT_MS, self.enqueued_at_ms as u64)
            + varint_field_len(DROPPED_BEFORE, self.dropped_before)
    }

    fn encode(&self, buf: &mut Vec<u8>) {
        let varint = |field: u32, value: u64, buf: &mut Vec<u8>| {
            if value != 0 {
                encode_key(field, WireType::Varint, buf);
                encode_varint(value, buf);
            }
        };
        varint(SEQ, self.seq, buf);
        // A message field written from its encoding: the same bytes prost would write.
        encode_key(REPORT, WireType::LengthDelimited, buf);
        encode_varint(self.report.len() as u64, buf);
        buf.put_slice(self.report);
        varint(ENQUEUED_AT_MS, self.enqueued_at_ms as u64, buf);
        varint(DROPPED_BEFORE, self.dropped_before, buf);
    }

    /// The whole `SiteMessage` this entry makes alone.
    pub fn single_message_len(&self) -> usize {
        delimited_len(SITE_ESCALATION, self.len())
    }
}

/// Packs consecutive entries into messages: batches of at most `max_count` (0 or 1: single
/// escalations only) within `limit` bytes per message.
#[derive(Debug)]
pub struct Packer {
    max_count: usize,
    limit: usize,
    /// The batch so far: each entry as an `EscalationBatch.escalations` element.
    body: Vec<u8>,
    /// The first entry alone, while it is the only one (sent as a single escalation).
    first: Vec<u8>,
    count: usize,
    last_seq: u64,
}

/// A message ready to send and the entries it carries.
#[derive(Debug)]
pub struct Packed {
    pub message: Outgoing,
    pub count: usize,
    pub last_seq: u64,
}

impl Packer {
    pub fn new(max_count: usize, limit: usize) -> Self {
        Self {
            max_count: max_count.max(1),
            limit,
            body: Vec::new(),
            first: Vec::new(),
            count: 0,
            last_seq: 0,
        }
    }

    /// Whether `entry` joins the message being packed; `false`: take that one first.
    pub fn fits(&self, entry: &Entry<'_>) -> bool {
        if self.count == 0 {
            return true;
        }
        if self.count >= self.max_count {
            return false;
        }
        let body = self.batch_body_len() + delimited_len(BATCH_ESCALATIONS, entry.len());
        delimited_len(SITE_ESCALATION_BATCH, body) <= self.limit
    }

    /// Adds `entry`; the caller checked [`Packer::fits`] and that it fits alone.
    pub fn push(&mut self, entry: &Entry<'_>) {
        if self.count == 0 {
            self.first.clear();
            entry.encode(&mut self.first);
        } else {
            if self.count == 1 {
                self.body.clear();
                encode_key(BATCH_ESCALATIONS, WireType::LengthDelimited, &mut self.body);
                encode_varint(self.first.len() as u64, &mut self.body);
                self.body.extend_from_slice(&self.first);
            }
            encode_key(BATCH_ESCALATIONS, WireType::LengthDelimited, &mut self.body);
            encode_varint(entry.len() as u64, &mut self.body);
            entry.encode(&mut self.body);
        }
        self.count += 1;
        self.last_seq = entry.seq;
    }

    fn batch_body_len(&self) -> usize {
        if self.count == 1 {
            delimited_len(BATCH_ESCALATIONS, self.first.len())
        } else {
            self.body.len()
        }
    }

    /// The message packed so far (a single escalation when it holds one entry); the packer
    /// starts empty again.
    pub fn take(&mut self) -> Option<Packed> {
        let (field, body) = match self.count {
            0 => return None,
            1 => (SITE_ESCALATION, std::mem::take(&mut self.first)),
            _ => (SITE_ESCALATION_BATCH, std::mem::take(&mut self.body)),
        };
        let packed = Packed {
            message: Outgoing::Frame { field, body },
            count: self.count,
            last_seq: self.last_seq,
        };
        self.count = 0;
        Some(packed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use socfed_proto::pb::site_message;

    fn report(title: &str) -> pb::IncidentReport {
        pb::IncidentReport {
            local_incident_id: format!("l-{title}"),
            revision: 1,
            title: title.into(),
            ..Default::default()
        }
    }

    fn typed(seq: u64, enqueued_at_ms: i64, dropped_before: u64, title: &str) -> pb::Escalation {
        pb::Escalation {
            seq,
            report: Some(report(title)),
            enqueued_at_ms,
            dropped_before,
        }
    }

    fn encoded(message: &Outgoing) -> Vec<u8> {
        let mut buf = Vec::new();
        message.encode_raw(&mut buf);
        assert_eq!(buf.len(), message.encoded_len());
        buf
    }

    #[test]
    fn a_hand_built_frame_is_byte_for_byte_what_prost_encodes() {
        let cases = [
            typed(1, 1_700_000_000_000, 0, "a"),
            typed(9, -5, 3, "b"),
            typed(0, 0, 0, ""),
        ];
        let stored: Vec<Vec<u8>> = cases
            .iter()
            .map(|e| {
                e.report
                    .as_ref()
                    .map(Message::encode_to_vec)
                    .unwrap_or_default()
            })
            .collect();
        let entries: Vec<Entry<'_>> = cases
            .iter()
            .zip(&stored)
            .map(|(e, bytes)| Entry {
                seq: e.seq,
                enqueued_at_ms: e.enqueued_at_ms,
                dropped_before: e.dropped_before,
                report: bytes,
            })
            .collect();
        for (case, entry) in cases.iter().zip(&entries) {
            let mut packer = Packer::new(0, usize::MAX);
            packer.push(entry);
            let packed = packer.take().expect("one entry");
            let expected = pb::SiteMessage {
                body: Some(site_message::Body::Escalation(case.clone())),
            };
            assert_eq!(encoded(&packed.message), expected.encode_to_vec());
            assert_eq!(entry.single_message_len(), expected.encoded_len());
        }
        let mut packer = Packer::new(8, usize::MAX);
        for entry in &entries {
            assert!(packer.fits(entry));
            packer.push(entry);
        }
        let packed = packer.take().expect("three entries");
        assert_eq!((packed.count, packed.last_seq), (3, 0));
        let expected = pb::SiteMessage {
            body: Some(site_message::Body::EscalationBatch(pb::EscalationBatch {
                escalations: cases.to_vec(),
            })),
        };
        assert_eq!(encoded(&packed.message), expected.encode_to_vec());
        assert!(packer.take().is_none());
    }

    #[test]
    fn batches_stop_at_the_count_cap_and_the_message_limit() {
        let bytes = report("x").encode_to_vec();
        let entry = |seq| Entry {
            seq,
            enqueued_at_ms: 1,
            dropped_before: 0,
            report: &bytes,
        };
        let mut by_count = Packer::new(3, usize::MAX);
        let mut sizes = Vec::new();
        for seq in 1..=7 {
            if !by_count.fits(&entry(seq)) {
                sizes.push(by_count.take().expect("full").count);
            }
            by_count.push(&entry(seq));
        }
        sizes.extend(by_count.take().map(|p| p.count));
        assert_eq!(sizes, [3, 3, 1]);

        // Room for exactly two entries in a batch message: the third starts a new one.
        let two = delimited_len(
            SITE_ESCALATION_BATCH,
            2 * delimited_len(BATCH_ESCALATIONS, entry(1).len()),
        );
        let mut by_size = Packer::new(100, two);
        for seq in 1..=3 {
            assert_eq!(by_size.fits(&entry(seq)), seq != 3, "seq {seq}");
            if seq == 3 {
                let packed = by_size.take().expect("two");
                assert_eq!(packed.count, 2);
                assert!(packed.message.encoded_len() <= two);
            }
            by_size.push(&entry(seq));
        }
    }
}
