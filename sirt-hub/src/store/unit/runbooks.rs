//! Hub runbooks inside a unit: the latest version (`runbooks`), every version
//! (`runbook_versions`) and the order versions were written in (`runbook_log`, its sequence
//! in `meta`), which every site is sent from where its hello says it stopped.

use super::StoreUnit;
use crate::store::StoreError;
use crate::store::schema::{self, TreeId};
use socfed_proto::vocab::runbook::Runbook;
use ulid::Ulid;

impl StoreUnit<'_> {
    /// The latest version of runbook `id`, as this unit sees it.
    pub fn runbook(&self, id: Ulid) -> Result<Option<Runbook>, StoreError> {
        Ok(self.work.get(TreeId::Runbooks, &id.to_bytes())?)
    }

    /// How many runbooks were ever written (retired ones included), from `meta`.
    pub fn runbook_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .work
            .get_u64(TreeId::Meta, schema::RUNBOOK_COUNT.as_bytes())?)
    }

    /// Writes a new version: the latest, the history and the next entry of the log every
    /// site is sent. The caller decides the version; this only files it.
    pub fn put_runbook(&mut self, runbook: &Runbook) -> Result<(), StoreError> {
        if runbook.version == 1 {
            let count = self.runbook_count()?.saturating_add(1);
            self.work
                .put_u64(TreeId::Meta, schema::RUNBOOK_COUNT.as_bytes(), count);
        }
        let key = schema::runbook_version_key(runbook.id, runbook.version);
        self.work
            .put(TreeId::RunbookVersions, key.to_vec(), runbook)?;
        self.work
            .put(TreeId::Runbooks, runbook.id.to_bytes().to_vec(), runbook)?;
        let seq = self
            .work
            .get_u64(TreeId::Meta, schema::RUNBOOK_SEQ.as_bytes())?
            .saturating_add(1);
        self.work
            .put_u64(TreeId::Meta, schema::RUNBOOK_SEQ.as_bytes(), seq);
        self.work
            .put_raw(TreeId::RunbookLog, seq.to_be_bytes().to_vec(), key.to_vec());
        self.touched.runbooks = true;
        Ok(())
    }
}
