//! The site's playbooks: which directive kinds it runs and how. Each kind maps to one
//! allow-listed action: a command (absolute path, arguments filled from templates, no shell)
//! or an HTTP webhook with a JSON body whose string values are templates.
//!
//! Templates use `{name}` for the directive's parameters and `{directive_id}`,
//! `{incident_id}`, `{kind}`, `{site}`, `{issued_by}`; `{{` and `}}` are literal braces. A
//! parameter a template needs and the directive lacks refuses the directive, and so does a
//! value its rule ([`ParamRule`], declared in `params`, plain text by default) refuses.
//! A command that runs an interpreter takes no value from the hub unless the playbook opts in
//! ([`super::interpreters`]).

use super::interpreters;
pub use super::params::ParamRule;
use serde::{Deserialize, Serialize};
pub use socfed_runtime::cli::url_host as host_of;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResponseConfig {
    /// Record what each directive would run, and run nothing.
    pub dry_run: bool,
    /// Output kept (and reported to the hub) per action: the tail, in bytes.
    pub max_output_bytes: usize,
    pub playbooks: Vec<Playbook>,
}

impl Default for ResponseConfig {
    fn default() -> Self {
        Self {
            dry_run: false,
            max_output_bytes: 8 * 1024,
            playbooks: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// The directive kind this playbook runs, e.g. "block_indicator".
    pub kind: String,
    /// Program (absolute path) and arguments; each argument is a template.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// URL the action POSTs to (instead of a command).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// JSON body of the webhook; every string value in it is a template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Waits for `site-agent directives approve ID` before running.
    #[serde(default)]
    pub destructive: bool,
    /// Records what this playbook would run, and runs nothing (`[response] dry_run` does this
    /// for every playbook).
    #[serde(default)]
    pub dry_run: bool,
    /// What each parameter must look like; a parameter not listed must be plain text
    /// ([`ParamRule::Text`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, ParamRule>,
    /// Lets a command that runs an interpreter (sh, bash, python -c…) take values from the
    /// hub, as positional arguments after its fixed script only. Off by default.
    #[serde(default)]
    pub allow_shell_templates: bool,
}

/// Template variables whose values the agent itself makes or has validated (a ULID, the
/// site's own id, a playbook kind): they cannot carry anything but `[A-Za-z0-9_-]`.
const AGENT_VALUES: [&str; 3] = ["directive_id", "site", "kind"];

fn default_timeout() -> Duration {
    Duration::from_secs(30)
}

/// A concrete action, templates filled.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Command {
        argv: Vec<String>,
        timeout: Duration,
    },
    Webhook {
        url: String,
        body: serde_json::Value,
        timeout: Duration,
    },
}

impl Action {
    /// What runs, for the record and for dry runs. It reaches the audit log and the hub, so a
    /// webhook shows only its host: URLs and bodies often carry tokens.
    pub fn describe(&self) -> String {
        match self {
            Action::Command { argv, .. } => format!("command {argv:?}"),
            Action::Webhook { url, .. } => format!("POST to {}", host_of(url)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("missing parameter {0:?}")]
    Missing(String),
    #[error("unclosed '{{' in template {0:?}")]
    Unclosed(String),
    #[error("single '}}' in template {0:?}; write '}}}}' for a literal brace")]
    StrayClose(String),
    #[error("parameter {name:?} refused: {why}")]
    Refused { name: String, why: String },
}

/// Fills `{name}` from `vars`. With `vars = None` only checks the syntax.
pub fn render(
    template: &str,
    vars: Option<&BTreeMap<String, String>>,
) -> Result<String, TemplateError> {
    walk(template, &mut |name| match vars {
        Some(vars) => vars
            .get(name)
            .cloned()
            .ok_or_else(|| TemplateError::Missing(name.to_string())),
        None => Ok(String::new()),
    })
}

/// The variable names `template` uses.
pub fn names(template: &str) -> Result<Vec<String>, TemplateError> {
    let mut found = Vec::new();
    walk(template, &mut |name| {
        found.push(name.to_string());
        Ok(String::new())
    })?;
    Ok(found)
}

/// Copies `template`, replacing each `{name}` by what `fill` returns for it.
fn walk(
    template: &str,
    fill: &mut dyn FnMut(&str) -> Result<String, TemplateError>,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len());
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '}' => return Err(TemplateError::StrayClose(template.to_string())),
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err(TemplateError::Unclosed(template.to_string())),
                    }
                }
                out.push_str(&fill(&name)?);
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Every string in a JSON body, for the names its templates use.
fn json_strings<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    use serde_json::Value;
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| json_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| json_strings(v, out)),
        _ => {}
    }
}

fn render_json(
    value: &serde_json::Value,
    vars: Option<&BTreeMap<String, String>>,
) -> Result<serde_json::Value, TemplateError> {
    use serde_json::Value;
    Ok(match value {
        Value::String(s) => Value::String(render(s, vars)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| render_json(v, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), render_json(v, vars)?)))
                .collect::<Result<_, TemplateError>>()?,
        ),
        other => other.clone(),
    })
}

impl Playbook {
    /// The templates of this playbook: the command's arguments or the webhook body's strings.
    fn templates(&self) -> Vec<&str> {
        match &self.body {
            Some(body) if self.webhook.is_some() => {
                let mut out = Vec::new();
                json_strings(body, &mut out);
                out
            }
            _ => self.command.iter().map(String::as_str).collect(),
        }
    }

    /// `vars` narrowed to the names the templates use, each checked by its rule.
    fn checked(
        &self,
        vars: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, TemplateError> {
        let mut checked = BTreeMap::new();
        for template in self.templates() {
            for name in names(template)? {
                let value = vars
                    .get(&name)
                    .ok_or_else(|| TemplateError::Missing(name.clone()))?;
                let value = if AGENT_VALUES.contains(&name.as_str()) {
                    value.clone()
                } else {
                    self.params
                        .get(&name)
                        .unwrap_or(&ParamRule::Text)
                        .check(value)
                        .map_err(|why| TemplateError::Refused {
                            name: name.clone(),
                            why,
                        })?
                };
                checked.insert(name, value);
            }
        }
        Ok(checked)
    }

    /// The action with templates filled from `vars`, each value checked by its rule first.
    pub fn plan(&self, vars: &BTreeMap<String, String>) -> Result<Action, TemplateError> {
        let vars = &self.checked(vars)?;
        match &self.webhook {
            Some(url) => Ok(Action::Webhook {
                url: url.clone(),
                body: render_json(
                    self.body.as_ref().unwrap_or(&serde_json::Value::Null),
                    Some(vars),
                )?,
                timeout: self.timeout,
            }),
            None => Ok(Action::Command {
                argv: self
                    .command
                    .iter()
                    .map(|arg| render(arg, Some(vars)))
                    .collect::<Result<_, _>>()?,
                timeout: self.timeout,
            }),
        }
    }

    /// Checks the playbook without running it; the error names what to fix.
    pub fn validate(&self) -> Result<(), String> {
        let kind_ok = !self.kind.is_empty()
            && self.kind.len() <= 48
            && self
                .kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !kind_ok {
            return Err(format!(
                "kind {:?}: use 1-48 characters from a-z, 0-9 and _",
                self.kind
            ));
        }
        if super::AGENT_KINDS.contains(&self.kind.as_str()) {
            return Err(format!(
                "kind {:?} is handled by the agent itself",
                self.kind
            ));
        }
        match (&self.webhook, self.command.is_empty()) {
            (Some(_), false) => {
                return Err(format!(
                    "kind {:?}: give either command or webhook, not both",
                    self.kind
                ));
            }
            (None, true) => {
                return Err(format!(
                    "kind {:?}: give a command (absolute path first) or a webhook",
                    self.kind
                ));
            }
            (Some(url), true) => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(format!(
                        "kind {:?}: webhook must be an http(s) URL",
                        self.kind
                    ));
                }
                if let Some(body) = &self.body {
                    render_json(body, None).map_err(|e| format!("kind {:?}: {e}", self.kind))?;
                }
            }
            (None, false) => {
                // The program is fixed by the allow-list: no template, no PATH lookup.
                let program = &self.command[0];
                if !Path::new(program).is_absolute() || program.contains('{') {
                    return Err(format!(
                        "kind {:?}: the program must be a fixed absolute path, got {program:?}",
                        self.kind
                    ));
                }
                let mut templated = Vec::with_capacity(self.command.len());
                for arg in &self.command {
                    let used = names(arg).map_err(|e| format!("kind {:?}: {e}", self.kind))?;
                    templated.push(used.iter().any(|n| !AGENT_VALUES.contains(&n.as_str())));
                }
                interpreters::check(&self.command, &templated, self.allow_shell_templates)
                    .map_err(|e| format!("kind {:?}: {e}", self.kind))?;
            }
        }
        for (name, rule) in &self.params {
            let name_ok = !name.is_empty()
                && name.len() <= 32
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !name_ok || AGENT_VALUES.contains(&name.as_str()) {
                return Err(format!(
                    "kind {:?}: params.{name}: name a directive parameter (1-32 characters from a-z, 0-9 and _)",
                    self.kind
                ));
            }
            rule.validate()
                .map_err(|e| format!("kind {:?}: params.{name}: {e}", self.kind))?;
        }
        if self.timeout.is_zero() {
            return Err(format!("kind {:?}: timeout must be above zero", self.kind));
        }
        Ok(())
    }
}

impl ResponseConfig {
    pub fn playbook(&self, kind: &str) -> Option<&Playbook> {
        self.playbooks.iter().find(|p| p.kind == kind)
    }

    pub fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for playbook in &self.playbooks {
            playbook.validate()?;
            if !seen.insert(&playbook.kind) {
                return Err(format!("kind {:?} has two playbooks", playbook.kind));
            }
        }
        if self.max_output_bytes < 256 {
            return Err("max_output_bytes must be at least 256".into());
        }
        Ok(())
    }
}
