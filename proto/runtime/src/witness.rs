//! A witness of what a store has committed, kept beside it in `DATA_DIR/socfed-committed`
//! (used by the agent and the hub stores).
//!
//! sled recovers a damaged log by cutting it at the first bad entry, which silently rolls the
//! whole store back to an older, consistent state, with nothing inside the store to show it.
//! The witness (a tag such as the store epoch, a counter that only grows, the audit head) is
//! rewritten after every durable commit; at open, a store behind its witness is refused instead
//! of starting with lost data.
//!
//! The witness is written after the store's own sync and replaced atomically (write, rename),
//! but not synced itself: after a power loss it can only be older than the store, never ahead.

use std::path::{Path, PathBuf};

pub const FILE: &str = "socfed-committed";

/// What a store holds; compared field by field with what was last committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Witness {
    /// Which store this is (the agent's store epoch; a constant at the hub).
    pub epoch: u128,
    /// A counter that only grows with commits (the agent's last sequence, the hub's commits).
    pub seq: u64,
    /// Sequence of the audit chain's head.
    pub audit: u64,
}

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// Why a store is refused: a sentence that names what to do.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    #[error("{0}")]
    Behind(String),
    #[error("{FILE}: {0}")]
    Io(#[from] std::io::Error),
}

pub fn read(dir: &Path) -> Result<Option<Witness>, WitnessError> {
    let text = match std::fs::read_to_string(path(dir)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(WitnessError::Io(e)),
    };
    let mut parts = text.split_whitespace();
    let parsed = (|| {
        if parts.next()? != "v1" {
            return None;
        }
        Some(Witness {
            epoch: u128::from_str_radix(parts.next()?, 16).ok()?,
            seq: parts.next()?.parse().ok()?,
            audit: parts.next()?.parse().ok()?,
        })
    })();
    parsed.map(Some).ok_or_else(|| {
        WitnessError::Behind(format!(
            "{FILE} is unreadable; if the store itself is intact, remove {FILE}"
        ))
    })
}

pub fn write(dir: &Path, witness: &Witness) -> Result<(), WitnessError> {
    crate::store_files::replace_private(
        &path(dir),
        format!("v1 {:x} {} {}\n", witness.epoch, witness.seq, witness.audit).as_bytes(),
    )?;
    Ok(())
}

/// Refuses a store that holds less than its witness says it committed.
pub fn check(dir: &Path, now: &Witness, restore_hint: &str) -> Result<(), WitnessError> {
    let Some(seen) = read(dir)? else {
        return Ok(());
    };
    let behind = seen.epoch != now.epoch || now.seq < seen.seq || now.audit < seen.audit;
    if behind {
        return Err(WitnessError::Behind(format!(
            "it holds commit {} and audit entry {} of store {:x}, but commit {} and audit entry {} of store {:x} were made; the data file is damaged or was replaced. Restore the latest backup with `{restore_hint}`, or, to accept this store as it is, remove {FILE}",
            now.seq, now.audit, now.epoch, seen.seq, seen.audit, seen.epoch
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_behind_its_witness_is_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let epoch = 1u128;
        let at = |seq, audit| Witness { epoch, seq, audit };
        let check = |now: &Witness| super::check(tmp.path(), now, "db import");
        assert!(check(&at(0, 0)).is_ok(), "no witness yet");
        write(tmp.path(), &at(50, 60)).expect("write");
        assert!(check(&at(50, 60)).is_ok());
        assert!(
            check(&at(51, 61)).is_ok(),
            "ahead is fine (an unsynced witness)"
        );
        assert!(matches!(check(&at(17, 60)), Err(WitnessError::Behind(_))));
        assert!(matches!(check(&at(50, 59)), Err(WitnessError::Behind(_))));
        let other = Witness {
            epoch: 2,
            seq: 99,
            audit: 99,
        };
        assert!(matches!(check(&other), Err(WitnessError::Behind(_))));
        std::fs::write(tmp.path().join(FILE), "garbage").expect("write");
        assert!(matches!(read(tmp.path()), Err(WitnessError::Behind(_))));
    }
}
