//! The config table of a web surface (`[dashboard]` at the hub, `[web]` at a site agent):
//! where it listens, how long a session lasts, the address people open. Absent, the surface
//! is off.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    pub listen: SocketAddr,
    /// How long a browser stays signed in after the `login` command's link.
    #[serde(default = "default_session", with = "humantime_serde")]
    pub session: Duration,
    /// The address people open (e.g. "https://sirt.corp.example:7444"); default: the listen
    /// address.
    #[serde(default)]
    pub public_url: Option<String>,
}

fn default_session() -> Duration {
    Duration::from_secs(8 * 3600)
}

impl WebConfig {
    /// `public_url_key` names the key in errors (`dashboard.public_url`, `web.public_url`).
    pub fn check(&self, public_url_key: &'static str) -> Result<(), crate::config::Invalid> {
        match &self.public_url {
            // Sign-in links carry a credential, and the session cookie is Secure.
            Some(url) if !url.starts_with("https://") => Err((
                public_url_key,
                format!("{url:?} must be an https:// URL (web surfaces serve only HTTPS)"),
            )),
            _ => Ok(()),
        }
    }

    /// The base of sign-in links: the public URL, or the address the listener got.
    pub fn base_url(&self, bound: SocketAddr) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("https://{bound}"))
    }

    /// The session lifetime in milliseconds.
    pub fn session_ms(&self) -> i64 {
        i64::try_from(self.session.as_millis()).unwrap_or(i64::MAX)
    }
}
