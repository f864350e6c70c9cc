//! The `outbox` tree's records and key (part of the agent's layout, `schema.rs`): runs of
//! escalations keyed by their last sequence, read in place so the uplink forwards the stored
//! report bytes without decoding or copying them.

use super::{CodecError, TreeId, TreeSet, u64_of};
use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;

/// Version of `outbox` values: 2, an [`OutboxRun`]; 1 was one [`OutboxEntry`] per sequence
/// (schema 6 and before), read only by the upgrade to schema 7.
pub const OUTBOX_RUN_VERSION: u8 = 2;
/// Escalations per outbox run at most, and the report bytes past which a run takes no more
/// (a single report of the largest size makes a run of one): no outbox value is larger than
/// one report of the largest size was before runs (docs/RELIABILITY.md, "Large values"), and
/// the rewrite of a partly acknowledged run (`outbox_runs.rs`) stays cheap.
pub const MAX_OUTBOX_RUN: usize = 256;
pub const MAX_OUTBOX_RUN_BYTES: usize = socfed_proto::vocab::MAX_REPORT_BYTES;

/// One escalation waiting for the hub's acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub enqueued_at_ms: UnixMillis,
    /// `socfed.v1.IncidentReport`, prost-encoded: sent as is, so what the hub hashes is
    /// exactly what was written here.
    #[serde(serialize_with = "byte_string")]
    pub report: Vec<u8>,
}

/// Writes bytes as one byte string: postcard encodes it exactly as serde's `Vec<u8>` sequence
/// (its length, then the bytes), so the stored format is the same, but in one copy instead of
/// one call per byte (`docs/PERFORMANCE.md`).
fn byte_string<S: serde::Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_bytes(bytes)
}

/// An `outbox` value: the escalations of consecutive sequences one unit queued, under the key
/// of its last sequence ([`outbox_key`]).
pub type OutboxRun = socfed_runtime::store_kit::runs::Run<OutboxEntry>;

/// [`OutboxEntry`] read in place: its report a slice of the stored value (same encoding).
#[derive(Debug, Deserialize)]
pub struct OutboxEntryView<'a> {
    pub enqueued_at_ms: UnixMillis,
    pub report: &'a [u8],
}

/// [`OutboxRun`] read in place.
pub type OutboxRunView<'a> = socfed_runtime::store_kit::runs::Run<OutboxEntryView<'a>>;

/// The `outbox` key of the run ending at `last`.
pub fn outbox_key(last: u64) -> [u8; 8] {
    last.to_be_bytes()
}

/// An `outbox` value read in place under `key`, checked to hold records and to end at the
/// sequence its key names: a damaged run is an error naming the tree, never a panic.
pub fn outbox_run_at<'a>(key: &[u8], value: &'a [u8]) -> Result<OutboxRunView<'a>, CodecError> {
    let last = u64_of(TreeId::Outbox, key)?;
    let run: OutboxRunView<'a> = TreeId::Outbox.codec().view(value)?;
    if !run.stored_under(last) {
        return Err(CodecError::Malformed {
            tree: TreeId::Outbox.name(),
            detail: format!(
                "a run of {} escalations from sequence {} under the key of sequence {last}",
                run.records.len(),
                run.first
            ),
        });
    }
    Ok(run)
}

/// An `outbox` value under `key`, decoded (its reports copied), checked as
/// [`outbox_run_at`] checks it: for the writes that rewrite a run.
pub fn outbox_run_owned(key: &[u8], value: &[u8]) -> Result<OutboxRun, CodecError> {
    let view = outbox_run_at(key, value)?;
    Ok(OutboxRun {
        first: view.first,
        records: view
            .records
            .iter()
            .map(|r| OutboxEntry {
                enqueued_at_ms: r.enqueued_at_ms,
                report: r.report.to_vec(),
            })
            .collect(),
    })
}
