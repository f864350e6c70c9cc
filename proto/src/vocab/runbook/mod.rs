//! Runbooks: what to do next for an alert group or an incident, written by security engineers
//! in Markdown with checklist steps (`- [ ] step`), versioned (every edit is a new version,
//! history kept), matched to alert groups, local incidents and hub incidents by rule id,
//! ATT&CK technique, kind and severity (`criteria.rs`). The Markdown is read into plain
//! blocks the surfaces escape (`markdown.rs`); nothing here writes HTML or reads a clock.
//!
//! Both services keep runbooks: the hub's travel to every site over the federation stream,
//! a site's own stay local. One model serves both, and the wire conversion is here too.

mod criteria;
mod markdown;
#[cfg(test)]
mod tests;
mod wire;

pub use criteria::{Criteria, RulePattern, Subject, SubjectKind, matching};
pub use markdown::{Block, Span, SpanStyle, plain, render, steps, text_lines};
pub use wire::parse_id;

use super::{InvalidField, Severity, Technique, bounds};
use crate::UnixMillis;
use ulid::Ulid;

/// The longest title, in bytes.
pub const MAX_TITLE_BYTES: usize = 200;
/// The longest body, in bytes (a runbook is read at a glance, not a manual).
pub const MAX_BODY_BYTES: usize = 32 * 1024;
/// The most checklist steps one runbook has.
pub const MAX_STEPS: usize = 100;
/// The most rule patterns, techniques or kinds in one runbook's criteria.
pub const MAX_CRITERIA: usize = 32;
/// The longest rule id or prefix, in bytes.
pub const MAX_RULE_BYTES: usize = 128;
/// The most versions one runbook keeps; an edit past it is refused (retire and add anew).
pub const MAX_VERSIONS: u32 = 500;
/// The most live runbooks one store keeps (the hub's, or a site's own).
pub const MAX_RUNBOOKS: usize = 1000;

/// Where a runbook was written: at the hub (read-only at the sites) or at this site.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Hub,
    Site,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Hub => "hub",
            Origin::Site => "site",
        }
    }
}

/// One version of a runbook. `retired` versions end it: it matches nothing from then on,
/// and its history stays.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Runbook {
    pub id: Ulid,
    /// 1 for the first version, one more for each edit (and for the retirement).
    pub version: u32,
    pub origin: Origin,
    pub title: String,
    /// Markdown; checklist items are its steps, numbered in order from 1.
    pub body: String,
    pub criteria: Criteria,
    /// The operator who wrote this version (an operator name).
    pub author: String,
    pub at_ms: UnixMillis,
    pub retired: bool,
}

/// What an author gives for a new version: the rest (id, version, origin, author, time) is
/// the service's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub title: String,
    pub body: String,
    pub criteria: Criteria,
}

impl Draft {
    /// A draft from a Markdown file: its first `# ` heading is the title.
    pub fn from_markdown(body: &str, criteria: Criteria) -> Result<Self, InvalidField> {
        let title = body
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                InvalidField::new(
                    "body",
                    "a runbook starts with a title line '# Title' (a level-one Markdown heading)",
                )
            })?;
        let draft = Self {
            title: title.to_string(),
            body: body.to_string(),
            criteria,
        };
        draft.check()?;
        Ok(draft)
    }

    /// Every bound of a runbook's content.
    pub fn check(&self) -> Result<(), InvalidField> {
        if self.title.trim().is_empty() || self.title.len() > MAX_TITLE_BYTES {
            return Err(InvalidField::new(
                "title",
                format!("a title is 1 to {MAX_TITLE_BYTES} bytes"),
            ));
        }
        bounds::single_line("title", &self.title)?;
        if self.body.len() > MAX_BODY_BYTES {
            return Err(InvalidField::new(
                "body",
                format!(
                    "{} bytes is above the largest runbook ({MAX_BODY_BYTES} bytes)",
                    self.body.len()
                ),
            ));
        }
        bounds::multi_line("body", &self.body)?;
        let steps = steps(&self.body).len();
        if steps > MAX_STEPS {
            return Err(InvalidField::new(
                "body",
                format!("{steps} checklist steps is above the most a runbook has ({MAX_STEPS})"),
            ));
        }
        self.criteria.check()
    }
}

impl Runbook {
    /// The first version of a new runbook.
    pub fn first(id: Ulid, origin: Origin, draft: Draft, author: &str, at_ms: UnixMillis) -> Self {
        let Draft {
            title,
            body,
            criteria,
        } = draft;
        Self {
            id,
            version: 1,
            origin,
            title,
            body,
            criteria,
            author: author.to_string(),
            at_ms,
            retired: false,
        }
    }

    /// The next version with new content; a retired runbook takes no edits.
    pub fn edited(&self, draft: Draft, author: &str, at_ms: UnixMillis) -> Result<Self, Refusal> {
        let version = self.next_version()?;
        let Draft {
            title,
            body,
            criteria,
        } = draft;
        Ok(Self {
            version,
            title,
            body,
            criteria,
            author: author.to_string(),
            at_ms,
            ..self.clone()
        })
    }

    /// The next version, retired: it keeps the content and matches nothing.
    pub fn retire(&self, author: &str, at_ms: UnixMillis) -> Result<Self, Refusal> {
        let version = self.next_version()?;
        Ok(Self {
            version,
            author: author.to_string(),
            at_ms,
            retired: true,
            ..self.clone()
        })
    }

    fn next_version(&self) -> Result<u32, Refusal> {
        if self.retired {
            return Err(Refusal::Retired(self.id));
        }
        if self.version >= MAX_VERSIONS {
            return Err(Refusal::TooManyVersions(self.id));
        }
        Ok(self.version + 1)
    }

    /// The checklist steps of this version, in order (step N is `steps()[N - 1]`).
    pub fn steps(&self) -> Vec<String> {
        steps(&self.body)
    }

    /// Checks a runbook received from a peer (the hub's, at a site): the content's bounds
    /// and the version's.
    pub fn check(&self) -> Result<(), InvalidField> {
        Draft {
            title: self.title.clone(),
            body: self.body.clone(),
            criteria: self.criteria.clone(),
        }
        .check()?;
        if self.version == 0 || self.version > MAX_VERSIONS {
            return Err(InvalidField::new(
                "version",
                format!("a version is 1 to {MAX_VERSIONS}"),
            ));
        }
        bounds::name("author", &self.author)?;
        bounds::time("at_ms", self.at_ms)?;
        Ok(())
    }
}

/// Why a change to a runbook is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("runbook {0} is retired: add a new one instead")]
    Retired(Ulid),
    #[error("runbook {0} has {MAX_VERSIONS} versions, the most kept: retire it and add a new one")]
    TooManyVersions(Ulid),
}

/// A checklist's progress on one incident or alert group: the steps done, by number.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    /// Step numbers (from 1) ticked, ascending, each once.
    pub done: Vec<u32>,
}

impl Progress {
    /// Ticks or unticks step `step` of a checklist with `steps` steps.
    pub fn set(&mut self, step: u32, done: bool, steps: usize) -> Result<(), InvalidField> {
        if step == 0 || step as usize > steps {
            return Err(InvalidField::new(
                "step",
                format!("step {step} is not one of the runbook's steps (1 to {steps})"),
            ));
        }
        match (self.done.binary_search(&step), done) {
            (Ok(_), true) | (Err(_), false) => {}
            (Err(at), true) => self.done.insert(at, step),
            (Ok(at), false) => {
                self.done.remove(at);
            }
        }
        Ok(())
    }

    pub fn is_done(&self, step: u32) -> bool {
        self.done.binary_search(&step).is_ok()
    }

    /// "3/7": steps done of a checklist with `steps` steps (ticks past its end, left from an
    /// older version, do not count).
    pub fn summary(&self, steps: usize) -> String {
        let done = self.done.iter().filter(|&&s| s as usize <= steps).count();
        format!("{done}/{steps}")
    }
}

/// A minimum severity from its word (`--min-severity high`).
pub fn min_severity(word: &str) -> Result<Severity, InvalidField> {
    word.parse()
}

/// A technique list from the command line or the wire.
pub fn techniques(raw: &[String]) -> Result<Vec<Technique>, InvalidField> {
    raw.iter().map(|t| Technique::parse(t)).collect()
}
