//! Standard services: health and reflection, on the hub and the agent (the quick-start
//! command, `sirt-hub demo`, is in demo.rs).

use futures_util::StreamExt;
use socfed_runtime::tls::ExpectedServer;
use socfed_tests::{clients, fixture::Org};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

#[tokio::test]
async fn hub_and_agent_report_health_and_list_their_services_over_mtls() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let agent = org.agent("paris", hub.addr, "").await?;
    let operator = org.pki.operator("monitor")?;
    let reflection_channel =
        |addr, expected| clients::channel(addr, &operator, &org.pki.domain, expected);

    let mut health = HealthClient::new(clients::channel(
        hub.addr,
        &operator,
        &org.pki.domain,
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
        &org.pki.domain,
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
