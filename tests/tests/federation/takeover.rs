//! Someone holding a site's key can keep the real site off the hub by reconnecting: each new
//! stream supersedes the site's open one. A stream superseded from another address is a
//! security event, audited through the refusal window (one record per source and window, with
//! a count); the site reconnecting from its own address is not. Real in-process hub over mTLS,
//! streams from two loopback addresses.

use socfed_runtime::tls::{ExpectedServer, TlsMaterial};
use socfed_tests::clients::{RawStream, hello};
use socfed_tests::{fixture::Org, pki::TestPki};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

/// A site channel whose TCP connection leaves from `local` (any 127/8 address is loopback).
fn channel_from(
    hub: SocketAddr,
    pki: &TestPki,
    site: &str,
    local: IpAddr,
) -> anyhow::Result<Channel> {
    let material = TlsMaterial::load(&pki.site(site)?, pki.domain.clone())?;
    let connector = tokio_rustls::TlsConnector::from(material.client_config(ExpectedServer::Hub)?);
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1")?;
    let endpoint =
        Endpoint::from_shared(format!("http://{hub}"))?.connect_timeout(Duration::from_secs(5));
    Ok(
        endpoint.connect_with_connector_lazy(tower::service_fn(move |_uri| {
            let (connector, name) = (connector.clone(), name.clone());
            async move {
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.bind(SocketAddr::new(local, 0))?;
                let tcp = socket.connect(hub).await?;
                let tls = connector.connect(name, tcp).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
            }
        })),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_taken_over_from_another_address_is_audited_and_a_reconnect_is_not()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let (real, thief): (IpAddr, IpAddr) = ("127.0.0.1".parse()?, "127.0.0.2".parse()?);
    let epoch = ulid::Ulid::new();
    let mut open = Vec::new();
    // The site, then the site again from its own address (a restart), then the key holder,
    // the site, the key holder: three takeovers, two of them from the same source.
    for from in [real, real, thief, real, thief] {
        let channel = channel_from(hub.addr, &org.pki, "paris", from)?;
        let (stream, _) = RawStream::open_welcomed(channel, hello("paris", epoch, 1)).await?;
        open.push(stream);
    }
    hub.stop().await?;
    drop(open);

    let records =
        socfed_tests::audit::records(&org.dir().join("hub-data"), sirt_hub::refusals::TAKEOVER)?;
    let from = |peer: IpAddr, displaced: IpAddr| -> u64 {
        records
            .iter()
            .filter(|r| {
                r.peer == peer.to_string()
                    && r.reason.contains(&format!("from {displaced}"))
                    && r.who.contains("/site/paris")
                    && r.api == "/socfed.v1.Federation/Escalate"
            })
            .map(|r| r.count)
            .sum()
    };
    assert_eq!(from(thief, real), 2, "{records:?}");
    assert_eq!(from(real, thief), 1, "{records:?}");
    assert_eq!(
        records.iter().map(|r| r.count).sum::<u64>(),
        3,
        "the reconnect from the site's own address is no takeover: {records:?}"
    );
    // Two takeovers from one source in one window: its first record at once, the repeat as a
    // count at the window's end, never one record per stream.
    assert!(records.len() <= 3, "{records:?}");
    Ok(())
}
