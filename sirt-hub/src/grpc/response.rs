//! The `Response` service: directives, tasks and hunts issued by operators at the hub.

use super::acting::{Acting, Reader, Roles, incident_id, read};
use crate::access::Api;
use crate::error::HubError;
use crate::ingest::IngestHandle;
use crate::live::LiveSites;
use crate::response::hunt::TimeBasis;
use crate::response::order::{DirectiveOrder, HuntOrder, TaskOrder};
use crate::response::{DirectiveRecord, HuntRecord};
use crate::service::response::Orderer;
use crate::service::{Commands, HuntStarted};
use crate::store::{DirectiveFilter, HubStore};
use crate::view::response_convert as convert;
use socfed_proto::pb;
use socfed_proto::vocab::{Indicator, SiteId};
use std::sync::Arc;
use tonic::{Request, Response, Status};
use ulid::Ulid;

/// Hunts in one `ListHunts` answer by default, and at most.
const DEFAULT_HUNTS_PAGE: usize = 50;
const MAX_HUNTS_PAGE: usize = 200;
/// Directives in one `ListDirectives` answer by default, and at most.
const DEFAULT_DIRECTIVES_PAGE: usize = 50;
const MAX_DIRECTIVES_PAGE: usize = 200;

/// A request's page size: `default` for 0, refused over `max` (the caller pages instead).
fn page_limit(limit: u32, default: usize, max: usize) -> Result<usize, Status> {
    match limit {
        0 => Ok(default),
        n if n as usize > max => Err(invalid(format!(
            "limit {n} is over {max}; page through with next_page_token"
        ))),
        n => Ok(n as usize),
    }
}

/// The id a page token carries: the last one of the page before.
fn page_after(token: &str) -> Result<Option<Ulid>, Status> {
    match token {
        "" => Ok(None),
        token => Ulid::from_string(token).map(Some).map_err(|_| {
            invalid("page_token is not one this hub gave out; start again without it")
        }),
    }
}

#[derive(Clone)]
pub struct ResponseService {
    pub store: Arc<HubStore>,
    pub roles: Roles,
    pub ingest: IngestHandle,
    pub live: Arc<LiveSites>,
    pub enrolled: crate::enrolment::Enrolled,
}

fn invalid(e: impl std::fmt::Display) -> Status {
    HubError::invalid(e.to_string()).into()
}

impl ResponseService {
    fn orderer<'a>(&'a self, acting: &'a Acting) -> Orderer<'a> {
        Orderer {
            store: &self.store,
            roles: &self.roles,
            acting,
        }
    }

    fn hunt_reply(&self, hunt: &HuntRecord, sweeps: &[DirectiveRecord]) -> pb::Hunt {
        convert::hunt(
            hunt,
            sweeps,
            |site| self.live.get(site).is_some(),
            socfed_proto::now_millis(),
        )
    }
}

fn list(directives: &[DirectiveRecord]) -> pb::DirectiveList {
    let now = socfed_proto::now_millis();
    pb::DirectiveList {
        directives: directives
            .iter()
            .map(|d| convert::directive_status(d, now))
            .collect(),
    }
}

#[tonic::async_trait]
impl pb::response_server::Response for ResponseService {
    async fn issue_directive(
        &self,
        request: Request<pb::IssueDirectiveRequest>,
    ) -> Result<Response<pb::DirectiveList>, Status> {
        let acting = Acting::of(&self.roles, &request, "IssueDirective")?;
        acting.may(Api::IssueDirective)?;
        let pb::IssueDirectiveRequest {
            incident_id: incident,
            sites,
            kind,
            params,
            expires_in_s,
        } = request.into_inner();
        let incident = incident_id(&incident)?;
        let order = DirectiveOrder {
            incident,
            sites,
            kind,
            params: params.into_iter().collect(),
            expires_in_s,
        };
        let done = Commands::on(&self.ingest)
            .issue_directive(&self.orderer(&acting), order, &self.enrolled.sites()?)
            .await?;
        Ok(Response::new(list(&done)))
    }

    async fn assign_task(
        &self,
        request: Request<pb::AssignTaskRequest>,
    ) -> Result<Response<pb::DirectiveList>, Status> {
        let acting = Acting::of(&self.roles, &request, "AssignTask")?;
        acting.may(Api::AssignTask)?;
        let pb::AssignTaskRequest {
            incident_id: incident,
            sites,
            title,
            details,
            due_in_s,
        } = request.into_inner();
        let incident = incident_id(&incident)?;
        let order = TaskOrder {
            incident,
            sites,
            title,
            details,
            due_in_s,
        };
        let done = Commands::on(&self.ingest)
            .assign_task(&self.orderer(&acting), order, &self.enrolled.sites()?)
            .await?;
        Ok(Response::new(list(&done)))
    }

    async fn list_directives(
        &self,
        request: Request<pb::ListDirectivesRequest>,
    ) -> Result<Response<pb::ListDirectivesResponse>, Status> {
        let reader = Reader::of(&self.roles, &request, "ListDirectives")?;
        let pb::ListDirectivesRequest {
            incident_id: incident,
            site_id,
            hunt_id,
            limit,
            page_token,
        } = request.into_inner();
        let filter = DirectiveFilter {
            incident: match incident.as_str() {
                "" => None,
                raw => Some(incident_id(raw)?),
            },
            site: match site_id.as_str() {
                "" => None,
                raw => Some(SiteId::parse(raw).map_err(invalid)?),
            },
            hunt: match hunt_id.as_str() {
                "" => None,
                raw => Some(Ulid::from_string(raw).map_err(|_| invalid("hunt_id is not a ULID"))?),
            },
        };
        let limit = page_limit(limit, DEFAULT_DIRECTIVES_PAGE, MAX_DIRECTIVES_PAGE)?;
        let after = page_after(&page_token)?;
        // A listing of one incident's directives is refused as reading the incident is: an
        // empty page would still tell its total. Other listings leave out, from the page and
        // from the total, the directives of incidents the caller may not read.
        if let Some(id) = filter.incident {
            reader.may_read_id(&self.store, id).await?;
        }
        let page = read(&self.store, move |s| {
            reader.directives_page(s, &filter, after, limit)
        })
        .await?;
        Ok(Response::new(pb::ListDirectivesResponse {
            directives: list(&page.directives).directives,
            next_page_token: page.next.map(|id| id.to_string()).unwrap_or_default(),
            total: page.total,
        }))
    }

    async fn start_hunt(
        &self,
        request: Request<pb::StartHuntRequest>,
    ) -> Result<Response<pb::Hunt>, Status> {
        let acting = Acting::of(&self.roles, &request, "StartHunt")?;
        acting.may(Api::StartHunt)?;
        let pb::StartHuntRequest {
            incident_id: incident,
            indicators,
            sites,
            lookback_s,
            duration_s,
            time_basis,
            search,
        } = request.into_inner();
        let basis = TimeBasis::parse(&time_basis).map_err(invalid)?;
        let search = search.map(socfed_proto::search::RawQuery::from);
        let incident = match incident.as_str() {
            "" => None,
            raw => Some(incident_id(raw)?),
        };
        let mut hunted: Vec<Indicator> = Vec::new();
        for raw in &indicators {
            hunted.push(Indicator::parse_typed(raw).map_err(invalid)?);
        }
        let order = HuntOrder {
            incident,
            indicators: hunted,
            sites,
            lookback_s,
            duration_s,
            basis,
            search,
        };
        let HuntStarted { hunt, sweeps } = Commands::on(&self.ingest)
            .start_hunt(&self.orderer(&acting), order, &self.enrolled.sites()?)
            .await?;
        Ok(Response::new(self.hunt_reply(&hunt, &sweeps)))
    }

    async fn get_hunt(
        &self,
        request: Request<pb::GetHuntRequest>,
    ) -> Result<Response<pb::Hunt>, Status> {
        let reader = Reader::of(&self.roles, &request, "GetHunt")?;
        let raw = request.into_inner().hunt_id;
        let id = Ulid::from_string(&raw)
            .map_err(|_| invalid(format!("{raw:?} is not a hunt id (26-character ULID)")))?;
        match read(&self.store, move |s| s.hunt(id)).await? {
            Some((hunt, sweeps)) => {
                for incident in [hunt.incident, hunt.attached_to].into_iter().flatten() {
                    reader.may_read_id(&self.store, incident).await?;
                }
                Ok(Response::new(self.hunt_reply(&hunt, &sweeps)))
            }
            None => Err(HubError::not_found(format!(
                "no hunt {id}; `sirt-hub hunt list` shows them"
            ))
            .into()),
        }
    }

    async fn list_hunts(
        &self,
        request: Request<pb::ListHuntsRequest>,
    ) -> Result<Response<pb::ListHuntsResponse>, Status> {
        let reader = Reader::of(&self.roles, &request, "ListHunts")?;
        let pb::ListHuntsRequest { limit, page_token } = request.into_inner();
        let limit = page_limit(limit, DEFAULT_HUNTS_PAGE, MAX_HUNTS_PAGE)?;
        let before = page_after(&page_token)?;
        // Hunts of incidents the caller may not read are left out, from the total too.
        let page = read(&self.store, move |s| reader.hunts_page(s, before, limit)).await?;
        Ok(Response::new(pb::ListHuntsResponse {
            hunts: page
                .hunts
                .iter()
                .map(|(hunt, sweeps)| {
                    let mut listed = self.hunt_reply(hunt, sweeps);
                    // A listing states the counts; the hits are `GetHunt`'s.
                    for site in &mut listed.sites {
                        site.hits.clear();
                    }
                    listed
                })
                .collect(),
            next_page_token: page.next.map(|id| id.to_string()).unwrap_or_default(),
            total: page.total,
        }))
    }

    async fn attach_hunt(
        &self,
        request: Request<pb::AttachHuntRequest>,
    ) -> Result<Response<pb::Hunt>, Status> {
        let acting = Acting::of(&self.roles, &request, "AttachHunt")?;
        acting.may(Api::AttachHunt)?;
        let pb::AttachHuntRequest {
            hunt_id,
            incident_id: incident,
        } = request.into_inner();
        let hunt = Ulid::from_string(&hunt_id)
            .map_err(|_| invalid(format!("{hunt_id:?} is not a hunt id (26-character ULID)")))?;
        let incident = incident_id(&incident)?;
        Commands::on(&self.ingest)
            .attach_hunt(&self.orderer(&acting), hunt, incident)
            .await?;
        match read(&self.store, move |s| s.hunt(hunt)).await? {
            Some((hunt, sweeps)) => Ok(Response::new(self.hunt_reply(&hunt, &sweeps))),
            None => Err(HubError::not_found(format!("no hunt {hunt}")).into()),
        }
    }
}
