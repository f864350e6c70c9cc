//! `config check` for the TLS files of a service: everything `serve` would trip over, found
//! before it starts. The files are opened and parsed, the certificate must chain to the CA,
//! be valid now, carry the `serverAuth` EKU and the identity this config is for; the key must
//! match it; the CRL must be signed by the CA and not past its nextUpdate.

use crate::revocation::CrlFacts;
use crate::tls::{TlsError, TlsFiles, TlsMaterial};
use socfed_proto::identity::{Identity, TrustDomain};

/// What the check found, for the success message.
#[derive(Debug, Clone)]
pub struct TlsReport {
    pub identity: String,
    /// The certificate's notAfter, seconds since the epoch.
    pub not_after: i64,
    pub crl: Option<CrlFacts>,
}

fn bad(what: &str, problem: impl std::fmt::Display) -> TlsError {
    TlsError::Verifier(format!("{what}: {problem}"))
}

/// Checks `files` for a service whose certificate must name `expected`; `now` in seconds.
pub fn check_files(
    files: &TlsFiles,
    domain: &TrustDomain,
    expected: &Identity,
    now: i64,
) -> Result<TlsReport, TlsError> {
    let material = TlsMaterial::load(files, domain.clone())?;
    if material.own.identity != *expected {
        return Err(bad(
            &files.cert.display().to_string(),
            format!(
                "the certificate is for {}, this configuration is for {}; issue one with `sirt-hub pki issue`",
                material.own.uri,
                expected.spiffe_uri(domain)
            ),
        ));
    }
    // Builds what `serve` builds: the key must match the certificate, the CRL must parse.
    material.server_config()?;
    let ca_der = material.ca_der();
    let (_, ca) = x509_parser::parse_x509_certificate(ca_der)
        .map_err(|e| bad(&files.ca.display().to_string(), e))?;
    let (_, leaf) = x509_parser::parse_x509_certificate(material.leaf_der())
        .map_err(|e| bad(&files.cert.display().to_string(), e))?;
    let cert_path = files.cert.display().to_string();
    if leaf.issuer() != ca.subject() || leaf.verify_signature(Some(ca.public_key())).is_err() {
        return Err(bad(
            &cert_path,
            format!(
                "not issued by the CA in {} (issuer {}); use the CA that issued it, or issue a new one",
                files.ca.display(),
                leaf.issuer()
            ),
        ));
    }
    let validity = leaf.validity();
    if now < validity.not_before.timestamp() || now > validity.not_after.timestamp() {
        return Err(bad(
            &cert_path,
            format!(
                "not valid now (valid {} to {}); rotate it with `sirt-hub pki rotate`",
                validity.not_before, validity.not_after
            ),
        ));
    }
    crate::tls_verify::require_purpose(material.leaf_der(), crate::tls_verify::Purpose::Server)
        .map_err(|e| bad(&cert_path, e))?;
    let crl = match &files.crl {
        None => None,
        Some(path) => {
            let where_ = path.display().to_string();
            for der in material.crls() {
                let (_, parsed) =
                    x509_parser::parse_x509_crl(der.as_ref()).map_err(|e| bad(&where_, e))?;
                if parsed.issuer() != ca.subject()
                    || parsed.verify_signature(ca.public_key()).is_err()
                {
                    return Err(bad(
                        &where_,
                        format!(
                            "not signed by the CA in {}; copy the CRL from that CA's directory",
                            files.ca.display()
                        ),
                    ));
                }
            }
            let facts = CrlFacts::of(material.crls()).map_err(|e| bad(&where_, e))?;
            if let Some(facts) = &facts
                && facts.expired_at(now)
            {
                return Err(bad(
                    &where_,
                    "past its nextUpdate: the service would refuse every client certificate; re-sign it with `sirt-hub pki crl` and copy it here",
                ));
            }
            if facts.is_none() {
                return Err(bad(&where_, "holds no CRL"));
            }
            facts
        }
    };
    Ok(TlsReport {
        identity: material.own.uri.clone(),
        not_after: validity.not_after.timestamp(),
        crl,
    })
}
