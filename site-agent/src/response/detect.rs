//! A sweep in detection mode (a run of a hub library hunt): each alert group it hits raises a
//! local alert through the agent's intake, so it aggregates, enters the Tier 1 queue with an
//! SLA clock and escalates like any detection.
//!
//! The hub's parameters are hostile input: the rule id must be `hunt:` and a ULID, the title
//! one bounded line, the severity, techniques and TLP the vocabulary's. Each alert's source
//! identity is (library hunt, run, matched group), so a retried sweep or a restart never
//! raises it twice (intake drops a source event taken in before). Groups that hunt alerts
//! made are never hits (`sweep::Sweep::hits_in`), so a hunt never feeds on its own alerts.

use crate::soc::group::AlertGroup;
use serde_json::json;
use socfed_proto::UnixMillis;
use socfed_proto::vocab::{Severity, Technique, Tlp};
use std::collections::BTreeMap;
use ulid::Ulid;

/// The rule id prefix of alerts raised by library hunts.
pub const RULE_PREFIX: &str = "hunt:";
/// The product hunt alerts name (part of their source identity).
pub const PRODUCT: &str = "socfed-hunt";
pub const MAX_TITLE_BYTES: usize = 120;
pub const MAX_TECHNIQUES: usize = 20;
/// Hosts, users and addresses copied from the matched group, each at most.
const MAX_ENTITIES: usize = 20;

/// Whether a group's rule is a library hunt's (its alerts are never hits).
pub fn is_hunt_rule(rule_id: &str) -> bool {
    rule_id.starts_with(RULE_PREFIX)
}

/// What a hit raises, from the sweep's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub library: Ulid,
    pub run: Ulid,
    pub title: String,
    pub severity: Severity,
    pub techniques: Vec<Technique>,
    pub tlp: Tlp,
}

impl Detection {
    /// `None` for an ordinary sweep; the detection for `mode = detect`; an error for anything
    /// else or a parameter out of bounds.
    pub fn from_params(params: &BTreeMap<String, String>) -> Result<Option<Self>, String> {
        match params.get("mode").map(String::as_str) {
            None | Some("") => return Ok(None),
            Some("detect") => {}
            Some(other) => return Err(format!("sweep mode {other:?} is not \"detect\"")),
        }
        let get = |name: &str| params.get(name).map_or("", String::as_str);
        let library = get("rule_id")
            .strip_prefix(RULE_PREFIX)
            .and_then(|id| Ulid::from_string(id).ok())
            .ok_or_else(|| format!("rule_id {:?} is not hunt:<library id>", get("rule_id")))?;
        let run = Ulid::from_string(get("hunt_id"))
            .map_err(|_| format!("hunt_id {:?} is not a ULID", get("hunt_id")))?;
        let title = get("title").trim();
        if title.is_empty() || title.len() > MAX_TITLE_BYTES || title.chars().any(char::is_control)
        {
            return Err(format!(
                "the title is one line of 1-{MAX_TITLE_BYTES} bytes without control characters"
            ));
        }
        let severity = get("severity")
            .parse::<Severity>()
            .map_err(|e| format!("severity: {}", e.problem))?;
        let tlp = get("tlp")
            .parse::<Tlp>()
            .map_err(|e| format!("tlp: {}", e.problem))?;
        let mut techniques = Vec::new();
        for raw in get("techniques")
            .split(',')
            .filter(|t| !t.trim().is_empty())
        {
            techniques.push(Technique::parse(raw.trim()).map_err(|e| format!("technique: {e}"))?);
        }
        if techniques.len() > MAX_TECHNIQUES {
            return Err(format!("at most {MAX_TECHNIQUES} techniques"));
        }
        Ok(Some(Self {
            library,
            run,
            title: title.to_string(),
            severity,
            techniques,
            tlp,
        }))
    }

    /// The native alert line `group`'s hit raises at `now`: the hunt's rule, name, severity,
    /// techniques and TLP; as evidence the matched indicators and the group's hosts, users and
    /// addresses, and the group in its source id.
    pub fn alert_line(&self, group: &AlertGroup, matched: &[String], now: UnixMillis) -> String {
        let take =
            |items: Vec<String>| -> Vec<String> { items.into_iter().take(MAX_ENTITIES).collect() };
        let techniques: Vec<&str> = self.techniques.iter().map(Technique::as_str).collect();
        json!({
            "id": format!("{}:{}:{}", self.library, self.run, group.id),
            "observed_at": now,
            "product": PRODUCT,
            "rule_id": format!("{RULE_PREFIX}{}", self.library),
            "rule_name": self.title,
            "severity": self.severity.as_str(),
            "techniques": techniques,
            "hosts": take(group.entities.hosts.clone()),
            "users": take(group.entities.users.clone()),
            "ips": take(group.entities.ips.iter().map(ToString::to_string).collect()),
            "indicators": take(matched.to_vec()),
            "tlp": self.tlp.as_str(),
        })
        .to_string()
    }
}

/// Where hits in detection mode raise their alerts: the agent's intake (`SocService`).
pub trait AlertIntake: Send + Sync {
    /// Takes native alert lines in as one batch; returns once they are durable.
    fn raise(&self, lines: &[String]) -> Result<(), String>;
}
