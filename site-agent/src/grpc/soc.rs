//! The `SiteSoc` service: decode, resolve the caller's role, call the SOC service, encode.

use super::soc_convert as convert;
use crate::error::AgentError;
use crate::service::intake::ParsedBatch;
use crate::service::intake::pipeline::Pipeline;
use crate::service::{Actor, SocService};
use crate::soc::authz::{self, Operation};
use crate::soc::roster::{Analyst, ShiftSpec};
use crate::soc::triage::{Action, StatusKind};
use crate::wire::{ALERT_STATUSES, INCIDENT_STATUSES, ROLES, VERDICTS};
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use socfed_proto::pb::{self, act_on_alert_request::Action as WireAction};
use socfed_runtime::peer::caller;
use std::sync::Arc;
use tonic::{Request, Response, Status, Streaming};
use ulid::Ulid;

/// `SubmitAlerts` streams open at once. Each holds a writer and a sync thread of the blocking
/// pool for its whole life; without a cap, a few hundred idle streams would take every thread
/// of the pool and stall every other call.
pub const MAX_INTAKE_STREAMS: usize = 8;

#[derive(Clone)]
pub struct SocApi {
    pub service: Arc<SocService>,
    /// One permit per open `SubmitAlerts` stream ([`MAX_INTAKE_STREAMS`]).
    pub intake_streams: Arc<tokio::sync::Semaphore>,
    /// Where the SOC console is opened (`https://…`), when `[web]` turns it on.
    pub console_url: Option<Arc<str>>,
}

fn group_id(raw: &str) -> Result<Ulid, AgentError> {
    Ulid::from_string(raw).map_err(|_| {
        AgentError::invalid(format!(
            "{raw:?} is not an alert group id (26-character ULID)"
        ))
    })
}

impl SocApi {
    fn actor<T>(&self, request: &Request<T>) -> Result<Actor, Status> {
        let peer = caller(request)?;
        Ok(self.service.actor(&peer)?)
    }

    /// Runs blocking store work off the async workers.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&SocService) -> Result<T, AgentError> + Send + 'static,
    ) -> Result<T, Status> {
        Ok(crate::service::blocking(&self.service, work).await?)
    }
}

/// `group` with its original record (`SocService::group_samples`).
fn with_sample(
    s: &SocService,
    group: crate::soc::group::AlertGroup,
) -> Result<(crate::soc::group::AlertGroup, String), AgentError> {
    let sample = s
        .group_samples(std::slice::from_ref(&group))
        .pop()
        .unwrap_or_default();
    Ok((group, sample))
}

/// Batches parsed at once ahead of the writer, on the blocking pool.
const PARSE_AHEAD: usize = 4;

impl SocApi {
    /// Parses the stream's batches on the blocking pool, several at a time, and hands them
    /// to `pipeline` in the order they came.
    async fn feed(
        &self,
        mut stream: Streaming<pb::AlertBatch>,
        pipeline: &Pipeline,
    ) -> Result<(), Status> {
        let mut parsing: FuturesOrdered<tokio::task::JoinHandle<ParsedBatch>> =
            FuturesOrdered::new();
        let mut ended = false;
        loop {
            tokio::select! {
                // Parsed batches first: the writer never waits on the network needlessly.
                biased;
                Some(parsed) = parsing.next(), if !parsing.is_empty() => {
                    let parsed =
                        parsed.map_err(|_| AgentError::internal("alert parser failed"))?;
                    pipeline.push(parsed).await?;
                }
                batch = stream.next(), if !ended && parsing.len() < PARSE_AHEAD => match batch {
                    Some(batch) => {
                        let pb::AlertBatch { format, lines } = batch?;
                        let format = convert::format_from_wire(format)?;
                        let lines: Vec<(u64, String)> =
                            lines.into_iter().map(|l| (l.line_no, l.text)).collect();
                        let service = self.service.clone();
                        parsing.push_back(tokio::task::spawn_blocking(move || {
                            service.parse_batch(format, &lines)
                        }));
                    }
                    None => ended = true,
                },
                else => return Ok(()),
            }
        }
    }
}

#[tonic::async_trait]
impl pb::site_soc_server::SiteSoc for SocApi {
    async fn submit_alerts(
        &self,
        request: Request<Streaming<pb::AlertBatch>>,
    ) -> Result<Response<pb::IntakeSummary>, Status> {
        let actor = self.actor(&request)?;
        authz::check(actor.role, Operation::SubmitAlerts, None).map_err(AgentError::from)?;
        let _permit = self.intake_streams.clone().try_acquire_owned().map_err(|_| {
            AgentError::Busy(format!(
                "{MAX_INTAKE_STREAMS} alert intake streams are open already; send on one of them, or retry once one ends"
            ))
        })?;
        let stream = request.into_inner();
        let pipeline = Pipeline::start(self.service.clone(), actor);
        let total = match self.feed(stream, &pipeline).await {
            Ok(()) => pipeline.finish().await?,
            // The writer's own error says more than "it stopped".
            Err(e) => {
                pipeline.finish().await?;
                return Err(e);
            }
        };
        Ok(Response::new(pb::IntakeSummary {
            lines: total.lines,
            accepted: total.accepted,
            aggregated: total.aggregated,
            duplicates: total.duplicates,
            rejected: total.rejected,
            skipped: total.skipped,
            rejections: total
                .rejections
                .into_iter()
                .take(1000)
                .map(|(line_no, reason)| pb::LineRejection { line_no, reason })
                .collect(),
        }))
    }

    async fn list_alerts(
        &self,
        request: Request<pb::ListAlertsRequest>,
    ) -> Result<Response<pb::ListAlertsResponse>, Status> {
        let actor = self.actor(&request)?;
        let pb::ListAlertsRequest {
            tier,
            legacy_status,
            status,
            all_statuses,
            assignee,
            limit,
        } = request.into_inner();
        socfed_proto::vocab::refuse_legacy_word("status", &legacy_status).map_err(invalid)?;
        let kinds: Vec<StatusKind> = if all_statuses {
            StatusKind::ALL.to_vec()
        } else {
            match ALERT_STATUSES.from_wire_optional(status).map_err(invalid)? {
                Some(kind) => vec![kind],
                None => StatusKind::ALL
                    .into_iter()
                    .filter(|k| k.is_open())
                    .collect(),
            }
        };
        let statuses = crate::store::GroupFilter::status_codes(&kinds);
        let tier = match tier {
            0 => None,
            n => Some(
                crate::soc::Tier::from_number(u8::try_from(n).unwrap_or(0))
                    .ok_or_else(|| AgentError::invalid("tier: 1 to 4"))?,
            ),
        };
        let filter = crate::store::GroupFilter {
            statuses,
            tier,
            assignee: (!assignee.is_empty()).then_some(assignee),
            limit: if limit == 0 {
                100
            } else {
                limit.min(10_000) as usize
            },
        };
        let (groups, samples) = self
            .blocking(move |s| {
                let groups = s.list_groups(&actor, &filter)?;
                let samples = s.group_samples(&groups);
                Ok((groups, samples))
            })
            .await?;
        let policy = &self.service.settings.sla;
        Ok(Response::new(pb::ListAlertsResponse {
            groups: groups
                .iter()
                .zip(samples)
                .map(|(g, sample)| convert::group(g, policy, sample))
                .collect(),
        }))
    }

    async fn get_alert(
        &self,
        request: Request<pb::GetAlertRequest>,
    ) -> Result<Response<pb::AlertGroup>, Status> {
        let actor = self.actor(&request)?;
        let id = group_id(&request.into_inner().id)?;
        let (group, sample) = self
            .blocking(move |s| with_sample(s, s.get_group(&actor, id)?))
            .await?;
        Ok(Response::new(convert::group(
            &group,
            &self.service.settings.sla,
            sample,
        )))
    }

    async fn act_on_alert(
        &self,
        request: Request<pb::ActOnAlertRequest>,
    ) -> Result<Response<pb::AlertGroup>, Status> {
        let actor = self.actor(&request)?;
        let pb::ActOnAlertRequest { id, action } = request.into_inner();
        let id = group_id(&id)?;
        let action = match action.ok_or_else(|| AgentError::invalid("action is required"))? {
            WireAction::LegacyClose(word) => {
                socfed_proto::vocab::refuse_legacy_word("close", &word).map_err(invalid)?;
                return Err(AgentError::invalid("close: a verdict is required").into());
            }
            WireAction::Acknowledge(_) => Action::Acknowledge,
            WireAction::Assign(analyst) => Action::Assign { analyst },
            WireAction::Unassign(_) => Action::Unassign,
            WireAction::Comment(text) => {
                if text.trim().is_empty() || text.len() > 8192 {
                    return Err(AgentError::invalid("comment: 1 to 8192 bytes of text").into());
                }
                Action::Comment { text }
            }
            WireAction::Escalate(_) => Action::Escalate,
            WireAction::Close(verdict) => Action::Close {
                verdict: VERDICTS.from_wire(verdict).map_err(invalid)?,
            },
            WireAction::Reopen(_) => Action::Reopen,
        };
        let (group, sample) = self
            .blocking(move |s| with_sample(s, s.act(&actor, id, action)?))
            .await?;
        Ok(Response::new(convert::group(
            &group,
            &self.service.settings.sla,
            sample,
        )))
    }

    async fn list_local_incidents(
        &self,
        request: Request<pb::ListLocalIncidentsRequest>,
    ) -> Result<Response<pb::ListLocalIncidentsResponse>, Status> {
        let actor = self.actor(&request)?;
        let limit = match request.into_inner().limit {
            0 => 100,
            n => n.min(10_000) as usize,
        };
        let incidents = self
            .blocking(move |s| s.incidents_with_hub(&actor, limit))
            .await?;
        Ok(Response::new(pb::ListLocalIncidentsResponse {
            incidents: incidents
                .iter()
                .map(|(i, hub)| convert::incident(i, hub.as_ref()))
                .collect(),
        }))
    }

    async fn get_local_incident(
        &self,
        request: Request<pb::GetLocalIncidentRequest>,
    ) -> Result<Response<pb::LocalIncident>, Status> {
        let actor = self.actor(&request)?;
        let id = request.into_inner().id;
        let (incident, hub) = self
            .blocking(move |s| s.with_hub(s.get_incident(&actor, &id)?))
            .await?;
        Ok(Response::new(convert::incident(&incident, hub.as_ref())))
    }

    async fn promote_alerts(
        &self,
        request: Request<pb::PromoteAlertsRequest>,
    ) -> Result<Response<pb::LocalIncident>, Status> {
        let actor = self.actor(&request)?;
        let pb::PromoteAlertsRequest {
            alert_group_ids,
            title,
        } = request.into_inner();
        let ids = alert_group_ids
            .iter()
            .map(|id| group_id(id))
            .collect::<Result<Vec<_>, _>>()?;
        let title = (!title.trim().is_empty()).then_some(title);
        let (incident, hub) = self
            .blocking(move |s| s.with_hub(s.promote(&actor, &ids, title)?))
            .await?;
        Ok(Response::new(convert::incident(&incident, hub.as_ref())))
    }

    async fn add_to_local_incident(
        &self,
        request: Request<pb::AddToLocalIncidentRequest>,
    ) -> Result<Response<pb::LocalIncident>, Status> {
        let actor = self.actor(&request)?;
        let pb::AddToLocalIncidentRequest {
            incident_id,
            alert_group_id,
        } = request.into_inner();
        let group = group_id(&alert_group_id)?;
        let (incident, hub) = self
            .blocking(move |s| s.with_hub(s.add_to_incident(&actor, group, &incident_id)?))
            .await?;
        Ok(Response::new(convert::incident(&incident, hub.as_ref())))
    }

    async fn escalate_local_incident(
        &self,
        request: Request<pb::EscalateLocalIncidentRequest>,
    ) -> Result<Response<pb::LocalIncident>, Status> {
        let actor = self.actor(&request)?;
        let id = request.into_inner().id;
        let (incident, hub) = self
            .blocking(move |s| s.with_hub(s.escalate_incident(&actor, &id)?))
            .await?;
        Ok(Response::new(convert::incident(&incident, hub.as_ref())))
    }

    async fn update_local_incident(
        &self,
        request: Request<pb::UpdateLocalIncidentRequest>,
    ) -> Result<Response<pb::LocalIncident>, Status> {
        let actor = self.actor(&request)?;
        let pb::UpdateLocalIncidentRequest {
            id,
            legacy_status,
            status,
            owner,
        } = request.into_inner();
        socfed_proto::vocab::refuse_legacy_word("status", &legacy_status).map_err(invalid)?;
        let status = INCIDENT_STATUSES
            .from_wire_optional(status)
            .map_err(invalid)?;
        let owner = (!owner.is_empty()).then_some(owner);
        let (incident, hub) = self
            .blocking(move |s| s.with_hub(s.update_incident(&actor, &id, status, owner)?))
            .await?;
        Ok(Response::new(convert::incident(&incident, hub.as_ref())))
    }

    async fn list_roster(
        &self,
        request: Request<pb::ListRosterRequest>,
    ) -> Result<Response<pb::Roster>, Status> {
        let actor = self.actor(&request)?;
        let roster = self.blocking(move |s| s.roster(&actor)).await?;
        Ok(Response::new(pb::Roster {
            analysts: roster.iter().map(convert::analyst).collect(),
        }))
    }

    async fn add_analyst(
        &self,
        request: Request<pb::AddAnalystRequest>,
    ) -> Result<Response<pb::Roster>, Status> {
        let actor = self.actor(&request)?;
        let wire = request
            .into_inner()
            .analyst
            .ok_or_else(|| AgentError::invalid("analyst is required"))?;
        let pb::Analyst {
            name,
            display_name,
            legacy_role,
            role,
            shifts,
        } = wire;
        socfed_proto::vocab::refuse_legacy_word("analyst.role", &legacy_role).map_err(invalid)?;
        let shifts = shifts
            .iter()
            .map(|s| {
                s.parse::<ShiftSpec>()
                    .map_err(|e| AgentError::invalid(format!("shift {s:?}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let analyst = Analyst {
            display_name: if display_name.is_empty() {
                name.clone()
            } else {
                display_name
            },
            name,
            role: ROLES.from_wire(role).map_err(invalid)?,
            shifts,
        };
        let roster = self
            .blocking(move |s| s.add_analyst(&actor, analyst))
            .await?;
        Ok(Response::new(pb::Roster {
            analysts: roster.iter().map(convert::analyst).collect(),
        }))
    }

    async fn remove_analyst(
        &self,
        request: Request<pb::RemoveAnalystRequest>,
    ) -> Result<Response<pb::Roster>, Status> {
        let actor = self.actor(&request)?;
        let name = request.into_inner().name;
        let roster = self
            .blocking(move |s| s.remove_analyst(&actor, &name))
            .await?;
        Ok(Response::new(pb::Roster {
            analysts: roster.iter().map(convert::analyst).collect(),
        }))
    }

    async fn shifts_now(
        &self,
        request: Request<pb::ShiftsNowRequest>,
    ) -> Result<Response<pb::ShiftsNowResponse>, Status> {
        let actor = self.actor(&request)?;
        let hours = match request.into_inner().horizon_hours {
            0 => 24 * 7,
            n => n.min(24 * 62),
        };
        let view = self
            .blocking(move |s| s.shifts_now(&actor, i64::from(hours) * 3_600_000))
            .await?;
        let duty_words = |list: &[(String, crate::soc::roster::Duty)]| {
            list.iter()
                .map(|(name, duty)| pb::DutyAssignment {
                    name: name.clone(),
                    duty: match duty {
                        crate::soc::roster::Duty::Tier1Monitoring => "tier1-monitoring".into(),
                        crate::soc::roster::Duty::SirtDuty => "sirt-duty".into(),
                    },
                })
                .collect::<Vec<_>>()
        };
        Ok(Response::new(pb::ShiftsNowResponse {
            at_ms: view.at_ms,
            tiers: view
                .tiers
                .iter()
                .map(|c| pb::TierCoverage {
                    tier: u32::from(c.tier.number()),
                    on_shift: c.on_shift.clone(),
                    gaps: c
                        .gaps
                        .iter()
                        .map(|(from_ms, to_ms)| pb::Gap {
                            from_ms: *from_ms,
                            to_ms: *to_ms,
                        })
                        .collect(),
                })
                .collect(),
            duty_now: view
                .duty
                .as_ref()
                .map(|d| duty_words(&d.now))
                .unwrap_or_default(),
            duty_next: view
                .duty
                .as_ref()
                .map(|d| duty_words(&d.next))
                .unwrap_or_default(),
            duty_changes_at_ms: view.duty.as_ref().map_or(0, |d| d.changes_at_ms),
        }))
    }

    async fn list_notifications(
        &self,
        request: Request<pb::ListNotificationsRequest>,
    ) -> Result<Response<pb::ListNotificationsResponse>, Status> {
        let actor = self.actor(&request)?;
        let limit = match request.into_inner().limit {
            0 => 100,
            n => n.min(10_000) as usize,
        };
        let list = self
            .blocking(move |s| s.notifications(&actor, limit))
            .await?;
        Ok(Response::new(pb::ListNotificationsResponse {
            notifications: list.iter().map(convert::notification).collect(),
        }))
    }

    async fn verify_audit(
        &self,
        request: Request<pb::VerifyAuditRequest>,
    ) -> Result<Response<pb::VerifyAuditResponse>, Status> {
        let actor = self.actor(&request)?;
        let report = self.blocking(move |s| s.verify_audit(&actor)).await?;
        Ok(Response::new(pb::VerifyAuditResponse {
            intact: report.problem.is_none(),
            entries: report.entries,
            problem: report.problem.unwrap_or_default(),
        }))
    }

    async fn create_api_token(
        &self,
        request: Request<pb::CreateApiTokenRequest>,
    ) -> Result<Response<pb::CreateApiTokenResponse>, Status> {
        let actor = self.actor(&request)?;
        // The token lives only as long as this certificate is not revoked.
        let cert_serial = caller(&request)?.serial;
        let request = request.into_inner();
        let created = self
            .blocking(move |s| super::tokens::create(s, &actor, &cert_serial, request))
            .await?;
        Ok(Response::new(created))
    }

    async fn list_api_tokens(
        &self,
        request: Request<pb::ListApiTokensRequest>,
    ) -> Result<Response<pb::ApiTokenList>, Status> {
        let actor = self.actor(&request)?;
        let tokens = self.blocking(move |s| s.list_api_tokens(&actor)).await?;
        Ok(Response::new(pb::ApiTokenList {
            tokens: tokens.iter().map(super::tokens::token_to_wire).collect(),
        }))
    }

    async fn revoke_api_token(
        &self,
        request: Request<pb::RevokeApiTokenRequest>,
    ) -> Result<Response<pb::ApiToken>, Status> {
        let actor = self.actor(&request)?;
        let request = request.into_inner();
        let revoked = self
            .blocking(move |s| super::tokens::revoke(s, &actor, request))
            .await?;
        Ok(Response::new(revoked))
    }

    async fn console_login(
        &self,
        request: Request<pb::ConsoleLoginRequest>,
    ) -> Result<Response<pb::ConsoleLoginResponse>, Status> {
        let Some(base) = self.console_url.clone() else {
            return Err(AgentError::invalid(
                "the SOC console is not enabled at this site; add a [web] table to the agent config",
            )
            .into());
        };
        let peer = caller(&request)?;
        let actor = self.actor(&request)?;
        let (link, grant) = self
            .blocking(move |s| s.issue_console_link(&actor, &peer))
            .await?;
        tracing::info!(operator = %grant.operator, "SOC console sign-in link issued");
        Ok(Response::new(pb::ConsoleLoginResponse {
            url: format!(
                "{}/login?token={}",
                base.trim_end_matches('/'),
                link.to_hex()
            ),
            expires_at_ms: grant.expires_ms,
        }))
    }

    async fn search_alerts(
        &self,
        request: Request<pb::SearchAlertsRequest>,
    ) -> Result<Response<pb::SearchAlertsResponse>, Status> {
        let actor = self.actor(&request)?;
        let pb::SearchAlertsRequest {
            filters,
            limit,
            cursor,
        } = request.into_inner();
        let raw = filters.map(Into::into).unwrap_or_default();
        let search = crate::service::search::AlertSearch::parse(&raw, &cursor, Some(limit.into()))?;
        let (page, samples) = self
            .blocking(move |s| {
                let page = s.search_alerts(&actor, &search)?;
                let samples = s.group_samples(&page.groups);
                Ok((page, samples))
            })
            .await?;
        let policy = &self.service.settings.sla;
        Ok(Response::new(pb::SearchAlertsResponse {
            groups: page
                .groups
                .iter()
                .zip(samples)
                .map(|(g, sample)| convert::group(g, policy, sample))
                .collect(),
            next_cursor: page.next_cursor.unwrap_or_default(),
        }))
    }
}

/// A wire value outside the contract: `INVALID_ARGUMENT` naming the field and what it takes.
fn invalid(e: socfed_proto::vocab::InvalidField) -> AgentError {
    AgentError::invalid(e.to_string())
}
