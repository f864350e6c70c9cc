//! Roster changes inside the ingest transaction, with their audit entry.

use super::response::ResponseOutcome;
use super::{Tx, TxError, codec};
use crate::access::roster::OperatorRecord;
use crate::lifecycle::HubRole;
use crate::store::schema;
use socfed_proto::UnixMillis;

#[derive(Debug, Clone)]
pub struct RosterChange {
    pub name: String,
    /// `None` removes the operator.
    pub role: Option<HubRole>,
    pub actor: String,
    pub actor_cert: String,
}

fn is_keeper(role: Option<HubRole>) -> bool {
    role.is_some_and(|r| {
        crate::access::check("", Some(r), crate::access::Api::ManageOperators).is_ok()
    })
}

impl Tx<'_> {
    pub(super) fn roster(
        &self,
        c: &RosterChange,
        now: UnixMillis,
    ) -> Result<ResponseOutcome, TxError> {
        let before: Option<OperatorRecord> = match self.operators.get(c.name.as_bytes())? {
            Some(raw) => Some(codec(schema::decode(schema::TreeId::Operators, &raw))?),
            None => None,
        };
        let before_role = before.as_ref().map(|r| r.role);
        if before_role == c.role {
            return Ok(ResponseOutcome::Updated(false));
        }
        if c.role.is_none() && before.is_none() {
            return Ok(ResponseOutcome::NotFound(format!(
                "operator {:?} is not in the roster; `sirt-hub operators list` shows it",
                c.name
            )));
        }
        let keepers = match self.meta.get(schema::ROSTER_KEEPERS)? {
            Some(raw) => codec(schema::u64_value(schema::META, &raw))?,
            None => 0,
        };
        let after = keepers.saturating_sub(u64::from(is_keeper(before_role)))
            + u64::from(is_keeper(c.role));
        if c.actor != "config" && keepers > 0 && after == 0 {
            return Ok(ResponseOutcome::Rejected(
                "that would leave nobody able to manage the roster; give another operator the admin or CISO role first".to_string(),
            ));
        }
        self.meta
            .insert(schema::ROSTER_KEEPERS, &after.to_be_bytes())?;
        match c.role {
            Some(role) => {
                let record = OperatorRecord {
                    role,
                    since_ms: now,
                    set_by: c.actor.clone(),
                };
                self.operators.insert(
                    c.name.as_bytes(),
                    codec(schema::encode(schema::TreeId::Operators, &record))?,
                )?;
            }
            None => {
                self.operators.remove(c.name.as_bytes())?;
            }
        }
        self.audit(socfed_runtime::audit::AuditDraft {
            at_ms: now,
            actor: c.actor.clone(),
            actor_cert: c.actor_cert.clone(),
            action: if c.role.is_some() {
                "operator.set"
            } else {
                "operator.remove"
            }
            .into(),
            target: c.name.clone(),
            before: before_role.map(|r| r.to_string()),
            after: c.role.map(|r| r.to_string()),
        })?;
        Ok(ResponseOutcome::Updated(true))
    }
}
