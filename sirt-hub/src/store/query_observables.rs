//! Reads of observables (`schema.rs`, `observables` and `observable_index`): an incident's
//! observables as domain records, one of them, and the incidents holding an indicator, by
//! the index (one prefix read, never a scan of incidents).

use super::schema::{self, TreeId};
use super::{HubStore, StoreError};
use crate::observable::ObservableRecord;
use socfed_proto::vocab::Indicator;
use ulid::Ulid;

impl HubStore {
    /// Every observable of `incident`, ordered by the hash of their indicators (stable): the
    /// domain records, for every surface and for exports.
    pub fn observables(&self, incident: Ulid) -> Result<Vec<ObservableRecord>, StoreError> {
        self.registry
            .tree(TreeId::Observables)
            .scan_prefix(incident.to_bytes())
            .values()
            .map(|v| Ok(schema::decode(TreeId::Observables, &v?)?))
            .collect()
    }

    /// The observable of `indicator` on `incident`, if it has one.
    pub fn observable(
        &self,
        incident: Ulid,
        indicator: &Indicator,
    ) -> Result<Option<ObservableRecord>, StoreError> {
        let key = schema::observable_key(incident, &schema::indicator_hash(indicator));
        match self.registry.tree(TreeId::Observables).get(key)? {
            Some(raw) => Ok(Some(schema::decode(TreeId::Observables, &raw)?)),
            None => Ok(None),
        }
    }

    /// Incidents holding `indicator` as an observable, newest first, at most `limit`.
    pub fn observable_incidents(
        &self,
        indicator: &Indicator,
        limit: usize,
    ) -> Result<Vec<Ulid>, StoreError> {
        let hash = schema::indicator_hash(indicator);
        self.registry
            .tree(TreeId::ObservableIndex)
            .scan_prefix(hash)
            .keys()
            .rev()
            .take(limit)
            .map(|key| {
                let key = key?;
                Ok(schema::ulid_from_key(
                    schema::OBSERVABLE_INDEX,
                    key.get(32..).unwrap_or_default(),
                )?)
            })
            .collect()
    }
}
