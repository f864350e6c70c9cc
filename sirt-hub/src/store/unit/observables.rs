//! Observables inside a unit: each incident's records (`observables`), the index by indicator
//! (`observable_index`) and the per-incident count in `meta`, kept in step (see `schema.rs`).

use super::StoreUnit;
use crate::observable::{MAX_PER_INCIDENT, ObservableRecord};
use crate::store::StoreError;
use crate::store::schema::{self, TreeId};
use socfed_proto::vocab::Indicator;
use ulid::Ulid;

impl StoreUnit<'_> {
    /// The observable of `indicator` on `incident`, as this unit sees it.
    pub fn observable(
        &self,
        incident: Ulid,
        indicator: &Indicator,
    ) -> Result<Option<ObservableRecord>, StoreError> {
        let hash = schema::indicator_hash(indicator);
        Ok(self.work.get(
            TreeId::Observables,
            &schema::observable_key(incident, &hash),
        )?)
    }

    /// How many observables `incident` has.
    pub fn observable_count(&self, incident: Ulid) -> Result<u64, StoreError> {
        Ok(self
            .work
            .get_u64(TreeId::Meta, &schema::observable_count_key(incident))?)
    }

    /// Writes `record` on `incident`; `new` when the incident did not hold it, which adds its
    /// index entry and counts it.
    pub fn put_observable(
        &mut self,
        incident: Ulid,
        record: &ObservableRecord,
        new: bool,
    ) -> Result<(), StoreError> {
        let hash = schema::indicator_hash(&record.indicator);
        self.work.put(
            TreeId::Observables,
            schema::observable_key(incident, &hash).to_vec(),
            record,
        )?;
        if new {
            self.work.put_raw(
                TreeId::ObservableIndex,
                schema::observable_index_key(&hash, incident).to_vec(),
                Vec::new(),
            );
            let count = self.observable_count(incident)?;
            self.work.put_u64(
                TreeId::Meta,
                &schema::observable_count_key(incident),
                count.saturating_add(1),
            );
        }
        Ok(())
    }

    /// Removes the observable of `indicator` from `incident` (it must be there) with its
    /// index entry.
    pub fn remove_observable(
        &mut self,
        incident: Ulid,
        indicator: &Indicator,
    ) -> Result<(), StoreError> {
        let hash = schema::indicator_hash(indicator);
        self.work.remove(
            TreeId::Observables,
            schema::observable_key(incident, &hash).to_vec(),
        );
        self.work.remove(
            TreeId::ObservableIndex,
            schema::observable_index_key(&hash, incident).to_vec(),
        );
        let key = schema::observable_count_key(incident);
        match self.observable_count(incident)? {
            0 | 1 => self.work.remove(TreeId::Meta, key),
            n => self.work.put_u64(TreeId::Meta, &key, n - 1),
        }
        Ok(())
    }

    /// Every observable of `incident` (at most [`MAX_PER_INCIDENT`]), as this unit sees them:
    /// for a merge or a split, which move them whole.
    pub fn observables_of(&self, incident: Ulid) -> Result<Vec<ObservableRecord>, StoreError> {
        let prefix = incident.to_bytes();
        let limit = usize::try_from(MAX_PER_INCIDENT).unwrap_or(usize::MAX);
        self.work
            .entries_from(TreeId::Observables, &prefix, &prefix, limit)?
            .into_iter()
            .map(|(_, value)| Ok(schema::decode(TreeId::Observables, &value)?))
            .collect()
    }
}
