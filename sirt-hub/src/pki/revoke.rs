//! Revocation: the CA's list of revoked certificates (`revoked.toml`) and the CRL signed from
//! it (`crl.pem`), which hub and agents load and reload (`[tls] crl`).
//!
//! The CRL is replaced atomically (write, then rename), so a service reloading it never sees
//! half a file.

use super::files::{io_error, occupied, replace};
use super::inspect::{parse_pem, read_pem, serial_hex};
use super::issue::load_ca;
use super::{PUBLIC_MODE, PkiError, now_unix, set_time};
use rcgen::{
    CertificateRevocationListParams, KeyIdMethod, RevocationReason, RevokedCertParams, SerialNumber,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const REVOKED_FILE: &str = "revoked.toml";
pub const CRL_FILE: &str = "crl.pem";
/// Services refuse every client certificate once the CRL is past its next update, so it is
/// re-signed well before: every `pki revoke`, and `pki crl` (run it from cron).
const CRL_VALIDITY_DAYS: i64 = 30;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Revoked {
    #[serde(default)]
    revoked: Vec<RevokedEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedEntry {
    /// Lowercase hex, as `pki list` shows it.
    pub serial: String,
    pub subject: String,
    pub revoked_at: i64,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct CrlWritten {
    pub path: PathBuf,
    pub entries: usize,
    pub newly_revoked: Option<RevokedEntry>,
}

fn load_list(dir: &Path) -> Result<Revoked, PkiError> {
    let path = dir.join(REVOKED_FILE);
    if !occupied(&path) {
        return Ok(Revoked::default());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| io_error("read", &path, e))?;
    toml::from_str(&text).map_err(|e| PkiError::BadConfig {
        path,
        reason: e.to_string(),
    })
}

fn authority_key(cert: &x509_parser::certificate::X509Certificate<'_>) -> Option<Vec<u8>> {
    cert.extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            x509_parser::extensions::ParsedExtension::AuthorityKeyIdentifier(aki) => {
                aki.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            _ => None,
        })
}

fn subject_key(cert: &x509_parser::certificate::X509Certificate<'_>) -> Option<Vec<u8>> {
    cert.extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(ski) => {
                Some(ski.0.to_vec())
            }
            _ => None,
        })
}

/// Revokes the certificate in `cert` (issued by the CA in `dir`) and writes a new CRL.
/// Revoking a certificate twice only re-signs the CRL.
pub fn revoke(dir: &Path, cert: &Path, reason: &str) -> Result<CrlWritten, PkiError> {
    let ca = load_ca(dir)?;
    let pem = read_pem(cert)?;
    let parsed = parse_pem(&pem, cert)?;
    let ca_pem = read_pem(&ca.cert)?;
    let ca_parsed = parse_pem(&ca_pem, &ca.cert)?;
    // Same name is not enough (every socfed CA of a domain has the same name): the certificate's
    // authority key identifier must be this CA's key.
    let issued_here = parsed.issuer() == ca_parsed.subject()
        && authority_key(&parsed).is_some()
        && authority_key(&parsed) == subject_key(&ca_parsed);
    if !issued_here {
        return Err(PkiError::BadCertificate {
            path: cert.to_path_buf(),
            reason: "it was not issued by this CA".into(),
        });
    }
    let serial = serial_hex(parsed.raw_serial());
    let mut list = load_list(dir)?;
    let mut newly = None;
    if !list.revoked.iter().any(|r| r.serial == serial) {
        let entry = RevokedEntry {
            serial,
            subject: parsed.subject().to_string(),
            revoked_at: now_unix()?,
            reason: reason.to_string(),
        };
        list.revoked.push(entry.clone());
        newly = Some(entry);
        let text = toml::to_string(&list).map_err(|e| PkiError::BadConfig {
            path: dir.join(REVOKED_FILE),
            reason: e.to_string(),
        })?;
        replace(&dir.join(REVOKED_FILE), text.as_bytes(), PUBLIC_MODE)?;
    }
    let mut written = write_crl(dir)?;
    written.newly_revoked = newly;
    Ok(written)
}

/// Signs the CRL from `revoked.toml` (empty when nothing was revoked) into `DIR/crl.pem`,
/// valid 30 days.
pub fn write_crl(dir: &Path) -> Result<CrlWritten, PkiError> {
    write_crl_valid_for(dir, CRL_VALIDITY_DAYS * super::SECS_PER_DAY)
}

/// The CRL number of `DIR/crl.pem`, when there is one that parses and fits in 64 bits.
fn previous_number(path: &Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(&bytes).ok()?;
    let facts = socfed_runtime::revocation::CrlFacts::of(&[pem.contents]).ok()??;
    let mut be = [0u8; 8];
    let start = be.len().checked_sub(facts.number.len())?;
    be[start..].copy_from_slice(&facts.number);
    Some(u64::from_be_bytes(be))
}

/// As [`write_crl`], valid `validity_secs` from now (`pki crl --days`).
pub fn write_crl_valid_for(dir: &Path, validity_secs: i64) -> Result<CrlWritten, PkiError> {
    let ca = load_ca(dir)?;
    let list = load_list(dir)?;
    let now = now_unix()?;
    let path = dir.join(CRL_FILE);
    let number = u64::try_from(now)
        .unwrap_or(0)
        .max(previous_number(&path).map_or(0, |n| n.saturating_add(1)));
    let generate = |source| PkiError::Generate {
        what: "CRL",
        source,
    };
    let params = CertificateRevocationListParams {
        this_update: set_time(now - 60)?,
        next_update: set_time(now.saturating_add(validity_secs.max(1)))?,
        // Strictly increasing with every CRL this CA signs (seconds since the epoch, or one
        // more than the last when two are signed within a second): services refuse a CRL
        // whose number is lower than the one they hold.
        crl_number: SerialNumber::from_slice(&number.to_be_bytes()),
        issuing_distribution_point: None,
        revoked_certs: list
            .revoked
            .iter()
            .map(|r| {
                let serial =
                    socfed_proto::hex::decode(&r.serial).ok_or_else(|| PkiError::BadConfig {
                        path: dir.join(REVOKED_FILE),
                        reason: format!("serial {:?} is not hex", r.serial),
                    })?;
                Ok(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&serial),
                    revocation_time: set_time(r.revoked_at)?,
                    reason_code: Some(RevocationReason::Unspecified),
                    invalidity_date: None,
                })
            })
            .collect::<Result<_, PkiError>>()?,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let crl = params.signed_by(&ca.issuer).map_err(generate)?;
    replace(&path, crl.pem().map_err(generate)?.as_bytes(), PUBLIC_MODE)?;
    Ok(CrlWritten {
        path,
        entries: list.revoked.len(),
        newly_revoked: None,
    })
}
