//! The site's runbooks: its own, kept by a security engineer or the SOC manager, and the
//! hub's, read-only here (they change only by a new version from the hub). Both are matched
//! to alert groups and local incidents (`vocab::runbook::matching`), and an analyst ticks a
//! runbook's checklist steps per incident or group; every change is one unit with its audit
//! entry.

use super::{Actor, SocService};
use crate::error::AgentError;
use crate::soc::audit::AuditDraft;
use crate::soc::authz::{self, Operation};
use socfed_proto::vocab::runbook::{
    Draft, MAX_RUNBOOKS, Origin, Progress, Runbook, Subject, SubjectKind, matching,
};
use ulid::Ulid;

/// A runbook matched to an incident or alert group, with that subject's progress.
pub type Matched = (Runbook, Progress);

/// What runbooks are matched against, resolved from an id.
struct Resolved {
    /// The key progress is kept under: the local incident id, or the group's ULID as text.
    key: String,
    kind: SubjectKind,
    rule_ids: Vec<String>,
    techniques: Vec<socfed_proto::vocab::Technique>,
    severity: socfed_proto::vocab::Severity,
}

impl SocService {
    pub fn add_runbook(&self, actor: &Actor, draft: Draft) -> Result<Runbook, AgentError> {
        authz::check(actor.role, Operation::KeepRunbooks, None)?;
        let now = self.now();
        let own = self
            .store
            .runbooks()?
            .iter()
            .filter(|r| r.origin == Origin::Site)
            .count();
        if own >= MAX_RUNBOOKS {
            return Err(AgentError::invalid(format!(
                "the site keeps at most {MAX_RUNBOOKS} runbooks of its own; edit one instead"
            )));
        }
        let id = Ulid::from_parts(u64::try_from(now).unwrap_or_default(), rand::random());
        let runbook = Runbook::first(id, Origin::Site, draft, &actor.name, now);
        self.write_runbook(actor, &runbook, "runbook.add")?;
        Ok(runbook)
    }

    pub fn update_runbook(
        &self,
        actor: &Actor,
        id: Ulid,
        draft: Draft,
    ) -> Result<Runbook, AgentError> {
        authz::check(actor.role, Operation::KeepRunbooks, None)?;
        let latest = self.own_runbook(id)?;
        let next = latest
            .edited(draft, &actor.name, self.now())
            .map_err(|e| AgentError::invalid(e.to_string()))?;
        self.write_runbook(actor, &next, "runbook.update")?;
        Ok(next)
    }

    pub fn retire_runbook(&self, actor: &Actor, id: Ulid) -> Result<Runbook, AgentError> {
        authz::check(actor.role, Operation::KeepRunbooks, None)?;
        let latest = self.own_runbook(id)?;
        let next = latest
            .retire(&actor.name, self.now())
            .map_err(|e| AgentError::invalid(e.to_string()))?;
        self.write_runbook(actor, &next, "runbook.retire")?;
        Ok(next)
    }

    pub fn list_runbooks(&self, actor: &Actor) -> Result<Vec<Runbook>, AgentError> {
        authz::check(actor.role, Operation::ViewIncidents, None)?;
        Ok(self.store.runbooks()?)
    }

    /// Version `version` of runbook `id` (`None`: the latest) and its history.
    pub fn get_runbook(
        &self,
        actor: &Actor,
        id: Ulid,
        version: Option<u32>,
    ) -> Result<(Runbook, Vec<Runbook>), AgentError> {
        authz::check(actor.role, Operation::ViewIncidents, None)?;
        let runbook = self.store.runbook(id, version)?.ok_or_else(|| {
            AgentError::NotFound(match version {
                Some(v) => format!("runbook {id} has no version {v}"),
                None => format!("no runbook {id}; `site-agent runbooks list` shows them"),
            })
        })?;
        Ok((runbook, self.store.runbook_history(id)?))
    }

    /// The runbooks that apply to local incident or alert group `subject`, most specific
    /// first, each with the subject's checklist progress.
    pub fn matched_runbooks(
        &self,
        actor: &Actor,
        subject: &str,
    ) -> Result<Vec<Matched>, AgentError> {
        authz::check(actor.role, Operation::ViewIncidents, None)?;
        let resolved = self.resolve_subject(subject)?;
        self.matched_for(&resolved)
    }

    /// Ticks (or unticks) step `step` of runbook `id` on `subject`, which the runbook must
    /// apply to; audited. Answers the subject's runbooks as they are now.
    pub fn set_runbook_step(
        &self,
        actor: &Actor,
        subject: &str,
        id: Ulid,
        step: u32,
        done: bool,
    ) -> Result<Vec<Matched>, AgentError> {
        authz::check(actor.role, Operation::WorkRunbook, None)?;
        let resolved = self.resolve_subject(subject)?;
        let matched = self.matched_for(&resolved)?;
        let Some((runbook, _)) = matched.iter().find(|(r, _)| r.id == id) else {
            return Err(AgentError::NotFound(format!(
                "runbook {id} does not apply to {subject}; `site-agent incidents show {subject}` lists those that do"
            )));
        };
        let steps = runbook.steps().len();
        let now = self.now();
        let key = resolved.key.clone();
        self.store.unit(|unit| -> Result<(), AgentError> {
            let mut progress = unit.runbook_progress(&key, id)?;
            progress
                .set(step, done, steps)
                .map_err(|e| AgentError::invalid(e.to_string()))?;
            unit.audit(AuditDraft {
                at_ms: now,
                actor: actor.name.clone(),
                actor_cert: actor.cert.clone(),
                action: if done {
                    "runbook.step-done"
                } else {
                    "runbook.step-undone"
                }
                .into(),
                target: key.clone(),
                before: None,
                after: Some(format!(
                    "runbook {id} step {step}: {}",
                    progress.summary(steps)
                )),
            })?;
            unit.put_runbook_progress(&key, id, &progress)?;
            Ok(())
        })?;
        self.matched_for(&resolved)
    }

    fn matched_for(&self, s: &Resolved) -> Result<Vec<Matched>, AgentError> {
        let all = self.store.runbooks()?;
        let subject = Subject {
            kind: s.kind,
            rule_ids: &s.rule_ids,
            techniques: &s.techniques,
            severity: s.severity,
        };
        matching(&all, &subject)
            .into_iter()
            .map(|r| Ok((r.clone(), self.store.runbook_progress(&s.key, r.id)?)))
            .collect()
    }

    /// An alert group (a ULID that names one) or else a local incident.
    fn resolve_subject(&self, subject: &str) -> Result<Resolved, AgentError> {
        if let Ok(id) = Ulid::from_string(subject.trim())
            && let Some(group) = self.store.group(id)?
        {
            return Ok(Resolved {
                key: id.to_string(),
                kind: SubjectKind::AlertGroup,
                rule_ids: vec![group.rule_id.clone()],
                techniques: group.techniques.clone(),
                severity: group.severity,
            });
        }
        let incident = self.store.incident(subject.trim())?.ok_or_else(|| {
            AgentError::NotFound(format!(
                "no alert group or local incident {:?}",
                subject.chars().take(64).collect::<String>()
            ))
        })?;
        Ok(Resolved {
            key: incident.id.clone(),
            kind: SubjectKind::LocalIncident,
            rule_ids: vec![incident.rule_id.clone()],
            techniques: incident.techniques.clone(),
            severity: incident.severity,
        })
    }

    /// The latest version of one of the site's own runbooks; the hub's are read-only here.
    fn own_runbook(&self, id: Ulid) -> Result<Runbook, AgentError> {
        let latest = self.store.runbook(id, None)?.ok_or_else(|| {
            AgentError::NotFound(format!(
                "no runbook {id}; `site-agent runbooks list` shows them"
            ))
        })?;
        if latest.origin == Origin::Hub {
            return Err(AgentError::invalid(format!(
                "runbook {id} is the hub's and read-only at the site: the hub's security engineers edit it (`sirt-hub runbooks update`)"
            )));
        }
        Ok(latest)
    }

    fn write_runbook(
        &self,
        actor: &Actor,
        runbook: &Runbook,
        action: &str,
    ) -> Result<(), AgentError> {
        let now = self.now();
        self.store.unit(|unit| -> Result<(), AgentError> {
            unit.audit(AuditDraft {
                at_ms: now,
                actor: actor.name.clone(),
                actor_cert: actor.cert.clone(),
                action: action.into(),
                target: format!("runbook {} version {}", runbook.id, runbook.version),
                before: None,
                after: Some(runbook.title.clone()),
            })?;
            unit.put_runbook(runbook)?;
            Ok(())
        })
    }
}
