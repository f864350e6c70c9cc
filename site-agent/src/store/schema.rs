//! The agent's sled layout, in one place.
//!
//! | tree       | key                          | value                                   |
//! |------------|------------------------------|-----------------------------------------|
//! | `meta`     | `schema_version`             | u32 BE                                  |
//! |            | `epoch`                      | 16-byte ULID, created with the store    |
//! |            | `next_seq`                   | u64 BE, the sequence assigned next      |
//! |            | `acked_through`              | u64 BE, highest sequence the hub acked  |
//! |            | `refused_total`, `dropped_total`, `conflicts_reported`, `rejected_reported` | u64 BE |
//! | `outbox`   | seq u64 BE                   | `OutboxEntry`                           |
//! | `requests` | caller request id (utf-8)    | `RequestRecord`                         |
//!
//! Values are `[version byte] ++ postcard(record)`; unknown versions are errors.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;

pub const SCHEMA_VERSION: u32 = 1;
pub const RECORD_VERSION: u8 = 1;

pub const META: &str = "meta";
pub const OUTBOX: &str = "outbox";
pub const REQUESTS: &str = "requests";

pub const EPOCH: &str = "epoch";
pub const NEXT_SEQ: &str = "next_seq";
pub const ACKED_THROUGH: &str = "acked_through";
pub const REFUSED_TOTAL: &str = "refused_total";
pub const DROPPED_TOTAL: &str = "dropped_total";
pub const CONFLICTS_REPORTED: &str = "conflicts_reported";
pub const REJECTED_REPORTED: &str = "rejected_reported";

/// One escalation waiting for the hub's acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub enqueued_at_ms: UnixMillis,
    /// `socfed.v1.IncidentReport`, prost-encoded: sent as is, so what the hub hashes is
    /// exactly what was written here.
    pub report: Vec<u8>,
}

/// The answer given to a caller's request id, replayed if the caller retries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub local_incident_id: String,
    pub seq: u64,
    pub at_ms: UnixMillis,
}

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("tree {tree}: record version {found} is not understood by this build; upgrade socfed")]
    Version { tree: &'static str, found: u8 },
    #[error("tree {tree}: corrupt record: {detail}")]
    Corrupt { tree: &'static str, detail: String },
}

pub fn encode<T: Serialize>(tree: &'static str, value: &T) -> Result<Vec<u8>, CodecError> {
    postcard::to_extend(value, vec![RECORD_VERSION]).map_err(|e| CodecError::Corrupt {
        tree,
        detail: e.to_string(),
    })
}

pub fn decode<T: DeserializeOwned>(tree: &'static str, bytes: &[u8]) -> Result<T, CodecError> {
    match bytes.split_first() {
        Some((&RECORD_VERSION, body)) => {
            postcard::from_bytes(body).map_err(|e| CodecError::Corrupt {
                tree,
                detail: e.to_string(),
            })
        }
        Some((&found, _)) => Err(CodecError::Version { tree, found }),
        None => Err(CodecError::Corrupt {
            tree,
            detail: "empty value".into(),
        }),
    }
}

pub fn u64_of(tree: &'static str, bytes: &[u8]) -> Result<u64, CodecError> {
    bytes
        .try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| CodecError::Corrupt {
            tree,
            detail: format!("expected 8 bytes, got {}", bytes.len()),
        })
}
