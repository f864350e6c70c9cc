//! Creating, issuing, listing and refusing, checked on disk and through `socfed-proto`.

use super::*;
use socfed_proto::identity::Identity;
use socfed_runtime::tls::{TlsFiles, TlsMaterial};
use std::os::unix::fs::PermissionsExt;
use x509_parser::extensions::GeneralName;

pub(super) fn domain() -> TrustDomain {
    TrustDomain::parse("corp.example").expect("valid domain")
}

pub(super) fn site(id: &str) -> SiteId {
    SiteId::parse(id).expect("valid site id")
}

pub(super) fn hub_role() -> LeafRole {
    LeafRole::Hub {
        dns: Vec::new(),
        ips: Vec::new(),
    }
}

pub(super) fn site_role(id: &str) -> LeafRole {
    LeafRole::Site {
        id: site(id),
        dns: Vec::new(),
        ips: Vec::new(),
    }
}

pub(super) fn operator_role(name: &str) -> LeafRole {
    LeafRole::Operator {
        name: name.to_string(),
    }
}

pub(super) fn request(role: LeafRole) -> IssueRequest {
    IssueRequest {
        role,
        validity_days: 30,
        overwrite: false,
    }
}

/// A fresh PKI directory (inside `tmp`) with its CA.
pub(super) fn new_pki(tmp: &tempfile::TempDir, name: &str) -> PathBuf {
    let dir = tmp.path().join(name);
    init(&dir, &domain(), 365).expect("init");
    dir
}

pub(super) fn material(ca_dir: &Path, issued: &Issued) -> TlsMaterial {
    let files = TlsFiles {
        ca: ca_dir.join(CA_CERT),
        cert: issued.cert.clone(),
        key: issued.key.clone(),
        crl: None,
    };
    TlsMaterial::load(&files, domain()).expect("socfed-proto loads the issued material")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn init_then_issue_each_role_loads_as_the_expected_identity() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("pki");
    let info = init(&dir, &domain(), 365).expect("init");
    assert_eq!(info.ca_cert, dir.join("ca.crt"));
    assert_eq!(info.domain, domain());
    assert_eq!(trust_domain(&dir).expect("pki.toml"), domain());
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("ca.key")), 0o600);

    let cases = [
        (
            hub_role(),
            Identity::Hub,
            "hub.crt",
            "spiffe://corp.example/hub",
        ),
        (
            site_role("paris"),
            Identity::Site(site("paris")),
            "sites/paris.crt",
            "spiffe://corp.example/site/paris",
        ),
        (
            operator_role("alice"),
            Identity::Operator("alice".into()),
            "operators/alice.crt",
            "spiffe://corp.example/operator/alice",
        ),
    ];
    for (role, identity, cert, uri) in cases {
        let issued = issue(&dir, &request(role)).expect("issue");
        assert_eq!(issued.cert, dir.join(cert));
        assert_eq!(issued.key, issued.cert.with_extension("key"));
        assert_eq!(issued.uri, uri);
        assert_eq!(mode(&issued.key), 0o600, "{}", issued.key.display());
        assert_eq!(mode(&issued.cert), files::PUBLIC_MODE);
        if let Some(parent) = issued.cert.parent().filter(|p| *p != dir) {
            assert_eq!(mode(parent), 0o700, "{}", parent.display());
        }
        let loaded = material(&dir, &issued);
        assert_eq!(loaded.own.identity, identity);
        assert_eq!(loaded.own.uri, uri);
    }
}

#[test]
fn certificates_carry_the_promised_extensions() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = new_pki(&tmp, "pki");
    let ca_pem = inspect::read_pem(&dir.join("ca.crt")).expect("pem");
    let ca = inspect::parse_pem(&ca_pem, &dir.join("ca.crt")).expect("ca");
    let bc = ca.basic_constraints().expect("bc").expect("present").value;
    assert!(bc.ca);
    assert_eq!(bc.path_len_constraint, Some(0));
    let ku = ca.key_usage().expect("ku").expect("present").value;
    assert!(ku.key_cert_sign() && ku.crl_sign() && !ku.digital_signature());
    assert_eq!(
        ca.subject().to_string(),
        "CN=socfed organisation CA (corp.example)"
    );

    let now = now_unix().expect("clock");
    for (role, server, client, cn) in [
        (hub_role(), true, false, "CN=socfed hub"),
        (site_role("lyon"), true, true, "CN=socfed site lyon"),
        (operator_role("bob"), false, true, "CN=socfed operator bob"),
    ] {
        let issued = issue(&dir, &request(role)).expect("issue");
        let pem = inspect::read_pem(&issued.cert).expect("pem");
        let cert = inspect::parse_pem(&pem, &issued.cert).expect("cert");
        assert_eq!(cert.subject().to_string(), cn);
        assert!(!cert.is_ca());
        let ku = cert.key_usage().expect("ku").expect("present").value;
        assert!(ku.digital_signature() && !ku.key_cert_sign());
        let eku = cert
            .extended_key_usage()
            .expect("eku")
            .expect("present")
            .value;
        assert_eq!((eku.server_auth, eku.client_auth), (server, client), "{cn}");
        let names = &cert
            .subject_alternative_name()
            .expect("san")
            .expect("present")
            .value
            .general_names;
        let uris = names
            .iter()
            .filter(|n| matches!(n, GeneralName::URI(_)))
            .count();
        assert_eq!(uris, 1, "{cn}");
        // Servers default to the loopback names; operators carry only their URI.
        assert_eq!(names.len(), if server { 4 } else { 1 }, "{cn}");
        let validity = cert.validity();
        let skew = now - validity.not_before.timestamp();
        // `now` is read before the certificate is made: allow for a second boundary between.
        assert!(
            (CLOCK_SKEW_SECS - 2..CLOCK_SKEW_SECS + 60).contains(&skew),
            "{skew}"
        );
        let days = (validity.not_after.timestamp() - now + 60) / SECS_PER_DAY;
        assert_eq!(days, 30);
        assert_eq!(
            issued.not_after,
            inspect::rfc3339(validity.not_after.timestamp())
        );
        assert_ne!(cert.raw_serial(), ca.raw_serial());
    }
}

#[test]
fn list_reports_every_certificate_with_its_role() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = new_pki(&tmp, "pki");
    for role in [hub_role(), site_role("paris"), operator_role("alice")] {
        issue(&dir, &request(role)).expect("issue");
    }
    let listed = list(&dir).expect("list");
    let seen: Vec<(PathBuf, &str, &str)> = listed
        .iter()
        .map(|c| (c.path.clone(), c.role.as_str(), c.identity.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (dir.join("ca.crt"), "ca", ""),
            (dir.join("hub.crt"), "hub", "spiffe://corp.example/hub"),
            (
                dir.join("operators/alice.crt"),
                "operator",
                "spiffe://corp.example/operator/alice"
            ),
            (
                dir.join("sites/paris.crt"),
                "site",
                "spiffe://corp.example/site/paris"
            ),
        ]
    );
    for cert in &listed {
        assert_eq!(cert.serial.len(), 32, "{}", cert.serial);
        assert!(cert.not_before < cert.not_after);
        assert_eq!(cert.not_after, inspect::rfc3339(cert.not_after_unix));
    }
}

#[test]
fn issuing_twice_needs_overwrite() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = new_pki(&tmp, "pki");
    let first = issue(&dir, &request(site_role("paris"))).expect("first issue");
    let before = std::fs::read(&first.cert).expect("read");

    let err = issue(&dir, &request(site_role("paris"))).expect_err("second issue must fail");
    assert!(matches!(err, PkiError::AlreadyExists { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("already exists") && message.contains("overwrite"),
        "{message}"
    );
    assert_eq!(std::fs::read(&first.cert).expect("read"), before);

    // Loosen the old key's mode: the replacement must still be 0600.
    std::fs::set_permissions(&first.key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let again = IssueRequest {
        overwrite: true,
        ..request(site_role("paris"))
    };
    let second = issue(&dir, &again).expect("overwrite");
    assert_ne!(std::fs::read(&second.cert).expect("read"), before);
    assert_eq!(mode(&second.key), 0o600);
    material(&dir, &second);
    let leftovers: Vec<_> = std::fs::read_dir(dir.join("sites"))
        .expect("read_dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn init_twice_fails() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = new_pki(&tmp, "pki");
    let before = std::fs::read(dir.join("ca.crt")).expect("read");
    let err = init(&dir, &domain(), 365).expect_err("second init must fail");
    assert!(
        matches!(err, PkiError::AlreadyInitialised { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("already holds a CA"), "{err}");
    assert_eq!(std::fs::read(dir.join("ca.crt")).expect("read"), before);
}

#[test]
fn bad_requests_are_refused_with_typed_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let empty = tmp.path().join("empty");
    let err = issue(&empty, &request(hub_role())).expect_err("no CA");
    assert!(matches!(err, PkiError::NotInitialised { .. }), "{err:?}");
    assert!(matches!(
        trust_domain(&empty),
        Err(PkiError::NotInitialised { .. })
    ));

    let dir = new_pki(&tmp, "pki");
    let err = issue(&dir, &request(operator_role("Alice/.."))).expect_err("bad name");
    assert!(matches!(err, PkiError::BadOperatorName(_)), "{err:?}");
    let bad_dns = LeafRole::Hub {
        dns: vec!["not a host".into()],
        ips: Vec::new(),
    };
    let err = issue(&dir, &request(bad_dns)).expect_err("bad dns");
    assert!(matches!(err, PkiError::BadDnsName { .. }), "{err:?}");
    let err = issue(
        &dir,
        &IssueRequest {
            validity_days: 0,
            ..request(hub_role())
        },
    )
    .expect_err("zero days");
    assert!(matches!(err, PkiError::BadValidity { days: 0 }), "{err:?}");
    let err = issue(
        &dir,
        &IssueRequest {
            validity_days: 400,
            ..request(hub_role())
        },
    )
    .expect_err("outlives the CA");
    assert!(
        matches!(
            err,
            PkiError::OutlivesCa {
                max_days: 364 | 365,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!dir.join("hub.crt").exists() && !dir.join("hub.key").exists());
}

#[test]
fn a_key_that_does_not_match_the_ca_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let first = new_pki(&tmp, "first");
    let second = new_pki(&tmp, "second");
    std::fs::copy(second.join("ca.key"), first.join("ca.key")).expect("copy");
    let err = issue(&first, &request(hub_role())).expect_err("mismatched key");
    assert!(matches!(err, PkiError::CaKeyMismatch { .. }), "{err:?}");
}
