//! The `SiteEnrolment` service: the enrolled sites listed to every operator, enrolled and
//! removed by the roster's keepers (`service::enrolment`); decoding and encoding only.

use super::acting::{Acting, Reader, Roles, read};
use crate::enrolment::{listed, wire};
use crate::ingest::IngestHandle;
use crate::live::LiveSites;
use crate::service::Commands;
use crate::store::HubStore;
use socfed_proto::pb;
use std::sync::Arc;
use tonic::{Request, Response, Status};

#[derive(Clone)]
pub struct EnrolmentService {
    pub store: Arc<HubStore>,
    pub roles: Roles,
    pub ingest: IngestHandle,
    /// Removal ends the site's open stream here.
    pub live: Arc<LiveSites>,
}

#[tonic::async_trait]
impl pb::site_enrolment_server::SiteEnrolment for EnrolmentService {
    async fn enrol_site(
        &self,
        request: Request<pb::EnrolSiteRequest>,
    ) -> Result<Response<pb::EnrolledSite>, Status> {
        let acting = Acting::of(&self.roles, &request, "EnrolSite")?;
        let pb::EnrolSiteRequest { site_id, name } = request.into_inner();
        let (site, record) = Commands::on(&self.ingest)
            .enrol_site(&acting, &site_id, &name)
            .await?;
        Ok(Response::new(wire(&site, &record)))
    }

    async fn remove_site(
        &self,
        request: Request<pb::RemoveSiteRequest>,
    ) -> Result<Response<pb::EnrolledSite>, Status> {
        let acting = Acting::of(&self.roles, &request, "RemoveSite")?;
        let site_id = request.into_inner().site_id;
        let (site, record) = Commands::on(&self.ingest)
            .remove_site(&acting, &site_id, &self.live)
            .await?;
        Ok(Response::new(wire(&site, &record)))
    }

    async fn list_enrolled_sites(
        &self,
        request: Request<pb::ListEnrolledSitesRequest>,
    ) -> Result<Response<pb::EnrolledSiteList>, Status> {
        Reader::of(&self.roles, &request, "ListEnrolledSites")?;
        let include_removed = request.into_inner().include_removed;
        let sites = read(&self.store, move |s| listed(s, include_removed)).await?;
        Ok(Response::new(pb::EnrolledSiteList { sites }))
    }
}
