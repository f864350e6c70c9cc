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
//! - [`directive`]: what is recorded of each directive from the hub and of a running action.

pub mod aggregate;
pub mod alert;
/// The audit chain lives in the contract crate (the hub keeps one too).
pub use socfed_runtime::audit;
pub mod authz;
pub mod directive;
pub mod group;
pub mod incident;
pub mod notify;
pub mod parse;
pub mod roster;
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
