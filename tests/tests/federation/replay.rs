//! The idempotency key (site, epoch, seq): replays are acknowledged without new records,
//! conflicting replays are recorded for review and never overwrite, regressions are visible.

use socfed_proto::pb;
use socfed_runtime::tls::ExpectedServer;
use socfed_tests::clients::{self, RawStream, hello, report};
use socfed_tests::fixture::Org;
use ulid::Ulid;

#[tokio::test]
async fn identical_replay_is_acknowledged_and_stores_nothing_new() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let site = org.pki.site("paris")?;
    let channel = || clients::channel(hub.addr, &site, &org.pki.domain, ExpectedServer::Hub);
    let epoch = Ulid::new();

    let (mut first, welcome) =
        RawStream::open_welcomed(channel()?, hello("paris", epoch, 1)).await?;
    assert_eq!(welcome.acked_through, 0);
    first.send(1, report("p-1", "ransomware note")).await?;
    first.send(2, report("p-2", "lateral movement")).await?;
    assert!(first.ack_through(2).await?.is_empty());
    drop(first);

    // The site lost the acks (say, it crashed) and resends both under the same keys.
    let (mut replay, welcome) =
        RawStream::open_welcomed(channel()?, hello("paris", epoch, 3)).await?;
    assert_eq!(
        welcome.acked_through, 2,
        "the welcome tells the site what the hub already holds"
    );
    assert!(!welcome.sequence_regression);
    replay.send(1, report("p-1", "ransomware note")).await?;
    replay.send(2, report("p-2", "lateral movement")).await?;
    assert!(
        replay.ack_through(2).await?.is_empty(),
        "identical replays carry no notice"
    );

    let mut op = org.operator(hub.addr, "auditor")?;
    assert_eq!(clients::all_incidents(&mut op).await?.len(), 2);
    let paris = clients::sites(&mut op)
        .await?
        .into_iter()
        .find(|s| s.site_id == "paris")
        .expect("paris listed");
    assert_eq!(
        (
            paris.escalations_stored,
            paris.duplicates,
            paris.conflicts,
            paris.acked_through
        ),
        (2, 2, 0, 2)
    );
    hub.stop().await?;
    Ok(())
}

#[tokio::test]
async fn conflicting_replay_is_recorded_for_review_and_never_overwrites() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let site = org.pki.site("paris")?;
    let epoch = Ulid::new();

    let (mut stream, _) = RawStream::open_welcomed(
        clients::channel(hub.addr, &site, &org.pki.domain, ExpectedServer::Hub)?,
        hello("paris", epoch, 1),
    )
    .await?;
    stream.send(1, report("p-1", "original title")).await?;
    stream.ack_through(1).await?;
    stream.send(1, report("p-1", "tampered title")).await?;
    let notices = stream.ack_through(1).await?;
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].kind, pb::ack_notice::Kind::Conflict as i32);
    assert_eq!(notices[0].seq, 1);

    let mut op = org.operator(hub.addr, "auditor")?;
    let incidents = clients::all_incidents(&mut op).await?;
    assert_eq!(
        incidents
            .iter()
            .map(|i| i.title.as_str())
            .collect::<Vec<_>>(),
        ["original title"]
    );
    let conflicts = op
        .list_conflicts(pb::ListConflictsRequest::default())
        .await?
        .into_inner()
        .conflicts;
    assert_eq!(conflicts.len(), 1);
    assert_eq!(
        (
            conflicts[0].site_id.as_str(),
            conflicts[0].seq,
            conflicts[0].kind.as_str()
        ),
        ("paris", 1, "conflict")
    );
    assert_ne!(conflicts[0].stored_hash, conflicts[0].offered_hash);
    hub.stop().await?;
    Ok(())
}

#[tokio::test]
async fn invalid_report_is_quarantined_acknowledged_and_replays_as_duplicate() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let site = org.pki.site("paris")?;
    let (mut stream, _) = RawStream::open_welcomed(
        clients::channel(hub.addr, &site, &org.pki.domain, ExpectedServer::Hub)?,
        hello("paris", Ulid::new(), 1),
    )
    .await?;
    let mut bad = report("p-1", "bad indicator");
    bad.indicators.push(pb::Indicator {
        kind: pb::IndicatorKind::Ipv4 as i32,
        value: "999.0.0.1".into(),
    });
    stream.send(1, bad.clone()).await?;
    let notices = stream.ack_through(1).await?;
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].kind, pb::ack_notice::Kind::Rejected as i32);
    assert!(
        notices[0].reason.contains("indicators[0]"),
        "{}",
        notices[0].reason
    );
    stream.send(1, bad).await?;
    assert!(
        stream.ack_through(1).await?.is_empty(),
        "the replay of a quarantined report is a plain duplicate"
    );
    // The stream keeps working after a rejection.
    stream.send(2, report("p-2", "fine")).await?;
    stream.ack_through(2).await?;

    let mut op = org.operator(hub.addr, "auditor")?;
    assert_eq!(clients::all_incidents(&mut op).await?.len(), 1);
    let conflicts = op
        .list_conflicts(pb::ListConflictsRequest::default())
        .await?
        .into_inner()
        .conflicts;
    assert_eq!(
        conflicts
            .iter()
            .map(|c| c.kind.as_str())
            .collect::<Vec<_>>(),
        ["rejected"]
    );
    hub.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_store_that_went_backwards_is_flagged() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let site = org.pki.site("paris")?;
    let channel = || clients::channel(hub.addr, &site, &org.pki.domain, ExpectedServer::Hub);
    let epoch = Ulid::new();
    let (mut stream, _) = RawStream::open_welcomed(channel()?, hello("paris", epoch, 1)).await?;
    for seq in 1..=3 {
        stream.send(seq, report(&format!("p-{seq}"), "x")).await?;
    }
    stream.ack_through(3).await?;
    drop(stream);
    // A restored backup: same epoch, but the store only got as far as sequence 1.
    let (_stream, welcome) = RawStream::open_welcomed(channel()?, hello("paris", epoch, 2)).await?;
    assert!(welcome.sequence_regression);
    let mut op = org.operator(hub.addr, "auditor")?;
    let paris = clients::sites(&mut op)
        .await?
        .into_iter()
        .find(|s| s.site_id == "paris")
        .expect("listed");
    assert!(paris.sequence_regression);
    // A new epoch (a recreated store) is counted, and clears the regression flag.
    let (_stream, welcome) =
        RawStream::open_welcomed(channel()?, hello("paris", Ulid::new(), 1)).await?;
    assert!(!welcome.sequence_regression);
    assert_eq!(welcome.acked_through, 0);
    let paris = clients::sites(&mut op)
        .await?
        .into_iter()
        .find(|s| s.site_id == "paris")
        .expect("listed");
    assert_eq!((paris.epoch_changes, paris.sequence_regression), (1, false));
    hub.stop().await?;
    Ok(())
}

/// A compromised site can make the hub keep offers without end: the review list is paged,
/// never sent whole, and says how many there are in all.
#[tokio::test]
async fn rejections_are_listed_a_page_at_a_time_with_the_total() -> anyhow::Result<()> {
    let org = Org::new()?;
    let hub = org.hub(&["paris"], "").await?;
    let site = org.pki.site("paris")?;
    let (mut stream, _) = RawStream::open_welcomed(
        clients::channel(hub.addr, &site, &org.pki.domain, ExpectedServer::Hub)?,
        hello("paris", Ulid::new(), 1),
    )
    .await?;
    for seq in 1..=5 {
        let mut bad = report(&format!("p-{seq}"), "bad indicator");
        bad.indicators.push(pb::Indicator {
            kind: pb::IndicatorKind::Ipv4 as i32,
            value: "999.0.0.1".into(),
        });
        stream.send(seq, bad).await?;
    }
    stream.ack_through(5).await?;

    let mut op = org.operator(hub.addr, "auditor")?;
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = op
            .list_conflicts(pb::ListConflictsRequest {
                site_id: "paris".into(),
                limit: 2,
                page_token: token.clone(),
            })
            .await?
            .into_inner();
        pages += 1;
        assert!(page.conflicts.len() <= 2);
        assert_eq!(page.total, 5);
        seen.extend(page.conflicts.iter().map(|c| c.seq));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!((pages, seen), (3, vec![1, 2, 3, 4, 5]));

    for (limit, page_token) in [(5_000, String::new()), (2, "not-a-token".to_string())] {
        let refused = op
            .list_conflicts(pb::ListConflictsRequest {
                site_id: String::new(),
                limit,
                page_token,
            })
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused}");
    }
    hub.stop().await?;
    Ok(())
}
