//! Rotation and revocation, checked on disk and through `socfed-proto`'s TLS loader.

use super::tests::{domain, new_pki, request, site_role};
use super::*;
use socfed_runtime::tls::{TlsFiles, TlsMaterial};

fn sans(path: &Path) -> (Vec<String>, String) {
    let pem = inspect::read_pem(path).expect("pem");
    let cert = inspect::parse_pem(&pem, path).expect("cert");
    let names = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|s| {
            s.value
                .general_names
                .iter()
                .map(|n| format!("{n:?}"))
                .collect()
        })
        .unwrap_or_default();
    (names, inspect::serial_hex(cert.raw_serial()))
}

#[test]
fn rotation_keeps_the_names_changes_the_key_and_keeps_the_previous_certificate() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = new_pki(&tmp, "pki");
    let role = LeafRole::Site {
        id: socfed_proto::vocab::SiteId::parse("lyon").expect("site"),
        dns: vec!["soc.lyon.corp.example".into()],
        ips: vec!["10.1.2.3".parse().expect("ip")],
    };
    let first = issue(&dir, &request(role)).expect("issue");
    let (names_before, serial_before) = sans(&first.cert);
    let rotated = rotate(&dir, site_role("lyon"), 30).expect("rotate");
    let (names_after, serial_after) = sans(&rotated.issued.cert);
    assert_eq!(names_after, names_before, "same DNS, IP and SPIFFE names");
    assert_ne!(serial_after, serial_before);
    assert_eq!(
        sans(&rotated.previous).1,
        serial_before,
        "the previous one is kept"
    );
    let missing = rotate(&dir, site_role("berlin"), 30).expect_err("nothing to rotate");
    assert!(missing.to_string().contains("pki issue"), "{missing}");
}

#[test]
fn revoking_lists_the_serial_in_a_crl_the_tls_loader_accepts() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = new_pki(&tmp, "pki");
    let issued = issue(&dir, &request(site_role("paris"))).expect("issue");
    let empty = write_crl(&dir).expect("crl");
    assert_eq!(empty.entries, 0);
    let written = revoke(&dir, &issued.cert, "key compromise").expect("revoke");
    assert_eq!(written.entries, 1);
    let entry = written.newly_revoked.expect("new");
    assert_eq!(entry.serial, sans(&issued.cert).1);
    // Twice is once.
    assert!(
        revoke(&dir, &issued.cert, "again")
            .expect("re-sign")
            .newly_revoked
            .is_none()
    );
    // Parsed back: the CRL names that serial and is signed for this CA.
    let bytes = std::fs::read(&written.path).expect("read crl");
    let (_, pem) = x509_parser::pem::parse_x509_pem(&bytes).expect("pem");
    let (_, crl) = x509_parser::parse_x509_crl(&pem.contents).expect("crl");
    let listed: Vec<String> = crl
        .iter_revoked_certificates()
        .map(|r| inspect::serial_hex(r.raw_serial()))
        .collect();
    assert_eq!(listed, [entry.serial]);
    // A certificate of another CA cannot be revoked here.
    let other = new_pki(&tmp, "other");
    let foreign = issue(&other, &request(site_role("paris"))).expect("issue");
    assert!(revoke(&dir, &foreign.cert, "x").is_err());
    // The services' loader takes the CRL.
    let files = TlsFiles {
        ca: dir.join(CA_CERT),
        cert: issued.cert.clone(),
        key: issued.key.clone(),
        crl: Some(written.path),
    };
    let material = TlsMaterial::load(&files, domain()).expect("loads with the CRL");
    assert!(material.server_config().is_ok());
}
