//! The hunt library inside a unit: the current version of each library hunt
//! (`hunt_library`), the versions edits replaced (`hunt_library_versions`) and the hunts its
//! runs started (`hunt_library_runs`).

use super::StoreUnit;
use crate::hunt_library::LibraryHunt;
use crate::store::StoreError;
use crate::store::schema::{self, TreeId};
use ulid::Ulid;

impl StoreUnit<'_> {
    pub fn library_hunt(&self, id: Ulid) -> Result<Option<LibraryHunt>, StoreError> {
        Ok(self.work.get(TreeId::HuntLibrary, &id.to_bytes())?)
    }

    /// Writes `hunt` as the current version; `replaced`, the version an edit replaces, is kept
    /// under its number.
    pub fn put_library_hunt(
        &mut self,
        hunt: &LibraryHunt,
        replaced: Option<&LibraryHunt>,
    ) -> Result<(), StoreError> {
        if let Some(old) = replaced {
            self.work.put(
                TreeId::HuntLibraryVersions,
                schema::library_version_key(old.id, old.version),
                old,
            )?;
        }
        self.work
            .put(TreeId::HuntLibrary, hunt.id.to_bytes().to_vec(), hunt)?;
        Ok(())
    }

    /// Records that `run` (a hunt) is a run of library hunt `library`.
    pub fn put_library_run(&mut self, library: Ulid, run: Ulid) {
        self.work.put_raw(
            TreeId::HuntLibraryRuns,
            schema::pair_key(library, run).to_vec(),
            Vec::new(),
        );
    }

    /// The oldest runs of library hunt `library` past the latest `keep`, oldest first.
    pub fn library_runs_over(&self, library: Ulid, keep: usize) -> Result<Vec<Ulid>, StoreError> {
        let prefix = library.to_bytes();
        let runs = self.work.entries_from(
            TreeId::HuntLibraryRuns,
            &prefix,
            &prefix,
            keep.saturating_add(16),
        )?;
        let over = runs.len().saturating_sub(keep);
        runs.iter()
            .take(over)
            .map(|(key, _)| {
                schema::ulid_from_key(schema::HUNT_LIBRARY_RUNS, key.get(16..).unwrap_or(&[]))
                    .map_err(StoreError::from)
            })
            .collect()
    }

    /// Removes a run of library hunt `library`: its index entry, its hunt record and the
    /// hunt's sweeps with their index entries.
    pub fn remove_library_run(&mut self, library: Ulid, run: Ulid) -> Result<(), StoreError> {
        if let Some(hunt) = self.hunt(run)? {
            for id in &hunt.directives {
                if let Some(sweep) = self.directive(*id)? {
                    self.remove_directive(&sweep);
                }
            }
            self.work.remove(TreeId::Hunts, run.to_bytes().to_vec());
        }
        self.work.remove(
            TreeId::HuntLibraryRuns,
            schema::pair_key(library, run).to_vec(),
        );
        Ok(())
    }

    /// How many library hunts there are, counted up to `limit`.
    pub fn library_len(&self, limit: usize) -> Result<usize, StoreError> {
        Ok(self
            .work
            .entries_from(TreeId::HuntLibrary, &[], &[], limit)?
            .len())
    }
}
