//! The admin listeners of the real binaries: /livez, /readyz with reasons, /metrics whose
//! counters match what the test did, and the hub's /crl (the CRL distribution point).

use socfed_proto::pb;
use socfed_tests::procs::{Proc, binary, write_agent_config, write_hub_config};
use socfed_tests::{eventually, fixture::Org, free_port, http_get};
use std::net::SocketAddr;
use std::time::Duration;

/// Checks an exposition the way a Prometheus that aggregates across agents needs it: every
/// family has `# HELP`, is one of ours with the kind the catalogue gives, and no latency is a
/// summary (whose quantiles cannot be added up across processes).
fn well_described(body: &str) {
    use socfed_runtime::metric_catalog::{Kind, find};
    let mut families = 0;
    for line in body.lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let (name, kind) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        families += 1;
        assert!(
            body.lines().any(|l| l
                .strip_prefix("# HELP ")
                .and_then(|h| h.split_whitespace().next())
                == Some(name)),
            "{name} has no # HELP:\n{body}"
        );
        let listed = find(name).unwrap_or_else(|| panic!("{name} is not in the metric catalogue"));
        let expected = match listed.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram(_) => "histogram",
        };
        assert_eq!(kind, expected, "{name}");
        if expected == "histogram" {
            assert!(
                body.contains(&format!("{name}_bucket{{")),
                "{name}: no buckets"
            );
        }
    }
    assert!(families > 3, "{body}");
}

fn metric(body: &str, name: &str) -> Option<f64> {
    body.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_report_what_happened() -> anyhow::Result<()> {
    let org = Org::new()?;
    let addr =
        || -> anyhow::Result<SocketAddr> { Ok(format!("127.0.0.1:{}", free_port()?).parse()?) };
    let (hub_addr, hub_admin, agent_addr, agent_admin) = (addr()?, addr()?, addr()?, addr()?);
    let hub_extra = format!(
        "[[operators]]\nname = \"ines\"\nrole = \"ir-lead\"\n[admin]\nlisten = \"{hub_admin}\"\n"
    );
    let hub_config = write_hub_config(org.dir(), &org.pki, hub_addr, &["paris"], &hub_extra)?;
    let mut hub = Proc::spawn(
        &binary("sirt-hub")?,
        &["serve", "--config", &hub_config.display().to_string()],
        org.dir().join("hub.log"),
        "hub",
    )?;
    let agent_config = write_agent_config(
        org.dir(),
        &org.pki,
        "paris",
        hub_addr,
        agent_addr,
        &format!("[admin]\nlisten = \"{agent_admin}\"\n"),
    )?;
    let mut agent = Proc::spawn(
        &binary("site-agent")?,
        &["serve", "--config", &agent_config.display().to_string()],
        org.dir().join("agent.log"),
        "paris",
    )?;
    let mut incident = String::new();
    for n in 0..3 {
        incident = eventually(
            "an escalation to reach the hub",
            Duration::from_secs(30),
            || {
                let org = &org;
                async move {
                    org.raise_at_site(agent_addr, hub_addr, &format!("incident {n}"))
                        .await
                        .ok()
                }
            },
        )
        .await?;
    }
    let mut ines = org.response(hub_addr, "ines")?;
    ines.assign_task(pb::AssignTaskRequest {
        incident_id: incident,
        sites: vec!["paris".into()],
        title: "check".into(),
        ..Default::default()
    })
    .await?;

    let hub_metrics = eventually(
        "hub metrics to show the task sent",
        Duration::from_secs(20),
        || async {
            let (_, body) = http_get(hub_admin, "/metrics")?;
            (metric(&body, "socfed_hub_directives_sent_total") == Some(1.0)).then_some(body)
        },
    )
    .await?;
    assert_eq!(
        metric(
            &hub_metrics,
            "socfed_hub_escalations_total{outcome=\"stored\"}"
        ),
        Some(3.0),
        "{hub_metrics}"
    );
    assert_eq!(
        metric(&hub_metrics, "socfed_hub_streams_open"),
        Some(1.0),
        "{hub_metrics}"
    );
    // Request latency per service (bounded labels): the one AssignTask call.
    assert_eq!(
        metric(
            &hub_metrics,
            "socfed_grpc_request_seconds_count{service=\"socfed.v1.Response\"}"
        ),
        Some(1.0),
        "{hub_metrics}"
    );
    // The hub's units of work by tree and operation: one escalation record per stored
    // escalation, and the task's directive (written again when the site reports on it).
    let hub_ops = |tree: &str, op: &str| {
        metric(
            &hub_metrics,
            &format!("socfed_hub_store_ops_total{{tree=\"{tree}\",op=\"{op}\"}}"),
        )
        .unwrap_or(0.0)
    };
    assert_eq!(hub_ops("escalations", "insert"), 3.0, "{hub_metrics}");
    assert!(hub_ops("directives", "insert") >= 1.0, "{hub_metrics}");
    assert!(hub_ops("incidents", "get") >= 1.0, "{hub_metrics}");
    well_described(&hub_metrics);
    assert!(
        hub_metrics.contains(
            "socfed_grpc_request_seconds_bucket{service=\"socfed.v1.Response\",le=\"10\"} 1"
        ),
        "{hub_metrics}"
    );
    let agent_metrics = eventually(
        "agent metrics to show the task",
        Duration::from_secs(20),
        || async {
            let (_, body) = http_get(agent_admin, "/metrics")?;
            (metric(&body, "socfed_agent_directives_total{outcome=\"new\"}") == Some(1.0))
                .then_some(body)
        },
    )
    .await?;
    assert_eq!(
        metric(&agent_metrics, "socfed_agent_outbox_depth"),
        Some(0.0),
        "{agent_metrics}"
    );
    assert_eq!(
        metric(&agent_metrics, "socfed_agent_hub_connected"),
        Some(1.0),
        "{agent_metrics}"
    );
    // The store's write path by tree and operation: each raise queued one outbox entry in its
    // unit of work, and the hub's acknowledgements removed every one of them.
    let outbox = |op: &str| {
        metric(
            &agent_metrics,
            &format!("socfed_agent_store_ops_total{{tree=\"outbox\",op=\"{op}\"}}"),
        )
        .unwrap_or(0.0)
    };
    assert!(outbox("insert") >= 3.0, "{agent_metrics}");
    assert_eq!(outbox("remove"), outbox("insert"), "{agent_metrics}");
    assert!(
        metric(
            &agent_metrics,
            "socfed_agent_store_ops_total{tree=\"incidents\",op=\"insert\"}"
        ) >= Some(3.0),
        "{agent_metrics}"
    );
    well_described(&agent_metrics);

    assert_eq!(http_get(hub_admin, "/livez"), Some((200, "ok\n".into())));
    assert_eq!(
        http_get(hub_admin, "/readyz"),
        Some((200, "ready\n".into()))
    );
    assert_eq!(
        http_get(agent_admin, "/readyz"),
        Some((200, "ready\n".into()))
    );

    // The site goes away: the hub stays ready and says which site is missing.
    assert_eq!(agent.terminate()?, Some(0));
    let (status, body) = eventually("the hub to notice", Duration::from_secs(20), || async {
        http_get(hub_admin, "/readyz").filter(|(_, b)| b.contains("warning"))
    })
    .await?;
    assert_eq!(status, 200);
    assert!(
        body.contains("1 of 1 enrolled sites not connected: paris"),
        "{body}"
    );
    assert_eq!(hub.terminate()?, Some(0));
    Ok(())
}

/// `GET path` returning the status, the Content-Type and the raw body bytes.
fn http_get_bytes(addr: SocketAddr, path: &str) -> Option<(u16, String, Vec<u8>)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8(response[..split].to_vec()).ok()?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let content_type = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_default();
    Some((status, content_type, response[split + 4..].to_vec()))
}

/// The DER of the PEM CRL at `path`.
fn crl_der(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use rustls::pki_types::CertificateRevocationListDer;
    use rustls::pki_types::pem::PemObject;
    Ok(CertificateRevocationListDer::from_pem_file(path)?
        .as_ref()
        .to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_serves_the_current_crl_in_der() -> anyhow::Result<()> {
    let org = Org::new()?;
    let crl = sirt_hub::pki::write_crl(&org.pki.dir)?.path;
    let (hub_addr, hub_admin): (SocketAddr, SocketAddr) = (
        format!("127.0.0.1:{}", free_port()?).parse()?,
        format!("127.0.0.1:{}", free_port()?).parse()?,
    );
    let config = write_hub_config(
        org.dir(),
        &org.pki,
        hub_addr,
        &["paris"],
        &format!("[admin]\nlisten = \"{hub_admin}\"\n"),
    )?;
    let text = std::fs::read_to_string(&config)?.replacen(
        "[tls]\n",
        &format!("[tls]\ncrl = {:?}\n", crl.display().to_string()),
        1,
    );
    std::fs::write(&config, text)?;
    let mut hub = Proc::spawn(
        &binary("sirt-hub")?,
        &["serve", "--config", &config.display().to_string()],
        org.dir().join("hub.log"),
        "hub",
    )?;
    let (status, content_type, empty) = eventually(
        "the admin listener to serve /crl",
        Duration::from_secs(20),
        || async { http_get_bytes(hub_admin, "/crl") },
    )
    .await?;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/pkix-crl")
    );
    assert_eq!(empty, crl_der(&crl)?);

    // A revocation re-signs the file; the next request serves it, without a restart.
    let revoked =
        sirt_hub::pki::revoke(&org.pki.dir, &org.pki.site("paris")?.cert, "key compromise")?;
    let serial = revoked
        .newly_revoked
        .and_then(|entry| socfed_proto::hex::decode(&entry.serial))
        .ok_or_else(|| anyhow::anyhow!("paris was not newly revoked"))?;
    let (status, _, served) =
        http_get_bytes(hub_admin, "/crl").ok_or_else(|| anyhow::anyhow!("no answer"))?;
    assert_eq!(status, 200);
    assert_eq!(served, crl_der(&crl)?);
    let lists = |der: &[u8]| der.windows(serial.len()).any(|w| w == serial.as_slice());
    assert!(
        lists(&served) && !lists(&empty),
        "the served CRL lists the revoked serial"
    );

    // No file, no CRL: 503, not an empty or stale list.
    std::fs::remove_file(&crl)?;
    let (status, _, _) =
        http_get_bytes(hub_admin, "/crl").ok_or_else(|| anyhow::anyhow!("no answer"))?;
    assert_eq!(status, 503);
    assert_eq!(hub.terminate()?, Some(0));
    Ok(())
}
