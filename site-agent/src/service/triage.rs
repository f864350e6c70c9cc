//! Analyst actions on alert groups, and the SLA clock that acts when nobody did.

use super::{Actor, SocService, json};
use crate::error::AgentError;
use crate::soc::authz::{self, Operation};
use crate::soc::group::{AlertGroup, Comment};
use crate::soc::notify::NotificationKind;
use crate::soc::triage::{self, Action, Effect};
use crate::soc::{Role, sla};
use crate::store::unit::Unit;
use ulid::Ulid;

impl SocService {
    /// Applies an analyst's action to a group, with its effects (reassignment, notifications,
    /// escalation to the SIRT), as one audited unit.
    pub fn act(&self, actor: &Actor, id: Ulid, action: Action) -> Result<AlertGroup, AgentError> {
        let roster = self.store.roster()?;
        self.store.unit(|unit| {
            let group = unit.group(id)?.ok_or_else(|| AgentError::NotFound(format!("no alert group {id}; `site-agent alerts list` shows the open ones")))?;
            authz::check(actor.role, Operation::for_action(&action), Some(group.state.tier))?;
            if let Action::Assign { analyst } = &action {
                let target = roster.iter().find(|a| &a.name == analyst).ok_or_else(|| {
                    AgentError::Invalid(format!("{analyst:?} is not in the roster; `site-agent roster list` shows who is"))
                })?;
                let can_act = authz::check(target.role, Operation::Acknowledge, Some(group.state.tier)).is_ok();
                if !can_act {
                    return Err(AgentError::Invalid(format!(
                        "{analyst} is a {} and cannot work a {} group; assign someone of that tier or above",
                        target.role, group.state.tier
                    )));
                }
            }
            self.apply_action(unit, actor, group, &action, &roster)
        })
    }

    /// The SLA clock: every group whose deadline passed is escalated by one rung, and the SOC
    /// manager is told. Returns the groups it acted on.
    pub fn sla_tick(&self) -> Result<Vec<Ulid>, AgentError> {
        let now = self.now();
        let due = self.store.groups_due(now, 1000)?;
        let roster = self.store.roster()?;
        let actor = Actor::sla_clock();
        let mut acted = Vec::new();
        for (due_ms, id) in due {
            let result = self.store.unit(|unit| {
                let Some(group) = unit.group(id)? else {
                    unit.remove_sla_due(due_ms, id);
                    return Ok::<_, AgentError>(false);
                };
                let Some(deadline) = sla::breached(&self.settings.sla, &group.state, group.severity, now) else {
                    // The agenda entry no longer matches the group's clock: repair it.
                    let current = sla::deadline(&self.settings.sla, &group.state, group.severity);
                    if current.is_none_or(|d| d.due_ms != due_ms) {
                        unit.remove_sla_due(due_ms, id);
                        if let Some(d) = current {
                            unit.put_sla_due(d.due_ms, id);
                        }
                    }
                    return Ok(false);
                };
                tracing::warn!(group = %id, tier = %group.state.tier, clock = ?deadline.clock, overdue_ms = now - deadline.due_ms, "SLA breached; escalating");
                metrics::counter!("socfed_agent_sla_breaches_total").increment(1);
                self.apply_action(unit, &actor, group, &Action::SlaBreach, &roster)?;
                Ok(true)
            });
            // One group that cannot be escalated must not stop the clock for the others.
            match result {
                Ok(true) => acted.push(id),
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(group = %id, error = %e, "SLA clock could not act on this group; will retry")
                }
            }
        }
        if let Err(e) = self.flush_unassigned() {
            tracing::error!(error = %e, "sending the held unassigned-groups notification failed; will retry");
        }
        if let Err(e) = self.retry_pending_revisions() {
            tracing::error!(error = %e, "retrying deferred incident revisions failed");
        }
        Ok(acted)
    }

    pub(super) fn apply_action(
        &self,
        unit: &mut Unit,
        actor: &Actor,
        mut group: AlertGroup,
        action: &Action,
        roster: &[crate::soc::roster::Analyst],
    ) -> Result<AlertGroup, AgentError> {
        let now = self.now();
        let old = group.clone();
        let (state, effects) = triage::apply(&group.state, action, now)?;
        group.state = state;
        if let Action::Comment { text } = action {
            group.add_comment(Comment {
                at_ms: now,
                author: actor.name.clone(),
                text: text.clone(),
            });
        }
        let mut effects: std::collections::VecDeque<Effect> = effects.into();
        while let Some(effect) = effects.pop_front() {
            match effect {
                Effect::NeedsAssignment { tier } => {
                    match self.pick_assignee(unit, roster, tier, now)? {
                        Some(analyst) => {
                            group.state =
                                triage::apply(&group.state, &Action::Assign { analyst }, now)?.0
                        }
                        // The SLA ladder does not wait a full window at a tier nobody staffs
                        // now: the group climbs on at once (past tier 4, to the SIRT hub).
                        None if matches!(action, Action::SlaBreach) => {
                            let (state, more) =
                                triage::apply(&group.state, &Action::Escalate, now)?;
                            group.state = state;
                            self.notify(
                                unit,
                                NotificationKind::SlaBreach,
                                format!(
                                    "nobody of {tier} is on shift: alert group {} ({}) skipped {tier}",
                                    group.id, group.title
                                ),
                                Some(group.id),
                            )?;
                            effects.extend(more);
                        }
                        None => self.notify(
                            unit,
                            NotificationKind::Unassigned,
                            format!(
                                "nobody of {tier} is on shift to take alert group {} ({})",
                                group.id, group.title
                            ),
                            Some(group.id),
                        )?,
                    }
                }
                Effect::NotifyManager { reason } => self.notify(
                    unit,
                    NotificationKind::SlaBreach,
                    format!("alert group {} ({}): {reason}", group.id, group.title),
                    Some(group.id),
                )?,
                Effect::EscalateToSirt => {
                    self.notify(
                        unit,
                        NotificationKind::EscalatedToSirt,
                        format!(
                            "alert group {} ({}) left tier 4 for the SIRT hub",
                            group.id, group.title
                        ),
                        Some(group.id),
                    )?;
                    unit.put_group(Some(&old), &group, &self.settings.sla)?;
                    let incident = self.promote_in(
                        unit,
                        actor,
                        &[group.id],
                        None,
                        Some("escalated past tier 4 to the SIRT".into()),
                    )?;
                    self.audit(
                        unit,
                        actor,
                        &format!("alert.{}", action_name(action)),
                        &group.id.to_string(),
                        json(&old.state),
                        json(&group.state),
                    )?;
                    return unit.group(group.id)?.ok_or_else(|| {
                        AgentError::NotFound(format!(
                            "alert group {} vanished while promoting to {}",
                            group.id, incident.id
                        ))
                    });
                }
                Effect::TierRaised { .. } | Effect::Closed { .. } | Effect::PromotedTo { .. } => {}
            }
        }
        unit.put_group(Some(&old), &group, &self.settings.sla)?;
        self.audit(
            unit,
            actor,
            &format!("alert.{}", action_name(action)),
            &group.id.to_string(),
            json(&old.state),
            json(&group.state),
        )?;
        if actor.role != Role::SocManager || actor.name != "sla-clock" {
            tracing::info!(actor = %actor.name, group = %group.id, action = action_name(action), "alert group updated");
        }
        Ok(group)
    }
}

pub(super) fn action_name(action: &Action) -> &'static str {
    match action {
        Action::Acknowledge => "ack",
        Action::Assign { .. } => "assign",
        Action::Unassign => "unassign",
        Action::Comment { .. } => "comment",
        Action::Escalate => "escalate",
        Action::SlaBreach => "sla-breach",
        Action::Close { .. } => "close",
        Action::Promote { .. } => "promote",
        Action::Reopen => "reopen",
    }
}
