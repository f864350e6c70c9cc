//! The certificate misuse matrix on the escalation stream: certificates signed by the real
//! organisation CA but wrong in one way each. Every one is refused (at the handshake, or with
//! UNAUTHENTICATED / PERMISSION_DENIED on the first call) and nothing reaches the store.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use socfed_runtime::tls::TlsFiles;
use socfed_tests::{clients, fixture::Org, pki::TestPki};
use std::path::Path;
use time::{Duration as Span, OffsetDateTime};

struct Case {
    name: &'static str,
    uris: Vec<&'static str>,
    eku: Vec<ExtendedKeyUsagePurpose>,
    ca: bool,
    valid: (OffsetDateTime, OffsetDateTime),
}

fn issue(pki: &TestPki, dir: &Path, case: &Case) -> anyhow::Result<TlsFiles> {
    let ca_key = KeyPair::from_pem(&std::fs::read_to_string(pki.dir.join("ca.key"))?)?;
    let issuer = Issuer::from_ca_cert_pem(&std::fs::read_to_string(pki.ca())?, ca_key)?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, case.name);
    params.subject_alt_names = case
        .uris
        .iter()
        .map(|u| Ok(SanType::URI((*u).try_into()?)))
        .collect::<anyhow::Result<_>>()?;
    params.extended_key_usages = case.eku.clone();
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if case.ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages.push(KeyUsagePurpose::KeyCertSign);
    }
    params.use_authority_key_identifier_extension = true;
    (params.not_before, params.not_after) = case.valid;
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    let (cert_path, key_path) = (
        dir.join(format!("{}.crt", case.name)),
        dir.join(format!("{}.key", case.name)),
    );
    std::fs::write(&cert_path, cert.pem())?;
    std::fs::write(&key_path, key.serialize_pem())?;
    Ok(TlsFiles {
        ca: pki.ca(),
        cert: cert_path,
        key: key_path,
        crl: None,
    })
}

/// A client presenting `files` as they are: socfed's own loader would refuse most of these
/// certificates before they ever reached the hub.
fn raw_channel(
    hub: std::net::SocketAddr,
    files: &TlsFiles,
) -> anyhow::Result<tonic::transport::Channel> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&files.ca)? {
        roots.add(cert?)?;
    }
    let chain = CertificateDer::pem_file_iter(&files.cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(&files.key)?;
    let mut config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])?
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(socfed_runtime::tls::channel(
        &hub.to_string(),
        "127.0.0.1",
        std::sync::Arc::new(config),
        std::time::Duration::from_secs(5),
    )?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misused_certificates_are_refused_and_nothing_is_stored() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let now = OffsetDateTime::now_utc();
    let valid = (now - Span::hours(1), now + Span::days(10));
    let client = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let paris = "spiffe://corp.example/site/paris";
    let cases = [
        Case {
            name: "expired",
            uris: vec![paris],
            eku: client.clone(),
            ca: false,
            valid: (now - Span::days(20), now - Span::days(10)),
        },
        Case {
            name: "not-yet-valid",
            uris: vec![paris],
            eku: client.clone(),
            ca: false,
            valid: (now + Span::days(10), now + Span::days(20)),
        },
        Case {
            name: "two-uri-sans",
            uris: vec![paris, "spiffe://corp.example/site/lyon"],
            eku: client.clone(),
            ca: false,
            valid,
        },
        Case {
            name: "ca-as-leaf",
            uris: vec![paris],
            eku: client.clone(),
            ca: true,
            valid,
        },
        Case {
            name: "no-client-auth",
            uris: vec![paris],
            eku: vec![ExtendedKeyUsagePurpose::ServerAuth],
            ca: false,
            valid,
        },
        Case {
            name: "other-trust-domain",
            uris: vec!["spiffe://other.example/site/paris"],
            eku: client.clone(),
            ca: false,
            valid,
        },
        Case {
            name: "no-spiffe-id",
            uris: vec![],
            eku: client.clone(),
            ca: false,
            valid,
        },
    ];
    for case in &cases {
        let files = issue(&org.pki, org.dir(), case)?;
        let channel = raw_channel(hub.addr, &files)?;
        let outcome = clients::RawStream::open_welcomed(
            channel,
            clients::hello("paris", ulid::Ulid::new(), 1),
        )
        .await;
        let status = match outcome {
            Ok(_) => anyhow::bail!("{}: the hub accepted the stream", case.name),
            Err(status) => status,
        };
        // A transport error means the handshake was refused; otherwise the call was refused.
        assert!(
            matches!(
                status.code(),
                tonic::Code::Unavailable
                    | tonic::Code::Unknown
                    | tonic::Code::Cancelled
                    | tonic::Code::Unauthenticated
                    | tonic::Code::PermissionDenied
            ),
            "{}: {:?} {}",
            case.name,
            status.code(),
            status.message()
        );
    }
    // Nothing was stored for paris.
    let mut op = org.operator(hub.addr, "tester")?;
    let sites = clients::sites(&mut op).await?;
    let paris_site = sites.iter().find(|s| s.site_id == "paris");
    assert!(
        paris_site.is_none_or(|s| s.escalations_stored == 0 && s.last_seen_ms == 0),
        "{sites:?}"
    );
    assert!(clients::all_incidents(&mut op).await?.is_empty());
    // And the genuine certificate still works.
    org.escalate_once(hub.addr, "paris", clients::report("p-1", "genuine"))
        .await?;
    hub.stop().await?;
    // Each misuse is audited once: at the handshake, or as a refused escalation stream.
    let records = socfed_tests::audit::refusals(&org.dir().join("hub-data"))?;
    let audited = socfed_tests::audit::count(&records, "tls handshake", "", "")
        + socfed_tests::audit::count(&records, "/socfed.v1.Federation/Escalate", "", "");
    assert_eq!(audited, cases.len() as u64, "{records:#?}");
    Ok(())
}
