//! Incident members inside the ingest transaction, with their audit entry. Who may change them
//! (the incident's IR lead or the CISO) is checked again here against the stored incident, so
//! a lead reassigned meanwhile cannot slip one in.

use super::response::ResponseOutcome;
use super::{Tx, TxError, codec};
use crate::incident::IncidentRecord;
use crate::lifecycle::HubRole;
use crate::store::schema;
use socfed_proto::UnixMillis;
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

impl Tx<'_> {
    pub(super) fn members(
        &self,
        c: &MemberChange,
        now: UnixMillis,
    ) -> Result<ResponseOutcome, TxError> {
        let Some(raw) = self.incidents.get(c.incident.to_bytes())? else {
            return Ok(ResponseOutcome::NotFound(format!(
                "no incident {}; list incidents to see valid ids",
                c.incident
            )));
        };
        let record: IncidentRecord = codec(schema::decode_incident(&raw))?;
        let lead = record.lifecycle.ir_lead.as_deref();
        if c.actor_role != Some(HubRole::Ciso) && lead != Some(c.actor.as_str()) {
            return Ok(ResponseOutcome::Rejected(format!(
                "only the incident's IR lead ({}) or the CISO may change its members",
                lead.unwrap_or("none assigned")
            )));
        }
        let key = schema::member_key(c.incident, &c.name);
        let present = self.meta.get(&key[..])?.is_some();
        if present != c.remove {
            return Ok(ResponseOutcome::Updated(false));
        }
        if c.remove {
            self.meta.remove(&key[..])?;
        } else {
            self.meta.insert(&key[..], &[])?;
        }
        self.audit(socfed_runtime::audit::AuditDraft {
            at_ms: now,
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
