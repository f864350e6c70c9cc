//! The audit logs' hash chain, shared by the site agent and the hub. Every mutation becomes an
//! entry that commits to the previous entry's hash; editing, removing or reordering any entry breaks the chain, and the
//! stored head (last sequence and hash) catches removal from the end.
//!
//! Pure: sealing and verification over plain values. The store appends; `audit verify` reads.
//! Limit: someone able to rewrite the whole store could rebuild a consistent chain; anchoring
//! the head outside the site (at the hub) closes that and is planned with hub coordination.

use crate::UnixMillis;
use serde::{Deserialize, Serialize};

/// What is being recorded, before it is sealed into the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditDraft {
    pub at_ms: UnixMillis,
    /// Operator name from the certificate, or a system actor such as `sla-clock`.
    pub actor: String,
    /// The actor certificate's SPIFFE URI and BLAKE3 fingerprint; empty for system actors.
    pub actor_cert: String,
    /// e.g. `alert.close`, `roster.add`.
    pub action: String,
    /// What was acted on, e.g. the alert group or analyst id.
    pub target: String,
    /// JSON of the value before and after the change, when there is one.
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub draft: AuditDraft,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

/// The hash of the chain before its first entry.
pub const GENESIS: [u8; 32] = [0; 32];

fn entry_hash(seq: u64, draft: &AuditDraft, prev_hash: &[u8; 32]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"socfed.audit.v1\0");
    hasher.update(&seq.to_be_bytes());
    hasher.update(prev_hash);
    // postcard is deterministic for these plain fields; a failure cannot happen for them, and
    // would only make the entry unverifiable, never silently valid.
    let body = postcard::to_stdvec(draft).unwrap_or_default();
    hasher.update(&(body.len() as u64).to_be_bytes());
    hasher.update(&body);
    *hasher.finalize().as_bytes()
}

/// Seals `draft` as entry `seq` after an entry whose hash is `prev_hash`.
pub fn seal(draft: AuditDraft, seq: u64, prev_hash: [u8; 32]) -> AuditEntry {
    let hash = entry_hash(seq, &draft, &prev_hash);
    AuditEntry {
        seq,
        draft,
        prev_hash,
        hash,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Tamper {
    #[error("entry {seq} was edited: its content no longer matches its hash")]
    Edited { seq: u64 },
    #[error("entries between {after} and {found} are missing")]
    Missing { after: u64, found: u64 },
    #[error("entry {seq} does not follow the entry before it (chain broken or reordered)")]
    Broken { seq: u64 },
    #[error(
        "the log ends at entry {found} but the recorded head is entry {expected}: entries were removed from the end"
    )]
    Truncated { found: u64, expected: u64 },
    #[error("the last entry's hash differs from the recorded head")]
    HeadMismatch,
    #[error("the log holds {entries} entries but its recorded head is missing")]
    HeadMissing { entries: u64 },
}

/// Verifies entries in sequence order against the recorded head `(last seq, last hash)`.
/// Returns the number of entries checked.
pub fn verify(
    entries: impl IntoIterator<Item = AuditEntry>,
    head: Option<(u64, [u8; 32])>,
) -> Result<u64, Tamper> {
    let mut prev_seq = 0u64;
    let mut prev_hash = GENESIS;
    for entry in entries {
        if entry.seq != prev_seq + 1 {
            return Err(Tamper::Missing {
                after: prev_seq,
                found: entry.seq,
            });
        }
        if entry_hash(entry.seq, &entry.draft, &entry.prev_hash) != entry.hash {
            return Err(Tamper::Edited { seq: entry.seq });
        }
        if entry.prev_hash != prev_hash {
            return Err(Tamper::Broken { seq: entry.seq });
        }
        prev_seq = entry.seq;
        prev_hash = entry.hash;
    }
    if head.is_none() && prev_seq > 0 {
        return Err(Tamper::HeadMissing { entries: prev_seq });
    }
    match head {
        Some((seq, _)) if seq != prev_seq => Err(Tamper::Truncated {
            found: prev_seq,
            expected: seq,
        }),
        Some((_, hash)) if hash != prev_hash => Err(Tamper::HeadMismatch),
        _ => Ok(prev_seq),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<AuditEntry> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let draft = AuditDraft {
                    at_ms: seq as i64,
                    actor: "alice".into(),
                    actor_cert: "spiffe://corp.example/operator/alice".into(),
                    action: "alert.ack".into(),
                    target: format!("group-{seq}"),
                    before: Some("{\"status\":\"new\"}".into()),
                    after: Some("{\"status\":\"acknowledged\"}".into()),
                };
                let entry = seal(draft, seq, prev);
                prev = entry.hash;
                entry
            })
            .collect()
    }

    fn head(entries: &[AuditEntry]) -> Option<(u64, [u8; 32])> {
        entries.last().map(|e| (e.seq, e.hash))
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let entries = chain(5);
        assert_eq!(verify(entries.clone(), head(&entries)), Ok(5));
        assert_eq!(verify(Vec::new(), None), Ok(0));
    }

    #[test]
    fn every_kind_of_tampering_is_detected() {
        let entries = chain(5);
        let h = head(&entries);
        let mut edited = entries.clone();
        edited[2].draft.after = Some("{\"status\":\"closed\"}".into());
        assert_eq!(verify(edited, h), Err(Tamper::Edited { seq: 3 }));

        let mut removed = entries.clone();
        removed.remove(1);
        assert_eq!(
            verify(removed, h),
            Err(Tamper::Missing { after: 1, found: 3 })
        );

        assert_eq!(
            verify(entries.clone(), None),
            Err(Tamper::HeadMissing { entries: 5 }),
            "a deleted head is tampering too"
        );

        let truncated = entries[..4].to_vec();
        assert_eq!(
            verify(truncated, h),
            Err(Tamper::Truncated {
                found: 4,
                expected: 5
            })
        );

        // Re-sealing an edited entry keeps its own hash valid but breaks the next link.
        let mut resealed = entries.clone();
        let mut draft = resealed[1].draft.clone();
        draft.actor = "mallory".into();
        resealed[1] = seal(draft, 2, resealed[0].hash);
        assert_eq!(verify(resealed, h), Err(Tamper::Broken { seq: 3 }));
    }
}
