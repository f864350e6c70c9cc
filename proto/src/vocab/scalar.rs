//! Severity and TLP: small closed enumerations with text and wire forms.

use super::InvalidField;
use crate::pb;
use std::fmt;

/// Incident severity, ordered from least to most severe (OCSF severity ids 1–5).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Informational,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "informational",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Reads a wire value; `UNSPECIFIED` and unknown numbers are errors.
    pub fn from_wire(value: i32, field: &str) -> Result<Self, InvalidField> {
        match pb::Severity::try_from(value) {
            Ok(pb::Severity::Informational) => Ok(Severity::Informational),
            Ok(pb::Severity::Low) => Ok(Severity::Low),
            Ok(pb::Severity::Medium) => Ok(Severity::Medium),
            Ok(pb::Severity::High) => Ok(Severity::High),
            Ok(pb::Severity::Critical) => Ok(Severity::Critical),
            Ok(pb::Severity::Unspecified) => Err(InvalidField::new(
                field,
                "severity is required (informational, low, medium, high or critical)",
            )),
            Err(_) => Err(InvalidField::new(
                field,
                format!("unknown severity number {value}"),
            )),
        }
    }

    pub fn to_wire(self) -> pb::Severity {
        match self {
            Severity::Informational => pb::Severity::Informational,
            Severity::Low => pb::Severity::Low,
            Severity::Medium => pb::Severity::Medium,
            Severity::High => pb::Severity::High,
            Severity::Critical => pb::Severity::Critical,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = InvalidField;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|sev| {
                sev.as_str().eq_ignore_ascii_case(s)
                    || (s == "info" && *sev == Severity::Informational)
            })
            .ok_or_else(|| {
                InvalidField::new(
                    "severity",
                    format!("{s:?} is not one of informational, low, medium, high, critical"),
                )
            })
    }
}

/// Traffic Light Protocol 2.0 marking: who may see the information.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Tlp {
    Clear,
    Green,
    Amber,
    AmberStrict,
    Red,
}

impl Tlp {
    /// Every marking, least restrictive first.
    pub const ALL: [Tlp; 5] = [
        Tlp::Clear,
        Tlp::Green,
        Tlp::Amber,
        Tlp::AmberStrict,
        Tlp::Red,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }

    /// Reads a wire value; `UNSPECIFIED` defaults to AMBER, the cautious choice for incident data.
    pub fn from_wire(value: i32, field: &str) -> Result<Self, InvalidField> {
        match pb::Tlp::try_from(value) {
            Ok(pb::Tlp::Unspecified) | Ok(pb::Tlp::Amber) => Ok(Tlp::Amber),
            Ok(pb::Tlp::Clear) => Ok(Tlp::Clear),
            Ok(pb::Tlp::Green) => Ok(Tlp::Green),
            Ok(pb::Tlp::AmberStrict) => Ok(Tlp::AmberStrict),
            Ok(pb::Tlp::Red) => Ok(Tlp::Red),
            Err(_) => Err(InvalidField::new(
                field,
                format!("unknown TLP number {value}"),
            )),
        }
    }

    pub fn to_wire(self) -> pb::Tlp {
        match self {
            Tlp::Clear => pb::Tlp::Clear,
            Tlp::Green => pb::Tlp::Green,
            Tlp::Amber => pb::Tlp::Amber,
            Tlp::AmberStrict => pb::Tlp::AmberStrict,
            Tlp::Red => pb::Tlp::Red,
        }
    }

    /// An optional marking from the wire (a note's own, issue 15): `UNSPECIFIED` is none.
    pub fn optional_from_wire(value: i32, field: &str) -> Result<Option<Self>, InvalidField> {
        if value == pb::Tlp::Unspecified as i32 {
            return Ok(None);
        }
        Self::from_wire(value, field).map(Some)
    }

    /// An optional marking on the wire: none is `UNSPECIFIED`.
    pub fn optional_to_wire(tlp: Option<Self>) -> i32 {
        tlp.map_or(pb::Tlp::Unspecified, Self::to_wire).into()
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Tlp {
    type Err = InvalidField;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lowered = s.to_ascii_lowercase();
        let name = lowered.strip_prefix("tlp:").unwrap_or(&lowered);
        match name {
            "clear" | "white" => Ok(Tlp::Clear),
            "green" => Ok(Tlp::Green),
            "amber" => Ok(Tlp::Amber),
            "amber+strict" | "amber-strict" => Ok(Tlp::AmberStrict),
            "red" => Ok(Tlp::Red),
            _ => Err(InvalidField::new(
                "tlp",
                format!("{s:?} is not one of clear, green, amber, amber+strict, red"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_round_trips_through_wire_and_text() {
        for sev in Severity::ALL {
            assert_eq!(Severity::from_wire(sev.to_wire() as i32, "s"), Ok(sev));
            assert_eq!(sev.as_str().parse::<Severity>(), Ok(sev));
        }
        assert!(Severity::from_wire(0, "s").is_err());
        assert!(Severity::from_wire(42, "s").is_err());
    }

    #[test]
    fn tlp_defaults_to_amber_and_rejects_unknown_numbers() {
        assert_eq!(Tlp::from_wire(0, "t"), Ok(Tlp::Amber));
        assert!(Tlp::from_wire(9, "t").is_err());
        assert_eq!("TLP:AMBER+STRICT".parse::<Tlp>(), Ok(Tlp::AmberStrict));
    }
}
