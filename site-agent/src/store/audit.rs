//! The site's audit chain in the store: entries in `audit` by sequence, the head and the
//! keyed-from point in `meta`. Appending happens in the unit of the change it records;
//! verification walks the chain one entry at a time.

use super::schema::{self, AuditHead, TreeId};
use super::unit::Unit;
use super::{AgentStore, StoreError};
use crate::soc::audit::{self, AuditDraft, AuditEntry};

/// The outcome of `audit verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub entries: u64,
    pub problem: Option<String>,
}

impl Unit<'_> {
    /// Appends to the audit chain.
    pub fn audit(&mut self, draft: AuditDraft) -> Result<(), StoreError> {
        let head: Option<AuditHead> = self.get(TreeId::Meta, schema::AUDIT_HEAD.as_bytes())?;
        let (seq, prev) = head.map_or((1, audit::GENESIS), |h| (h.seq + 1, h.hash));
        let entry = audit::seal(draft, seq, prev, self.audit_key);
        self.put(TreeId::Audit, seq.to_be_bytes().to_vec(), &entry)?;
        self.put(
            TreeId::Meta,
            schema::AUDIT_HEAD.as_bytes().to_vec(),
            &AuditHead {
                seq,
                hash: entry.hash,
            },
        )?;
        Ok(())
    }
}

impl AgentStore {
    /// Walks the whole audit chain against the recorded head, one entry at a time (bounded
    /// memory whatever the chain's length).
    pub fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        /// Why the lazy walk stopped early.
        enum Walk {
            Store(StoreError),
            Unreadable(String),
        }
        let head: Option<AuditHead> = match self.tree(TreeId::Meta).get(schema::AUDIT_HEAD)? {
            Some(raw) => Some(schema::decode(TreeId::Meta, &raw)?),
            None => None,
        };
        let keyed_from = match self.tree(TreeId::Meta).get(schema::AUDIT_KEYED_FROM)? {
            Some(raw) => Some(schema::decode(TreeId::Meta, &raw)?),
            None => None,
        };
        let keying = match audit::Keying::new(self.audit_key.clone(), keyed_from) {
            Ok(keying) => keying,
            Err(tamper) => {
                return Ok(AuditReport {
                    entries: self.tree(TreeId::Audit).len() as u64,
                    problem: Some(tamper.to_string()),
                });
            }
        };
        let mut walk = socfed_runtime::audit_walk::LazyEntries::new(
            self.tree(TreeId::Audit)
                .iter()
                .values()
                .map(|value| match value {
                    Err(e) => Err(Walk::Store(e.into())),
                    Ok(raw) => schema::decode::<AuditEntry>(TreeId::Audit, &raw)
                        .map_err(|e| Walk::Unreadable(format!("an entry cannot be read: {e}"))),
                }),
        );
        let verdict = audit::verify(&mut walk, head.map(|h| (h.seq, h.hash)), &keying);
        match (walk.failure(), verdict) {
            (Some(Walk::Store(e)), _) => Err(e),
            (Some(Walk::Unreadable(problem)), _) => Ok(AuditReport {
                entries: walk.walked(),
                problem: Some(problem),
            }),
            (None, Ok(n)) => Ok(AuditReport {
                entries: n,
                problem: None,
            }),
            // Reported with the chain's length, as before the walk was lazy.
            (None, Err(tamper)) => Ok(AuditReport {
                entries: walk.walked() + walk.by_ref().count() as u64,
                problem: Some(tamper.to_string()),
            }),
        }
    }
}

impl AgentStore {
    /// The newest audit records (at most `limit`) whose target is `target`, among the latest
    /// `scan` entries of the chain, newest first: an alert group's history on its page.
    pub fn audit_of(
        &self,
        target: &str,
        scan: usize,
        limit: usize,
    ) -> Result<Vec<AuditDraft>, StoreError> {
        let mut out = Vec::new();
        for value in self.tree(TreeId::Audit).iter().values().rev().take(scan) {
            let entry: AuditEntry = schema::decode(TreeId::Audit, &value?)?;
            if entry.draft.target == target {
                out.push(entry.draft);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// The audit records at or after `from_ms`, newest first: the chain is read from its end
    /// and the read stops at the first older entry (entries are appended in time order), or
    /// after `scan` entries; true when it stopped at `scan` first.
    pub fn audit_since(
        &self,
        from_ms: socfed_proto::UnixMillis,
        scan: usize,
    ) -> Result<(Vec<AuditDraft>, bool), StoreError> {
        let mut out = Vec::new();
        for value in self.tree(TreeId::Audit).iter().values().rev() {
            if out.len() >= scan {
                return Ok((out, true));
            }
            let entry: AuditEntry = schema::decode(TreeId::Audit, &value?)?;
            if entry.draft.at_ms < from_ms {
                break;
            }
            out.push(entry.draft);
        }
        Ok((out, false))
    }
}
