//! Roster edits, shift coverage and job rotation, notifications, audit verification.

use super::{Actor, SocService, json};
use crate::error::AgentError;
use crate::soc::authz::{self, Operation};
use crate::soc::roster::{self, Analyst, DutyView};
use crate::soc::{Tier, notify::Notification};
use crate::store::AuditReport;
use socfed_proto::UnixMillis;

/// One tier's coverage: who is on shift now, and the gaps `[from, to)` ahead.
#[derive(Debug, Clone)]
pub struct TierCoverage {
    pub tier: Tier,
    pub on_shift: Vec<String>,
    pub gaps: Vec<(i64, i64)>,
}

/// Who covers each tier now, the gaps ahead, and job rotation duties.
#[derive(Debug, Clone)]
pub struct ShiftsView {
    pub at_ms: UnixMillis,
    pub tiers: Vec<TierCoverage>,
    pub duty: Option<DutyView>,
}

/// How a sample that cannot be read is shown, followed by why.
pub const UNAVAILABLE: &str = "<sample unavailable>";

impl SocService {
    pub fn roster(&self, actor: &Actor) -> Result<Vec<Analyst>, AgentError> {
        authz::check(actor.role, Operation::ViewRoster, None)?;
        Ok(self.store.roster()?)
    }

    pub fn add_analyst(&self, actor: &Actor, analyst: Analyst) -> Result<Vec<Analyst>, AgentError> {
        authz::check(actor.role, Operation::EditRoster, None)?;
        socfed_proto::identity::parse_operator_name(&analyst.name)
            .map_err(|e| AgentError::Invalid(e.to_string()))?;
        self.store.unit(|unit| {
            let before = unit.analyst(&analyst.name)?;
            unit.put_analyst(&analyst)?;
            self.audit(
                unit,
                actor,
                "roster.add",
                &analyst.name,
                before.as_ref().and_then(json),
                json(&analyst),
            )?;
            Ok::<_, AgentError>(())
        })?;
        Ok(self.store.roster()?)
    }

    /// Removes an analyst; their open groups are unassigned (audited) in the same unit, so
    /// nothing stays with someone who is gone.
    pub fn remove_analyst(&self, actor: &Actor, name: &str) -> Result<Vec<Analyst>, AgentError> {
        authz::check(actor.role, Operation::EditRoster, None)?;
        let now = self.now();
        self.store.unit(|unit| {
            let before = unit
                .analyst(name)?
                .ok_or_else(|| AgentError::NotFound(format!("{name:?} is not in the roster")))?;
            for id in unit.groups_assigned_to(name)? {
                let Some(group) = unit.group(id)? else {
                    continue;
                };
                if !matches!(
                    group.state.status,
                    crate::soc::triage::Status::New | crate::soc::triage::Status::Acknowledged
                ) {
                    continue;
                }
                let mut updated = group.clone();
                updated.state = crate::soc::triage::apply(
                    &group.state,
                    &crate::soc::triage::Action::Unassign,
                    now,
                )?
                .0;
                unit.put_group(Some(&group), &updated, &self.settings.sla)?;
                self.audit(
                    unit,
                    actor,
                    "alert.unassign",
                    &id.to_string(),
                    json(&group.state),
                    json(&updated.state),
                )?;
            }
            unit.remove_analyst(name);
            self.audit(unit, actor, "roster.remove", name, json(&before), None)?;
            Ok::<_, AgentError>(())
        })?;
        Ok(self.store.roster()?)
    }

    pub fn shifts_now(&self, actor: &Actor, horizon_ms: i64) -> Result<ShiftsView, AgentError> {
        authz::check(actor.role, Operation::ViewRoster, None)?;
        let now = self.now();
        let analysts = self.store.roster()?;
        let tiers = Tier::ALL
            .iter()
            .map(|tier| {
                let on = roster::on_shift_at_tier(&analysts, *tier, now)
                    .into_iter()
                    .map(|a| a.name.clone())
                    .collect();
                TierCoverage {
                    tier: *tier,
                    on_shift: on,
                    gaps: roster::coverage_gaps(&analysts, *tier, now, now + horizon_ms),
                }
            })
            .collect();
        if let Some(rotation) = &self.settings.rotation {
            let unknown: Vec<&str> = rotation
                .members
                .iter()
                .filter(|m| !analysts.iter().any(|a| &a.name == *m))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                return Err(AgentError::Invalid(format!(
                    "[soc.rotation] members not in the roster: {}; add each (`site-agent roster add NAME --role tier1 --shift ...`) or remove them from the agent config",
                    unknown.join(", ")
                )));
            }
        }
        let duty = self.settings.rotation.as_ref().map(|r| r.view(now));
        Ok(ShiftsView {
            at_ms: now,
            tiers,
            duty,
        })
    }

    pub fn notifications(
        &self,
        actor: &Actor,
        limit: usize,
    ) -> Result<Vec<Notification>, AgentError> {
        authz::check(actor.role, Operation::ViewAlerts, None)?;
        Ok(self.store.notifications(limit)?)
    }

    pub fn verify_audit(&self, actor: &Actor) -> Result<AuditReport, AgentError> {
        authz::check(actor.role, Operation::VerifyAudit, None)?;
        Ok(self.store.verify_audit()?)
    }
}

impl SocService {
    pub fn list_groups(
        &self,
        actor: &Actor,
        filter: &crate::store::GroupFilter,
    ) -> Result<Vec<crate::soc::group::AlertGroup>, AgentError> {
        authz::check(actor.role, Operation::ViewAlerts, None)?;
        Ok(self.store.list_groups(filter)?)
    }

    pub fn get_group(
        &self,
        actor: &Actor,
        id: ulid::Ulid,
    ) -> Result<crate::soc::group::AlertGroup, AgentError> {
        authz::check(actor.role, Operation::ViewAlerts, None)?;
        self.store.group(id)?.ok_or_else(|| {
            AgentError::NotFound(format!(
                "no alert group {id}; `site-agent alerts list --status all` shows them"
            ))
        })
    }

    /// The original records of `groups` as shown to an analyst (the caller read the groups
    /// under `ViewAlerts`): from the sample journal, or a marked line saying why one is
    /// unavailable (a damaged or missing block), never an error for the whole answer.
    pub fn group_samples(&self, groups: &[crate::soc::group::AlertGroup]) -> Vec<String> {
        self.store
            .group_samples(groups)
            .into_iter()
            .zip(groups)
            .map(|(sample, g)| {
                sample.unwrap_or_else(|why| {
                    tracing::warn!(group = %g.id, %why, "an alert group's sample is unavailable");
                    format!("{UNAVAILABLE}: {why}")
                })
            })
            .collect()
    }

    pub fn list_incidents(
        &self,
        actor: &Actor,
        limit: usize,
    ) -> Result<Vec<crate::soc::incident::LocalIncident>, AgentError> {
        authz::check(actor.role, Operation::ViewIncidents, None)?;
        Ok(self.store.incidents(limit)?)
    }

    pub fn get_incident(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<crate::soc::incident::LocalIncident, AgentError> {
        authz::check(actor.role, Operation::ViewIncidents, None)?;
        self.store.incident(id)?.ok_or_else(|| {
            AgentError::NotFound(format!(
                "no local incident {id}; `site-agent incidents list` shows them"
            ))
        })
    }
}
