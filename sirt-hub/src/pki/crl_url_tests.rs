//! The CRL distribution point: recorded once at `init`, carried by every certificate issued or
//! rotated afterwards, absent when no URL was given, and bad URLs refused before anything is
//! written.

use super::tests::{domain, new_pki, operator_role, request, site_role};
use super::*;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};

const URL: &str = "http://127.0.0.1:9464/crl";

/// The URIs of every CRL distribution point in the certificate at `path`.
fn distribution_uris(path: &Path) -> Vec<String> {
    let pem = inspect::read_pem(path).expect("read certificate");
    let cert = inspect::parse_pem(&pem, path).expect("parse certificate");
    let mut uris = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::CRLDistributionPoints(points) = ext.parsed_extension() {
            for point in points.iter() {
                if let Some(DistributionPointName::FullName(names)) = &point.distribution_point {
                    for name in names {
                        if let GeneralName::URI(uri) = name {
                            uris.push(uri.to_string());
                        }
                    }
                }
            }
        }
    }
    uris
}

#[test]
fn certificates_name_the_crl_url_recorded_at_init() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("pki");
    init_with_crl_url(&dir, &domain(), 365, Some(URL)).expect("init");
    assert_eq!(crl_url(&dir).expect("config"), Some(URL.to_string()));
    let hub = issue(&dir, &request(super::tests::hub_role())).expect("hub");
    let site = issue(&dir, &request(site_role("paris"))).expect("site");
    let operator = issue(&dir, &request(operator_role("ines"))).expect("operator");
    for path in [&hub.cert, &site.cert, &operator.cert] {
        assert_eq!(distribution_uris(path), [URL], "{}", path.display());
    }
    // The CA itself is the trust anchor: it names no distribution point.
    assert_eq!(distribution_uris(&dir.join(CA_CERT)), Vec::<String>::new());
    let rotated = rotate(&dir, site_role("paris"), 30).expect("rotate");
    assert_eq!(distribution_uris(&rotated.issued.cert), [URL]);
}

#[test]
fn without_a_crl_url_certificates_carry_no_distribution_point() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = new_pki(&tmp, "pki");
    assert_eq!(crl_url(&dir).expect("config"), None);
    let text = std::fs::read_to_string(dir.join(CONFIG_FILE)).expect("pki.toml");
    assert!(!text.contains("crl_url"), "{text}");
    let hub = issue(&dir, &request(super::tests::hub_role())).expect("hub");
    assert_eq!(distribution_uris(&hub.cert), Vec::<String>::new());
}

#[test]
fn unusable_crl_urls_are_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (n, url) in [
        "https://hub.corp.example/crl",
        "ldap://hub.corp.example/crl",
        "http:///crl",
        "http://hub.corp.example/c rl",
        "http://hub.corp.exämple/crl",
        "",
    ]
    .into_iter()
    .enumerate()
    {
        let dir = tmp.path().join(format!("pki-{n}"));
        let err = init_with_crl_url(&dir, &domain(), 365, Some(url)).expect_err(url);
        assert!(matches!(err, PkiError::BadCrlUrl { .. }), "{url:?}: {err}");
        assert!(!dir.exists(), "{url:?} left {}", dir.display());
    }
}
