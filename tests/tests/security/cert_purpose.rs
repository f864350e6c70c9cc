//! A certificate is accepted only for the purpose it was issued for: a client certificate
//! without the `clientAuth` extended key usage (or with no EKU at all, which WebPKI alone
//! would accept for anything) is refused by the hub, and a server certificate without
//! `serverAuth` is refused by its clients. The certificates are signed by the organisation CA
//! with every other property right, so only the EKU differs.

use socfed_runtime::tls::{ExpectedServer, TlsFiles};
use socfed_tests::{clients, fixture::Org, inproc, pki::TestPki};

/// Signs a certificate for `uri` with the test CA, with the given EKUs, and writes it.
fn sign(
    pki: &TestPki,
    uri: &str,
    usages: Vec<rcgen::ExtendedKeyUsagePurpose>,
    stem: &str,
) -> anyhow::Result<TlsFiles> {
    let ca_pem = std::fs::read_to_string(pki.ca())?;
    let ca_key = rcgen::KeyPair::from_pem(&std::fs::read_to_string(pki.dir.join("ca.key"))?)?;
    let issuer = rcgen::Issuer::from_ca_cert_pem(&ca_pem, ca_key)?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = usages;
    params.use_authority_key_identifier_extension = true;
    params
        .subject_alt_names
        .push(rcgen::SanType::URI(uri.try_into()?));
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress("127.0.0.1".parse()?));
    let key = rcgen::KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    let dir = pki.dir.join("crafted");
    std::fs::create_dir_all(&dir)?;
    let files = TlsFiles {
        ca: pki.ca(),
        cert: dir.join(format!("{stem}.crt")),
        key: dir.join(format!("{stem}.key")),
        crl: None,
    };
    std::fs::write(&files.cert, cert.pem())?;
    std::fs::write(&files.key, key.serialize_pem())?;
    Ok(files)
}

async fn lists(hub: std::net::SocketAddr, files: &TlsFiles, pki: &TestPki) -> bool {
    let Ok(mut op) = clients::operator(hub, files, &pki.domain) else {
        return false;
    };
    clients::sites(&mut op).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_need_client_auth_and_servers_need_server_auth() -> anyhow::Result<()> {
    use rcgen::ExtendedKeyUsagePurpose::{ClientAuth, ServerAuth};
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let uri = "spiffe://corp.example/operator/eve";
    // The control: the same crafted certificate with clientAuth is accepted.
    let proper = sign(&org.pki, uri, vec![ClientAuth], "with-client-auth")?;
    assert!(lists(hub.addr, &proper, &org.pki).await, "control refused");
    let no_eku = sign(&org.pki, uri, vec![], "no-eku")?;
    assert!(
        !lists(hub.addr, &no_eku, &org.pki).await,
        "a client certificate without any EKU was accepted"
    );
    let server_only = sign(&org.pki, uri, vec![ServerAuth], "server-only")?;
    assert!(!lists(hub.addr, &server_only, &org.pki).await);
    hub.stop().await?;

    // A hub certificate without serverAuth: agents and operators refuse to talk to it.
    let hub_files = sign(
        &org.pki,
        "spiffe://corp.example/hub",
        vec![ClientAuth],
        "hub-client-only",
    )?;
    std::fs::copy(&hub_files.cert, org.pki.dir.join("hub.crt"))?;
    std::fs::copy(&hub_files.key, org.pki.dir.join("hub.key"))?;
    let second = org.dir().join("second");
    std::fs::create_dir_all(&second)?;
    let hub = inproc::hub(&second, &org.pki, &["paris"], "").await?;
    let operator = org.pki.operator("tester")?;
    let channel = clients::channel(hub.addr, &operator, &org.pki.domain, ExpectedServer::Hub)?;
    let mut op = socfed_proto::pb::operator_client::OperatorClient::new(channel);
    assert!(
        clients::sites(&mut op).await.is_err(),
        "a client trusted a hub certificate without serverAuth"
    );
    hub.stop().await?;
    Ok(())
}
