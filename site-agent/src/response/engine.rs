//! The directive engine: receives directives from the uplink, records each id once, decides
//! what to do (playbook, sweep, task), runs it, and reports every state change to the hub
//! through the uplink's update queue.
//!
//! Reports are best-effort on the stream; the hub resends every directive it has no final
//! state for on each connect, and a resent directive is answered with its recorded state, so
//! a report lost with a connection is sent again.

use super::playbook::Action;
use super::sweep::{Sweep, merge_hits};
use super::updates::UpdateQueue;
use super::{DirectiveRecord, KIND_RELINKED, KIND_SWEEP, KIND_TASK, ResponseConfig, State, run};
use crate::service::{Actor, Clock, ServiceError};
use crate::soc::audit::AuditDraft;
use crate::soc::authz::{self, Operation};
use crate::soc::notify::{Notification, NotificationKind};
use crate::store::{AgentStore, StoreError};
use socfed_proto::UnixMillis;
use socfed_proto::pb;
use socfed_proto::vocab::SiteId;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use ulid::Ulid;

/// Hits kept per sweep.
const MAX_HITS: usize = 1000;

pub struct ResponseEngine {
    store: Arc<AgentStore>,
    config: ResponseConfig,
    site: SiteId,
    clock: Arc<dyn Clock>,
    updates: Arc<UpdateQueue>,
    http: reqwest::Client,
    /// Sweeps watching new alerts, by directive id.
    watching: Mutex<HashMap<Ulid, Sweep>>,
    /// Held from reading a directive's state to saving the next one in operator actions, so
    /// two approvals at once cannot both see "awaiting approval" and both run the action.
    transitions: Mutex<()>,
}

/// A step of a task from the hub, taken by a site analyst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStep {
    Acknowledge,
    Start,
    Complete,
    /// The site cannot do it (with a note saying why).
    Decline,
}

impl ResponseEngine {
    pub fn new(
        store: Arc<AgentStore>,
        config: ResponseConfig,
        site: SiteId,
        clock: Arc<dyn Clock>,
    ) -> (Arc<Self>, Arc<UpdateQueue>) {
        let updates = Arc::new(UpdateQueue::default());
        let engine = Self {
            store,
            config,
            site,
            clock,
            updates: updates.clone(),
            http: reqwest::Client::new(),
            watching: Mutex::new(HashMap::new()),
            transitions: Mutex::new(()),
        };
        (Arc::new(engine), updates)
    }

    fn now(&self) -> UnixMillis {
        self.clock.now_ms()
    }

    fn emit(&self, record: &DirectiveRecord) {
        metrics::counter!("socfed_agent_directive_updates_total", "state" => record.state.as_str())
            .increment(1);
        self.updates.push(record.id, record.to_update());
    }

    /// Records `record` durably with an audit entry, then reports it.
    fn save(
        &self,
        record: &DirectiveRecord,
        actor: &str,
        cert: &str,
        action: &str,
    ) -> Result<(), StoreError> {
        let now = self.now();
        self.store.unit(|unit| {
            unit.put_directive(record)?;
            unit.audit(AuditDraft {
                at_ms: now,
                actor: actor.to_string(),
                actor_cert: cert.to_string(),
                action: action.to_string(),
                target: record.id.to_string(),
                before: None,
                after: Some(format!("{}: {}", record.state.as_str(), record.detail)),
            })
        })?;
        self.emit(record);
        Ok(())
    }

    /// Tells the SOC manager (`site-agent notifications`).
    fn notify(&self, record: &DirectiveRecord) -> Result<(), StoreError> {
        let now = self.now();
        let message = match record.state {
            State::AwaitingApproval => format!(
                "the SIRT hub asks for {} (directive {}); it waits for `site-agent directives approve {}`",
                record.kind, record.id, record.id
            ),
            _ => record.detail.clone(),
        };
        tracing::warn!(directive = %record.id, %message, "notification for the SOC manager");
        self.store.unit(|unit| {
            unit.put_notification(&Notification {
                id: Ulid::from_parts(now.max(0) as u64, rand::random()),
                at_ms: now,
                kind: NotificationKind::FromHub,
                message,
                group: None,
            })
        })
    }

    fn vars(&self, record: &DirectiveRecord) -> BTreeMap<String, String> {
        let mut vars = record.params.clone();
        vars.insert("directive_id".into(), record.id.to_string());
        vars.insert("incident_id".into(), record.incident_id.clone());
        vars.insert("kind".into(), record.kind.clone());
        vars.insert("site".into(), self.site.to_string());
        vars.insert("issued_by".into(), record.issued_by.clone());
        vars
    }

    /// Start-up: actions that were running when the agent stopped are reported interrupted
    /// (they may have taken effect, so they are not run again); sweeps resume watching.
    pub fn resume(self: &Arc<Self>) -> Result<(), StoreError> {
        let now = self.now();
        for mut record in self.store.unfinished_directives()? {
            match (record.kind.as_str(), record.state) {
                (KIND_SWEEP, State::Running) => {
                    match super::sweep::Sweep::from_params(&record.params) {
                        Ok(sweep) if record.watch_until_ms > now => {
                            self.lock_watching().insert(record.id, sweep);
                        }
                        _ => self.finish_sweep(record)?,
                    }
                }
                (KIND_TASK, _) | (_, State::AwaitingApproval) => {}
                (_, State::Running) => {
                    record.set(
                        State::Interrupted,
                        "the agent stopped while the action ran; not run again because it may have taken effect: check, and ask the hub to reissue it if needed",
                        now,
                    );
                    tracing::warn!(directive = %record.id, kind = %record.kind, "directive interrupted by a restart");
                    self.save(&record, "agent", "", "directive.interrupted")?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn lock_watching(&self) -> std::sync::MutexGuard<'_, HashMap<Ulid, Sweep>> {
        self.watching.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A directive from the hub. Errors are logged: the hub resends it on the next connect.
    pub fn receive(self: &Arc<Self>, directive: pb::Directive) {
        if let Err(e) = self.try_receive(directive) {
            tracing::error!(error = %e, "could not record a directive; the hub will resend it");
        }
    }

    fn try_receive(self: &Arc<Self>, directive: pb::Directive) -> Result<(), StoreError> {
        let Ok(id) = Ulid::from_string(&directive.directive_id) else {
            tracing::warn!(id = %directive.directive_id, "ignoring a directive whose id is not a ULID");
            return Ok(());
        };
        if let Some(known) = self.store.directive(id)? {
            // Seen before: applied at most once. Answer with what happened.
            metrics::counter!("socfed_agent_directives_total", "outcome" => "resent").increment(1);
            self.emit(&known);
            return Ok(());
        }
        metrics::counter!("socfed_agent_directives_total", "outcome" => "new").increment(1);
        let now = self.now();
        let mut record = DirectiveRecord::received(&directive, id, now);
        let mut action = None;
        let mut watch = None;
        if record.expires_at_ms > 0 && now > record.expires_at_ms {
            record.set(
                State::Expired,
                "arrived after its expiry time; not run",
                now,
            );
        } else {
            match record.kind.as_str() {
                KIND_TASK => record.set(State::Received, "waiting for an analyst: `site-agent tasks ack ID`", now),
                KIND_RELINKED => {
                    let detail = format!(
                        "local incidents {} now belong to hub incident {} (was {}): {}",
                        record.params.get("local_incident_ids").map_or("", String::as_str),
                        record.incident_id,
                        record.params.get("previous_incident_id").map_or("", String::as_str),
                        record.params.get("reason").map_or("", String::as_str),
                    );
                    record.set(State::Succeeded, detail, now);
                }
                KIND_SWEEP => match Sweep::from_params(&record.params) {
                    Err(why) => record.set(State::Refused, why, now),
                    Ok(sweep) => watch = self.sweep_stored(&mut record, sweep, now)?,
                },
                kind => match self.config.playbook(kind) {
                    None => record.set(
                        State::Refused,
                        format!("site {} has no playbook for {kind:?}; add a [[response.playbooks]] entry with kind = {kind:?} to run it", self.site),
                        now,
                    ),
                    Some(playbook) => match playbook.plan(&self.vars(&record)) {
                        Err(e) => record.set(State::Refused, format!("playbook {kind}: {e}"), now),
                        Ok(planned) if self.config.dry_run => record.set(
                            State::DryRun,
                            format!("dry run, nothing ran; would run {}", planned.describe()),
                            now,
                        ),
                        Ok(planned) if playbook.destructive => record.set(
                            State::AwaitingApproval,
                            format!("destructive: waiting for `site-agent directives approve {id}`; will run {}", planned.describe()),
                            now,
                        ),
                        Ok(planned) => {
                            record.set(State::Running, format!("running {}", planned.describe()), now);
                            action = Some(planned);
                        }
                    },
                },
            }
        }
        tracing::info!(directive = %id, kind = %record.kind, state = record.state.as_str(), "directive received");
        // Durable before anything runs: a crash from here on never runs it twice.
        self.save(
            &record,
            &format!("hub ({})", record.issued_by),
            "",
            "directive.received",
        )?;
        if record.kind == KIND_RELINKED || record.state == State::AwaitingApproval {
            self.notify(&record)?;
        }
        if let Some(sweep) = watch {
            self.lock_watching().insert(record.id, sweep);
        }
        if let Some(planned) = action {
            self.spawn_action(record, planned);
        }
        Ok(())
    }

    fn spawn_action(self: &Arc<Self>, mut record: DirectiveRecord, planned: Action) {
        let engine = self.clone();
        tokio::spawn(async move {
            let outcome =
                run::execute(&planned, &engine.http, engine.config.max_output_bytes).await;
            let state = if outcome.succeeded {
                State::Succeeded
            } else {
                State::Failed
            };
            record.exit_code = outcome.exit_code;
            record.output = outcome.output;
            record.set(state, outcome.detail, engine.now());
            tracing::info!(directive = %record.id, kind = %record.kind, state = state.as_str(), detail = %record.detail, "directive finished");
            if let Err(e) = engine.save(&record, "agent", "", "directive.finished") {
                tracing::error!(directive = %record.id, error = %e, "could not record a directive's result");
            }
        });
    }

    /// Searches stored alerts; then either finishes or starts watching new alerts.
    fn sweep_stored(
        &self,
        record: &mut DirectiveRecord,
        sweep: Sweep,
        now: UnixMillis,
    ) -> Result<Option<Sweep>, StoreError> {
        let since = now.saturating_sub(sweep.lookback_ms);
        let mut hits = Vec::new();
        for indicator in &sweep.indicators {
            for group_id in self.store.groups_with_indicator(indicator)? {
                if let Some(group) = self.store.group(group_id)? {
                    merge_hits(&mut hits, sweep.hits_in(&group, since), MAX_HITS);
                }
            }
        }
        record.hits = hits;
        if sweep.duration_ms > 0 {
            record.watch_until_ms = now.saturating_add(sweep.duration_ms);
            let detail = format!(
                "{} hits in stored alerts; watching new alerts",
                record.hits.len()
            );
            record.set(State::Running, detail, now);
            // Watched only once the record is saved (see `try_receive`).
            return Ok(Some(sweep));
        }
        let detail = format!("{} hits in stored alerts", record.hits.len());
        record.set(State::Succeeded, detail, now);
        Ok(None)
    }

    fn finish_sweep(&self, mut record: DirectiveRecord) -> Result<(), StoreError> {
        self.lock_watching().remove(&record.id);
        let detail = format!("{} hits; watch ended", record.hits.len());
        record.set(State::Succeeded, detail, self.now());
        self.save(&record, "agent", "", "directive.finished")
    }

    /// New or changed alert groups, from intake: matched against watching sweeps.
    pub fn on_groups(&self, groups: &[Ulid]) -> Result<(), StoreError> {
        let watching: Vec<(Ulid, Sweep)> = self
            .lock_watching()
            .iter()
            .map(|(id, s)| (*id, s.clone()))
            .collect();
        for (id, sweep) in watching {
            let Some(mut record) = self.store.directive(id)? else {
                continue;
            };
            let since = record.received_at_ms.saturating_sub(sweep.lookback_ms);
            let mut changed = false;
            for group_id in groups {
                if let Some(group) = self.store.group(*group_id)? {
                    changed |= merge_hits(&mut record.hits, sweep.hits_in(&group, since), MAX_HITS);
                }
            }
            if changed {
                record.updated_at_ms = self.now();
                record.detail = format!("{} hits; watching new alerts", record.hits.len());
                self.save(&record, "agent", "", "directive.hits")?;
            }
        }
        Ok(())
    }

    /// Matches new alerts against watching sweeps and ends sweeps whose time is up.
    pub async fn watch(
        self: Arc<Self>,
        mut groups: mpsc::UnboundedReceiver<Vec<Ulid>>,
        shutdown: CancellationToken,
    ) {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            let batch = tokio::select! {
                () = shutdown.cancelled() => break,
                batch = groups.recv() => match batch {
                    Some(ids) => Some(ids),
                    None => break,
                },
                _ = tick.tick() => None,
            };
            // Store reads and flushes block: off the async workers, one pass at a time.
            let engine = self.clone();
            let result = tokio::task::spawn_blocking(move || match batch {
                Some(ids) => engine.on_groups(&ids),
                None => engine.end_due_sweeps(),
            })
            .await;
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "sweep bookkeeping failed"),
                Err(e) => tracing::error!(error = %e, "sweep bookkeeping task failed"),
            }
        }
    }

    fn end_due_sweeps(&self) -> Result<(), StoreError> {
        let ids: Vec<Ulid> = self.lock_watching().keys().copied().collect();
        let now = self.now();
        for id in ids {
            match self.store.directive(id)? {
                Some(record) if record.watch_until_ms <= now => self.finish_sweep(record)?,
                Some(_) => {}
                None => {
                    self.lock_watching().remove(&id);
                }
            }
        }
        Ok(())
    }

    fn load(&self, id: Ulid) -> Result<DirectiveRecord, ServiceError> {
        self.store.directive(id)?.ok_or_else(|| {
            ServiceError::NotFound(format!(
                "no directive {id} at this site; `site-agent directives list` shows them"
            ))
        })
    }

    pub fn get(&self, actor: &Actor, id: Ulid) -> Result<DirectiveRecord, ServiceError> {
        authz::check(actor.role, Operation::ViewDirectives, None)?;
        self.load(id)
    }

    pub fn list(
        &self,
        actor: &Actor,
        limit: usize,
        wanted: impl Fn(&DirectiveRecord) -> bool,
    ) -> Result<Vec<DirectiveRecord>, ServiceError> {
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
    ) -> Result<DirectiveRecord, ServiceError> {
        authz::check(actor.role, Operation::ApproveDirective, None)?;
        let _one_at_a_time = self.transitions.lock().unwrap_or_else(|p| p.into_inner());
        let mut record = self.load(id)?;
        if record.state != State::AwaitingApproval {
            return Err(ServiceError::Invalid(format!(
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
    ) -> Result<DirectiveRecord, ServiceError> {
        authz::check(actor.role, Operation::WorkTask, None)?;
        let _one_at_a_time = self.transitions.lock().unwrap_or_else(|p| p.into_inner());
        let mut record = self.load(id)?;
        if record.kind != KIND_TASK {
            return Err(ServiceError::Invalid(format!(
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
            return Err(ServiceError::Invalid(format!(
                "task {id} is {}; it cannot move to {}",
                record.state.as_str(),
                next.as_str()
            )));
        }
        if step == TaskStep::Decline && note.trim().is_empty() {
            return Err(ServiceError::Invalid(
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
