//! The duplicate window over the real API with a manual clock: a source event resent within
//! `soc.duplicate_window` is a duplicate; once the window has passed its identity is
//! forgotten (pruned) and the same event counts again. Native lines without `id` always count.

use site_agent::service::ManualClock;
use socfed_proto::pb::{self, site_soc_client::SiteSocClient};
use socfed_runtime::tls::ExpectedServer;
use socfed_tests::{clients, fixture::Org, free_port};
use std::sync::Arc;
use std::time::Duration;

const START: i64 = 1_772_445_600_000;

async fn submit(
    soc: &mut SiteSocClient<tonic::transport::Channel>,
    lines: &[&str],
) -> anyhow::Result<(u64, u64, u64)> {
    let batch = pb::AlertBatch {
        format: pb::AlertFormat::Native as i32,
        lines: (1u64..)
            .zip(lines)
            .map(|(line_no, text)| pb::RawLine {
                line_no,
                text: text.to_string(),
            })
            .collect(),
    };
    let s = soc
        .submit_alerts(tokio_stream::iter(vec![batch]))
        .await?
        .into_inner();
    anyhow::ensure!(s.rejected == 0, "{s:?}");
    Ok((s.accepted, s.aggregated, s.duplicates))
}

/// An agent for site paris with `[soc]` settings `soc`, on a manual clock, and a client of its
/// SOC API as the manager `tester`.
async fn agent_with(
    org: &Org,
    soc: &str,
    clock: Arc<ManualClock>,
) -> anyhow::Result<(
    site_agent::app::RunningAgent,
    SiteSocClient<tonic::transport::Channel>,
)> {
    let hub = format!("127.0.0.1:{}", free_port()?).parse()?;
    let path = socfed_tests::procs::write_agent_config(
        org.dir(),
        &org.pki,
        "paris",
        hub,
        "127.0.0.1:0".parse()?,
        &format!("[soc]\nmanagers = [\"tester\"]\n{soc}"),
    )?;
    let config = site_agent::config::AgentConfig::load(&path)?;
    let agent = site_agent::app::start_with_clock(config, clock).await?;
    let client = SiteSocClient::new(clients::channel(
        agent.local_addr,
        &org.pki.operator("tester")?,
        &org.pki.domain,
        ExpectedServer::AnySite,
    )?);
    Ok((agent, client))
}

#[tokio::test]
async fn an_event_is_a_duplicate_within_the_window_and_counts_again_after_it() -> anyhow::Result<()>
{
    let org = Org::new()?;
    let clock = Arc::new(ManualClock::new(START));
    let (agent, mut soc) = agent_with(&org, "duplicate_window = \"1h\"\n", clock.clone()).await?;
    let with_id = r#"{"id":"evt-1","observed_at":1772445500000,"product":"edr","rule_id":"R","severity":"high","hosts":["ws-1"]}"#;
    let without_id = r#"{"observed_at":1772445500000,"product":"edr","rule_id":"R","severity":"high","hosts":["ws-1"]}"#;

    assert_eq!(submit(&mut soc, &[with_id]).await?, (1, 0, 0));
    assert_eq!(
        submit(&mut soc, &[with_id, with_id]).await?,
        (0, 0, 2),
        "within the window: duplicates, also within one batch"
    );
    assert_eq!(
        submit(&mut soc, &[without_id, without_id]).await?,
        (0, 2, 0),
        "no id: every line counts"
    );
    clock.advance(Duration::from_secs(59 * 60));
    assert_eq!(submit(&mut soc, &[with_id]).await?, (0, 0, 1));
    // Past the window (measured from the first arrival): pruned, so it counts again.
    clock.advance(Duration::from_secs(2 * 60));
    assert_eq!(submit(&mut soc, &[without_id]).await?, (0, 1, 0));
    assert_eq!(submit(&mut soc, &[with_id]).await?, (0, 1, 0));
    assert_eq!(
        submit(&mut soc, &[with_id]).await?,
        (0, 0, 1),
        "and is remembered anew"
    );
    agent.stop().await?;
    Ok(())
}

/// Open intake streams are capped: each holds two threads of the agent's blocking pool, so
/// an unbounded number of idle streams would stall every other call. The stream over the cap
/// is refused with RESOURCE_EXHAUSTED, saying what to do; once one ends, a new one is taken.
#[tokio::test]
async fn intake_streams_over_the_cap_are_refused_until_one_ends() -> anyhow::Result<()> {
    let org = Org::new()?;
    let (agent, soc) = agent_with(&org, "", Arc::new(ManualClock::new(START))).await?;
    let line = r#"{"observed_at":1772445500000,"product":"edr","rule_id":"R","severity":"high","hosts":["ws-1"]}"#;
    // Two streams more than the cap, each kept open until its sender is dropped: exactly the
    // cap of them are taken, the others end at once, refused.
    let cap = site_agent::grpc::soc::MAX_INTAKE_STREAMS;
    let mut streams = Vec::new();
    for _ in 0..cap + 2 {
        let (tx, rx) = tokio::sync::mpsc::channel::<pb::AlertBatch>(1);
        tx.send(pb::AlertBatch {
            format: pb::AlertFormat::Native as i32,
            lines: vec![pb::RawLine {
                line_no: 1,
                text: line.to_string(),
            }],
        })
        .await?;
        let mut client = soc.clone();
        let call = tokio::spawn(async move {
            client
                .submit_alerts(tokio_stream::wrappers::ReceiverStream::new(rx))
                .await
        });
        streams.push((tx, call));
    }
    socfed_tests::eventually("two streams to be refused", Duration::from_secs(20), || {
        let refused = streams
            .iter()
            .filter(|(_, call)| call.is_finished())
            .count();
        async move { (refused == 2).then_some(()) }
    })
    .await?;
    let mut open = Vec::new();
    for (tx, call) in streams {
        if call.is_finished() {
            let refused = call.await?.expect_err("refused");
            assert_eq!(
                refused.code(),
                tonic::Code::ResourceExhausted,
                "{refused:?}"
            );
            assert!(
                refused.message().contains("retry once one ends"),
                "{refused:?}"
            );
        } else {
            open.push((tx, call));
        }
    }
    assert_eq!(open.len(), cap);
    // One stream ends: its summary comes back, and a new stream is taken again.
    let (tx, call) = open.pop().expect("an open stream");
    drop(tx);
    assert_eq!(call.await??.into_inner().lines, 1, "its one line taken in");
    socfed_tests::eventually("a new stream to be taken", Duration::from_secs(20), || {
        let mut soc = soc.clone();
        async move { submit(&mut soc, &[line]).await.ok() }
    })
    .await?;
    for (tx, call) in open {
        drop(tx);
        call.await??;
    }
    agent.stop().await?;
    Ok(())
}
