//! The hunt library's changes: a library hunt added, edited (its previous version kept),
//! enabled or disabled, and run (the hunt and its sweeps stored, the schedule moved on),
//! each with its audit entry, in one unit.
//!
//! A run removes the library hunt's runs past the latest [`hunt_library::KEEP_RUNS`], with
//! their sweeps. A scheduled run is applied only if the library hunt is due at the unit's time: two
//! scheduler passes, or a pass repeated after a restart, store one run.

use super::Batch;
use super::response::ResponseOutcome;
use crate::hunt_library::{self, LibraryHunt, LibrarySpec, run, schedule};
use crate::response::HuntRecord;
use crate::store::StoreError;
use socfed_proto::vocab::SiteId;
use ulid::Ulid;

/// What an operator (or the scheduler) does to the library.
#[derive(Debug, Clone)]
pub enum LibraryAction {
    Add {
        spec: LibrarySpec,
        enabled: bool,
    },
    Update {
        id: Ulid,
        spec: LibrarySpec,
    },
    Switch {
        id: Ulid,
        enabled: bool,
    },
    /// A run to the enrolled sites: `scheduled` runs only if due (the scheduler's pass);
    /// otherwise now (an operator's "run now").
    Run {
        id: Ulid,
        scheduled: bool,
        enrolled: Vec<SiteId>,
    },
}

#[derive(Debug, Clone)]
pub struct LibraryChange {
    pub action: LibraryAction,
    pub actor: String,
    pub actor_cert: String,
}

/// The library hunt after a change, and the hunt a run started (none when a scheduled run
/// was not due).
#[derive(Debug, Clone)]
pub struct LibraryChanged {
    pub hunt: LibraryHunt,
    pub run: Option<HuntRecord>,
}

fn changed(hunt: LibraryHunt, run: Option<HuntRecord>) -> ResponseOutcome {
    ResponseOutcome::Library(Box::new(LibraryChanged { hunt, run }))
}

impl Batch<'_, '_> {
    pub(super) fn library(
        &mut self,
        change: &LibraryChange,
    ) -> Result<ResponseOutcome, StoreError> {
        let now = self.now;
        let actor = change.actor.as_str();
        let (before, after, action, started) = match &change.action {
            LibraryAction::Add { spec, enabled } => {
                if self.unit.library_len(hunt_library::MAX_LIBRARY)? >= hunt_library::MAX_LIBRARY {
                    return Ok(ResponseOutcome::Rejected(format!(
                        "the library holds {} hunts at most; disable and edit one instead",
                        hunt_library::MAX_LIBRARY
                    )));
                }
                let hunt = LibraryHunt::added(spec.clone(), *enabled, actor, now);
                self.unit.put_library_hunt(&hunt, None)?;
                (None, hunt, "hunt_library.add", None)
            }
            LibraryAction::Update { id, spec } => {
                let Some(old) = self.found(*id)? else {
                    return Ok(not_found(*id));
                };
                let hunt = old.edited(spec.clone(), actor, now);
                self.unit.put_library_hunt(&hunt, Some(&old))?;
                (Some(old), hunt, "hunt_library.update", None)
            }
            LibraryAction::Switch { id, enabled } => {
                let Some(old) = self.found(*id)? else {
                    return Ok(not_found(*id));
                };
                let hunt = old.switched(*enabled, actor, now);
                self.unit.put_library_hunt(&hunt, None)?;
                let action = if *enabled {
                    "hunt_library.enable"
                } else {
                    "hunt_library.disable"
                };
                (Some(old), hunt, action, None)
            }
            LibraryAction::Run {
                id,
                scheduled,
                enrolled,
            } => {
                let Some(old) = self.found(*id)? else {
                    return Ok(not_found(*id));
                };
                if *scheduled && !schedule::is_due(&old, now) {
                    return Ok(changed(old, None));
                }
                let planned = match run::plan(&old, enrolled, now) {
                    Ok(planned) => planned,
                    Err(e) => return Ok(ResponseOutcome::Rejected(e.to_string())),
                };
                for sweep in &planned.hunt.sweeps {
                    self.unit.put_directive(sweep)?;
                }
                self.unit.put_hunt(&planned.hunt.hunt)?;
                self.unit.put_library_run(old.id, planned.hunt.hunt.id);
                // The latest runs stay (the statistics read them); older ones go with their
                // sweeps, long expired, so a frequent schedule does not grow the store.
                for stale in self
                    .unit
                    .library_runs_over(old.id, hunt_library::KEEP_RUNS)?
                {
                    self.unit.remove_library_run(old.id, stale)?;
                }
                self.unit.put_library_hunt(&planned.library, None)?;
                let action = if *scheduled {
                    "hunt_library.run"
                } else {
                    "hunt_library.run_now"
                };
                (Some(old), planned.library, action, Some(planned.hunt.hunt))
            }
        };
        self.unit.audit(socfed_runtime::audit::AuditDraft {
            at_ms: now,
            actor: change.actor.clone(),
            actor_cert: change.actor_cert.clone(),
            action: action.to_string(),
            target: after.id.to_string(),
            before: before.as_ref().map(summary),
            after: Some(match &started {
                Some(hunt) => format!(
                    "{}; hunt {} to {} sites",
                    summary(&after),
                    hunt.id,
                    hunt.sites.len()
                ),
                None => summary(&after),
            }),
        })?;
        Ok(changed(after, started))
    }

    fn found(&self, id: Ulid) -> Result<Option<LibraryHunt>, StoreError> {
        self.unit.library_hunt(id)
    }
}

fn not_found(id: Ulid) -> ResponseOutcome {
    ResponseOutcome::NotFound(format!(
        "no library hunt {id}; `sirt-hub hunt library list` shows them"
    ))
}

/// What the audit records of a version.
fn summary(hunt: &LibraryHunt) -> String {
    format!(
        "v{} {:?}: {} indicators, every {}s, {}, next due {}",
        hunt.version,
        hunt.name,
        hunt.indicators.len(),
        hunt.interval_s,
        if hunt.enabled { "enabled" } else { "disabled" },
        hunt.next_due_ms
    )
}
