//! One journal entry: an escalation as the hub received it, before any rule judged it.
//!
//! The payload of a frame is `[ENTRY_VERSION] ++ postcard(JournalEntry)`. The report is kept
//! in its wire encoding, valid or not, so the journal is evidence of what the site sent.

use super::JournalError;
use prost::Message;
use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_proto::pb;
use socfed_proto::vocab::{IncidentReport, ReportLimits, SiteId};
use ulid::Ulid;

/// Version byte of every entry this build writes.
pub const ENTRY_VERSION: u8 = 1;

/// What was offered: a report that passed the hub's checks, or one that did not and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum JournaledOffer {
    Valid { wire: Vec<u8> },
    Invalid { wire: Vec<u8>, reason: String },
}

/// An escalation as received, keyed in the journal by its id (`Journal::append`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub site: SiteId,
    pub epoch: Ulid,
    pub seq: u64,
    pub dropped_before: u64,
    pub enqueued_at_ms: UnixMillis,
    /// When the writer took it in: a replay applies it with this time, not the time of the
    /// replay, so correlation windows come out as they would have.
    pub received_at_ms: UnixMillis,
    pub offer: JournaledOffer,
}

impl JournalEntry {
    pub fn encode(&self) -> Result<Vec<u8>, JournalError> {
        let out = vec![ENTRY_VERSION];
        postcard::to_extend(self, out).map_err(|e| JournalError::Codec(e.to_string()))
    }

    pub fn decode(payload: &[u8]) -> Result<Self, JournalError> {
        match payload.split_first() {
            Some((&ENTRY_VERSION, body)) => {
                postcard::from_bytes(body).map_err(|e| JournalError::Codec(e.to_string()))
            }
            Some((found, _)) => Err(JournalError::Codec(format!(
                "journal entry version {found}; this build reads {ENTRY_VERSION}"
            ))),
            None => Err(JournalError::Codec("an empty journal entry".into())),
        }
    }

    /// The valid report, decoded again. It passed the limits when it was received, so none
    /// is applied a second time: a lower limit configured since must not turn a stored
    /// escalation into a rejected one on replay.
    pub fn report(&self) -> Option<Result<IncidentReport, String>> {
        match &self.offer {
            JournaledOffer::Valid { wire } => Some(
                pb::IncidentReport::decode(wire.as_slice())
                    .map_err(|e| e.to_string())
                    .and_then(|wire| {
                        IncidentReport::from_wire(wire, &unlimited()).map_err(|e| e.to_string())
                    }),
            ),
            JournaledOffer::Invalid { .. } => None,
        }
    }

    /// The hash the index records for this escalation (`Offered::content_hash`): of the
    /// report's content when it was valid, of its wire form when it was not.
    pub fn content_hash(&self) -> Result<[u8; 32], String> {
        match self.report() {
            Some(report) => Ok(report?.content_hash()),
            None => Ok(*blake3::hash(&self.wire()?.encode_to_vec()).as_bytes()),
        }
    }

    /// The offered report's wire form (empty for an escalation that carried none).
    pub fn wire(&self) -> Result<pb::IncidentReport, String> {
        let bytes = match &self.offer {
            JournaledOffer::Valid { wire } | JournaledOffer::Invalid { wire, .. } => wire,
        };
        pb::IncidentReport::decode(bytes.as_slice()).map_err(|e| e.to_string())
    }
}

fn unlimited() -> ReportLimits {
    ReportLimits {
        max_encoded_bytes: usize::MAX,
        max_title_chars: usize::MAX,
        max_description_bytes: usize::MAX,
        max_indicators: usize::MAX,
        max_techniques: usize::MAX,
    }
}
