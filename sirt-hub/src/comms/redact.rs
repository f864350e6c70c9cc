//! TLP redaction: which of an incident's facts an audience may receive, and the record of
//! what was withheld.
//!
//! The rule, all of it:
//!
//! - If the incident's TLP is at or below the audience's [clearance](super::Audience::clearance),
//!   nothing is withheld.
//! - Otherwise the sensitive facts are withheld: indicators, ATT&CK techniques, site names,
//!   the IR lead's name and the title. Lists become empty, the IR lead becomes `None`, the title
//!   a neutral one made from the severity ([`neutral_title`]), and each field that had
//!   something in it gets one [`Redaction`] saying how many items went and why.
//! - Phase, severity, priority, the number of sites, the opening time and the deadlines are
//!   never withheld: every audience needs them to understand the update.
//! - The redacted facts are labelled [`message_tlp`]: the lower of the incident's TLP and the
//!   audience's clearance, which is the label the communication carries.
//!
//! The title is free text written by a site or the SIRT, and it carries the incident's marking
//! like every other fact: the title of a TLP:RED incident is RED text. So a communication
//! marked below the incident's TLP never carries it, whatever it says.

use super::Audience;
use super::template::tlp_label;
use serde::{Deserialize, Serialize};
use socfed_proto::vocab::{Severity, Tlp};
use ulid::Ulid;

/// What a communication may say about an incident, gathered by the caller. Lists are already
/// rendered for humans (`"ip:1.2.3.4"`, `"T1566 Phishing"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentFacts {
    pub id: Ulid,
    pub title: String,
    /// The lifecycle phase's name, e.g. "containment".
    pub phase: String,
    pub severity: Severity,
    /// e.g. "P1".
    pub priority: String,
    pub tlp: Tlp,
    pub ir_lead: Option<String>,
    pub sites: Vec<String>,
    /// How many sites are affected. Kept apart from `sites` because the count is never withheld
    /// while the names may be; [`redact`] raises it to `sites.len()` if the caller left it lower.
    pub site_count: usize,
    pub indicators: Vec<String>,
    pub techniques: Vec<String>,
    pub opened_at_ms: i64,
    /// Rendered lines, e.g. "GDPR notification due 2026-11-30 10:00 UTC".
    pub deadlines: Vec<String>,
}

/// One field withheld from a communication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redaction {
    /// The [`IncidentFacts`] field: "indicators", "techniques", "sites", "ir_lead" or "title".
    pub field: String,
    /// How many items were withheld (1 for the IR lead).
    pub count: usize,
    /// A sentence for the approver, e.g. "3 indicators withheld: incident is
    /// TLP:AMBER+STRICT, clients are cleared for TLP:GREEN".
    pub reason: String,
}

/// The label of a communication about an incident at `incident` for `audience`: the lower of
/// the two, since redaction removed whatever was above the audience's clearance.
pub fn message_tlp(incident: Tlp, audience: Audience) -> Tlp {
    incident.min(audience.clearance())
}

/// May `audience` receive what is marked `tlp`? The one rule every output for an audience
/// applies (communications here, notes in a report, `report/notes.rs`).
pub fn cleared(tlp: Tlp, audience: Audience) -> bool {
    tlp <= audience.clearance()
}

/// The facts `audience` may receive, and what was withheld (empty when nothing was).
pub fn redact(facts: &IncidentFacts, audience: Audience) -> (IncidentFacts, Vec<Redaction>) {
    let clearance = audience.clearance();
    let mut out = facts.clone();
    out.tlp = message_tlp(facts.tlp, audience);
    // The names are the only count the caller cannot get wrong; a lower count is stale.
    out.site_count = facts.site_count.max(facts.sites.len());
    if cleared(facts.tlp, audience) {
        return (out, Vec::new());
    }
    let why = format!(
        "incident is {}, {audience} are cleared for {}",
        tlp_label(facts.tlp),
        tlp_label(clearance)
    );
    let mut redactions = Vec::new();
    let mut withhold = |field: &str, count: usize, what: String| {
        if count > 0 {
            redactions.push(Redaction {
                field: field.to_owned(),
                count,
                reason: format!("{what} withheld: {why}"),
            });
        }
    };
    let n = std::mem::take(&mut out.indicators).len();
    withhold("indicators", n, counted(n, "indicator"));
    let n = std::mem::take(&mut out.techniques).len();
    withhold("techniques", n, counted(n, "ATT&CK technique"));
    let n = std::mem::take(&mut out.sites).len();
    withhold("sites", n, counted(n, "site name"));
    let n = usize::from(out.ir_lead.take().is_some());
    withhold("ir_lead", n, "the IR lead's name".to_owned());
    let title = std::mem::replace(&mut out.title, neutral_title(facts.severity));
    withhold(
        "title",
        usize::from(!title.trim().is_empty()),
        "the incident's title".to_owned(),
    );
    (out, redactions)
}

/// The title a communication carries in place of one above its marking: nothing but the
/// severity, which every audience receives anyway.
pub fn neutral_title(severity: Severity) -> String {
    format!("Security incident ({severity} severity)")
}

fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
