//! Which runbooks apply to what: a runbook's criteria and the one matching function.
//!
//! Every dimension a runbook names must hold (rule AND technique AND kind AND severity); within
//! a dimension any entry will do. A dimension left empty holds for everything, but a runbook
//! names at least one. Rule patterns are an exact rule id (`sigma:win-ps-encoded`) or a prefix
//! ending in `*` (`hunt:*` matches every hunt-raised alert). A technique matches itself and its
//! sub-techniques (`T1059` matches `T1059.001`; `T1059.001` matches only itself).
//!
//! Order: most specific first, then by id, so every surface lists the same runbooks in the
//! same order.

use super::{MAX_CRITERIA, MAX_RULE_BYTES, Runbook};
use crate::vocab::{InvalidField, Severity, Technique, bounds};
use std::fmt;

/// What a runbook is matched against.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum SubjectKind {
    /// An alert group at a site.
    AlertGroup,
    /// A site's local incident.
    LocalIncident,
    /// A cross-site incident at the hub.
    HubIncident,
}

impl SubjectKind {
    pub const ALL: [SubjectKind; 3] = [
        SubjectKind::AlertGroup,
        SubjectKind::LocalIncident,
        SubjectKind::HubIncident,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::AlertGroup => "alert-group",
            SubjectKind::LocalIncident => "local-incident",
            SubjectKind::HubIncident => "hub-incident",
        }
    }

    pub fn parse(word: &str) -> Result<Self, InvalidField> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(word.trim()))
            .ok_or_else(|| {
                InvalidField::new(
                    "kind",
                    format!("{word:?} is not one of alert-group, local-incident, hub-incident"),
                )
            })
    }
}

/// A rule id pattern: the exact id, or every id starting with a prefix (written `prefix*`).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub enum RulePattern {
    Exact(String),
    Prefix(String),
}

impl RulePattern {
    pub fn parse(raw: &str) -> Result<Self, InvalidField> {
        let raw = raw.trim();
        let (stem, prefix) = match raw.strip_suffix('*') {
            Some(stem) => (stem, true),
            None => (raw, false),
        };
        if stem.is_empty()
            || raw.len() > MAX_RULE_BYTES
            || stem.contains('*')
            || stem.chars().any(char::is_whitespace)
        {
            return Err(InvalidField::new(
                "rule",
                format!(
                    "a rule is an exact rule id or a prefix ending in '*' (hunt:*), 1 to {MAX_RULE_BYTES} bytes without spaces"
                ),
            ));
        }
        bounds::single_line("rule", stem)?;
        Ok(if prefix {
            Self::Prefix(stem.to_string())
        } else {
            Self::Exact(stem.to_string())
        })
    }

    fn matches(&self, rule_id: &str) -> bool {
        match self {
            Self::Exact(id) => id == rule_id,
            Self::Prefix(stem) => rule_id.starts_with(stem.as_str()),
        }
    }

    /// How specific a match is: an exact id above any prefix, a longer prefix above a shorter.
    fn weight(&self) -> u32 {
        match self {
            Self::Exact(_) => 1000,
            Self::Prefix(stem) => stem.len().min(999) as u32,
        }
    }
}

impl fmt::Display for RulePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(id) => f.write_str(id),
            Self::Prefix(stem) => write!(f, "{stem}*"),
        }
    }
}

impl TryFrom<String> for RulePattern {
    type Error = InvalidField;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<RulePattern> for String {
    fn from(p: RulePattern) -> Self {
        p.to_string()
    }
}

/// A runbook's match criteria.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Criteria {
    pub rules: Vec<RulePattern>,
    pub techniques: Vec<Technique>,
    pub kinds: Vec<SubjectKind>,
    pub min_severity: Option<Severity>,
}

impl Criteria {
    /// Reads criteria as the command line and the wire give them (words).
    pub fn parse(
        rules: &[String],
        techniques: &[String],
        kinds: &[String],
        min_severity: Option<Severity>,
    ) -> Result<Self, InvalidField> {
        let mut criteria = Self {
            rules: rules
                .iter()
                .map(|r| RulePattern::parse(r))
                .collect::<Result<_, _>>()?,
            techniques: super::techniques(techniques)?,
            kinds: kinds
                .iter()
                .map(|k| SubjectKind::parse(k))
                .collect::<Result<_, _>>()?,
            min_severity,
        };
        criteria.rules.sort();
        criteria.rules.dedup();
        criteria.techniques.sort();
        criteria.techniques.dedup();
        criteria.kinds.sort();
        criteria.kinds.dedup();
        criteria.check()?;
        Ok(criteria)
    }

    pub fn check(&self) -> Result<(), InvalidField> {
        for (field, n) in [
            ("rule", self.rules.len()),
            ("technique", self.techniques.len()),
            ("kind", self.kinds.len()),
        ] {
            if n > MAX_CRITERIA {
                return Err(InvalidField::new(
                    field,
                    format!("{n} entries is above the most a runbook names ({MAX_CRITERIA})"),
                ));
            }
        }
        if self.rules.is_empty()
            && self.techniques.is_empty()
            && self.kinds.is_empty()
            && self.min_severity.is_none()
        {
            return Err(InvalidField::new(
                "criteria",
                "a runbook names what it applies to: a rule, a technique, a kind or a minimum severity",
            ));
        }
        Ok(())
    }

    /// How specific this runbook's match of `subject` is, or `None` when it does not apply.
    pub fn score(&self, subject: &Subject<'_>) -> Option<u32> {
        let rule = if self.rules.is_empty() {
            0
        } else {
            self.rules
                .iter()
                .filter(|p| subject.rule_ids.iter().any(|r| p.matches(r)))
                .map(RulePattern::weight)
                .max()?
        };
        let technique = if self.techniques.is_empty() {
            0
        } else {
            self.techniques
                .iter()
                .filter_map(|t| technique_weight(t, subject.techniques))
                .max()?
        };
        if !self.kinds.is_empty() && !self.kinds.contains(&subject.kind) {
            return None;
        }
        let severity = match self.min_severity {
            None => 0,
            Some(min) if subject.severity >= min => 1,
            Some(_) => return None,
        };
        // A rule is the most specific dimension (a rule names one detection), then a
        // technique, then a kind, then a severity floor.
        Some(rule * 10_000 + technique * 100 + u32::from(!self.kinds.is_empty()) * 10 + severity)
    }
}

/// 2 for the same technique, 1 for a sub-technique of a runbook's technique.
fn technique_weight(runbook: &Technique, subject: &[Technique]) -> Option<u32> {
    let id = runbook.as_str();
    subject
        .iter()
        .filter_map(|t| {
            let t = t.as_str();
            if t == id {
                Some(2)
            } else if t.strip_prefix(id).is_some_and(|rest| rest.starts_with('.')) {
                Some(1)
            } else {
                None
            }
        })
        .max()
}

/// What runbooks are matched against: an alert group, a local incident or a hub incident.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub kind: SubjectKind,
    /// Its detection rule ids (a group has one; an incident has those of its groups).
    pub rule_ids: &'a [String],
    pub techniques: &'a [Technique],
    pub severity: Severity,
}

/// The runbooks that apply to `subject`, most specific first, then by id; retired runbooks
/// never apply. Each runbook appears once (pass the latest version of each).
pub fn matching<'r>(
    runbooks: impl IntoIterator<Item = &'r Runbook>,
    subject: &Subject<'_>,
) -> Vec<&'r Runbook> {
    let mut found: Vec<(u32, &Runbook)> = runbooks
        .into_iter()
        .filter(|r| !r.retired)
        .filter_map(|r| r.criteria.score(subject).map(|s| (s, r)))
        .collect();
    found.sort_by(|(sa, a), (sb, b)| {
        sb.cmp(sa)
            .then(a.origin.cmp(&b.origin).reverse())
            .then(a.id.cmp(&b.id))
    });
    found.into_iter().map(|(_, r)| r).collect()
}
