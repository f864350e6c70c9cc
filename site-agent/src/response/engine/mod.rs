//! The directive engine: receives directives from the uplink, records each id once, decides
//! what to do (playbook, sweep, task), runs it, and reports every state change to the hub
//! through the uplink's update queue.
//!
//! Reports are best-effort on the stream; the hub resends every directive it has no final
//! state for on each connect, and a resent directive is answered with its recorded state, so
//! a report lost with a connection is sent again.

#[cfg(test)]
mod detect_tests;
pub mod new_groups;
mod operator;
mod sweeps;

use super::groups::{ActionGroup, Leftover};
use super::playbook::Action;
use super::sweep::Sweep;
use super::updates::UpdateQueue;
use super::{DirectiveRecord, KIND_RELINKED, KIND_SWEEP, KIND_TASK, ResponseConfig, State, run};
use crate::service::Clock;
use crate::soc::audit::AuditDraft;
use crate::soc::notify::{Notification, NotificationKind};
use crate::store::{AgentStore, StoreError};
use socfed_proto::UnixMillis;
use socfed_proto::pb;
use socfed_proto::vocab::SiteId;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use ulid::Ulid;

/// Hits kept per sweep.
pub(super) const MAX_HITS: usize = 1000;

pub struct ResponseEngine {
    store: Arc<AgentStore>,
    config: ResponseConfig,
    site: SiteId,
    clock: Arc<dyn Clock>,
    updates: Arc<UpdateQueue>,
    /// None only if the TLS backend could not start: webhook actions then fail, reported.
    http: Option<reqwest::Client>,
    /// Sweeps watching new alerts, by directive id.
    watching: Mutex<HashMap<Ulid, Sweep>>,
    /// New alert groups from intake, for the watching sweeps.
    new_groups: Arc<new_groups::NewGroups>,
    /// Held from reading a directive's state to saving the next one in operator actions, so
    /// two approvals at once cannot both see "awaiting approval" and both run the action.
    transitions: Mutex<()>,
    /// Where hits of library hunts raise local alerts (the agent's intake), set once at start
    /// before any directive arrives.
    intake: std::sync::OnceLock<Arc<dyn super::detect::AlertIntake>>,
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
            // The shared webhook client: no redirect is followed (a 3xx would re-send the
            // body, which may carry tokens and site data); it is reported as a failure.
            http: socfed_runtime::webhook::client::build(None)
                .inspect_err(
                    |e| tracing::error!(error = %e, "no HTTP client: webhook playbooks will fail"),
                )
                .ok(),
            watching: Mutex::new(HashMap::new()),
            new_groups: Arc::default(),
            transitions: Mutex::new(()),
            intake: std::sync::OnceLock::new(),
        };
        (Arc::new(engine), updates)
    }

    fn now(&self) -> UnixMillis {
        self.clock.now_ms()
    }

    /// Connects the intake library hunts' hits raise alerts through (once; later calls are
    /// ignored).
    pub fn set_intake(&self, intake: Arc<dyn super::detect::AlertIntake>) {
        if self.intake.set(intake).is_err() {
            tracing::warn!("the alert intake of hunt detections was set twice; kept the first");
        }
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
            if record.state.is_final() {
                unit.remove_action_group(record.id);
            }
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
                            self.start_watching(record.id, sweep);
                        }
                        _ => self.finish_sweep(record)?,
                    }
                }
                (KIND_TASK, _) | (_, State::AwaitingApproval) => {}
                (_, State::Running) => {
                    let leftover = match self.store.action_group(record.id)? {
                        Some(group) => group.end_leftover(),
                        None => Leftover::Unknown(
                            "no process group was recorded (a webhook, or the agent died as the command started)".into(),
                        ),
                    };
                    let processes = match &leftover {
                        Leftover::Ended => {
                            "its processes were still running and were ended at this start"
                                .to_string()
                        }
                        Leftover::Gone => "none of its processes was still running".to_string(),
                        Leftover::Unknown(why) => {
                            format!("whether its processes still run is unknown: {why}")
                        }
                    };
                    record.set(
                        State::Interrupted,
                        format!("the agent stopped while the action ran; {processes}; not run again because it may have taken effect: check, and ask the hub to reissue it if needed"),
                        now,
                    );
                    tracing::warn!(directive = %record.id, kind = %record.kind, ?leftover, "directive interrupted by a restart");
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

    /// Where intake hands over the groups it made durable (kept only while a sweep watches).
    pub fn new_groups(&self) -> Arc<new_groups::NewGroups> {
        self.new_groups.clone()
    }

    /// Adds a sweep to the watchers. Until now intake handed nothing over for it, so one
    /// search of the stored alerts covers what arrived since its first search.
    fn start_watching(&self, id: Ulid, sweep: Sweep) {
        let mut watching = self.lock_watching();
        watching.insert(id, sweep);
        self.new_groups.set_watching(true);
        drop(watching);
        self.new_groups.request_rescan();
    }

    fn stop_watching(&self, id: &Ulid) {
        let mut watching = self.lock_watching();
        watching.remove(id);
        self.new_groups.set_watching(!watching.is_empty());
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
                        Ok(planned) if self.config.dry_run || playbook.dry_run => record.set(
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
            self.start_watching(record.id, sweep);
        }
        if let Some(planned) = action {
            self.spawn_action(record, planned);
        }
        Ok(())
    }

    fn spawn_action(self: &Arc<Self>, mut record: DirectiveRecord, planned: Action) {
        let engine = self.clone();
        tokio::spawn(async move {
            let id = record.id;
            let running = &mut record;
            // Durable, so that the next start can end the group if the agent is killed; the
            // record names it too (`site-agent directives show ID`).
            let record_group = |group: ActionGroup| {
                running.detail = format!("{} (process group {})", running.detail, group.pgid);
                let recorded = engine.store.unit(|unit| {
                    unit.put_directive(running)?;
                    unit.put_action_group(id, &group)
                });
                if let Err(e) = recorded {
                    tracing::error!(directive = %id, error = %e, "could not record an action's process group");
                }
            };
            let outcome = run::execute(
                &planned,
                engine.http.as_ref(),
                engine.config.max_output_bytes,
                record_group,
            )
            .await;
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
}
