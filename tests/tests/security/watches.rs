//! One operator certificate cannot open thousands of streams: the hub caps the HTTP/2 streams
//! of one connection (SETTINGS_MAX_CONCURRENT_STREAMS) and the watches of one operator
//! (RESOURCE_EXHAUSTED, saying which limit and what to do). In-process hub, real mTLS.

use socfed_proto::pb;
use socfed_runtime::tls::{ExpectedServer, TlsMaterial};
use socfed_tests::{eventually, fixture::Org};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_per_operator_are_capped_and_a_closed_watch_frees_its_slot() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org
        .hub(&[], "[limits]\nmax_watches_per_operator = 5\n")
        .await?;
    // An operator with no hub role, as in the attack: queries need only the certificate.
    let mut op = org.operator(hub.addr, "nobody")?;
    let mut open = Vec::new();
    for _ in 0..5 {
        open.push(
            op.watch_incidents(pb::WatchIncidentsRequest::default())
                .await?
                .into_inner(),
        );
    }
    let refused = op
        .watch_incidents(pb::WatchIncidentsRequest::default())
        .await
        .expect_err("a sixth watch");
    assert_eq!(
        refused.code(),
        tonic::Code::ResourceExhausted,
        "{refused:?}"
    );
    assert!(
        refused.message().contains("max_watches_per_operator"),
        "{}",
        refused.message()
    );
    // Another operator is not affected.
    let mut other = org.operator(hub.addr, "carl")?;
    other
        .watch_incidents(pb::WatchIncidentsRequest::default())
        .await?;
    // Closing a watch gives its slot back (the hub notices the stream is gone).
    drop(open.pop());
    eventually("a freed watch slot", Duration::from_secs(10), || {
        let mut op = op.clone();
        async move {
            op.watch_incidents(pb::WatchIncidentsRequest::default())
                .await
                .ok()
        }
    })
    .await?;
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_announces_its_stream_cap_per_connection() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org
        .hub(&[], "[connections]\nmax_streams_per_connection = 8\n")
        .await?;
    let material = TlsMaterial::load(&org.pki.operator("nobody")?, org.pki.domain.clone())?;
    let tls = tokio_rustls::TlsConnector::from(material.client_config(ExpectedServer::Hub)?);
    let tcp = tokio::net::TcpStream::connect(hub.addr).await?;
    let stream = tls
        .connect(rustls::pki_types::ServerName::try_from("127.0.0.1")?, tcp)
        .await?;
    let (_send, mut connection) = h2::client::handshake(stream).await?;
    // The server's SETTINGS arrive as the connection is driven.
    let cap = eventually("the server's SETTINGS", Duration::from_secs(10), || {
        let polled = futures_util::FutureExt::now_or_never(&mut connection);
        let cap = connection.max_concurrent_send_streams();
        async move {
            assert!(polled.is_none(), "the hub closed the connection");
            (cap != usize::MAX).then_some(cap)
        }
    })
    .await?;
    assert_eq!(cap, 8);
    hub.stop().await?;
    Ok(())
}
