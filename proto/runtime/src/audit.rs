//! The audit logs' hash chain, shared by the site agent and the hub. Every mutation becomes an
//! entry that commits to the previous entry's hash; editing, removing or reordering any entry
//! breaks the chain, and the stored head (last sequence and hash) catches removal from the end.
//!
//! **Keyed.** Each entry's hash is a BLAKE3 keyed hash under a [`ChainKey`] kept outside the
//! store (a file beside the service's TLS key, see [`crate::audit_key`]), so someone who can
//! rewrite the store or a dump, but not read that key, cannot re-seal an edited chain: an
//! edited actor, a removed entry or an inserted one fails [`verify`] even when every hash,
//! the head and the dump checksum were recomputed.
//!
//! **Older chains.** Entries sealed by builds before the key (plain BLAKE3) stay as they are.
//! When a store is first opened with a key, the chain's head at that moment is recorded as its
//! [`KeyedFrom`] point, authenticated with the key: entries up to it must verify unkeyed and
//! end exactly at that hash, every later one must verify keyed. Without the key nobody can
//! move that point (to pass forged entries off as old ones) or drop it.
//!
//! What keying cannot show: a chain cut back to an earlier state is an older, genuine chain
//! (an old backup looks the same). The commit witness beside a live store catches that
//! (`crate::witness`); a restored dump is as recent as the dump.
//!
//! Pure: sealing and verification over plain values. The store appends; `audit verify` reads.

use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;

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

/// The secret that keys the chain. Never stored in the store or its dumps.
#[derive(Clone, PartialEq, Eq)]
pub struct ChainKey([u8; 32]);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(..)")
    }
}

impl ChainKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Where a chain switched from unkeyed to keyed hashing: entries `1..=seq` are unkeyed and
/// entry `seq` has `hash` (`seq` 0 and [`GENESIS`]: every entry is keyed). `mac` binds both
/// to the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyedFrom {
    pub seq: u64,
    pub hash: [u8; 32],
    pub mac: [u8; 32],
}

fn keyed_from_mac(key: &ChainKey, seq: u64, hash: &[u8; 32]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new_keyed(&key.0);
    hasher.update(b"socfed.audit.keyed-from.v1\0");
    hasher.update(&seq.to_be_bytes());
    hasher.update(hash);
    *hasher.finalize().as_bytes()
}

impl KeyedFrom {
    /// The point for a chain whose head is `head` now (`None`: an empty chain).
    pub fn at(key: &ChainKey, head: Option<(u64, [u8; 32])>) -> Self {
        let (seq, hash) = head.unwrap_or((0, GENESIS));
        Self {
            seq,
            hash,
            mac: keyed_from_mac(key, seq, &hash),
        }
    }

    /// Whether `key` made this point (a wrong key, or an edited point, does not).
    pub fn made_with(&self, key: &ChainKey) -> bool {
        keyed_from_mac(key, self.seq, &self.hash) == self.mac
    }
}

/// How to check a chain's hashes: the key, and where it took over.
#[derive(Debug, Clone)]
pub struct Keying {
    key: ChainKey,
    from: KeyedFrom,
}

impl Keying {
    /// Checks that `from` was made with `key` ([`Tamper::KeyedFrom`] otherwise).
    pub fn new(key: ChainKey, from: Option<KeyedFrom>) -> Result<Self, Tamper> {
        match from {
            Some(from) if from.made_with(&key) => Ok(Self { key, from }),
            _ => Err(Tamper::KeyedFrom),
        }
    }

    fn hash(&self, seq: u64, draft: &AuditDraft, prev_hash: &[u8; 32]) -> [u8; 32] {
        if seq <= self.from.seq {
            entry_hash(None, seq, draft, prev_hash)
        } else {
            entry_hash(Some(&self.key), seq, draft, prev_hash)
        }
    }
}

fn entry_hash(
    key: Option<&ChainKey>,
    seq: u64,
    draft: &AuditDraft,
    prev_hash: &[u8; 32],
) -> [u8; 32] {
    let mut hasher = match key {
        // Chains sealed before keying (see the module docs).
        None => {
            let mut h = blake3::Hasher::new();
            h.update(b"socfed.audit.v1\0");
            h
        }
        Some(key) => {
            let mut h = blake3::Hasher::new_keyed(&key.0);
            h.update(b"socfed.audit.v2\0");
            h
        }
    };
    hasher.update(&seq.to_be_bytes());
    hasher.update(prev_hash);
    // postcard is deterministic for these plain fields; a failure cannot happen for them, and
    // would only make the entry unverifiable, never silently valid.
    let body = postcard::to_stdvec(draft).unwrap_or_default();
    hasher.update(&(body.len() as u64).to_be_bytes());
    hasher.update(&body);
    *hasher.finalize().as_bytes()
}

/// Seals `draft` as entry `seq` after an entry whose hash is `prev_hash`, under `key`.
pub fn seal(draft: AuditDraft, seq: u64, prev_hash: [u8; 32], key: &ChainKey) -> AuditEntry {
    let hash = entry_hash(Some(key), seq, &draft, &prev_hash);
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
    #[error(
        "the record of where keyed sealing began is missing, edited, or was made with another audit key"
    )]
    KeyedFrom,
    #[error(
        "entry {seq} should close the chain sealed before keying, but its hash differs from the one recorded then"
    )]
    LegacyEnd { seq: u64 },
}

/// Verifies entries in sequence order against the recorded head `(last seq, last hash)`.
/// Returns the number of entries checked.
pub fn verify(
    entries: impl IntoIterator<Item = AuditEntry>,
    head: Option<(u64, [u8; 32])>,
    keying: &Keying,
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
        if keying.hash(entry.seq, &entry.draft, &entry.prev_hash) != entry.hash {
            return Err(Tamper::Edited { seq: entry.seq });
        }
        if entry.seq == keying.from.seq && entry.hash != keying.from.hash {
            return Err(Tamper::LegacyEnd { seq: entry.seq });
        }
        if entry.prev_hash != prev_hash {
            return Err(Tamper::Broken { seq: entry.seq });
        }
        prev_seq = entry.seq;
        prev_hash = entry.hash;
    }
    if prev_seq < keying.from.seq {
        return Err(Tamper::Truncated {
            found: prev_seq,
            expected: keying.from.seq,
        });
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

    const KEY: [u8; 32] = [7; 32];

    fn draft(seq: u64) -> AuditDraft {
        AuditDraft {
            at_ms: seq as i64,
            actor: "alice".into(),
            actor_cert: "spiffe://corp.example/operator/alice".into(),
            action: "alert.ack".into(),
            target: format!("group-{seq}"),
            before: Some("{\"status\":\"new\"}".into()),
            after: Some("{\"status\":\"acknowledged\"}".into()),
        }
    }

    /// Entries `1..=n`, the first `unkeyed` of them sealed as a build before keying did.
    fn chain_from(n: u64, unkeyed: u64) -> Vec<AuditEntry> {
        let key = ChainKey::from_bytes(KEY);
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let entry = if seq <= unkeyed {
                    let draft = draft(seq);
                    let hash = entry_hash(None, seq, &draft, &prev);
                    AuditEntry {
                        seq,
                        draft,
                        prev_hash: prev,
                        hash,
                    }
                } else {
                    seal(draft(seq), seq, prev, &key)
                };
                prev = entry.hash;
                entry
            })
            .collect()
    }

    fn chain(n: u64) -> Vec<AuditEntry> {
        chain_from(n, 0)
    }

    fn keying() -> Keying {
        let key = ChainKey::from_bytes(KEY);
        Keying::new(key.clone(), Some(KeyedFrom::at(&key, None))).expect("keying")
    }

    fn head(entries: &[AuditEntry]) -> Option<(u64, [u8; 32])> {
        entries.last().map(|e| (e.seq, e.hash))
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let entries = chain(5);
        assert_eq!(verify(entries.clone(), head(&entries), &keying()), Ok(5));
        assert_eq!(verify(Vec::new(), None, &keying()), Ok(0));
    }

    #[test]
    fn every_kind_of_tampering_is_detected() {
        let k = keying();
        let entries = chain(5);
        let h = head(&entries);
        let mut edited = entries.clone();
        edited[2].draft.after = Some("{\"status\":\"closed\"}".into());
        assert_eq!(verify(edited, h, &k), Err(Tamper::Edited { seq: 3 }));

        let mut removed = entries.clone();
        removed.remove(1);
        assert_eq!(
            verify(removed, h, &k),
            Err(Tamper::Missing { after: 1, found: 3 })
        );

        assert_eq!(
            verify(entries.clone(), None, &k),
            Err(Tamper::HeadMissing { entries: 5 }),
            "a deleted head is tampering too"
        );

        let truncated = entries[..4].to_vec();
        assert_eq!(
            verify(truncated, h, &k),
            Err(Tamper::Truncated {
                found: 4,
                expected: 5
            })
        );

        // Re-sealing an edited entry keeps its own hash valid but breaks the next link.
        let mut resealed = entries.clone();
        let mut draft = resealed[1].draft.clone();
        draft.actor = "mallory".into();
        resealed[1] = seal(draft, 2, resealed[0].hash, &ChainKey::from_bytes(KEY));
        assert_eq!(verify(resealed, h, &k), Err(Tamper::Broken { seq: 3 }));
    }

    /// What an attacker without the key does: edit an entry, drop the tail, and recompute every
    /// hash and the head the way the code does (plain BLAKE3, or keyed under a guessed key).
    #[test]
    fn a_chain_rebuilt_without_the_key_is_refused() {
        let k = keying();
        let entries = chain(60);
        let rebuild = |key: Option<&ChainKey>| {
            let mut prev = GENESIS;
            let mut out = Vec::new();
            for e in entries.iter().take(10) {
                let mut draft = e.draft.clone();
                if e.seq == 3 {
                    draft.actor = "mallory".into();
                }
                let hash = entry_hash(key, e.seq, &draft, &prev);
                out.push(AuditEntry {
                    seq: e.seq,
                    draft,
                    prev_hash: prev,
                    hash,
                });
                prev = hash;
            }
            out
        };
        let unkeyed = rebuild(None);
        assert_eq!(
            verify(unkeyed.clone(), head(&unkeyed), &k),
            Err(Tamper::Edited { seq: 1 })
        );
        let guessed = rebuild(Some(&ChainKey::from_bytes([0; 32])));
        assert_eq!(
            verify(guessed.clone(), head(&guessed), &k),
            Err(Tamper::Edited { seq: 1 })
        );
    }

    #[test]
    fn an_older_unkeyed_chain_verifies_up_to_its_recorded_end_and_no_further() {
        let key = ChainKey::from_bytes(KEY);
        let entries = chain_from(8, 5);
        let point = KeyedFrom::at(&key, Some((5, entries[4].hash)));
        let k = Keying::new(key.clone(), Some(point)).expect("keying");
        assert_eq!(verify(entries.clone(), head(&entries), &k), Ok(8));

        // Passing a keyed entry off as an old unkeyed one needs a new point, which needs the key.
        let mut moved = point;
        moved.seq = 8;
        moved.hash = entries[7].hash;
        assert_eq!(
            Keying::new(key.clone(), Some(moved)).err(),
            Some(Tamper::KeyedFrom)
        );
        assert_eq!(
            Keying::new(key.clone(), None).err(),
            Some(Tamper::KeyedFrom)
        );
        let other = ChainKey::from_bytes([9; 32]);
        assert_eq!(
            Keying::new(other, Some(point)).err(),
            Some(Tamper::KeyedFrom)
        );

        // Unkeyed entries cannot be replaced either: the old part must end at the recorded hash.
        let mut replaced = chain_from(8, 8);
        replaced[4].draft.actor = "mallory".into();
        let mut prev = GENESIS;
        for e in replaced.iter_mut().take(5) {
            e.prev_hash = prev;
            e.hash = entry_hash(None, e.seq, &e.draft, &prev);
            prev = e.hash;
        }
        let replaced: Vec<_> = replaced.into_iter().take(5).collect();
        assert_eq!(
            verify(replaced.clone(), head(&replaced), &k),
            Err(Tamper::LegacyEnd { seq: 5 })
        );
        // Nor cut short before that point.
        let cut = entries[..3].to_vec();
        assert_eq!(
            verify(cut.clone(), head(&cut), &k),
            Err(Tamper::Truncated {
                found: 3,
                expected: 5
            })
        );
    }
}
