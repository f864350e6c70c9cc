//! Escalations batched on the wire: an agent batches only to a hub whose welcome advertises
//! batches, and single escalations otherwise; either way every escalation is stored once,
//! acknowledged and removed from the outbox. A hostile batch gets the same precise status a
//! hostile single escalation gets (or its own for the batch's count, order and emptiness),
//! and the stream's state at the hub is untouched by it.

use socfed_proto::pb::{self, site_message};
use socfed_tests::clients::{RawStream, hello, report};
use socfed_tests::{eventually, fixture::Org, free_port};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tonic::Code;
use ulid::Ulid;

const QUEUED: usize = 300;

async fn paris(
    op: &mut pb::operator_client::OperatorClient<tonic::transport::Channel>,
) -> Option<pb::SiteSummary> {
    socfed_tests::clients::sites(op)
        .await
        .ok()?
        .into_iter()
        .find(|s| s.site_id == "paris")
}

/// Queues `QUEUED` escalations at an agent whose hub is down, starts the hub (with `limits`
/// appended to its config), and waits until every one is stored and acknowledged. Returns
/// the agent's count of batch messages sent and the batch cap it heard.
async fn queue_then_deliver(limits: &str) -> anyhow::Result<(u64, u64)> {
    let org = Org::new()?;
    let hub_addr: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let agent = org.agent("paris", hub_addr, "").await?;
    let mut local = org.local(agent.local_addr, "alice")?;
    for i in 0..QUEUED {
        local
            .raise_incident(pb::RaiseIncidentRequest {
                title: format!("queued {i:03}"),
                severity: pb::Severity::Low as i32,
                ..Default::default()
            })
            .await?;
    }
    assert_eq!(agent.store.outbox_len(), QUEUED as u64);

    let hub = org.hub_on(hub_addr, &["paris"], limits).await?;
    let mut op = org.operator(hub_addr, "auditor")?;
    // The listing that shows the last mark shows counters at least as new (`view/sites.rs`).
    let site = eventually(
        "every queued escalation stored and acknowledged",
        Duration::from_secs(60),
        || {
            let mut op = op.clone();
            async move {
                paris(&mut op)
                    .await
                    .filter(|s| s.acked_through == QUEUED as u64)
            }
        },
    )
    .await?;
    assert_eq!(
        (
            site.escalations_stored,
            site.sequence_gaps,
            site.conflicts,
            site.rejected
        ),
        (QUEUED as u64, 0, 0, 0),
        "each stored once, nothing set aside"
    );
    eventually(
        "the outbox emptied by the acks",
        Duration::from_secs(30),
        || {
            let empty = agent.store.outbox_len() == 0;
            async move { empty.then_some(()) }
        },
    )
    .await?;
    let mut titles: Vec<String> = socfed_tests::clients::all_incidents(&mut op)
        .await?
        .into_iter()
        .map(|i| i.title)
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        (0..QUEUED)
            .map(|i| format!("queued {i:03}"))
            .collect::<Vec<_>>(),
        "every escalation became its own incident, in full"
    );
    let uplink = agent.uplink();
    let seen = (
        uplink.batches_sent.load(Ordering::Relaxed),
        uplink.hub_max_batch.load(Ordering::Relaxed),
    );
    assert!(uplink.escalations_sent.load(Ordering::Relaxed) >= QUEUED as u64);
    agent.stop().await?;
    hub.stop().await?;
    Ok(seen)
}

#[tokio::test]
async fn an_agent_batches_to_a_hub_that_advertises_batches_and_each_escalation_is_stored_once()
-> anyhow::Result<()> {
    let (batches, cap) = queue_then_deliver("").await?;
    assert_eq!(cap, 256, "the hub's default batch cap, from its welcome");
    // 300 queued entries of a few hundred bytes fill batches up to the cap or 64 KiB.
    assert!(batches >= 2, "{batches} batch messages");
    Ok(())
}

#[tokio::test]
async fn an_agent_sends_single_escalations_to_a_hub_that_does_not_advertise_batches()
-> anyhow::Result<()> {
    let (batches, cap) = queue_then_deliver("[limits]\nmax_batch_escalations = 0\n").await?;
    assert_eq!((batches, cap), (0, 0));
    Ok(())
}

fn escalation(seq: u64, report: pb::IncidentReport) -> pb::Escalation {
    pb::Escalation {
        seq,
        report: Some(report),
        enqueued_at_ms: 1,
        dropped_before: 0,
    }
}

fn batch(escalations: Vec<pb::Escalation>) -> pb::SiteMessage {
    pb::SiteMessage {
        body: Some(site_message::Body::EscalationBatch(pb::EscalationBatch {
            escalations,
        })),
    }
}

fn reports(seqs: impl IntoIterator<Item = u64>) -> Vec<pb::Escalation> {
    seqs.into_iter()
        .map(|seq| escalation(seq, report(&format!("p-{seq}"), "batched")))
        .collect()
}

/// Sends `message` and reads until the hub ends the stream; the status it ended with.
async fn refused(
    stream: &mut RawStream,
    message: pb::SiteMessage,
) -> anyhow::Result<tonic::Status> {
    stream
        .tx
        .send(message)
        .await
        .map_err(|_| anyhow::anyhow!("stream closed before sending"))?;
    loop {
        match tokio::time::timeout(Duration::from_secs(20), stream.inbound.message()).await {
            Err(_) => anyhow::bail!("the hub did not end the stream within 20 s"),
            Ok(Err(status)) => return Ok(status),
            Ok(Ok(None)) => anyhow::bail!("the stream ended without a status"),
            Ok(Ok(Some(_))) => {}
        }
    }
}

#[tokio::test]
async fn hostile_batches_get_the_precise_status_and_leave_the_stream_state_intact()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org
        .hub(
            &["paris"],
            "[limits]\nmax_message_bytes = 16384\nmax_batch_escalations = 4\n",
        )
        .await?;
    let epoch = Ulid::new();
    let open = |next_seq| {
        let channel = org.site_channel(hub.addr, "paris");
        async move {
            let opened =
                RawStream::open_welcomed(channel?, hello("paris", epoch, next_seq)).await?;
            anyhow::Ok(opened)
        }
    };
    let (mut s, welcome) = open(1).await?;
    assert_eq!((welcome.max_batch, welcome.max_message_bytes), (4, 16384));
    s.tx.send(batch(reports(1..=3))).await?;
    assert!(s.ack_through(3).await?.is_empty());
    drop(s);

    // Refused as batches: emptiness, the count cap, the order of sequences.
    let cases: [(pb::SiteMessage, &str); 3] = [
        (batch(vec![]), "at least one escalation"),
        (
            batch(reports(4..=8)),
            "5 escalations in one batch; this hub takes at most 4",
        ),
        (batch(reports([4, 6, 5])), "sequence 5 follows 6"),
    ];
    for (message, expected) in cases {
        let (mut s, welcome) = open(4).await?;
        assert_eq!(
            welcome.acked_through, 3,
            "nothing of a refused batch was kept"
        );
        let status = refused(&mut s, message).await?;
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(
            status.message().contains(expected),
            "{expected:?}: {status:?}"
        );
    }

    // A bad escalation inside a batch gets exactly the status it gets alone.
    let mut bad = escalation(5, report("p-5", "bad framing"));
    bad.dropped_before = 5;
    let (mut alone, _) = open(4).await?;
    let single = refused(
        &mut alone,
        pb::SiteMessage {
            body: Some(site_message::Body::Escalation(bad.clone())),
        },
    )
    .await?;
    let (mut inside, _) = open(4).await?;
    let batched = refused(&mut inside, batch(vec![reports([4]).remove(0), bad])).await?;
    assert_eq!(single.code(), Code::InvalidArgument);
    assert_eq!(
        (batched.code(), batched.message()),
        (single.code(), single.message())
    );

    // Over the message size limit, each report within it: as for an oversized single.
    let big: Vec<pb::Escalation> = (4..=7)
        .map(|seq| {
            let mut r = report(&format!("p-{seq}"), "big");
            r.description = "x".repeat(5_000);
            escalation(seq, r)
        })
        .collect();
    let (mut s, _) = open(4).await?;
    let status = refused(&mut s, batch(big)).await?;
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("size limit"), "{status:?}");

    // One invalid report inside a batch is quarantined and acknowledged, as alone; the rest
    // are stored.
    let (mut s, welcome) = open(4).await?;
    assert_eq!(welcome.acked_through, 3);
    let mut escalations = reports([4, 5, 6]);
    if let Some(r) = escalations[1].report.as_mut() {
        r.indicators.push(pb::Indicator {
            kind: pb::IndicatorKind::Ipv4 as i32,
            value: "999.0.0.1".into(),
        });
    }
    s.tx.send(batch(escalations)).await?;
    let notices = s.ack_through(6).await?;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(
        (notices[0].seq, notices[0].kind),
        (5, pb::ack_notice::Kind::Rejected as i32)
    );
    drop(s);

    let mut op = org.operator(hub.addr, "auditor")?;
    let site = paris(&mut op)
        .await
        .ok_or_else(|| anyhow::anyhow!("paris not listed"))?;
    assert_eq!(
        (
            site.acked_through,
            site.escalations_stored,
            site.rejected,
            site.sequence_gaps
        ),
        (6, 5, 1, 0)
    );
    hub.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_hub_without_batches_refuses_a_batch_and_still_takes_single_escalations()
-> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org
        .hub(&["paris"], "[limits]\nmax_batch_escalations = 0\n")
        .await?;
    let epoch = Ulid::new();
    let channel = org.site_channel(hub.addr, "paris")?;
    let (mut s, welcome) = RawStream::open_welcomed(channel, hello("paris", epoch, 1)).await?;
    assert_eq!(welcome.max_batch, 0);
    s.send(1, report("p-1", "single")).await?;
    assert_eq!(s.next_ack().await?, 1);
    let status = refused(&mut s, batch(reports(2..=3))).await?;
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("at most 0"), "{status:?}");
    hub.stop().await?;
    Ok(())
}
