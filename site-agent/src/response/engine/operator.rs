//! What site operators do with directives: view them, approve or reject destructive actions,
//! and work tasks. Each checks the caller's roster role.

use super::{ResponseEngine, TaskStep};
use crate::error::AgentError;
use crate::response::{DirectiveRecord, KIND_TASK, State};
use crate::service::Actor;
use crate::soc::authz::{self, Operation};
use std::sync::Arc;
use ulid::Ulid;

impl ResponseEngine {
    fn load(&self, id: Ulid) -> Result<DirectiveRecord, AgentError> {
        self.store.directive(id)?.ok_or_else(|| {
            AgentError::NotFound(format!(
                "no directive {id} at this site; `site-agent directives list` shows them"
            ))
        })
    }

    pub fn get(&self, actor: &Actor, id: Ulid) -> Result<DirectiveRecord, AgentError> {
        authz::check(actor.role, Operation::ViewDirectives, None)?;
        self.load(id)
    }

    pub fn list(
        &self,
        actor: &Actor,
        limit: usize,
        wanted: impl Fn(&DirectiveRecord) -> bool,
    ) -> Result<Vec<DirectiveRecord>, AgentError> {
        authz::check(actor.role, Operation::ViewDirectives, None)?;
        Ok(self.store.directives(limit, wanted)?)
    }

    /// Approves (runs) or rejects a destructive action waiting for approval.
    pub fn decide(
        self: &Arc<Self>,
        actor: &Actor,
        id: Ulid,
        approve: bool,
        reason: &str,
    ) -> Result<DirectiveRecord, AgentError> {
        authz::check(actor.role, Operation::ApproveDirective, None)?;
        let _one_at_a_time = self.transitions.lock().unwrap_or_else(|p| p.into_inner());
        let mut record = self.load(id)?;
        if record.state != State::AwaitingApproval {
            return Err(AgentError::Invalid(format!(
                "directive {id} is {}, not awaiting approval",
                record.state.as_str()
            )));
        }
        let now = self.now();
        record.actor = actor.name.clone();
        if record.expires_at_ms > 0 && now > record.expires_at_ms {
            record.set(
                State::Expired,
                "expired while waiting for approval; not run",
                now,
            );
            self.save(&record, &actor.name, &actor.cert, "directive.expired")?;
            return Ok(record);
        }
        if !approve {
            let detail = format!("rejected by {}: {reason}", actor.name);
            record.set(State::Refused, detail, now);
            self.save(&record, &actor.name, &actor.cert, "directive.reject")?;
            return Ok(record);
        }
        // Planned again: the playbook may have been changed (or removed) since it arrived.
        let planned = match self
            .config
            .playbook(&record.kind)
            .map(|p| p.plan(&self.vars(&record)))
        {
            Some(Ok(planned)) => planned,
            Some(Err(e)) => {
                record.set(
                    State::Refused,
                    format!("playbook {}: {e}", record.kind),
                    now,
                );
                self.save(&record, &actor.name, &actor.cert, "directive.approve")?;
                return Ok(record);
            }
            None => {
                record.set(
                    State::Refused,
                    format!("the playbook for {:?} was removed", record.kind),
                    now,
                );
                self.save(&record, &actor.name, &actor.cert, "directive.approve")?;
                return Ok(record);
            }
        };
        let detail = format!("approved by {}; running {}", actor.name, planned.describe());
        record.set(State::Running, detail, now);
        self.save(&record, &actor.name, &actor.cert, "directive.approve")?;
        self.spawn_action(record.clone(), planned);
        Ok(record)
    }

    /// An analyst working a task from the hub.
    pub fn task(
        &self,
        actor: &Actor,
        id: Ulid,
        step: TaskStep,
        note: &str,
    ) -> Result<DirectiveRecord, AgentError> {
        authz::check(actor.role, Operation::WorkTask, None)?;
        let _one_at_a_time = self.transitions.lock().unwrap_or_else(|p| p.into_inner());
        let mut record = self.load(id)?;
        if record.kind != KIND_TASK {
            return Err(AgentError::Invalid(format!(
                "directive {id} is a {} directive, not a task",
                record.kind
            )));
        }
        let (next, allowed_from): (State, &[State]) = match step {
            TaskStep::Acknowledge => (State::Acknowledged, &[State::Received]),
            TaskStep::Start => (State::Running, &[State::Received, State::Acknowledged]),
            TaskStep::Complete => (
                State::Succeeded,
                &[State::Received, State::Acknowledged, State::Running],
            ),
            TaskStep::Decline => (
                State::Refused,
                &[State::Received, State::Acknowledged, State::Running],
            ),
        };
        if !allowed_from.contains(&record.state) {
            return Err(AgentError::Invalid(format!(
                "task {id} is {}; it cannot move to {}",
                record.state.as_str(),
                next.as_str()
            )));
        }
        if step == TaskStep::Decline && note.trim().is_empty() {
            return Err(AgentError::Invalid(
                "say why the site declines the task (--note)".into(),
            ));
        }
        record.actor = actor.name.clone();
        let detail = if note.is_empty() {
            format!("{} by {}", next.as_str(), actor.name)
        } else {
            format!("{} by {}: {note}", next.as_str(), actor.name)
        };
        record.set(next, detail, self.now());
        self.save(
            &record,
            &actor.name,
            &actor.cert,
            &format!("task.{}", next.as_str()),
        )?;
        Ok(record)
    }
}
