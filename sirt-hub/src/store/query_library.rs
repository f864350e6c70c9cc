//! Reads of the hunt library: every library hunt, one with its versions, and the latest of
//! its runs with their sweeps (for its statistics).

use super::schema::{self, TreeId};
use super::{HubStore, StoreError};
use crate::hunt_library::LibraryHunt;
use crate::response::{DirectiveRecord, HuntRecord};
use ulid::Ulid;

impl HubStore {
    /// Every library hunt, oldest first (at most `hunt_library::MAX_LIBRARY`).
    pub fn library(&self) -> Result<Vec<LibraryHunt>, StoreError> {
        let mut out = Vec::new();
        for entry in self.registry.tree(TreeId::HuntLibrary).iter() {
            let (_, raw) = entry?;
            out.push(schema::decode(TreeId::HuntLibrary, &raw)?);
        }
        Ok(out)
    }

    pub fn library_hunt(&self, id: Ulid) -> Result<Option<LibraryHunt>, StoreError> {
        match self.registry.tree(TreeId::HuntLibrary).get(id.to_bytes())? {
            Some(raw) => Ok(Some(schema::decode(TreeId::HuntLibrary, &raw)?)),
            None => Ok(None),
        }
    }

    /// The versions of library hunt `id` that edits replaced, oldest first.
    pub fn library_versions(&self, id: Ulid) -> Result<Vec<LibraryHunt>, StoreError> {
        let mut out = Vec::new();
        for entry in self
            .registry
            .tree(TreeId::HuntLibraryVersions)
            .scan_prefix(id.to_bytes())
        {
            let (_, raw) = entry?;
            out.push(schema::decode(TreeId::HuntLibraryVersions, &raw)?);
        }
        Ok(out)
    }

    /// The latest `limit` runs of library hunt `id`, newest first, each hunt with its sweeps.
    pub fn library_runs(
        &self,
        id: Ulid,
        limit: usize,
    ) -> Result<Vec<(HuntRecord, Vec<DirectiveRecord>)>, StoreError> {
        let mut out = Vec::new();
        for entry in self
            .registry
            .tree(TreeId::HuntLibraryRuns)
            .scan_prefix(id.to_bytes())
            .rev()
            .take(limit)
        {
            let (key, _) = entry?;
            let run =
                schema::ulid_from_key(schema::HUNT_LIBRARY_RUNS, key.get(16..).unwrap_or(&[]))?;
            if let Some(found) = self.hunt(run)? {
                out.push(found);
            }
        }
        Ok(out)
    }
}
