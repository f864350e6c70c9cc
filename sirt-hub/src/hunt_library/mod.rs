//! The hunt library: IOC sets kept at the hub (name, description, typed indicators, ATT&CK
//! techniques, severity, TLP, a schedule and a lookback), each run on its schedule as a hunt
//! to every enrolled site in detection mode, where a hit raises a local alert with the rule
//! id `hunt:<library id>`.
//!
//! Pure policy: the record, its checks, its versions ([`LibraryHunt::edited`]), when it is
//! due ([`schedule`]), the hunt a run sends ([`run`]) and its statistics ([`stats`]). The
//! caller passes who acts and the clock; nothing here reads a store or a clock. [`import`]
//! turns a STIX 2.1 bundle or a MISP event (read by `crate::intel::import`) into a spec.

pub mod import;
#[cfg(test)]
mod import_tests;
pub mod run;
pub mod schedule;
pub mod stats;
#[cfg(test)]
mod tests;

use crate::response::order::{DAY_S, MAX_HUNT_INDICATORS, MAX_LOOKBACK_S};
use serde::{Deserialize, Serialize};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::{Indicator, Severity, Technique, Tlp};
use ulid::Ulid;

/// A schedule runs at most every 5 minutes (each run is a directive to every site) ...
pub const MIN_INTERVAL_S: u64 = 300;
/// ... and at least every 30 days (a run's watch lasts until the next, and a hunt watches
/// at most 30 days).
pub const MAX_INTERVAL_S: u64 = 30 * DAY_S;
pub const MAX_NAME_BYTES: usize = 120;
pub const MAX_DESCRIPTION_BYTES: usize = 2000;
pub const MAX_TECHNIQUES: usize = 20;
/// Library hunts kept at most: each is read by every scheduler pass.
pub const MAX_LIBRARY: usize = 1000;
/// Runs kept per library hunt (with their hunt and sweeps): the statistics read them all; an
/// older run is removed when a new one is stored.
pub const KEEP_RUNS: usize = stats::MAX_STATS_RUNS;
/// The prefix of the rule id a library hunt's alerts carry at the sites.
pub const RULE_PREFIX: &str = "hunt:";

/// What an operator writes of a library hunt (adding or editing it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibrarySpec {
    pub name: String,
    pub description: String,
    pub indicators: Vec<Indicator>,
    pub techniques: Vec<Technique>,
    pub severity: Severity,
    pub tlp: Tlp,
    pub interval_s: u64,
    /// How far the first run searches stored alerts back; later runs search one interval.
    pub lookback_s: u64,
}

/// A library hunt as stored (`hunt_library`), its current version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryHunt {
    pub id: Ulid,
    /// 1 when added; each edit of what it hunts for stores the previous version
    /// (`hunt_library_versions`) and counts on.
    pub version: u32,
    pub name: String,
    pub description: String,
    pub indicators: Vec<Indicator>,
    pub techniques: Vec<Technique>,
    pub severity: Severity,
    pub tlp: Tlp,
    pub interval_s: u64,
    pub lookback_s: u64,
    pub enabled: bool,
    /// When the next run is due (while enabled): durable, advanced in the unit that stores a
    /// run, so a restart neither skips nor repeats one.
    pub next_due_ms: UnixMillis,
    pub runs: u64,
    pub last_run_ms: Option<UnixMillis>,
    pub created_at_ms: UnixMillis,
    pub created_by: String,
    pub updated_at_ms: UnixMillis,
    pub updated_by: String,
}

/// Why a library hunt was refused: said to the operator as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LibraryError(pub String);

fn refuse(why: impl Into<String>) -> LibraryError {
    LibraryError(why.into())
}

/// One line of text: trimmed, bounded, no control characters.
fn line(what: &str, raw: &str, max: usize, required: bool) -> Result<String, LibraryError> {
    let text = raw.trim();
    if required && text.is_empty() {
        return Err(refuse(format!("a library hunt needs a {what}")));
    }
    if text.len() > max {
        return Err(refuse(format!("the {what} is at most {max} bytes")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(refuse(format!("the {what} has control characters")));
    }
    Ok(text.to_string())
}

impl LibrarySpec {
    /// The spec checked and normalised: text trimmed, lists sorted and de-duplicated, every
    /// bound held. The first thing wrong is named.
    pub fn checked(mut self) -> Result<Self, LibraryError> {
        self.name = line("name", &self.name, MAX_NAME_BYTES, true)?;
        if self.name.contains('\n') {
            return Err(refuse("the name is one line"));
        }
        self.description = line(
            "description",
            &self.description,
            MAX_DESCRIPTION_BYTES,
            false,
        )?;
        self.indicators.sort();
        self.indicators.dedup();
        if self.indicators.is_empty() {
            return Err(refuse(
                "a library hunt needs at least one indicator (--ioc TYPE:VALUE)",
            ));
        }
        if self.indicators.len() > MAX_HUNT_INDICATORS {
            return Err(refuse(format!(
                "at most {MAX_HUNT_INDICATORS} indicators per library hunt"
            )));
        }
        self.techniques.sort();
        self.techniques.dedup();
        if self.techniques.len() > MAX_TECHNIQUES {
            return Err(refuse(format!(
                "at most {MAX_TECHNIQUES} techniques per library hunt"
            )));
        }
        if !(MIN_INTERVAL_S..=MAX_INTERVAL_S).contains(&self.interval_s) {
            return Err(refuse(
                "a library hunt runs every 5 minutes at most and every 30 days at least",
            ));
        }
        if self.lookback_s == 0 || self.lookback_s > MAX_LOOKBACK_S {
            return Err(refuse("the lookback is 1 second to 365 days"));
        }
        Ok(self)
    }
}

impl LibraryHunt {
    /// A new library hunt from a checked spec; an enabled one is due at once.
    pub fn added(spec: LibrarySpec, enabled: bool, by: &str, now: UnixMillis) -> Self {
        let LibrarySpec {
            name,
            description,
            indicators,
            techniques,
            severity,
            tlp,
            interval_s,
            lookback_s,
        } = spec;
        Self {
            id: Ulid::from_parts(u64::try_from(now).unwrap_or_default(), rand::random()),
            version: 1,
            name,
            description,
            indicators,
            techniques,
            severity,
            tlp,
            interval_s,
            lookback_s,
            enabled,
            next_due_ms: now,
            runs: 0,
            last_run_ms: None,
            created_at_ms: now,
            created_by: by.to_string(),
            updated_at_ms: now,
            updated_by: by.to_string(),
        }
    }

    /// The next version with `spec` (checked); its schedule kept, but never due later than
    /// one new interval from now.
    pub fn edited(&self, spec: LibrarySpec, by: &str, now: UnixMillis) -> Self {
        let next = Self::added(spec, self.enabled, by, now);
        Self {
            id: self.id,
            version: self.version.saturating_add(1),
            next_due_ms: self
                .next_due_ms
                .min(now.saturating_add(schedule::interval_ms(next.interval_s))),
            runs: self.runs,
            last_run_ms: self.last_run_ms,
            created_at_ms: self.created_at_ms,
            created_by: self.created_by.clone(),
            ..next
        }
    }

    /// Enabled (due at once) or disabled (no run until enabled again).
    pub fn switched(&self, enabled: bool, by: &str, now: UnixMillis) -> Self {
        Self {
            enabled,
            next_due_ms: if enabled && !self.enabled {
                now
            } else {
                self.next_due_ms
            },
            updated_at_ms: now,
            updated_by: by.to_string(),
            ..self.clone()
        }
    }

    /// The rule id its alerts carry at the sites.
    pub fn rule_id(&self) -> String {
        format!("{RULE_PREFIX}{}", self.id)
    }

    /// What it hunts for, as a spec (to edit it).
    pub fn spec(&self) -> LibrarySpec {
        LibrarySpec {
            name: self.name.clone(),
            description: self.description.clone(),
            indicators: self.indicators.clone(),
            techniques: self.techniques.clone(),
            severity: self.severity,
            tlp: self.tlp,
            interval_s: self.interval_s,
            lookback_s: self.lookback_s,
        }
    }
}

/// A spec as text arrives (the wire, the API, a form): each value parsed with the shared
/// vocabulary, then [`LibrarySpec::checked`].
#[derive(Debug, Clone, Default)]
pub struct RawSpec {
    pub name: String,
    pub description: String,
    pub indicators: Vec<String>,
    pub techniques: Vec<String>,
    pub severity: String,
    pub tlp: String,
    pub interval_s: u64,
    pub lookback_s: u64,
}

impl RawSpec {
    pub fn parse(self) -> Result<LibrarySpec, LibraryError> {
        let too_many = |what: &str, max: usize| refuse(format!("at most {max} {what}"));
        if self.indicators.len() > MAX_HUNT_INDICATORS * 2 {
            return Err(too_many("indicators", MAX_HUNT_INDICATORS));
        }
        if self.techniques.len() > MAX_TECHNIQUES * 2 {
            return Err(too_many("techniques", MAX_TECHNIQUES));
        }
        let mut indicators = Vec::new();
        for raw in self
            .indicators
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            indicators
                .push(Indicator::parse_typed(raw).map_err(|e| refuse(format!("indicator: {e}")))?);
        }
        let mut techniques = Vec::new();
        for raw in self
            .techniques
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            techniques.push(Technique::parse(raw).map_err(|e| refuse(format!("technique: {e}")))?);
        }
        let severity = self
            .severity
            .trim()
            .parse::<Severity>()
            .map_err(|e| refuse(format!("severity: {}", e.problem)))?;
        let tlp = match self.tlp.trim() {
            "" => Tlp::Amber,
            raw => raw
                .parse::<Tlp>()
                .map_err(|e| refuse(format!("tlp: {}", e.problem)))?,
        };
        LibrarySpec {
            name: self.name,
            description: self.description,
            indicators,
            techniques,
            severity,
            tlp,
            interval_s: self.interval_s,
            lookback_s: self.lookback_s,
        }
        .checked()
    }
}
