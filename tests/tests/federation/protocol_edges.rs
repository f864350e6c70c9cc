//! Edges of the delivery protocol: holes are never acknowledged across unless the site
//! declared them, hostile sequence numbers cannot hurt the hub, a restored agent store moves
//! to a new epoch instead of losing escalations, and the hub's size limit is respected.

use socfed_proto::pb;
use socfed_runtime::tls::ExpectedServer;
use socfed_tests::clients::{self, RawStream, hello, report};
use socfed_tests::{eventually, fixture::Org, free_port, pki::TestPki};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use ulid::Ulid;

async fn paris(
    op: &mut pb::operator_client::OperatorClient<tonic::transport::Channel>,
) -> anyhow::Result<pb::SiteSummary> {
    clients::sites(op)
        .await?
        .into_iter()
        .find(|s| s.site_id == "paris")
        .ok_or_else(|| anyhow::anyhow!("paris not listed"))
}

#[tokio::test]
async fn the_hub_acknowledges_across_declared_drops_but_never_across_an_undeclared_hole()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let channel = org.site_channel(hub.addr, "paris")?;
    let (mut s, _) = RawStream::open_welcomed(channel, hello("paris", Ulid::new(), 1)).await?;

    s.send(1, report("p-1", "one")).await?;
    assert_eq!(s.next_ack().await?, 1);
    // Sequence 2 never arrived and nobody said it was dropped: 3 is stored, not acknowledged.
    s.send(3, report("p-3", "three")).await?;
    assert_eq!(s.next_ack().await?, 1);
    // 2 arrives: the mark catches up over 3, which was already stored.
    s.send(2, report("p-2", "two")).await?;
    assert_eq!(s.next_ack().await?, 3);
    // 4 was dropped at the site's cap and 5 says so: acknowledged across, counted as a gap.
    s.send_declaring(5, 1, report("p-5", "five")).await?;
    assert_eq!(s.next_ack().await?, 5);

    let mut op = org.operator(hub.addr, "auditor")?;
    let site = paris(&mut op).await?;
    assert_eq!(
        (
            site.escalations_stored,
            site.acked_through,
            site.sequence_gaps
        ),
        (4, 5, 1)
    );
    hub.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_stream_is_never_acknowledged_past_what_it_sent() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let site = org.pki.site("paris")?;
    let channel = || clients::channel(hub.addr, &site, &org.pki.domain, ExpectedServer::Hub);
    let epoch = Ulid::new();
    let (mut first, _) = RawStream::open_welcomed(channel()?, hello("paris", epoch, 1)).await?;
    for seq in 1..=3 {
        first
            .send(seq, report(&format!("p-{seq}"), "original"))
            .await?;
    }
    first.ack_through(3).await?;
    drop(first);
    // A restored store resends 1 (same content): the hub holds 1..3, but acknowledging 3 here
    // would let the site delete its own, different, 2 and 3 before hearing of any conflict.
    let (mut again, welcome) =
        RawStream::open_welcomed(channel()?, hello("paris", epoch, 4)).await?;
    assert_eq!(welcome.acked_through, 3);
    again.send(1, report("p-1", "original")).await?;
    assert_eq!(again.next_ack().await?, 1);
    again.send(2, report("p-2", "different")).await?;
    let notices = again.ack_through(2).await?;
    assert_eq!(notices.iter().map(|n| n.seq).collect::<Vec<_>>(), [2]);
    hub.stop().await?;
    Ok(())
}

#[tokio::test]
async fn hostile_sequence_numbers_are_refused_or_contained_and_the_hub_keeps_working()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris", "lyon"], "").await?;
    let site = org.pki.site("paris")?;
    let channel = || clients::channel(hub.addr, &site, &org.pki.domain, ExpectedServer::Hub);
    let epoch = Ulid::new();
    let (mut s, _) = RawStream::open_welcomed(channel()?, hello("paris", epoch, 1)).await?;
    // The largest sequence a site may use is stored out of order and never acknowledged
    // across; 1 is.
    let top = socfed_proto::vocab::bounds::MAX_SEQ;
    s.send(top, report("p-top", "far away")).await?;
    s.send(1, report("p-1", "near")).await?;
    let mut acked = 0;
    while acked < 1 {
        acked = s.next_ack().await?;
    }
    assert_eq!(acked, 1);
    // Past it (u64::MAX included) is refused: the stream ends naming the field
    // (tests/tests/security/hostile_site.rs covers the rest of the range checks).
    s.send(u64::MAX, report("p-max", "beyond")).await?;
    let status = s.next_ack().await.expect_err("u64::MAX is refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().contains("escalation.seq"), "{status:?}");
    let (mut s2, _) = RawStream::open_welcomed(channel()?, hello("paris", Ulid::new(), 1)).await?;
    s2.send_declaring(3, 7, report("p-3", "impossible")).await?;
    let status = s2
        .next_ack()
        .await
        .expect_err("declaring more drops than sequences is refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);

    // Another site is unaffected and the writer is alive.
    let lyon = org.site_channel(hub.addr, "lyon")?;
    let (mut l, _) = RawStream::open_welcomed(lyon, hello("lyon", Ulid::new(), 1)).await?;
    l.send(1, report("l-1", "fine")).await?;
    assert_eq!(l.next_ack().await?, 1);
    hub.stop().await?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

async fn raise(
    agent: &site_agent::app::RunningAgent,
    pki: &TestPki,
    title: &str,
) -> anyhow::Result<()> {
    let mut local = clients::local(agent.local_addr, &pki.operator("alice")?, &pki.domain)?;
    local
        .raise_incident(pb::RaiseIncidentRequest {
            title: title.into(),
            severity: pb::Severity::High as i32,
            ..Default::default()
        })
        .await?;
    Ok(())
}

async fn titles(
    op: &mut pb::operator_client::OperatorClient<tonic::transport::Channel>,
) -> Vec<String> {
    let mut titles: Vec<String> = clients::all_incidents(op)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|i| i.title)
        .collect();
    titles.sort();
    titles
}

#[tokio::test]
async fn a_restored_agent_store_moves_to_a_new_epoch_and_loses_nothing() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let data = org.dir().join("paris-data");
    let backup = org.dir().join("paris-backup");

    let hub = org.hub_on(hub_addr, &["paris"], "").await?;
    let op = org.operator(hub_addr, "auditor")?;
    let agent = org.agent("paris", hub_addr, "").await?;
    raise(&agent, &org.pki, "A").await?;
    eventually("A at the hub", Duration::from_secs(20), || {
        let mut op = op.clone();
        async move { (titles(&mut op).await == ["A"]).then_some(()) }
    })
    .await?;
    agent.stop().await?;
    copy_dir(&data, &backup)?;

    let agent = org.agent("paris", hub_addr, "").await?;
    raise(&agent, &org.pki, "B").await?;
    raise(&agent, &org.pki, "C").await?;
    eventually("B and C at the hub", Duration::from_secs(20), || {
        let mut op = op.clone();
        async move { (titles(&mut op).await.len() == 3).then_some(()) }
    })
    .await?;
    agent.stop().await?;
    hub.stop().await?;

    // The site restores its backup (taken after A) and raises two more while the hub is down.
    std::fs::remove_dir_all(&data)?;
    copy_dir(&backup, &data)?;
    let agent = org.agent("paris", hub_addr, "").await?;
    raise(&agent, &org.pki, "D").await?;
    raise(&agent, &org.pki, "E").await?;
    let old_epoch = agent.store.epoch();

    let hub = org.hub_on(hub_addr, &["paris"], "").await?;
    let mut op = org.operator(hub_addr, "auditor")?;
    eventually("D and E at the hub", Duration::from_secs(30), || {
        let mut op = op.clone();
        async move { (titles(&mut op).await == ["A", "B", "C", "D", "E"]).then_some(()) }
    })
    .await?;
    assert_ne!(
        agent.store.epoch(),
        old_epoch,
        "the restored store moved to a new epoch"
    );
    let site = paris(&mut op).await?;
    // D and E first arrived under the old epoch with B's and C's sequences: the hub kept them
    // for review (visible), the agent moved them to a new epoch, where they were applied.
    assert_eq!(
        (site.conflicts, site.escalations_stored, site.epoch_changes),
        (2, 5, 1)
    );
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}

#[tokio::test]
async fn reports_larger_than_the_hub_accepts_are_refused_at_intake_or_set_aside_and_counted()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let agent = org.agent("paris", hub_addr, "").await?;
    let mut local = org.local(agent.local_addr, "alice")?;
    // Within the report limit (32 KiB), over the 16 KiB the hub below accepts.
    let big = pb::RaiseIncidentRequest {
        title: "big".into(),
        description: "x".repeat(12_000),
        severity: pb::Severity::Low as i32,
        indicators: (0..300)
            .map(|i| pb::Indicator {
                kind: pb::IndicatorKind::Domain as i32,
                value: format!("host-{i:04}.big.example"),
            })
            .collect(),
        ..Default::default()
    };
    let small = pb::RaiseIncidentRequest {
        title: "small".into(),
        severity: pb::Severity::Low as i32,
        ..Default::default()
    };
    // The hub is down: the agent does not know its limit yet and queues both.
    local.raise_incident(big.clone()).await?;
    local.raise_incident(small).await?;

    let hub = org
        .hub_on(
            hub_addr,
            &["paris"],
            "[limits]\nmax_message_bytes = 16384\n",
        )
        .await?;
    let mut op = org.operator(hub_addr, "auditor")?;
    let site = eventually(
        "the small one delivered, the big one set aside",
        Duration::from_secs(30),
        || {
            let mut op = op.clone();
            async move {
                let site = paris(&mut op).await.ok()?;
                (site.escalations_stored == 1 && site.sequence_gaps == 1 && site.dropped_total == 1)
                    .then_some(site)
            }
        },
    )
    .await?;
    assert_eq!(site.acked_through, 2);
    assert_eq!(titles(&mut op).await, ["small"]);
    // Now the agent knows the limit and refuses at intake, naming it.
    let status = local
        .raise_incident(big)
        .await
        .expect_err("too big for the hub");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().contains("16384"), "{}", status.message());
    agent.stop().await?;
    hub.stop().await?;
    Ok(())
}
