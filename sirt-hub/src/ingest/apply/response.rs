//! Directives, hunts and site reports: the directive, the incident timeline and the audit
//! entry change together, in one unit.

use super::{Applied, Batch, IncidentChange};
use crate::incident;
use crate::incident::IncidentRecord;
use crate::response::directive::{self, SiteReport};
use crate::response::{DirectiveRecord, HuntRecord, TaskSpec};
use crate::store::StoreError;
use socfed_proto::UnixMillis;
use socfed_proto::vocab::SiteId;
use ulid::Ulid;

/// Directives an operator issued, with the hunt they belong to (if any).
#[derive(Debug, Clone)]
pub struct Issue {
    pub directives: Vec<DirectiveRecord>,
    pub hunt: Option<HuntRecord>,
    pub incident: Option<Ulid>,
    /// Audit action, e.g. `directive.issue`.
    pub action: &'static str,
    /// Timeline text on the incident.
    pub text: String,
    pub actor: String,
    pub actor_cert: String,
}

#[derive(Debug, Clone)]
pub struct DirectiveUpdate {
    pub site: SiteId,
    pub directive: Ulid,
    pub report: SiteReport,
}

/// Attach a hunt's hits to an incident and open a task for each site with hits.
#[derive(Debug, Clone)]
pub struct AttachHunt {
    pub hunt: Ulid,
    pub incident: Ulid,
    pub due_ms: UnixMillis,
    pub actor: String,
    pub actor_cert: String,
}

#[derive(Debug, Clone)]
pub enum ResponseOutcome {
    Directives(Vec<DirectiveRecord>),
    Hunt(Box<HuntRecord>),
    Comm(Box<crate::comms::CommRecord>),
    /// An observable as an analyst's edit left it; `None` once removed.
    Observable(Option<Box<crate::observable::ObservableRecord>>),
    /// The runbook version written (`runbooks.rs`).
    Runbook(Box<socfed_proto::vocab::runbook::Runbook>),
    /// A site's report: whether it changed the directive.
    Updated(bool),
    /// A step of the directive prune pass.
    Pruned(super::Pruned),
    /// The hunt library changed (`hunt_library.rs`).
    Library(Box<super::LibraryChanged>),
    /// A site's enrolment as the change left it (`enrolment.rs`).
    Enrolment(Box<crate::store::records::EnrolmentRecord>),
    NotFound(String),
    Rejected(String),
}

/// Why a closed incident cannot `what` (it changes only through a reopen): a duplicate names
/// the incident it was merged into, where the work belongs. `None` for an open incident.
pub(super) fn closed_refusal(record: &IncidentRecord, what: &str) -> Option<String> {
    use crate::lifecycle::{Phase, Resolution};
    match &record.lifecycle.phase {
        Phase::Closed {
            resolution: Resolution::Duplicate { of },
        } => Some(format!(
            "incident {} was merged into incident {of} and is closed; it cannot {what}: send them \
             to incident {of}",
            record.id
        )),
        Phase::Closed { resolution } => Some(format!(
            "incident {} is closed as {resolution} and cannot {what}; reopen it first \
             (`incidents transition {} reopen REASON`)",
            record.id, record.id
        )),
        _ => None,
    }
}

/// The events of a site's report that changed `d`: a failure or refusal, and new hunt hits.
fn directive_events(
    d: &DirectiveRecord,
    before: directive::DirectiveState,
    hits_before: usize,
    now: UnixMillis,
) -> Vec<crate::events::HubEvent> {
    use crate::events::{EventKind, HubEvent};
    use directive::DirectiveState;
    let mut out = Vec::new();
    if d.state != before && matches!(d.state, DirectiveState::Failed | DirectiveState::Refused) {
        out.push(HubEvent {
            at_ms: now,
            incident: d.incident,
            kind: EventKind::DirectiveFailed {
                directive: d.id,
                site: d.site.as_str().to_string(),
                directive_kind: d.kind.clone(),
                state: d.state.as_str().to_string(),
                detail: d.detail.clone(),
            },
        });
    }
    if let Some(hunt) = d.hunt
        && d.kind == directive::KIND_SWEEP
        && d.hits.len() > hits_before
    {
        out.push(HubEvent {
            at_ms: now,
            incident: d.incident,
            kind: EventKind::HuntHit {
                hunt,
                directive: d.id,
                site: d.site.as_str().to_string(),
                hits: d.hits.len() as u64,
            },
        });
    }
    out
}

impl Batch<'_, '_> {
    pub(super) fn note_on_incident(
        &mut self,
        id: Ulid,
        actor: &str,
        text: String,
        applied: &mut Applied,
    ) -> Result<(), StoreError> {
        let now = self.now;
        let Some((mut record, indexed)) = self.unit.incident_for_change(id)? else {
            return Ok(());
        };
        incident::push_timeline(&mut record, now, actor, text);
        record.updated_at_ms = record.updated_at_ms.max(now);
        self.unit.put_incident(Some(&indexed), &mut record)?;
        applied.changes.retain(|c| c.record.id != record.id);
        applied.changes.push(IncidentChange {
            created: false,
            record,
        });
        Ok(())
    }

    pub(super) fn issue(
        &mut self,
        issue: &Issue,
        applied: &mut Applied,
    ) -> Result<ResponseOutcome, StoreError> {
        if let Some(id) = issue.incident {
            let Some(record) = self.unit.incident(id)? else {
                return Ok(ResponseOutcome::NotFound(format!(
                    "no incident {id}; list incidents to see valid ids"
                )));
            };
            if let Some(refusal) = closed_refusal(&record, "take directives or tasks") {
                return Ok(ResponseOutcome::Rejected(refusal));
            }
        }
        for d in &issue.directives {
            self.unit.put_directive(d)?;
        }
        if let Some(hunt) = &issue.hunt {
            self.unit.put_hunt(hunt)?;
        }
        if let Some(id) = issue.incident {
            self.note_on_incident(id, &issue.actor, issue.text.clone(), applied)?;
        }
        let ids: Vec<String> = issue.directives.iter().map(|d| d.id.to_string()).collect();
        self.unit.audit(socfed_runtime::audit::AuditDraft {
            at_ms: self.now,
            actor: issue.actor.clone(),
            actor_cert: issue.actor_cert.clone(),
            action: issue.action.to_string(),
            target: issue
                .hunt
                .as_ref()
                .map(|h| h.id)
                .or(issue.incident)
                .map(|id| id.to_string())
                .unwrap_or_default(),
            before: None,
            after: Some(format!("{} directives: {}", ids.len(), ids.join(","))),
        })?;
        match &issue.hunt {
            Some(hunt) => Ok(ResponseOutcome::Hunt(Box::new(hunt.clone()))),
            None => Ok(ResponseOutcome::Directives(issue.directives.clone())),
        }
    }

    pub(super) fn directive_update(
        &mut self,
        u: &DirectiveUpdate,
        applied: &mut Applied,
    ) -> Result<ResponseOutcome, StoreError> {
        let now = self.now;
        let Some(mut d) = self.unit.directive(u.directive)? else {
            return Ok(ResponseOutcome::NotFound(format!(
                "no directive {}",
                u.directive
            )));
        };
        // A site may only report on its own directives (the stream is bound to its certificate).
        if d.site != u.site {
            return Ok(ResponseOutcome::Rejected(format!(
                "directive {} belongs to site {}",
                d.id, d.site
            )));
        }
        let (before, hits_before) = (d.state, d.hits.len());
        if !d.apply(u.report.clone(), now) {
            return Ok(ResponseOutcome::Updated(false));
        }
        self.unit.update_directive(&d)?;
        applied
            .events
            .extend(directive_events(&d, before, hits_before, now));
        if let Some(id) = d.incident
            && d.state != before
        {
            let actor = if d.actor.is_empty() {
                format!("site {}", d.site)
            } else {
                format!("{} at {}", d.actor, d.site)
            };
            self.note_on_incident(id, &actor, d.summary(), applied)?;
        }
        Ok(ResponseOutcome::Updated(true))
    }

    /// Tells `site` that its local incidents now belong to hub incident `now_part_of`.
    pub(super) fn relink(
        &mut self,
        site: &SiteId,
        local_incident_ids: &[String],
        previous: Ulid,
        now_part_of: Ulid,
        reason: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        let params = [
            ("local_incident_ids", local_incident_ids.join(",")),
            ("previous_incident_id", previous.to_string()),
            ("reason", reason.chars().take(512).collect()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        self.unit.put_directive(&DirectiveRecord {
            incident: Some(now_part_of),
            params,
            ..DirectiveRecord::queued(site, directive::KIND_RELINKED, actor, self.now)
        })
    }

    pub(super) fn attach_hunt(
        &mut self,
        a: &AttachHunt,
        applied: &mut Applied,
    ) -> Result<ResponseOutcome, StoreError> {
        let now = self.now;
        let Some(mut hunt) = self.unit.hunt(a.hunt)? else {
            return Ok(ResponseOutcome::NotFound(format!(
                "no hunt {}; `hunt list` shows them",
                a.hunt
            )));
        };
        let Some(incident) = self.unit.incident(a.incident)? else {
            return Ok(ResponseOutcome::NotFound(format!(
                "no incident {}; list incidents to see valid ids",
                a.incident
            )));
        };
        if let Some(refusal) = closed_refusal(&incident, "take a hunt's hits") {
            return Ok(ResponseOutcome::Rejected(refusal));
        }
        if let Some(already) = hunt.attached_to {
            return Ok(ResponseOutcome::Rejected(format!(
                "hunt {} is already attached to incident {already}",
                hunt.id
            )));
        }
        let mut sweeps = Vec::new();
        for id in &hunt.directives {
            if let Some(d) = self.unit.directive(*id)? {
                sweeps.push(d);
            }
        }
        let mut tasks = Vec::new();
        for sweep in sweeps.iter().filter(|d| !d.hits.is_empty()) {
            let mut lines: Vec<String> = sweep
                .hits
                .iter()
                .map(|h| {
                    format!(
                        "{} in alert group {} ({})",
                        h.indicator,
                        h.group_id,
                        directive::plural(
                            usize::try_from(h.alert_count).unwrap_or(usize::MAX),
                            "alert",
                            "alerts"
                        )
                    )
                })
                .collect();
            lines.truncate(20);
            self.note_on_incident(
                a.incident,
                &a.actor,
                format!(
                    "hunt {} found {} at {}: {}",
                    hunt.id,
                    directive::plural(sweep.hits.len(), "hit", "hits"),
                    sweep.site,
                    lines.join("; ")
                ),
                applied,
            )?;
            let task = DirectiveRecord {
                incident: Some(a.incident),
                hunt: Some(hunt.id),
                task: Some(TaskSpec {
                    title: format!(
                        "Investigate {}",
                        directive::plural(sweep.hits.len(), "hunt hit", "hunt hits")
                    ),
                    details: lines.join("\n"),
                    due_ms: a.due_ms,
                }),
                ..DirectiveRecord::queued(&sweep.site, directive::KIND_TASK, &a.actor, now)
            };
            self.unit.put_directive(&task)?;
            tasks.push(task);
        }
        hunt.attached_to = Some(a.incident);
        self.unit.put_hunt(&hunt)?;
        self.unit.audit(socfed_runtime::audit::AuditDraft {
            at_ms: now,
            actor: a.actor.clone(),
            actor_cert: a.actor_cert.clone(),
            action: "hunt.attach".into(),
            target: hunt.id.to_string(),
            before: None,
            after: Some(format!("incident {}; {} tasks", a.incident, tasks.len())),
        })?;
        Ok(ResponseOutcome::Hunt(Box::new(hunt)))
    }
}
