//! The errors of the PKI module. Every message says what went wrong and what to do next.

use super::MAX_VALIDITY_DAYS;
use socfed_proto::identity::IdentityError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error(
        "pki directory {} already holds a CA ({} exists); use a new directory or remove it",
        .dir.display(), .found.display()
    )]
    AlreadyInitialised { dir: PathBuf, found: PathBuf },
    #[error(
        "pki directory {} holds no CA ({} is missing); run `sirt-hub pki init` on it first",
        .dir.display(), .missing.display()
    )]
    NotInitialised { dir: PathBuf, missing: PathBuf },
    #[error("{} already exists; remove it or request overwrite to replace it", .path.display())]
    AlreadyExists { path: PathBuf },
    #[error("cannot {action} {}: {source}; check the path and its permissions", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{} is not a valid pki config ({reason}); it must contain `trust_domain = \"DOMAIN\"`",
        .path.display()
    )]
    BadConfig { path: PathBuf, reason: String },
    #[error("{} is not a readable PEM certificate ({reason}); replace or remove it", .path.display())]
    BadCertificate { path: PathBuf, reason: String },
    #[error(
        "{} holds no usable private key ({reason}); restore the key that belongs to {}",
        .key.display(), .cert.display()
    )]
    BadCaKey {
        key: PathBuf,
        cert: PathBuf,
        reason: String,
    },
    #[error(
        "{} does not belong to {}; restore the matching key or create a new CA in a new directory",
        .key.display(), .cert.display()
    )]
    CaKeyMismatch { key: PathBuf, cert: PathBuf },
    #[error("a validity of {days} days is out of range; use 1 to {MAX_VALIDITY_DAYS} days")]
    BadValidity { days: u32 },
    #[error("invalid operator name: {0}")]
    BadOperatorName(#[source] IdentityError),
    #[error(
        "{name:?} is not a valid DNS name for a certificate; use a host name such as hub.corp.example"
    )]
    BadDnsName { name: String },
    #[error(
        "the CA in {} expired at {ca_not_after}; create a new CA in a new directory and re-issue",
        .cert.display()
    )]
    CaExpired { cert: PathBuf, ca_not_after: String },
    #[error(
        "a certificate valid for {days} days would outlive the CA ({} expires at {ca_not_after}); \
         ask for at most {max_days} days",
        .cert.display()
    )]
    OutlivesCa {
        cert: PathBuf,
        days: u32,
        ca_not_after: String,
        max_days: i64,
    },
    #[error(
        "{url:?} is not a usable CRL URL ({reason}); use a plain HTTP URL such as \
         http://hub.corp.example:9464/crl (the hub serves the CRL at /crl on its admin listener)"
    )]
    BadCrlUrl { url: String, reason: String },
    #[error("cannot generate the {what}: {source}")]
    Generate {
        what: &'static str,
        #[source]
        source: rcgen::Error,
    },
    #[error("the system clock reads before 1970; fix the clock and retry")]
    Clock,
}
