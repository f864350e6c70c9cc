//! Case work on local incidents (issue 15): notes (the work log) and taking an alert group
//! back out of an incident. Each command checks the caller's role (`soc/authz`), runs the
//! pure rules (`soc/notes.rs`, `LocalIncident::exclude`, the triage machine) and writes the
//! change with its audit entry, and any revision owed to the hub, in one store unit.

use super::{Actor, SocService, json};
use crate::error::AgentError;
use crate::soc::Tier;
use crate::soc::authz::{self, Operation};
use crate::soc::group::AlertGroup;
use crate::soc::incident::LocalIncident;
use crate::soc::notes::{self, MAX_NOTES_PER_INCIDENT, Note, NoteView, Reader};
use crate::soc::triage::{Action, Status};
use socfed_proto::vocab::Tlp;
use ulid::Ulid;

fn no_incident(id: &str) -> AgentError {
    AgentError::NotFound(format!(
        "no local incident {id}; `site-agent incidents list` shows them"
    ))
}

impl SocService {
    /// Writes a note on a local incident as `actor`, at the agent's clock. Anyone who works
    /// alert groups may write one: the right to comment on a Tier 1 group (any analyst, or the
    /// SOC manager), since a note is the incident's comment; engineers and sensors read only.
    pub fn add_note(
        &self,
        actor: &Actor,
        incident_id: &str,
        text: &str,
        tlp: Option<Tlp>,
    ) -> Result<NoteView, AgentError> {
        authz::check(actor.role, Operation::Comment, Some(Tier::T1))?;
        let text = notes::checked_text(text).map_err(|e| AgentError::Invalid(e.to_string()))?;
        let now = self.now();
        self.store.unit(|unit| {
            let incident = unit
                .incident(incident_id)?
                .ok_or_else(|| no_incident(incident_id))?;
            if self.store.notes(incident_id, MAX_NOTES_PER_INCIDENT)?.len()
                >= MAX_NOTES_PER_INCIDENT
            {
                return Err(AgentError::Invalid(format!(
                    "{incident_id} already holds {MAX_NOTES_PER_INCIDENT} notes, the most one incident keeps"
                )));
            }
            let note = Note {
                id: Ulid::from_parts(u64::try_from(now).unwrap_or(0), rand_bits()),
                incident: incident.id.clone(),
                author: actor.name.clone(),
                at_ms: now,
                text,
                tlp,
            };
            unit.put_note(&note)?;
            self.audit(unit, actor, "incident.note", incident_id, None, json(&note))?;
            Ok(notes::view(&note, reader(actor), incident.owner.as_deref()))
        })
    }

    /// An incident's notes, oldest first, as `actor` may read them (TLP:RED redacted for
    /// everyone but its named recipients).
    pub fn incident_notes(
        &self,
        actor: &Actor,
        incident_id: &str,
    ) -> Result<Vec<NoteView>, AgentError> {
        authz::check(actor.role, Operation::ViewIncidents, None)?;
        let incident = self
            .store
            .incident(incident_id)?
            .ok_or_else(|| no_incident(incident_id))?;
        Ok(self
            .store
            .notes(incident_id, MAX_NOTES_PER_INCIDENT)?
            .iter()
            .map(|n| notes::view(n, reader(actor), incident.owner.as_deref()))
            .collect())
    }

    /// Takes an alert group out of a local incident: the rule of adding it (the promotion
    /// right at the group's tier) in reverse. The group goes back to the queue reopened
    /// (acknowledged at its tier, its assignee kept: someone was working it), the incident
    /// forgets what only that group brought, and an escalated incident queues its next
    /// revision as `add_to_incident` does. The last group cannot be taken out: an incident
    /// with nothing in it is closed, not emptied.
    pub fn remove_from_incident(
        &self,
        actor: &Actor,
        group: Ulid,
        incident_id: &str,
    ) -> Result<LocalIncident, AgentError> {
        let now = self.now();
        self.store.unit(|unit| {
            let mut incident = unit
                .incident(incident_id)?
                .ok_or_else(|| no_incident(incident_id))?;
            let old = unit
                .group(group)?
                .ok_or_else(|| AgentError::NotFound(format!("no alert group {group}")))?;
            authz::check(actor.role, Operation::Promote, Some(old.state.tier))?;
            let linked = matches!(&old.state.status, Status::Promoted { incident } if incident == incident_id);
            if !incident.groups.contains(&group) || !linked {
                return Err(AgentError::Invalid(format!(
                    "alert group {group} is not part of {incident_id}"
                )));
            }
            if incident.groups.len() == 1 {
                return Err(AgentError::Invalid(format!(
                    "alert group {group} is the last one of {incident_id}; close the incident instead (`site-agent incidents update {incident_id} --status closed`)"
                )));
            }
            let before = json(&incident);
            let mut reopened = old.clone();
            reopened.state = crate::soc::triage::apply(&old.state, &Action::Reopen, now)?.0;
            unit.put_group(Some(&old), &reopened, &self.settings.sla)?;
            let (was, is) = (json(&old.state), json(&reopened.state));
            self.audit(unit, actor, "alert.unlink", &group.to_string(), was, is)?;
            let mut remaining: Vec<AlertGroup> = Vec::new();
            for id in incident.groups.iter().filter(|g| **g != group) {
                if let Some(g) = unit.group(*id)? {
                    remaining.push(g);
                }
            }
            let refs: Vec<&AlertGroup> = remaining.iter().collect();
            incident.exclude(group, &refs, now);
            if incident.escalated() {
                self.queue_revision_or_defer(unit, &mut incident)?;
            }
            unit.put_incident(&incident)?;
            self.audit(
                unit,
                actor,
                "incident.remove-group",
                incident_id,
                before,
                json(&incident),
            )?;
            Ok(incident)
        })
    }
}

fn reader(actor: &Actor) -> Reader<'_> {
    Reader {
        name: &actor.name,
        role: actor.role,
    }
}

/// The random part of a note's ULID (two notes in the same millisecond stay apart).
fn rand_bits() -> u128 {
    ulid::Ulid::new().random()
}
