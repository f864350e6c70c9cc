//! The roles an operator can hold at the hub, with their names in words (for messages) and in
//! kebab-case (for the roster, the CLI and stored data).
//!
//! A role says nothing about who the operator is: the identity comes from the operator's
//! certificate and the role from the hub's roster, both resolved at the edge.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Analyst tier: 1 is the front line, 4 the most senior analyst (one type for both
/// services, in the contract).
pub use socfed_proto::vocab::Tier;

/// What an operator may do at the hub; the rules are in [`super::authz`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HubRole {
    /// An analyst of the hub's SIRT.
    Analyst(Tier),
    /// Maintains detections and integrations; enriches incidents, never steers them.
    SecurityEngineer,
    /// Runs the analyst teams and decides who leads an incident.
    SocManager,
    /// Leads incident response: owns the phases, the closure and the classification.
    IrLead,
    /// Everything an IR lead may do, and appoints IR leads.
    Ciso,
    /// Runs the hub itself; may staff an incident but never steers it (separation of duties).
    Admin,
}

impl HubRole {
    pub const ALL: [HubRole; 9] = [
        HubRole::Analyst(Tier::T1),
        HubRole::Analyst(Tier::T2),
        HubRole::Analyst(Tier::T3),
        HubRole::Analyst(Tier::T4),
        HubRole::SecurityEngineer,
        HubRole::SocManager,
        HubRole::IrLead,
        HubRole::Ciso,
        HubRole::Admin,
    ];

    /// The name used in the roster, the CLI and configuration; [`str::parse`] reads it back.
    pub fn as_str(self) -> &'static str {
        match self {
            HubRole::Analyst(Tier::T1) => "tier1",
            HubRole::Analyst(Tier::T2) => "tier2",
            HubRole::Analyst(Tier::T3) => "tier3",
            HubRole::Analyst(Tier::T4) => "tier4",
            HubRole::SecurityEngineer => "engineer",
            HubRole::SocManager => "soc-manager",
            HubRole::IrLead => "ir-lead",
            HubRole::Ciso => "ciso",
            HubRole::Admin => "admin",
        }
    }

    /// Whether an operator with this role may be named an incident's IR lead: the IR lead and
    /// the CISO, the only roles that may review, close and reopen ([`super::authz`]). Analysts,
    /// engineers, SOC managers and admins staff an incident but are not accountable for it.
    pub fn may_lead(self) -> bool {
        matches!(self, HubRole::IrLead | HubRole::Ciso)
    }

    /// The role as the complement of "you are …": "a tier 1 analyst", "the CISO".
    pub fn with_article(self) -> String {
        match self {
            HubRole::Analyst(_) | HubRole::SecurityEngineer | HubRole::SocManager => {
                format!("a {self}")
            }
            HubRole::IrLead | HubRole::Admin => format!("an {self}"),
            HubRole::Ciso => format!("the {self}"),
        }
    }
}

impl fmt::Display for HubRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HubRole::Analyst(tier) => write!(f, "{tier} analyst"),
            HubRole::SecurityEngineer => f.write_str("security engineer"),
            HubRole::SocManager => f.write_str("SOC manager"),
            HubRole::IrLead => f.write_str("IR lead"),
            HubRole::Ciso => f.write_str("CISO"),
            HubRole::Admin => f.write_str("admin"),
        }
    }
}

/// A role name that is not one of [`HubRole::as_str`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a hub role; use one of tier1, tier2, tier3, tier4, engineer, soc-manager, \
     ir-lead, ciso, admin"
)]
pub struct UnknownRole(pub String);

impl std::str::FromStr for HubRole {
    type Err = UnknownRole;

    /// Reads a roster name, ignoring case and surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        HubRole::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}
