//! Every listener caps and times its connections (docs/SECURITY.md, "Listener caps and
//! timers"). The hub runs as a real process under a lowered open-file limit (`prlimit`): a
//! flood of raw TCP and certificate-less TLS connections from many addresses, more than its
//! caps and more than its descriptors, is refused at accept while a connected site keeps
//! escalating; the refusals show in `/metrics`; the hub stays up and stops on SIGTERM.

use socfed_proto::pb;
use socfed_tests::procs::{Proc, binary, write_hub_config};
use socfed_tests::{clients, eventually, fixture::Org, free_port, http_get};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpSocket, TcpStream};

/// Open-file limit of the hub process: well below the flood's size.
const NOFILE: u32 = 512;

async fn raw_from(source: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
    socket.connect(to).await
}

fn tls_without_certificate(ca: &std::path::Path) -> anyhow::Result<tokio_rustls::TlsConnector> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca)? {
        roots.add(cert?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// The test process holds the flood's sockets: its own soft limit goes up to its hard one.
fn raise_own_limit() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let _ = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        },
    );
}

fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_flood_beyond_the_caps_and_descriptors_leaves_the_hub_up_and_a_site_escalating()
-> anyhow::Result<()> {
    socfed_tests::init_logs();
    raise_own_limit();
    let org = Org::new()?;
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let admin: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let config = write_hub_config(
        org.dir(),
        &org.pki,
        hub_addr,
        &["paris"],
        &format!("[admin]\nlisten = \"{admin}\"\n"),
    )?;
    let hub_bin = binary("sirt-hub")?;
    let nofile = format!("--nofile={NOFILE}:{NOFILE}");
    let mut hub = Proc::spawn(
        std::path::Path::new("prlimit"),
        &[
            &nofile,
            hub_bin.to_str().unwrap_or_default(),
            "serve",
            "--config",
            config.to_str().unwrap_or_default(),
        ],
        org.dir().join("hub.log"),
        "hub",
    )?;
    eventually(
        "the hub's admin listener",
        Duration::from_secs(30),
        || async { http_get(admin, "/livez").filter(|(s, _)| *s == 200) },
    )
    .await?;
    let paris = org.agent("paris", hub_addr, "").await?;
    let op = org.operator(hub_addr, "tester")?;
    eventually("paris connected", Duration::from_secs(30), || {
        let mut op = op.clone();
        async move {
            let sites = clients::sites(&mut op).await.ok()?;
            sites
                .iter()
                .any(|s| s.site_id == "paris" && s.connected)
                .then_some(())
        }
    })
    .await?;

    // The flood: raw TCP connections that never speak, from 20 addresses, 40 each (800),
    // and TLS connections without a certificate from 10 more, 30 each (300). Together more
    // than the hub's 512 descriptors; the first address more than its per-address cap.
    // One address of raw connections first, then the TLS ones, then the other raw ones, so
    // that each kind holds slots and meets both caps.
    let connector = tls_without_certificate(&org.pki.ca())?;
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1")?;
    let mut held = Vec::new();
    let mut tls_held = Vec::new();
    let mut connected = 0usize;
    let raw_hosts = |range: std::ops::Range<u8>| range.map(|h| Ipv4Addr::new(127, 0, 0, h));
    for host in raw_hosts(2..3) {
        for _ in 0..40 {
            if let Ok(tcp) = raw_from(host, hub_addr).await {
                connected += 1;
                held.push(tcp);
            }
        }
    }
    for host in 30..40u8 {
        for _ in 0..30 {
            let Ok(tcp) = raw_from(Ipv4Addr::new(127, 0, 0, host), hub_addr).await else {
                continue;
            };
            if let Ok(Ok(tls)) =
                tokio::time::timeout(Duration::from_secs(5), connector.connect(name.clone(), tcp))
                    .await
            {
                tls_held.push(tls);
            }
        }
    }
    for host in raw_hosts(3..22) {
        for _ in 0..40 {
            if let Ok(tcp) = raw_from(host, hub_addr).await {
                connected += 1;
                held.push(tcp);
            }
        }
    }
    tracing::info!(raw = connected, tls = tls_held.len(), "flood held open");

    // While the flood is held, the connected site keeps escalating and every escalation
    // is stored.
    const ESCALATIONS: usize = 30;
    let mut local = org.local(paris.local_addr, "tester")?;
    for n in 0..ESCALATIONS {
        local
            .raise_incident(pb::RaiseIncidentRequest {
                request_id: format!("flood-{n}"),
                title: format!("during the flood {n}"),
                severity: pb::Severity::High as i32,
                ..Default::default()
            })
            .await?;
    }
    eventually(
        "every escalation at the hub",
        Duration::from_secs(60),
        || {
            let mut op = op.clone();
            async move {
                let sites = clients::sites(&mut op).await.ok()?;
                sites
                    .iter()
                    .any(|s| s.site_id == "paris" && s.escalations_stored == ESCALATIONS as u64)
                    .then_some(())
            }
        },
    )
    .await?;
    assert!(
        hub.exited()?.is_none(),
        "the hub stopped under the flood:\n{}",
        hub.log_tail(30)
    );

    // The refusals are counted, with their HELP text.
    let metrics = eventually("refusals in /metrics", Duration::from_secs(30), || async {
        let (_, body) = http_get(admin, "/metrics")?;
        (metric(&body, "socfed_listener_refused_total{") > 0.0).then_some(body)
    })
    .await?;
    assert!(
        metrics.contains("# HELP socfed_listener_refused_total"),
        "{metrics}"
    );
    assert!(
        metric(
            &metrics,
            "socfed_listener_refused_total{listener=\"grpc\",reason=\"unauthenticated_peer_full\"}"
        ) > 0.0,
        "per-address cap: {metrics}"
    );

    // Connections that never finish a handshake, and TLS connections without a certificate,
    // are closed by the hub: none holds its slot.
    for mut tcp in held.drain(..).take(5) {
        let mut byte = [0u8; 1];
        let closed = tokio::time::timeout(Duration::from_secs(30), tcp.read(&mut byte)).await;
        assert!(
            matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
            "a silent connection was left open"
        );
    }
    for mut tls in tls_held.drain(..).take(5) {
        let mut byte = [0u8; 64];
        // The server's HTTP/2 preface may come first; then the hub closes the connection.
        let closed = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                match tls.read(&mut byte).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(
            closed.is_ok(),
            "a connection without a certificate was left open"
        );
    }
    drop(held);
    drop(tls_held);
    let closed = eventually("timer closes in /metrics", Duration::from_secs(30), || async {
        let (_, body) = http_get(admin, "/metrics")?;
        (metric(&body, "socfed_listener_closed_total{listener=\"grpc\",reason=\"handshake_timeout\"}") > 0.0
            && metric(&body, "socfed_listener_closed_total{listener=\"grpc\",reason=\"unauthenticated_lifetime\"}") > 0.0)
            .then_some(())
    })
    .await;
    if closed.is_err() {
        let (_, body) = http_get(admin, "/metrics").unwrap_or_default();
        let ours: Vec<&str> = body
            .lines()
            .filter(|l| l.starts_with("socfed_listener"))
            .collect();
        anyhow::bail!("no timer closes counted: {ours:#?}");
    }

    // After the flood, a new operator connection is served again.
    let mut fresh = org.operator(hub_addr, "tester")?;
    assert_eq!(clients::all_incidents(&mut fresh).await?.len(), ESCALATIONS);
    paris.stop().await?;
    assert_eq!(hub.terminate()?, Some(0), "{}", hub.log_tail(30));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_without_a_certificate_are_counted_in_metrics_not_audited() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let admin: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let config = write_hub_config(
        org.dir(),
        &org.pki,
        hub_addr,
        &[],
        &format!("[admin]\nlisten = \"{admin}\"\n"),
    )?;
    let mut hub = Proc::spawn(
        &binary("sirt-hub")?,
        &["serve", "--config", config.to_str().unwrap_or_default()],
        org.dir().join("hub.log"),
        "hub",
    )?;
    eventually(
        "the hub's admin listener",
        Duration::from_secs(30),
        || async { http_get(admin, "/livez").filter(|(s, _)| *s == 200) },
    )
    .await?;
    const CALLS: usize = 200;
    let channel = clients::channel_without_client_cert(hub_addr, &org.pki.ca())?;
    let mut client = pb::operator_client::OperatorClient::new(channel);
    for _ in 0..CALLS {
        let refused = client
            .list_incidents(pb::ListIncidentsRequest::default())
            .await
            .expect_err("no certificate, no answer");
        assert_eq!(refused.code(), tonic::Code::Unauthenticated);
    }
    let (_, body) = eventually("the refusals counted", Duration::from_secs(10), || async {
        http_get(admin, "/metrics")
            .filter(|(_, b)| metric(b, "socfed_hub_unauthenticated_refusals_total") >= CALLS as f64)
    })
    .await?;
    assert!(
        body.contains("# HELP socfed_hub_unauthenticated_refusals_total"),
        "{body}"
    );
    assert_eq!(hub.terminate()?, Some(0));
    let records = socfed_tests::audit::refusals(&org.dir().join("hub-data"))?;
    assert!(
        records.is_empty(),
        "refusals without a certificate reached the audit chain: {records:?}"
    );
    Ok(())
}

/// A hub with no sites stops on SIGTERM even while peers hold connections that never speak
/// HTTP/2: one without a certificate (closed as soon as the stop begins) and one with an
/// operator certificate (closed after the shutdown grace). docs/RELIABILITY.md states the bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_without_sites_stops_on_sigterm_despite_silent_connections() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let config = write_hub_config(org.dir(), &org.pki, hub_addr, &[], "")?;
    let mut hub = Proc::spawn(
        &binary("sirt-hub")?,
        &["serve", "--config", config.to_str().unwrap_or_default()],
        org.dir().join("hub.log"),
        "hub",
    )?;
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1")?;
    let anonymous = eventually(
        "a TLS connection without a certificate",
        Duration::from_secs(30),
        || async {
            let tcp = TcpStream::connect(hub_addr).await.ok()?;
            tls_without_certificate(&org.pki.ca())
                .ok()?
                .connect(name.clone(), tcp)
                .await
                .ok()
        },
    )
    .await?;
    let material = socfed_runtime::tls::TlsMaterial::load(
        &org.pki.operator("tester")?,
        org.pki.domain.clone(),
    )?;
    let client = material.client_config(socfed_runtime::tls::ExpectedServer::Hub)?;
    let tcp = TcpStream::connect(hub_addr).await?;
    let silent_operator = tokio_rustls::TlsConnector::from(client)
        .connect(name.clone(), tcp)
        .await?;
    let started = std::time::Instant::now();
    // `terminate` fails if the hub has not exited 20 s after SIGTERM.
    assert_eq!(hub.terminate()?, Some(0), "{}", hub.log_tail(30));
    tracing::info!(took = ?started.elapsed(), "hub stopped");
    drop((anonymous, silent_operator));
    Ok(())
}

/// The agent's local API has the same gate: one address's flood of silent connections is
/// closed at accept beyond its cap, and an operator from another address is still served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_local_api_caps_a_flood_and_keeps_serving_operators() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let paris = org.agent("paris",
        hub.addr,
        "[connections]\nmax_unauthenticated = 64\nmax_unauthenticated_per_ip = 4\nhandshake_timeout = \"60s\"\n",
    )
    .await?;
    let mut flood = Vec::new();
    for _ in 0..10 {
        flood.push(raw_from(Ipv4Addr::new(127, 0, 0, 2), paris.local_addr).await?);
    }
    // Beyond the per-address cap the agent closes the connection at accept, while the four
    // within it stay open (their handshake timeout is a minute away).
    let mut closed_at_accept = 0;
    for tcp in flood.iter_mut().skip(4) {
        let mut byte = [0u8; 1];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_secs(30), tcp.read(&mut byte)).await
        {
            closed_at_accept += 1;
        }
    }
    assert_eq!(closed_at_accept, 6);
    for tcp in flood.iter().take(4) {
        let mut byte = [0u8; 1];
        assert!(
            matches!(tcp.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "a connection within the cap was closed"
        );
    }
    let mut local = org.local(paris.local_addr, "tester")?;
    local
        .raise_incident(pb::RaiseIncidentRequest {
            request_id: "during-flood".into(),
            title: "served during the flood".into(),
            severity: pb::Severity::High as i32,
            ..Default::default()
        })
        .await?;
    drop(flood);
    paris.stop().await?;
    hub.stop().await?;
    Ok(())
}
