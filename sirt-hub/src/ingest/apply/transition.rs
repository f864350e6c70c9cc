//! Operator lifecycle commands, regulatory flags and filings, merges and splits: the record,
//! its timeline and the hub's audit entry change together, in one unit.

use super::{
    Batch, IncidentChange, Merge, RegulatoryChange, RegulatoryEdit, Split, Transition,
    TransitionOutcome,
};
use crate::incident::IncidentRecord;
use crate::store::StoreError;
use crate::{correlate, incident};

impl Batch<'_, '_> {
    /// Applies an operator's lifecycle command (the role check is inside the machine) and
    /// records it in the timeline and the audit chain, in the same transaction.
    pub(super) fn transition(
        &mut self,
        t: &Transition,
        changes: &mut Vec<IncidentChange>,
    ) -> Result<TransitionOutcome, StoreError> {
        let now = self.now;
        let Some((mut record, indexed)) = self.unit.incident_for_change(t.incident)? else {
            return Ok(TransitionOutcome::NotFound);
        };
        let (lifecycle, events) =
            match crate::lifecycle::apply(&record.lifecycle, &t.command, t.role, &t.actor, now) {
                Ok(done) => done,
                Err(refused) => return Ok(TransitionOutcome::Refused(refused)),
            };
        if events.is_empty() {
            return Ok(TransitionOutcome::Done(Box::new(record)));
        }
        // The new IR lead must be in the roster with a role that may lead; read in the same
        // transaction as the change, so a roster change cannot slip in between.
        if let crate::lifecycle::Command::AssignIrLead { operator } = &t.command {
            let name = operator.trim();
            let role = self.unit.operator(name)?.map(|r| r.role);
            if let Err(refused) = crate::lifecycle::check_lead(name, role) {
                return Ok(TransitionOutcome::Refused(refused));
            }
        }
        let before = serde_json::to_string(&record.lifecycle).ok();
        record.lifecycle = lifecycle;
        record.updated_at_ms = record.updated_at_ms.max(now);
        // A technique an operator adds correlates like one a site reported: technique × each
        // of the incident's indicators.
        let mut added = Vec::new();
        for event in &events {
            incident::push_timeline(&mut record, event.at_ms, &t.actor, event.change.to_string());
            if let crate::lifecycle::Change::TechniqueAdded { technique } = &event.change {
                added.extend(
                    correlate::technique_fingerprints(technique, &record.indicators)
                        .into_iter()
                        .map(|fp| fp.key),
                );
            }
        }
        incident::remember_fingerprints(&mut record, added.iter().copied());
        self.unit.put_incident(Some(&indexed), &mut record)?;
        self.index_fingerprints(&record, &added, &Default::default())?;
        self.unit.audit(socfed_runtime::audit::AuditDraft {
            at_ms: now,
            actor: t.actor.clone(),
            actor_cert: t.actor_cert.clone(),
            action: format!("incident.{}", t.command.kind().word()),
            target: t.incident.to_string(),
            before,
            after: serde_json::to_string(&record.lifecycle).ok(),
        })?;
        changes.retain(|c| c.record.id != record.id);
        changes.push(IncidentChange {
            created: false,
            record: record.clone(),
        });
        Ok(TransitionOutcome::Done(Box::new(record)))
    }

    /// Flags a regime or records a filing; refused changes leave the record untouched.
    pub(super) fn regulatory(
        &mut self,
        c: &RegulatoryChange,
        changes: &mut Vec<IncidentChange>,
    ) -> Result<TransitionOutcome, StoreError> {
        let now = self.now;
        let Some((mut record, indexed)) = self.unit.incident_for_change(c.incident)? else {
            return Ok(TransitionOutcome::NotFound);
        };
        let before = serde_json::to_string(&record.regulatory).ok();
        let (result, action, text) = match &c.change {
            RegulatoryEdit::Flag(regime) => (
                record.regulatory.flag(*regime, c.at_ms),
                "incident.flag",
                format!("flagged {regime}: regulatory clocks started"),
            ),
            RegulatoryEdit::Filed(kind) => (
                record.regulatory.record_filing(*kind, c.at_ms),
                "incident.filed",
                format!("{kind} filed ({})", kind.citation()),
            ),
        };
        if let Err(e) = result {
            return Ok(TransitionOutcome::Rejected(e.to_string()));
        }
        record.updated_at_ms = record.updated_at_ms.max(now);
        incident::push_timeline(&mut record, now, &c.actor, text);
        // Watched until every deadline is met, then off the per-minute scan.
        self.unit.watch_regulated(&record, now);
        self.unit.put_incident(Some(&indexed), &mut record)?;
        self.unit.audit(socfed_runtime::audit::AuditDraft {
            at_ms: now,
            actor: c.actor.clone(),
            actor_cert: c.actor_cert.clone(),
            action: action.into(),
            target: c.incident.to_string(),
            before,
            after: serde_json::to_string(&record.regulatory).ok(),
        })?;
        changes.retain(|ch| ch.record.id != record.id);
        changes.push(IncidentChange {
            created: false,
            record: record.clone(),
        });
        Ok(TransitionOutcome::Done(Box::new(record)))
    }

    /// An operator's merge: refused unless both incidents exist, differ and are open.
    pub(super) fn merge_by_operator(
        &mut self,
        m: &Merge,
        changes: &mut Vec<IncidentChange>,
    ) -> Result<TransitionOutcome, StoreError> {
        if m.survivor == m.other {
            return Ok(TransitionOutcome::Rejected(
                "an incident cannot be merged into itself".into(),
            ));
        }
        let (Some(survivor), Some(other)) = (
            self.unit.incident(m.survivor)?,
            self.unit.incident(m.other)?,
        ) else {
            return Ok(TransitionOutcome::NotFound);
        };
        for record in [&survivor, &other] {
            if matches!(
                record.lifecycle.phase,
                crate::lifecycle::Phase::Closed { .. }
            ) {
                return Ok(TransitionOutcome::Rejected(format!(
                    "incident {} is closed; reopen it before merging",
                    record.id
                )));
            }
        }
        let reason = format!(
            "merged by {}: {}",
            m.actor,
            if m.reason.is_empty() {
                "same threat"
            } else {
                &m.reason
            }
        );
        self.merge_incidents(
            m.survivor,
            m.other,
            &reason,
            (&m.actor, &m.actor_cert),
            changes,
        )?;
        match self.unit.incident(m.survivor)? {
            Some(record) => Ok(TransitionOutcome::Done(Box::new(record))),
            None => Ok(TransitionOutcome::NotFound),
        }
    }

    /// Moves one site's sighting into a new incident. The new incident copies the original's
    /// techniques and indicators (which site contributed which is not tracked) and its
    /// lifecycle starts at `new`; the site's later revisions follow it via `local_refs`.
    pub(super) fn split(
        &mut self,
        s: &Split,
        changes: &mut Vec<IncidentChange>,
    ) -> Result<TransitionOutcome, StoreError> {
        let now = self.now;
        let Some((mut original, original_was)) = self.unit.incident_for_change(s.incident)? else {
            return Ok(TransitionOutcome::NotFound);
        };
        if matches!(
            original.lifecycle.phase,
            crate::lifecycle::Phase::Closed { .. }
        ) {
            return Ok(TransitionOutcome::Rejected(format!(
                "incident {} is closed; reopen it before splitting",
                original.id
            )));
        }
        let Some(position) = original.sightings.iter().position(|x| x.site == s.site) else {
            return Ok(TransitionOutcome::Rejected(format!(
                "incident {} has no sighting from site {}",
                original.id, s.site
            )));
        };
        if original.sightings.len() < 2 {
            return Ok(TransitionOutcome::Rejected(
                "the incident has only this sighting; there is nothing to split from".into(),
            ));
        }
        let mut sighting = original.sightings.remove(position);
        sighting.joined_because = format!("split from incident {} by {}", original.id, s.actor);
        let id = self.new_id();
        let reason = if s.reason.is_empty() {
            "not the same threat".to_string()
        } else {
            s.reason.clone()
        };
        let mut split = IncidentRecord {
            id,
            title: original.title.clone(),
            indicators: original.indicators.clone(),
            indicators_elided: original.indicators_elided,
            sightings: vec![sighting.clone()],
            created_at_ms: now,
            updated_at_ms: now,
            // The same priority rule as any incident at this severity.
            lifecycle: crate::lifecycle::IncidentLifecycle {
                techniques: original.lifecycle.techniques.clone(),
                ..crate::lifecycle::IncidentLifecycle::new(
                    sighting.local_severity,
                    original.tlp(),
                    now,
                )
            },
            timeline: Vec::new(),
            timeline_elided: 0,
            regulatory: crate::regulatory::RegulatoryClocks::new(),
            fingerprints: Vec::new(),
        };
        incident::push_timeline(
            &mut split,
            now,
            &s.actor,
            format!("split from incident {}: {reason}", original.id),
        );
        incident::push_timeline(
            &mut original,
            now,
            &s.actor,
            format!(
                "sighting of site {} split into incident {id}: {reason}",
                s.site
            ),
        );
        original.updated_at_ms = original.updated_at_ms.max(now);
        let local_ids = sighting.local_incident_ids();
        for local in &local_ids {
            self.unit.set_local_ref(&s.site, local, id);
        }
        self.relink(&s.site, &local_ids, original.id, id, &reason, &s.actor)?;
        // The site's share of each observable goes with its sighting.
        self.split_observables(original.id, id, &s.site)?;
        // The original loses the site's listing entry; the new incident gains it.
        self.unit.put_incident(Some(&original_was), &mut original)?;
        self.unit.put_incident(None, &mut split)?;
        self.unit.audit(socfed_runtime::audit::AuditDraft {
            at_ms: now,
            actor: s.actor.clone(),
            actor_cert: s.actor_cert.clone(),
            action: "incident.split".into(),
            target: original.id.to_string(),
            before: Some(s.site.to_string()),
            after: Some(id.to_string()),
        })?;
        for record in [original, split.clone()] {
            changes.retain(|c| c.record.id != record.id);
            changes.push(IncidentChange {
                created: record.id == id,
                record,
            });
        }
        Ok(TransitionOutcome::Done(Box::new(split)))
    }
}
