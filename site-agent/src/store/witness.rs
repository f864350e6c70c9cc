//! A witness of what the store has committed, kept beside it in `DATA_DIR/socfed-committed`.
//!
//! sled recovers a damaged log by cutting it at the first bad entry, which silently rolls the
//! whole store back to an older, consistent state: queued escalations and audit entries gone,
//! with nothing inside the store to show it. The witness (store epoch, last durable sequence,
//! audit head) is rewritten after every durable commit; at open, a store behind its witness is
//! refused instead of starting with lost data.
//!
//! The witness is written after the store's own sync and replaced atomically (write, rename),
//! but not synced itself: after a power loss it can only be older than the store, never ahead.

use super::StoreError;
use std::path::{Path, PathBuf};
use ulid::Ulid;

pub const FILE: &str = "socfed-committed";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Witness {
    pub epoch: Ulid,
    /// Highest sequence the store held durably.
    pub seq: u64,
    /// Sequence of the audit chain's head.
    pub audit: u64,
}

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

pub fn read(dir: &Path) -> Result<Option<Witness>, StoreError> {
    let text = match std::fs::read_to_string(path(dir)) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::Sync(e)),
    };
    let mut parts = text.split_whitespace();
    let parsed = (|| {
        if parts.next()? != "v1" {
            return None;
        }
        Some(Witness {
            epoch: Ulid::from_string(parts.next()?).ok()?,
            seq: parts.next()?.parse().ok()?,
            audit: parts.next()?.parse().ok()?,
        })
    })();
    parsed.map(Some).ok_or_else(|| StoreError::Damaged {
        dir: dir.to_path_buf(),
        reason: format!("{FILE} is unreadable; if the store itself is intact, remove {FILE}"),
    })
}

pub fn write(dir: &Path, witness: &Witness) -> Result<(), StoreError> {
    let temp = dir.join(format!(".{FILE}.tmp"));
    std::fs::write(
        &temp,
        format!("v1 {} {} {}\n", witness.epoch, witness.seq, witness.audit),
    )?;
    std::fs::rename(&temp, path(dir))?;
    Ok(())
}

/// Refuses a store that holds less than its witness says it committed.
pub fn check(dir: &Path, now: &Witness) -> Result<(), StoreError> {
    let Some(seen) = read(dir)? else {
        return Ok(());
    };
    let behind = seen.epoch != now.epoch || now.seq < seen.seq || now.audit < seen.audit;
    if behind {
        return Err(StoreError::Damaged {
            dir: dir.to_path_buf(),
            reason: format!(
                "it holds sequence {} and audit entry {} of epoch {}, but sequence {} and audit entry {} of epoch {} were committed; the data file is damaged or was replaced. Restore the latest backup with `site-agent db import`, or, to accept this store as it is, remove {FILE}",
                now.seq, now.audit, now.epoch, seen.seq, seen.audit, seen.epoch
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_behind_its_witness_is_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let epoch = Ulid::from_parts(1, 1);
        let at = |seq, audit| Witness { epoch, seq, audit };
        assert!(check(tmp.path(), &at(0, 0)).is_ok(), "no witness yet");
        write(tmp.path(), &at(50, 60)).expect("write");
        assert!(check(tmp.path(), &at(50, 60)).is_ok());
        assert!(
            check(tmp.path(), &at(51, 61)).is_ok(),
            "ahead is fine (an unsynced witness)"
        );
        assert!(matches!(
            check(tmp.path(), &at(17, 60)),
            Err(StoreError::Damaged { .. })
        ));
        assert!(matches!(
            check(tmp.path(), &at(50, 59)),
            Err(StoreError::Damaged { .. })
        ));
        let other = Witness {
            epoch: Ulid::from_parts(2, 2),
            seq: 99,
            audit: 99,
        };
        assert!(matches!(
            check(tmp.path(), &other),
            Err(StoreError::Damaged { .. })
        ));
        std::fs::write(tmp.path().join(FILE), "garbage").expect("write");
        assert!(matches!(read(tmp.path()), Err(StoreError::Damaged { .. })));
    }
}
