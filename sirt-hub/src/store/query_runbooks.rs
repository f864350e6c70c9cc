//! Reads of the hub's runbooks (`runbooks`, `runbook_versions`, `runbook_log`, written by
//! `unit/runbooks.rs`): the list, one runbook and its history, and the versions a site is
//! owed after the last one it stored.

use super::schema::{self, TreeId};
use super::{HubStore, StoreError};
use socfed_proto::vocab::runbook::Runbook;
use ulid::Ulid;

impl HubStore {
    /// The latest version of every runbook, by id (retired ones included).
    pub fn runbooks(&self) -> Result<Vec<Runbook>, StoreError> {
        let mut out = Vec::new();
        for entry in self.registry.tree(TreeId::Runbooks).iter() {
            let (_, raw) = entry?;
            out.push(schema::decode(TreeId::Runbooks, &raw)?);
        }
        Ok(out)
    }

    /// Version `version` of runbook `id` (`None`: the latest).
    pub fn runbook(&self, id: Ulid, version: Option<u32>) -> Result<Option<Runbook>, StoreError> {
        let raw = match version {
            None => self.registry.tree(TreeId::Runbooks).get(id.to_bytes())?,
            Some(v) => self
                .registry
                .tree(TreeId::RunbookVersions)
                .get(schema::runbook_version_key(id, v))?,
        };
        match raw {
            Some(raw) => Ok(Some(schema::decode(TreeId::RunbookVersions, &raw)?)),
            None => Ok(None),
        }
    }

    /// Every version of runbook `id`, oldest first.
    pub fn runbook_history(&self, id: Ulid) -> Result<Vec<Runbook>, StoreError> {
        let mut out = Vec::new();
        for entry in self
            .registry
            .tree(TreeId::RunbookVersions)
            .scan_prefix(id.to_bytes())
        {
            let (_, raw) = entry?;
            out.push(schema::decode(TreeId::RunbookVersions, &raw)?);
        }
        Ok(out)
    }

    /// The last runbook sequence written (0: none).
    pub fn last_runbook_seq(&self) -> Result<u64, StoreError> {
        match self.trees.meta.get(schema::RUNBOOK_SEQ)? {
            Some(raw) => Ok(schema::u64_value(schema::META, &raw)?),
            None => Ok(0),
        }
    }

    /// At most `limit` runbook versions written after sequence `after`, in order.
    pub fn runbook_versions_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, Runbook)>, StoreError> {
        let log = self.registry.tree(TreeId::RunbookLog);
        let versions = self.registry.tree(TreeId::RunbookVersions);
        let mut out = Vec::new();
        for entry in log
            .range(after.saturating_add(1).to_be_bytes().to_vec()..)
            .take(limit)
        {
            let (key, value) = entry?;
            let seq = schema::u64_value(schema::RUNBOOK_LOG, &key)?;
            let (id, version) = schema::runbook_version_parts(schema::RUNBOOK_LOG, &value)?;
            let raw = versions
                .get(schema::runbook_version_key(id, version))?
                .ok_or_else(|| {
                    StoreError::Codec(schema::CodecError::Malformed {
                        tree: schema::RUNBOOK_LOG,
                        detail: format!("entry {seq} names {id} version {version}, not stored"),
                    })
                })?;
            out.push((seq, schema::decode(TreeId::RunbookVersions, &raw)?));
        }
        Ok(out)
    }
}
