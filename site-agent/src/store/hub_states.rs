//! The `hub_incidents` tree and the `hub_states_after` mark: what the SIRT hub last said of
//! each escalated local incident (its hub incident, phase and IR lead). Written only by the
//! uplink, from the hub's `IncidentState` messages; read by the local API.
//!
//! A state, its audit entry and the mark move together in one unit, so after a crash the mark
//! never claims a state the store lost: the hub sends again everything after the mark.

use super::schema::{self, HubState, TreeId};
use super::{AgentStore, StoreError};
use crate::soc::audit::AuditDraft;
use socfed_proto::UnixMillis;
use socfed_proto::vocab::IncidentState;

/// What recording a state did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Stored for the local incident it names.
    Stored,
    /// The same as what was stored (a resend): only the mark moved.
    Unchanged,
    /// No such local incident here (a store recreated since it escalated): only the mark moved.
    Unknown,
}

impl AgentStore {
    /// What the hub last said of local incident `id`.
    pub fn hub_state(&self, id: &str) -> Result<Option<HubState>, StoreError> {
        match self.tree(TreeId::HubIncidents).get(id.as_bytes())? {
            Some(raw) => Ok(Some(schema::decode(TreeId::HubIncidents, &raw)?)),
            None => Ok(None),
        }
    }

    /// The last state recorded, for the hello (0: none yet).
    pub fn hub_states_after(&self) -> Result<u64, StoreError> {
        self.counter_value(schema::HUB_STATES_AFTER)
    }

    /// Records `states` from the hub, in the order sent, durably and in one unit, and moves
    /// the mark to the last. The hub sends states in sequence order and a later one always
    /// replaces an earlier one, so each is stored as sent; the mark follows the hub's numbering
    /// even when the hub starts again from the beginning (its store was restored). A state
    /// that repeats what is stored (a resend after a reconnect) moves only the mark.
    pub fn record_hub_states(
        &self,
        states: Vec<IncidentState>,
        now: UnixMillis,
    ) -> Result<Vec<Recorded>, StoreError> {
        self.unit(|unit| {
            let mut out = Vec::with_capacity(states.len());
            let mut mark = None;
            for state in states {
                mark = Some(state.seq);
                let local = state.local_incident_id.clone();
                if unit.get_raw(TreeId::Incidents, local.as_bytes())?.is_none() {
                    out.push(Recorded::Unknown);
                    continue;
                }
                let before: Option<HubState> = unit.get(TreeId::HubIncidents, local.as_bytes())?;
                if before.as_ref().is_some_and(|b| {
                    IncidentState {
                        seq: state.seq,
                        ..b.state.clone()
                    } == state
                }) {
                    out.push(Recorded::Unchanged);
                    continue;
                }
                unit.audit(AuditDraft {
                    at_ms: now,
                    actor: "hub".into(),
                    actor_cert: String::new(),
                    action: "incident.hub-state".into(),
                    target: local.clone(),
                    before: before.map(|b| summary(&b.state)),
                    after: Some(summary(&state)),
                })?;
                unit.put(
                    TreeId::HubIncidents,
                    local.into_bytes(),
                    &HubState {
                        state,
                        received_at_ms: now,
                    },
                )?;
                out.push(Recorded::Stored);
            }
            if let Some(seq) = mark {
                unit.put_u64(TreeId::Meta, schema::HUB_STATES_AFTER.as_bytes(), seq);
            }
            Ok(out)
        })
    }
}

/// A state in the audit log's words.
fn summary(s: &IncidentState) -> String {
    format!(
        "hub incident {}, phase {}{}, IR lead {}",
        s.hub_incident,
        s.phase,
        if s.resolution.is_empty() {
            String::new()
        } else {
            format!(" ({})", s.resolution)
        },
        s.ir_lead.as_deref().unwrap_or("none")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::soc::incident::{IncidentStatus, LocalIncident};
    use socfed_proto::vocab::{HubPhase, Severity, Tlp};

    fn state(seq: u64, local: &str, phase: HubPhase, lead: Option<&str>) -> IncidentState {
        IncidentState {
            seq,
            local_incident_id: local.into(),
            hub_incident: ulid::Ulid::from_parts(1, 1),
            phase,
            resolution: String::new(),
            ir_lead: lead.map(Into::into),
            updated_at_ms: 5,
        }
    }

    /// States are kept for known incidents only, a resend changes nothing but the mark, and
    /// every change is in the audit chain.
    #[test]
    fn states_are_recorded_with_the_mark_and_audited_once_per_change() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let store = AgentStore::open(
            dir.path(),
            super::super::Durability::Flush,
            8 << 20,
            socfed_runtime::audit::ChainKey::from_bytes([7; 32]),
        )?;
        store.unit(|unit| {
            unit.put_incident(&LocalIncident {
                id: "INC-1".into(),
                title: "beacon".into(),
                status: IncidentStatus::Open,
                owner: None,
                severity: Severity::High,
                tlp: Tlp::Amber,
                groups: Vec::new(),
                hosts: Vec::new(),
                indicators: Vec::new(),
                techniques: Vec::new(),
                rule_id: String::new(),
                first_seen_ms: 1,
                created_at_ms: 1,
                updated_at_ms: 1,
                escalation_reason: Some("by hand".into()),
                revision: 1,
                revision_pending: false,
            })
        })?;
        assert_eq!(store.hub_states_after()?, 0);
        let recorded = store.record_hub_states(
            vec![
                state(1, "INC-1", HubPhase::New, None),
                state(2, "INC-gone", HubPhase::New, None),
            ],
            10,
        )?;
        assert_eq!(recorded, vec![Recorded::Stored, Recorded::Unknown]);
        assert_eq!(store.hub_states_after()?, 2);
        assert_eq!(store.hub_state("INC-gone")?, None);
        let audited = store.verify_audit()?.entries;
        // The same state again (a resend), then a change.
        let recorded = store.record_hub_states(
            vec![
                state(3, "INC-1", HubPhase::New, None),
                state(4, "INC-1", HubPhase::Containment, Some("ines")),
            ],
            11,
        )?;
        assert_eq!(recorded, vec![Recorded::Unchanged, Recorded::Stored]);
        let kept = store
            .hub_state("INC-1")?
            .ok_or_else(|| anyhow::anyhow!("kept"))?;
        assert_eq!(
            (
                kept.state.phase,
                kept.state.ir_lead.as_deref(),
                kept.received_at_ms
            ),
            (HubPhase::Containment, Some("ines"), 11)
        );
        assert_eq!(store.hub_states_after()?, 4);
        let report = store.verify_audit()?;
        assert_eq!(report.problem, None);
        assert_eq!(report.entries, audited + 1, "one entry per change");
        Ok(())
    }
}
