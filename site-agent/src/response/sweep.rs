//! IOC sweeps (threat hunts) at the site: what the hub asked for, and which local alert
//! groups match it. A sweep hunts either for any of its indicators or, when the hub sent a
//! search (`socfed_proto::search::params`, checked here as hostile input), for the groups
//! holding every term of it, through the alert search index.

use super::Hit;
use crate::soc::group::AlertGroup;
use crate::soc::search::group_terms;
use socfed_proto::UnixMillis;
use socfed_proto::search::{self, Query};
use socfed_proto::vocab::Indicator;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sweep {
    /// Normalised `kind:value`, as the indicator index keys them.
    pub indicators: Vec<String>,
    pub lookback_ms: i64,
    pub duration_ms: i64,
    /// The lookback is measured on when the site received an alert group (its id's time),
    /// not on when the source observed it; during a watch, every arriving alert counts.
    pub by_received: bool,
    /// A search sweep: groups with every term of this query (then `indicators` is empty).
    pub search: Option<Query>,
    /// A run of a hub library hunt: each group hit raises a local alert (`detect.rs`).
    pub detect: Option<super::detect::Detection>,
}

/// Longest description of a search a hit carries as what it matched.
const MAX_SEARCH_TEXT: usize = 200;

impl Sweep {
    pub fn from_params(params: &BTreeMap<String, String>) -> Result<Self, String> {
        let search = match search::params::from_params(params).map_err(|e| e.to_string())? {
            Some(raw) => Some(Query::parse(&raw).map_err(|e| format!("search: {e}"))?),
            None => None,
        };
        let mut indicators = Vec::new();
        if search.is_none() {
            let raw = params
                .get("indicators")
                .ok_or("the sweep names no indicators")?;
            for line in raw.lines().filter(|l| !l.trim().is_empty()) {
                let indicator = Indicator::parse_typed(line.trim())
                    .map_err(|e| format!("indicator {line:?}: {e}"))?;
                indicators.push(indicator.to_string());
            }
            if indicators.is_empty() {
                return Err("the sweep names no indicators".into());
            }
        }
        let number = |name: &str| -> Result<i64, String> {
            params.get(name).map_or(Ok(0), |v| {
                v.parse()
                    .map_err(|_| format!("{name} {v:?} is not a number"))
            })
        };
        let detect = super::detect::Detection::from_params(params)?;
        // A detection run raises alerts carrying the indicator it matched; a search matches
        // words, not indicators, so the two never travel together.
        if detect.is_some() && search.is_some() {
            return Err("a detection run cannot also be a search".into());
        }
        Ok(Self {
            indicators,
            lookback_ms: number("lookback_ms")?.max(0),
            duration_ms: number("duration_ms")?.max(0),
            by_received: match params.get("time").map(String::as_str) {
                None | Some("observed") => false,
                Some("received") => true,
                Some(other) => {
                    return Err(format!(
                        "time {other:?} is neither \"observed\" nor \"received\""
                    ));
                }
            },
            search,
            detect,
        })
    }

    /// The hits `group` gives this sweep: one per hunted indicator it saw since `since_ms`
    /// (on the sweep's time basis).
    pub fn hits_in(&self, group: &AlertGroup, since_ms: UnixMillis) -> Vec<Hit> {
        let at = if self.by_received {
            // Group ids are ULIDs made at intake: their time is when the site received the
            // group's first alert.
            i64::try_from(group.id.timestamp_ms()).unwrap_or(i64::MAX)
        } else {
            group.last_seen_ms
        };
        // Alerts a library hunt raised carry the indicator they matched: never hits of a
        // detection run, or a hunt would raise alerts on its own alerts. Other sweeps (an IR
        // hunt, a search from the hub) see them like any alert.
        if at < since_ms || (self.detect.is_some() && super::detect::is_hunt_rule(&group.rule_id)) {
            return Vec::new();
        }
        let local_incident_id = match &group.state.status {
            crate::soc::triage::Status::Promoted { incident } => incident.clone(),
            _ => String::new(),
        };
        let matched: Vec<String> = match &self.search {
            Some(query) => {
                let terms = group_terms(group);
                if query.terms().iter().all(|t| terms.contains(t)) {
                    vec![search::params::describe(query, MAX_SEARCH_TEXT)]
                } else {
                    Vec::new()
                }
            }
            None => group
                .indicators
                .iter()
                .map(ToString::to_string)
                .filter(|seen| self.indicators.contains(seen))
                .collect(),
        };
        matched
            .into_iter()
            .map(|indicator| Hit {
                indicator,
                group: group.id,
                title: group.title.clone(),
                alert_count: group.count,
                first_seen_ms: group.first_seen_ms,
                last_seen_ms: group.last_seen_ms,
                local_incident_id: local_incident_id.clone(),
            })
            .collect()
    }
}

/// Adds or refreshes hits (one per group and indicator); returns whether anything changed.
pub fn merge_hits(into: &mut Vec<Hit>, found: Vec<Hit>, max: usize) -> bool {
    let mut changed = false;
    for hit in found {
        let room = into.len() < max;
        match into
            .iter_mut()
            .find(|h| h.group == hit.group && h.indicator == hit.indicator)
        {
            Some(existing) if *existing != hit => {
                *existing = hit;
                changed = true;
            }
            Some(_) => {}
            None if room => {
                into.push(hit);
                changed = true;
            }
            None => {}
        }
    }
    changed
}
