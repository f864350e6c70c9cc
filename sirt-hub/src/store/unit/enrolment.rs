//! The enrolled sites inside a unit (`enrolled_sites`): one record per site, written by the
//! enrolment change that also writes its audit entry (`ingest/apply/enrolment.rs`).

use super::StoreUnit;
use crate::store::StoreError;
use crate::store::records::EnrolmentRecord;
use crate::store::schema::TreeId;
use socfed_proto::vocab::SiteId;

impl StoreUnit<'_> {
    /// `site`'s enrolment record as this unit sees it.
    pub fn enrolment(&self, site: &SiteId) -> Result<Option<EnrolmentRecord>, StoreError> {
        Ok(self
            .work
            .get(TreeId::EnrolledSites, site.as_str().as_bytes())?)
    }

    pub fn put_enrolment(
        &mut self,
        site: &SiteId,
        record: &EnrolmentRecord,
    ) -> Result<(), StoreError> {
        self.work.put(
            TreeId::EnrolledSites,
            site.as_str().as_bytes().to_vec(),
            record,
        )?;
        Ok(())
    }
}
