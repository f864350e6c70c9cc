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
//! - [`notes`]: notes on local incidents (the work log) and who reads a TLP:RED one.
//! - [`kpi`]: triage KPIs per tier, analyst, shift, rule and ISO week, from groups' histories.
//! - [`directive`]: what is recorded of each directive from the hub and of a running action.

pub mod aggregate;
pub mod alert;
/// The audit chain lives in the contract crate (the hub keeps one too).
pub use socfed_runtime::audit;
pub mod authz;
pub mod directive;
pub mod group;
pub mod incident;
pub mod kpi;
pub mod notes;
pub mod notify;
pub mod parse;
pub mod roster;
pub mod search;
pub mod sla;
pub mod triage;

use serde::{Deserialize, Serialize};

/// Analyst tier at the site; the ladder is Tier 1 → 2 → 3 → 4 → the SIRT hub (one type for
/// both services, in the contract).
pub use socfed_proto::vocab::Tier;

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

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Analyst(Tier::T1),
        Role::Analyst(Tier::T2),
        Role::Analyst(Tier::T3),
        Role::Analyst(Tier::T4),
        Role::Engineer,
        Role::SocManager,
        Role::Sensor,
    ];

    /// The role's name in the roster, the CLI and configuration.
    pub fn word(self) -> &'static str {
        match self {
            Role::Analyst(Tier::T1) => "tier1",
            Role::Analyst(Tier::T2) => "tier2",
            Role::Analyst(Tier::T3) => "tier3",
            Role::Analyst(Tier::T4) => "tier4",
            Role::Engineer => "engineer",
            Role::SocManager => "soc-manager",
            Role::Sensor => "sensor",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(word: &str) -> Result<Self, String> {
        Role::ALL.into_iter().find(|r| r.word() == word).ok_or_else(|| {
            format!(
                "role {word:?}: choose tier1, tier2, tier3, tier4, engineer, soc-manager or sensor"
            )
        })
    }
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
