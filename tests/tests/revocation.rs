//! Certificate revocation without a restart: `pki revoke` re-signs the CRL, the hub reloads it,
//! ends its site streams, and the revoked site's reconnection fails the handshake while the
//! other site carries on. Hub and agents in-process over real mTLS.

use socfed_proto::pb;
use socfed_tests::procs::write_hub_config;
use socfed_tests::{clients, eventually, inproc, pki::TestPki};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_site_is_refused_after_the_crl_reload_and_the_hub_keeps_running()
-> anyhow::Result<()> {
    socfed_tests::init_logs();
    let tmp = tempfile::tempdir()?;
    let pki = TestPki::create(&tmp.path().join("pki"), "corp.example")?;
    let crl = sirt_hub::pki::write_crl(&pki.dir)?.path;
    let config = write_hub_config(
        tmp.path(),
        &pki,
        "127.0.0.1:0".parse()?,
        &["paris", "lyon"],
        "",
    )?;
    let text = std::fs::read_to_string(&config)?;
    let text = format!("tls_reload_interval = \"200ms\"\n{text}").replacen(
        "[tls]\n",
        &format!("[tls]\ncrl = {:?}\n", crl.display().to_string()),
        1,
    );
    std::fs::write(&config, text)?;
    let hub = sirt_hub::app::start(sirt_hub::config::HubConfig::load(&config)?).await?;
    // The agent's certificate is issued when its config is written; this is its path.
    let paris_cert = pki.site("paris")?.cert;
    let paris = inproc::agent(tmp.path(), &pki, "paris", hub.addr, "").await?;
    let lyon = inproc::agent(tmp.path(), &pki, "lyon", hub.addr, "").await?;
    let mut op = clients::operator(hub.addr, &pki.operator("tester")?, &pki.domain)?;
    let connected = |op: &tonic::transport::Channel| {
        let mut op = pb::operator_client::OperatorClient::new(op.clone());
        async move {
            let sites = clients::sites(&mut op).await.ok()?;
            Some(
                sites
                    .into_iter()
                    .map(|s| (s.site_id, s.connected))
                    .collect::<Vec<_>>(),
            )
        }
    };
    let channel = clients::channel(
        hub.addr,
        &pki.operator("tester")?,
        &pki.domain,
        socfed_proto::tls::ExpectedServer::Hub,
    )?;
    eventually("both sites connected", Duration::from_secs(20), || {
        let channel = channel.clone();
        async move {
            let now = connected(&channel).await?;
            (now == [("lyon".to_string(), true), ("paris".to_string(), true)]).then_some(())
        }
    })
    .await?;

    let revoked = sirt_hub::pki::revoke(&pki.dir, &paris_cert, "key compromise")?;
    assert_eq!(revoked.entries, 1);
    eventually("paris cut off, lyon back", Duration::from_secs(20), || {
        let channel = channel.clone();
        async move {
            let now = connected(&channel).await?;
            (now == [("lyon".to_string(), true), ("paris".to_string(), false)]).then_some(())
        }
    })
    .await?;
    // Paris keeps trying and keeps being refused at the handshake; lyon's escalations flow.
    let local = clients::local(paris.local_addr, &pki.operator("tester")?, &pki.domain)?;
    let status = eventually(
        "paris to report the refusal",
        Duration::from_secs(20),
        || {
            let mut local = local.clone();
            async move {
                let s = local
                    .get_status(pb::GetStatusRequest {})
                    .await
                    .ok()?
                    .into_inner();
                (!s.hub_connected && s.reconnects > 0 && !s.last_hub_error.is_empty()).then_some(s)
            }
        },
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let sites = clients::sites(&mut op).await?;
    assert!(
        sites.iter().any(|s| s.site_id == "paris" && !s.connected),
        "{sites:?} ({status:?})"
    );
    clients::raise_at_site(lyon.local_addr, hub.addr, &pki, "still flowing").await?;

    paris.stop().await?;
    lyon.stop().await?;
    hub.stop().await?;
    Ok(())
}
