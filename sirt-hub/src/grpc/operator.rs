//! The `Operator` service: cross-site queries for operator certificates.

use super::acting::{Acting, Reader, authorize, incident_id, read};
use crate::access::Api;
use crate::error::HubError;
use crate::ingest::IngestHandle;
use crate::ingest::apply::RegulatoryEdit;
use crate::live::LiveSites;
use crate::service::Commands;
use crate::service::search;
use crate::store::HubStore;
use crate::store::query::IncidentFilter;
use crate::view::convert;
use socfed_proto::pb;
use socfed_proto::vocab::{Severity, SiteId};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use ulid::Ulid;

/// Conflicts and rejections in one `ListConflicts` answer by default, and at most.
const DEFAULT_CONFLICTS_PAGE: usize = 100;
const MAX_CONFLICTS_PAGE: usize = 1_000;

#[derive(Clone)]
pub struct OperatorService {
    pub store: Arc<HubStore>,
    /// Operator name → role at the hub, from `[[operators]]`.
    pub roles: super::acting::Roles,
    pub ingest: IngestHandle,
    pub live: Arc<LiveSites>,
    pub enrolled: crate::enrolment::Enrolled,
    pub shutdown: CancellationToken,
    /// Open `WatchIncidents` streams per operator (`limits.max_watches_per_operator`).
    pub watches: Arc<super::watches::WatchSlots>,
}

const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 1000;

#[tonic::async_trait]
impl pb::operator_server::Operator for OperatorService {
    async fn list_incidents(
        &self,
        request: Request<pb::ListIncidentsRequest>,
    ) -> Result<Response<pb::ListIncidentsResponse>, Status> {
        let reader = Reader::of(&self.roles, &request, "ListIncidents")?;
        let pb::ListIncidentsRequest {
            site_id,
            status,
            min_severity,
            page_size,
            page_token,
        } = request.into_inner();
        let site = match site_id.as_str() {
            "" => None,
            raw => Some(SiteId::parse(raw).map_err(|e| HubError::invalid(e.to_string()))?),
        };
        let min_severity = match min_severity {
            0 => None,
            n => Some(
                Severity::from_wire(n, "min_severity")
                    .map_err(|e| HubError::invalid(e.to_string()))?,
            ),
        };
        let filter = IncidentFilter {
            site,
            status: convert::status_filter(status)?,
            min_severity,
        };
        let before = match page_token.as_str() {
            "" => None,
            token => Some(Ulid::from_string(token).map_err(|_| {
                HubError::invalid("page_token is not a token returned by ListIncidents")
            })?),
        };
        let limit = match page_size {
            0 => DEFAULT_PAGE,
            n => n.min(MAX_PAGE),
        } as usize;
        // TLP:RED incidents the caller may not read are left out inside the scan (not
        // redacted: a redacted row would still disclose that the incident exists, when, and at
        // which sites), so no page token names one either.
        let page = read(&self.store, move |s| {
            s.list_incidents(&filter, before, limit, |r| reader.can_read(r))
        })
        .await?;
        Ok(Response::new(pb::ListIncidentsResponse {
            incidents: page.incidents.iter().map(convert::incident).collect(),
            next_page_token: page.next.map(|u| u.to_string()).unwrap_or_default(),
        }))
    }

    async fn search_incidents(
        &self,
        request: Request<pb::SearchIncidentsRequest>,
    ) -> Result<Response<pb::SearchIncidentsResponse>, Status> {
        let reader = Reader::of(&self.roles, &request, "SearchIncidents")?;
        let pb::SearchIncidentsRequest {
            filters,
            limit,
            cursor,
        } = request.into_inner();
        let search::HubSearch {
            query,
            before,
            limit,
        } = search::HubSearch::parse(filters, &cursor, limit)?;
        let (incidents, next) = read(&self.store, move |s| {
            reader.search_incidents(s, &query, before, limit)
        })
        .await?;
        Ok(Response::new(pb::SearchIncidentsResponse {
            incidents: incidents.iter().map(convert::incident).collect(),
            next_cursor: next
                .map(|id| socfed_proto::search::cursor_text(id.to_bytes()))
                .unwrap_or_default(),
        }))
    }

    async fn get_incident(
        &self,
        request: Request<pb::GetIncidentRequest>,
    ) -> Result<Response<pb::HubIncident>, Status> {
        let reader = Reader::of(&self.roles, &request, "GetIncident")?;
        let raw = request.into_inner().id;
        let id = Ulid::from_string(&raw).map_err(|_| {
            HubError::invalid(format!("{raw:?} is not an incident id (26-character ULID)"))
        })?;
        match read(&self.store, move |s| s.incident(id)).await? {
            Some(record) => {
                reader.may_read(&record)?;
                Ok(Response::new(convert::incident(&record)))
            }
            None => Err(HubError::not_found(format!(
                "no incident {id}; list incidents to see valid ids"
            ))
            .into()),
        }
    }

    type WatchIncidentsStream = ReceiverStream<Result<pb::IncidentEvent, Status>>;

    async fn watch_incidents(
        &self,
        request: Request<pb::WatchIncidentsRequest>,
    ) -> Result<Response<Self::WatchIncidentsStream>, Status> {
        let reader = Reader::of(&self.roles, &request, "WatchIncidents")?;
        // Counted per operator, with their `/api/v1/events` streams (`api/events.rs`).
        let slot = self.watches.take(&reader.name)?;
        let mut events = self.ingest.subscribe();
        let (tx, rx) = mpsc::channel(256);
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            // Held for as long as the watch runs.
            let _slot = slot;
            loop {
                let event = tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tx.closed() => break,
                    event = events.recv() => event,
                };
                let message = match event {
                    // Checked per event: the marking, the IR lead and the role can change.
                    Ok(change) if !reader.can_read(&change.record) => continue,
                    Ok(change) => Ok(pb::IncidentEvent {
                        kind: if change.created {
                            pb::incident_event::Kind::Created
                        } else {
                            pb::incident_event::Kind::Updated
                        } as i32,
                        incident: Some(convert::incident(&change.record)),
                    }),
                    Err(RecvError::Lagged(n)) => Err(HubError::aborted(format!(
                        "this watch fell {n} events behind; list incidents again and restart the watch"
                    ))
                    .into()),
                    Err(RecvError::Closed) => break,
                };
                let fatal = message.is_err();
                if tx.send(message).await.is_err() || fatal {
                    break;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    type WatchEventsStream = ReceiverStream<Result<pb::HubEventRecord, Status>>;

    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<Self::WatchEventsStream>, Status> {
        let reader = Reader::of(&self.roles, &request, "WatchEvents")?;
        // Counted per operator, with their `/api/v1/events` streams (`api/events.rs`).
        let slot = self.watches.take(&reader.name)?;
        let pb::WatchEventsRequest { since, from_now } = request.into_inner();
        let (tx, rx) = mpsc::channel(256);
        let log = self.ingest.event_log(self.store.clone());
        let since = if from_now { log.last() } else { since };
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            // Held for as long as the watch runs.
            let _slot = slot;
            super::events::follow(log, reader, since, tx, shutdown).await;
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn list_sites(
        &self,
        request: Request<pb::ListSitesRequest>,
    ) -> Result<Response<pb::ListSitesResponse>, Status> {
        authorize(&request, "ListSites")?;
        let sites =
            crate::view::sites::site_overview(&self.store, &self.live, &self.enrolled.sites()?)
                .await?;
        Ok(Response::new(pb::ListSitesResponse { sites }))
    }

    async fn list_conflicts(
        &self,
        request: Request<pb::ListConflictsRequest>,
    ) -> Result<Response<pb::ListConflictsResponse>, Status> {
        authorize(&request, "ListConflicts")?;
        let pb::ListConflictsRequest {
            site_id,
            limit,
            page_token,
        } = request.into_inner();
        let site = match site_id.as_str() {
            "" => None,
            raw => Some(SiteId::parse(raw).map_err(|e| HubError::invalid(e.to_string()))?),
        };
        let limit = match limit {
            0 => DEFAULT_CONFLICTS_PAGE,
            n if n as usize > MAX_CONFLICTS_PAGE => {
                return Err(HubError::invalid(format!(
                    "limit {n} is over {MAX_CONFLICTS_PAGE}; page through with next_page_token"
                ))
                .into());
            }
            n => n as usize,
        };
        let after = match page_token.as_str() {
            "" => None,
            token => Some(socfed_proto::hex::decode(token).ok_or_else(|| {
                HubError::invalid("page_token is not one this hub gave out; start again without it")
            })?),
        };
        let (page, next, total) = read(&self.store, move |s| {
            let (page, next) = s.reviews(site.as_ref(), after.as_deref(), limit)?;
            let total = s
                .sites()?
                .iter()
                .filter(|(id, _)| site.as_ref().is_none_or(|wanted| wanted == id))
                .map(|(_, r)| r.conflicts.saturating_add(r.rejected))
                .fold(0u64, u64::saturating_add);
            Ok((page, next, total))
        })
        .await?;
        Ok(Response::new(pb::ListConflictsResponse {
            conflicts: page.iter().map(convert::review).collect(),
            next_page_token: next
                .map(|k| socfed_proto::hex::encode(&k))
                .unwrap_or_default(),
            total,
        }))
    }

    async fn transition_incident(
        &self,
        request: Request<pb::TransitionIncidentRequest>,
    ) -> Result<Response<pb::HubIncident>, Status> {
        let acting = Acting::of(&self.roles, &request, "TransitionIncident")?;
        // Refused before the request is read, as every operator API; the command checks again.
        acting.may(Api::TransitionIncident)?;
        let pb::TransitionIncidentRequest {
            id,
            legacy_command,
            command,
            argument,
        } = request.into_inner();
        socfed_proto::vocab::refuse_legacy_word("command", &legacy_command)
            .map_err(HubError::from)?;
        let incident = incident_id(&id)?;
        let kind = crate::view::wire::COMMANDS
            .from_wire(command)
            .map_err(HubError::from)?;
        let command = crate::lifecycle::command(kind, &argument).map_err(HubError::invalid)?;
        let record = Commands::on(&self.ingest)
            .transition(&self.store, &self.roles, &acting, incident, command)
            .await?;
        Ok(Response::new(convert::incident(&record)))
    }

    async fn verify_audit(
        &self,
        request: Request<pb::VerifyHubAuditRequest>,
    ) -> Result<Response<pb::VerifyHubAuditResponse>, Status> {
        authorize(&request, "VerifyAudit")?;
        let (entries, problem) = read(&self.store, |s| s.verify_audit()).await?;
        Ok(Response::new(pb::VerifyHubAuditResponse {
            intact: problem.is_none(),
            entries,
            problem: problem.unwrap_or_default(),
        }))
    }

    async fn update_regulatory(
        &self,
        request: Request<pb::UpdateRegulatoryRequest>,
    ) -> Result<Response<pb::HubIncident>, Status> {
        let acting = Acting::of(&self.roles, &request, "UpdateRegulatory")?;
        acting.may(Api::Regulatory)?;
        let pb::UpdateRegulatoryRequest { id, change, at_ms } = request.into_inner();
        let incident = incident_id(&id)?;
        let invalid = |e: crate::regulatory::RegulatoryError| HubError::invalid(e.to_string());
        let change =
            match change.ok_or_else(|| HubError::invalid("say what to flag or what was filed"))? {
                pb::update_regulatory_request::Change::Flag(word) => {
                    RegulatoryEdit::Flag(word.parse().map_err(invalid)?)
                }
                pb::update_regulatory_request::Change::Filed(word) => {
                    RegulatoryEdit::Filed(word.parse().map_err(invalid)?)
                }
            };
        let record = Commands::on(&self.ingest)
            .regulatory(&self.store, &self.roles, &acting, incident, change, at_ms)
            .await?;
        Ok(Response::new(convert::incident(&record)))
    }

    async fn merge_incidents(
        &self,
        request: Request<pb::MergeIncidentsRequest>,
    ) -> Result<Response<pb::HubIncident>, Status> {
        let acting = Acting::of(&self.roles, &request, "MergeIncidents")?;
        acting.may(Api::Merge)?;
        let pb::MergeIncidentsRequest {
            survivor_id,
            other_id,
            reason,
        } = request.into_inner();
        let (survivor, other) = (incident_id(&survivor_id)?, incident_id(&other_id)?);
        let record = Commands::on(&self.ingest)
            .merge(&self.store, &self.roles, &acting, survivor, other, reason)
            .await?;
        Ok(Response::new(convert::incident(&record)))
    }

    async fn split_sighting(
        &self,
        request: Request<pb::SplitSightingRequest>,
    ) -> Result<Response<pb::HubIncident>, Status> {
        let acting = Acting::of(&self.roles, &request, "SplitSighting")?;
        acting.may(Api::Split)?;
        let pb::SplitSightingRequest {
            id,
            site_id,
            reason,
        } = request.into_inner();
        let incident = incident_id(&id)?;
        let site = socfed_proto::vocab::SiteId::parse(&site_id)
            .map_err(|e| HubError::invalid(e.to_string()))?;
        let record = Commands::on(&self.ingest)
            .split(&self.store, &self.roles, &acting, incident, site, reason)
            .await?;
        Ok(Response::new(convert::incident(&record)))
    }

    async fn set_incident_member(
        &self,
        request: Request<pb::SetIncidentMemberRequest>,
    ) -> Result<Response<pb::IncidentMembers>, Status> {
        super::members::set_member(&self.store, &self.roles, &self.ingest, request).await
    }
}
