//! Local incidents: what a site makes of one or more alert groups, with status, owner and
//! severity, and the policy that decides when one goes to the SIRT hub. Pure.

use super::group::AlertGroup;
use super::{Role, Tier};
use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::{IncidentReport, Indicator, Severity, Technique, Tlp};
use ulid::Ulid;

/// A local incident's status is the one the federation contract carries to the hub: one type,
/// so the two cannot drift (stored as before: the same variants in the same order).
pub use socfed_proto::vocab::LocalStatus as IncidentStatus;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalIncident {
    pub id: String,
    pub title: String,
    pub status: IncidentStatus,
    pub owner: Option<String>,
    pub severity: Severity,
    pub tlp: Tlp,
    pub groups: Vec<Ulid>,
    pub hosts: Vec<String>,
    pub indicators: Vec<Indicator>,
    pub techniques: Vec<Technique>,
    pub rule_id: String,
    pub first_seen_ms: UnixMillis,
    pub created_at_ms: UnixMillis,
    pub updated_at_ms: UnixMillis,
    /// Why it went to the hub; `None` while local.
    pub escalation_reason: Option<String>,
    /// Revisions queued for the hub so far (0 while local).
    pub revision: u32,
    /// A revision (or the first escalation) could not be queued yet (outbox full): the SLA
    /// tick retries it.
    pub revision_pending: bool,
}

fn merge_sorted<T: Ord + Clone>(into: &mut Vec<T>, from: &[T]) {
    into.extend(from.iter().cloned());
    into.sort();
    into.dedup();
}

impl LocalIncident {
    /// A new incident from `groups` (at least one).
    pub fn from_groups(
        id: String,
        title: Option<String>,
        groups: &[&AlertGroup],
        owner: Option<String>,
        now_ms: UnixMillis,
    ) -> Option<Self> {
        let first = groups.first()?;
        let mut incident = Self {
            id,
            title: title
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| first.title.clone()),
            status: IncidentStatus::Open,
            owner,
            severity: first.severity,
            tlp: first.tlp,
            groups: Vec::new(),
            hosts: Vec::new(),
            indicators: Vec::new(),
            techniques: Vec::new(),
            rule_id: first.rule_id.clone(),
            first_seen_ms: first.first_seen_ms,
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
            escalation_reason: None,
            revision: 0,
            revision_pending: false,
        };
        for group in groups {
            incident.include(group, now_ms);
        }
        Some(incident)
    }

    /// Folds a group's current facts in; true when something the hub would see changed.
    pub fn include(&mut self, group: &AlertGroup, now_ms: UnixMillis) -> bool {
        let before = (
            self.hosts.len(),
            self.indicators.len(),
            self.techniques.len(),
            self.severity,
            self.groups.len(),
        );
        if !self.groups.contains(&group.id) {
            self.groups.push(group.id);
        }
        merge_sorted(&mut self.hosts, &group.entities.hosts);
        merge_sorted(&mut self.indicators, &group.indicators);
        merge_sorted(&mut self.techniques, &group.techniques);
        self.severity = self.severity.max(group.severity);
        self.tlp = self.tlp.max(group.tlp);
        self.first_seen_ms = self.first_seen_ms.min(group.first_seen_ms);
        let changed = before
            != (
                self.hosts.len(),
                self.indicators.len(),
                self.techniques.len(),
                self.severity,
                self.groups.len(),
            );
        if changed {
            self.updated_at_ms = now_ms;
        }
        changed
    }

    pub fn escalated(&self) -> bool {
        self.escalation_reason.is_some()
    }

    /// The report for the next revision sent to the hub.
    pub fn report(
        &self,
        limits: &socfed_proto::vocab::ReportLimits,
    ) -> Result<IncidentReport, socfed_proto::vocab::InvalidField> {
        // Bounded to the contract's limits, saying how much was left out, so an incident
        // that grew large can always still be reported.
        let mut hosts = String::new();
        let mut listed = 0;
        for host in &self.hosts {
            if hosts.len() + host.len() + 2 > limits.max_description_bytes / 2 {
                break;
            }
            if !hosts.is_empty() {
                hosts.push_str(", ");
            }
            hosts.push_str(host);
            listed += 1;
        }
        if listed < self.hosts.len() {
            hosts.push_str(&format!(" (+{} more)", self.hosts.len() - listed));
        }
        let description = format!(
            "{} alert group(s) at this site; status {}; hosts: {}",
            self.groups.len(),
            self.status.as_str(),
            if self.hosts.is_empty() {
                "none recorded".to_string()
            } else {
                hosts
            }
        );
        // Titles, hosts and owners come from logs, which an attacker can write: a control
        // character in them would make the hub refuse the report (and so keep the incident
        // from the SIRT). They travel as visible `\u{..}` escapes instead.
        use socfed_runtime::terminal::{clean, clean_multiline};
        let mut wire = socfed_proto::pb::IncidentReport {
            local_incident_id: clean(&self.id).into_owned(),
            revision: self.revision.max(1),
            title: clean(&self.title).into_owned(),
            description: clean_multiline(&description).into_owned(),
            severity: self.severity.to_wire() as i32,
            tlp: self.tlp.to_wire() as i32,
            rule_id: clean(&self.rule_id).into_owned(),
            techniques: self
                .techniques
                .iter()
                .take(limits.max_techniques)
                .map(ToString::to_string)
                .collect(),
            indicators: self
                .indicators
                .iter()
                .take(limits.max_indicators)
                .map(Indicator::to_wire)
                .collect(),
            // Alert times come from logs too; one outside what the hub accepts (1970–9999)
            // is sent as the nearest accepted time rather than losing the escalation.
            observed_at_ms: self
                .first_seen_ms
                .clamp(0, socfed_proto::vocab::bounds::MAX_TIME_MS),
            // Owners are roster names; one that is not (it cannot be set that way, but a
            // report must stay deliverable) is left out rather than refused by the hub.
            local_owner: self
                .owner
                .as_deref()
                .filter(|o| socfed_proto::vocab::bounds::name("owner", o).is_ok())
                .unwrap_or_default()
                .to_string(),
            local_status: self.status.to_wire() as i32,
        };
        // The whole report must fit its encoded limit too (it is stored whole at both ends):
        // the last indicators give way, the hub still gets the incident.
        while prost::Message::encoded_len(&wire) > limits.max_encoded_bytes
            && wire.indicators.pop().is_some()
        {}
        IncidentReport::from_wire(wire, limits)
    }
}

/// When incidents go to the hub without anyone asking (`[escalation]` in the agent config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EscalationPolicy {
    /// Incidents at or above this severity are escalated as soon as they exist.
    pub min_severity: Option<Severity>,
    /// Incidents touching at least this many distinct hosts are escalated.
    pub min_hosts: Option<usize>,
    /// Incidents created or updated by an analyst of this tier or above are escalated
    /// (a Tier 3/4 decision). The SOC manager counts as tier 4.
    pub decision_tier: Option<u8>,
}

impl Default for EscalationPolicy {
    fn default() -> Self {
        Self {
            min_severity: Some(Severity::Critical),
            min_hosts: Some(5),
            decision_tier: Some(3),
        }
    }
}

impl EscalationPolicy {
    /// Why `incident` should go to the hub now, if it should; `actor` is who last changed it.
    pub fn reason(&self, incident: &LocalIncident, actor: Option<Role>) -> Option<String> {
        if let Some(min) = self.min_severity.filter(|min| incident.severity >= *min) {
            return Some(format!(
                "policy: severity {} at or above {min}",
                incident.severity
            ));
        }
        if let Some(min) = self.min_hosts.filter(|min| incident.hosts.len() >= *min) {
            return Some(format!(
                "policy: {} hosts affected (threshold {min})",
                incident.hosts.len()
            ));
        }
        let tier = match actor {
            Some(Role::Analyst(tier)) => Some(tier.number()),
            Some(Role::SocManager) => Some(Tier::T4.number()),
            Some(Role::Engineer) | Some(Role::Sensor) | None => None,
        };
        match (self.decision_tier, tier) {
            (Some(min), Some(tier)) if tier >= min => Some(format!("policy: tier {tier} decision")),
            _ => None,
        }
    }
}

/// A new local incident id.
pub fn new_incident_id(now_ms: UnixMillis) -> String {
    format!(
        "INC-{}",
        Ulid::from_parts(now_ms.max(0) as u64, rand::random())
    )
}

impl LocalIncident {
    /// Takes group `removed` out (issue 15, unlinking): the hosts, indicators, techniques,
    /// severity, TLP and first sighting are folded again from the groups that stay, so nothing
    /// only the removed group brought lingers. False when it was not one of the incident's
    /// groups. The rule id stays the incident's (it names what opened it).
    pub fn exclude(
        &mut self,
        removed: Ulid,
        remaining: &[&AlertGroup],
        now_ms: UnixMillis,
    ) -> bool {
        if !self.groups.contains(&removed) {
            return false;
        }
        self.groups.retain(|g| *g != removed);
        self.hosts.clear();
        self.indicators.clear();
        self.techniques.clear();
        if let Some(first) = remaining.first() {
            self.severity = first.severity;
            self.tlp = first.tlp;
            self.first_seen_ms = first.first_seen_ms;
        }
        for group in remaining.iter().filter(|g| self.groups.contains(&g.id)) {
            merge_sorted(&mut self.hosts, &group.entities.hosts);
            merge_sorted(&mut self.indicators, &group.indicators);
            merge_sorted(&mut self.techniques, &group.techniques);
            self.severity = self.severity.max(group.severity);
            self.tlp = self.tlp.max(group.tlp);
            self.first_seen_ms = self.first_seen_ms.min(group.first_seen_ms);
        }
        self.updated_at_ms = now_ms;
        true
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use socfed_proto::vocab::LocalStatus;
    use socfed_proto::vocab::ReportLimits;

    /// An escalated incident at revision 2, contained, owned by ann.
    pub(crate) fn sample(id: &str) -> LocalIncident {
        LocalIncident {
            id: id.into(),
            title: "beacon".into(),
            status: IncidentStatus::Contained,
            owner: Some("ann".into()),
            severity: Severity::High,
            tlp: Tlp::Amber,
            groups: Vec::new(),
            hosts: Vec::new(),
            indicators: Vec::new(),
            techniques: Vec::new(),
            rule_id: String::new(),
            first_seen_ms: 1,
            created_at_ms: 1,
            updated_at_ms: 1,
            escalation_reason: Some("by hand".into()),
            revision: 2,
            revision_pending: false,
        }
    }

    /// The site's status and owner travel with every revision.
    #[test]
    fn the_report_carries_the_local_status_and_owner() {
        let mut local = sample("INC-2");
        let report = local.report(&ReportLimits::default()).expect("deliverable");
        assert_eq!(
            (
                report.local_status,
                report.local_owner.as_str(),
                report.revision
            ),
            (Some(LocalStatus::Contained), "ann", 2)
        );
        local.status = IncidentStatus::Closed;
        local.owner = None;
        let report = local.report(&ReportLimits::default()).expect("deliverable");
        assert_eq!(
            (report.local_status, report.local_owner.as_str()),
            (Some(LocalStatus::Closed), "")
        );
    }

    /// Alert titles, hosts and times come from logs an attacker can write: the report still
    /// goes to the hub (which refuses control characters and impossible times), escaped.
    #[test]
    fn text_and_times_from_logs_never_make_the_report_undeliverable() {
        let incident = LocalIncident {
            id: "INC-1".into(),
            title: "\x1b[2JALL CLEAR\x1b]52;c;aWQ=\x07".into(),
            status: IncidentStatus::Open,
            owner: Some("bob\r".into()),
            severity: Severity::High,
            tlp: Tlp::Amber,
            groups: Vec::new(),
            hosts: vec!["ws-1\x1b[31m".into()],
            indicators: Vec::new(),
            techniques: Vec::new(),
            rule_id: "rule\u{202e}".into(),
            first_seen_ms: i64::MAX,
            created_at_ms: 0,
            updated_at_ms: 0,
            escalation_reason: None,
            revision: 1,
            revision_pending: false,
        };
        let report = incident
            .report(&ReportLimits::default())
            .expect("deliverable");
        assert!(
            report.title.starts_with("\\u{1b}[2JALL CLEAR"),
            "{}",
            report.title
        );
        assert!(report.description.contains("ws-1\\u{1b}[31m"));
        assert_eq!(report.local_owner, "", "not a name: left out");
        assert_eq!(report.local_status, Some(LocalStatus::Open));
        assert_eq!(
            report.observed_at_ms,
            socfed_proto::vocab::bounds::MAX_TIME_MS
        );
    }
}
