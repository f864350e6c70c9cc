//! Revocation reaches connections that are already open, not only the next handshake: after
//! `pki revoke` and the CRL reload, a revoked site or operator loses the HTTP/2 connection it
//! holds, no new call or stream on it is served, and nothing the site sends is stored. A CRL
//! older than the one in force is refused; an expired CRL refuses every client, as
//! `sirt-hub pki crl --help` says. Hub and agents in-process over real mTLS.

use socfed_proto::pb;
use socfed_runtime::tls::ExpectedServer;
use socfed_tests::clients::{self, RawStream};
use socfed_tests::live_conn::one_connection;
use socfed_tests::procs::{write_agent_config, write_hub_config};
use socfed_tests::{eventually, fixture::Org, pki::TestPki};
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// Adds `[tls] crl` and a fast reload poll to a service config written by the harness.
fn with_crl(config: &Path, crl: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(config)?;
    let text = format!("tls_reload_interval = \"100ms\"\n{text}").replacen(
        "[tls]\n",
        &format!("[tls]\ncrl = {:?}\n", crl.display().to_string()),
        1,
    );
    std::fs::write(config, text)?;
    Ok(())
}

async fn hub_with_crl(
    dir: &Path,
    pki: &TestPki,
    sites: &[&str],
) -> anyhow::Result<sirt_hub::app::RunningHub> {
    let crl = sirt_hub::pki::write_crl(&pki.dir)?.path;
    let config = write_hub_config(dir, pki, "127.0.0.1:0".parse()?, sites, "")?;
    with_crl(&config, &crl)?;
    Ok(sirt_hub::app::start(sirt_hub::config::HubConfig::load(&config)?).await?)
}

/// Whether a fresh connection presenting `files` gets an answer from the hub.
async fn fresh_call_works(
    hub: std::net::SocketAddr,
    files: &socfed_runtime::tls::TlsFiles,
    pki: &TestPki,
) -> bool {
    let Ok(mut op) = clients::operator(hub, files, &pki.domain) else {
        return false;
    };
    clients::sites(&mut op).await.is_ok()
}

async fn titles(
    hub: std::net::SocketAddr,
    pki: &TestPki,
) -> anyhow::Result<std::collections::HashSet<String>> {
    let mut op = clients::operator(hub, &pki.operator("tester")?, &pki.domain)?;
    Ok(clients::all_incidents(&mut op)
        .await?
        .into_iter()
        .map(|i| i.title)
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_site_loses_its_open_connection_and_nothing_it_sends_after_is_stored()
-> anyhow::Result<()> {
    let Org { tmp, pki } = Org::new()?;
    let hub = hub_with_crl(tmp.path(), &pki, &["paris", "lyon"]).await?;
    let paris = pki.site("paris")?;
    let conn = one_connection(hub.addr, &paris, &pki.domain, ExpectedServer::Hub)?;
    let epoch = ulid::Ulid::new();
    let (mut first, _) =
        RawStream::open_welcomed(conn.channel.clone(), clients::hello("paris", epoch, 1)).await?;
    first
        .send(1, clients::report("p-1", "sent before revocation"))
        .await?;
    first.ack_through(1).await?;

    sirt_hub::pki::revoke(&pki.dir, &paris.cert, "key compromise")?;
    // The reload is in force once a fresh paris handshake fails.
    eventually("the hub to refuse a fresh paris connection", WAIT, || {
        let (paris, pki) = (paris.clone(), pki.clone());
        async move {
            let channel =
                clients::channel(hub.addr, &paris, &pki.domain, ExpectedServer::Hub).ok()?;
            RawStream::open(channel, clients::hello("paris", epoch, 2), 1 << 20)
                .await
                .is_err()
                .then_some(())
        }
    })
    .await?;
    // A new stream on the connection paris already holds: the attack of the report.
    let second =
        RawStream::open_welcomed(conn.channel.clone(), clients::hello("paris", epoch, 2)).await;
    let welcomed = second.is_ok();
    if let Ok((mut stream, _)) = second {
        stream
            .send(2, clients::report("p-2", "sent after revocation"))
            .await?;
        let _ = stream.ack_through(2).await;
    }
    assert!(
        !welcomed,
        "a revoked site was welcomed on the connection it already held"
    );
    eventually("the hub to close paris's connection", WAIT, || {
        let conn = conn.clone();
        async move { conn.closed().then_some(()) }
    })
    .await?;
    assert_eq!(
        conn.connections(),
        1,
        "every call above rode one connection"
    );
    // Lyon is not affected; nothing of paris's after the revocation was stored.
    clients::escalate_once(
        hub.addr,
        &pki,
        "lyon",
        clients::report("l-1", "lyon goes on"),
    )
    .await?;
    let stored = titles(hub.addr, &pki).await?;
    assert!(stored.contains("sent before revocation") && stored.contains("lyon goes on"));
    assert!(!stored.contains("sent after revocation"), "{stored:?}");
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_operator_loses_open_connections_to_the_hub_and_to_the_agent()
-> anyhow::Result<()> {
    let Org { tmp, pki } = Org::new()?;
    let hub = hub_with_crl(tmp.path(), &pki, &["paris"]).await?;
    let crl = pki.dir.join("crl.pem");
    let agent_config = write_agent_config(
        tmp.path(),
        &pki,
        "paris",
        hub.addr,
        "127.0.0.1:0".parse()?,
        "",
    )?;
    with_crl(&agent_config, &crl)?;
    let agent =
        site_agent::app::start(site_agent::config::AgentConfig::load(&agent_config)?).await?;
    let alice = pki.operator("alice")?;
    let at_hub = one_connection(hub.addr, &alice, &pki.domain, ExpectedServer::Hub)?;
    let at_site = one_connection(
        agent.local_addr,
        &alice,
        &pki.domain,
        ExpectedServer::AnySite,
    )?;
    let mut hub_api = pb::operator_client::OperatorClient::new(at_hub.channel.clone());
    let mut site_api = pb::site_local_client::SiteLocalClient::new(at_site.channel.clone());
    clients::all_incidents(&mut hub_api).await?;
    site_api.get_status(pb::GetStatusRequest {}).await?;
    let mut watch = hub_api
        .watch_incidents(pb::WatchIncidentsRequest::default())
        .await?
        .into_inner();

    sirt_hub::pki::revoke(&pki.dir, &alice.cert, "left the organisation")?;
    eventually("the hub to refuse a fresh alice connection", WAIT, || {
        let (alice, pki) = (alice.clone(), pki.clone());
        async move { (!fresh_call_works(hub.addr, &alice, &pki).await).then_some(()) }
    })
    .await?;
    let read = clients::all_incidents(&mut hub_api).await;
    assert!(
        read.is_err(),
        "a revoked operator read incidents on the connection it already held"
    );
    eventually(
        "the hub and the agent to close alice's connections",
        WAIT,
        || {
            let (a, b) = (at_hub.clone(), at_site.clone());
            async move { (a.closed() && b.closed()).then_some(()) }
        },
    )
    .await?;
    assert!(site_api.get_status(pb::GetStatusRequest {}).await.is_err());
    // The watch ends rather than carrying the next incident to a revoked operator.
    let ended = tokio::time::timeout(WAIT, async {
        loop {
            match watch.message().await {
                Ok(Some(_)) => continue,
                _ => return,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the revoked operator's watch stayed open");
    assert_eq!((at_hub.connections(), at_site.connections()), (1, 1));
    // Someone else is unaffected.
    assert!(fresh_call_works(hub.addr, &pki.operator("tester")?, &pki).await);
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

/// This process's metrics (the product records through the `metrics` facade; binaries install
/// the exporter, tests install it once per test binary).
fn metrics() -> Option<String> {
    static HANDLE: std::sync::OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| socfed_runtime::admin::install_recorder().ok())
        .as_ref()
        .map(|h| h.render())
}

/// Replaces `path` the way `pki` does (write aside, rename), so a reload never sees half a file.
fn replace(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let aside = path.with_extension("incoming");
    std::fs::write(&aside, bytes)?;
    std::fs::rename(&aside, path)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_crl_is_refused_and_the_revocation_stays_in_force() -> anyhow::Result<()> {
    socfed_tests::init_logs();
    metrics();
    let Org { tmp, pki } = Org::new()?;
    let hub = hub_with_crl(tmp.path(), &pki, &["paris", "lyon"]).await?;
    let crl = pki.dir.join("crl.pem");
    let before_revocation = std::fs::read(&crl)?;
    let mallory = pki.operator("mallory")?;
    assert!(fresh_call_works(hub.addr, &mallory, &pki).await);
    sirt_hub::pki::revoke(&pki.dir, &mallory.cert, "key compromise")?;
    eventually("mallory refused", WAIT, || {
        let (mallory, pki) = (mallory.clone(), pki.clone());
        async move { (!fresh_call_works(hub.addr, &mallory, &pki).await).then_some(()) }
    })
    .await?;
    // The CRL signed before the revocation: genuine, validly signed, and older.
    replace(&crl, &before_revocation)?;
    eventually("the older CRL refused and counted", WAIT, || async {
        metrics()?
            .lines()
            .any(|l| {
                l.starts_with("socfed_tls_reloads_total{outcome=\"refused_older_crl\"}")
                    && !l.ends_with(" 0")
            })
            .then_some(())
    })
    .await?;
    assert!(
        !fresh_call_works(hub.addr, &mallory, &pki).await,
        "an older CRL un-revoked a certificate"
    );
    assert!(fresh_call_works(hub.addr, &pki.operator("tester")?, &pki).await);
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_crl_refuses_every_client_until_it_is_re_signed() -> anyhow::Result<()> {
    let Org { tmp, pki } = Org::new()?;
    let hub = hub_with_crl(tmp.path(), &pki, &["paris"]).await?;
    let tester = pki.operator("tester")?;
    let conn = one_connection(hub.addr, &tester, &pki.domain, ExpectedServer::Hub)?;
    let mut api = pb::operator_client::OperatorClient::new(conn.channel.clone());
    clients::sites(&mut api).await?;
    // A CRL whose nextUpdate is a second away: it expires while the hub holds it.
    sirt_hub::pki::write_crl_valid_for(&pki.dir, 1)?;
    eventually(
        "the expired CRL to refuse fresh connections and close the open one",
        WAIT,
        || {
            let (tester, pki, conn) = (tester.clone(), pki.clone(), conn.clone());
            async move {
                (!fresh_call_works(hub.addr, &tester, &pki).await && conn.closed()).then_some(())
            }
        },
    )
    .await?;
    assert!(clients::sites(&mut api).await.is_err());
    // `sirt-hub pki crl` (a current CRL) lets clients back in.
    sirt_hub::pki::write_crl(&pki.dir)?;
    eventually("clients accepted again", WAIT, || {
        let (tester, pki) = (tester.clone(), pki.clone());
        async move {
            fresh_call_works(hub.addr, &tester, &pki)
                .await
                .then_some(())
        }
    })
    .await?;
    hub.stop().await?;
    Ok(())
}
