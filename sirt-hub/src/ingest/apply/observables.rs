//! Observables in the writer's unit: sites' indicators recorded as each escalation is stored
//! (cheap: one read and one write per indicator, plus the index entry and count the first
//! time an incident holds it), analysts' edits with their timeline line and audit entry, and
//! the moves a merge or a split makes, all in the unit of the change they belong to.

use super::response::ResponseOutcome;
use super::{Applied, Batch};
use crate::observable::{self, Edit, MAX_PER_INCIDENT};
use crate::store::StoreError;
use socfed_proto::vocab::{Indicator, SiteId};
use ulid::Ulid;

/// An analyst's change to one observable of an incident (roles checked by the caller).
#[derive(Debug, Clone)]
pub struct ObservableChange {
    pub incident: Ulid,
    pub indicator: Indicator,
    pub edit: Edit,
    pub actor: String,
    pub actor_cert: String,
}

impl Batch<'_, '_> {
    /// Records that `site` reported `indicators` on `incident` now.
    pub(super) fn sight_observables(
        &mut self,
        site: &SiteId,
        indicators: &[Indicator],
        incident: Ulid,
    ) -> Result<(), StoreError> {
        let mut count = None;
        // A report naming an indicator twice is one report of it.
        let mut seen = std::collections::HashSet::with_capacity(indicators.len());
        for indicator in indicators.iter().filter(|i| seen.insert(*i)) {
            let existing = self.unit.observable(incident, indicator)?;
            let new = existing.is_none();
            if new {
                let n = match count {
                    Some(n) => n,
                    None => self.unit.observable_count(incident)?,
                };
                if n >= MAX_PER_INCIDENT {
                    continue;
                }
                count = Some(n + 1);
            }
            let record = observable::sight(existing, site, indicator, self.now);
            self.unit.put_observable(incident, &record, new)?;
        }
        Ok(())
    }

    /// An analyst adds, flags, unflags or removes an observable.
    pub(super) fn observable_change(
        &mut self,
        c: &ObservableChange,
        applied: &mut Applied,
    ) -> Result<ResponseOutcome, StoreError> {
        let Some(record) = self.unit.incident(c.incident)? else {
            return Ok(ResponseOutcome::NotFound(format!(
                "no incident {}; list incidents to see valid ids",
                c.incident
            )));
        };
        if let crate::lifecycle::Phase::Closed {
            resolution: crate::lifecycle::Resolution::Duplicate { .. },
        } = &record.lifecycle.phase
            && let Some(why) = super::response::closed_refusal(&record, "take observables")
        {
            return Ok(ResponseOutcome::Rejected(why));
        }
        let existing = self.unit.observable(c.incident, &c.indicator)?;
        let before = existing
            .as_ref()
            .and_then(|r| serde_json::to_string(r).ok());
        let new = existing.is_none();
        // Marked stricter than the incident (before or after the change), the observable is
        // hidden from the incident's readers; the timeline they all read must not name it.
        let incident_tlp = record.tlp();
        let stricter =
            |r: &observable::ObservableRecord| r.effective_tlp(incident_tlp) > incident_tlp;
        let was_hidden = existing.as_ref().is_some_and(stricter);
        let count = self.unit.observable_count(c.incident)?;
        let after =
            match observable::apply(existing, &c.indicator, &c.edit, &c.actor, (count, self.now)) {
                Ok(after) => after,
                Err(e @ observable::EditError::Missing(_)) => {
                    return Ok(ResponseOutcome::NotFound(e.to_string()));
                }
                Err(e) => return Ok(ResponseOutcome::Rejected(e.to_string())),
            };
        match &after {
            Some(record) => self.unit.put_observable(c.incident, record, new)?,
            None => self.unit.remove_observable(c.incident, &c.indicator)?,
        }
        let shown = if was_hidden || after.as_ref().is_some_and(stricter) {
            "(withheld: marked above the incident)".to_string()
        } else {
            c.indicator.to_string()
        };
        let text = format!("observable {shown} {}", describe(&c.edit));
        self.note_on_incident(c.incident, &c.actor, text, applied)?;
        self.unit.audit(socfed_runtime::audit::AuditDraft {
            at_ms: self.now,
            actor: c.actor.clone(),
            actor_cert: c.actor_cert.clone(),
            action: format!("observable.{}", c.edit.word()),
            target: format!("{}/{}", c.incident, c.indicator),
            before,
            after: after.as_ref().and_then(|r| serde_json::to_string(r).ok()),
        })?;
        Ok(ResponseOutcome::Observable(after.map(Box::new)))
    }

    /// A merge: `other`'s observables join `survivor`'s, and the index names the survivor.
    pub(super) fn merge_observables(
        &mut self,
        survivor: Ulid,
        other: Ulid,
    ) -> Result<(), StoreError> {
        let mut count = self.unit.observable_count(survivor)?;
        for moved in self.unit.observables_of(other)? {
            let indicator = moved.indicator.clone();
            self.unit.remove_observable(other, &indicator)?;
            let mine = self.unit.observable(survivor, &indicator)?;
            let new = mine.is_none();
            if new && count >= MAX_PER_INCIDENT {
                continue;
            }
            count += u64::from(new);
            let joined = observable::absorb(mine, moved);
            self.unit.put_observable(survivor, &joined, new)?;
        }
        Ok(())
    }

    /// A split: `site`'s share of each observable of `original` moves to `split`.
    pub(super) fn split_observables(
        &mut self,
        original: Ulid,
        split: Ulid,
        site: &SiteId,
    ) -> Result<(), StoreError> {
        for record in self.unit.observables_of(original)? {
            let indicator = record.indicator.clone();
            let (stays, moved) = observable::split_off(record, site);
            match stays {
                Some(stays) => self.unit.put_observable(original, &stays, false)?,
                None => self.unit.remove_observable(original, &indicator)?,
            }
            if let Some(moved) = moved {
                self.unit.put_observable(split, &moved, true)?;
            }
        }
        Ok(())
    }
}

/// The timeline's words for an edit: "added (ioc, tag c2)", "flagged tlp red".
fn describe(edit: &Edit) -> String {
    let flags = |flags: &[observable::Flag]| {
        flags
            .iter()
            .map(|f| match f {
                observable::Flag::Ioc => "ioc".to_string(),
                observable::Flag::Sighted => "sighted".to_string(),
                observable::Flag::Tag(t) => format!("tag {t}"),
                observable::Flag::Tlp(t) => format!("tlp {t}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match edit {
        Edit::Add { flags: f } if f.is_empty() => "added".into(),
        Edit::Add { flags: f } => format!("added ({})", flags(f)),
        Edit::Flag(f) => format!("flagged {}", flags(f)),
        Edit::Unflag(f) => format!("unflagged {}", flags(f)),
        Edit::Remove => "removed".into(),
    }
}
