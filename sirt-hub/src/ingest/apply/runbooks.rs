//! Hub runbooks added, edited and retired, each version with its audit entry in the same
//! unit; the version number is decided here, against the latest version the unit reads, so
//! two edits at once never share a number.

use super::Batch;
use super::response::ResponseOutcome;
use crate::store::StoreError;
use socfed_proto::vocab::runbook::{Draft, MAX_RUNBOOKS, Origin, Runbook};
use ulid::Ulid;

#[derive(Debug, Clone)]
pub enum RunbookEdit {
    Add { id: Ulid, draft: Draft },
    Update { id: Ulid, draft: Draft },
    Retire { id: Ulid },
}

/// An operator's change to the hub's runbooks (engineer, SOC manager; checked by the caller).
#[derive(Debug, Clone)]
pub struct RunbookChange {
    pub edit: RunbookEdit,
    pub actor: String,
    pub actor_cert: String,
}

impl Batch<'_, '_> {
    pub(super) fn runbooks(&mut self, c: &RunbookChange) -> Result<ResponseOutcome, StoreError> {
        let (runbook, action) = match &c.edit {
            RunbookEdit::Add { id, draft } => {
                if self.unit.runbook(*id)?.is_some() {
                    return Ok(ResponseOutcome::Rejected(format!(
                        "runbook {id} exists already"
                    )));
                }
                if self.unit.runbook_count()? >= MAX_RUNBOOKS as u64 {
                    return Ok(ResponseOutcome::Rejected(format!(
                        "the hub keeps at most {MAX_RUNBOOKS} runbooks; edit one instead"
                    )));
                }
                let first = Runbook::first(*id, Origin::Hub, draft.clone(), &c.actor, self.now);
                (first, "runbook.add")
            }
            RunbookEdit::Update { id, draft } => {
                let Some(latest) = self.unit.runbook(*id)? else {
                    return Ok(not_found(*id));
                };
                match latest.edited(draft.clone(), &c.actor, self.now) {
                    Ok(next) => (next, "runbook.update"),
                    Err(refusal) => return Ok(ResponseOutcome::Rejected(refusal.to_string())),
                }
            }
            RunbookEdit::Retire { id } => {
                let Some(latest) = self.unit.runbook(*id)? else {
                    return Ok(not_found(*id));
                };
                match latest.retire(&c.actor, self.now) {
                    Ok(next) => (next, "runbook.retire"),
                    Err(refusal) => return Ok(ResponseOutcome::Rejected(refusal.to_string())),
                }
            }
        };
        self.unit.put_runbook(&runbook)?;
        self.unit.audit(socfed_runtime::audit::AuditDraft {
            at_ms: self.now,
            actor: c.actor.clone(),
            actor_cert: c.actor_cert.clone(),
            action: action.into(),
            target: format!("runbook {} version {}", runbook.id, runbook.version),
            before: None,
            after: Some(runbook.title.clone()),
        })?;
        Ok(ResponseOutcome::Runbook(Box::new(runbook)))
    }
}

fn not_found(id: Ulid) -> ResponseOutcome {
    ResponseOutcome::NotFound(format!(
        "no runbook {id}; `sirt-hub runbooks list` shows them"
    ))
}
