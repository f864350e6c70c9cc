//! The site's runbooks: its own and the hub's, in `runbooks` (each one's latest version) and
//! `runbook_versions` (every version), the checklist progress per incident or alert group
//! (`runbook_progress`), and the `hub_runbooks_after` mark the next hello names.
//!
//! Hub versions are written only by the uplink (`record_hub_runbooks`): each version at most
//! once, by (id, version), with its audit entry and the mark in one unit, so after a crash the
//! mark never claims a version the store lost. The site's own are written by
//! `service::runbooks`, each version with its audit entry.

use super::schema::{self, TreeId};
use super::unit::Unit;
use super::{AgentStore, StoreError};
use crate::soc::audit::AuditDraft;
use socfed_proto::UnixMillis;
use socfed_proto::vocab::runbook::{Origin, Progress, Runbook};
use ulid::Ulid;

/// What recording a hub runbook version did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunbookRecorded {
    Stored,
    /// This version or a later one is here already (a resend).
    Duplicate,
    /// Not a hub runbook, or an id the site uses for one of its own: ignored.
    Refused,
}

/// `runbook_versions` key: runbook ULID ++ version (u32 BE).
pub fn version_key(id: Ulid, version: u32) -> Vec<u8> {
    let mut key = id.to_bytes().to_vec();
    key.extend_from_slice(&version.to_be_bytes());
    key
}

/// `runbook_progress` key: subject (local incident id or group ULID text) ++ 0x00 ++ runbook
/// ULID.
pub fn progress_key(subject: &str, id: Ulid) -> Vec<u8> {
    let mut key = subject.as_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(&id.to_bytes());
    key
}

impl Unit<'_> {
    /// The latest version of runbook `id`, as this unit sees it.
    pub fn runbook(&self, id: Ulid) -> Result<Option<Runbook>, StoreError> {
        Ok(self.get(TreeId::Runbooks, &id.to_bytes())?)
    }

    /// Files a version (the latest, and in the history).
    pub fn put_runbook(&mut self, runbook: &Runbook) -> Result<(), StoreError> {
        self.put(
            TreeId::RunbookVersions,
            version_key(runbook.id, runbook.version),
            runbook,
        )?;
        self.put(TreeId::Runbooks, runbook.id.to_bytes().to_vec(), runbook)?;
        Ok(())
    }

    pub fn runbook_progress(&self, subject: &str, id: Ulid) -> Result<Progress, StoreError> {
        Ok(self
            .get(TreeId::RunbookProgress, &progress_key(subject, id))?
            .unwrap_or_default())
    }

    pub fn put_runbook_progress(
        &mut self,
        subject: &str,
        id: Ulid,
        progress: &Progress,
    ) -> Result<(), StoreError> {
        self.put(TreeId::RunbookProgress, progress_key(subject, id), progress)?;
        Ok(())
    }
}

impl AgentStore {
    /// The latest version of every runbook, the hub's and the site's, by id.
    pub fn runbooks(&self) -> Result<Vec<Runbook>, StoreError> {
        let mut out = Vec::new();
        for entry in self.tree(TreeId::Runbooks).iter() {
            let (_, raw) = entry?;
            out.push(schema::decode(TreeId::Runbooks, &raw)?);
        }
        Ok(out)
    }

    /// Version `version` of runbook `id` (`None`: the latest).
    pub fn runbook(&self, id: Ulid, version: Option<u32>) -> Result<Option<Runbook>, StoreError> {
        let raw = match version {
            None => self.tree(TreeId::Runbooks).get(id.to_bytes())?,
            Some(v) => self.tree(TreeId::RunbookVersions).get(version_key(id, v))?,
        };
        match raw {
            Some(raw) => Ok(Some(schema::decode(TreeId::Runbooks, &raw)?)),
            None => Ok(None),
        }
    }

    /// Every version of runbook `id`, oldest first.
    pub fn runbook_history(&self, id: Ulid) -> Result<Vec<Runbook>, StoreError> {
        let mut out = Vec::new();
        for entry in self
            .tree(TreeId::RunbookVersions)
            .scan_prefix(id.to_bytes())
        {
            let (_, raw) = entry?;
            out.push(schema::decode(TreeId::RunbookVersions, &raw)?);
        }
        Ok(out)
    }

    /// The checklist progress of runbook `id` on `subject`.
    pub fn runbook_progress(&self, subject: &str, id: Ulid) -> Result<Progress, StoreError> {
        match self
            .tree(TreeId::RunbookProgress)
            .get(progress_key(subject, id))?
        {
            Some(raw) => Ok(schema::decode(TreeId::RunbookProgress, &raw)?),
            None => Ok(Progress::default()),
        }
    }

    /// The last hub runbook version recorded, for the hello (0: none yet).
    pub fn hub_runbooks_after(&self) -> Result<u64, StoreError> {
        match self.tree(TreeId::Meta).get(schema::HUB_RUNBOOKS_AFTER)? {
            Some(raw) => Ok(schema::u64_of(TreeId::Meta, &raw)?),
            None => Ok(0),
        }
    }

    /// Records hub runbook versions `(seq, runbook)` in the order sent, durably and in one
    /// unit, and moves the mark to the last. A version the store has (or has passed) is a
    /// resend: only the mark moves.
    pub fn record_hub_runbooks(
        &self,
        versions: Vec<(u64, Runbook)>,
        now: UnixMillis,
    ) -> Result<Vec<RunbookRecorded>, StoreError> {
        self.unit(|unit| {
            let mut out = Vec::with_capacity(versions.len());
            let mut mark = None;
            for (seq, runbook) in versions {
                mark = Some(seq);
                let latest = unit.runbook(runbook.id)?;
                let outcome = match &latest {
                    _ if runbook.origin != Origin::Hub => RunbookRecorded::Refused,
                    Some(l) if l.origin != Origin::Hub => RunbookRecorded::Refused,
                    Some(l) if l.version >= runbook.version => RunbookRecorded::Duplicate,
                    _ => RunbookRecorded::Stored,
                };
                if outcome == RunbookRecorded::Stored {
                    unit.audit(AuditDraft {
                        at_ms: now,
                        actor: "hub".into(),
                        actor_cert: String::new(),
                        action: if runbook.retired {
                            "runbook.hub-retired"
                        } else {
                            "runbook.hub-version"
                        }
                        .into(),
                        target: format!("runbook {} version {}", runbook.id, runbook.version),
                        before: latest.map(|l| format!("version {}", l.version)),
                        after: Some(runbook.title.clone()),
                    })?;
                    unit.put_runbook(&runbook)?;
                }
                out.push(outcome);
            }
            if let Some(seq) = mark {
                unit.put_u64(TreeId::Meta, schema::HUB_RUNBOOKS_AFTER.as_bytes(), seq);
            }
            Ok(out)
        })
    }
}
