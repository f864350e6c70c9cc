//! `[[webhooks]]` in either service's config: where to send which event kinds, and the files
//! holding the secrets (the HMAC key, auth header values, a corporate CA). The config names
//! files, never secret values, so it can be shown and kept in version control.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// One webhook sink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Names the sink in logs, metrics, the audit chain and the store (its delivery cursor):
    /// renaming it starts a new cursor.
    pub name: String,
    /// An `https://` URL. Redirects are not followed.
    pub url: String,
    /// The event kinds sent to this sink (the service's kinds; `config check` names them).
    pub events: Vec<String>,
    /// A file holding the HMAC-SHA256 key (at least 32 bytes; a trailing newline is not part
    /// of it).
    pub secret_file: PathBuf,
    /// A PEM file of CA certificates trusted for this sink besides the public roots (a
    /// corporate CA).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Headers sent with every delivery, each value read from the file named (a bearer token,
    /// an API key): `headers = { Authorization = "/etc/socfed/secrets/siem-auth" }`.
    #[serde(default)]
    pub headers: BTreeMap<String, PathBuf>,
    /// Time for one attempt: connecting, sending and the answer.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// An event not delivered this long after it happened is given up: logged, counted in
    /// `socfed_webhook_deliveries_total{outcome="given_up"}` and audited; later events follow.
    #[serde(default = "default_max_age", with = "humantime_serde")]
    pub max_age: Duration,
    /// Retry delays: exponential from `backoff_initial` to `backoff_max`, with jitter.
    #[serde(default = "default_backoff_initial", with = "humantime_serde")]
    pub backoff_initial: Duration,
    #[serde(default = "default_backoff_max", with = "humantime_serde")]
    pub backoff_max: Duration,
    /// Allows an `http://` URL whose host is a loopback address (a local relay); nothing else
    /// may go in clear.
    #[serde(default)]
    pub allow_http_loopback: bool,
}

fn default_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_max_age() -> Duration {
    Duration::from_secs(24 * 3600)
}

fn default_backoff_initial() -> Duration {
    Duration::from_secs(1)
}

fn default_backoff_max() -> Duration {
    Duration::from_secs(300)
}

/// The key every error names.
pub const KEY: &str = "webhooks";

/// Checks every sink: names unique, URLs https (or loopback http when allowed), kinds among
/// `kinds`, durations in range. Files are read at start ([`super::Sink::load`]).
pub fn validate(sinks: &[WebhookConfig], kinds: &[&str]) -> Result<(), crate::config::Invalid> {
    let mut names = std::collections::BTreeSet::new();
    for sink in sinks {
        let bad = |what: String| (KEY, format!("webhook {:?}: {what}", sink.name));
        if sink.name.is_empty()
            || sink.name.len() > 64
            || !sink
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad(
                "name must be 1 to 64 letters, digits, '-' or '_'".into()
            ));
        }
        if !names.insert(sink.name.as_str()) {
            return Err(bad("name used twice".into()));
        }
        check_url(&sink.url, sink.allow_http_loopback).map_err(bad)?;
        if sink.events.is_empty() {
            return Err(bad(format!("events is empty; kinds: {}", kinds.join(", "))));
        }
        for event in &sink.events {
            if !kinds.contains(&event.as_str()) {
                return Err(bad(format!(
                    "unknown event kind {event:?}; kinds: {}",
                    kinds.join(", ")
                )));
            }
        }
        for name in sink.headers.keys() {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(bad(format!("{name:?} is not a header name")));
            }
        }
        if !(Duration::from_millis(100)..=Duration::from_secs(300)).contains(&sink.timeout) {
            return Err(bad("timeout must be between 100ms and 5m".into()));
        }
        if sink.max_age < Duration::from_secs(1) {
            return Err(bad("max_age must be at least 1s".into()));
        }
        if sink.backoff_initial.is_zero() || sink.backoff_max < sink.backoff_initial {
            return Err(bad(
                "backoff_initial must be > 0 and backoff_max >= backoff_initial".into(),
            ));
        }
    }
    Ok(())
}

/// `example` (a service's `config example`) with its commented `[[webhooks]]` entry
/// uncommented, for the services' tests that the example they print is valid.
#[doc(hidden)]
pub fn uncomment_example(example: &str) -> Option<String> {
    let start = example.find("# [[webhooks]]")?;
    let entry: Vec<&str> = example[start..]
        .lines()
        .map(|l| l.strip_prefix("# ").unwrap_or(l))
        .collect();
    Some(format!("{}\n{}\n", &example[..start], entry.join("\n")))
}

fn check_url(url: &str, allow_http_loopback: bool) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("url: {e}"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if allow_http_loopback => {
            // `host_str` keeps an IPv6 address in brackets.
            let host = parsed.host_str().unwrap_or_default();
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err("url: http is allowed only to a loopback address".into())
            }
        }
        _ => Err(
            "url must be https:// (allow_http_loopback = true allows http to a loopback address)"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sink(url: &str) -> WebhookConfig {
        WebhookConfig {
            name: "siem".into(),
            url: url.into(),
            events: vec!["sla-breach".into()],
            secret_file: "/s".into(),
            ca_file: None,
            headers: BTreeMap::new(),
            timeout: default_timeout(),
            max_age: default_max_age(),
            backoff_initial: default_backoff_initial(),
            backoff_max: default_backoff_max(),
            allow_http_loopback: false,
        }
    }

    #[test]
    fn only_https_known_kinds_and_unique_names_pass() {
        let kinds = ["sla-breach", "unassigned-critical"];
        assert_eq!(validate(&[sink("https://siem.example/h")], &kinds), Ok(()));
        let refused = |s: WebhookConfig| validate(&[s], &kinds).is_err();
        assert!(refused(sink("http://siem.example/h")));
        assert!(refused(sink("ftp://siem.example/h")));
        let mut loopback = sink("http://127.0.0.1:9/h");
        assert!(refused(loopback.clone()));
        loopback.allow_http_loopback = true;
        assert_eq!(validate(&[loopback], &kinds), Ok(()));
        let mut remote = sink("http://siem.example/h");
        remote.allow_http_loopback = true;
        assert!(refused(remote));
        let mut unknown = sink("https://siem.example/h");
        unknown.events = vec!["everything".into()];
        assert!(refused(unknown));
        let twice = [sink("https://a.example/"), sink("https://b.example/")];
        assert!(validate(&twice, &kinds).is_err());
        let mut header = sink("https://siem.example/h");
        header.headers.insert("Bad Name".into(), "/x".into());
        assert!(refused(header));
    }
}
