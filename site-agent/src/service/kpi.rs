//! `SocService::kpis`: the site's triage KPIs (`soc/kpi.rs`) over the last weeks, from the
//! audit chain's `alert.*` entries (every triage step is audited with the group's state
//! before and after, so the chain is the groups' history).
//!
//! Bounded: the chain is read newest first and the scan stops at the first entry older than
//! the window, or after [`MAX_SCAN`] entries (the answer says so: `truncated`); at most
//! [`MAX_GROUPS`] distinct groups are looked up for their rule. So one request costs at most
//! a fixed number of record reads, whatever the store holds.

use super::{Actor, SocService};
use crate::error::AgentError;
use crate::soc::authz::{self, Operation};
use crate::soc::kpi::{self, GroupFacts, Kpis, Step, StepKind};
use crate::soc::triage::{GroupState, Status};
use serde::Serialize;
use socfed_runtime::audit::AuditDraft;
use std::collections::HashMap;
use ulid::Ulid;

/// Audit entries read per request at most.
pub const MAX_SCAN: usize = 200_000;
/// Groups looked up (for their rule) per request at most.
pub const MAX_GROUPS: usize = 20_000;
/// Longest window, in weeks.
pub const MAX_WEEKS: u32 = 52;

/// The KPIs and how much history they were computed from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KpiReport {
    pub weeks: u32,
    #[serde(flatten)]
    pub kpis: Kpis,
    /// Audit entries read.
    pub scanned: usize,
    /// The scan stopped at [`MAX_SCAN`] before the window's start: older steps are missing.
    pub truncated: bool,
}

/// The KPI step an audit entry records, if it is a triage step on a group.
fn step_of(draft: &AuditDraft) -> Option<Step> {
    let what = draft.action.strip_prefix("alert.")?;
    let group = Ulid::from_string(&draft.target).ok()?;
    let before: GroupState = serde_json::from_str(draft.before.as_deref()?).ok()?;
    let after: Option<GroupState> = draft
        .after
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok());
    let kind = match what {
        "ack" => StepKind::Acknowledge,
        "escalate" | "sla-breach" => StepKind::Escalate,
        "close" => match after.map(|a| a.status) {
            Some(Status::Closed { verdict }) => StepKind::Close(verdict),
            _ => StepKind::Other,
        },
        "promote" => StepKind::Promote,
        _ => StepKind::Other,
    };
    Some(Step {
        group,
        at_ms: draft.at_ms,
        actor: draft.actor.clone(),
        kind,
        tier: before.tier,
    })
}

/// The groups an `incident.promote` entry made into a new incident.
fn promoted_groups(draft: &AuditDraft) -> Vec<(Ulid, &AuditDraft)> {
    if draft.action != "incident.promote" {
        return Vec::new();
    }
    let Some(incident) = draft
        .after
        .as_deref()
        .and_then(|a| serde_json::from_str::<crate::soc::incident::LocalIncident>(a).ok())
    else {
        return Vec::new();
    };
    incident.groups.into_iter().map(|g| (g, draft)).collect()
}

impl SocService {
    /// The KPIs of the last `weeks` (1 to [`MAX_WEEKS`]) up to now. Per-analyst numbers are
    /// the team's own: anyone on the roster may read them, as they read the queue.
    pub fn kpis(&self, actor: &Actor, weeks: u32) -> Result<KpiReport, AgentError> {
        authz::check(actor.role, Operation::ViewRoster, None)?;
        if weeks == 0 || weeks > MAX_WEEKS {
            return Err(AgentError::Invalid(format!(
                "weeks: 1 to {MAX_WEEKS}, not {weeks}"
            )));
        }
        let to_ms = self.now();
        let from_ms = to_ms.saturating_sub(i64::from(weeks) * 7 * 24 * 3_600_000);
        let (drafts, truncated) = self.store.audit_since(from_ms, MAX_SCAN)?;
        let scanned = drafts.len();
        let mut steps: Vec<Step> = drafts.iter().filter_map(step_of).collect();
        let promoted: Vec<(Ulid, &AuditDraft)> = drafts.iter().flat_map(promoted_groups).collect();
        let mut groups: HashMap<Ulid, (GroupFacts, crate::soc::Tier)> = HashMap::new();
        let wanted = steps
            .iter()
            .map(|s| s.group)
            .chain(promoted.iter().map(|p| p.0));
        for id in wanted {
            if groups.len() >= MAX_GROUPS {
                break;
            }
            if groups.contains_key(&id) {
                continue;
            }
            if let Some(g) = self.store.group(id)? {
                groups.insert(id, (GroupFacts { rule_id: g.rule_id }, g.state.tier));
            }
        }
        // A promotion to a new incident is audited once, on the incident: each of its groups
        // closes there, at the tier its record holds (a promoted group keeps its tier).
        for (group, draft) in promoted {
            if let Some((_, tier)) = groups.get(&group) {
                steps.push(Step {
                    group,
                    at_ms: draft.at_ms,
                    actor: draft.actor.clone(),
                    kind: StepKind::Promote,
                    tier: *tier,
                });
            }
        }
        let groups: HashMap<Ulid, GroupFacts> = groups
            .into_iter()
            .map(|(id, (facts, _))| (id, facts))
            .collect();
        let roster = self.store.roster()?;
        Ok(KpiReport {
            weeks,
            kpis: kpi::compute(&steps, &groups, &roster, from_ms, to_ms),
            scanned,
            truncated,
        })
    }
}
