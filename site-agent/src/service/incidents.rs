//! Local incidents: promotion of alert groups, the escalation policy, escalation by hand, and
//! revisions: once an incident went to the hub, every material change is queued again as the
//! next revision of the same incident (the hub folds revisions into one hub incident).

use super::{Actor, SocService, json};
use crate::error::AgentError;
use crate::soc::authz::{self, Operation};
use crate::soc::group::AlertGroup;
use crate::soc::incident::{self, IncidentStatus, LocalIncident};
use crate::soc::triage::Action;
use crate::store::unit::Unit;
use prost::Message;
use ulid::Ulid;

/// Deferred revisions retried per SLA tick at most (the rest wait for the next tick).
const MAX_REVISION_RETRIES_PER_TICK: usize = 1_000;

impl SocService {
    /// Creates a local incident from alert groups (each must be open).
    pub fn promote(
        &self,
        actor: &Actor,
        groups: &[Ulid],
        title: Option<String>,
    ) -> Result<LocalIncident, AgentError> {
        if groups.is_empty() {
            return Err(AgentError::Invalid(
                "name at least one alert group to promote".into(),
            ));
        }
        self.store
            .unit(|unit| self.promote_in(unit, actor, groups, title, None))
    }

    pub(super) fn promote_in(
        &self,
        unit: &mut Unit,
        actor: &Actor,
        ids: &[Ulid],
        title: Option<String>,
        forced_reason: Option<String>,
    ) -> Result<LocalIncident, AgentError> {
        let now = self.now();
        let id = incident::new_incident_id(now);
        let mut groups: Vec<AlertGroup> = Vec::new();
        for gid in ids {
            let group = unit
                .group(*gid)?
                .ok_or_else(|| AgentError::NotFound(format!("no alert group {gid}")))?;
            if forced_reason.is_none() {
                authz::check(actor.role, Operation::Promote, Some(group.state.tier))?;
            }
            let old = group.clone();
            let mut promoted = group;
            promoted.state = crate::soc::triage::apply(
                &promoted.state,
                &Action::Promote {
                    incident: id.clone(),
                },
                now,
            )?
            .0;
            unit.put_group(Some(&old), &promoted, &self.settings.sla)?;
            groups.push(promoted);
        }
        let refs: Vec<&AlertGroup> = groups.iter().collect();
        let mut incident =
            LocalIncident::from_groups(id, title, &refs, Some(actor.name.clone()), now)
                .ok_or_else(|| {
                    AgentError::Invalid("name at least one alert group to promote".into())
                })?;
        let reason =
            forced_reason.or_else(|| self.settings.escalation.reason(&incident, Some(actor.role)));
        if let Some(reason) = reason {
            incident.escalation_reason = Some(reason);
            self.queue_revision_or_defer(unit, &mut incident)?;
        }
        unit.put_incident(&incident)?;
        self.audit(
            unit,
            actor,
            "incident.promote",
            &incident.id,
            None,
            json(&incident),
        )?;
        tracing::info!(incident = %incident.id, groups = ids.len(), escalated = incident.escalated(), "local incident created");
        Ok(incident)
    }

    /// Adds an open alert group to an existing local incident: the group is promoted to it
    /// under the rule of a promotion (the role at the group's tier, the group open), and the
    /// incident folds the group in as when one of its groups learns something new (a new
    /// revision to the hub once escalated, or an escalation the policy now asks for).
    pub fn add_to_incident(
        &self,
        actor: &Actor,
        group: Ulid,
        incident_id: &str,
    ) -> Result<LocalIncident, AgentError> {
        let now = self.now();
        self.store.unit(|unit| {
            let before = unit.incident(incident_id)?.ok_or_else(|| {
                AgentError::NotFound(format!(
                    "no local incident {incident_id}; `site-agent incidents list` shows them"
                ))
            })?;
            let old = unit
                .group(group)?
                .ok_or_else(|| AgentError::NotFound(format!("no alert group {group}")))?;
            authz::check(actor.role, Operation::Promote, Some(old.state.tier))?;
            let mut promoted = old.clone();
            let action = Action::Promote {
                incident: incident_id.to_string(),
            };
            promoted.state = crate::soc::triage::apply(&promoted.state, &action, now)?.0;
            unit.put_group(Some(&old), &promoted, &self.settings.sla)?;
            let target = group.to_string();
            let (was, is) = (json(&old.state), json(&promoted.state));
            self.audit(unit, actor, "alert.promote", &target, was, is)?;
            self.refresh_incident(unit, incident_id, &promoted, actor)?;
            let after = unit.incident(incident_id)?.ok_or_else(|| {
                AgentError::NotFound(format!("local incident {incident_id} vanished"))
            })?;
            let (was, is) = (json(&before), json(&after));
            self.audit(unit, actor, "incident.add-group", incident_id, was, is)?;
            Ok(after)
        })
    }

    /// Escalates by hand.
    pub fn escalate_incident(&self, actor: &Actor, id: &str) -> Result<LocalIncident, AgentError> {
        authz::check(actor.role, Operation::EscalateIncidentToHub, None)?;
        self.store.unit(|unit| {
            let mut incident = unit.incident(id)?.ok_or_else(|| AgentError::NotFound(format!("no local incident {id}; `site-agent incidents list` shows them")))?;
            if incident.escalated() {
                return Err(AgentError::Invalid(format!("{id} is already escalated (revision {}); changes are sent as new revisions automatically", incident.revision)));
            }
            let before = json(&incident);
            self.escalate_in(unit, &mut incident, format!("by hand ({})", actor.name))?;
            unit.put_incident(&incident)?;
            self.audit(unit, actor, "incident.escalate", id, before, json(&incident))?;
            Ok(incident)
        })
    }

    /// Changes status or owner; an escalated incident sends a new revision.
    pub fn update_incident(
        &self,
        actor: &Actor,
        id: &str,
        status: Option<IncidentStatus>,
        owner: Option<String>,
    ) -> Result<LocalIncident, AgentError> {
        authz::check(actor.role, Operation::UpdateIncident, None)?;
        self.store.unit(|unit| {
            let mut incident = unit
                .incident(id)?
                .ok_or_else(|| AgentError::NotFound(format!("no local incident {id}")))?;
            let before = json(&incident);
            if let Some(status) = status {
                incident.status = status;
            }
            if let Some(owner) = owner {
                // An owner is someone this site can hold to it: in the roster, or a
                // configured manager.
                let owner = owner.trim().to_owned();
                if !self.settings.managers.contains(&owner) && unit.analyst(&owner)?.is_none() {
                    return Err(AgentError::Invalid(format!(
                        "owner {owner:?} is not in this site's roster; name an analyst from \
                         `site-agent roster list`, or add them first with `site-agent roster add`"
                    )));
                }
                incident.owner = Some(owner);
            }
            incident.updated_at_ms = self.now();
            if incident.escalated() {
                self.queue_revision_or_defer(unit, &mut incident)?;
            } else if let Some(reason) =
                self.settings.escalation.reason(&incident, Some(actor.role))
            {
                incident.escalation_reason = Some(reason);
                self.queue_revision_or_defer(unit, &mut incident)?;
            }
            unit.put_incident(&incident)?;
            self.audit(unit, actor, "incident.update", id, before, json(&incident))?;
            Ok(incident)
        })
    }

    /// A promoted group learned something new: fold it into its incident, escalating or
    /// sending a revision as the policy says.
    pub(super) fn refresh_incident(
        &self,
        unit: &mut Unit,
        id: &str,
        group: &AlertGroup,
        actor: &Actor,
    ) -> Result<(), AgentError> {
        let Some(mut incident) = unit.incident(id)? else {
            return Ok(());
        };
        if !incident.include(group, self.now()) {
            return Ok(());
        }
        let before = json(&incident);
        if incident.escalated() {
            self.queue_revision_or_defer(unit, &mut incident)?;
            self.audit(unit, actor, "incident.revise", id, before, json(&incident))?;
        } else if let Some(reason) = self.settings.escalation.reason(&incident, None) {
            incident.escalation_reason = Some(reason);
            self.queue_revision_or_defer(unit, &mut incident)?;
            self.audit(
                unit,
                actor,
                "incident.escalate",
                id,
                before,
                json(&incident),
            )?;
        }
        unit.put_incident(&incident)?;
        Ok(())
    }

    fn escalate_in(
        &self,
        unit: &mut Unit,
        incident: &mut LocalIncident,
        reason: String,
    ) -> Result<(), AgentError> {
        tracing::info!(incident = %incident.id, %reason, "escalating to the SIRT hub");
        incident.escalation_reason = Some(reason);
        self.queue_revision(unit, incident)
    }

    /// For automatic paths (intake, the SLA clock, policy): when the revision cannot be
    /// queued now (outbox full, report over the limits), the change is kept and marked
    /// `revision_pending` for the SLA tick to retry, instead of failing the whole unit and
    /// with it a batch of alerts or every later SLA breach.
    pub(super) fn queue_revision_or_defer(
        &self,
        unit: &mut Unit,
        incident: &mut LocalIncident,
    ) -> Result<(), AgentError> {
        let before = incident.revision;
        match self.queue_revision(unit, incident) {
            Ok(()) => {
                incident.revision_pending = false;
                Ok(())
            }
            Err(
                e @ (AgentError::Store(crate::store::StoreError::OutboxFull { .. })
                | AgentError::Invalid(_)),
            ) => {
                incident.revision = before;
                incident.revision_pending = true;
                metrics::counter!("socfed_agent_revisions_deferred_total").increment(1);
                tracing::warn!(incident = %incident.id, error = %e, "incident revision deferred; the SLA clock retries it");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Retries deferred revisions (called by the SLA tick).
    pub(super) fn retry_pending_revisions(&self) -> Result<usize, AgentError> {
        // A bounded pass: whatever is left waits for the next tick, and until the outbox has
        // room each retry only defers again.
        let pending = self
            .store
            .pending_revision_ids(MAX_REVISION_RETRIES_PER_TICK)?;
        let mut sent = 0;
        for id in pending {
            let done = self.store.unit(|unit| {
                let Some(mut incident) = unit.incident(&id)? else {
                    return Ok::<_, AgentError>(false);
                };
                self.queue_revision_or_defer(unit, &mut incident)?;
                unit.put_incident(&incident)?;
                Ok(!incident.revision_pending)
            })?;
            sent += usize::from(done);
        }
        Ok(sent)
    }

    /// Queues the next revision in the outbox, in the same unit as the change that caused it.
    fn queue_revision(
        &self,
        unit: &mut Unit,
        incident: &mut LocalIncident,
    ) -> Result<(), AgentError> {
        incident.revision += 1;
        let report = incident.report(&self.settings.report_limits).map_err(|e| {
            AgentError::Invalid(format!("incident {} cannot be reported: {e}", incident.id))
        })?;
        let (seq, dropped) = unit.enqueue(
            report.to_wire().encode_to_vec(),
            self.now(),
            self.settings.outbox_cap,
            self.settings.on_full,
        )?;
        for old in dropped {
            tracing::error!(
                seq = old,
                "outbox at cap: dropped the oldest unsent escalation (on_full = drop-oldest)"
            );
        }
        tracing::info!(incident = %incident.id, revision = incident.revision, seq, "incident revision queued for the hub");
        Ok(())
    }
}

impl SocService {
    /// `incident` with what the SIRT hub last said of it (for the local API's answers).
    pub fn with_hub(
        &self,
        incident: LocalIncident,
    ) -> Result<(LocalIncident, Option<crate::store::HubState>), AgentError> {
        let hub = self.store.hub_state(&incident.id)?;
        Ok((incident, hub))
    }

    /// The newest `limit` local incidents, each with what the hub last said of it.
    pub fn incidents_with_hub(
        &self,
        actor: &Actor,
        limit: usize,
    ) -> Result<Vec<(LocalIncident, Option<crate::store::HubState>)>, AgentError> {
        self.list_incidents(actor, limit)?
            .into_iter()
            .map(|i| self.with_hub(i))
            .collect()
    }
}
