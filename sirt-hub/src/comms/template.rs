//! Drafting: one fixed plain-text template per audience, filled from the incident's facts
//! after redaction for that audience.
//!
//! Templates use `{name}` placeholders filled by [`render`]; only the template is scanned, so
//! braces in the facts or in the operator's note are copied as they are. Every body starts
//! with the TLP 2.0 label line (`TLP:AMBER+STRICT`), and the operator's note, if any, is
//! appended verbatim after the template under "Note from the SIRT:": the note is the approver's
//! to read, redaction cannot know what it says.

use super::Audience;
use super::redact::{IncidentFacts, Redaction, redact};
use serde::{Deserialize, Serialize};
use socfed_proto::vocab::Tlp;

/// A drafted communication, redacted for its audience and not yet recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftText {
    pub subject: String,
    pub body: String,
    /// The label of the body: [`super::message_tlp`] of the incident and the audience.
    pub tlp: Tlp,
    pub redactions: Vec<Redaction>,
}

/// The FIRST TLP 2.0 spelling: "TLP:CLEAR", "TLP:AMBER+STRICT".
pub fn tlp_label(tlp: Tlp) -> String {
    format!("TLP:{}", tlp.as_str().to_ascii_uppercase())
}

/// Drafts the update for `audience` from the incident's unredacted facts: redaction happens
/// here, so that the draft carries the record of what was withheld.
pub fn draft(audience: Audience, facts: &IncidentFacts, note: Option<&str>) -> DraftText {
    let (facts, redactions) = redact(facts, audience);
    let (subject_template, body_template) = templates(audience);
    let value = |name: &str| placeholder(name, &facts, &redactions);
    let subject = render(subject_template, value);
    let mut body = render(body_template, value);
    if let Some(note) = note.filter(|note| !note.trim().is_empty()) {
        body.push_str("\nNote from the SIRT:\n");
        body.push_str(note);
        body.push('\n');
    }
    DraftText {
        subject,
        body,
        tlp: facts.tlp,
        redactions,
    }
}

/// (subject, body) for each audience. Clients get no internals at all, whatever the TLP:
/// they need to know what happens to them, not how the attack works.
pub(super) fn templates(audience: Audience) -> (&'static str, &'static str) {
    match audience {
        Audience::Executives => (
            "[{tlp_label}] Incident update: {title} ({phase})",
            "{tlp_label}
Incident update for the executive team: {title}

Impact: {severity} severity, priority {priority}; {site_count} site(s) affected: {sites}.
Phase: {phase} (incident opened {opened_at}).
Incident lead: {ir_lead}.
Next steps: {next_steps}

Regulatory deadlines:
{deadlines}
",
        ),
        Audience::Board => (
            "[{tlp_label}] Board briefing: security incident {title}",
            "{tlp_label}
Board briefing: {title}

Since {opened_at} the security incident response team has been handling a {severity}-severity incident (priority {priority}) affecting {site_count} site(s). It is in the {phase} phase.
Next steps: {next_steps}

Regulatory obligations:
{deadlines}

The CISO will inform the board of any material development.
",
        ),
        Audience::Legal => (
            "[{tlp_label}] Legal review: regulatory deadlines for {title}",
            "{tlp_label}
Regulatory deadlines:
{deadlines}

Incident: {title} (reference {incident_id})
Opened: {opened_at}. Severity {severity}, priority {priority}, phase {phase}.
Sites affected ({site_count}): {sites}
Incident lead: {ir_lead}

Please confirm the notification obligations with the SIRT before any external statement.
",
        ),
        Audience::Clients => (
            "[{tlp_label}] Service notice: {title}",
            "{tlp_label}
Service notice: {title}

On {opened_at} we detected a security incident. Our security team is responding to it and is currently in the {phase} stage.
We will keep you informed, and we will contact you directly if you need to take any action.
",
        ),
        Audience::Regulators => (
            "[{tlp_label}] Incident notification: {title} (reference {incident_id})",
            "{tlp_label}
Incident notification

Reference: {incident_id}
Title: {title}
Detected: {opened_at}
Severity: {severity}; priority: {priority}
Current phase: {phase}
Sites affected: {site_count}
Observed ATT&CK techniques: {techniques}
Indicators of compromise: {indicators}

Applicable deadlines:
{deadlines}
",
        ),
    }
}

/// The value of one placeholder, or `None` for a name no template should use.
fn placeholder(name: &str, facts: &IncidentFacts, redactions: &[Redaction]) -> Option<String> {
    // An empty list reads differently when it was withheld: the reader should know there is
    // more, not conclude there is nothing.
    let list = |field: &str, items: &[String]| {
        if redactions.iter().any(|r| r.field == field) {
            "withheld at this TLP".to_owned()
        } else if items.is_empty() {
            "none recorded".to_owned()
        } else {
            items.join(", ")
        }
    };
    Some(match name {
        "tlp_label" => tlp_label(facts.tlp),
        "title" => facts.title.clone(),
        "incident_id" => facts.id.to_string(),
        "phase" => facts.phase.clone(),
        "severity" => facts.severity.to_string(),
        "priority" => facts.priority.clone(),
        "opened_at" => utc_minutes(facts.opened_at_ms),
        "site_count" => facts.site_count.to_string(),
        "sites" => list("sites", &facts.sites),
        "indicators" => list("indicators", &facts.indicators),
        "techniques" => list("techniques", &facts.techniques),
        "ir_lead" => match &facts.ir_lead {
            Some(name) => name.clone(),
            None if redactions.iter().any(|r| r.field == "ir_lead") => {
                "withheld at this TLP".to_owned()
            }
            None => "not yet assigned".to_owned(),
        },
        "deadlines" if facts.deadlines.is_empty() => "- none recorded".to_owned(),
        "deadlines" => facts
            .deadlines
            .iter()
            .map(|line| format!("- {line}"))
            .collect::<Vec<_>>()
            .join("\n"),
        "next_steps" => next_steps(&facts.phase).to_owned(),
        _ => return None,
    })
}

/// Replaces each `{name}` in `template` by `value(name)`. An unknown name, or a `{` without a
/// closing `}`, is copied as is, so a template bug shows in the output (the tests render every
/// template and look for leftover braces) instead of silently dropping text.
pub(super) fn render(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            rest = &rest[open..];
            break;
        };
        let name = &after[..close];
        match value(name) {
            Some(text) => out.push_str(&text),
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// "2026-11-30 10:00 UTC". An instant jiff cannot represent is shown in raw milliseconds
/// rather than refusing the draft: the date is informative, the communication still matters.
pub fn utc_minutes(at_ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(at_ms) {
        Ok(ts) => ts.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        Err(_) => format!("{at_ms} ms after 1970-01-01 00:00 UTC"),
    }
}

/// What the SIRT does next in the lifecycle phase named `phase` (the lifecycle's names).
fn next_steps(phase: &str) -> &'static str {
    match phase {
        "new" | "triage" => "the SIRT is confirming the scope and the impact of the incident.",
        "containment" => {
            "the SIRT is isolating the affected systems to stop the incident spreading."
        }
        "eradication" => "the SIRT is removing the attacker's access and the malicious artefacts.",
        "recovery" => "the affected systems are being restored and monitored closely.",
        "post-incident-review" => "the SIRT is reviewing the incident to prevent a recurrence.",
        "closed" => "the incident is closed; no further action is planned.",
        _ => "the SIRT will report on the next steps in its next update.",
    }
}
