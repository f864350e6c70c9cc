//! A site enrolled or removed, with its audit entry in the same unit (`crate::enrolment`).
//! Decided against the record the unit reads, so two changes at once see each other.

use super::Batch;
use super::response::ResponseOutcome;
use crate::store::StoreError;
use crate::store::records::{EnrolmentRecord, Removal};
use socfed_proto::vocab::SiteId;

/// What happens to the site.
#[derive(Debug, Clone)]
pub enum EnrolmentAction {
    /// Enrol it (again, if it was removed). `seed`: the config's `[[sites]]` at start, which
    /// adds only a site the store never held, and is silent about one it holds.
    Enrol {
        name: String,
        reason: String,
        seed: bool,
    },
    Remove,
}

/// A change to the enrolled sites (admin, CISO or the hub's seed; checked by the caller).
#[derive(Debug, Clone)]
pub struct EnrolmentChange {
    pub site: SiteId,
    pub action: EnrolmentAction,
    pub actor: String,
    pub actor_cert: String,
}

impl Batch<'_, '_> {
    pub(super) fn enrolment(&mut self, c: &EnrolmentChange) -> Result<ResponseOutcome, StoreError> {
        let old = self.unit.enrolment(&c.site)?;
        let (record, action, before) = match (&c.action, old) {
            (EnrolmentAction::Enrol { seed: true, .. }, Some(held)) => {
                return Ok(ResponseOutcome::Enrolment(Box::new(held)));
            }
            (EnrolmentAction::Enrol { .. }, Some(held)) if held.is_enrolled() => {
                return Ok(ResponseOutcome::Rejected(format!(
                    "site {} is already enrolled (by {}); `sirt-hub sites list` shows the enrolled sites",
                    c.site, held.enrolled_by
                )));
            }
            (EnrolmentAction::Enrol { name, reason, .. }, held) => {
                let record = EnrolmentRecord {
                    name: name.clone(),
                    enrolled_by: c.actor.clone(),
                    enrolled_at_ms: self.now,
                    reason: reason.clone(),
                    removed: None,
                };
                let before = held.map(|_| "removed".to_string());
                (record, "site.enrol", before)
            }
            (EnrolmentAction::Remove, Some(held)) if held.is_enrolled() => {
                let record = EnrolmentRecord {
                    removed: Some(Removal {
                        by: c.actor.clone(),
                        at_ms: self.now,
                    }),
                    ..held
                };
                (record, "site.remove", Some("enrolled".to_string()))
            }
            (EnrolmentAction::Remove, _) => {
                return Ok(ResponseOutcome::NotFound(format!(
                    "site {} is not enrolled at this hub; `sirt-hub sites list` shows the enrolled sites",
                    c.site
                )));
            }
        };
        self.unit.put_enrolment(&c.site, &record)?;
        if matches!(c.action, EnrolmentAction::Remove) {
            // A newer stream lease than any open stream's: a replica holding one ends it
            // (`crate::replicas`), as the replica that took the removal ends its own.
            self.unit.take_stream_lease(&c.site)?;
        }
        let after = match &c.action {
            EnrolmentAction::Enrol { reason, .. } => format!("enrolled ({reason})"),
            EnrolmentAction::Remove => "removed".into(),
        };
        self.unit.audit(socfed_runtime::audit::AuditDraft {
            at_ms: self.now,
            actor: c.actor.clone(),
            actor_cert: c.actor_cert.clone(),
            action: action.into(),
            target: format!("site {}", c.site),
            before,
            after: Some(after),
        })?;
        Ok(ResponseOutcome::Enrolment(Box::new(record)))
    }
}
