//! Reads of the enrolled sites (`enrolled_sites`, written by `unit/enrolment.rs`): every
//! record (removed ones too), and one site's.

use super::records::EnrolmentRecord;
use super::schema::{self, TreeId};
use super::{HubStore, StoreError};
use socfed_proto::vocab::SiteId;

impl HubStore {
    /// Every site ever enrolled, by site id, with its record (removed ones included).
    pub fn enrolments(&self) -> Result<Vec<(SiteId, EnrolmentRecord)>, StoreError> {
        let mut out = Vec::new();
        for entry in self.registry.tree(TreeId::EnrolledSites).iter() {
            let (key, raw) = entry?;
            let site = String::from_utf8(key.to_vec())
                .ok()
                .and_then(|s| SiteId::parse(&s).ok())
                .ok_or_else(|| schema::CodecError::Malformed {
                    tree: schema::ENROLLED_SITES,
                    detail: "a key that is not a site id".into(),
                })?;
            out.push((site, schema::decode(TreeId::EnrolledSites, &raw)?));
        }
        Ok(out)
    }

    /// `site`'s enrolment record, if it was ever enrolled.
    pub fn enrolment(&self, site: &SiteId) -> Result<Option<EnrolmentRecord>, StoreError> {
        match self
            .registry
            .tree(TreeId::EnrolledSites)
            .get(site.as_str().as_bytes())?
        {
            Some(raw) => Ok(Some(schema::decode(TreeId::EnrolledSites, &raw)?)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
#[path = "query_enrolment_tests.rs"]
mod tests;
