//! Reads of directives and hunts.

use super::schema;
use super::{HubStore, StoreError};
use crate::response::{DirectiveRecord, HuntRecord};
use socfed_proto::vocab::SiteId;
use ulid::Ulid;

impl HubStore {
    pub fn directive(&self, id: Ulid) -> Result<Option<DirectiveRecord>, StoreError> {
        match self.trees.directives.get(id.to_bytes())? {
            Some(raw) => Ok(Some(schema::decode(schema::TreeId::Directives, &raw)?)),
            None => Ok(None),
        }
    }

    fn directives_by_id(
        &self,
        ids: impl Iterator<Item = Result<Ulid, StoreError>>,
    ) -> Result<Vec<DirectiveRecord>, StoreError> {
        let mut out = Vec::new();
        for id in ids {
            if let Some(d) = self.directive(id?)? {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// The directives indexed under `site` in `tree` (`site_directives` or `open_directives`).
    fn site_index(
        &self,
        tree: &sled::Tree,
        name: &'static str,
        site: &SiteId,
    ) -> Result<Vec<DirectiveRecord>, StoreError> {
        let prefix = schema::site_prefix(site);
        let ids = tree.scan_prefix(&prefix).keys().map(|k| {
            let k = k?;
            Ok(schema::ulid_from_key(name, &k[prefix.len()..])?)
        });
        self.directives_by_id(ids)
    }

    /// Every directive of a site, in id order.
    pub fn site_directives(&self, site: &SiteId) -> Result<Vec<DirectiveRecord>, StoreError> {
        self.site_index(&self.trees.site_directives, schema::SITE_DIRECTIVES, site)
    }

    /// A site's directives without a final state yet (its outbox), in id order.
    pub fn open_directives(&self, site: &SiteId) -> Result<Vec<DirectiveRecord>, StoreError> {
        self.site_index(&self.trees.open_directives, schema::OPEN_DIRECTIVES, site)
    }

    pub fn incident_directives(&self, incident: Ulid) -> Result<Vec<DirectiveRecord>, StoreError> {
        self.directives_by_id(self.incident_directive_ids(incident))
    }

    pub fn hunt(&self, id: Ulid) -> Result<Option<(HuntRecord, Vec<DirectiveRecord>)>, StoreError> {
        let Some(raw) = self.trees.hunts.get(id.to_bytes())? else {
            return Ok(None);
        };
        let hunt: HuntRecord = schema::decode(schema::TreeId::Hunts, &raw)?;
        let sweeps = self.directives_by_id(hunt.directives.iter().map(|id| Ok(*id)))?;
        Ok(Some((hunt, sweeps)))
    }

    /// Up to `limit` hunts, newest first, older than `before` (the last of the previous page)
    /// when given; the last one's id when more follow; and how many hunts the hub holds
    /// (counted over the keys: hunts are started by operators, so there are few enough).
    pub fn hunts_page(&self, before: Option<Ulid>, limit: usize) -> Result<HuntsPage, StoreError> {
        let keys = match before {
            Some(id) => self.trees.hunts.range(..id.to_bytes().to_vec()),
            None => self.trees.hunts.iter(),
        };
        let mut hunts = Vec::new();
        let mut more = false;
        for key in keys.keys().rev() {
            if hunts.len() == limit {
                more = true;
                break;
            }
            let id = schema::ulid_from_key(schema::HUNTS, &key?)?;
            if let Some(found) = self.hunt(id)? {
                hunts.push(found);
            }
        }
        let next = more
            .then(|| hunts.last().map(|(h, _): &(HuntRecord, _)| h.id))
            .flatten();
        let total = self.trees.hunts.len() as u64;
        Ok(HuntsPage { hunts, next, total })
    }
}

/// One page of [`HubStore::hunts_page`].
pub struct HuntsPage {
    pub hunts: Vec<(HuntRecord, Vec<DirectiveRecord>)>,
    /// Pass as `before` for the next page; `None` on the last.
    pub next: Option<Ulid>,
    pub total: u64,
}

impl HubStore {}

impl HubStore {
    /// An incident's communications, oldest first.
    pub fn comms(&self, incident: Ulid) -> Result<Vec<crate::comms::CommRecord>, StoreError> {
        self.trees
            .comms
            .scan_prefix(incident.to_bytes())
            .values()
            .map(|v| Ok(schema::decode(schema::TreeId::Comms, &v?)?))
            .collect()
    }

    /// Approved communications still to be delivered (or retried), across incidents.
    pub fn comms_to_deliver(&self) -> Result<Vec<crate::comms::CommRecord>, StoreError> {
        let mut out = Vec::new();
        for value in self.trees.comms.iter().values() {
            let record: crate::comms::CommRecord = schema::decode(schema::TreeId::Comms, &value?)?;
            if record.needs_delivery() {
                out.push(record);
            }
        }
        Ok(out)
    }
}

impl HubStore {
    /// The operator roster, by name.
    pub fn operators(
        &self,
    ) -> Result<Vec<(String, crate::access::roster::OperatorRecord)>, StoreError> {
        self.trees
            .operators
            .iter()
            .map(|entry| {
                let (key, value) = entry?;
                Ok((
                    String::from_utf8_lossy(&key).into_owned(),
                    schema::decode(schema::TreeId::Operators, &value)?,
                ))
            })
            .collect()
    }
}
