//! Runbooks on the wire: the one conversion each way, every field checked on the way in
//! (a hub's runbook reaching a site, a draft reaching either service).

use super::{Criteria, Draft, Origin, Runbook};
use crate::pb;
use crate::vocab::{InvalidField, Severity, bounds};
use ulid::Ulid;

impl Runbook {
    pub fn to_wire(&self) -> pb::Runbook {
        pb::Runbook {
            id: self.id.to_string(),
            version: self.version,
            origin: self.origin.as_str().into(),
            title: self.title.clone(),
            body: self.body.clone(),
            rules: self.criteria.rules.iter().map(|r| r.to_string()).collect(),
            techniques: self
                .criteria
                .techniques
                .iter()
                .map(|t| t.as_str().to_string())
                .collect(),
            kinds: self
                .criteria
                .kinds
                .iter()
                .map(|k| k.as_str().to_string())
                .collect(),
            min_severity: self
                .criteria
                .min_severity
                .map_or(pb::Severity::Unspecified, Severity::to_wire)
                as i32,
            author: self.author.clone(),
            at_ms: self.at_ms,
            retired: self.retired,
        }
    }

    /// This version without its body: a line of a runbook's history (its number, author,
    /// time, state), the bodies asked for one version at a time.
    pub fn history_line(&self) -> pb::Runbook {
        pb::Runbook {
            body: String::new(),
            ..self.to_wire()
        }
    }

    /// A runbook from a peer, every bound checked.
    pub fn from_wire(wire: pb::Runbook) -> Result<Self, InvalidField> {
        let pb::Runbook {
            id,
            version,
            origin,
            title,
            body,
            rules,
            techniques,
            kinds,
            min_severity,
            author,
            at_ms,
            retired,
        } = wire;
        let id = parse_id(&id)?;
        let origin = match origin.as_str() {
            "hub" => Origin::Hub,
            "site" => Origin::Site,
            _ => return Err(InvalidField::new("origin", "not hub or site")),
        };
        let criteria = criteria(&rules, &techniques, &kinds, min_severity)?;
        let runbook = Self {
            id,
            version,
            origin,
            title,
            body,
            criteria,
            author,
            at_ms: bounds::time("at_ms", at_ms)?,
            retired,
        };
        runbook.check()?;
        Ok(runbook)
    }
}

impl Draft {
    /// A draft from the wire: the body's first `# ` line is its title.
    pub fn from_wire(wire: pb::RunbookDraft) -> Result<Self, InvalidField> {
        let pb::RunbookDraft {
            body,
            rules,
            techniques,
            kinds,
            min_severity,
        } = wire;
        let criteria = criteria(&rules, &techniques, &kinds, min_severity)?;
        Draft::from_markdown(&body, criteria)
    }
}

fn criteria(
    rules: &[String],
    techniques: &[String],
    kinds: &[String],
    min_severity: i32,
) -> Result<Criteria, InvalidField> {
    let min = if min_severity == pb::Severity::Unspecified as i32 {
        None
    } else {
        Some(Severity::from_wire(min_severity, "min_severity")?)
    };
    Criteria::parse(rules, techniques, kinds, min)
}

/// A runbook id (a ULID) from the wire or the command line.
pub fn parse_id(raw: &str) -> Result<Ulid, InvalidField> {
    Ulid::from_string(raw.trim())
        .map_err(|_| InvalidField::new("id", "not a runbook id (26 characters, a ULID)"))
}
