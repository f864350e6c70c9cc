//! Feeding an audit chain to [`crate::audit::verify`] straight from a store iterator: entries
//! are decoded and checked one at a time, so verifying a chain of any length takes bounded
//! memory. The first read or decode failure ends the walk and is kept for the caller.

use crate::audit::AuditEntry;

/// An iterator of entries over fallible reads: yields entries until the first error, which
/// [`LazyEntries::failure`] then returns.
#[derive(Debug)]
pub struct LazyEntries<I, E> {
    inner: I,
    failure: Option<E>,
    count: u64,
}

impl<I, E> LazyEntries<I, E>
where
    I: Iterator<Item = Result<AuditEntry, E>>,
{
    pub fn new(inner: I) -> Self {
        Self {
            inner,
            failure: None,
            count: 0,
        }
    }

    /// Entries yielded so far.
    pub fn walked(&self) -> u64 {
        self.count
    }

    /// The read or decode error that ended the walk, if one did.
    pub fn failure(&mut self) -> Option<E> {
        self.failure.take()
    }
}

impl<I, E> Iterator for LazyEntries<I, E>
where
    I: Iterator<Item = Result<AuditEntry, E>>,
{
    type Item = AuditEntry;

    fn next(&mut self) -> Option<AuditEntry> {
        if self.failure.is_some() {
            return None;
        }
        match self.inner.next()? {
            Ok(entry) => {
                self.count += 1;
                Some(entry)
            }
            Err(e) => {
                self.failure = Some(e);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LazyEntries;
    use crate::audit::{
        AuditDraft, AuditEntry, ChainKey, GENESIS, KeyedFrom, Keying, Tamper, seal, verify,
    };
    use std::cell::Cell;

    fn key() -> ChainKey {
        ChainKey::from_bytes([3; 32])
    }

    fn keying() -> Keying {
        Keying::new(key(), Some(KeyedFrom::at(&key(), None))).expect("keying")
    }

    fn draft(n: u64) -> AuditDraft {
        AuditDraft {
            at_ms: n as i64,
            actor: "op".into(),
            actor_cert: String::new(),
            action: "test".into(),
            target: format!("t{n}"),
            before: None,
            after: None,
        }
    }

    /// A chain of `len` entries generated on demand (never held in memory), with the link of
    /// entry `break_at` broken; `pulled` counts the entries the verifier asked for.
    fn generated(
        len: u64,
        break_at: u64,
        pulled: &Cell<u64>,
    ) -> impl Iterator<Item = Result<AuditEntry, String>> + '_ {
        let mut prev = GENESIS;
        (1..=len).map(move |seq| {
            pulled.set(pulled.get() + 1);
            let link = if seq == break_at { [7u8; 32] } else { prev };
            let entry = seal(draft(seq), seq, link, &key());
            prev = entry.hash;
            Ok(entry)
        })
    }

    #[test]
    fn a_broken_link_in_the_middle_of_a_long_chain_is_found_walking_entry_by_entry() {
        const LEN: u64 = 200_000;
        let pulled = Cell::new(0);
        let mut walk = LazyEntries::new(generated(LEN, LEN / 2, &pulled));
        let verdict = verify(&mut walk, None, &keying());
        assert_eq!(verdict, Err(Tamper::Broken { seq: LEN / 2 }));
        assert!(walk.failure().is_none());
        // The verifier stopped at the break: it consumed entries one at a time, lazily.
        assert_eq!(pulled.get(), LEN / 2);
        assert_eq!(walk.walked(), LEN / 2);
    }

    #[test]
    fn an_unreadable_entry_ends_the_walk_and_is_reported() {
        let entries = vec![
            Ok(seal(draft(1), 1, GENESIS, &key())),
            Err("entry 2 cannot be read"),
            Ok(seal(draft(3), 3, GENESIS, &key())),
        ];
        let mut walk = LazyEntries::new(entries.into_iter());
        let _ = verify(&mut walk, None, &keying());
        assert_eq!(walk.failure(), Some("entry 2 cannot be read"));
        assert_eq!(walk.walked(), 1);
    }
}
