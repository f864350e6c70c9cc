//! The `SiteCasework` service: notes on local incidents, taking a group out of one, the
//! site's KPIs. Decode, resolve the caller, call the SOC service, encode; nothing else.

use super::soc_convert as convert;
use crate::error::AgentError;
use crate::service::{Actor, KpiReport, SocService};
use crate::soc::kpi::{Durations, Timings};
use crate::soc::notes::NoteView;
use socfed_proto::pb;
use socfed_proto::vocab::Tlp;
use socfed_runtime::peer::caller;
use std::sync::Arc;
use tonic::{Request, Response, Status};
use ulid::Ulid;

#[derive(Clone)]
pub struct CaseworkApi {
    pub service: Arc<SocService>,
}

impl CaseworkApi {
    fn actor<T>(&self, request: &Request<T>) -> Result<Actor, Status> {
        Ok(self.service.actor(&caller(request)?)?)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&SocService) -> Result<T, AgentError> + Send + 'static,
    ) -> Result<T, Status> {
        Ok(crate::service::blocking(&self.service, work).await?)
    }
}

/// A note's optional marking from the wire: unspecified is none.
pub fn note_tlp_from_wire(value: i32) -> Result<Option<Tlp>, AgentError> {
    Tlp::optional_from_wire(value, "tlp").map_err(|e| AgentError::invalid(e.to_string()))
}

pub fn note(n: &NoteView) -> pb::IncidentNote {
    pb::IncidentNote {
        id: n.id.to_string(),
        author: n.author.clone(),
        at_ms: n.at_ms,
        text: n.text.clone(),
        tlp: Tlp::optional_to_wire(n.tlp),
        redacted: n.redacted.clone().unwrap_or_default(),
    }
}

fn durations(d: &Durations) -> pb::KpiDurations {
    pb::KpiDurations {
        count: d.count as u64,
        median_ms: d.median_ms,
        p90_ms: d.p90_ms,
    }
}

fn timings(t: &Timings) -> Option<pb::KpiTimings> {
    Some(pb::KpiTimings {
        acknowledge: Some(durations(&t.acknowledge)),
        escalate: Some(durations(&t.escalate)),
        close: Some(durations(&t.close)),
    })
}

pub fn kpis(r: &KpiReport) -> pb::SiteKpis {
    let k = &r.kpis;
    pb::SiteKpis {
        weeks: r.weeks,
        from_ms: k.from_ms,
        to_ms: k.to_ms,
        tiers: k
            .tiers
            .iter()
            .map(|t| pb::TierKpi {
                tier: u32::from(t.tier),
                timings: timings(&t.timings),
            })
            .collect(),
        analysts: k
            .analysts
            .iter()
            .map(|a| pb::AnalystKpi {
                analyst: a.analyst.clone(),
                timings: timings(&a.timings),
                groups_handled: a.groups_handled as u64,
            })
            .collect(),
        rules: k
            .rules
            .iter()
            .map(|r| pb::RuleKpi {
                rule_id: r.rule_id.clone(),
                closed: r.closed as u64,
                false_positive: r.false_positive as u64,
            })
            .collect(),
        shifts: k
            .shifts
            .iter()
            .map(|s| pb::ShiftLoad {
                shift: s.shift.clone(),
                groups_handled: s.groups_handled as u64,
            })
            .collect(),
        trend: k
            .trend
            .iter()
            .map(|w| pb::WeekKpi {
                week: w.week.clone(),
                acknowledged: w.acknowledged as u64,
                escalated: w.escalated as u64,
                closed: w.closed as u64,
                false_positive: w.false_positive as u64,
                median_acknowledge_ms: w.median_acknowledge_ms,
            })
            .collect(),
        scanned: r.scanned as u64,
        truncated: r.truncated,
    }
}

#[tonic::async_trait]
impl pb::site_casework_server::SiteCasework for CaseworkApi {
    async fn list_incident_notes(
        &self,
        request: Request<pb::ListIncidentNotesRequest>,
    ) -> Result<Response<pb::IncidentNotes>, Status> {
        let actor = self.actor(&request)?;
        let pb::ListIncidentNotesRequest { incident_id } = request.into_inner();
        let notes = self
            .blocking(move |s| s.incident_notes(&actor, &incident_id))
            .await?;
        Ok(Response::new(pb::IncidentNotes {
            notes: notes.iter().map(note).collect(),
        }))
    }

    async fn add_incident_note(
        &self,
        request: Request<pb::AddIncidentNoteRequest>,
    ) -> Result<Response<pb::IncidentNote>, Status> {
        let actor = self.actor(&request)?;
        let pb::AddIncidentNoteRequest {
            incident_id,
            text,
            tlp,
        } = request.into_inner();
        let tlp = note_tlp_from_wire(tlp)?;
        let added = self
            .blocking(move |s| s.add_note(&actor, &incident_id, &text, tlp))
            .await?;
        Ok(Response::new(note(&added)))
    }

    async fn remove_from_local_incident(
        &self,
        request: Request<pb::RemoveFromLocalIncidentRequest>,
    ) -> Result<Response<pb::LocalIncident>, Status> {
        let actor = self.actor(&request)?;
        let pb::RemoveFromLocalIncidentRequest {
            incident_id,
            alert_group_id,
        } = request.into_inner();
        let group = Ulid::from_string(&alert_group_id).map_err(|_| {
            AgentError::invalid(format!(
                "{alert_group_id:?} is not an alert group id (26-character ULID)"
            ))
        })?;
        let (incident, hub) = self
            .blocking(move |s| s.with_hub(s.remove_from_incident(&actor, group, &incident_id)?))
            .await?;
        Ok(Response::new(convert::incident(&incident, hub.as_ref())))
    }

    async fn get_site_kpis(
        &self,
        request: Request<pb::GetSiteKpisRequest>,
    ) -> Result<Response<pb::SiteKpis>, Status> {
        let actor = self.actor(&request)?;
        let pb::GetSiteKpisRequest { weeks } = request.into_inner();
        let report = self.blocking(move |s| s.kpis(&actor, weeks)).await?;
        Ok(Response::new(kpis(&report)))
    }
}
