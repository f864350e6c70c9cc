//! Reading certificates back: the summaries behind [`super::list`], and RFC 3339 timestamps.

use super::files::{find_certificates, io_error, occupied};
use super::{CONFIG_FILE, CertSummary, PkiError, trust_domain};
use socfed_proto::identity::{Identity, TrustDomain};
use std::path::Path;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::pem::Pem;

/// Summarises every `*.crt` under `dir` (recursive, sorted by path).
///
/// Roles are read from the SPIFFE URI SAN against the trust domain in `DIR/pki.toml`; a
/// certificate from another domain is listed as `unknown`. Without `pki.toml` (e.g. a copy of
/// a site's TLS directory) each URI is read against its own domain.
pub fn list(dir: &Path) -> Result<Vec<CertSummary>, PkiError> {
    let domain = if occupied(&dir.join(CONFIG_FILE)) {
        Some(trust_domain(dir)?)
    } else {
        None
    };
    find_certificates(dir)?
        .iter()
        .map(|path| summarize(path, domain.as_ref()))
        .collect()
}

/// Reads the first PEM block of `path`.
pub(super) fn read_pem(path: &Path) -> Result<Pem, PkiError> {
    let bytes = std::fs::read(path).map_err(|e| io_error("read", path, e))?;
    let (_, pem) =
        x509_parser::pem::parse_x509_pem(&bytes).map_err(|e| PkiError::BadCertificate {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    Ok(pem)
}

/// Parses the certificate held by `pem`, read from `path`.
pub(super) fn parse_pem<'a>(pem: &'a Pem, path: &Path) -> Result<X509Certificate<'a>, PkiError> {
    if pem.label != "CERTIFICATE" {
        return Err(PkiError::BadCertificate {
            path: path.to_path_buf(),
            reason: format!("the PEM block is a {:?}, not a CERTIFICATE", pem.label),
        });
    }
    pem.parse_x509().map_err(|e| PkiError::BadCertificate {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn summarize(path: &Path, domain: Option<&TrustDomain>) -> Result<CertSummary, PkiError> {
    let pem = read_pem(path)?;
    let cert = parse_pem(&pem, path)?;
    let uris = uri_sans(&cert);
    let role = if cert.is_ca() {
        "ca".to_string()
    } else {
        match uris.as_slice() {
            [uri] => role_of(uri, domain),
            _ => "unknown".to_string(),
        }
    };
    let validity = cert.validity();
    Ok(CertSummary {
        path: path.to_path_buf(),
        subject: cert.subject().to_string(),
        role,
        identity: uris.join(", "),
        not_before: rfc3339(validity.not_before.timestamp()),
        not_after: rfc3339(validity.not_after.timestamp()),
        not_after_unix: validity.not_after.timestamp(),
        serial: serial_hex(cert.raw_serial()),
    })
}

fn uri_sans(cert: &X509Certificate<'_>) -> Vec<String> {
    match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                GeneralName::URI(uri) => Some((*uri).to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn role_of(uri: &str, domain: Option<&TrustDomain>) -> String {
    let own_domain = || {
        let rest = uri.strip_prefix("spiffe://")?;
        let (host, _) = rest.split_once('/')?;
        TrustDomain::parse(host).ok()
    };
    let domain = match domain {
        Some(domain) => Some(domain.clone()),
        None => own_domain(),
    };
    domain
        .and_then(|domain| Identity::from_spiffe_uri(uri, &domain).ok())
        .map_or_else(|| "unknown".to_string(), |id| id.role().to_string())
}

/// Lowercase hex of a DER serial number, without leading zero bytes.
pub(super) fn serial_hex(raw: &[u8]) -> String {
    let start = raw
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(raw.len().saturating_sub(1));
    raw.get(start..)
        .unwrap_or_default()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix timestamp (any sign, proleptic Gregorian calendar).
pub(super) fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// Days since 1970-01-01 to (year, month, day); H. Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn serial_hex_strips_leading_zero_bytes() {
        assert_eq!(serial_hex(&[0x00, 0x8f, 0x01]), "8f01");
        assert_eq!(serial_hex(&[0x00]), "00");
        assert_eq!(serial_hex(&[]), "");
    }
}
