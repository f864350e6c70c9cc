//! `[store]`: which store the hub keeps its state in. sled (the default) is embedded in one
//! hub process; PostgreSQL lets several hub replicas share one database (docs/OPERATIONS.md,
//! "Hub replicas").

use serde::{Deserialize, Serialize};
use socfed_runtime::config::{Invalid, in_range};
use socfed_runtime::store_kit::pg::PgConfig;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// The embedded store in `data_dir`: one hub process.
    #[default]
    Sled,
    /// A PostgreSQL database shared by every replica.
    Postgres,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    pub kind: StoreKind,
    /// PostgreSQL only: a file holding the connection URL
    /// (`postgres://user:password@host:5432/db?sslmode=verify-full`). A file, not the
    /// config, because the URL carries the database password.
    pub url_file: Option<PathBuf>,
    /// PostgreSQL only: PEM roots the database's certificate must chain to
    /// (`sslmode=verify-full`); the system's roots are not used.
    pub ca_file: Option<PathBuf>,
    /// PostgreSQL only: the schema holding the hub's tables (one hub per schema).
    pub schema: String,
    /// PostgreSQL only: connections each replica keeps.
    pub pool_size: usize,
    /// PostgreSQL only: how long a connection attempt may take before the call is refused
    /// as unavailable.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// PostgreSQL only: the longest one statement may run.
    #[serde(with = "humantime_serde")]
    pub statement_timeout: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            kind: StoreKind::Sled,
            url_file: None,
            ca_file: None,
            schema: "socfed".into(),
            pool_size: 8,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

/// The database URL file could not be used.
#[derive(Debug, thiserror::Error)]
#[error("store.url_file {path}: {reason}")]
pub struct UrlFileError {
    pub path: PathBuf,
    pub reason: String,
}

impl StoreConfig {
    /// The connection settings of a PostgreSQL store, with the URL read from `url_file`
    /// (without the newline an editor adds).
    pub fn connection(&self) -> Result<PgConfig, UrlFileError> {
        let path = self.url_file.clone().unwrap_or_default();
        let fail = |reason: String| UrlFileError {
            path: path.clone(),
            reason,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| fail(e.to_string()))?;
        let url = text.trim().to_string();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(fail("must hold one postgres:// URL".into()));
        }
        Ok(PgConfig {
            url,
            ca_file: self.ca_file.clone(),
            schema: self.schema.clone(),
            pool_size: self.pool_size,
            connect_timeout: self.connect_timeout,
            statement_timeout: self.statement_timeout,
        })
    }

    pub fn check(&self) -> Result<(), Invalid> {
        match self.kind {
            StoreKind::Sled => {
                if self.url_file.is_some() || self.ca_file.is_some() {
                    return Err((
                        "store.url_file",
                        "is for kind = \"postgres\" only; set kind or remove it".into(),
                    ));
                }
            }
            StoreKind::Postgres => {
                if self.url_file.is_none() {
                    return Err((
                        "store.url_file",
                        "kind = \"postgres\" needs the file holding the database URL".into(),
                    ));
                }
            }
        }
        let valid_schema = !self.schema.is_empty()
            && self.schema.len() <= 63
            && self
                .schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !self.schema.as_bytes()[0].is_ascii_digit();
        if !valid_schema {
            return Err((
                "store.schema",
                "must be 1 to 63 lowercase letters, digits or '_', not starting with a digit"
                    .into(),
            ));
        }
        in_range("store.pool_size", self.pool_size, 2..=256)?;
        if self.connect_timeout < Duration::from_millis(100)
            || self.statement_timeout < Duration::from_secs(1)
        {
            return Err((
                "store.connect_timeout",
                "connect_timeout must be at least 100ms and statement_timeout at least 1s".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{EXAMPLE, HubConfig, StoreKind};
    use std::path::Path;

    /// The example's commented `[store]` section, switched on.
    fn with_store(section: &str) -> Result<HubConfig, String> {
        let text = format!("{EXAMPLE}\n[store]\n{section}\n");
        HubConfig::parse(&text, Path::new("x.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn the_examples_postgres_section_parses_once_uncommented() {
        let start = EXAMPLE
            .find("# [store]")
            .expect("the example shows [store]");
        let section: String = EXAMPLE[start..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("# "))
            .map(|l| format!("{}\n", &l[2..]))
            .collect();
        let config = with_store(&section).expect("valid");
        assert_eq!(config.store.kind, StoreKind::Postgres);
        assert_eq!(config.store.pool_size, 8);
    }

    #[test]
    fn a_store_section_that_cannot_work_is_refused_naming_the_key() {
        let cases = [
            ("kind = \"postgres\"", "store.url_file"),
            ("url_file = \"/u\"", "store.url_file"),
            (
                "kind = \"postgres\"\nurl_file = \"/u\"\nschema = \"Bad-Name\"",
                "store.schema",
            ),
            (
                "kind = \"postgres\"\nurl_file = \"/u\"\npool_size = 1",
                "store.pool_size",
            ),
            ("kind = \"mysql\"", "kind"),
        ];
        for (section, key) in cases {
            let error = with_store(section).expect_err(section);
            assert!(error.contains(key), "{section}: {error}");
        }
        assert_eq!(
            HubConfig::parse(EXAMPLE, Path::new("x.toml"))
                .expect("example")
                .store
                .kind,
            StoreKind::Sled,
            "sled unless the config says otherwise"
        );
    }
}
