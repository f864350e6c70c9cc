//! Channel security and bad input: every misuse is refused with the right status and stores
//! nothing; an oversized message ends only its own stream.

use socfed_proto::pb;
use socfed_runtime::tls::ExpectedServer;
use socfed_tests::clients::{self, RawStream, hello, report};
use socfed_tests::{fixture::Org, inproc, pki::TestPki};
use tonic::Code;
use ulid::Ulid;

struct Fixture {
    _tmp: tempfile::TempDir,
    pki: TestPki,
    hub: sirt_hub::app::RunningHub,
}

async fn fixture(extra: &str) -> anyhow::Result<Fixture> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], extra).await?;
    Ok(Fixture {
        _tmp: org.tmp,
        pki: org.pki,
        hub,
    })
}

impl Fixture {
    /// Nothing at the hub: no incidents, and no site has a record of any stream.
    async fn assert_nothing_stored(&self) -> anyhow::Result<()> {
        let mut op = clients::operator(
            self.hub.addr,
            &self.pki.operator("auditor")?,
            &self.pki.domain,
        )?;
        assert!(
            clients::all_incidents(&mut op).await?.is_empty(),
            "incidents were stored"
        );
        for site in clients::sites(&mut op).await? {
            assert_eq!(
                (
                    site.escalations_stored,
                    site.last_seen_ms,
                    site.store_epoch.as_str()
                ),
                (0, 0, ""),
                "site {} has state",
                site.site_id
            );
        }
        Ok(())
    }

    /// Stops the hub and asserts its audit chain holds `count` refusals of `api` by a caller
    /// whose identity contains `who`, for a reason containing `reason`.
    async fn stop_expecting_audit(
        self,
        api: &str,
        who: &str,
        reason: &str,
        count: u64,
    ) -> anyhow::Result<()> {
        self.hub.stop().await?;
        let records = socfed_tests::audit::refusals(&self._tmp.path().join("hub-data"))?;
        assert_eq!(
            socfed_tests::audit::count(&records, api, who, reason),
            count,
            "{api} {who} {reason}: {records:#?}"
        );
        Ok(())
    }

    fn site_channel(&self, site: &str) -> anyhow::Result<tonic::transport::Channel> {
        clients::channel(
            self.hub.addr,
            &self.pki.site(site)?,
            &self.pki.domain,
            ExpectedServer::Hub,
        )
    }
}

#[tokio::test]
async fn a_client_without_certificate_is_refused_and_nothing_is_stored() -> anyhow::Result<()> {
    let f = fixture("").await?;
    let channel = clients::channel_without_client_cert(f.hub.addr, &f.pki.ca())?;
    let result = RawStream::open_welcomed(channel, hello("paris", Ulid::new(), 1)).await;
    let status = result
        .err()
        .expect("a stream without a client certificate must fail");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(
        status.message().contains("no client certificate"),
        "{}",
        status.message()
    );
    // Every service on the listener refuses it, health included.
    let mut health = tonic_health::pb::health_client::HealthClient::new(
        clients::channel_without_client_cert(f.hub.addr, &f.pki.ca())?,
    );
    let status = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect_err("health without a certificate");
    assert_eq!(status.code(), Code::Unauthenticated);
    f.assert_nothing_stored().await?;
    // Anyone on the network can make such calls: counted and logged, never audited (else
    // they would grow the chain at will; docs/SECURITY.md "Listener caps and timers").
    f.stop_expecting_audit(
        "/socfed.v1.Federation/Escalate",
        "no client certificate",
        "Unauthenticated",
        0,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused_and_nothing_is_stored() -> anyhow::Result<()> {
    let f = fixture("").await?;
    let foreign_dir = f._tmp.path().join("foreign");
    let foreign = TestPki::create(&foreign_dir, "corp.example")?;
    // The foreign site trusts the real CA (so it would accept the hub) but its own certificate
    // is signed by the foreign CA: the hub must refuse it during the handshake.
    let files = TestPki::with_ca(&foreign.site("paris")?, &f.pki.ca());
    // First, connections closed before any ClientHello (load-balancer probes, port scans):
    // logged, not audited, so they cannot grow the audit chain forever. Each probe half-closes
    // and waits for the hub to close its end, so the hub has handled it before going on.
    for _ in 0..5 {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut probe = tokio::net::TcpStream::connect(f.hub.addr).await?;
        probe.shutdown().await?;
        let mut byte = [0u8; 1];
        let closed =
            tokio::time::timeout(std::time::Duration::from_secs(10), probe.read(&mut byte)).await?;
        assert!(
            matches!(closed, Ok(0)),
            "the hub closes a probe: {closed:?}"
        );
    }
    let channel = clients::channel(f.hub.addr, &files, &f.pki.domain, ExpectedServer::Hub)?;
    let status = RawStream::open_welcomed(channel, hello("paris", Ulid::new(), 1))
        .await
        .err()
        .expect("foreign CA must fail");
    assert!(
        format!("{status:?}").contains("received fatal alert"),
        "{status:?}"
    );
    f.assert_nothing_stored().await?;
    let Fixture { _tmp: tmp, hub, .. } = f;
    hub.stop().await?;
    let records = socfed_tests::audit::refusals(&tmp.path().join("hub-data"))?;
    let audited = |who, reason| socfed_tests::audit::count(&records, "tls handshake", who, reason);
    assert_eq!(
        audited("handshake refused", "invalid peer certificate"),
        1,
        "{records:#?}"
    );
    assert_eq!(
        audited("", ""),
        1,
        "only the foreign certificate is audited, not the probes: {records:#?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_site_certificate_claiming_another_site_is_denied() -> anyhow::Result<()> {
    let f = fixture("").await?;
    let status = RawStream::open_welcomed(f.site_channel("paris")?, hello("lyon", Ulid::new(), 1))
        .await
        .err()
        .expect("paris claiming lyon must fail");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(
        status.message().contains("paris") && status.message().contains("lyon"),
        "{}",
        status.message()
    );
    f.assert_nothing_stored().await?;
    f.stop_expecting_audit(
        "/socfed.v1.Federation/Escalate",
        "spiffe://corp.example/site/paris",
        "stream claims \"lyon\"",
        1,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_site_that_is_not_enrolled_is_denied() -> anyhow::Result<()> {
    let f = fixture("").await?;
    let status =
        RawStream::open_welcomed(f.site_channel("berlin")?, hello("berlin", Ulid::new(), 1))
            .await
            .err()
            .expect("an unenrolled site must fail");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        status.message().contains("not enrolled"),
        "{}",
        status.message()
    );
    f.assert_nothing_stored().await?;
    f.stop_expecting_audit(
        "/socfed.v1.Federation/Escalate",
        "spiffe://corp.example/site/berlin",
        "not enrolled",
        1,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_site_certificate_cannot_call_the_operator_api() -> anyhow::Result<()> {
    let f = fixture("").await?;
    let mut as_site = pb::operator_client::OperatorClient::new(f.site_channel("paris")?);
    let status = as_site
        .list_sites(pb::ListSitesRequest {})
        .await
        .expect_err("site on operator api must fail");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        status.message().contains("operator certificate"),
        "{}",
        status.message()
    );
    let status = as_site
        .list_incidents(pb::ListIncidentsRequest::default())
        .await
        .expect_err("must fail");
    assert_eq!(status.code(), Code::PermissionDenied);
    f.assert_nothing_stored().await?;
    f.stop_expecting_audit(
        "/socfed.v1.Operator/ListSites",
        "spiffe://corp.example/site/paris",
        "PermissionDenied",
        1,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn an_operator_certificate_cannot_open_an_escalation_stream() -> anyhow::Result<()> {
    let f = fixture("").await?;
    let channel = clients::channel(
        f.hub.addr,
        &f.pki.operator("mallory")?,
        &f.pki.domain,
        ExpectedServer::Hub,
    )?;
    let status = RawStream::open_welcomed(channel, hello("paris", Ulid::new(), 1))
        .await
        .err()
        .expect("operator stream must fail");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        status.message().contains("site certificate"),
        "{}",
        status.message()
    );
    f.assert_nothing_stored().await?;
    f.stop_expecting_audit(
        "/socfed.v1.Federation/Escalate",
        "spiffe://corp.example/operator/mallory",
        "PermissionDenied",
        1,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn an_agent_refuses_site_certificates_on_its_local_api() -> anyhow::Result<()> {
    let f = fixture("").await?;
    let agent = inproc::agent(f._tmp.path(), &f.pki, "paris", f.hub.addr, "").await?;
    let mut as_site = clients::local(agent.local_addr, &f.pki.site("lyon")?, &f.pki.domain)?;
    let status = as_site
        .raise_incident(pb::RaiseIncidentRequest {
            title: "x".into(),
            severity: pb::Severity::High as i32,
            ..Default::default()
        })
        .await
        .expect_err("a site certificate must not raise incidents at another agent");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(agent.store.outbox_len(), 0);
    agent.stop().await?;
    f.hub.stop().await?;
    Ok(())
}

#[tokio::test]
async fn an_oversized_message_ends_only_that_stream() -> anyhow::Result<()> {
    let f = fixture("[limits]\nmax_message_bytes = 16384\n").await?;
    let (mut lyon, _) =
        RawStream::open_welcomed(f.site_channel("lyon")?, hello("lyon", Ulid::new(), 1)).await?;
    let (mut paris, _) =
        RawStream::open_welcomed(f.site_channel("paris")?, hello("paris", Ulid::new(), 1)).await?;

    let mut big = report("p-1", "oversized");
    big.description = "x".repeat(32 * 1024);
    paris.send(1, big).await?;
    let status = paris
        .ack_through(1)
        .await
        .expect_err("the oversized stream must end");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains("size limit"),
        "{}",
        status.message()
    );

    lyon.send(1, report("l-1", "still flowing")).await?;
    lyon.ack_through(1).await?;
    let mut op = clients::operator(f.hub.addr, &f.pki.operator("auditor")?, &f.pki.domain)?;
    let incidents = clients::all_incidents(&mut op).await?;
    assert_eq!(
        incidents
            .iter()
            .map(|i| i.title.as_str())
            .collect::<Vec<_>>(),
        ["still flowing"]
    );
    f.stop_expecting_audit(
        "/socfed.v1.Federation/Escalate",
        "spiffe://corp.example/site/paris",
        "ResourceExhausted",
        1,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn invalid_requests_get_invalid_argument_naming_the_field() -> anyhow::Result<()> {
    let f = fixture("").await?;
    let agent = inproc::agent(f._tmp.path(), &f.pki, "paris", f.hub.addr, "").await?;
    let mut local = clients::local(agent.local_addr, &f.pki.operator("alice")?, &f.pki.domain)?;
    let bad = pb::RaiseIncidentRequest {
        title: "bad technique".into(),
        severity: pb::Severity::High as i32,
        techniques: vec!["T99".into()],
        ..Default::default()
    };
    let status = local
        .raise_incident(bad)
        .await
        .expect_err("invalid technique");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with("techniques[0]"),
        "{}",
        status.message()
    );
    let mut op = clients::operator(f.hub.addr, &f.pki.operator("auditor")?, &f.pki.domain)?;
    let status = op
        .get_incident(pb::GetIncidentRequest { id: "nope".into() })
        .await
        .expect_err("bad id");
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = op
        .get_incident(pb::GetIncidentRequest {
            id: Ulid::new().to_string(),
        })
        .await
        .expect_err("unknown id");
    assert_eq!(status.code(), Code::NotFound);
    agent.stop().await?;
    f.hub.stop().await?;
    Ok(())
}
