//! Real TLS handshakes with the issued material, through `socfed-proto`'s configurations.

use super::tests::{domain, hub_role, material, new_pki, operator_role, request, site, site_role};
use super::*;
use socfed_proto::identity::{Identity, identity_from_der};
use socfed_runtime::tls::ExpectedServer;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Runs a TLS handshake over an in-memory pipe and a ping round trip. Returns what the
/// server saw (the client's identity) and the client's outcome.
async fn handshake(
    server: Arc<rustls::ServerConfig>,
    client: Arc<rustls::ClientConfig>,
    server_name: &str,
) -> (Result<Identity, String>, Result<(), String>) {
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let name = rustls::pki_types::ServerName::try_from(server_name.to_string()).expect("name");
    let server_side = async move {
        let acceptor = tokio_rustls::TlsAcceptor::from(server);
        let mut tls = acceptor
            .accept(server_io)
            .await
            .map_err(|e| e.to_string())?;
        let leaf = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|certs| certs.first().cloned())
            .ok_or("no client certificate")?;
        let mut ping = [0_u8; 4];
        tls.read_exact(&mut ping).await.map_err(|e| e.to_string())?;
        tls.write_all(&ping).await.map_err(|e| e.to_string())?;
        tls.flush().await.map_err(|e| e.to_string())?;
        identity_from_der(&leaf, &domain())
            .map(|peer| peer.identity)
            .map_err(|e| e.to_string())
    };
    let client_side = async move {
        let connector = tokio_rustls::TlsConnector::from(client);
        let mut tls = connector
            .connect(name, client_io)
            .await
            .map_err(|e| e.to_string())?;
        tls.write_all(b"ping").await.map_err(|e| e.to_string())?;
        tls.flush().await.map_err(|e| e.to_string())?;
        let mut pong = [0_u8; 4];
        tls.read_exact(&mut pong).await.map_err(|e| e.to_string())?;
        if &pong == b"ping" {
            Ok(())
        } else {
            Err(format!("echo mismatch: {pong:?}"))
        }
    };
    tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(server_side, client_side)
    })
    .await
    .expect("handshake finished in time")
}

#[tokio::test]
async fn site_and_operator_clients_complete_mutual_tls_with_the_hub() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = new_pki(&tmp, "pki");
    let hub_role = LeafRole::Hub {
        dns: vec!["hub.corp.example".into()],
        ips: vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))],
    };
    let hub = material(&dir, &issue(&dir, &request(hub_role)).expect("hub"));
    let server = hub.server_config().expect("server config");
    for (role, identity) in [
        (site_role("paris"), Identity::Site(site("paris"))),
        (operator_role("alice"), Identity::Operator("alice".into())),
    ] {
        let client = material(&dir, &issue(&dir, &request(role)).expect("client"));
        for name in ["hub.corp.example", "10.0.0.1"] {
            let config = client
                .client_config(ExpectedServer::Hub)
                .expect("client config");
            let (seen, outcome) = handshake(server.clone(), config, name).await;
            assert_eq!(outcome, Ok(()), "{identity} dialling {name}");
            assert_eq!(seen, Ok(identity.clone()));
        }
    }
}

#[tokio::test]
async fn a_client_expecting_the_hub_refuses_a_site_server() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = new_pki(&tmp, "pki");
    let rogue = material(
        &dir,
        &issue(&dir, &request(site_role("lyon"))).expect("lyon"),
    );
    let client = material(
        &dir,
        &issue(&dir, &request(site_role("paris"))).expect("paris"),
    );
    let config = client
        .client_config(ExpectedServer::Hub)
        .expect("client config");
    let (seen, outcome) =
        handshake(rogue.server_config().expect("server"), config, "localhost").await;
    let error = outcome.expect_err("the site certificate must not pass as the hub");
    assert!(error.contains("spiffe://corp.example/site/lyon"), "{error}");
    assert!(seen.is_err());

    // The same site server is fine for a client that expects that site.
    let config = client
        .client_config(ExpectedServer::Site(site("lyon")))
        .expect("client config");
    let (_, outcome) = handshake(rogue.server_config().expect("server"), config, "::1").await;
    assert_eq!(outcome, Ok(()));
}

#[tokio::test]
async fn the_hub_refuses_a_client_certificate_from_another_ca() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ours = new_pki(&tmp, "ours");
    let theirs = new_pki(&tmp, "theirs");
    let hub = material(&ours, &issue(&ours, &request(hub_role())).expect("hub"));
    // Same trust domain and site id, but signed by an independent CA. The client trusts our
    // CA, so only the server's client-certificate check can stop it.
    let foreign = issue(&theirs, &request(site_role("paris"))).expect("foreign site");
    let client = material(&ours, &foreign);
    let config = client
        .client_config(ExpectedServer::Hub)
        .expect("client config");
    let (seen, outcome) =
        handshake(hub.server_config().expect("server"), config, "localhost").await;
    let error = seen.expect_err("the server must refuse the foreign certificate");
    // Both CAs share a subject name, so webpki finds our CA and the signature check fails.
    assert!(error.contains("invalid peer certificate"), "{error}");
    assert!(outcome.is_err());
}

#[tokio::test]
async fn a_client_with_the_crl_refuses_a_revoked_hub_certificate() {
    let tmp = tempfile::tempdir().expect("tempdir");
    refuses_the_revoked_hub(&new_pki(&tmp, "pki")).await;
}

#[tokio::test]
async fn the_crl_still_applies_to_certificates_that_name_a_distribution_point() {
    // A CRL without an issuing distribution point covers every certificate of its issuer,
    // including those naming a distribution point (`pki init --crl-url`).
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("pki");
    init_with_crl_url(&dir, &domain(), 365, Some("http://127.0.0.1:9464/crl")).expect("init");
    refuses_the_revoked_hub(&dir).await;
}

async fn refuses_the_revoked_hub(dir: &Path) {
    let dir = dir.to_path_buf();
    let hub_role = LeafRole::Hub {
        dns: vec![],
        ips: vec![IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1))],
    };
    let hub_issued = issue(&dir, &request(hub_role)).expect("hub");
    let server = material(&dir, &hub_issued).server_config().expect("server");
    let paris = issue(&dir, &request(site_role("paris"))).expect("paris");
    let crl = revoke(&dir, &hub_issued.cert, "keyCompromise").expect("revoked");
    let with_crl = socfed_runtime::tls::TlsMaterial::load(
        &socfed_runtime::tls::TlsFiles {
            ca: dir.join(CA_CERT),
            cert: paris.cert.clone(),
            key: paris.key.clone(),
            crl: Some(crl.path),
        },
        domain(),
    )
    .expect("material with the crl");
    let config = with_crl
        .client_config(ExpectedServer::Hub)
        .expect("client config");
    let (_, outcome) = handshake(server.clone(), config, "127.0.0.1").await;
    let error = outcome.expect_err("a revoked hub certificate must be refused");
    assert!(error.contains("Revoked"), "{error}");
    // Without the CRL the same handshake succeeds: the refusal comes from the CRL.
    let config = material(&dir, &paris)
        .client_config(ExpectedServer::Hub)
        .expect("client config");
    assert_eq!(handshake(server, config, "127.0.0.1").await.1, Ok(()));
}
