//! Reads of directives and hunts.

use super::schema;
use super::{HubStore, StoreError, Visibility};
use crate::response::{DirectiveRecord, HuntRecord};
use socfed_proto::vocab::SiteId;
use socfed_runtime::store_kit::kv;
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
        tree: &kv::Tree,
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

    /// Hunt `id`'s record alone, without reading its sweeps.
    pub(super) fn hunt_record(&self, id: Ulid) -> Result<Option<HuntRecord>, StoreError> {
        match self.trees.hunts.get(id.to_bytes())? {
            Some(raw) => Ok(Some(schema::decode(schema::TreeId::Hunts, &raw)?)),
            None => Ok(None),
        }
    }

    /// The incidents whose data hunt `id` carries: the one it was started from and the one it
    /// was attached to (none for an unknown hunt).
    pub fn hunt_incidents(&self, id: Ulid) -> Result<[Option<Ulid>; 2], StoreError> {
        Ok(self
            .hunt_record(id)?
            .map_or([None, None], |h| [h.incident, h.attached_to]))
    }

    pub fn hunt(&self, id: Ulid) -> Result<Option<(HuntRecord, Vec<DirectiveRecord>)>, StoreError> {
        let Some(hunt) = self.hunt_record(id)? else {
            return Ok(None);
        };
        let sweeps = self.directives_by_id(hunt.directives.iter().map(|id| Ok(*id)))?;
        Ok(Some((hunt, sweeps)))
    }

    /// Up to `limit` hunts that `visible` shows (a hunt carries the data of the incident it
    /// started from and of the one it was attached to), newest first, older than `before`
    /// (the last of the previous page) when given; the last one's id when more follow; and
    /// how many such hunts the hub holds (hunts are started by operators, so there are few
    /// enough to count, and to read each one when the caller may not read every incident).
    pub fn hunts_page(
        &self,
        before: Option<Ulid>,
        limit: usize,
        mut visible: Visibility<'_>,
    ) -> Result<HuntsPage, StoreError> {
        let keys = match before {
            Some(id) => self.trees.hunts.range(..id.to_bytes().to_vec()),
            None => self.trees.hunts.iter(),
        };
        let every = matches!(visible, Visibility::All);
        let mut hunts = Vec::new();
        let mut more = false;
        let mut shown_before = 0u64;
        if let (false, Some(id)) = (every, before) {
            // The total counts the hunts of the pages before this one too (`before` included).
            for entry in self.trees.hunts.range(id.to_bytes().to_vec()..) {
                let (_, raw) = entry?;
                let hunt: HuntRecord = schema::decode(schema::TreeId::Hunts, &raw)?;
                shown_before += u64::from(visible.shows_all([hunt.incident, hunt.attached_to])?);
            }
        }
        let mut shown_after = 0u64;
        for entry in keys.rev() {
            let (_, raw) = entry?;
            let hunt: HuntRecord = schema::decode(schema::TreeId::Hunts, &raw)?;
            if !visible.shows_all([hunt.incident, hunt.attached_to])? {
                continue;
            }
            if hunts.len() == limit {
                more = true;
                if every {
                    break;
                }
                shown_after += 1;
                continue;
            }
            let sweeps = self.directives_by_id(hunt.directives.iter().map(|id| Ok(*id)))?;
            hunts.push((hunt, sweeps));
        }
        let next = more
            .then(|| hunts.last().map(|(h, _): &(HuntRecord, _)| h.id))
            .flatten();
        let total = if every {
            self.trees.hunts.len()? as u64
        } else {
            shown_before + hunts.len() as u64 + shown_after
        };
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
