//! The outbox while the hub is unreachable: it queues up to its cap, the configured policy
//! holds with exact counts, every refusal or drop is visible (status, hub, metrics, logs), and
//! the backlog drains in order once the hub is back.

use socfed_proto::pb;
use socfed_tests::clients;
use socfed_tests::procs::{Proc, binary, write_agent_config};
use socfed_tests::{eventually, fixture::Org, free_port};
use std::net::SocketAddr;
use std::time::Duration;
use tonic::Code;

fn raise(i: usize) -> pb::RaiseIncidentRequest {
    pb::RaiseIncidentRequest {
        title: format!("queued {i}"),
        severity: pb::Severity::Low as i32,
        ..Default::default()
    }
}

struct Outcome {
    accepted: usize,
    refused: Vec<tonic::Status>,
}

async fn raise_many(
    local: &mut pb::site_local_client::SiteLocalClient<tonic::transport::Channel>,
    n: usize,
) -> Outcome {
    let mut outcome = Outcome {
        accepted: 0,
        refused: Vec::new(),
    };
    for i in 0..n {
        match local.raise_incident(raise(i)).await {
            Ok(_) => outcome.accepted += 1,
            Err(status) => outcome.refused.push(status),
        }
    }
    outcome
}

#[tokio::test]
async fn refuse_new_at_the_cap_refuses_exactly_the_excess_and_the_backlog_drains_when_the_hub_returns()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let agent = org
        .agent(
            "paris",
            hub_addr,
            "[outbox]\nmax_entries = 5\non_full = \"refuse-new\"\n",
        )
        .await?;
    let operator = org.pki.operator("alice")?;
    let mut local = clients::local(agent.local_addr, &operator, &org.pki.domain)?;

    let outcome = raise_many(&mut local, 8).await;
    assert_eq!(outcome.accepted, 5);
    assert_eq!(outcome.refused.len(), 3);
    for status in &outcome.refused {
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert!(
            status.message().contains("outbox is full") && status.message().contains("max_entries"),
            "{}",
            status.message()
        );
    }
    let status = local
        .get_status(pb::GetStatusRequest {})
        .await?
        .into_inner();
    assert_eq!(
        (
            status.backlog,
            status.refused_total,
            status.dropped_total,
            status.hub_connected
        ),
        (5, 3, 0, false)
    );
    assert_eq!(status.on_full, "refuse-new");
    assert!(
        !status.last_hub_error.is_empty(),
        "the status says why the hub is unreachable"
    );

    let hub = org.hub_on(hub_addr, &["paris"], "").await?;
    let mut op = clients::operator(hub.addr, &operator, &org.pki.domain)?;
    let paris = eventually(
        "the backlog to drain and the refusals to be reported",
        Duration::from_secs(30),
        || {
            let mut op = op.clone();
            async move {
                let site = clients::sites(&mut op)
                    .await
                    .ok()?
                    .into_iter()
                    .find(|s| s.site_id == "paris")?;
                (site.escalations_stored == 5 && site.refused_total == 3 && site.backlog == 0)
                    .then_some(site)
            }
        },
    )
    .await?;
    assert_eq!((paris.acked_through, paris.sequence_gaps), (5, 0));
    let mut titles: Vec<String> = clients::all_incidents(&mut op)
        .await?
        .into_iter()
        .map(|i| i.title)
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        (0..5).map(|i| format!("queued {i}")).collect::<Vec<_>>(),
        "the first five were kept, in full"
    );
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

#[tokio::test]
async fn drop_oldest_at_the_cap_drops_exactly_the_excess_and_reports_it() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let agent = org
        .agent(
            "paris",
            hub_addr,
            "[outbox]\nmax_entries = 5\non_full = \"drop-oldest\"\n",
        )
        .await?;
    let operator = org.pki.operator("alice")?;
    let mut local = clients::local(agent.local_addr, &operator, &org.pki.domain)?;

    let outcome = raise_many(&mut local, 8).await;
    assert_eq!((outcome.accepted, outcome.refused.len()), (8, 0));
    let status = local
        .get_status(pb::GetStatusRequest {})
        .await?
        .into_inner();
    assert_eq!(
        (status.backlog, status.refused_total, status.dropped_total),
        (5, 0, 3)
    );

    let hub = org.hub_on(hub_addr, &["paris"], "").await?;
    let mut op = clients::operator(hub.addr, &operator, &org.pki.domain)?;
    let paris = eventually("the backlog to drain", Duration::from_secs(30), || {
        let mut op = op.clone();
        async move {
            let site = clients::sites(&mut op)
                .await
                .ok()?
                .into_iter()
                .find(|s| s.site_id == "paris")?;
            (site.escalations_stored == 5 && site.dropped_total == 3).then_some(site)
        }
    })
    .await?;
    assert_eq!(
        paris.sequence_gaps, 3,
        "the hub sees the three dropped sequences as gaps"
    );
    let mut titles: Vec<String> = clients::all_incidents(&mut op)
        .await?
        .into_iter()
        .map(|i| i.title)
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        (3..8).map(|i| format!("queued {i}")).collect::<Vec<_>>(),
        "the oldest three were dropped"
    );
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

fn scrape(addr: SocketAddr) -> Option<String> {
    socfed_tests::http_get(addr, "/metrics").map(|(_, body)| body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_at_the_cap_show_in_metrics_status_and_logs_of_the_real_binary()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let local_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let admin_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let extra = format!("[outbox]\nmax_entries = 2\n[admin]\nlisten = \"{admin_addr}\"\n");
    let config = write_agent_config(org.dir(), &org.pki, "paris", hub_addr, local_addr, &extra)?;
    let mut agent = Proc::spawn(
        &binary("site-agent")?,
        &["serve", "--config", &config.display().to_string()],
        org.dir().join("agent.log"),
        "paris",
    )?;

    let operator = org.pki.operator("alice")?;
    let local = clients::local(local_addr, &operator, &org.pki.domain)?;
    eventually("the agent to answer", Duration::from_secs(30), || {
        let mut local = local.clone();
        async move { local.get_status(pb::GetStatusRequest {}).await.ok() }
    })
    .await?;
    let outcome = raise_many(&mut local.clone(), 3).await;
    assert_eq!((outcome.accepted, outcome.refused.len()), (2, 1));

    let metrics = eventually("metrics", Duration::from_secs(10), || async {
        scrape(admin_addr).filter(|m| m.contains("socfed_agent_outbox_refused_total"))
    })
    .await?;
    assert!(
        metrics
            .lines()
            .any(|l| l == "socfed_agent_outbox_refused_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.lines().any(|l| l == "socfed_agent_outbox_depth 2"),
        "{metrics}"
    );
    // A full outbox takes the agent out of rotation, and says why; it is alive all the same.
    let (status, body) = socfed_tests::http_get(admin_addr, "/readyz").unwrap_or_default();
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("the outbox is full (2 of 2"), "{body}");
    assert!(body.contains("warning: not connected to the hub"), "{body}");
    assert_eq!(
        socfed_tests::http_get(admin_addr, "/livez"),
        Some((200, "ok\n".to_string()))
    );

    let out = std::process::Command::new(binary("site-agent")?)
        .args([
            "status",
            "--output",
            "json",
            "--agent",
            &local_addr.to_string(),
        ])
        .env("SOCFED_CA", &operator.ca)
        .env("SOCFED_CERT", &operator.cert)
        .env("SOCFED_KEY", &operator.key)
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(
        (
            status["refused_total"].as_u64(),
            status["backlog"].as_u64(),
            status["hub_connected"].as_bool()
        ),
        (Some(1), Some(2), Some(false))
    );
    assert!(
        agent.log_tail(200).contains("refused at the outbox cap"),
        "{}",
        agent.log_tail(50)
    );
    assert_eq!(agent.terminate()?, Some(0));
    Ok(())
}
