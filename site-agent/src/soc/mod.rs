//! The local SOC's domain: pure logic over plain data. Nothing in `soc` touches sled, the
//! network or the clock; time comes in as an argument (Unix milliseconds).
//!
//! - [`alert`]: the normalised alert model every intake format is turned into.
//! - [`parse`]: JSON-line parsers for native, OCSF, Suricata EVE and Wazuh records.
//! - [`aggregate`]: folding repeats into alert groups.
//! - [`triage`]: the alert-group state machine (tiers, verdicts, escalation ladder).
//! - [`authz`]: which role may do what at the site.
//! - [`sla`]: SLA clocks per severity.
//! - [`roster`]: analysts, shifts with time zones, coverage, round-robin, job rotation.
//! - [`group`], [`incident`], [`notify`]: alert groups, local incidents (and the policy that
//!   sends them to the hub), notifications for the SOC manager.

pub mod aggregate;
pub mod alert;
/// The audit chain lives in the contract crate (the hub keeps one too).
pub use socfed_runtime::audit;
pub mod authz;
pub mod group;
pub mod incident;
pub mod notify;
pub mod parse;
pub mod roster;
pub mod sla;
pub mod triage;

use serde::{Deserialize, Serialize};

/// Analyst tier at the site; the ladder is Tier 1 → 2 → 3 → 4 → the SIRT hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    T1,
    T2,
    T3,
    T4,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::T1, Tier::T2, Tier::T3, Tier::T4];

    pub fn number(self) -> u8 {
        match self {
            Tier::T1 => 1,
            Tier::T2 => 2,
            Tier::T3 => 3,
            Tier::T4 => 4,
        }
    }

    pub fn from_number(n: u8) -> Option<Tier> {
        match n {
            1 => Some(Tier::T1),
            2 => Some(Tier::T2),
            3 => Some(Tier::T3),
            4 => Some(Tier::T4),
            _ => None,
        }
    }

    /// The next rung of the ladder; `None` above Tier 4 means the SIRT hub.
    pub fn next(self) -> Option<Tier> {
        Tier::from_number(self.number() + 1)
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tier {}", self.number())
    }
}

/// What a person may do at the site, from the site roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// An analyst of the given tier.
    Analyst(Tier),
    /// Security engineer: maintains sensors and integrations; reads, does not triage.
    Engineer,
    /// SOC manager: everything an analyst of tier 4 may do, plus roster edits.
    SocManager,
    /// A sensor or SIEM forwarder: may only submit alerts.
    Sensor,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Role::Analyst(t) => write!(f, "tier {} analyst", t.number()),
            Role::Engineer => f.write_str("security engineer"),
            Role::SocManager => f.write_str("SOC manager"),
            Role::Sensor => f.write_str("sensor"),
        }
    }
}
