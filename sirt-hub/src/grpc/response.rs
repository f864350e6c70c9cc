//! The `Response` service: directives, tasks and hunts issued by operators at the hub.

use super::acting::{Acting, Reader, Roles, incident_id, read};
use crate::access::Api;
use crate::error::HubError;
use crate::ingest::IngestHandle;
use crate::live::LiveSites;
use crate::response::directive::{self, KIND_SWEEP, KIND_TASK};
use crate::response::{DirectiveRecord, HuntRecord, TaskSpec};
use crate::service::Commands;
use crate::store::HubStore;
use crate::store::apply::{AttachHunt, Issue};
use crate::view::response_convert as convert;
use socfed_proto::UnixMillis;
use socfed_proto::pb;
use socfed_proto::vocab::{Indicator, SiteId};
use std::collections::BTreeMap;
use std::sync::Arc;
use tonic::{Request, Response, Status};
use ulid::Ulid;

const DAY_S: u64 = 86_400;
/// Directives not run within a day are stale: the situation has moved on.
const DEFAULT_EXPIRY_S: u64 = DAY_S;
const MAX_EXPIRY_S: u64 = 30 * DAY_S;
const DEFAULT_LOOKBACK_S: u64 = 30 * DAY_S;
const MAX_LOOKBACK_S: u64 = 365 * DAY_S;
const MAX_HUNT_DURATION_S: u64 = 30 * DAY_S;
const MAX_HUNT_INDICATORS: usize = 100;

#[derive(Clone)]
pub struct ResponseService {
    pub store: Arc<HubStore>,
    pub roles: Roles,
    pub ingest: IngestHandle,
    pub live: Arc<LiveSites>,
    pub enrolled: Arc<Vec<SiteId>>,
}

fn invalid(e: impl std::fmt::Display) -> Status {
    HubError::invalid(e.to_string()).into()
}

impl ResponseService {
    /// `["all"]` (or nothing, when `empty_means_all`) = every enrolled site.
    fn sites(&self, raw: &[String], empty_means_all: bool) -> Result<Vec<SiteId>, Status> {
        if (raw.is_empty() && empty_means_all) || raw.iter().any(|s| s == "all") {
            return Ok(self.enrolled.to_vec());
        }
        if raw.is_empty() {
            return Err(invalid("name at least one site (or \"all\")"));
        }
        let mut sites = Vec::new();
        for name in raw {
            let site = SiteId::parse(name).map_err(invalid)?;
            if !self.enrolled.contains(&site) {
                return Err(HubError::not_found(format!(
                    "site {name:?} is not enrolled at this hub; `sirt-hub sites` lists them"
                ))
                .into());
            }
            if !sites.contains(&site) {
                sites.push(site);
            }
        }
        Ok(sites)
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

fn new_directive(
    site: &SiteId,
    incident: Option<Ulid>,
    kind: &str,
    params: BTreeMap<String, String>,
    expires_at_ms: UnixMillis,
    actor: &Acting,
    now: UnixMillis,
) -> DirectiveRecord {
    DirectiveRecord {
        incident,
        params,
        expires_at_ms,
        ..DirectiveRecord::queued(site, kind, &actor.name, now)
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

fn site_names(sites: &[SiteId]) -> String {
    sites
        .iter()
        .map(SiteId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
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
        Reader::acting(&acting, &self.roles)
            .may_read_id(&self.store, incident)
            .await?;
        directive::validate_kind(&kind).map_err(invalid)?;
        let params: BTreeMap<String, String> = params.into_iter().collect();
        directive::validate_params(&params).map_err(invalid)?;
        let sites = self.sites(&sites, false)?;
        let expires_in_s = match expires_in_s {
            0 => DEFAULT_EXPIRY_S,
            n if n > MAX_EXPIRY_S => {
                return Err(invalid("expiry is at most 30 days"));
            }
            n => n,
        };
        let now = socfed_proto::now_millis();
        let expires = now + (expires_in_s * 1000) as i64;
        let directives: Vec<DirectiveRecord> = sites
            .iter()
            .map(|site| {
                new_directive(
                    site,
                    Some(incident),
                    &kind,
                    params.clone(),
                    expires,
                    &acting,
                    now,
                )
            })
            .collect();
        let issue = Issue {
            text: format!("directive {kind} issued to {}", site_names(&sites)),
            directives,
            hunt: None,
            incident: Some(incident),
            action: "directive.issue",
            actor: acting.name.clone(),
            actor_cert: acting.cert.clone(),
        };
        let done = Commands::on(&self.ingest).issue(issue).await?;
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
        Reader::acting(&acting, &self.roles)
            .may_read_id(&self.store, incident)
            .await?;
        let title = title.trim().to_string();
        if title.is_empty() || title.len() > 200 {
            return Err(invalid("a task needs a title of 1-200 bytes"));
        }
        if details.len() > 4000 {
            return Err(invalid("task details are at most 4000 bytes"));
        }
        let sites = self.sites(&sites, false)?;
        let now = socfed_proto::now_millis();
        let due_ms = match due_in_s {
            0 => 0,
            n => now + (n.min(MAX_EXPIRY_S * 12) * 1000) as i64,
        };
        let directives: Vec<DirectiveRecord> = sites
            .iter()
            .map(|site| DirectiveRecord {
                task: Some(TaskSpec {
                    title: title.clone(),
                    details: details.clone(),
                    due_ms,
                }),
                ..new_directive(
                    site,
                    Some(incident),
                    KIND_TASK,
                    BTreeMap::new(),
                    0,
                    &acting,
                    now,
                )
            })
            .collect();
        let issue = Issue {
            text: format!("task {title:?} assigned to {}", site_names(&sites)),
            directives,
            hunt: None,
            incident: Some(incident),
            action: "task.assign",
            actor: acting.name.clone(),
            actor_cert: acting.cert.clone(),
        };
        let done = Commands::on(&self.ingest).issue(issue).await?;
        Ok(Response::new(list(&done)))
    }

    async fn list_directives(
        &self,
        request: Request<pb::ListDirectivesRequest>,
    ) -> Result<Response<pb::DirectiveList>, Status> {
        let reader = Reader::of(&self.roles, &request, "ListDirectives")?;
        let pb::ListDirectivesRequest {
            incident_id: incident,
            site_id,
            hunt_id,
        } = request.into_inner();
        let incident = match incident.as_str() {
            "" => None,
            raw => Some(incident_id(raw)?),
        };
        let site = match site_id.as_str() {
            "" => None,
            raw => Some(SiteId::parse(raw).map_err(invalid)?),
        };
        let hunt = match hunt_id.as_str() {
            "" => None,
            raw => Some(Ulid::from_string(raw).map_err(|_| invalid("hunt_id is not a ULID"))?),
        };
        let found = read(&self.store, move |s| {
            let mut all = match (incident, &site) {
                (Some(id), _) => s.incident_directives(id)?,
                (None, Some(site)) => s.site_directives(site)?,
                (None, None) => s.all_directives(1000)?,
            };
            all.retain(|d| {
                site.as_ref().is_none_or(|site| &d.site == site)
                    && hunt.is_none_or(|h| d.hunt == Some(h))
            });
            Ok(all)
        })
        .await?;
        let found = reader.readable_directives(&self.store, found).await?;
        Ok(Response::new(list(&found)))
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
        } = request.into_inner();
        let basis = crate::response::hunt::TimeBasis::parse(&time_basis).map_err(invalid)?;
        let incident = match incident.as_str() {
            "" => None,
            raw => Some(incident_id(raw)?),
        };
        let mut hunted: Vec<Indicator> = Vec::new();
        if let Some(id) = incident {
            match read(&self.store, move |s| s.incident(id)).await? {
                Some(record) => {
                    Reader::acting(&acting, &self.roles).may_read(&record)?;
                    hunted.extend(record.indicators);
                }
                None => {
                    return Err(HubError::not_found(format!(
                        "no incident {id}; list incidents to see valid ids"
                    ))
                    .into());
                }
            }
        }
        for raw in &indicators {
            hunted.push(Indicator::parse_typed(raw).map_err(invalid)?);
        }
        hunted.sort();
        hunted.dedup();
        if hunted.is_empty() {
            return Err(invalid(
                "nothing to hunt for: give --incident with indicators or --ioc TYPE:VALUE",
            ));
        }
        if hunted.len() > MAX_HUNT_INDICATORS {
            return Err(invalid("at most 100 indicators per hunt"));
        }
        // 0 is the field left unset: the default. Anything longer than the maximum is a
        // mistake to name, not to shorten silently (as `duration_s` below).
        let lookback_s = match lookback_s {
            0 => DEFAULT_LOOKBACK_S,
            n if n > MAX_LOOKBACK_S => {
                return Err(invalid(
                    "a hunt looks back at most 365 days; give a shorter lookback",
                ));
            }
            n => n,
        };
        if duration_s > MAX_HUNT_DURATION_S {
            return Err(invalid("a hunt watches for at most 30 days"));
        }
        let sites = self.sites(&sites, true)?;
        let now = socfed_proto::now_millis();
        let mut hunt = HuntRecord {
            id: Ulid::new(),
            incident,
            indicators: hunted,
            sites: sites.clone(),
            lookback_ms: (lookback_s * 1000) as i64,
            duration_ms: (duration_s * 1000) as i64,
            started_at_ms: now,
            started_by: acting.name.clone(),
            attached_to: None,
            directives: Vec::new(),
        };
        let params = crate::response::hunt::sweep_params(&hunt, basis);
        // A sweep still queued when the hunt would have ended is pointless.
        let expires = now + ((DEFAULT_EXPIRY_S + duration_s) * 1000) as i64;
        let directives: Vec<DirectiveRecord> = sites
            .iter()
            .map(|site| DirectiveRecord {
                hunt: Some(hunt.id),
                ..new_directive(
                    site,
                    incident,
                    KIND_SWEEP,
                    params.clone(),
                    expires,
                    &acting,
                    now,
                )
            })
            .collect();
        hunt.directives = directives.iter().map(|d| d.id).collect();
        let issue = Issue {
            text: format!(
                "hunt {} started for {} indicators at {}",
                hunt.id,
                hunt.indicators.len(),
                site_names(&sites)
            ),
            directives: directives.clone(),
            hunt: Some(hunt),
            incident,
            action: "hunt.start",
            actor: acting.name.clone(),
            actor_cert: acting.cert.clone(),
        };
        let hunt = Commands::on(&self.ingest).start_hunt(issue).await?;
        Ok(Response::new(self.hunt_reply(&hunt, &directives)))
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
        let hunts = read(&self.store, |s| s.hunts(200)).await?;
        let hunts = reader.readable_hunts(&self.store, hunts).await?;
        Ok(Response::new(pb::ListHuntsResponse {
            hunts: hunts
                .iter()
                .map(|(hunt, sweeps)| self.hunt_reply(hunt, sweeps))
                .collect(),
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
        Reader::acting(&acting, &self.roles)
            .may_read_id(&self.store, incident)
            .await?;
        let attach = AttachHunt {
            hunt,
            incident,
            due_ms: socfed_proto::now_millis() + (DAY_S * 1000) as i64,
            actor: acting.name.clone(),
            actor_cert: acting.cert.clone(),
        };
        Commands::on(&self.ingest).attach_hunt(attach).await?;
        match read(&self.store, move |s| s.hunt(hunt)).await? {
            Some((hunt, sweeps)) => Ok(Response::new(self.hunt_reply(&hunt, &sweeps))),
            None => Err(HubError::not_found(format!("no hunt {hunt}")).into()),
        }
    }
}
