//! Incident members, with their audit entry. Who may change them
//! (the incident's IR lead or the CISO) is checked again here against the stored incident, so
//! a lead reassigned meanwhile cannot slip one in.

use super::Batch;
use super::response::ResponseOutcome;
use crate::lifecycle::HubRole;
use crate::store::StoreError;
use ulid::Ulid;

#[derive(Debug, Clone)]
pub struct MemberChange {
    pub incident: Ulid,
    pub name: String,
    pub remove: bool,
    pub actor: String,
    pub actor_role: Option<HubRole>,
    pub actor_cert: String,
}

impl Batch<'_, '_> {
    pub(super) fn members(&mut self, c: &MemberChange) -> Result<ResponseOutcome, StoreError> {
        let Some(record) = self.unit.incident(c.incident)? else {
            return Ok(ResponseOutcome::NotFound(format!(
                "no incident {}; list incidents to see valid ids",
                c.incident
            )));
        };
        let lead = record.lifecycle.ir_lead.as_deref();
        if c.actor_role != Some(HubRole::Ciso) && lead != Some(c.actor.as_str()) {
            return Ok(ResponseOutcome::Rejected(format!(
                "only the incident's IR lead ({}) or the CISO may change its members",
                lead.unwrap_or("none assigned")
            )));
        }
        let present = self.unit.is_member(c.incident, &c.name)?;
        if present != c.remove {
            return Ok(ResponseOutcome::Updated(false));
        }
        self.unit.set_member(c.incident, &c.name, !c.remove);
        self.unit.audit(socfed_runtime::audit::AuditDraft {
            at_ms: self.now,
            actor: c.actor.clone(),
            actor_cert: c.actor_cert.clone(),
            action: if c.remove {
                "incident.member-remove"
            } else {
                "incident.member-add"
            }
            .into(),
            target: c.incident.to_string(),
            before: None,
            after: Some(c.name.clone()),
        })?;
        Ok(ResponseOutcome::Updated(true))
    }
}
