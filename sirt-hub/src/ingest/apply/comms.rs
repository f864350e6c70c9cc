//! Communications: the record, the incident's timeline and the audit entry change together,
//! in one unit.

use super::response::ResponseOutcome;
use super::{Applied, Batch};
use crate::comms::CommRecord;
use crate::lifecycle::HubRole;
use crate::store::StoreError;
use ulid::Ulid;

#[derive(Debug, Clone)]
pub struct CommsChange {
    pub incident: Ulid,
    pub edit: CommEdit,
    pub actor: String,
    pub actor_cert: String,
    pub role: Option<HubRole>,
}

#[derive(Debug, Clone)]
pub enum CommEdit {
    Draft(Box<CommRecord>),
    Approve {
        comm: Ulid,
        /// The hub's `[comms] allow_self_approval`.
        allow_self_approval: bool,
    },
    Reject {
        comm: Ulid,
        reason: String,
    },
    /// Delivered through `channel` (the webhook, or a person who sent it by hand).
    Delivered {
        comm: Ulid,
        channel: String,
    },
    Failed {
        comm: Ulid,
        error: String,
    },
}

impl Batch<'_, '_> {
    pub(super) fn comms(
        &mut self,
        c: &CommsChange,
        applied: &mut Applied,
    ) -> Result<ResponseOutcome, StoreError> {
        let now = self.now;
        if self.unit.incident(c.incident)?.is_none() {
            return Ok(ResponseOutcome::NotFound(format!(
                "no incident {}; list incidents to see valid ids",
                c.incident
            )));
        }
        let (mut record, action) = match &c.edit {
            CommEdit::Draft(record) => ((**record).clone(), "comms.draft"),
            CommEdit::Approve { comm, .. }
            | CommEdit::Reject { comm, .. }
            | CommEdit::Delivered { comm, .. }
            | CommEdit::Failed { comm, .. } => {
                let Some(record) = self.unit.comm(c.incident, *comm)? else {
                    return Ok(ResponseOutcome::NotFound(format!(
                        "incident {} has no communication {comm}; `sirt-hub incidents comms list {}` shows them",
                        c.incident, c.incident
                    )));
                };
                (record, "")
            }
        };
        let result = match &c.edit {
            CommEdit::Draft(_) => Ok(()),
            CommEdit::Approve {
                allow_self_approval,
                ..
            } => record.approve_with(&c.actor, c.role, now, *allow_self_approval),
            CommEdit::Reject { reason, .. } => record.reject(&c.actor, c.role, reason, now),
            CommEdit::Delivered { channel, .. } => record.record_delivery(channel, now),
            CommEdit::Failed { error, .. } => record.record_failure(error, now),
        };
        if let Err(e) = result {
            return Ok(ResponseOutcome::Rejected(e.to_string()));
        }
        let action = match &c.edit {
            CommEdit::Draft(_) => action,
            CommEdit::Approve { .. } => "comms.approve",
            CommEdit::Reject { .. } => "comms.reject",
            CommEdit::Delivered { .. } => "comms.delivered",
            CommEdit::Failed { .. } => "comms.failed",
        };
        self.unit.put_comm(c.incident, &record)?;
        let text = format!(
            "communication to {} {}: {}",
            record.audience,
            record.state.name(),
            record.subject
        );
        self.note_on_incident(c.incident, &c.actor, text, applied)?;
        self.unit.audit(socfed_runtime::audit::AuditDraft {
            at_ms: now,
            actor: c.actor.clone(),
            actor_cert: c.actor_cert.clone(),
            action: action.into(),
            target: format!("{}/{}", c.incident, record.id),
            before: None,
            after: serde_json::to_string(&record.state).ok(),
        })?;
        Ok(ResponseOutcome::Comm(Box::new(record)))
    }
}
