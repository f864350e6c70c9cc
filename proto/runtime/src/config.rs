//! Configuration loading shared by hub and agent: TOML, unknown keys rejected (each config
//! struct carries `deny_unknown_fields`), then a validation step whose errors name the key.

use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config {path}: {key}: {problem}")]
    Invalid {
        path: PathBuf,
        key: &'static str,
        problem: String,
    },
}

/// A validation failure: the dotted key and what is wrong with it.
pub type Invalid = (&'static str, String);

/// Config structs implement this to be loaded with [`load`] and [`parse`].
pub trait Validate {
    fn validate(&self) -> Result<(), Invalid>;
}

pub fn load<T: DeserializeOwned + Validate>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

pub fn parse<T: DeserializeOwned + Validate>(text: &str, path: &Path) -> Result<T, ConfigError> {
    let config: T = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    config
        .validate()
        .map_err(|(key, problem)| ConfigError::Invalid {
            path: path.to_path_buf(),
            key,
            problem,
        })?;
    Ok(config)
}

/// Checks `value` is within `range`, naming `key` otherwise.
pub fn in_range<T: PartialOrd + std::fmt::Display>(
    key: &'static str,
    value: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<(), Invalid> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err((
            key,
            format!(
                "must be between {} and {} (got {value})",
                range.start(),
                range.end()
            ),
        ))
    }
}

/// How far a store goes before it reports a write as done (an ack, an accepted escalation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Durability {
    /// Flush, then fdatasync of the data file: survives power loss.
    Fsync,
    /// Flush only: survives a process crash, may lose the last ~500 ms on power loss.
    Flush,
}

/// The optional admin listener (`[admin]`): Prometheus metrics over plain HTTP.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Address of the metrics listener; keep it on loopback or a management network.
    pub listen: std::net::SocketAddr,
    /// The admin listener is plain HTTP without authentication (metrics, readiness, the CRL):
    /// an address other than loopback must be chosen on purpose, with this set to `true`.
    #[serde(default)]
    pub allow_non_loopback: bool,
}

impl AdminConfig {
    /// Refuses a non-loopback `listen` unless `allow_non_loopback` says it is deliberate.
    pub fn check(&self) -> Result<(), Invalid> {
        if self.listen.ip().is_loopback() || self.allow_non_loopback {
            Ok(())
        } else {
            Err((
                "admin.listen",
                format!(
                    "{} is not a loopback address and the admin listener is plain HTTP without authentication; use 127.0.0.1, or set admin.allow_non_loopback = true for a management network",
                    self.listen
                ),
            ))
        }
    }
}
