//! Where and how to reach PostgreSQL: the URL (`postgres://user:password@host:port/db?sslmode=…`),
//! the CA file, the schema the store lives in, the pool size and the timeouts. The password is
//! never shown (`Debug` redacts it).

use std::path::PathBuf;
use std::time::Duration;

use super::PgError;

/// TLS to the database, from the URL's `sslmode` (libpq's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain TCP.
    Disable,
    /// TLS; the certificate is verified only when a CA file is given.
    Require,
    /// TLS, the certificate verified against the CA file and the host name. The default when
    /// the URL names no `sslmode`.
    VerifyFull,
}

/// The PostgreSQL backend's configuration.
#[derive(Clone)]
pub struct PgConfig {
    /// `postgres://user:password@host:port/dbname[?sslmode=disable|require|verify-full]`.
    pub url: String,
    /// PEM roots to trust (required by `verify-full`).
    pub ca_file: Option<PathBuf>,
    /// The schema the store's tables live in (created when missing; every connection's
    /// `search_path`).
    pub schema: String,
    /// Connections in the pool (at least two: at most all but one are held by units, so the
    /// unit holding the lock can always read through the pool).
    pub pool_size: usize,
    /// How long a connection attempt may take before the call fails with `Unavailable`.
    pub connect_timeout: Duration,
    /// The server-side limit of one statement (each connection's `statement_timeout`).
    pub statement_timeout: Duration,
}

impl PgConfig {
    /// A configuration with the defaults: schema `socfed`, 4 connections, 5 s to connect,
    /// 30 s per statement.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ca_file: None,
            schema: "socfed".into(),
            pool_size: 4,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
        }
    }

    /// The URL with its password replaced by `***`.
    pub fn redacted_url(&self) -> String {
        redact(&self.url)
    }

    /// The tokio-postgres configuration and the TLS mode, checked.
    pub(crate) fn parse(&self) -> Result<(tokio_postgres::Config, SslMode), PgError> {
        if !valid_identifier(&self.schema) {
            return Err(PgError::Database(format!(
                "schema name {:?}: use 1-63 characters a-z, 0-9, _ (not starting with a digit)",
                self.schema
            )));
        }
        if self.pool_size < 2 {
            // Units waiting for the unit lock hold connections; one is always left for reads.
            return Err(PgError::Database("pool size must be at least 2".into()));
        }
        let (base, query) = match self.url.split_once('?') {
            Some((b, q)) => (b, q),
            None => (self.url.as_str(), ""),
        };
        let mut mode = SslMode::VerifyFull;
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("sslmode", v)) => {
                    mode = match v {
                        "disable" => SslMode::Disable,
                        "require" => SslMode::Require,
                        "verify-full" => SslMode::VerifyFull,
                        other => {
                            return Err(PgError::Database(format!(
                                "sslmode={other}: use disable, require or verify-full"
                            )));
                        }
                    }
                }
                _ => rest.push(pair),
            }
        }
        let url = if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| PgError::Database(format!("database URL {}: {e}", redact(&self.url))))?;
        if mode == SslMode::VerifyFull && self.ca_file.is_none() {
            return Err(PgError::Database(
                "sslmode=verify-full needs a CA file (the roots to verify the server against)"
                    .into(),
            ));
        }
        config
            .ssl_mode(match mode {
                SslMode::Disable => tokio_postgres::config::SslMode::Disable,
                _ => tokio_postgres::config::SslMode::Require,
            })
            .connect_timeout(self.connect_timeout)
            // A database host that vanished is noticed in about 25 s, not the OS's hours.
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(10))
            .keepalives_interval(Duration::from_secs(5))
            .keepalives_retries(3)
            .application_name("socfed");
        Ok((config, mode))
    }
}

impl std::fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConfig")
            .field("url", &self.redacted_url())
            .field("ca_file", &self.ca_file)
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(not a URL)".into();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// A schema name that needs no quoting and cannot inject SQL.
fn valid_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_errors_never_show_the_password() {
        let mut c = PgConfig::new("postgres://hub:s3cret@db.example:5432/socfed?sslmode=require");
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(format!("{c:?}").contains("hub:***@db.example:5432/socfed"));
        c.url = "postgres://hub:s3cret@db.example:notaport/socfed?sslmode=require".into();
        let e = c.parse().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("database URL") && !e.contains("s3cret"), "{e}");
    }

    #[test]
    fn sslmode_is_read_and_verify_full_needs_a_ca() {
        let mut c = PgConfig::new("postgres://u:p@127.0.0.1/db");
        assert!(matches!(c.parse(), Err(PgError::Database(m)) if m.contains("CA file")));
        c.url = "postgres://u:p@127.0.0.1/db?sslmode=disable".into();
        assert!(matches!(c.parse(), Ok((_, SslMode::Disable))));
        c.url = "postgres://u:p@127.0.0.1/db?sslmode=prefer".into();
        assert!(c.parse().is_err());
        c.schema = "x; drop table kv".into();
        assert!(c.parse().is_err());
    }
}
