//! An API token dies with the certificate that minted it: a CISO's certificate stolen and
//! revoked (`sirt-hub pki revoke`, the CRL re-read by the running hub) takes its tokens with
//! it — a call is 401 saying to mint a new one and an open event stream ends — while a token
//! the same operator minted with another certificate keeps working.

use socfed_proto::pb::{self, operator_roster_client::OperatorRosterClient};
use socfed_runtime::tls::{ExpectedServer, TlsFiles};
use socfed_tests::{api, clients, eventually, fixture::Org, web};
use std::time::Duration;

const EXTRA: &str =
    "[[operators]]\nname = \"carl\"\nrole = \"ciso\"\n[dashboard]\nlisten = \"127.0.0.1:0\"\n";
const MINTER_REVOKED: &str = "the certificate that minted this token was revoked";

/// A read token minted over gRPC with `files`, as `sirt-hub tokens create` does.
async fn mint(
    org: &Org,
    hub: std::net::SocketAddr,
    files: &TlsFiles,
    name: &str,
) -> anyhow::Result<String> {
    let channel = clients::channel(hub, files, &org.pki.domain, ExpectedServer::Hub)?;
    Ok(OperatorRosterClient::new(channel)
        .create_api_token(pb::CreateApiTokenRequest {
            name: name.into(),
            scopes: vec!["read".into()],
            lifetime_ms: 3_600_000,
        })
        .await?
        .into_inner()
        .token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_is_refused_once_the_certificate_that_minted_it_is_revoked() -> anyhow::Result<()> {
    let org = Org::new()?;
    let crl = sirt_hub::pki::write_crl(&org.pki.dir)?.path;
    let config = socfed_tests::procs::write_hub_config(
        org.dir(),
        &org.pki,
        "127.0.0.1:0".parse()?,
        &["paris"],
        EXTRA,
    )?;
    socfed_tests::procs::with_crl(&config, &crl)?;
    let hub = sirt_hub::app::start(sirt_hub::config::HubConfig::load(&config)?).await?;
    let root = api::base(&hub)?;
    let plain = web::https(&org.pki)?;
    // Each certificate issued to carl replaces the files of the one before: the one revoked
    // is issued last.
    let kept_token = mint(&org, hub.addr, &org.pki.operator("carl")?, "kept").await?;
    let stolen = org.pki.operator("carl")?;
    let stolen_token = mint(&org, hub.addr, &stolen, "stolen").await?;
    for token in [&stolen_token, &kept_token] {
        let r = plain
            .get(format!("{root}/incidents"))
            .bearer_auth(token)
            .send()
            .await?;
        assert_eq!(r.status().as_u16(), 200);
    }
    let response = plain
        .get(format!("{root}/events"))
        .bearer_auth(&stolen_token)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 200);
    let mut stream = api::SseReader::new(response);

    sirt_hub::pki::revoke(&org.pki.dir, &stolen.cert, "key compromise")?;
    let text = eventually(
        "the revocation to refuse the token",
        Duration::from_secs(20),
        || {
            let (plain, url, token) = (
                plain.clone(),
                format!("{root}/incidents"),
                stolen_token.clone(),
            );
            async move {
                let r = plain.get(url).bearer_auth(token).send().await.ok()?;
                (r.status().as_u16() == 401).then_some(())?;
                r.text().await.ok()
            }
        },
    )
    .await?;
    assert!(text.contains(MINTER_REVOKED), "{text}");
    let r = plain
        .get(format!("{root}/incidents"))
        .bearer_auth(&kept_token)
        .send()
        .await?;
    let status = r.status().as_u16();
    let body = r.text().await?;
    assert_eq!(status, 200, "another certificate's token lives: {body}");

    // The open stream sends nothing more on the dead token: it ends at the next event.
    org.escalate_once(hub.addr, "paris", clients::report("p-1", "Beacon"))
        .await?;
    let end = stream.next(Duration::from_secs(20)).await?;
    assert_eq!(end.event, "end", "{end:?}");
    hub.stop().await?;
    Ok(())
}
