//! How both CLIs show runbooks (`sirt-hub runbooks`, `site-agent runbooks`, and the runbooks
//! matched in `site-agent alerts show` / `incidents show`): one JSON shape, one table, one
//! terminal rendering of the Markdown (plain lines, each cleaned, steps as `[x] 3. text`).

use super::{OutputFormat, format_millis, print_json};
use crate::terminal::{Table, clean};
use socfed_proto::pb;
use socfed_proto::vocab::runbook::{render, text_lines};
use std::path::Path;

/// What a runbook applies to (at least one), as `runbooks add|update` of both CLIs take it.
#[derive(Debug, Clone, clap::Args)]
pub struct CriteriaArgs {
    /// A detection rule id, exact (`sigma:win-ps-enc`) or a prefix ending in `*` (`hunt:*`);
    /// repeatable.
    #[arg(long = "rule")]
    pub rules: Vec<String>,
    /// An ATT&CK technique (`T1059` also matches its sub-techniques); repeatable.
    #[arg(long = "technique")]
    pub techniques: Vec<String>,
    /// alert-group, local-incident or hub-incident; repeatable (none: all of them).
    #[arg(long = "kind")]
    pub kinds: Vec<String>,
    /// The lowest severity it applies to.
    #[arg(long)]
    pub min_severity: Option<String>,
}

impl CriteriaArgs {
    /// The draft of Markdown file `file` with these criteria, as the wire carries it (the
    /// service checks it).
    pub fn draft(self, file: &Path) -> anyhow::Result<pb::RunbookDraft> {
        use anyhow::Context;
        let body = std::fs::read_to_string(file)
            .with_context(|| format!("reading runbook {}", file.display()))?;
        let min_severity = match self.min_severity.as_deref() {
            None => pb::Severity::Unspecified,
            Some(word) => word
                .parse::<socfed_proto::vocab::Severity>()
                .map_err(|e| anyhow::anyhow!("--min-severity: {}", e.problem))?
                .to_wire(),
        };
        Ok(pb::RunbookDraft {
            body,
            rules: self.rules,
            techniques: self.techniques,
            kinds: self.kinds,
            min_severity: min_severity as i32,
        })
    }
}

/// The words of a wire severity (empty when unset).
fn severity(n: i32) -> &'static str {
    match pb::Severity::try_from(n) {
        Ok(pb::Severity::Informational) => "informational",
        Ok(pb::Severity::Low) => "low",
        Ok(pb::Severity::Medium) => "medium",
        Ok(pb::Severity::High) => "high",
        Ok(pb::Severity::Critical) => "critical",
        _ => "",
    }
}

/// A runbook as `-o json` shows it.
pub fn runbook_json(r: &pb::Runbook) -> serde_json::Value {
    serde_json::json!({
        "id": r.id,
        "version": r.version,
        "origin": r.origin,
        "title": r.title,
        "body": (!r.body.is_empty()).then(|| r.body.clone()),
        "rules": r.rules,
        "techniques": r.techniques,
        "kinds": r.kinds,
        "min_severity": (!severity(r.min_severity).is_empty()).then(|| severity(r.min_severity)),
        "author": r.author,
        "at": format_millis(r.at_ms),
        "retired": r.retired,
    })
}

/// What a runbook applies to, in one line.
pub fn criteria_line(r: &pb::Runbook) -> String {
    let mut parts = Vec::new();
    if !r.rules.is_empty() {
        parts.push(format!("rule {}", r.rules.join(",")));
    }
    if !r.techniques.is_empty() {
        parts.push(format!("technique {}", r.techniques.join(",")));
    }
    if !r.kinds.is_empty() {
        parts.push(format!("kind {}", r.kinds.join(",")));
    }
    let floor = severity(r.min_severity);
    if !floor.is_empty() {
        parts.push(format!("severity >= {floor}"));
    }
    parts.join("; ")
}

/// `runbooks list`: the latest version of each.
pub fn print_list(runbooks: &[pb::Runbook], output: OutputFormat) -> anyhow::Result<()> {
    match output {
        OutputFormat::Json => print_json(&runbooks.iter().map(runbook_json).collect::<Vec<_>>()),
        OutputFormat::Table => {
            let mut table = Table::new([
                "ID",
                "VERSION",
                "ORIGIN",
                "TITLE",
                "APPLIES TO",
                "AUTHOR",
                "STATE",
            ]);
            for r in runbooks {
                table.add_row(vec![
                    r.id.clone(),
                    r.version.to_string(),
                    r.origin.clone(),
                    r.title.clone(),
                    criteria_line(r),
                    r.author.clone(),
                    if r.retired { "retired" } else { "in force" }.to_string(),
                ]);
            }
            crate::outln!("{table}");
            Ok(())
        }
    }
}

/// A runbook's body as terminal lines, steps ticked where `done` says.
pub fn body_lines(body: &str, done: &[u32]) -> Vec<String> {
    text_lines(&render(body), |n| done.contains(&n))
        .into_iter()
        .map(|l| clean(&l).into_owned())
        .collect()
}

/// `runbooks show`, `runbooks add|update|retire`: one version, with its history when given.
pub fn print_one(
    runbook: &pb::Runbook,
    history: &[pb::Runbook],
    output: OutputFormat,
) -> anyhow::Result<()> {
    match output {
        OutputFormat::Json => {
            let mut value = runbook_json(runbook);
            if !history.is_empty() {
                value["history"] = history.iter().map(runbook_json).collect();
            }
            print_json(&value)
        }
        OutputFormat::Table => {
            crate::outln!(
                "Runbook {} version {} ({}){}\n  {}\n  applies to: {}\n  by {} at {}",
                runbook.id,
                runbook.version,
                runbook.origin,
                if runbook.retired { ", retired" } else { "" },
                clean(&runbook.title),
                clean(&criteria_line(runbook)),
                clean(&runbook.author),
                format_millis(runbook.at_ms)
            );
            for line in body_lines(&runbook.body, &[]) {
                crate::outln!("  {line}");
            }
            if !history.is_empty() {
                crate::outln!("History:");
                for v in history {
                    crate::outln!(
                        "  version {} by {} at {}{}",
                        v.version,
                        clean(&v.author),
                        format_millis(v.at_ms),
                        if v.retired { " (retired)" } else { "" }
                    );
                }
            }
            Ok(())
        }
    }
}

/// The runbooks matched to an alert group or incident, with its checklist progress ("3/7"),
/// as `alerts show` and `incidents show` print them (table output only).
pub fn print_matched(matched: &[pb::MatchedRunbook]) -> anyhow::Result<()> {
    if matched.is_empty() {
        return Ok(());
    }
    crate::outln!("Runbooks:");
    for m in matched {
        let Some(r) = &m.runbook else { continue };
        let done = m.done.iter().filter(|&&s| s <= m.steps).count();
        crate::outln!(
            "  {} {} v{} ({}) {}/{} steps done",
            r.id,
            clean(&r.title),
            r.version,
            if r.origin == "hub" {
                "from the hub"
            } else {
                "this site's"
            },
            done,
            m.steps
        );
        for line in body_lines(&r.body, &m.done) {
            crate::outln!("    {line}");
        }
    }
    Ok(())
}

/// A matched runbook as JSON, progress included.
pub fn matched_json(m: &pb::MatchedRunbook) -> serde_json::Value {
    let mut value = m.runbook.as_ref().map(runbook_json).unwrap_or_default();
    value["done"] = m.done.clone().into();
    value["steps"] = m.steps.into();
    value["progress"] = format!(
        "{}/{}",
        m.done.iter().filter(|&&s| s <= m.steps).count(),
        m.steps
    )
    .into();
    value
}
