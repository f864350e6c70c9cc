//! Standard services and the quick-start command: health, reflection, and `sirt-hub demo`.

use futures_util::StreamExt;
use socfed_proto::tls::ExpectedServer;
use socfed_tests::procs::binary;
use socfed_tests::{clients, inproc, pki::TestPki};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

#[tokio::test]
async fn hub_and_agent_report_health_and_list_their_services_over_mtls() -> anyhow::Result<()> {
    socfed_tests::init_logs();
    let tmp = tempfile::tempdir()?;
    let pki = TestPki::create(&tmp.path().join("pki"), "corp.example")?;
    let hub = inproc::hub(tmp.path(), &pki, &["paris"], "").await?;
    let agent = inproc::agent(tmp.path(), &pki, "paris", hub.addr, "").await?;
    let operator = pki.operator("monitor")?;
    let reflection_channel =
        |addr, expected| clients::channel(addr, &operator, &pki.domain, expected);

    let mut health = HealthClient::new(clients::channel(
        hub.addr,
        &operator,
        &pki.domain,
        ExpectedServer::Hub,
    )?);
    for service in ["socfed.v1.Federation", "socfed.v1.Operator"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await?
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service}");
    }
    let mut health = HealthClient::new(clients::channel(
        agent.local_addr,
        &operator,
        &pki.domain,
        ExpectedServer::AnySite,
    )?);
    let status = health
        .check(HealthCheckRequest {
            service: "socfed.v1.SiteLocal".into(),
        })
        .await?
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::Serving as i32);

    let hub_services = list_services(&reflection_channel(hub.addr, ExpectedServer::Hub)?).await?;
    for expected in [
        "socfed.v1.Federation",
        "socfed.v1.Operator",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
    ] {
        assert!(
            hub_services.0.iter().any(|n| n == expected),
            "{expected} missing from {hub_services:?}"
        );
    }
    // Only what this listener serves: the agent's services are not the hub's.
    assert!(
        !hub_services.0.iter().any(|n| n == "socfed.v1.SiteLocal"),
        "the hub advertises a service it does not serve: {hub_services:?}"
    );
    // v1alpha answers the same list (older grpcurl and tools ask it).
    assert_eq!(hub_services.0, hub_services.1);
    let agent_services = list_services(&reflection_channel(
        agent.local_addr,
        ExpectedServer::AnySite,
    )?)
    .await?;
    assert!(agent_services.0.iter().any(|n| n == "socfed.v1.SiteLocal"));
    assert!(!agent_services.0.iter().any(|n| n == "socfed.v1.Federation"));
    assert_eq!(agent_services.0, agent_services.1);
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

#[test]
fn the_quick_start_demo_shows_one_threat_at_two_sites_and_exits_cleanly() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let out = std::process::Command::new(binary("sirt-hub")?)
        .args(["demo", "--dir"])
        .arg(dir.path())
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("(6 escalations, 5 incidents)"), "{stdout}");
    assert!(stdout.contains("one threat, 2 sites"), "{stdout}");
    assert!(stdout.contains("paris,lyon"), "{stdout}");
    assert!(stdout.contains("federation stopped cleanly"), "{stdout}");
    // Its PKI and data stay in --dir for inspection.
    assert!(dir.path().join("pki/ca.crt").exists() && dir.path().join("hub-data").exists());
    Ok(())
}

#[test]
fn demo_keep_running_leaves_a_federation_that_answers_the_printed_commands_until_sigterm()
-> anyhow::Result<()> {
    use std::io::BufRead;
    let dir = tempfile::tempdir()?;
    let mut demo = std::process::Command::new(binary("sirt-hub")?)
        .args(["demo", "--keep-running", "--dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let stdout = demo
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    let (mut export, mut sites_cmd) = (None, None);
    for line in lines.by_ref() {
        let line = line?;
        if line.trim_start().starts_with("export SOCFED_CA=") {
            export = Some(line.trim().to_string());
        }
        if line.contains(" sites --hub ") {
            sites_cmd = Some(line.trim().to_string());
        }
        if line.starts_with("logs:") {
            break;
        }
    }
    let export = export.ok_or_else(|| anyhow::anyhow!("the demo printed no export line"))?;
    let sites_cmd =
        sites_cmd.ok_or_else(|| anyhow::anyhow!("the demo printed no sites command"))?;
    // Run the printed command with the printed environment, exactly as a user would.
    let mut command = std::process::Command::new("sh");
    command.args(["-c", &format!("{export} && {sites_cmd}")]);
    let out = command.output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sites: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let connected = sites
        .as_array()
        .map_or(0, |s| s.iter().filter(|s| s["connected"] == true).count());
    assert_eq!(connected, 3, "{sites}");

    let pid = rustix::process::Pid::from_raw(i32::try_from(demo.id())?)
        .ok_or_else(|| anyhow::anyhow!("pid"))?;
    rustix::process::kill_process(pid, rustix::process::Signal::TERM)?;
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = demo.wait()?;
    assert!(status.success(), "demo exit {status:?}: {rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.contains("federation stopped cleanly")),
        "{rest:?}"
    );
    Ok(())
}

/// The service names reflection lists, asked over v1 and over v1alpha, sorted.
async fn list_services(
    channel: &tonic::transport::Channel,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    use tonic_reflection::pb::v1alpha as alpha;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut v1 = ServerReflectionClient::new(channel.clone())
        .server_reflection_info(tokio_stream::once(request))
        .await?
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) = v1
        .next()
        .await
        .transpose()?
        .and_then(|r| r.message_response)
    else {
        anyhow::bail!("no v1 list-services response");
    };
    let mut v1_names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    let request = alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut old = alpha::server_reflection_client::ServerReflectionClient::new(channel.clone())
        .server_reflection_info(tokio_stream::once(request))
        .await?
        .into_inner();
    let Some(alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) = old
        .next()
        .await
        .transpose()?
        .and_then(|r| r.message_response)
    else {
        anyhow::bail!("no v1alpha list-services response");
    };
    let mut alpha_names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    v1_names.sort();
    alpha_names.sort();
    Ok((v1_names, alpha_names))
}
