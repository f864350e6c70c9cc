//! What a directive parameter may look like before it reaches a playbook's command line or
//! webhook body. A playbook declares a rule per parameter (`params = { path = { type = "path",
//! root = "/var/log" } }`); a value the rule refuses refuses the directive, and nothing runs.
//!
//! The hub already refuses control characters and a leading `-`, but a site does not take a
//! remote party's word for what lands on its own command lines: every value a template uses is
//! checked here again, declared or not. Parameters without a declared rule get [`ParamRule::Text`],
//! which refuses shell metacharacters and `..`, so an undeclared parameter can never carry
//! `; id` or walk out of a directory. Pure: no I/O.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::{Component, Path, PathBuf};

/// Longest value any rule accepts.
pub const MAX_VALUE_BYTES: usize = 1024;

/// Characters a [`ParamRule::Text`] value may not contain: every one has a meaning to some
/// shell (separators, substitution, quoting, globbing, redirection, history, comments).
const SHELL_METACHARACTERS: &[char] = &[
    ';', '|', '&', '$', '`', '<', '>', '(', ')', '\\', '\'', '"', '*', '?', '[', ']', '{', '}',
    '~', '!', '#',
];

/// The shape one parameter must have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ParamRule {
    /// An IPv4 or IPv6 address; passed on in canonical form.
    Ip,
    /// A host or domain name: dot-separated labels of a-z, 0-9, `-` and `_`, no label starting
    /// with `-`; passed on lower-cased.
    Host,
    /// An MD5, SHA-1 or SHA-256 digest in hex; passed on lower-cased.
    Hash,
    /// Any of `ip`, `host` or `hash` (the usual indicators a block list takes).
    Indicator,
    /// An absolute path under `root`, with no `.` or `..` component and no shell
    /// metacharacter. The text is checked, not the file system: a symbolic link under `root`
    /// can still point elsewhere.
    Path { root: PathBuf },
    /// Exactly one of the listed words.
    Word { one_of: Vec<String> },
    /// Plain text (the default): no control characters, no shell metacharacters, no `..`,
    /// not starting with `-`.
    Text,
}

impl ParamRule {
    /// Checks the rule itself (at config load); the error names what to fix.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            ParamRule::Path { root } if !root.is_absolute() || !is_normal(root) => {
                return Err(format!(
                    "root {} must be an absolute path without . or .. components",
                    root.display()
                ));
            }
            ParamRule::Word { one_of } => {
                if one_of.is_empty() {
                    return Err("one_of must list at least one word".into());
                }
                if let Some(bad) = one_of.iter().find(|w| !is_word(w)) {
                    return Err(format!(
                        "one_of entry {bad:?}: use 1-64 characters from a-z, A-Z, 0-9, _ and - (not starting with -)"
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The value to substitute, or why `value` is refused.
    pub fn check(&self, value: &str) -> Result<String, String> {
        if value.is_empty() || value.len() > MAX_VALUE_BYTES {
            return Err(format!("must be 1 to {MAX_VALUE_BYTES} bytes"));
        }
        if value.chars().any(char::is_control) {
            return Err("contains control characters".into());
        }
        if value.starts_with('-') {
            return Err("starts with '-', which a command could read as an option".into());
        }
        match self {
            ParamRule::Ip => ip(value).ok_or_else(|| "not an IP address".into()),
            ParamRule::Host => host(value).ok_or_else(|| "not a host name".into()),
            ParamRule::Hash => {
                hash(value).ok_or_else(|| "not an MD5, SHA-1 or SHA-256 hex digest".into())
            }
            ParamRule::Indicator => ip(value)
                .or_else(|| hash(value))
                .or_else(|| host(value))
                .ok_or_else(|| "not an IP address, host name or hash".into()),
            ParamRule::Path { root } => {
                if let Some(c) = value.chars().find(|c| SHELL_METACHARACTERS.contains(c)) {
                    return Err(format!("contains {c:?}, a shell metacharacter"));
                }
                let path = Path::new(value);
                if value.contains("..") || !is_normal(path) {
                    return Err("a path may not contain . or .. components".into());
                }
                if !path.is_absolute() || !path.starts_with(root) || path == root.as_path() {
                    return Err(format!("not a path under {}", root.display()));
                }
                Ok(value.to_string())
            }
            ParamRule::Word { one_of } => {
                if one_of.iter().any(|w| w == value) {
                    Ok(value.to_string())
                } else {
                    Err(format!("must be one of {}", one_of.join(", ")))
                }
            }
            ParamRule::Text => {
                if let Some(c) = value.chars().find(|c| SHELL_METACHARACTERS.contains(c)) {
                    return Err(format!(
                        "contains {c:?}, a shell metacharacter; declare the parameter's type in the playbook's params if it needs one"
                    ));
                }
                if value.contains("..") {
                    return Err("contains '..'".into());
                }
                Ok(value.to_string())
            }
        }
    }
}

/// Only normal components after the root (no `.`, no `..`).
fn is_normal(path: &Path) -> bool {
    path.components()
        .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
        && !path.as_os_str().to_string_lossy().contains("/./")
}

fn is_word(word: &str) -> bool {
    !word.is_empty()
        && word.len() <= 64
        && !word.starts_with('-')
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn ip(value: &str) -> Option<String> {
    value.parse::<IpAddr>().ok().map(|ip| ip.to_string())
}

fn host(value: &str) -> Option<String> {
    let name = value
        .strip_suffix('.')
        .unwrap_or(value)
        .to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (name.len() <= 253 && name.split('.').all(label_ok)).then_some(name)
}

fn hash(value: &str) -> Option<String> {
    (matches!(value.len(), 32 | 40 | 64) && value.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| value.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_refuses_shell_metacharacters_dot_dot_and_options() {
        for bad in [
            "/var/log/apache2; id",
            "a|b",
            "$(id)",
            "`id`",
            "../../etc/shadow",
            "x..y",
            "-rf",
            "a\nb",
            "",
        ] {
            assert!(ParamRule::Text.check(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            ParamRule::Text.check("ws-17 user@corp.example"),
            Ok("ws-17 user@corp.example".into())
        );
    }

    #[test]
    fn paths_stay_under_their_root() {
        let rule = ParamRule::Path {
            root: "/var/log".into(),
        };
        assert!(rule.validate().is_ok());
        assert_eq!(
            rule.check("/var/log/apache2/access.log"),
            Ok("/var/log/apache2/access.log".into())
        );
        for bad in [
            "/var/log/../../etc/shadow",
            "/var/log/./x",
            "/var/logs/x",
            "/etc/passwd",
            "var/log/x",
            "/var/log",
            "/var/log/apache2; id",
        ] {
            assert!(rule.check(bad).is_err(), "{bad:?}");
        }
        assert!(
            ParamRule::Path {
                root: "/var/../etc".into()
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn typed_rules_accept_their_shape_only() {
        assert_eq!(ParamRule::Ip.check("2001:DB8::1"), Ok("2001:db8::1".into()));
        assert!(ParamRule::Ip.check("203.0.113.7; id").is_err());
        assert_eq!(
            ParamRule::Host.check("WS-17.corp.example."),
            Ok("ws-17.corp.example".into())
        );
        assert!(ParamRule::Host.check("a..b").is_err());
        assert!(ParamRule::Host.check("a b").is_err());
        assert!(ParamRule::Hash.check(&"A".repeat(64)).is_ok());
        assert!(ParamRule::Hash.check(&"g".repeat(64)).is_err());
        assert_eq!(
            ParamRule::Indicator.check("203.0.113.7"),
            Ok("203.0.113.7".into())
        );
        assert!(ParamRule::Indicator.check("evil.example/x").is_err());
        let words = ParamRule::Word {
            one_of: vec!["quick".into(), "full".into()],
        };
        assert!(words.check("full").is_ok());
        assert!(words.check("fulls").is_err());
        assert!(ParamRule::Word { one_of: vec![] }.validate().is_err());
    }
}
