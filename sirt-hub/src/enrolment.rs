//! The enrolled sites: the sites allowed to open an escalation stream, held in the hub store
//! (`enrolled_sites`) so an operator enrols or removes one without restarting the hub
//! (`sirt-hub sites enrol|remove`, `service::enrolment`). [`Enrolled`] is what every run-time
//! reader asks (the stream's check, hunts and directives to "all", the hunt schedule, the sites
//! overview, readiness): always the store, so a change is seen by the next stream and the next
//! sweep, and by every replica sharing the store.
//!
//! The config's `[[sites]]` only seeds the store ([`seed`]): at start a configured site the
//! store never held is enrolled (audited, actor "hub", reason "seeded from config"); a site
//! removed from the config stays enrolled, and a site removed with `sirt-hub sites remove`
//! stays removed even while the config lists it.

use crate::config::EnrolledSite;
use crate::error::HubError;
use crate::ingest::IngestHandle;
use crate::service::Commands;
use crate::store::HubStore;
use socfed_proto::vocab::SiteId;
use std::sync::Arc;

/// The enrolled sites as the store holds them now.
#[derive(Clone)]
pub struct Enrolled {
    store: Arc<HubStore>,
}

impl Enrolled {
    pub fn new(store: Arc<HubStore>) -> Self {
        Self { store }
    }

    /// Every enrolled site, by id.
    pub fn sites(&self) -> Result<Vec<SiteId>, HubError> {
        Ok(self
            .store
            .enrolments()
            .map_err(|e| HubError::storage(&e))?
            .into_iter()
            .filter(|(_, record)| record.is_enrolled())
            .map(|(site, _)| site)
            .collect())
    }

    /// Whether `site` may open an escalation stream.
    pub fn contains(&self, site: &SiteId) -> Result<bool, HubError> {
        Ok(self
            .store
            .enrolment(site)
            .map_err(|e| HubError::storage(&e))?
            .is_some_and(|r| r.is_enrolled()))
    }
}

/// Enrols each configured site the store never held (module docs); says which configured
/// sites the store holds as removed, since the config no longer decides for them.
pub async fn seed(
    configured: &[EnrolledSite],
    store: &HubStore,
    ingest: &IngestHandle,
) -> Result<(), HubError> {
    for site in configured {
        let record = Commands::on(ingest).seed_site(&site.id, &site.name).await?;
        if !record.is_enrolled() {
            tracing::warn!(
                site = %site.id,
                "site is listed in [[sites]] but was removed with `sirt-hub sites remove`; it stays removed (`sirt-hub sites enrol {}` enrols it again)",
                site.id
            );
        }
    }
    let stored = store.enrolments().map_err(|e| HubError::storage(&e))?;
    let extra = stored
        .iter()
        .filter(|(id, r)| r.is_enrolled() && !configured.iter().any(|c| &c.id == id))
        .count();
    if extra > 0 {
        tracing::info!(
            sites = extra,
            "sites enrolled in the store but not in [[sites]] stay enrolled (`sirt-hub sites list`)"
        );
    }
    Ok(())
}

/// Every enrolment record (removed ones only when `include_removed`), as the wire lists them.
pub fn listed(
    store: &HubStore,
    include_removed: bool,
) -> Result<Vec<socfed_proto::pb::EnrolledSite>, crate::store::StoreError> {
    Ok(store
        .enrolments()?
        .iter()
        .filter(|(_, r)| include_removed || r.is_enrolled())
        .map(|(site, r)| wire(site, r))
        .collect())
}

/// One site's enrolment on the wire.
pub fn wire(
    site: &SiteId,
    record: &crate::store::records::EnrolmentRecord,
) -> socfed_proto::pb::EnrolledSite {
    let (removed_by, removed_at_ms) = record
        .removed
        .as_ref()
        .map_or((String::new(), 0), |r| (r.by.clone(), r.at_ms));
    socfed_proto::pb::EnrolledSite {
        site_id: site.to_string(),
        name: record.name.clone(),
        enrolled_by: record.enrolled_by.clone(),
        enrolled_at_ms: record.enrolled_at_ms,
        reason: record.reason.clone(),
        removed: record.removed.is_some(),
        removed_by,
        removed_at_ms,
    }
}
