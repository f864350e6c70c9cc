//! The organisation PKI: creating the CA, issuing hub, site and operator certificates, and
//! listing what a PKI directory holds. Pure library code; the CLI prints the results.
//!
//! Every leaf carries exactly one SPIFFE URI SAN (`spiffe://DOMAIN/hub`,
//! `spiffe://DOMAIN/site/ID`, `spiffe://DOMAIN/operator/NAME`), which is what
//! [`socfed_proto::identity`] reads back after the TLS layer has verified the chain.
//! Keys are ECDSA P-256.
//!
//! # Directory layout
//!
//! ```text
//! DIR/pki.toml                trust_domain = "corp.example"
//!                             crl_url = "http://hub.corp.example:9464/crl" (optional)
//! DIR/ca.crt   DIR/ca.key     the organisation CA (path length 0: it signs leaves only)
//! DIR/hub.crt  DIR/hub.key    the hub (serverAuth)
//! DIR/sites/ID.crt|.key       one per site (serverAuth + clientAuth)
//! DIR/operators/NAME.crt|.key one per operator (clientAuth)
//! ```
//!
//! Private keys are created with mode 0600 and directories this module creates with 0700.
//! [`init`] refuses a directory that already holds a CA; [`issue`] refuses to replace an
//! existing certificate or key unless asked to overwrite, and then replaces both atomically.

#[cfg(test)]
mod crl_url_tests;
mod error;
mod files;
mod inspect;
mod issue;
#[cfg(test)]
mod lifecycle_tests;
pub mod revoke;
pub mod rotate;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tls_tests;

pub use error::PkiError;
pub use inspect::list;
pub use issue::issue;
pub use revoke::{revoke, write_crl, write_crl_valid_for};
pub use rotate::rotate;

use files::{PUBLIC_MODE, ensure_dir, occupied, write_pair};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SerialNumber,
};
use socfed_proto::identity::TrustDomain;
use socfed_proto::vocab::SiteId;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

const CONFIG_FILE: &str = "pki.toml";
const CA_CERT: &str = "ca.crt";
const CA_KEY: &str = "ca.key";
/// Certificates start this long before "now", so peers with a slow clock accept them.
const CLOCK_SKEW_SECS: i64 = 5 * 60;
const SECS_PER_DAY: i64 = 86_400;
/// Upper bound on any validity, in days (about 100 years).
const MAX_VALIDITY_DAYS: u32 = 36_500;

/// What [`init`] created.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaInfo {
    pub domain: TrustDomain,
    pub ca_cert: PathBuf,
    /// The initial (empty, signed) CRL, `DIR/crl.pem`.
    pub crl: PathBuf,
    /// RFC 3339, UTC.
    pub not_after: String,
}

/// The principal a leaf certificate is for.
#[derive(Debug, Clone)]
pub enum LeafRole {
    /// DNS names and IPs clients dial; both empty means `localhost`, 127.0.0.1 and ::1.
    Hub { dns: Vec<String>, ips: Vec<IpAddr> },
    /// As for the hub: sites also serve a local API.
    Site {
        id: SiteId,
        dns: Vec<String>,
        ips: Vec<IpAddr>,
    },
    /// Validated with [`parse_operator_name`].
    Operator { name: String },
}

#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub role: LeafRole,
    pub validity_days: u32,
    /// Replace an existing certificate and key for the same principal.
    pub overwrite: bool,
}

/// What [`issue`] wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Issued {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The SPIFFE URI SAN.
    pub uri: String,
    /// RFC 3339, UTC.
    pub not_after: String,
}

/// One certificate found by [`list`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct CertSummary {
    pub path: PathBuf,
    pub subject: String,
    /// `ca`, `hub`, `site`, `operator` or `unknown`.
    pub role: String,
    /// The URI SAN(s), comma-separated; empty when there is none.
    pub identity: String,
    pub not_before: String,
    pub not_after: String,
    pub not_after_unix: i64,
    /// Lowercase hex.
    pub serial: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PkiConfig {
    trust_domain: TrustDomain,
    /// Where the CRL is published; every leaf issued from this directory carries it as its
    /// CRL distribution point, so any TLS peer (and scanners) can find the revocation list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crl_url: Option<String>,
}

/// Creates the organisation CA in `dir` (created with mode 0700 if missing), with no CRL
/// distribution point in the certificates it will issue.
pub fn init(dir: &Path, domain: &TrustDomain, validity_days: u32) -> Result<CaInfo, PkiError> {
    init_with_crl_url(dir, domain, validity_days, None)
}

/// As [`init`]; with `crl_url`, every certificate later issued (or rotated) from `dir` names
/// that URL as its CRL distribution point. It must be a plain `http://` URL: a CRL is signed,
/// and fetching it over TLS would need a revocation check of its own.
pub fn init_with_crl_url(
    dir: &Path,
    domain: &TrustDomain,
    validity_days: u32,
    crl_url: Option<&str>,
) -> Result<CaInfo, PkiError> {
    check_validity(validity_days)?;
    if let Some(url) = crl_url {
        check_crl_url(url)?;
    }
    let (ca_cert, ca_key) = (dir.join(CA_CERT), dir.join(CA_KEY));
    if let Some(found) = [&ca_cert, &ca_key].into_iter().find(|p| occupied(p)) {
        return Err(PkiError::AlreadyInitialised {
            dir: dir.to_path_buf(),
            found: found.clone(),
        });
    }
    let now = now_unix()?;
    let not_after = now + i64::from(validity_days) * SECS_PER_DAY;
    let mut params = CertificateParams::default();
    params.distinguished_name = common_name(format!("socfed organisation CA ({domain})"));
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.serial_number = Some(random_serial());
    set_validity(&mut params, now - CLOCK_SKEW_SECS, not_after)?;
    let key = KeyPair::generate().map_err(generate("CA key"))?;
    let cert = params
        .self_signed(&key)
        .map_err(generate("CA certificate"))?;

    ensure_dir(dir)?;
    let config = toml::to_string(&PkiConfig {
        trust_domain: domain.clone(),
        crl_url: crl_url.map(str::to_string),
    })
    .map_err(|e| PkiError::BadConfig {
        path: dir.join(CONFIG_FILE),
        reason: e.to_string(),
    })?;
    files::replace(&dir.join(CONFIG_FILE), config.as_bytes(), PUBLIC_MODE)?;
    write_pair(&ca_cert, &cert.pem(), &ca_key, &key.serialize_pem(), false).map_err(
        |e| match e {
            PkiError::AlreadyExists { path } => PkiError::AlreadyInitialised {
                dir: dir.to_path_buf(),
                found: path,
            },
            other => other,
        },
    )?;
    // An initial, empty CRL: the example configs name `[tls] crl`, and a service refuses to
    // start on a CRL file that does not exist.
    let crl = revoke::write_crl(dir)?.path;
    Ok(CaInfo {
        domain: domain.clone(),
        ca_cert,
        crl,
        not_after: inspect::rfc3339(not_after),
    })
}

/// The trust domain recorded in `DIR/pki.toml`.
pub fn trust_domain(dir: &Path) -> Result<TrustDomain, PkiError> {
    Ok(load_config(dir)?.trust_domain)
}

/// The CRL distribution point recorded in `DIR/pki.toml`, if any.
pub fn crl_url(dir: &Path) -> Result<Option<String>, PkiError> {
    let config = load_config(dir)?;
    if let Some(url) = &config.crl_url {
        check_crl_url(url).map_err(|e| PkiError::BadConfig {
            path: dir.join(CONFIG_FILE),
            reason: e.to_string(),
        })?;
    }
    Ok(config.crl_url)
}

fn load_config(dir: &Path) -> Result<PkiConfig, PkiError> {
    let path = dir.join(CONFIG_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(PkiError::NotInitialised {
                dir: dir.to_path_buf(),
                missing: path,
            });
        }
        Err(e) => return Err(files::io_error("read", &path, e)),
    };
    toml::from_str(&text).map_err(|e| PkiError::BadConfig {
        path: path.clone(),
        reason: e.message().to_string(),
    })
}

/// An `http://` URL with a host, printable ASCII without spaces (it is written as an
/// IA5String into every certificate).
fn check_crl_url(url: &str) -> Result<(), PkiError> {
    let bad = |reason: &str| PkiError::BadCrlUrl {
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| bad("it must start with http://"))?;
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad("it must be printable ASCII without spaces"));
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() {
        return Err(bad("it names no host"));
    }
    Ok(())
}

fn check_validity(days: u32) -> Result<(), PkiError> {
    if (1..=MAX_VALIDITY_DAYS).contains(&days) {
        Ok(())
    } else {
        Err(PkiError::BadValidity { days })
    }
}

fn now_unix() -> Result<i64, PkiError> {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| PkiError::Clock)?;
    i64::try_from(since.as_secs()).map_err(|_| PkiError::Clock)
}

/// A Unix time as the date type rcgen wants.
fn set_time(secs: i64) -> Result<time::OffsetDateTime, PkiError> {
    x509_parser::time::ASN1Time::from_timestamp(secs)
        .map(|t| t.to_datetime())
        .map_err(|_| PkiError::Clock)
}

fn set_validity(params: &mut CertificateParams, from: i64, to: i64) -> Result<(), PkiError> {
    use x509_parser::time::ASN1Time;
    let convert = |secs: i64| {
        ASN1Time::from_timestamp(secs)
            .map(|t| t.to_datetime())
            .map_err(|_| PkiError::BadValidity {
                days: u32::try_from((to - from) / SECS_PER_DAY).unwrap_or(u32::MAX),
            })
    };
    params.not_before = convert(from)?;
    params.not_after = convert(to)?;
    Ok(())
}

fn common_name(name: String) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn
}

/// 16 random bytes, top bit clear (a positive DER integer) and next bit set (never zero, and
/// always the same length).
fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&bytes)
}

fn generate(what: &'static str) -> impl Fn(rcgen::Error) -> PkiError {
    move |source| PkiError::Generate { what, source }
}
