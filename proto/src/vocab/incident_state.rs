//! What flows between a site and the hub about an escalated local incident besides the report
//! itself: the site's own status of it ([`LocalStatus`], carried by every report revision), and
//! the hub's state of the hub incident it became part of ([`IncidentState`], sent back to the
//! site on the federation stream). Both are converted here once, range-checked, so neither end
//! stores a value the other could not have meant.

use super::{InvalidField, bounds};
use crate::pb;
use std::fmt;

/// A site's status of one of its local incidents (its SOC decides it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LocalStatus {
    Open,
    Contained,
    Resolved,
    Closed,
}

impl LocalStatus {
    pub const ALL: [LocalStatus; 4] = [
        LocalStatus::Open,
        LocalStatus::Contained,
        LocalStatus::Resolved,
        LocalStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LocalStatus::Open => "open",
            LocalStatus::Contained => "contained",
            LocalStatus::Resolved => "resolved",
            LocalStatus::Closed => "closed",
        }
    }

    /// Reads a wire value. `UNSPECIFIED` is `None` (an agent older than the field said
    /// nothing); a number this build does not know is refused, never guessed.
    pub fn from_wire(value: i32, field: &str) -> Result<Option<Self>, InvalidField> {
        match pb::LocalStatus::try_from(value) {
            Ok(pb::LocalStatus::Unspecified) => Ok(None),
            Ok(pb::LocalStatus::Open) => Ok(Some(LocalStatus::Open)),
            Ok(pb::LocalStatus::Contained) => Ok(Some(LocalStatus::Contained)),
            Ok(pb::LocalStatus::Resolved) => Ok(Some(LocalStatus::Resolved)),
            Ok(pb::LocalStatus::Closed) => Ok(Some(LocalStatus::Closed)),
            Err(_) => Err(InvalidField::new(
                field,
                format!(
                    "unknown local status number {value}; this hub knows open, contained, resolved and closed (upgrade the hub if the site's agent is newer)"
                ),
            )),
        }
    }

    pub fn to_wire(self) -> pb::LocalStatus {
        match self {
            LocalStatus::Open => pb::LocalStatus::Open,
            LocalStatus::Contained => pb::LocalStatus::Contained,
            LocalStatus::Resolved => pb::LocalStatus::Resolved,
            LocalStatus::Closed => pb::LocalStatus::Closed,
        }
    }
}

impl fmt::Display for LocalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The phase of a hub incident, as the hub tells a site (NIST SP 800-61).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HubPhase {
    New,
    Triage,
    Containment,
    Eradication,
    Recovery,
    PostIncident,
    Closed,
}

impl HubPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            HubPhase::New => "new",
            HubPhase::Triage => "triage",
            HubPhase::Containment => "containment",
            HubPhase::Eradication => "eradication",
            HubPhase::Recovery => "recovery",
            HubPhase::PostIncident => "post-incident",
            HubPhase::Closed => "closed",
        }
    }

    fn from_wire(value: i32, field: &str) -> Result<Self, InvalidField> {
        match pb::IncidentStatus::try_from(value) {
            Ok(pb::IncidentStatus::New) => Ok(HubPhase::New),
            Ok(pb::IncidentStatus::Triage) => Ok(HubPhase::Triage),
            Ok(pb::IncidentStatus::Containment) => Ok(HubPhase::Containment),
            Ok(pb::IncidentStatus::Eradication) => Ok(HubPhase::Eradication),
            Ok(pb::IncidentStatus::Recovery) => Ok(HubPhase::Recovery),
            Ok(pb::IncidentStatus::PostIncident) => Ok(HubPhase::PostIncident),
            Ok(pb::IncidentStatus::Closed) => Ok(HubPhase::Closed),
            Ok(pb::IncidentStatus::Unspecified) | Err(_) => Err(InvalidField::new(
                field,
                format!("{value} is not a hub incident phase this agent knows"),
            )),
        }
    }

    pub fn to_wire(self) -> pb::IncidentStatus {
        match self {
            HubPhase::New => pb::IncidentStatus::New,
            HubPhase::Triage => pb::IncidentStatus::Triage,
            HubPhase::Containment => pb::IncidentStatus::Containment,
            HubPhase::Eradication => pb::IncidentStatus::Eradication,
            HubPhase::Recovery => pb::IncidentStatus::Recovery,
            HubPhase::PostIncident => pb::IncidentStatus::PostIncident,
            HubPhase::Closed => pb::IncidentStatus::Closed,
        }
    }
}

impl fmt::Display for HubPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The hub's state of one of a site's local incidents (see `IncidentState` in
/// `federation.proto`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IncidentState {
    /// Position in the site's sequence of states (1 ..= [`bounds::MAX_SEQ`]).
    pub seq: u64,
    pub local_incident_id: String,
    pub hub_incident: ulid::Ulid,
    pub phase: HubPhase,
    /// Why it was closed; empty while open.
    pub resolution: String,
    /// `None` while the hub has assigned nobody.
    pub ir_lead: Option<String>,
    pub updated_at_ms: crate::UnixMillis,
}

/// Longest resolution text (`duplicate of` and a ULID fit with room to spare).
const MAX_RESOLUTION_BYTES: usize = 128;

impl IncidentState {
    /// Converts and checks a state from the hub. Every field is destructured so that a new
    /// field in the contract fails to compile here until someone decides what it means.
    pub fn from_wire(wire: pb::IncidentState) -> Result<Self, InvalidField> {
        let pb::IncidentState {
            seq,
            local_incident_id,
            hub_incident_id,
            phase,
            resolution,
            ir_lead,
            updated_at_ms,
        } = wire;
        let seq = bounds::seq("seq", seq)?;
        if local_incident_id.is_empty() || local_incident_id.len() > 128 {
            return Err(InvalidField::new(
                "local_incident_id",
                "must be 1 to 128 characters",
            ));
        }
        bounds::single_line("local_incident_id", &local_incident_id)?;
        let hub_incident = ulid::Ulid::from_string(&hub_incident_id)
            .map_err(|_| InvalidField::new("hub_incident_id", "not a hub incident id (a ULID)"))?;
        if resolution.len() > MAX_RESOLUTION_BYTES {
            return Err(InvalidField::new(
                "resolution",
                format!("longer than {MAX_RESOLUTION_BYTES} bytes"),
            ));
        }
        bounds::single_line("resolution", &resolution)?;
        let ir_lead = match ir_lead.as_str() {
            "" => None,
            name => Some(bounds::name("ir_lead", name)?.to_string()),
        };
        Ok(Self {
            seq,
            local_incident_id,
            hub_incident,
            phase: HubPhase::from_wire(phase, "phase")?,
            resolution,
            ir_lead,
            updated_at_ms: bounds::time("updated_at_ms", updated_at_ms)?,
        })
    }

    pub fn to_wire(&self) -> pb::IncidentState {
        pb::IncidentState {
            seq: self.seq,
            local_incident_id: self.local_incident_id.clone(),
            hub_incident_id: self.hub_incident.to_string(),
            phase: self.phase.to_wire() as i32,
            resolution: self.resolution.clone(),
            ir_lead: self.ir_lead.clone().unwrap_or_default(),
            updated_at_ms: self.updated_at_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_status_round_trips_and_refuses_unknown_numbers() {
        for status in LocalStatus::ALL {
            assert_eq!(
                LocalStatus::from_wire(status.to_wire() as i32, "s"),
                Ok(Some(status))
            );
        }
        assert_eq!(LocalStatus::from_wire(0, "s"), Ok(None));
        let err = LocalStatus::from_wire(99, "local_status").expect_err("unknown");
        assert_eq!(err.field, "local_status");
        assert!(
            err.problem.contains("unknown local status number 99"),
            "{err}"
        );
    }

    fn state() -> IncidentState {
        IncidentState {
            seq: 3,
            local_incident_id: "INC-1".into(),
            hub_incident: ulid::Ulid::from_parts(7, 9),
            phase: HubPhase::Containment,
            resolution: String::new(),
            ir_lead: Some("ines".into()),
            updated_at_ms: 1_700_000_000_000,
        }
    }

    #[test]
    fn incident_states_round_trip_and_bad_fields_are_named() {
        assert_eq!(IncidentState::from_wire(state().to_wire()), Ok(state()));
        for (field, edit) in [
            (
                "seq",
                (|w: &mut pb::IncidentState| w.seq = 0) as fn(&mut pb::IncidentState),
            ),
            ("hub_incident_id", |w| w.hub_incident_id = "nope".into()),
            ("phase", |w| w.phase = 0),
            ("phase", |w| w.phase = 77),
            ("ir_lead", |w| w.ir_lead = "<script>".into()),
            ("resolution", |w| w.resolution = "ok\x1b[2J".into()),
            ("local_incident_id", |w| w.local_incident_id.clear()),
            ("updated_at_ms", |w| w.updated_at_ms = -5),
        ] {
            let mut wire = state().to_wire();
            edit(&mut wire);
            let err = IncidentState::from_wire(wire).expect_err(field);
            assert_eq!(err.field, field);
        }
    }
}
