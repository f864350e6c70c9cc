//! Roster changes, with their audit entry: nobody may leave the roster without a keeper.

use super::Batch;
use super::response::ResponseOutcome;
use crate::access::roster::OperatorRecord;
use crate::lifecycle::HubRole;
use crate::store::StoreError;

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

impl Batch<'_, '_> {
    pub(super) fn roster(&mut self, c: &RosterChange) -> Result<ResponseOutcome, StoreError> {
        let before = self.unit.operator(&c.name)?;
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
        let keepers = self.unit.roster_keepers()?;
        let after = keepers.saturating_sub(u64::from(is_keeper(before_role)))
            + u64::from(is_keeper(c.role));
        if c.actor != "config" && keepers > 0 && after == 0 {
            return Ok(ResponseOutcome::Rejected(
                "that would leave nobody able to manage the roster; give another operator the admin or CISO role first".to_string(),
            ));
        }
        self.unit.set_roster_keepers(after);
        match c.role {
            Some(role) => {
                let record = OperatorRecord {
                    role,
                    since_ms: self.now,
                    set_by: c.actor.clone(),
                };
                self.unit.put_operator(&c.name, &record)?;
            }
            None => {
                self.unit.remove_operator(&c.name);
            }
        }
        self.unit.audit(socfed_runtime::audit::AuditDraft {
            at_ms: self.now,
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
