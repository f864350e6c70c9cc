//! Who is on the other end of a connection, read only from its verified certificate.
//!
//! Every socfed certificate carries exactly one SPIFFE-style URI SAN:
//! `spiffe://DOMAIN/hub`, `spiffe://DOMAIN/site/SITE_ID` or `spiffe://DOMAIN/operator/NAME`.
//! Message fields never decide who a caller is; handlers ask this module.

use crate::UnixMillis;
use crate::vocab::SiteId;
use std::fmt;

/// The trust domain of one organisation's PKI, e.g. `corp.example`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrustDomain(String);

impl TrustDomain {
    pub fn parse(raw: &str) -> Result<Self, IdentityError> {
        let ok = !raw.is_empty()
            && raw.len() <= 255
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(IdentityError::BadTrustDomain(raw.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TrustDomain {
    type Error = IdentityError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TrustDomain> for String {
    fn from(value: TrustDomain) -> Self {
        value.0
    }
}

impl fmt::Display for TrustDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A principal in the federation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    Hub,
    Site(SiteId),
    Operator(String),
}

impl Identity {
    /// The role word used in messages and listings.
    pub fn role(&self) -> &'static str {
        match self {
            Identity::Hub => "hub",
            Identity::Site(_) => "site",
            Identity::Operator(_) => "operator",
        }
    }

    pub fn spiffe_uri(&self, domain: &TrustDomain) -> String {
        match self {
            Identity::Hub => format!("spiffe://{domain}/hub"),
            Identity::Site(site) => format!("spiffe://{domain}/site/{site}"),
            Identity::Operator(name) => format!("spiffe://{domain}/operator/{name}"),
        }
    }

    /// Parses a SPIFFE URI and checks it belongs to `domain`.
    pub fn from_spiffe_uri(uri: &str, domain: &TrustDomain) -> Result<Self, IdentityError> {
        let bad = || IdentityError::BadUri(uri.to_string());
        let rest = uri.strip_prefix("spiffe://").ok_or_else(bad)?;
        let (found_domain, path) = rest.split_once('/').ok_or_else(bad)?;
        if found_domain != domain.as_str() {
            return Err(IdentityError::ForeignTrustDomain {
                found: found_domain.to_string(),
                expected: domain.to_string(),
            });
        }
        match path.split('/').collect::<Vec<_>>().as_slice() {
            ["hub"] => Ok(Identity::Hub),
            ["site", id] => SiteId::parse(id).map(Identity::Site).map_err(|_| bad()),
            ["operator", name] => parse_operator_name(name)
                .map(Identity::Operator)
                .map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::Hub => f.write_str("hub"),
            Identity::Site(site) => write!(f, "site {site}"),
            Identity::Operator(name) => write!(f, "operator {name}"),
        }
    }
}

/// Operator names: 1–64 characters of `a-z`, `0-9`, `.`, `_`, `-`, starting with a letter or
/// digit. The name becomes a file name (`pki/operators/NAME.crt`) and a path segment of the
/// SPIFFE URI, so `.`, `..` and hidden or option-like names (`.x`, `-x`) are refused.
pub fn parse_operator_name(raw: &str) -> Result<String, IdentityError> {
    let ok = raw
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && raw.len() <= 64
        && raw.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if ok {
        Ok(raw.to_string())
    } else {
        Err(IdentityError::BadOperatorName(raw.to_string()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("no client certificate was presented")]
    NoCertificate,
    #[error("the certificate could not be parsed: {0}")]
    Unparseable(String),
    #[error(
        "the certificate has {0} URI SANs; socfed certificates carry exactly one spiffe:// URI"
    )]
    UriSanCount(usize),
    #[error("{0:?} is not a socfed identity (spiffe://DOMAIN/hub, /site/ID or /operator/NAME)")]
    BadUri(String),
    #[error("the certificate belongs to trust domain {found:?}, this federation is {expected:?}")]
    ForeignTrustDomain { found: String, expected: String },
    #[error("{0:?} is not a valid trust domain (lowercase DNS-like name)")]
    BadTrustDomain(String),
    #[error(
        "{0:?} is not a valid operator name (1-64 of a-z 0-9 . _ -, starting with a letter or digit)"
    )]
    BadOperatorName(String),
}

/// The verified identity of a peer and facts about its certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerIdentity {
    pub identity: Identity,
    pub uri: String,
    /// The certificate's notAfter, Unix milliseconds.
    pub not_after_ms: UnixMillis,
    /// BLAKE3 of the certificate's DER, hex: which certificate acted, for audit records.
    pub fingerprint: String,
    /// The certificate's serial number (DER integer bytes, lowercase hex), as CRLs name it.
    pub serial: String,
}

/// Reads the identity out of a DER certificate that the TLS layer has already verified.
pub fn identity_from_der(der: &[u8], domain: &TrustDomain) -> Result<PeerIdentity, IdentityError> {
    let facts = cert_facts(der)?;
    let [uri] = facts.uris.as_slice() else {
        return Err(IdentityError::UriSanCount(facts.uris.len()));
    };
    Ok(PeerIdentity {
        identity: Identity::from_spiffe_uri(uri, domain)?,
        uri: uri.clone(),
        not_after_ms: facts.not_after_ms,
        fingerprint: blake3::hash(der).to_hex().to_string(),
        serial: facts.serial,
    })
}

/// The trust domain named by a certificate's single SPIFFE URI SAN (not yet checked against
/// anything: callers still verify the identity against the domain they expect).
pub fn trust_domain_of(der: &[u8]) -> Result<TrustDomain, IdentityError> {
    let uris = cert_facts(der)?.uris;
    let [uri] = uris.as_slice() else {
        return Err(IdentityError::UriSanCount(uris.len()));
    };
    let domain = uri
        .strip_prefix("spiffe://")
        .and_then(|rest| rest.split_once('/'))
        .map(|(domain, _)| domain)
        .ok_or_else(|| IdentityError::BadUri(uri.clone()))?;
    TrustDomain::parse(domain)
}

struct CertFacts {
    uris: Vec<String>,
    not_after_ms: UnixMillis,
    serial: String,
}

fn cert_facts(der: &[u8]) -> Result<CertFacts, IdentityError> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| IdentityError::Unparseable(e.to_string()))?;
    let not_after_ms = cert.validity().not_after.timestamp().saturating_mul(1000);
    let uris = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|name| match name {
                GeneralName::URI(uri) => Some((*uri).to_string()),
                _ => None,
            })
            .collect(),
        Ok(None) => Vec::new(),
        Err(e) => return Err(IdentityError::Unparseable(e.to_string())),
    };
    Ok(CertFacts {
        uris,
        not_after_ms,
        serial: crate::hex::encode(cert.raw_serial()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain() -> TrustDomain {
        TrustDomain::parse("corp.example").expect("valid")
    }

    #[test]
    fn parses_each_role_and_refuses_foreign_or_malformed_uris() {
        let d = domain();
        assert_eq!(
            Identity::from_spiffe_uri("spiffe://corp.example/hub", &d),
            Ok(Identity::Hub)
        );
        assert_eq!(
            Identity::from_spiffe_uri("spiffe://corp.example/site/paris", &d),
            Ok(Identity::Site(SiteId::parse("paris").expect("valid")))
        );
        assert!(matches!(
            Identity::from_spiffe_uri("spiffe://other.example/hub", &d),
            Err(IdentityError::ForeignTrustDomain { .. })
        ));
        for bad in [
            "https://corp.example/hub",
            "spiffe://corp.example/site/",
            "spiffe://corp.example/site/a/b",
            "spiffe://corp.example/admin",
        ] {
            assert!(Identity::from_spiffe_uri(bad, &d).is_err(), "{bad}");
        }
    }

    #[test]
    fn dot_names_and_hidden_or_option_like_operator_names_are_refused() {
        for bad in [".", "..", ".alice", "-rf", "_x", "", "Alice", "a/b"] {
            assert!(parse_operator_name(bad).is_err(), "{bad:?}");
            assert!(
                Identity::from_spiffe_uri(
                    &format!("spiffe://corp.example/operator/{bad}"),
                    &domain()
                )
                .is_err(),
                "{bad:?}"
            );
        }
        for good in ["alice", "j.doe", "ir-lead", "a1_b"] {
            assert_eq!(parse_operator_name(good).as_deref(), Ok(good));
        }
    }

    #[test]
    fn round_trips_through_the_uri() {
        let d = domain();
        for id in [
            Identity::Hub,
            Identity::Site(SiteId::parse("lyon").expect("valid")),
            Identity::Operator("alice".into()),
        ] {
            assert_eq!(Identity::from_spiffe_uri(&id.spiffe_uri(&d), &d), Ok(id));
        }
    }

    #[test]
    fn certificate_with_two_uri_sans_is_refused() {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        for uri in [
            "spiffe://corp.example/hub",
            "spiffe://corp.example/site/paris",
        ] {
            params
                .subject_alt_names
                .push(rcgen::SanType::URI(uri.try_into().expect("ia5")));
        }
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("cert");
        assert_eq!(
            identity_from_der(cert.der(), &domain()),
            Err(IdentityError::UriSanCount(2))
        );
    }
}
