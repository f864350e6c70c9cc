//! Certificate revocation without a restart: `pki revoke` re-signs the CRL, the hub reloads it,
//! ends its site streams, and the revoked site's reconnection fails the handshake while the
//! other site carries on. Hub and agents in-process over real mTLS.

use socfed_proto::pb;
use socfed_tests::procs::write_hub_config;
use socfed_tests::{clients, eventually, fixture::Org};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_site_is_refused_after_the_crl_reload_and_the_hub_keeps_running()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let crl = sirt_hub::pki::write_crl(&org.pki.dir)?.path;
    let config = write_hub_config(
        org.dir(),
        &org.pki,
        "127.0.0.1:0".parse()?,
        &["paris", "lyon"],
        "",
    )?;
    socfed_tests::procs::with_crl(&config, &crl)?;
    let hub = sirt_hub::app::start(sirt_hub::config::HubConfig::load(&config)?).await?;
    // The agent's certificate is issued when its config is written; this is its path.
    let paris_cert = org.pki.site("paris")?.cert;
    let paris = org.agent("paris", hub.addr, "").await?;
    let lyon = org.agent("lyon", hub.addr, "").await?;
    let mut op = org.operator(hub.addr, "tester")?;
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
        &org.pki.operator("tester")?,
        &org.pki.domain,
        socfed_runtime::tls::ExpectedServer::Hub,
    )?;
    eventually("both sites connected", Duration::from_secs(20), || {
        let channel = channel.clone();
        async move {
            let now = connected(&channel).await?;
            (now == [("lyon".to_string(), true), ("paris".to_string(), true)]).then_some(())
        }
    })
    .await?;

    let revoked = sirt_hub::pki::revoke(&org.pki.dir, &paris_cert, "key compromise")?;
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
    let local = org.local(paris.local_addr, "tester")?;
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
    org.raise_at_site(lyon.local_addr, hub.addr, "still flowing")
        .await?;

    paris.stop().await?;
    lyon.stop().await?;
    hub.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_certificate_rotated_under_a_live_stream_loses_and_duplicates_nothing()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let crl = sirt_hub::pki::write_crl(&org.pki.dir)?.path;
    let hub_config = write_hub_config(org.dir(), &org.pki, "127.0.0.1:0".parse()?, &["paris"], "")?;
    socfed_tests::procs::with_crl(&hub_config, &crl)?;
    let hub = sirt_hub::app::start(sirt_hub::config::HubConfig::load(&hub_config)?).await?;
    let agent_config = socfed_tests::procs::write_agent_config(
        org.dir(),
        &org.pki,
        "paris",
        hub.addr,
        "127.0.0.1:0".parse()?,
        "",
    )?;
    let text = std::fs::read_to_string(&agent_config)?;
    std::fs::write(
        &agent_config,
        format!("tls_reload_interval = \"200ms\"\n{text}"),
    )?;
    let paris =
        site_agent::app::start(site_agent::config::AgentConfig::load(&agent_config)?).await?;
    let local = org.local(paris.local_addr, "tester")?;

    const TOTAL: usize = 200;
    let raise = |range: std::ops::Range<usize>| {
        let local = local.clone();
        async move {
            for n in range {
                local
                    .clone()
                    .raise_incident(pb::RaiseIncidentRequest {
                        request_id: format!("r-{n}"),
                        title: format!("incident {n}"),
                        severity: pb::Severity::Medium as i32,
                        ..Default::default()
                    })
                    .await?;
            }
            anyhow::Ok(())
        }
    };
    let mut op = org.operator(hub.addr, "tester")?;
    let second_half = tokio::spawn(raise(TOTAL / 2..TOTAL));
    raise(0..TOTAL / 2).await?;
    // Rotate while escalations flow: keep the old certificate aside, issue a new one over the
    // agent's files, then revoke the old one. The CRL reload ends the live stream, and only the
    // new certificate (which the agent reloads from disk) can reconnect.
    let paths = org.pki.site_paths("paris");
    let old = org.dir().join("old-paris.crt");
    std::fs::copy(&paths.cert, &old)?;
    org.pki.site("paris")?;
    tokio::time::sleep(Duration::from_millis(600)).await; // the agent's reload poll
    sirt_hub::pki::revoke(&org.pki.dir, &old, "superseded")?;
    second_half.await??;
    eventually(
        "every escalation at the hub once the new certificate is in use",
        Duration::from_secs(30),
        || {
            let mut op = op.clone();
            async move {
                let all = clients::all_incidents(&mut op).await.ok()?;
                let connected = clients::sites(&mut op)
                    .await
                    .ok()?
                    .iter()
                    .any(|s| s.site_id == "paris" && s.connected);
                (all.len() == TOTAL && connected).then_some(())
            }
        },
    )
    .await?;
    let titles: std::collections::HashSet<String> = clients::all_incidents(&mut op)
        .await?
        .into_iter()
        .map(|i| i.title)
        .collect();
    assert_eq!(titles.len(), TOTAL, "each escalation exactly once");
    let status = local
        .clone()
        .get_status(pb::GetStatusRequest {})
        .await?
        .into_inner();
    assert_eq!(status.backlog, 0);
    paris.stop().await?;
    hub.stop().await?;
    Ok(())
}
